package dmasim.scenarios;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.AskPattern;
import dmasim.actors.monitor.MonitorSuite;
import dmasim.actors.monitor.Monitors;
import dmasim.chaos.LiveWire;
import dmasim.chaos.StepObserver;
import dmasim.protocol.EnvelopeId;
import java.util.List;
import java.util.Map;
import dmasim.chaos.StrategySpec;
import dmasim.chaos.RunOutcome;
import dmasim.chaos.Strategy;
import java.time.Duration;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs one scenario on the controlled wire: builds the system, runs it to quiescence (or to the
 * first violation), judges the end, stops every actor. The run is a function of (scenario,
 * options, seed): the same inputs give the same events, the same report and the same journal.
 */
public final class Runner {
  private static final Duration RUN_TIMEOUT = Duration.ofMinutes(30);
  private final ActorSystem<?> system;
  /** Names runs' guardians apart, across every runner of the process (several may share one actor system). */
  private static final AtomicLong instance = new AtomicLong();
  /** The exploration worker of the calling thread (0 outside exploration): picks the run's one-thread dispatcher. */
  static final ThreadLocal<Integer> WORKER = ThreadLocal.withInitial(() -> 0);
  /** Whether the calling thread's runs judge without explaining (exploration's schedules; see MonitorSuite.explain). */
  static final ThreadLocal<Boolean> VERDICTS_ONLY = ThreadLocal.withInitial(() -> false);

  /** Told of every committed step of the next controlled runs (the crash-point check), or null. */
  private dmasim.actors.model.StateProbe probe;

  /** Makes {@code p} (null: none) see every committed step of the controlled runs that follow. */
  public void probe(dmasim.actors.model.StateProbe p) {
    this.probe = p;
  }

  /** The step the current run has reached (for progress displays; written by the run's thread). */
  private final AtomicLong liveStep = new AtomicLong();
  private Runnable watch;

  public Runner(ActorSystem<?> system) {
    this.system = system;
  }

  /**
   * {@code tick} runs on the caller's thread about four times a second while a run is under way: a
   * progress display, or a check that stops the run by throwing (its exception is the run's).
   */
  public void watch(Runnable tick) {
    this.watch = tick;
  }

  /** The last step the current (or last) run handled. */
  public long liveStep() {
    return liveStep.getAcquire();
  }

  /** The id a run is journaled under: scenario, seed and a hash of the options. */
  public static String runId(Scenario scenario, RunOptions o) {
    long h = o.mnemonic().hashCode() * 0x9E3779B97F4A7C15L ^ scenario.name().hashCode();
    return scenario.name() + "-s" + o.seed() + "-" + HexFormat.of().toHexDigits((int) (h ^ (h >>> 32)));
  }

  public RunReport run(Scenario scenario, RunOptions o) {
    return run(scenario, o, runId(scenario, o));
  }

  /** The schedule seed of schedule {@code index} of a run or exploration with master seed {@code seed} (index 0 is what `run` uses). */
  public static long scheduleSeed(long seed, long index) {
    return new SplittableRandom(seed + index * 0x9E3779B97F4A7C15L).split().nextLong();
  }

  /** A run journaled under its run id with the default strategy (random walk, schedule 0 of the seed). */
  public RunReport run(Scenario scenario, RunOptions o, String runId) {
    return run(scenario, o, runId, new StrategySpec("random", 0), scheduleSeed(o.seed(), 0), 0, null, runId, null);
  }

  /** The run {@code run(scenario, o, runId)} makes, as the registry plans it before it runs. */
  public static RunRecord plan(Scenario scenario, RunOptions o, String runId) {
    return RunRecord.planned(runId, Catalog.ref(scenario), o, new StrategySpec("random", 0), scheduleSeed(o.seed(), 0), 0, null, 0);
  }

  /** {@link #run(Scenario, RunOptions, String)} journaled under {@code journalId} (a recording of the run). */
  public RunReport run(Scenario scenario, RunOptions o, String runId, String journalId) {
    return run(scenario, o, runId, new StrategySpec("random", 0), scheduleSeed(o.seed(), 0), 0, null, journalId, null);
  }

  /**
   * Runs one schedule. {@code journalId} null runs volatile actors (nothing written), else every
   * actor journals under "{@code journalId}|actor"; {@code strategy} overrides the spec when given
   * (replay); {@code extra} sees every step after the monitors.
   */
  public RunReport run(Scenario scenario, RunOptions o, String runId, StrategySpec spec, long scheduleSeed, long expectedSteps,
      Strategy strategy, String journalId, StepObserver extra) {
    Prepared p = prepare(scenario, o, extra);
    if (journalId != null) dmasim.scenarios.journal.JournalFaults.install(journalId, p.sys().journalFaults());
    // A live run's record is replayed here: its schedule is the journal's, in any channel order (see LiveWire).
    Strategy chosen = strategy != null ? strategy : spec.make(scheduleSeed, expectedSteps);
    Rig rig = reuseActors && journalId == null && probe == null && p.sys().messageFaults().isEmpty() ? rig(scenario, o, p.sys()) : null;
    if (rig != null) {
      java.util.concurrent.CompletableFuture<RunOutcome> outcome = new java.util.concurrent.CompletableFuture<>();
      rig.guardian().tell(new RunGuardian.Rerun(chosen, p.observer(), o.maxSteps(), spec.isLive(), outcome));
      return finish(scenario, o, runId, spec, scheduleSeed, expectedSteps, chosen.name(), p, outcome, null, r -> {
        if (r == null || r.crashed()) release(rig); // a failed actor's state is not trusted for another schedule
        rig.busy().set(false);
      });
    }
    // Crash points need Akka Persistence's recovery; everything else journals through the writer directly.
    ActorRef<RunGuardian.Command> guardian = system.systemActorOf(RunGuardian.create(journalId, p.sys(), chosen, p.observer(),
        o.maxSteps(), spec.isLive(), probe, probe == null ? tap(journalId, p.sys()) : null), "run-" + instance.incrementAndGet(),
        DispatcherSelector.fromConfig("dmasim.dispatchers.w" + WORKER.get()));
    return finish(scenario, o, runId, spec, scheduleSeed, expectedSteps, chosen.name(), p,
        AskPattern.<RunGuardian.Command, RunOutcome>ask(guardian, RunGuardian.Begin::new, RUN_TIMEOUT, system.scheduler()).toCompletableFuture(),
        journalId, r -> stop(guardian));
  }

  /** How a live run goes: dispatcher threads (informational: the pool is configured when the system starts) and real ns per virtual ns of delay. */
  public record Live(int threads, double timeScale) {
    public Live {
      if (threads < 1 || threads > 256) throw new IllegalArgumentException("--threads must be between 1 and 256, got " + threads);
      if (!(timeScale >= 0) || timeScale > 1e6) throw new IllegalArgumentException("--time-scale must be between 0 and 1000000, got " + timeScale);
    }
  }

  /** A live run's report and the schedule its threads made (the stamp order, as the monitors saw it). */
  public record LiveRun(RunReport report, List<EnvelopeId> schedule) {}

  /**
   * Runs one schedule on the live wire: the model actors on the live dispatcher's threads, envelopes
   * delivered by Akka with real (scaled) delays, monitors judging the steps in stamp order.
   * {@code journalId} null: volatile actors; else every actor journals under it.
   */
  public LiveRun runLive(Scenario scenario, RunOptions o, String runId, Live live, String journalId, StepObserver extra) {
    Prepared p = prepare(scenario, o, extra);
    if (journalId != null) dmasim.scenarios.journal.JournalFaults.install(journalId, p.sys().journalFaults());
    LiveWire wire = new LiveWire(live.timeScale(), o.maxSteps(), p.observer());
    ActorRef<RunGuardian.Command> guardian = system.systemActorOf(RunGuardian.createLive(journalId, p.sys(), wire, tap(journalId, p.sys())),
        "run-" + instance.incrementAndGet(), DispatcherSelector.fromConfig("dmasim.dispatchers.live"));
    guardian.tell(new RunGuardian.Begin(system.ignoreRef()));
    try {
      RunReport r = finish(scenario, o, runId, StrategySpec.live(live.threads()), 0, 0, "live", p, wire.outcome(), journalId, x -> stop(guardian));
      return new LiveRun(r, wire.schedule());
    } finally {
      wire.close();
    }
  }

  /**
   * Where a journaled run's actors hand their rows: on the dmasim journal (H2 or PostgreSQL) the
   * journal writer directly, the same rows a persisting actor writes, recovered and replayed the
   * same way, without starting Akka Persistence or its round trip per step; null (persist through
   * Akka Persistence) for volatile runs, the in-memory journal, and journal faults, which must reach
   * the plugin.
   */
  private dmasim.actors.model.JournalTap tap(String journalId, SystemSpec sys) {
    if (journalId == null || !sys.journalFaults().isEmpty()) return null;
    if (!system.settings().config().getString("akka.persistence.journal.plugin").equals("dmasim-journal")) return null;
    return dmasim.scenarios.journal.JournalWriter.get(system)::append;
  }

  /** The monitors that judge a run of {@code sys}, locating a CPU queue's violations in its program's scenario-file lines. */
  static MonitorSuite monitors(SystemSpec sys) {
    MonitorSuite suite = Monitors.suite(sys.iommu(), sys.memory(), sys.monitors(), sys.componentMonitors());
    suite.locateWith((cpu, pc) -> {
      int i = dmasim.actors.model.Names.cpuIndex(cpu);
      return i < sys.programs().size() ? sys.programs().get(i).origin(pc) : null;
    });
    return suite;
  }

  /** A run's system, monitors, and the observer that feeds them (and {@code extra}). */
  private record Prepared(SystemSpec sys, MonitorSuite suite, StepObserver observer) {}

  private Prepared prepare(Scenario scenario, RunOptions o, StepObserver extra) {
    SystemSpec sys;
    try {
      sys = scenario.build().apply(o);
    } catch (IllegalArgumentException e) {
      throw new UserError(scenario.name() + ": " + e.getMessage());
    }
    MonitorSuite suite = monitors(sys);
    if (VERDICTS_ONLY.get()) suite.explain(false);
    liveStep.setRelease(0);
    StepObserver observer = extra == null
        ? (step, env, events) -> {
            liveStep.setRelease(step);
            return suite.observe(step, env, events);
          }
        : (step, env, events) -> {
            liveStep.setRelease(step);
            return suite.observe(step, env, events) | extra.onStep(step, env, events);
          };
    return new Prepared(sys, suite, observer);
  }

  /** {@code after} is told the run's outcome (null when it has none) once its report is made or it failed: it stops or keeps the actors. */
  private RunReport finish(Scenario scenario, RunOptions o, String runId, StrategySpec spec, long scheduleSeed, long expectedSteps,
      String strategyName, Prepared p, java.util.concurrent.CompletableFuture<RunOutcome> running, String journalId,
      java.util.function.Consumer<RunOutcome> after) {
    SystemSpec sys = p.sys();
    MonitorSuite suite = p.suite();
    RunOutcome outcome = null;
    try {
      outcome = await(running);
      String journalFault = journalId == null ? null : dmasim.scenarios.journal.JournalFaults.uninstall(journalId);
      if (journalFault != null && outcome.crashed()) {
        // An actor stopped because the journal failed or rejected its write (an injected journal fault): say which.
        outcome = new RunOutcome(outcome.reason(), outcome.steps(), outcome.virtualTime(), outcome.inFlight(), outcome.nonFifoChoices(), journalFault);
      }
      if (outcome.reason().equals("quiescent")) suite.end(outcome.steps(), outcome.virtualTime());
      int error = outcome.crashed() ? outcome.detail().indexOf(dmasim.actors.cpu.CpuLogic.PROGRAM_ERROR) : -1;
      if (error >= 0) throw new UserError(outcome.detail().substring(error + dmasim.actors.cpu.CpuLogic.PROGRAM_ERROR.length()));
      return new RunReport(Catalog.ref(scenario), runId, o.seed(), strategyName, o, sys.iommu().mode().name().toLowerCase(java.util.Locale.ROOT)
          .replace('_', '-'), outcome, suite.violations(), suite.stats().asMap(), spec, scheduleSeed, expectedSteps, sys.programs().size()
          + sys.devices().size() + 2, suite.stats().exposureWindows().copy(), deviceNames(scenario));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InfrastructureError("interrupted while running " + runId, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new InfrastructureError("run " + runId + " did not finish: " + e.getMessage(), e);
    } finally {
      if (journalId != null) dmasim.scenarios.journal.JournalFaults.uninstall(journalId);
      after.accept(outcome);
    }
  }

  /** Stops a run's actors, waiting until the guardian has acknowledged. */
  private void stop(ActorRef<RunGuardian.Command> guardian) {
    try {
      AskPattern.<RunGuardian.Command, Boolean>ask(guardian, RunGuardian.Stop::new, Duration.ofSeconds(10), system.scheduler())
          .toCompletableFuture().get(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // The run's actors are stopping anyway; nothing more to do.
    }
  }

  // ---- volatile actors kept across schedules ----------------------------------------------------------------

  /** Whether volatile controlled runs reuse each worker's actors (default) or spawn them for every schedule. */
  private volatile boolean reuseActors = !"false".equals(System.getProperty("dmasim.reuse-actors"));

  /** One worker's kept actors: the system of {@code scenario} under {@code options}. */
  private record Rig(Scenario scenario, RunOptions options, ActorRef<RunGuardian.Command> guardian, java.util.concurrent.atomic.AtomicBoolean busy) {}

  /** The kept actors by exploration worker. */
  private final java.util.concurrent.ConcurrentHashMap<Integer, Rig> rigs = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * {@code true} (the default): a volatile run on the controlled wire (an exploration schedule, a
   * replay in memory) reuses the actors its worker used for the last run of the same scenario and
   * options, reset to their empty states, instead of spawning them; {@code false}: spawn every run's
   * actors (what runs did before; kept for measuring the difference).
   */
  public void reuseActors(boolean reuse) {
    this.reuseActors = reuse;
    if (!reuse) releaseActors();
  }

  /** Stops every kept actor (an exploration is over; the next run spawns again). */
  public void releaseActors() {
    for (Rig r : List.copyOf(rigs.values())) release(r);
  }

  /** The calling worker's kept actors for this system, marked busy; null (spawn this run's own) when another run is using them. */
  private Rig rig(Scenario scenario, RunOptions o, SystemSpec sys) {
    int worker = WORKER.get();
    Rig rig = rigs.get(worker);
    if (rig != null && !rig.busy().compareAndSet(false, true)) return null;
    if (rig != null && rig.scenario() == scenario && rig.options().equals(o)) return rig;
    if (rig != null) release(rig);
    Rig fresh = new Rig(scenario, o, system.systemActorOf(RunGuardian.createReusable(sys), "run-" + instance.incrementAndGet(),
        DispatcherSelector.fromConfig("dmasim.dispatchers.w" + worker)), new java.util.concurrent.atomic.AtomicBoolean(true));
    if (rigs.putIfAbsent(worker, fresh) != null) {
      stop(fresh.guardian()); // another thread of the same worker index kept its actors first
      return null;
    }
    return fresh;
  }

  private void release(Rig rig) {
    if (rigs.values().remove(rig)) stop(rig.guardian());
  }

  /** The scenario file's device names by actor name ("dev0" -> "nvme"). */
  private static Map<String, String> deviceNames(Scenario scenario) {
    Map<String, String> out = new java.util.TreeMap<>();
    scenario.devices().forEach((name, id) -> out.put(dmasim.actors.model.Names.device(id), name));
    return out;
  }

  private RunOutcome await(java.util.concurrent.CompletableFuture<RunOutcome> outcome) throws InterruptedException, ExecutionException,
      TimeoutException {
    if (watch == null) return outcome.get(RUN_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
    long deadline = RUN_TIMEOUT.toMillis() / 250 + 20;
    for (long tick = 0; tick < deadline; tick++) {
      try {
        return outcome.get(250, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        watch.run();
      }
    }
    throw new TimeoutException("no outcome after " + RUN_TIMEOUT);
  }
}
