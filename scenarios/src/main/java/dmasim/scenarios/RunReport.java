package dmasim.scenarios;

import dmasim.actors.monitor.Violation;
import dmasim.actors.monitor.WindowHistogram;
import dmasim.chaos.RunOutcome;
import dmasim.chaos.StrategySpec;
import java.util.List;
import java.util.Map;

/**
 * Everything a run produced: identity, outcome, verdict, violations and figures. {@code exposureWindows}
 * holds every exposure's window, bucketed (its max equals {@code stats.maxExposureWindowNs}), for
 * percentiles over many schedules. {@code devices} maps device actor names ("dev0") to the names
 * the scenario file gave them ("nvme"), for reading violations (empty for built-ins).
 */
public record RunReport(String scenario, String runId, long seed, String strategy, RunOptions options, String iommuMode, RunOutcome outcome,
    List<Violation> violations, Map<String, Object> stats, StrategySpec spec, long scheduleSeed, long expectedSteps, int actors,
    WindowHistogram exposureWindows, Map<String, String> devices) {

  public RunReport {
    devices = devices == null ? Map.of() : Map.copyOf(devices);
  }

  /** "dev0 = nvme, dev1 = nic", or "" when the scenario names no devices. */
  public String deviceLegend() {
    return new java.util.TreeMap<>(devices).entrySet().stream().map(e -> e.getKey() + " = " + e.getValue())
        .collect(java.util.stream.Collectors.joining(", "));
  }

  /** A run stopped early by a violation ends "stopped"; a clean run ends "quiescent". */
  public boolean expectsStop() {
    return outcome.reason().equals("stopped") && !violations.isEmpty();
  }

  public boolean clean() {
    return violations.isEmpty() && !outcome.crashed();
  }

  public String verdict() {
    return outcome.crashed() ? "crashed" : violations.isEmpty() ? "clean" : "violation";
  }

  /** The monitor of the first violation, or null. */
  public String firstMonitor() {
    return violations.isEmpty() ? null : violations.get(0).monitor();
  }

  /** The command that reproduces this run exactly (a live run: its replay, since re-running it races anew). */
  public String reproduceCommand() {
    if (spec != null && spec.isLive()) return "./dmasim replay " + Shell.quote(runId);
    if (spec != null && spec.isTrace()) return "./dmasim check " + Shell.quote(runId); // an imported trace is judged again, not re-run
    int plus = scenario.lastIndexOf(Catalog.WITH_FAULTS);
    String what = plus < 0 ? Shell.quote(scenario) : Shell.quote(scenario.substring(0, plus)) + " --faults "
        + Shell.quote(scenario.substring(plus + Catalog.WITH_FAULTS.length()));
    return "./dmasim run " + what + " --seed " + seed + " --iommu " + iommuMode + " --cpus " + options.cpus() + " --requests "
        + options.requests() + " --segments " + options.segments();
  }
}
