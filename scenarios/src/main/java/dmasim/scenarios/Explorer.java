package dmasim.scenarios;

import dmasim.chaos.ReplayStrategy;
import dmasim.chaos.StepObserver;
import dmasim.chaos.Strategy;
import dmasim.chaos.StrategySpec;
import dmasim.protocol.EnvelopeId;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * Runs many schedules of one scenario in memory (volatile actors, nothing journaled), each with a
 * fresh strategy seeded by its index, optionally after replaying a prefix of a kept run. Violating
 * schedules are re-executed against the durable journal and kept. Totals depend only on (scenario,
 * options, strategy, seed, schedule count): workers take schedule indices from a shared counter and
 * may finish them in any order, results (and the run statistics in {@link ExploreTotals}) are merged
 * by schedule index, and "stop at first" means the lowest violating index.
 */
public final class Explorer {
  /**
   * What to explore. {@code keep} caps how many violating schedules are journaled and kept.
   * {@code live} non-null: every schedule is a live run (its threads choose the interleaving); a
   * violating one is kept by replaying its recorded schedule, journaled, on the controlled wire.
   */
  public record Plan(StrategySpec spec, long schedules, boolean stopAtFirst, int parallel, int keep, RunRecord from, long prefix, Runner.Live live) {
    public Plan {
      if (schedules < 1) throw new IllegalArgumentException("--schedules must be at least 1");
      if (parallel < 1 || parallel > 64) throw new IllegalArgumentException("--parallel must be between 1 and 64");
      if (keep < 0) throw new IllegalArgumentException("--keep must not be negative");
      if (live != null && (from != null || prefix > 0)) throw new IllegalArgumentException("--live explores a scenario, not --from a kept run");
      if (live != null) spec = StrategySpec.live(live.threads());
      if (live == null && spec.isLive()) throw new IllegalArgumentException("a live strategy needs --live");
    }

    /** A plan on the controlled wire. */
    public Plan(StrategySpec spec, long schedules, boolean stopAtFirst, int parallel, int keep, RunRecord from, long prefix) {
      this(spec, schedules, stopAtFirst, parallel, keep, from, prefix, null);
    }
  }

  /** One schedule's result; {@code schedule} the envelope order of a violating live run (null otherwise). */
  public record ScheduleResult(long index, long steps, String firstMonitor, String firstInvariant, String message, long nonFifo, long scheduleHash,
      List<EnvelopeId> schedule, boolean truncated) {}

  /** The totals of an exploration. */
  public record Summary(String scenario, RunOptions options, Plan plan, long expectedSteps, int actors, long schedulesRun, long totalSteps,
      Map<String, Long> violationsByMonitor, long violatingSchedules, long distinctViolatingSchedules, int actorMessagePairs,
      int conflictingPairs, int conflictingPairsBothOrders, List<RunReport> kept, ScheduleResult firstViolation, ExploreTotals totals,
      String keepFailure, Coverage.FaultWindows faultWindows, long truncatedSchedules) {

    public double pctBound() {
      return plan.spec().pctBound(actors, expectedSteps);
    }

    public double missProbability() {
      return plan.spec().missProbability(actors, expectedSteps, schedulesRun);
    }
  }

  private final Runner runner;
  private final Journal journal;

  public Explorer(Runner runner, Journal journal) {
    this.runner = runner;
    this.journal = journal;
  }

  /** A schedule's strategy: the spec seeded for this index, after the replayed prefix if any. */
  static Strategy strategy(Plan plan, List<EnvelopeId> prefix, long seed, long index, long expectedSteps) {
    Strategy s = plan.spec().make(Runner.scheduleSeed(seed, index), expectedSteps);
    return prefix.isEmpty() ? s : new ReplayStrategy(prefix, s);
  }

  public Summary explore(Scenario scenario, RunOptions o, Plan plan, List<EnvelopeId> prefix, BiConsumer<Long, Long> progress) {
    if (!scenario.build().apply(o).journalFaults().isEmpty()) {
      // Exploration runs without a journal; a journal fault would fire only when a violating schedule is kept.
      throw new UserError(scenario.name() + ": journal faults apply to journaled runs (run, explore --crash-points), not to exploration");
    }
    if (plan.from() != null && plan.from().spec().isLive()) {
      throw new UserError("explore --from a live run: its schedule follows no channel order, so it cannot be continued on the controlled wire"
          + " (replay it, or explore the scenario)");
    }
    long expectedSteps = plan.from() != null ? plan.from().steps() : plan.live() != null ? 0 : probeSteps(scenario, o);
    Coverage coverage = new Coverage();
    ScheduleResult[] results = new ScheduleResult[(int) Math.min(plan.schedules(), Integer.MAX_VALUE - 8)];
    AtomicLong cutoff = new AtomicLong(Long.MAX_VALUE);
    AtomicLong done = new AtomicLong();
    AtomicLong violating = new AtomicLong();
    AtomicLong nextIndex = new AtomicLong();
    ExploreTotals.Merger totals = new ExploreTotals.Merger(cutoff);
    ExecutorService workers = Executors.newFixedThreadPool(plan.parallel());
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < plan.parallel(); w++) {
        int worker = w;
        futures.add(workers.submit(() -> {
          Runner.WORKER.set(worker);
          for (long i = nextIndex.getAndIncrement(); i < results.length && i <= cutoff.get(); i = nextIndex.getAndIncrement()) {
            Ran ran = one(scenario, o, plan, prefix, i, expectedSteps, coverage);
            RunReport r = ran.report();
            var v = r.violations().isEmpty() ? null : r.violations().get(0);
            results[(int) i] = new ScheduleResult(i, r.outcome().steps(), v == null ? null : v.monitor(), v == null ? null : v.invariant(),
                v == null ? null : v.message(), r.outcome().nonFifoChoices(), ran.hash(), v == null ? null : ran.schedule(),
                r.outcome().reason().equals("max-steps"));
            if (v != null) {
              violating.incrementAndGet();
              if (plan.stopAtFirst()) cutoff.accumulateAndGet(i, Math::min);
            }
            totals.offer(ExploreTotals.Tally.of(i, r)); // after the cutoff update: see Merger
            if (progress != null) progress.accept(done.incrementAndGet(), violating.get());
          }
        }));
      }
      for (Future<?> f : futures) f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InfrastructureError("exploration interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      throw new InfrastructureError("exploration failed: " + e.getCause(), e);
    } finally {
      workers.shutdownNow();
      runner.releaseActors(); // the workers' actors, kept from schedule to schedule
    }
    return summarize(scenario, o, plan, prefix, expectedSteps, coverage, results, cutoff.get(), totals);
  }

  /** A schedule's report, the hash of its envelope order, and (live) the order itself. */
  private record Ran(RunReport report, long hash, List<EnvelopeId> schedule) {}

  private Ran one(Scenario scenario, RunOptions o, Plan plan, List<EnvelopeId> prefix, long i, long k, Coverage coverage) {
    Coverage.Schedule cov = coverage.schedule();
    long[] hash = {17};
    StepObserver observe = (step, env, events) -> {
      hash[0] = hash[0] * 31 + env.id().hashCode();
      return cov.onStep(step, env, events);
    };
    if (plan.live() != null) {
      Runner.LiveRun live = runner.runLive(scenario, o, "x" + i, plan.live(), null, observe);
      if (live.report().outcome().crashed()) throw new InfrastructureError("schedule " + i + " crashed: " + live.report().outcome().detail(), null);
      cov.merge();
      return new Ran(live.report(), hash[0], live.schedule());
    }
    RunReport r;
    Runner.VERDICTS_ONLY.set(true); // a schedule's verdict is all exploration reports; the schedules it keeps are re-run with explanations
    try {
      r = runner.run(scenario, o, "x" + i, plan.spec(), Runner.scheduleSeed(o.seed(), i), k, strategy(plan, prefix, o.seed(), i, k), null, observe);
    } finally {
      Runner.VERDICTS_ONLY.set(false);
    }
    if (r.outcome().crashed()) throw new InfrastructureError("schedule " + i + " crashed: " + r.outcome().detail(), null);
    if (r.outcome().reason().equals("diverged")) {
      throw new InfrastructureError("schedule " + i + " could not replay the prefix of " + plan.from().runId() + ": " + r.outcome().detail(), null);
    }
    cov.merge();
    return new Ran(r, hash[0], null);
  }

  /** The expected step count k for PCT and delay bounding: the length of the FIFO schedule. */
  long probeSteps(Scenario scenario, RunOptions o) {
    RunReport probe = runner.run(scenario, o, "probe", new StrategySpec("fifo", 0), 0, 0, null, null, null);
    return Math.max(1, probe.outcome().steps());
  }

  private Summary summarize(Scenario scenario, RunOptions o, Plan plan, List<EnvelopeId> prefix, long k, Coverage coverage,
      ScheduleResult[] results, long cutoff, ExploreTotals.Merger merger) {
    long last = Math.min(results.length - 1L, cutoff);
    long run = 0;
    long steps = 0;
    long violating = 0;
    long truncated = 0; // schedules --max-steps cut off: a loop that never ends, or just a long run
    Map<String, Long> byMonitor = new TreeMap<>();
    TreeSet<Long> distinct = new TreeSet<>();
    List<ScheduleResult> toKeep = new ArrayList<>();
    TreeSet<String> keptSignatures = new TreeSet<>();
    ScheduleResult first = null;
    for (long i = 0; i <= last; i++) {
      ScheduleResult r = results[(int) i];
      run++;
      steps += r.steps();
      if (r.truncated()) truncated++;
      if (r.firstMonitor() == null) continue;
      violating++;
      if (first == null) first = r;
      byMonitor.merge(r.firstMonitor(), 1L, Long::sum);
      distinct.add(r.scheduleHash());
      String signature = r.firstMonitor() + "/" + r.firstInvariant();
      if (toKeep.size() < plan.keep() && (keptSignatures.add(signature) || toKeep.size() < plan.keep() / 2)) toKeep.add(r);
    }
    List<RunReport> kept = new ArrayList<>();
    String keepFailure = null;
    for (ScheduleResult r : toKeep) {
      try {
        kept.add(keep(scenario, o, plan, prefix, k, r));
      } catch (InfrastructureError e) {
        keepFailure = "schedule " + r.index() + " could not be kept: " + e.getMessage();
        break; // the exploration's figures stand; the caller reports the failure after them
      }
    }
    int actors = kept.isEmpty() ? actorsOf(scenario, o) : kept.get(0).actors();
    return new Summary(scenario.name(), o, plan, k, actors, run, steps, byMonitor, violating, distinct.size(), coverage.actorMessagePairs(),
        coverage.conflictingPairs(), coverage.conflictingPairsBothOrders(), kept, first, merger.totals(run), keepFailure, coverage.faultWindows(),
        truncated);
  }

  private static int actorsOf(Scenario scenario, RunOptions o) {
    SystemSpec s = scenario.build().apply(o);
    return s.programs().size() + s.devices().size() + 2;
  }

  /** Re-executes schedule {@code r} against the durable journal, checks it fails the same way, keeps it. */
  private RunReport keep(Scenario scenario, RunOptions o, Plan plan, List<EnvelopeId> prefix, long k, ScheduleResult r) {
    String id = plan.live() != null ? journal.unusedRunId(keptId(scenario, o, plan, r.index())) : keptId(scenario, o, plan, r.index());
    RunRecord planned = RunRecord.planned(id, Catalog.ref(scenario), o, plan.spec(), Runner.scheduleSeed(o.seed(), r.index()), k,
        plan.from() == null ? null : plan.from().runId(), prefix.size());
    // A live schedule is kept by replaying the order its threads made on the controlled wire (any-order mode).
    Strategy strategy = plan.live() != null ? new ReplayStrategy(r.schedule(), null) : strategy(plan, prefix, o.seed(), r.index(), k);
    return journal.keep(planned, journalId -> {
      RunReport kept = runner.run(scenario, o, id, plan.spec(), Runner.scheduleSeed(o.seed(), r.index()), k, strategy,
          journal.kind().equals("memory") ? null : journalId, null);
      if (kept.outcome().steps() != r.steps() || !r.firstMonitor().equals(kept.firstMonitor())) {
        throw new InfrastructureError("schedule " + r.index() + " did not repeat: explored " + r.firstMonitor() + " at step " + r.steps()
            + ", journaled " + kept.firstMonitor() + " at step " + kept.outcome().steps() + " (non-determinism in the model)", null);
      }
      return kept;
    });
  }

  static String keptId(Scenario scenario, RunOptions o, Plan plan, long index) {
    long h = (o.mnemonic() + plan.spec() + (plan.from() == null ? "" : plan.from().runId() + "@" + plan.prefix())).hashCode();
    return scenario.name() + "-s" + o.seed() + "-" + plan.spec().toString().replace(":", "") + "-x" + index + "-"
        + HexFormat.of().toHexDigits((int) (h * 0x9E3779B97F4A7C15L >>> 32));
  }
}
