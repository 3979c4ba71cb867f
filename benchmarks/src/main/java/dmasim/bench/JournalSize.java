package dmasim.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.protocol.JournalEvent;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.journal.JournalWriter;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * (e) Bytes on disk: `dmasim run nvme-iova --requests 1000 --seed 4` as the run command keeps it
 * (a fresh data directory, the database closed), divided by its rows (one per step) and by its
 * journaled events (each step record and every domain event it carries).
 */
final class JournalSize {
  private JournalSize() {}

  static void print(PrintStream out) throws Exception {
    Path dir = Files.createTempDirectory("dmasim-bench-size");
    Scenario nvme = Catalog.find("nvme-iova").orElseThrow();
    RunOptions o = RunOptions.defaults(4).withRequests(1000);
    String runId = Runner.runId(nvme, o);
    Journal journal = Journal.h2(dir);
    journal.open();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bench-size", journal.config());
    long t0 = System.nanoTime();
    journal.prepare(system);
    Runner runner = new Runner(system);
    journal.keep(Runner.plan(nvme, o, runId), jid -> runner.run(nvme, o, runId, jid));
    double seconds = (System.nanoTime() - t0) / 1e9;
    List<RecordedStep> steps = journal.read(system, journal.lookup(runId));
    long events = steps.size() + steps.stream().mapToLong(s -> s.events().size()).sum();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get();
    JournalWriter.get(system).close();
    journal.close();
    long bytes = Files.size(dir.resolve("journal.mv.db"));
    out.printf(Locale.ROOT, "(e) run nvme-iova --requests 1000 --seed 4: %,d steps in %.1f s, %,d journaled events (%s step records + domain events);"
        + " %.1f MB on disk = %.0f bytes per step, %.0f bytes per event%n", steps.size(), seconds, events, JournalEvent.EnvelopeHandled.class.getSimpleName(),
        bytes / 1048576.0, (double) bytes / steps.size(), (double) bytes / events);
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
