package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.chaos.StrategySpec;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Explorer;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Exploration reuses each worker's actors from schedule to schedule (reset to their empty states)
 * instead of spawning them: every schedule must come out exactly as on freshly spawned actors —
 * the whole summary (steps, every schedule's first violation and its hash, totals, coverage),
 * whatever the component (IOMMU, HMM mirror, RDMA ODP), the strategy or the number of workers.
 */
class ReusedActorsTest {
  static ActorSystem<Void> system;
  static Runner reusing;
  static Runner spawning;

  @BeforeAll
  static void start() {
    Journal journal = Journal.memory();
    system = ActorSystem.create(Behaviors.empty(), "reused-actors", journal.config());
    journal.prepare(system);
    reusing = new Runner(system);
    spawning = new Runner(system);
    spawning.reuseActors(false);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @ParameterizedTest
  @CsvSource({
      "nvme-iova, random, 2",
      "nvme-iova-missing-sync, pct:2, 1",
      "b6-sync-map-flag-at-attach, pct:3, 2",
      "hmm-mirror-no-retry, delay:2, 2",
      "odp-b9-child-double-destroy, pct:3, 2",
      "odp-fault-workqueue, random, 1",
  })
  void schedulesOnReusedActorsAreTheSchedulesOnFreshOnes(String name, String strategy, int workers) {
    Scenario s = Catalog.find(name).orElseThrow();
    RunOptions o = s.defaults().withSeed(11);
    Explorer.Plan plan = new Explorer.Plan(StrategySpec.parse(strategy), 120, false, workers, 0, null, 0);
    Explorer.Summary fresh = new Explorer(spawning, Journal.memory()).explore(s, o, plan, List.of(), null);
    Explorer.Summary reused = new Explorer(reusing, Journal.memory()).explore(s, o, plan, List.of(), null);
    assertEquals(withoutIdentities(fresh.toString()), withoutIdentities(reused.toString()));
    var a = fresh.totals().exposureWindows();
    var b = reused.totals().exposureWindows();
    assertEquals(List.of(a.count(), a.max(), a.bucketsUsed(), a.percentile(0.5), a.percentile(0.99)),
        List.of(b.count(), b.max(), b.bucketsUsed(), b.percentile(0.5), b.percentile(0.99)));
    assertEquals(120, reused.schedulesRun());
  }

  /**
   * Exploration judges its schedules without explanations (MonitorSuite.explain(false)): the
   * verdicts must be those of the same schedules run one by one with explanations — which schedules
   * violate, by which monitor, and the first one's step, invariant and message.
   */
  @ParameterizedTest
  @CsvSource({"nvme-iova-missing-sync", "b6-sync-map-flag-at-attach-rare", "hmm-b4-ebusy-fatal-rare", "odp-b13-ksm-lost-update"})
  void verdictsWithoutExplanationsAreTheExplainedVerdicts(String name) {
    Scenario s = Catalog.find(name).orElseThrow();
    RunOptions o = s.defaults().withSeed(5);
    StrategySpec random = StrategySpec.parse("random");
    int schedules = 60;
    Explorer.Summary explored = new Explorer(reusing, Journal.memory()).explore(s, o, new Explorer.Plan(random, schedules, false, 2, 0, null, 0),
        List.of(), null);
    java.util.Map<String, Long> byMonitor = new java.util.TreeMap<>();
    String first = null;
    for (int i = 0; i < schedules; i++) {
      var r = spawning.run(s, o, "explained-" + i, random, Runner.scheduleSeed(o.seed(), i), 0, null, null, null);
      if (r.violations().isEmpty()) continue;
      var v = r.violations().get(0);
      byMonitor.merge(v.monitor(), 1L, Long::sum);
      if (first == null) first = i + " " + v.monitor() + " " + v.invariant() + " " + v.message();
      assertEquals(false, v.causes().isEmpty() && v.chain().isEmpty(), "an explained violation has its chain or causes: " + v);
    }
    assertEquals(byMonitor, new java.util.TreeMap<>(explored.violationsByMonitor()));
    var f = explored.firstViolation();
    assertEquals(first, f == null ? null : f.index() + " " + f.firstMonitor() + " " + f.firstInvariant() + " " + f.message());
  }

  /** The summary's text without the exposure histogram's identity hash (compared by its figures instead). */
  private static String withoutIdentities(String summary) {
    return summary.replaceAll("WindowHistogram@[0-9a-f]+", "WindowHistogram");
  }
}
