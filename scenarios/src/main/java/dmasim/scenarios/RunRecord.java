package dmasim.scenarios;

import dmasim.actors.iommu.IommuSettings;
import dmasim.chaos.StrategySpec;

/**
 * A kept run as the registry holds it: what it ran (scenario, options, strategy and schedule seed,
 * the replayed prefix it started from) and what it found. Enough to re-execute it exactly.
 */
public record RunRecord(String runId, String scenario, RunOptions options, String strategy, long scheduleSeed, long expectedSteps,
    String verdict, String monitor, long steps, long nonFifoChoices, String parentRun, long prefix) {

  public static RunRecord of(RunReport r, String parentRun, long prefix) {
    return new RunRecord(r.runId(), r.scenario(), r.options(), r.spec().toString(), r.scheduleSeed(), r.expectedSteps(), r.verdict(),
        r.firstMonitor(), r.outcome().steps(), r.outcome().nonFifoChoices(), parentRun, prefix);
  }

  /** What a run will be before it runs: its result fields say "incomplete" until {@link #withResult}. */
  public static RunRecord planned(String runId, String scenario, RunOptions o, StrategySpec spec, long scheduleSeed, long expectedSteps,
      String parentRun, long prefix) {
    return new RunRecord(runId, scenario, o, spec.toString(), scheduleSeed, expectedSteps, "incomplete", null, 0, 0, parentRun, prefix);
  }

  /** This planned run with the result of {@code r}. */
  public RunRecord withResult(RunReport r) {
    return new RunRecord(runId, scenario, options, strategy, scheduleSeed, expectedSteps, r.verdict(), r.firstMonitor(), r.outcome().steps(),
        r.outcome().nonFifoChoices(), parentRun, prefix);
  }

  public StrategySpec spec() {
    return StrategySpec.parseRecorded(strategy);
  }

  public static String modeName(IommuSettings.Mode m) {
    return m == null ? "default" : m.name();
  }

  public static IommuSettings.Mode mode(String name) {
    return name.equals("default") ? null : IommuSettings.Mode.valueOf(name);
  }
}
