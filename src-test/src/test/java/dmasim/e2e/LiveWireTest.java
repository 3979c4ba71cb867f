package dmasim.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import dmasim.actors.iommu.IommuSettings;
import dmasim.chaos.StrategySpec;
import dmasim.protocol.EnvelopeId;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Explorer;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.Replayer;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live wire: runs race on real threads (different schedules from the same seed), the monitors
 * judge them as they go, and a live run - journaled, or found by a volatile exploration and kept -
 * replays identically on the controlled wire, same per-actor order, same events, same verdict.
 */
class LiveWireTest {
  @TempDir static Path dir;
  static Journal journal;
  static ActorSystem<Void> system;
  static Runner runner;
  static final Runner.Live LIVE = new Runner.Live(4, 0.01);

  @BeforeAll
  static void start() {
    journal = Journal.h2(dir);
    system = ActorSystem.create(Behaviors.empty(), "live-wire",
        ConfigFactory.parseString("dmasim.dispatchers.live.thread-pool-executor.fixed-pool-size = 4").withFallback(journal.config()));
    journal.prepare(system);
    runner = new Runner(system);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** A live run journaled as `dmasim run --live` keeps it, waited for with Awaitility while the threads race. */
  static RunReport keptLive(Scenario s, RunOptions o, String runId) {
    CompletableFuture<RunReport> running = CompletableFuture.supplyAsync(() -> journal.keep(
        dmasim.scenarios.RunRecord.planned(runId, Catalog.ref(s), o, StrategySpec.live(LIVE.threads()), 0, 0, null, 0),
        journalId -> runner.runLive(s, o, runId, LIVE, journalId, null).report()));
    await().atMost(Duration.ofSeconds(60)).until(running::isDone);
    return running.join();
  }

  @Test
  void aLiveRunOfABuggyVariantIsCaughtAndReplaysIdentically() {
    Scenario s = Catalog.find("nvme-iova-missing-sync").orElseThrow();
    RunOptions o = s.defaults().withRequests(6);
    RunReport live = keptLive(s, o, "live-missing-sync");
    assertEquals("SyncBeforeUse", live.firstMonitor(), live.violations().toString());
    List<RecordedStep> recorded = journal.read(system, journal.lookup("live-missing-sync"));
    Replayer.Result r = Replayer.replay(runner, s, journal.lookup("live-missing-sync").record(), recorded, null);
    assertTrue(r.identical(), () -> String.valueOf(r.divergence()));
    assertEquals(live.violations(), r.report().violations());
    assertEquals(live.outcome().steps(), r.report().outcome().steps());
  }

  @Test
  void cleanLiveRunsRaceDifferentlyAndEachReplaysIdentically() {
    Scenario s = Catalog.find("nvme-iova").orElseThrow();
    RunOptions o = s.defaults().withRequests(8).withMode(IommuSettings.Mode.LAZY);
    Set<List<EnvelopeId>> schedules = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      String id = "live-clean-" + i;
      RunReport live = keptLive(s, o, id);
      assertEquals("clean", live.verdict(), live.violations().toString());
      assertEquals("quiescent", live.outcome().reason());
      List<RecordedStep> recorded = journal.read(system, journal.lookup(id));
      assertEquals(live.outcome().steps(), recorded.size(), "a run that ends quiescent journals every step it stamped");
      for (int k = 0; k < recorded.size(); k++) assertEquals(k + 1, recorded.get(k).step(), "stamps are dense");
      for (int k = 1; k < recorded.size(); k++) assertTrue(recorded.get(k).at() >= recorded.get(k - 1).at(), "virtual time never goes back");
      schedules.add(recorded.stream().map(RecordedStep::envelope).toList());
      Replayer.Result r = Replayer.replay(runner, s, journal.lookup(id).record(), recorded, null);
      assertTrue(r.identical(), () -> id + ": " + r.divergence());
      assertEquals(live.stats(), r.report().stats());
    }
    assertTrue(schedules.size() > 1, "six live runs on four threads made " + schedules.size() + " distinct schedule(s)");
  }

  /** explore nvme-iova --live --iommu lazy with slow invalidations: the live runs report exposures (unmapped IOVAs still reachable). */
  @Test
  void aLiveLazyExplorationWithSlowInvalidationsReportsExposures(@TempDir Path tmp) throws Exception {
    Path slow = tmp.resolve("slow.conf");
    java.nio.file.Files.writeString(slow, "faults = [ { invalidation = slow, every = 1, delay = 20us } ]\n");
    Scenario s = dmasim.scenarios.ScenarioFile.withFaults(Catalog.find("nvme-iova").orElseThrow(), slow);
    RunOptions o = s.defaults().withRequests(6).withMode(IommuSettings.Mode.LAZY);
    // Whether a live schedule shows an exposure depends on how its threads raced (about half do); 16 schedules make a run
    // without any as unlikely as 1 in 65,000.
    Explorer.Summary sum = new Explorer(runner, journal).explore(s, o, new Explorer.Plan(StrategySpec.parse("random"), 16, false, 1, 1, null, 0,
        LIVE), List.of(), null);
    assertEquals(0, sum.violatingSchedules());
    assertTrue(sum.totals().exposures() > 0, "exposures: " + sum.totals().exposures());
    assertTrue(sum.totals().faultsInjected() > 0, "slow invalidations: " + sum.totals().faultsInjected());
  }

  /** explore --live: volatile live runs; a violating one is kept by replaying its schedule journaled, and that replays too. */
  @Test
  void aLiveExplorationKeepsItsViolatingScheduleReplayably() {
    Scenario s = Catalog.find("nvme-iova-free-live-links").orElseThrow();
    RunOptions o = s.defaults().withRequests(4);
    Explorer.Summary sum = new Explorer(runner, journal).explore(s, o, new Explorer.Plan(StrategySpec.parse("random"), 3, false, 1, 1, null, 0,
        LIVE), List.of(), null);
    assertEquals(3, sum.schedulesRun());
    assertEquals(3, sum.violatingSchedules());
    assertEquals("live:4", sum.plan().spec().toString());
    RunReport kept = sum.kept().get(0);
    assertEquals("IovaApiUsage", kept.firstMonitor());
    Replayer.Result r = Replayer.replay(runner, s, journal.lookup(kept.runId()).record(), journal.read(system, journal.lookup(kept.runId())), null);
    assertTrue(r.identical(), () -> String.valueOf(r.divergence()));
    assertEquals(kept.violations(), r.report().violations());
  }
}
