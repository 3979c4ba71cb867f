package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.ScenarioFile;
import dmasim.scenarios.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Mutants of the catalogue files, made in-process with a fixed seed: deleted, duplicated and
 * swapped lines, numbers made negative, huge, fractional or not a number, keys renamed, files cut
 * short, braces unbalanced, deep nesting, binary bytes. Every mutant either loads and runs (a
 * short, step-bounded run that ends clean or with violations, never crashing) or is refused with a
 * one-line error naming the file - what exit codes 0, 1 and 2 stand for. Nothing else may escape.
 */
class MutatedScenarioFilesTest {
  static final long SEED = 20261127L;
  static final int MUTANTS = 320;
  static ActorSystem<Void> system;
  static Runner runner;

  @BeforeAll
  static void start() {
    Journal journal = Journal.memory();
    system = ActorSystem.create(Behaviors.empty(), "mutants", journal.config());
    runner = new Runner(system);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static List<Path> catalogue() throws Exception {
    Path dir = Path.of(System.getProperty("user.dir")).resolve("../scenarios/src/main/resources/catalog").normalize();
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
    }
  }

  static String mutate(String text, SplittableRandom rnd) {
    List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
    int i = rnd.nextInt(lines.size());
    String line = lines.get(i);
    switch (rnd.nextInt(10)) {
      case 0 -> lines.remove(i);
      case 1 -> lines.add(i, line);
      case 2 -> {
        int j = rnd.nextInt(lines.size());
        lines.set(i, lines.get(j));
        lines.set(j, line);
      }
      case 3 -> lines.set(i, line.replaceAll("\\d+", new String[] {"-1", "99999999999999999999", "2.5", "NaN", "0"}[rnd.nextInt(5)]));
      case 4 -> lines.set(i, line.replaceFirst("([a-z][a-z-]*)\\s*=", "$1x ="));
      case 5 -> {
        return String.join("\n", lines).substring(0, rnd.nextInt(Math.max(1, text.length())));
      }
      case 6 -> lines.set(i, line.replace("}", "").replace("]", ""));
      case 7 -> lines.add(i, "deep = " + "{ a = ".repeat(3000) + "1" + " }".repeat(3000));
      case 8 -> lines.set(i, line + "\u0000\u00ff\u0007");
      default -> lines.set(i, line.replaceAll("\"[a-z-]+ ", "\"" + new String[] {"frobnicate ", "submit ", "await ", "goto "}[rnd.nextInt(4)]));
    }
    return String.join("\n", lines);
  }

  @Test
  void everyMutantLoadsAndRunsOrIsRefusedWithOneLineNamingTheFile() throws Exception {
    List<Path> files = catalogue();
    SplittableRandom rnd = new SplittableRandom(SEED);
    List<String> escaped = new ArrayList<>();
    int refused = 0;
    int ran = 0;
    for (int m = 0; m < MUTANTS; m++) {
      Path source = files.get(rnd.nextInt(files.size()));
      String name = "mutant-" + m + "-" + source.getFileName();
      String text = mutate(Files.readString(source), rnd);
      try {
        Scenario s = ScenarioFile.parse(name, text);
        RunOptions d = s.defaults();
        RunOptions o = new RunOptions(1, null, d.cpus(), Math.min(d.requests(), 3), Math.min(d.segments(), 4), 3_000);
        RunReport r = runner.run(s, o, "mutant-" + m);
        if (r.outcome().crashed()) escaped.add(name + ": crashed: " + r.outcome().detail());
        ran++;
      } catch (UserError e) {
        String msg = e.getMessage();
        if (!msg.contains(name) || msg.contains("\n") || msg.contains("Exception")) escaped.add(name + ": unclear refusal: " + msg);
        refused++;
      } catch (RuntimeException | StackOverflowError e) {
        escaped.add(name + ": " + e);
      }
    }
    assertEquals(List.of(), escaped, escaped.size() + " mutant(s) escaped");
    assertTrue(refused > 50 && ran > 50, "refused " + refused + ", ran " + ran);
  }
}
