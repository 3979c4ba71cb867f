package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.scenarios.Journal;
import dmasim.scenarios.Replayer;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.ScenarioFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Journal faults on both journals: a failed or rejected write stops the run in one line naming the
 * actor, its write and the rule, the recording is marked failed and the run's earlier kept recording
 * stays; a slow write changes nothing but the time; without a rule nothing happens.
 */
class JournalFaultsTest {
  static String base() throws IOException {
    try (InputStream in = JournalFaultsTest.class.getResourceAsStream("/catalog/iova-strict.conf")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("(?m)^expect.*$", "");
    }
  }

  static Scenario scenario(String faults) throws IOException {
    return ScenarioFile.parse("jf.conf", base() + (faults == null ? "" : "\nfaults = [ " + faults + " ]\n"));
  }

  /** Runs {@code body} with a system on {@code journal}. */
  static <T> T with(Journal journal, java.util.function.BiFunction<Runner, ActorSystem<Void>, T> body) throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "journal-faults", journal.config());
    try {
      journal.prepare(system);
      return body.apply(new Runner(system), system);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      journal.close();
    }
  }

  static RunReport keep(Journal journal, Runner runner, Scenario s) {
    return journal.keep(Runner.plan(s, s.defaults(), "jf-s1"), id -> runner.run(s, s.defaults(), "jf-s1", id));
  }

  @Test
  void aFailedWriteOnTheEmbeddedJournalStopsTheRunAndKeepsTheEarlierRecording(@TempDir Path dir) throws Exception {
    Journal journal = Journal.h2(dir);
    with(journal, (runner, system) -> {
      try {
        RunReport clean = keep(journal, runner, scenario(null));
        assertEquals("clean", clean.verdict());
        RunReport failed = keep(journal, runner, scenario("{ journal = fail, actor = iommu0, nth = 10 }"));
        assertEquals("crashed", failed.verdict());
        assertEquals("iommu0's 10th journal write failed (journal fault injected: fail the 10th journal write of iommu0)", failed.outcome().detail());
        List<String> states = journal.list().stream().map(st -> st.recordingId() + " " + st.state()).toList();
        assertTrue(states.contains("jf-s1~1 complete"), states.toString());
        assertTrue(states.stream().anyMatch(x -> x.startsWith("jf-s1~2 failed")), states.toString());
        // the kept run is still the clean one, and it still replays
        Replayer.Result r = Replayer.replay(runner, scenario(null), journal.lookup("jf-s1").record(), journal.read(system, journal.lookup("jf-s1")),
            null);
        assertTrue(r.identical(), () -> String.valueOf(r.divergence()));
        return null;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  @Test
  void aRejectedWriteOnTheInMemoryJournalStopsTheRunNamingIt() throws Exception {
    with(Journal.memory(), (runner, system) -> {
      try {
        RunReport rejected = keep(Journal.memory(), runner, scenario("{ journal = reject, actor = cpu1, nth = 3 }"));
        assertEquals("cpu1's 3rd journal write was rejected (journal fault injected: reject the 3rd journal write of cpu1)", rejected.outcome()
            .detail());
        RunReport failed = runner.run(scenario("{ journal = fail, every = 7 }"), scenario(null).defaults(), "jf-mem-fail", "jf-mem-fail");
        assertTrue(failed.outcome().detail().matches("(cpu0|cpu1|iommu0|mem|dev0)'s 7th journal write failed \\(journal fault injected: fail every"
            + " 7th journal write of each actor\\)"), failed.outcome().detail());
        return null;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  @Test
  void slowWritesChangeNothingButTheTimeOnEitherJournal(@TempDir Path dir) throws Exception {
    for (Journal journal : List.of(Journal.memory(), Journal.h2(dir))) {
      List<Object> outcomes = with(journal, (runner, system) -> {
        try {
          RunReport plain = runner.run(scenario(null), scenario(null).defaults(), "jf-plain", "jf-plain");
          RunReport slow = runner.run(scenario("{ journal = slow, every = 25, delay = 2ms }"), scenario(null).defaults(), "jf-slow", "jf-slow");
          return List.of(plain.verdict(), plain.outcome().steps(), plain.stats(), slow.verdict(), slow.outcome().steps(), slow.stats());
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      assertEquals("clean", outcomes.get(0), journal.kind());
      assertEquals(outcomes.subList(0, 3), outcomes.subList(3, 6), journal.kind());
    }
  }

  /** On the live wire too: the actor whose write failed stops, and the run ends at once naming it (it used to wait for the run timeout). */
  @Test
  void aFailedWriteEndsALiveRunNamingIt(@TempDir Path dir) throws Exception {
    Journal journal = Journal.h2(dir);
    with(journal, (runner, system) -> {
      try {
        Scenario s = scenario("{ journal = fail, actor = iommu0, nth = 10 }");
        RunReport live = journal.keep(dmasim.scenarios.RunRecord.planned("jf-live", "jf.conf", s.defaults(), dmasim.chaos.StrategySpec.live(2), 0, 0,
            null, 0), id -> runner.runLive(s, s.defaults(), "jf-live", new Runner.Live(2, 0), id, null).report());
        assertEquals("crashed", live.verdict());
        assertEquals("iommu0's 10th journal write failed (journal fault injected: fail the 10th journal write of iommu0)", live.outcome().detail());
        return null;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  /** Exploration runs without a journal: a journal fault would fire only when a violating schedule is kept, so exploring one is refused. */
  @Test
  void explorationRefusesJournalFaults() throws Exception {
    with(Journal.memory(), (runner, system) -> {
      try {
        Scenario s = scenario("{ journal = fail, nth = 3 }");
        dmasim.scenarios.UserError e = org.junit.jupiter.api.Assertions.assertThrows(dmasim.scenarios.UserError.class, () -> new dmasim.scenarios
            .Explorer(runner, Journal.memory()).explore(s, s.defaults(), new dmasim.scenarios.Explorer.Plan(dmasim.chaos.StrategySpec.parse("random"),
            2, false, 1, 1, null, 0), List.of(), null));
        assertEquals("iova-strict: journal faults apply to journaled runs (run, explore --crash-points), not to exploration", e.getMessage());
        return null;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }
}
