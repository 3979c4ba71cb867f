package dmasim.scenarios;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.scenarios.journal.JournalWriter;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * One actor system with its journal, opened in the order that keeps failures clear: the journal
 * first (a locked, corrupt or read-only journal is reported before anything runs), then the system,
 * then the journal's tables. Closing stops the system, lets the journal writer finish, compacts a
 * bloated file and closes the journal. Used by the CLI (one per command) and the JUnit 5 extension
 * (one per test class).
 */
public final class Workbench implements AutoCloseable {
  public final Journal journal;
  public final ActorSystem<Void> system;
  public final Runner runner;

  /** Opens {@code journal} ({@code mustExist}: reading kept runs only; {@code readOnly}: never written) and starts a system named {@code name} on it. */
  public Workbench(Journal journal, String name, boolean mustExist, boolean readOnly) {
    this(journal, name, mustExist, readOnly, null);
  }

  /** ... with {@code overlay} (null: none) over the system's configuration, e.g. the live wire's thread count. */
  public Workbench(Journal journal, String name, boolean mustExist, boolean readOnly, com.typesafe.config.Config overlay) {
    this.journal = journal;
    journal.open(mustExist, readOnly);
    try {
      this.system = ActorSystem.create(Behaviors.empty(), name, overlay == null ? journal.config() : overlay.withFallback(journal.config()));
    } catch (RuntimeException e) {
      journal.close();
      throw new InfrastructureError("cannot start the actor system: " + e.getMessage(), e);
    }
    try {
      journal.prepare(system);
    } catch (RuntimeException e) {
      close(mb -> { });
      throw e;
    }
    this.runner = new Runner(system);
  }

  /** The durable journal's writer, or null for the in-memory journal. */
  public JournalWriter writer() {
    return journal.durable() ? JournalWriter.get(system) : null;
  }

  @Override
  public void close() {
    close(mb -> { });
  }

  /** Closes everything; {@code compacting} hears the file size (MB) before a compaction that takes a while. */
  public void close(LongConsumer compacting) {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // shutting down regardless
    }
    if (journal.durable()) {
      try {
        JournalWriter writer = JournalWriter.get(system);
        writer.close();
        if (writer.durableSteps() > 0 && writer.failure() == null) journal.compactIfBloated(writer.durableBytes(), compacting);
      } catch (RuntimeException e) {
        // the writer failed; its failure was reported when it happened
      }
    }
    journal.close();
  }
}
