package dmasim.scenarios;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.scenarios.journal.JournalWriter;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * One actor system with its journal, opened so that failures stay clear: a locked, corrupt or
 * read-only journal is reported before anything runs (a journal opened for writing opens while
 * the system starts beside it), then the journal's tables. Closing stops the system, lets the journal writer finish, compacts a
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
    this.system = readOnly ? openThenStart(journal, name, mustExist, overlay) : openWhileStarting(journal, name, mustExist, overlay);
    try {
      journal.prepare(system);
    } catch (RuntimeException e) {
      close(mb -> { });
      throw e;
    }
    this.runner = new Runner(system);
  }

  private static ActorSystem<Void> openThenStart(Journal journal, String name, boolean mustExist, com.typesafe.config.Config overlay) {
    journal.open(mustExist, true);
    try {
      return ActorSystem.create(Behaviors.empty(), name, config(journal, overlay));
    } catch (RuntimeException e) {
      journal.close();
      throw new InfrastructureError("cannot start the actor system: " + e.getMessage(), e);
    }
  }

  /**
   * Opens a journal for writing while the actor system starts on another thread (both take a
   * while; the machine has cores to spare at start-up). A journal opened for writing is configured
   * the same before and after it is opened (a read-only one is not), and nothing runs until both
   * are done: a journal that cannot be opened is still reported before anything runs, and the
   * system started beside it is stopped.
   */
  private static ActorSystem<Void> openWhileStarting(Journal journal, String name, boolean mustExist, com.typesafe.config.Config overlay) {
    java.util.concurrent.CompletableFuture<ActorSystem<Void>> starting = new java.util.concurrent.CompletableFuture<>();
    com.typesafe.config.Config config = config(journal, overlay);
    Thread t = new Thread(() -> {
      try {
        starting.complete(ActorSystem.create(Behaviors.empty(), name, config));
      } catch (Throwable e) {
        starting.completeExceptionally(e);
      }
    }, "dmasim-start");
    t.setDaemon(true);
    t.start();
    try {
      journal.open(mustExist, false);
    } catch (RuntimeException e) {
      starting.thenAccept(ActorSystem::terminate);
      throw e;
    }
    try {
      return starting.join();
    } catch (java.util.concurrent.CompletionException e) {
      journal.close();
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new InfrastructureError("cannot start the actor system: " + cause.getMessage(), cause);
    }
  }

  private static com.typesafe.config.Config config(Journal journal, com.typesafe.config.Config overlay) {
    return overlay == null ? journal.config() : overlay.withFallback(journal.config());
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
