package dmasim.actors.monitor;

import dmasim.protocol.CpuCommand;
import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import java.util.List;

/**
 * A hand-written history fed to one monitor, each {@link #on} call one step by an actor: what the
 * monitor tests write their verdicts against (every violation, its id and step, nothing else).
 */
public class MonitorHistory<H extends MonitorHistory<H>> {
  public final MonitorSuite suite;
  private long step;

  protected MonitorHistory(Monitor monitor) {
    this.suite = new MonitorSuite(List.of(monitor), new RunStats(new TranslationMonitor()));
  }

  @SuppressWarnings("unchecked")
  public H on(String actor, Event... events) {
    step++;
    suite.observe(step, new Envelope(new EnvelopeId("x", step), actor, new CpuCommand.Start(), 0, 0, null, 0, 0), List.of(events));
    return (H) this;
  }

  /** The run ends after the last step. */
  @SuppressWarnings("unchecked")
  public H end() {
    suite.end(step, 0);
    return (H) this;
  }

  /** "ID @step" of every violation, in order. */
  public List<String> verdict() {
    return suite.violations().stream().map(v -> v.invariant() + " @" + v.step()).toList();
  }

  /** The first violation's message, or "". */
  public String message() {
    return suite.violations().stream().map(Violation::message).findFirst().orElse("");
  }
}
