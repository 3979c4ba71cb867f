package dmasim.scenarios.journal;

import akka.actor.AbstractExtensionId;
import akka.actor.ActorSystem;
import akka.actor.ExtendedActorSystem;
import akka.actor.Extension;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import com.typesafe.config.Config;
import dmasim.protocol.JournalEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The write side of the embedded journal, one per actor system. The journal plugin hands over each
 * persisted step; one writer thread serializes the steps and inserts them in batches, one
 * transaction per batch, in the order they were persisted. A batch also records, in the same
 * transaction, how far each recording has come (its last durable step and every actor's last
 * sequence number), so a killed run's registry entry says exactly what is on disk.
 *
 * <p>Writes are acknowledged to the model before they are durable (write-behind): a run is kept
 * only after {@link #flush()} has made all of it durable, and a run that dies before that is an
 * incomplete recording. The writer stops the run with a one-line cause when the journal would
 * grow past its size limit, the disk is nearly full, or the database fails.
 */
public final class JournalWriter implements Extension {
  /** How many steps may wait for the writer before the model waits for it (backpressure). */
  private static final int MAX_QUEUED = 64 * 1024;
  /** Rows per JDBC batch inside one transaction. */
  private static final int ROWS_PER_BATCH = 2048;
  /**
   * A transaction is written when this many steps are queued, when somebody waits for
   * durability, or after {@link #GATHER_MS}: a commit costs about a millisecond on H2 whatever
   * its size, so one per step (what akka-persistence-jdbc does for a sequential writer) dominated.
   */
  private static final int FULL_BATCH = 8192;
  private static final long GATHER_MS = 50;
  /** The writer stops a run when less than this is free on the journal's file system. */
  static final long MIN_FREE_BYTES = 64L << 20;

  /** A step handed over by the plugin, not yet serialized. */
  record Pending(String persistenceId, long sequenceNr, Object payload) {}

  /** The extension's id: one writer per actor system, configured by {@code dmasim.journal-writer}. */
  public static final class Id extends AbstractExtensionId<JournalWriter> {
    @Override
    public JournalWriter createExtension(ExtendedActorSystem system) {
      return new JournalWriter(system, system.settings().config().getConfig("dmasim.journal-writer"));
    }
  }

  private static final Id ID = new Id();

  public static JournalWriter get(ActorSystem system) {
    return ID.get(system);
  }

  public static JournalWriter get(akka.actor.typed.ActorSystem<?> system) {
    return ID.get(akka.actor.typed.javadsl.Adapter.toClassic(system));
  }

  private final Serialization serialization;
  private final Database db;
  /** The H2 file (its size is limited and the disk beside it watched); null for PostgreSQL, whose server manages its storage. */
  private final Path file;
  private final long maxBytes;
  private final Object lock = new Object();
  private ArrayList<Pending> queue = new ArrayList<>();
  private long appended;
  private long durable;
  private long durableBytes;
  private long lastSize;
  private String failure;
  private boolean closed;
  private int flushWaiters;
  private boolean writing;
  private Thread thread;
  /** Per recording: actor → last durable sequence number, and the last durable step. */
  private final Map<String, Map<String, Long>> actorRows = new HashMap<>();
  private final Map<String, Long> lastStep = new HashMap<>();

  private JournalWriter(ActorSystem system, Config config) {
    this.serialization = SerializationExtension.get(system);
    this.db = Database.fromConfig(config);
    this.file = db.postgres() ? null : Path.of(config.getString("file"));
    this.maxBytes = config.getBytes("max-bytes");
  }

  /** Queues one persisted event (the plugin's thread, or a benchmark); waits while the writer is far behind. */
  public void append(String persistenceId, long sequenceNr, Object payload) {
    append(new Pending(persistenceId, sequenceNr, payload));
  }

  void append(Pending p) {
    synchronized (lock) {
      // After a failure nothing more is written: the run is being stopped (the session's watch, or
      // flush() when the run ends, reports the failure) and the registry says how far it came.
      // Refusing the persist instead would only make Akka log a stack trace for every actor.
      if (failure != null) return;
      if (closed) throw new JournalFailure("the journal is closed");
      if (thread == null) start();
      while (queue.size() >= MAX_QUEUED && failure == null) waitOn();
      if (failure != null) return;
      queue.add(p);
      appended++;
      if (queue.size() == 1 || queue.size() == FULL_BATCH) lock.notifyAll();
    }
  }

  /** Waits up to {@code millis} for every step appended so far to be durable; true when they are (or the writer failed: see {@link #flush()}). */
  public boolean awaitDurable(long millis) {
    synchronized (lock) {
      long target = appended;
      flushWaiters++;
      lock.notifyAll();
      try {
        for (long waited = 0; durable < target && failure == null && waited < millis; waited += 50) waitOn(50);
      } finally {
        flushWaiters--;
      }
      return durable >= target || failure != null;
    }
  }

  /** Steps handed to the writer so far. */
  public long appendedSteps() {
    synchronized (lock) {
      return appended;
    }
  }

  /** Waits until every step appended so far is durable; throws the writer's failure if it has one. */
  public void flush() {
    synchronized (lock) {
      long target = appended;
      flushWaiters++;
      lock.notifyAll();
      try {
        while (durable < target && failure == null) waitOn();
      } finally {
        flushWaiters--;
      }
      if (failure != null) throw new JournalFailure(failure);
    }
  }

  /**
   * Stops writing for {@code why} (a signal): what is queued is dropped, the batch being written is
   * finished (at most {@code millis} is waited for it), so the registry says exactly what is on disk.
   */
  public void abandon(String why, long millis) {
    synchronized (lock) {
      if (failure == null) failure = why;
      queue = new ArrayList<>();
      lock.notifyAll();
      for (int i = 0; i < millis / 50 && writing; i++) waitOn(50);
    }
  }

  /**
   * Refuses to begin a run when the writer has failed, the journal is already over its limit or
   * the disk is nearly full: a one-line failure before anything is recorded.
   */
  public void checkRoom() {
    String f = failure();
    if (f != null) throw new JournalFailure(f);
    room(false);
  }

  /** {@link #flush()} for the plugin's queries: a failure is reported by the run, not by every actor's recovery. */
  void flushQuietly() {
    synchronized (lock) {
      if (failure != null) return;
    }
    try {
      flush();
    } catch (JournalFailure e) {
      // reported where the run is watched
    }
  }

  /** The writer's failure, or null while it works. */
  public String failure() {
    synchronized (lock) {
      return failure;
    }
  }

  /** Steps made durable by this writer. */
  public long durableSteps() {
    synchronized (lock) {
      return durable;
    }
  }

  /** Serialized bytes of the durable steps (payloads only). */
  public long durableBytes() {
    synchronized (lock) {
      return durableBytes;
    }
  }

  /** The journal file's size after the last batch (0 for PostgreSQL). */
  public long fileBytes() {
    synchronized (lock) {
      return lastSize;
    }
  }

  /** Stops the writer after it has written what it holds (or at once after a failure). */
  public void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    Thread t = thread;
    if (t != null) {
      try {
        t.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void start() {
    thread = new Thread(this::loop, "dmasim-journal-writer");
    thread.setDaemon(true);
    thread.start();
  }

  private void waitOn() {
    waitOn(0);
  }

  private void waitOn(long millis) {
    try {
      lock.wait(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new JournalFailure("interrupted while waiting for the journal writer");
    }
  }

  private void loop() {
    try (Connection c = db.connect()) {
      c.setAutoCommit(false);
      while (true) {
        ArrayList<Pending> batch;
        synchronized (lock) {
          while (queue.isEmpty() && !closed) waitOn();
          if (queue.isEmpty()) return;
          if (queue.size() < FULL_BATCH && !closed && flushWaiters == 0) waitOn(GATHER_MS);
          batch = queue;
          queue = new ArrayList<>();
          writing = true;
        }
        long bytes;
        long size;
        try {
          bytes = write(c, batch);
          size = sizeChecked();
        } finally {
          synchronized (lock) {
            writing = false;
            lock.notifyAll();
          }
        }
        synchronized (lock) {
          durable += batch.size();
          durableBytes += bytes;
          lastSize = size;
          lock.notifyAll();
        }
      }
    } catch (SQLException e) {
      fail(db.describe(e));
    } catch (RuntimeException e) {
      fail(e instanceof JournalFailure ? e.getMessage() : "the journal writer failed: " + e);
    }
  }

  private void fail(String why) {
    synchronized (lock) {
      if (failure == null) failure = why;
      lock.notifyAll();
    }
  }

  private static final String INSERT = "INSERT INTO \"event_journal\" (\"deleted\", \"persistence_id\", \"sequence_number\", \"writer\","
      + " \"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\", \"meta_payload\","
      + " \"meta_ser_id\", \"meta_ser_manifest\") VALUES (FALSE, ?, ?, '', 0, '', ?, ?, ?, ?, 0, '" + Rows.CHECKSUM_MANIFEST + "')";
  private static final String PROGRESS = "UPDATE \"dmasim_recordings\" SET \"recorded_step\" = ?, \"actor_rows\" = ? WHERE \"recording_id\" = ?";

  /** Inserts one batch and the progress it makes, in one transaction; returns the payload bytes written. */
  private long write(Connection c, List<Pending> batch) throws SQLException {
    long bytes = 0;
    Map<String, Boolean> touched = new LinkedHashMap<>();
    try (PreparedStatement st = c.prepareStatement(INSERT)) {
      int inBatch = 0;
      for (Pending p : batch) {
        Serializer serializer = serialization.findSerializerFor(p.payload());
        String manifest = Serializers.manifestFor(serializer, p.payload());
        byte[] payload = serializer.toBinary(p.payload());
        bytes += payload.length;
        st.setString(1, p.persistenceId());
        st.setLong(2, p.sequenceNr());
        st.setBytes(3, payload);
        st.setInt(4, serializer.identifier());
        st.setString(5, manifest);
        st.setBytes(6, Rows.checksum(p.persistenceId(), p.sequenceNr(), serializer.identifier(), manifest, payload));
        st.addBatch();
        if (++inBatch == ROWS_PER_BATCH) {
          st.executeBatch();
          inBatch = 0;
        }
        int bar = p.persistenceId().indexOf('|');
        String recording = bar < 0 ? p.persistenceId() : p.persistenceId().substring(0, bar);
        String actor = bar < 0 ? "" : p.persistenceId().substring(bar + 1);
        actorRows.computeIfAbsent(recording, k -> new java.util.TreeMap<>()).put(actor, p.sequenceNr());
        if (p.payload() instanceof JournalEvent.EnvelopeHandled h) lastStep.merge(recording, h.step(), Math::max);
        if (p.payload() instanceof JournalEvent.StepsHandled h && !h.steps().isEmpty()) {
          lastStep.merge(recording, h.steps().get(h.steps().size() - 1).step(), Math::max);
        }
        touched.put(recording, true);
      }
      if (inBatch > 0) st.executeBatch();
    }
    try (PreparedStatement st = c.prepareStatement(PROGRESS)) {
      for (String recording : touched.keySet()) {
        st.setLong(1, lastStep.getOrDefault(recording, 0L));
        st.setString(2, Rows.actorRows(actorRows.get(recording)));
        st.setString(3, recording);
        st.addBatch();
      }
      st.executeBatch();
    }
    c.commit();
    return bytes;
  }

  /** The journal file's size; fails the writer when it passes the limit or the disk is nearly full. */
  private long sizeChecked() {
    return room(true);
  }

  /**
   * The journal file's size (0 when there is none yet), or a failure when it is over the limit or
   * the disk is nearly full: {@code running} says whether a run is being stopped or refused.
   */
  private long room(boolean running) {
    if (file == null) return 0;
    String after = running ? "; the run was stopped and is incomplete" : "";
    try {
      long size = Files.exists(file) ? Files.size(file) : 0;
      if (size > maxBytes) {
        throw new JournalFailure("the journal " + file + (running ? " reached " : " is already ") + (size >> 20) + " MB, over the limit of "
            + (maxBytes >> 20) + " MB (--max-journal-mb)" + (running ? after : "; 'dmasim gc' may make room, or raise the limit"));
      }
      long free = Files.getFileStore(file.getParent()).getUsableSpace();
      if (free < MIN_FREE_BYTES) throw new JournalFailure("disk nearly full: " + (free >> 20) + " MB left on the file system of " + file + after);
      return size;
    } catch (IOException e) {
      throw new JournalFailure("cannot check the size of " + file + " or the free space beside it: " + e.getMessage());
    }
  }

}
