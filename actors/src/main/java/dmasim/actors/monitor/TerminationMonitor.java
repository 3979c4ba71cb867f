package dmasim.actors.monitor;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.Event;
import dmasim.protocol.WireEvent;
import java.util.Map;
import java.util.TreeMap;

/**
 * Liveness: every CPU queue that started its program finishes it. Hot while a program runs; a run
 * that ends hot names what the CPU waits for, and the envelopes the fault plan dropped (a lost
 * completion is the usual reason a wait never ends).
 */
public final class TerminationMonitor extends AbstractMonitor {
  /** How many dropped envelopes the message names at most. */
  private static final int NAMED_DROPS = 5;
  private final TreeMap<String, String> running = new TreeMap<>();
  private final java.util.List<String> drops = new java.util.ArrayList<>();
  private long dropCount;
  /** Devices the fault plan reset or removed: a descriptor lost with them is never completed. */
  private final java.util.List<String> deviceFaults = new java.util.ArrayList<>();

  public TerminationMonitor() {
    super("Termination");
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof CpuEvent.ProgramStarted) running.put(at.actor(), "nothing yet");
    else if (event instanceof CpuEvent.CallIssued c) running.put(at.actor(), c.call() + " of " + c.object() + " (pc " + c.pc() + ")");
    else if (event instanceof CpuEvent.ProgramEnded) running.remove(at.actor());
    else if (event instanceof WireEvent.MessageFaulted m && m.action().equals("dropped")) {
      if (++dropCount <= NAMED_DROPS) drops.add("step " + at.step() + " " + MonitorSuite.describeFault(m));
    } else if (event instanceof dmasim.protocol.DeviceEvent.FaultDecided d && d.injected() && deviceFaults.size() < NAMED_DROPS) {
      deviceFaults.add("step " + at.step() + " " + at.actor() + ": " + MonitorSuite.describeFault(d));
    }
  }

  @Override
  public void onRunEnd(StepInfo at) {
    for (Map.Entry<String, String> e : running.entrySet()) {
      String lost = dropCount == 0 ? "" : "; the fault plan dropped " + dropCount + " envelope(s): " + String.join(", ", drops)
          + (dropCount > drops.size() ? ", ..." : "");
      String devices = deviceFaults.isEmpty() ? "" : "; the fault plan " + String.join(", ", deviceFaults);
      violate("LIVENESS", at, e.getKey() + " never finished its program: it still waits for " + e.getValue() + lost + devices);
      return;
    }
  }
}
