package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.monitor.Violation;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.UserError;
import dmasim.scenarios.Scenario;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every built-in (Java) scenario meets its expectation under every IOMMU mode for the fixed CI seeds:
 * the fixed drivers stay clean (no false positives), the buggy ones are caught by the right monitor.
 */
class CatalogExpectationsTest {
  /** The seeds CI runs; a larger sweep: -Ddmasim.seeds=N. */
  static final long SEEDS = Long.getLong("dmasim.seeds", 4);
  private static ActorSystem<Void> system;
  private static Runner runner;
  private static int run;

  @BeforeAll
  static void start() {
    system = ActorSystem.create(Behaviors.empty(), "catalog", Journal.memory().config());
    runner = new Runner(system);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static RunReport run(Scenario s, RunOptions o) {
    return runner.run(s, o, Runner.runId(s, o) + "-" + ++run);
  }

  private static String describe(RunReport r) {
    return r.scenario() + " " + r.reproduceCommand() + ": " + r.violations().stream().map(Violation::message).collect(Collectors.joining("; "))
        + (r.outcome().crashed() ? r.outcome().detail() : "");
  }

  @Test
  void everyScenarioMeetsItsExpectationInEveryMode() {
    // The built-in scenarios hold in every IOMMU mode; catalogue files fix their own mode and are
    // checked against their expectation by ScenarioFilesTest.
    for (Scenario s : Catalog.all().stream().filter(x -> x.source() == null).toList()) {
      for (IommuSettings.Mode mode : IommuSettings.Mode.values()) {
        if (s.name().equals("nvme-iova-missing-sync") && mode == IommuSettings.Mode.LAZY) {
          // A caching-mode IOMMU forces strict invalidation for per-CPU flush queues: the run is refused.
          UserError e = assertThrows(UserError.class, () -> run(s, RunOptions.defaults(1).withMode(IommuSettings.Mode.LAZY)));
          assertEquals("--iommu lazy is not possible: an IOMMU in caching mode forces strict invalidation (intel_iommu_init:"
              + " iommu_set_dma_strict, \"IOMMU batching disallowed due to virtualization\"; AMD NpCache likewise); lazy-single"
              + " (shadow_on_flush) is the flush queue for it", e.getMessage());
          continue;
        }
        for (long seed = 1; seed <= SEEDS; seed++) {
          RunReport r = run(s, RunOptions.defaults(seed).withMode(mode).withRequests(12).withCpus(3));
          assertTrue("quiescent".equals(r.outcome().reason()) || r.expectsStop(), "ended " + r.outcome().reason() + ": " + describe(r));
          // In passthrough no device is on a DMA-API domain: try_alloc is false and the fallback path runs, so the
          // built-in bugs of the IOVA path are never reached.
          if (s.expectsViolation() && mode != IommuSettings.Mode.PASSTHROUGH) {
            assertTrue(!r.violations().isEmpty(), "not caught: " + describe(r));
            assertEquals(s.expectedMonitor(), r.violations().get(0).monitor(), describe(r));
          } else {
            assertTrue(r.clean(), "false positive: " + describe(r));
          }
        }
      }
    }
  }

  @Test
  void lazyModeTradesInvalidationsForAnExposureWindowBoundedByTheTimer() {
    Scenario nvme = Catalog.find("nvme-iova").orElseThrow();
    RunOptions o = RunOptions.defaults(1);
    RunReport strict = run(nvme, o.withMode(IommuSettings.Mode.STRICT));
    RunReport lazy = run(nvme, o.withMode(IommuSettings.Mode.LAZY));
    assertTrue(strict.clean() && lazy.clean());
    assertEquals(0L, strict.stats().get("exposures"));
    assertTrue((long) lazy.stats().get("exposures") > 0, "lazy mode exposes late accesses");
    assertTrue((long) lazy.stats().get("maxExposureWindowNs") <= IommuSettings.DEFAULT_FQ_TIMEOUT);
    assertTrue((double) lazy.stats().get("iotlbInvalidationsPerRequest") < (double) strict.stats().get("iotlbInvalidationsPerRequest"));
    assertEquals(16.0, strict.stats().get("dmaMetadataBytesPerRequest"));
  }
}
