package dmasim.scenarios;

import dmasim.actors.monitor.MonitorSuite;
import dmasim.actors.monitor.Violation;
import java.util.List;

/**
 * Today's monitors over a stored run, without re-executing it: every recorded step's events are fed
 * to a fresh monitor suite for the run's scenario and options, as the run fed its own. A complete
 * run whose steps break nothing ran to its end, so its end-of-run checks are judged too (a run kept
 * with a hang or a leak found at its end is judged again the same way); a run that stopped at a
 * step's violation never reached its end, so those checks are not. {@code verdict} is "clean" or
 * "violation"; {@code changed} when it differs from the one stored with the run, or the first
 * monitor does.
 */
public record Recheck(String runId, String storedVerdict, String storedMonitor, String verdict, List<Violation> violations, boolean changed) {
  public Recheck {
    violations = List.copyOf(violations);
  }

  public String monitor() {
    return violations.isEmpty() ? null : violations.get(0).monitor();
  }

  public static Recheck of(Scenario s, RunRecord record, List<RecordedStep> steps) {
    SystemSpec sys;
    try {
      sys = s.build().apply(record.options());
    } catch (IllegalArgumentException e) {
      throw new UserError(s.name() + ": " + e.getMessage());
    }
    MonitorSuite suite = Runner.monitors(sys);
    long last = 0;
    long time = 0;
    for (RecordedStep st : steps) {
      suite.observeRecorded(st.step(), st.envelope(), st.actor(), st.cause(), st.at(), st.type(), st.events());
      last = st.step();
      time = st.at();
      if (!suite.violations().isEmpty()) break; // a run stops at its first violation
    }
    // A run whose steps broke nothing ran to its end (unless --max-steps cut it, it crashed, or its recording is incomplete):
    // its end-of-run checks are judged too. So a run kept with a violation found only at its end (a hang, a leak) is judged
    // again the same way, not "clean".
    boolean ranToItsEnd = ("clean".equals(record.verdict()) || "violation".equals(record.verdict())) && record.steps() < record.options().maxSteps();
    if (suite.violations().isEmpty() && ranToItsEnd) suite.end(last, time);
    return of(record, suite.violations());
  }

  /** The verdict {@code violations} give, beside the one stored with {@code record}. */
  public static Recheck of(RunRecord record, List<Violation> violations) {
    String verdict = violations.isEmpty() ? "clean" : "violation";
    String monitor = violations.isEmpty() ? null : violations.get(0).monitor();
    boolean changed = !verdict.equals(record.verdict()) || !java.util.Objects.equals(monitor, record.monitor());
    return new Recheck(record.runId(), record.verdict(), record.monitor(), verdict, violations, changed);
  }
}
