package dmasim.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.actors.iommu.IommuSettings;
import dmasim.chaos.StrategySpec;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * (b) Controlled-wire steps per second on nvme-iova (2 CPU queues x 20 requests x 4 segments, lazy),
 * volatile (exploration mode) and with every step persisted to Akka's in-memory journal; and
 * (c) schedules per second on a small canonical scenario (nvme-iova, 2 CPU queues, 1 device,
 * 2 requests of 2 segments each: about 100 steps). Each invocation is one whole schedule.
 */
@State(Scope.Benchmark)
public class ControlledWireBenchmark {
  /** Steps of the schedules run in an iteration, reported per second by JMH. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Steps {
    public long steps;

    @Setup(Level.Iteration)
    public void reset() {
      steps = 0;
    }
  }

  ActorSystem<Void> system;
  Runner runner;
  /** A runner that spawns every schedule's actors. */
  Runner spawning;
  dmasim.scenarios.Explorer explorer;
  Scenario nvme;
  /** nvme-iova with a fault plan of five rules: one call fault, a slow invalidation, a delayed return, a reorder, a duplicate. */
  Scenario nvmeFaulted;
  RunOptions big;
  RunOptions small;
  /** The HMM mirror benchmark in an address space of 64 and of 10^5 mapped pages. */
  Scenario hmmSmall;
  Scenario hmmLarge;
  long schedule;

  @Setup(Level.Trial)
  public void start() {
    system = ActorSystem.create(Behaviors.empty(), "bench", Journal.memory().config());
    runner = new Runner(system);
    spawning = new Runner(system);
    spawning.reuseActors(false);
    explorer = new dmasim.scenarios.Explorer(runner, Journal.memory());
    nvme = Catalog.find("nvme-iova").orElseThrow();
    try {
      java.nio.file.Path faults = java.nio.file.Files.createTempFile("dmasim-bench-faults", ".conf");
      java.nio.file.Files.writeString(faults, String.join("\n", "faults = [",
          "  { op = map_phys, nth = 1000000 }",
          "  { invalidation = slow, every = 1, delay = 1us }",
          "  { message = delay, type = Returned, probability = 0.1, delay = 500ns }",
          "  { message = reorder, type = Translate, every = 3 }",
          "  { message = duplicate, type = Completed, probability = 0.01 }",
          "]", ""));
      nvmeFaulted = dmasim.scenarios.ScenarioFile.withFaults(nvme, faults);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    hmmSmall = dmasim.scenarios.ScenarioFile.parse("hmm-bench-small.conf", hmmScenario("hmm-bench-small", 64));
    hmmLarge = dmasim.scenarios.ScenarioFile.parse("hmm-bench-large.conf", hmmScenario("hmm-bench-large", 100_000));
    big = RunOptions.defaults(1).withMode(IommuSettings.Mode.LAZY).withRequests(20);
    small = new RunOptions(1, IommuSettings.Mode.LAZY, 2, 2, 2, RunOptions.DEFAULT_MAX_STEPS);
  }

  /**
   * A mirror of 64 pages at the start of an address space of {@code pages} populated pages: a device
   * faulting 4 pages through the generic mirror, 20 times, while the process drops and touches them.
   */
  static String hmmScenario(String name, long pages) {
    return String.join("\n", "name = " + name, "description = \"benchmark\"", "cpus = 2", "devices = [ { name = gpu } ]", "workload { requests = 20 }",
        "mm {", "  vmas = [ { start = 0x10000000, pages = " + pages + ", access = rw } ]", "  mirrors = [ {",
        "    name = m0, start = 0x10000000, pages = 64, lock = mlock, device = gpu",
        "    callback = [ \"lock mlock\", \"set-seq mirror=m0\", \"dev-zap mirror=m0\", \"unlock mlock\" ]", "  } ]", "}",
        "programs {", "  cpu0 = [", "    \"repeat times=$requests\"", "    \"label access\"", "    \"dev-access mirror=m0 va=0x10000000 write=true\"",
        "    \"if-errno errno=EFAULT goto=fault\"", "    \"goto done\"", "    \"label fault\"", "    \"read-begin mirror=m0\"",
        "    \"range-fault mirror=m0 start=0x10000000 pages=4 write=true\"", "    \"if-errno errno=EBUSY goto=fault\"", "    \"if-error goto=done\"",
        "    \"lock mlock\"", "    \"read-retry mirror=m0 goto=again\"", "    \"dev-pte-set mirror=m0\"", "    \"unlock mlock\"",
        "    \"fault-done mirror=m0\"", "    \"goto access\"", "    \"label again\"", "    \"unlock mlock\"", "    \"goto fault\"", "    \"label done\"",
        "    \"request-done\"", "    \"end-repeat\"", "  ]", "  cpu1 = [", "    \"repeat times=$requests\"",
        "    \"madvise-dontneed start=0x10000000 pages=4\"", "    \"touch va=0x10000000 write=true\"", "    \"request-done\"", "    \"end-repeat\"", "  ]",
        "}", "");
  }

  /** (h) The HMM mirror in an address space of 64 pages: steps/s. */
  @Benchmark
  public long hmmSmallMm(Steps counter) {
    long s = run(hmmSmall, hmmSmall.defaults(), false).outcome().steps();
    counter.steps += s;
    return s;
  }

  /** (h') The same in an address space of 10^5 mapped pages. */
  @Benchmark
  public long hmmLargeMm(Steps counter) {
    long s = run(hmmLarge, hmmLarge.defaults(), false).outcome().steps();
    counter.steps += s;
    return s;
  }

  @TearDown(Level.Trial)
  public void stop() {
    system.terminate();
  }

  private RunReport run(RunOptions o, boolean journaled) {
    return run(nvme, o, journaled);
  }

  private RunReport run(Scenario s, RunOptions o, boolean journaled) {
    long i = schedule++;
    return runner.run(s, o, "bench-" + i, new StrategySpec("random", 0), Runner.scheduleSeed(1, i), 0, null, journaled ? "bench-" + i : null,
        null);
  }

  @Benchmark
  public long stepsVolatile(Steps counter) {
    long s = run(big, false).outcome().steps();
    counter.steps += s;
    return s;
  }

  /** (e) The same, with a fault plan of five rules (their decisions journaled as events, a few envelopes delayed, reordered, duplicated). */
  @Benchmark
  public long stepsVolatileFiveRules(Steps counter) {
    long s = run(nvmeFaulted, big, false).outcome().steps();
    counter.steps += s;
    return s;
  }

  @Benchmark
  public long stepsInMemoryJournal(Steps counter) {
    long s = run(big, true).outcome().steps();
    counter.steps += s;
    return s;
  }

  @Benchmark
  public long canonicalSchedule(Steps counter) {
    long s = run(small, false).outcome().steps();
    counter.steps += s;
    return s;
  }

  /** (c') The same with every schedule's actors spawned and stopped (what runs did before they reused each worker's actors). */
  @Benchmark
  public long canonicalScheduleSpawning(Steps counter) {
    long i = schedule++;
    long s = spawning.run(nvme, small, "bench-" + i, new StrategySpec("random", 0), Runner.scheduleSeed(1, i), 0, null, null, null).outcome().steps();
    counter.steps += s;
    return s;
  }

  /** Schedules explored in an iteration (what `dmasim explore` reports), per second. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Schedules {
    public long schedules;

    @Setup(Level.Iteration)
    public void reset() {
      schedules = 0;
    }
  }

  /** Schedules of one `explore` call in the explore benchmarks. */
  static final int EXPLORED = 400;

  /** (k) `dmasim explore` of the canonical scenario, random walk, one worker: 400 schedules per call (monitors, coverage, totals). */
  @Benchmark
  public long exploreCanonicalOneWorker(Schedules counter) {
    return explore(1, counter);
  }

  /** (k') The same with two workers (--parallel 2), one per core. */
  @Benchmark
  public long exploreCanonicalTwoWorkers(Schedules counter) {
    return explore(2, counter);
  }

  private long explore(int workers, Schedules counter) {
    long seed = schedule++;
    var plan = new dmasim.scenarios.Explorer.Plan(new StrategySpec("random", 0), EXPLORED, false, workers, 0, null, 0);
    var summary = explorer.explore(nvme, small.withSeed(seed), plan, java.util.List.of(), null);
    counter.schedules += summary.schedulesRun();
    return summary.schedulesRun();
  }
}
