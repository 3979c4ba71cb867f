package dmasim.actors.monitor;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.Event;
import java.util.Map;
import java.util.TreeMap;

/** Liveness: every CPU queue that started its program finishes it. Hot while a program runs; a run that ends hot names what the CPU waits for. */
public final class TerminationMonitor extends AbstractMonitor {
  private final TreeMap<String, String> running = new TreeMap<>();

  public TerminationMonitor() {
    super("Termination");
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof CpuEvent.ProgramStarted) running.put(at.actor(), "nothing yet");
    else if (event instanceof CpuEvent.CallIssued c) running.put(at.actor(), c.call() + " of " + c.object() + " (pc " + c.pc() + ")");
    else if (event instanceof CpuEvent.ProgramEnded) running.remove(at.actor());
  }

  @Override
  public void onRunEnd(StepInfo at) {
    for (Map.Entry<String, String> e : running.entrySet()) {
      violate("LIVENESS", at, e.getKey() + " never finished its program: it still waits for " + e.getValue());
      return;
    }
  }
}
