package dmasim.scenarios;

import dmasim.chaos.StrategySpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Searches for a smaller run that breaks the same monitor: fewer CPU queues, fewer requests, fewer
 * segments (workload operations), then fewer preemptions (non-FIFO choices: FIFO, then delay
 * bounding with a growing budget, then the original strategy). Each candidate is explored for up
 * to {@code budget} schedules; a candidate is accepted only when it is no larger on any measure
 * and smaller on at least one. The result is re-executed on the journal and kept as a new run.
 */
public final class Shrinker {
  /** The size of a failing run on every measure. */
  public record Size(int cpus, long requests, int segments, long steps, long preemptions) {
    boolean noLargerThan(Size o) {
      return cpus <= o.cpus && requests <= o.requests && segments <= o.segments && steps <= o.steps && preemptions <= o.preemptions;
    }

    boolean smallerThan(Size o) {
      return noLargerThan(o) && !equals(o);
    }
  }

  /** A failing candidate: its options, strategy and schedule index. */
  record Candidate(RunOptions options, StrategySpec spec, long index, Size size) {}

  /** Before and after, and the kept run. */
  public record Result(Size before, Size after, RunReport kept, int candidatesTried) {}

  private final Explorer explorer;
  private final long budget;
  private int tried;

  public Shrinker(Explorer explorer, long budget) {
    this.explorer = explorer;
    this.budget = budget;
  }

  public Result shrink(Scenario scenario, RunRecord original) {
    RunOptions o = original.options();
    Size before = new Size(o.cpus(), o.requests(), o.segments(), original.steps(), original.nonFifoChoices());
    // A live run's schedule came from its threads: shrink it on the controlled wire, where random walks stand in for them.
    Candidate best = new Candidate(o, original.spec().isLive() ? new StrategySpec("random", 0) : original.spec(), -1, before);
    boolean progress = true;
    while (progress) {
      progress = false;
      for (RunOptions smaller : smallerWorkloads(best.options())) {
        Candidate c = find(scenario, smaller, best.spec(), original.monitor());
        if (c != null && c.size().smallerThan(best.size())) {
          best = c;
          progress = true;
          break;
        }
      }
    }
    for (StrategySpec spec : calmerStrategies(best)) {
      Candidate c = find(scenario, best.options(), spec, original.monitor());
      if (c != null && c.size().smallerThan(best.size())) {
        best = c;
        break;
      }
    }
    if (best.index() < 0) return new Result(before, before, null, tried);
    Explorer.Summary kept = explorer.explore(scenario, best.options(), new Explorer.Plan(best.spec(), best.index() + 1, true, 1, 1, null, 0),
        List.of(), null);
    return new Result(before, best.size(), kept.kept().get(0), tried);
  }

  /** One step smaller in each workload dimension, most promising first. */
  static List<RunOptions> smallerWorkloads(RunOptions o) {
    List<RunOptions> out = new ArrayList<>();
    if (o.requests() > 1) out.add(o.withRequests(1));
    if (o.cpus() > 1) out.add(o.withCpus(1));
    if (o.requests() > 2) out.add(o.withRequests(o.requests() / 2));
    if (o.cpus() > 2) out.add(o.withCpus(o.cpus() - 1));
    if (o.segments() > 1) out.add(new RunOptions(o.seed(), o.mode(), o.cpus(), o.requests(), 1, o.maxSteps()));
    if (o.segments() > 2) out.add(new RunOptions(o.seed(), o.mode(), o.cpus(), o.requests(), o.segments() / 2, o.maxSteps()));
    return out;
  }

  static List<StrategySpec> calmerStrategies(Candidate best) {
    List<StrategySpec> out = new ArrayList<>();
    out.add(new StrategySpec("fifo", 0));
    for (int k = 1; k <= Math.min(3, best.size().preemptions()); k++) out.add(new StrategySpec("delay", k));
    return out;
  }

  private Candidate find(Scenario scenario, RunOptions o, StrategySpec spec, String monitor) {
    tried++;
    long schedules = spec.kind().equals("fifo") ? 1 : budget;
    Explorer.Summary s = explorer.explore(scenario, o, new Explorer.Plan(spec, schedules, true, 1, 0, null, 0), List.of(), null);
    Explorer.ScheduleResult r = s.firstViolation();
    if (r == null || !r.firstMonitor().equals(monitor)) return null;
    return new Candidate(o, spec, r.index(), new Size(o.cpus(), o.requests(), o.segments(), r.steps(), r.nonFifo()));
  }
}
