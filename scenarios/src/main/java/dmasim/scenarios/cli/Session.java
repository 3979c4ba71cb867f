package dmasim.scenarios.cli;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.scenarios.InfrastructureError;
import dmasim.scenarios.Journal;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.RunRecord;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.UserError;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** One actor system with its journal for the length of a command. */
final class Session implements AutoCloseable {
  final Journal journal;
  final ActorSystem<Void> system;
  final Runner runner;

  Session(String kind, Path dataDir) {
    this.journal = switch (kind) {
      case "memory" -> Journal.memory();
      case "h2" -> Journal.h2(dataDir == null ? Path.of("dmasim-data") : dataDir);
      default -> throw new UserError("unknown journal '" + kind + "' (use h2 or memory)");
    };
    try {
      this.system = ActorSystem.create(Behaviors.empty(), "dmasim", journal.config());
    } catch (RuntimeException e) {
      throw new InfrastructureError("cannot start the actor system: " + e.getMessage(), e);
    }
    try {
      journal.prepare(system);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    this.runner = new Runner(system);
  }

  /** A kept run and the scenario it ran. */
  record Kept(RunRecord record, Scenario scenario) {}

  /** Looks up a kept run in the registry and resolves its scenario (by name, or the file it came from). */
  Kept kept(String runId) {
    RunRecord record = journal.lookup(runId);
    return new Kept(record, Catalog.resolve(record.scenario()));
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // shutting down regardless
    }
  }
}
