package dmasim.scenarios;

import dmasim.actors.monitor.MonitorSuite;
import dmasim.actors.monitor.Violation;
import java.util.List;

/**
 * Today's monitors over a stored run, without re-executing it: every recorded step's events are fed
 * to a fresh monitor suite for the run's scenario and options, as the run fed its own. A run kept
 * clean ran to its end, so its end-of-run checks are judged too; a violating run stopped at its
 * violation, so the checks of an end it never reached are not. {@code verdict} is "clean" or
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
    boolean ranToItsEnd = "clean".equals(record.verdict()) && record.steps() < record.options().maxSteps();
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
