package dmasim.scenarios;

import dmasim.chaos.StrategySpec;
import java.util.List;

/** Runs one scenario against its expectation: its strategy and schedule budget, stopping at the first violation. */
public final class CatalogCheck {
  /** The outcome: what was expected, what was found, after how many schedules. */
  public record Row(String scenario, String variant, String expected, String got, long schedulesToFirstViolation, long schedulesRun, String message) {
    public boolean ok() {
      return expected.equals(Scenario.ANY_VIOLATION) ? !got.equals("clean") : expected.equals(got);
    }
  }

  private CatalogCheck() {}

  public static Row check(Explorer explorer, Scenario s) {
    Scenario.Expectation e = s.expect();
    RunOptions o = new RunOptions(e.seed(), null, s.defaults().cpus(), s.defaults().requests(), s.defaults().segments(), s.defaults().maxSteps());
    Explorer.Summary sum = explorer.explore(s, o, new Explorer.Plan(StrategySpec.parse(e.strategy()), e.schedules(), true, 1, 0, null, 0),
        List.of(), null);
    Explorer.ScheduleResult first = sum.firstViolation();
    String expected = s.expectsViolation() ? s.expectedMonitor() : "clean";
    String got = first == null ? "clean" : first.firstMonitor() + (expected.contains(" [") ? " [" + first.firstInvariant() + "]" : "");
    return new Row(s.name(), s.expectsViolation() ? "buggy" : "fixed", expected, got, first == null ? -1 : first.index() + 1, sum.schedulesRun(),
        first == null ? "" : first.message());
  }
}
