package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.CatalogCheck;
import dmasim.scenarios.Explorer;
import dmasim.scenarios.Journal;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.ScenarioFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalogue meets every expectation; a new driver bug needs only a file; user monitors plug in through the SPI. */
class ScenarioFilesTest {
  static ActorSystem<Void> system;
  static Explorer explorer;

  @BeforeAll
  static void start() {
    Journal journal = Journal.memory();
    system = ActorSystem.create(Behaviors.empty(), "scenario-files", journal.config());
    explorer = new Explorer(new Runner(system), journal);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void everyCatalogueScenarioMeetsItsExpectation() {
    List<String> mismatches = new ArrayList<>();
    int files = 0;
    for (Scenario s : Catalog.all()) {
      if (s.source() != null) files++;
      CatalogCheck.Row r = CatalogCheck.check(explorer, s);
      if (!r.ok()) mismatches.add(r.scenario() + ": expected " + r.expected() + ", got " + r.got() + " " + r.message());
    }
    assertTrue(files >= 20, "catalogue files: " + files);
    assertTrue(mismatches.isEmpty(), String.join("\n", mismatches));
  }

  @Test
  void everyBuggyCatalogueFileHasAFixedPartner() {
    java.util.Map<String, java.util.Set<String>> pairs = new java.util.TreeMap<>();
    for (Scenario s : Catalog.catalogue().values()) {
      String text = s.source();
      assertTrue(text.startsWith("catalog/"));
    }
    // Pairs are declared in the files ("pair = B1"); each declared pair has both variants.
    for (String line : resourceLines()) {
      String[] p = line.split("\\|");
      pairs.computeIfAbsent(p[0], k -> new java.util.TreeSet<>()).add(p[1]);
    }
    for (var e : pairs.entrySet()) assertEquals(java.util.Set.of("buggy", "fixed"), e.getValue(), "pair " + e.getKey());
    assertTrue(pairs.keySet().containsAll(List.of("B1", "B10", "B11")), pairs.keySet().toString());
  }

  private static List<String> resourceLines() {
    List<String> out = new ArrayList<>();
    for (Scenario s : Catalog.catalogue().values()) {
      try (var in = Catalog.class.getClassLoader().getResourceAsStream(s.source())) {
        String text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        var c = com.typesafe.config.ConfigFactory.parseString(text);
        if (c.hasPath("pair")) out.add(c.getString("pair") + "|" + c.getString("variant"));
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }

  /** A bug nobody wrote Java for: one request's state is freed while it is still linked, written only as a file. */
  static final String NEW_BUG = """
      name = freed-while-linked
      description = "two requests in flight on two states; the driver frees the first state while it is still linked"
      cpus = 2
      devices = [ { name = nvme } ]
      workload { requests = 2, segments = 2 }
      programs {
        all = [
          "repeat times=$requests"
          "alloc buf=a pages=$segments"
          "alloc buf=b pages=$segments"
          "try-alloc state=sa buf=a"
          "if-no-iova state=sa goto=out"
          "link state=sa buf=a seg=all dir=to-device"
          "sync state=sa"
          "submit source=state:sa"
          "try-alloc state=sb buf=b"
          "if-no-iova state=sb goto=out"
          "link state=sb buf=b seg=all dir=to-device"
          "sync state=sb"
          "submit source=state:sb"
          "await"
          "free state=sa"
          "destroy state=sb dir=to-device"
          "label out"
          "free-pages buf=a"
          "free-pages buf=b"
          "end-repeat"
        ]
      }
      expect { verdict = violation, monitor = IovaApiUsage }
      """;

  @Test
  void aDriverBugWrittenOnlyAsAFileIsExploredAndFlagged(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("freed-while-linked.conf"), NEW_BUG);
    CliTest.Result r = CliTest.dmasim("explore", file.toString(), "--schedules", "20", "--strategy", "pct:2", "--journal", "memory");
    assertEquals(1, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("IovaApiUsage"), r.out());
    Scenario s = ScenarioFile.load(file);
    assertEquals("IovaApiUsage", CatalogCheck.check(explorer, s).got());
  }

  @Test
  void theDocumentedExampleLoadsAndMeetsItsExpectation() throws Exception {
    Path doc = Path.of(System.getProperty("user.dir")).resolve("../docs/scenario-format.md").normalize();
    String md = Files.readString(doc);
    int start = md.indexOf("```hocon\n") + "```hocon\n".length();
    String example = md.substring(start, md.indexOf("```", start));
    Scenario s = ScenarioFile.parse("docs/scenario-format.md", example);
    CatalogCheck.Row r = CatalogCheck.check(explorer, s);
    assertTrue(r.ok(), r.toString());
    for (String key : List.of("aperture-bits", "flush-queue.size", "late-access-percent", "max-invalidations-per-unmap", "teardown-deletes-timer-sync",
        "gather-end-bug", "invalidation-order", "mapping-error", "reset-device", "probability", "init-domain-unlocked", "init-domain-latency",
        "`attach`")) {
      assertTrue(md.contains(key), "docs miss " + key);
    }
    for (String step : dmasim.scenarios.ScenarioFile.stepNames()) assertTrue(md.contains("`" + step), "docs miss step " + step);
  }

  @Test
  void aViolationWithoutAMonitorIsMetByAnyMonitor(@TempDir Path dir) throws Exception {
    String text = NEW_BUG.replace("expect { verdict = violation, monitor = IovaApiUsage }", "expect { verdict = violation }")
        .replace("name = freed-while-linked", "name = any-monitor");
    Scenario s = ScenarioFile.load(Files.writeString(dir.resolve("any-monitor.conf"), text));
    CatalogCheck.Row r = CatalogCheck.check(explorer, s);
    assertEquals(List.of("any violation", "IovaApiUsage", true), List.of(r.expected(), r.got(), r.ok()), r.toString());
    CatalogCheck.Row clean = new CatalogCheck.Row("x", "buggy", Scenario.ANY_VIOLATION, "clean", -1, 20, "");
    assertFalse(clean.ok(), "a clean run does not meet an expected violation");
  }

  @Test
  void aUserMonitorFromTheClasspathCanBeNamedInAFile(@TempDir Path dir) throws Exception {
    String text = NEW_BUG.replace("expect { verdict = violation, monitor = IovaApiUsage }",
        "monitors = [ NoDeviceReads, Termination ]\nexpect { verdict = violation, monitor = NoDeviceReads }")
        .replace("name = freed-while-linked", "name = user-monitor");
    Path file = Files.writeString(dir.resolve("user-monitor.conf"), text);
    Scenario s = ScenarioFile.load(file);
    CatalogCheck.Row r = CatalogCheck.check(explorer, s);
    assertEquals("NoDeviceReads", r.got(), r.toString());
    assertTrue(r.message().matches("device0 read 0x[0-9a-f]+ \\(this team forbids device reads\\)"), r.message());
  }
}
