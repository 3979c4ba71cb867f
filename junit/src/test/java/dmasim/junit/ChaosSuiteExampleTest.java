package dmasim.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.opentest4j.AssertionFailedError;

/**
 * An example chaos suite, as a driver team would write one: the fixed drivers of two catalogue
 * scenarios stay clean over 20 seeds each under PCT with injected faults, and the buggy variants
 * are caught with a failure that names the violation, the replay command and the journal.
 */
@DmasimChaos
class ChaosSuiteExampleTest {

  /** The NVMe driver on the two-step IOVA API, lazy IOMMU, with slow invalidations and slow DMA API returns: never a violation. */
  @ParameterizedTest(name = "nvme-iova, seed {0}")
  @SeedSource(count = 20)
  void nvmeIovaSurvivesSlowInvalidationsAndSlowReturns(long seed, Chaos chaos) {
    Exploration.Result r = chaos.explore("nvme-iova").iommu("lazy").requests(4).seed(seed).strategy("pct:3").schedules(4)
        .faults(Faults.of(Faults.slowInvalidation("20us").every(1), Faults.delay("Returned", "1us", "5us").probability(0.2)))
        .run().assertClean();
    assertTrue(r.summary().totals().faultsInjected() > 4, "faults fired: " + r.summary().totals().faultsInjected());
  }

  /** The driver that falls back to dma_map_phys when try_alloc fails, with every 2nd try_alloc failing and spurious completion interrupts. */
  @ParameterizedTest(name = "iova-fallback, seed {0}")
  @SeedSource(count = 20)
  void theFallbackDriverSurvivesAllocationFailuresAndDuplicateInterrupts(long seed, Chaos chaos) {
    Exploration.Result r = chaos.explore("iova-fallback").seed(seed).strategy("pct:2").schedules(4)
        .faults(Faults.of(Faults.failCall("try_alloc").every(2), Faults.duplicate("Completed").probability(0.3)))
        .run().assertClean();
    assertEquals(4, r.schedulesRun());
    assertTrue(r.summary().totals().faultsInjected() >= 4 * 2, "faults fired: " + r.summary().totals().faultsInjected());
  }

  /** The command-timeout driver survives a device that resets on its own mid-transfer, on any page, at random. */
  @ParameterizedTest(name = "injected resets, seed {0}")
  @SeedSource(count = 5)
  void theTimeoutDriverSurvivesInjectedResets(long seed, Chaos chaos) {
    Exploration.Result r = chaos.explore("timeout-reset-then-unmap").seed(seed).strategy("pct:2").schedules(4)
        .faults(Faults.of(Faults.deviceReset("nvme").on("NextAccess").probability(0.2))).run().assertClean();
    assertTrue(r.summary().totals().faultsInjected() > 0, "resets injected: " + r.summary().totals().faultsInjected());
  }

  /** A scenario built in Java: the catalogue's NVMe system, forced to a lazy IOMMU with two-segment requests, explored like any other. */
  @Test
  void aScenarioBuiltInJava(Chaos chaos) {
    dmasim.scenarios.Scenario nvme = Chaos.scenario("nvme-iova");
    dmasim.scenarios.Scenario lazyNvme = new dmasim.scenarios.Scenario("java-lazy-nvme", "nvme-iova on a lazy IOMMU, built in a test", null,
        o -> nvme.build().apply(o.withMode(dmasim.actors.iommu.IommuSettings.Mode.LAZY).withRequests(3)));
    Exploration.Result r = chaos.explore(lazyNvme).strategy("pct:2").schedules(5).run().assertClean();
    assertEquals(5, r.schedulesRun());
    assertTrue(r.summary().totals().exposures() > 0, "lazy: unmapped IOVAs stay reachable until the flush");
  }

  /** The buggy variant is caught on every seed tried. */
  @ParameterizedTest(name = "missing sync caught, seed {0}")
  @ValueSource(longs = {1, 2, 3})
  void theMissingSyncIsCaught(long seed, Chaos chaos) {
    chaos.explore("nvme-iova-missing-sync").requests(4).seed(seed).strategy("pct:2").schedules(20).stopAtFirst().keep(1).run()
        .assertViolation("SyncBeforeUse");
  }

  /** A lost invalidation completion makes the fixed driver hang; Termination names the fault. */
  @Test
  void aLostInvalidationCompletionIsAHangNamingTheFault(Chaos chaos) {
    Exploration.Result r = chaos.explore("nvme-iova").requests(3).schedules(3).keep(1).faults(Faults.of(Faults.invalidationTimeout().nth(1)))
        .run().assertViolation("Termination");
    assertEquals(3, r.violatingSchedules());
    AssertionFailedError e = assertThrows(AssertionFailedError.class, r::assertClean);
    assertTrue(e.getMessage().contains("the fault plan dropped 1 envelope(s): step "), e.getMessage());
    assertTrue(e.getMessage().contains("iommu0's 1st InvalidationDone to iommu0 dropped"), e.getMessage());
  }

  /** What a failing chaos test prints: the scenario, seed and strategy, the violation and its causes, the replay command, the journal. */
  @Test
  void aFailureNamesTheViolationTheSeedTheReplayCommandAndTheJournal(Chaos chaos) {
    Exploration.Result r = chaos.explore("nvme-iova-free-live-links").requests(2).seed(5).schedules(2).keep(1).run();
    AssertionFailedError e = assertThrows(AssertionFailedError.class, r::assertClean);
    String[] lines = e.getMessage().split("\n");
    assertEquals("nvme-iova-free-live-links (seed 5, random, 2 schedule(s)): expected no violation, got 2 violating schedule(s) {IovaApiUsage=2}",
        lines[0]);
    assertTrue(lines[1].startsWith("first violation: IovaApiUsage [I14] at step "), lines[1]);
    String kept = r.keptRuns().get(0);
    String replay = "replay: ./dmasim replay " + kept + " --data-dir " + chaos.dataDir();
    assertTrue(e.getMessage().contains("\n" + replay + "\n"), e.getMessage());
    assertTrue(e.getMessage().contains("\njournal: " + chaos.dataDir().resolve("journal.mv.db") + "\n"), e.getMessage());
    assertTrue(lines[lines.length - 1].equals("explore again: ./dmasim explore nvme-iova-free-live-links --seed 5 --strategy random --schedules 2"
        + " --requests 2 --data-dir " + chaos.dataDir()), lines[lines.length - 1]);
    assertTrue(Files.isRegularFile(chaos.dataDir().resolve("journal.mv.db")));
  }

  /** A bad rule is refused before anything runs, naming the rule and the key. */
  @Test
  void aBadRuleIsRefusedNamingItsIndexAndKey(Chaos chaos) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> chaos.explore("nvme-iova")
        .faults(Faults.of(Faults.slowInvalidation("20us").every(1), Faults.duplicate("MapPhys").nth(1))).run());
    assertTrue(e.getMessage().matches(".*faults-[0-9a-f]{8}\\.conf:3: faults\\[1\\]\\.type: duplicate needs the type of a message hardware can deliver twice.*"),
        e.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> chaos.explore("no-such-scenario").run());
    assertTrue(unknown.getMessage().startsWith("unknown scenario 'no-such-scenario'"), unknown.getMessage());
  }
}
