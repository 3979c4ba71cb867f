package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.actors.iommu.IommuSettings;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run is a function of (scenario, options, seed): two runs in fresh systems with fresh H2 journals record the same events. */
class SameSeedSameJournalTest {
  record Recorded(RunReport report, List<String> journal) {}

  static Recorded record(Path dir, Scenario s, RunOptions o) throws Exception {
    Journal journal = Journal.h2(dir);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "same-seed", journal.config());
    try {
      journal.prepare(system);
      RunReport r = new Runner(system).run(s, o);
      return new Recorded(r, journal.dump(r.runId()));
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void theSameSeedGivesIdenticalReportsAndJournals(@TempDir Path tmp) throws Exception {
    Scenario nvme = Catalog.find("nvme-iova").orElseThrow();
    RunOptions o = RunOptions.defaults(3).withMode(IommuSettings.Mode.LAZY).withRequests(20);
    Recorded a = record(tmp.resolve("a"), nvme, o);
    Recorded b = record(tmp.resolve("b"), nvme, o);
    assertTrue(a.journal().size() > 500, "journal rows: " + a.journal().size());
    assertEquals(a.journal(), b.journal());
    assertEquals(a.report().stats(), b.report().stats());
    assertEquals(a.report().violations(), b.report().violations());

    Recorded other = record(tmp.resolve("c"), nvme, o.withSeed(4));
    assertNotEquals(a.journal(),
        other.journal(), "another seed schedules differently");
  }

  @Test
  void aBuggyRunIsRecordedIdenticallyToo(@TempDir Path tmp) throws Exception {
    Scenario bug = Catalog.find("nvme-iova-free-live-links").orElseThrow();
    RunOptions o = RunOptions.defaults(5);
    Recorded a = record(tmp.resolve("a"), bug, o);
    Recorded b = record(tmp.resolve("b"), bug, o);
    assertEquals(List.of("IovaApiUsage I14 @58: dma_iova_free on cpu1/state with 1 range(s) still linked: the IOVA can be handed out again while its PTEs still point at the old pages"),
        a.report().violations().stream().map(v -> v.monitor() + " " + v.invariant() + " @" + v.step() + ": " + v.message()).toList());
    assertEquals(a.journal(), b.journal());
    assertEquals(a.report().violations(), b.report().violations());
  }
}
