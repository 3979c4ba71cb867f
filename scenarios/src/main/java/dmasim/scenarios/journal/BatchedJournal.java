package dmasim.scenarios.journal;

import akka.dispatch.Futures;
import akka.persistence.AtomicWrite;
import akka.persistence.PersistentRepr;
import akka.persistence.journal.japi.AsyncWriteJournal;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collections;
import java.util.Optional;
import java.util.function.Consumer;
import scala.concurrent.Future;

/**
 * The Akka Persistence journal plugin of the embedded journal: akka-persistence-jdbc's
 * {@code event_journal} rows, written in batches by the {@link JournalWriter} instead of one
 * transaction per persist (which made a journaled step cost a database commit: 1/33 to 1/55 of a
 * volatile step). A persist is acknowledged once queued; recovery and highest-sequence queries
 * wait for the writer first, so an actor restarted mid-run sees every event it persisted.
 */
public final class BatchedJournal extends AsyncWriteJournal {
  private final JournalWriter writer;
  private final Serialization serialization;
  private final Database db;
  private Connection reads;

  public BatchedJournal(Config config) {
    this.writer = JournalWriter.get(context().system());
    this.serialization = SerializationExtension.get(context().system());
    this.db = Database.fromConfig(config);
  }

  @Override
  public Future<Iterable<Optional<Exception>>> doAsyncWriteMessages(Iterable<AtomicWrite> messages) {
    try {
      java.util.List<Optional<Exception>> results = new java.util.ArrayList<>();
      boolean rejected = false;
      long slow = 0;
      for (AtomicWrite w : messages) {
        JournalFaults.Rule fault = JournalFaults.check(w.persistenceId(), w.lowestSequenceNr());
        if (fault != null && fault.kind() == JournalFaults.Kind.FAIL) {
          return Futures.failed(new JournalFaults.Injected("journal fault injected: " + fault.describe()));
        }
        if (fault != null && fault.kind() == JournalFaults.Kind.REJECT) {
          results.add(Optional.of(new JournalFaults.Injected("journal fault injected: " + fault.describe())));
          rejected = true;
          continue;
        }
        if (fault != null) slow = Math.max(slow, fault.delayNanos());
        results.add(Optional.empty());
        scala.collection.Iterator<PersistentRepr> it = w.payload().iterator();
        while (it.hasNext()) {
          PersistentRepr r = it.next();
          writer.append(new JournalWriter.Pending(r.persistenceId(), r.sequenceNr(), r.payload()));
        }
      }
      Iterable<Optional<Exception>> outcome = rejected ? results : Collections.emptyList();
      if (slow == 0) return Futures.successful(outcome);
      // A slow write: acknowledged late, on the scheduler (the plugin's thread is not held).
      java.util.concurrent.Callable<Future<Iterable<Optional<Exception>>>> ack = () -> Futures.successful(outcome);
      return akka.pattern.Patterns.after(scala.concurrent.duration.FiniteDuration.create(slow, java.util.concurrent.TimeUnit.NANOSECONDS),
          context().system().scheduler(), context().dispatcher(), ack);
    } catch (RuntimeException e) {
      return Futures.failed(e);
    }
  }

  /** A query of what this plugin wrote: runs after the writer has made every queued step durable. */
  private interface Query<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> Future<T> afterFlush(Query<T> query) {
    try {
      writer.flushQuietly();
      return Futures.successful(query.run(connection()));
    } catch (SQLException e) {
      return Futures.failed(new JournalFailure(db.describe(e)));
    } catch (RuntimeException e) {
      return Futures.failed(e);
    }
  }

  @Override
  public Future<Void> doAsyncDeleteMessagesTo(String persistenceId, long toSequenceNr) {
    return afterFlush(c -> {
      try (PreparedStatement st = c.prepareStatement("DELETE FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"sequence_number\" <= ?")) {
        st.setString(1, persistenceId);
        st.setLong(2, toSequenceNr);
        st.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public Future<Void> doAsyncReplayMessages(String persistenceId, long from, long to, long max, Consumer<PersistentRepr> replay) {
    String sql = "SELECT \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\", \"event_payload\", \"meta_payload\" FROM \"event_journal\""
        + " WHERE \"persistence_id\" = ? AND \"sequence_number\" BETWEEN ? AND ? ORDER BY \"sequence_number\" FETCH FIRST ? ROWS ONLY";
    return afterFlush(c -> {
      try (PreparedStatement st = c.prepareStatement(sql)) {
        st.setString(1, persistenceId);
        st.setLong(2, from);
        st.setLong(3, to);
        st.setLong(4, max);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            long seq = rs.getLong(1);
            byte[] payload = rs.getBytes(4);
            if (!java.util.Arrays.equals(Rows.checksum(persistenceId, seq, rs.getInt(2), rs.getString(3), payload), rs.getBytes(5))) {
              throw new JournalFailure("journal damaged at " + persistenceId + ", event " + seq + ": its checksum does not match its contents");
            }
            Object event = serialization.deserialize(payload, rs.getInt(2), rs.getString(3)).get();
            replay.accept(PersistentRepr.apply(event, seq, persistenceId, "", false, null, ""));
          }
        }
      }
      return null;
    });
  }

  @Override
  public Future<Long> doAsyncReadHighestSequenceNr(String persistenceId, long from) {
    return afterFlush(c -> {
      try (PreparedStatement st = c.prepareStatement(
          "SELECT COALESCE(MAX(\"sequence_number\"), 0) FROM \"event_journal\" WHERE \"persistence_id\" = ?")) {
        st.setString(1, persistenceId);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    });
  }

  @Override
  public void postStop() throws Exception {
    if (reads != null) reads.close();
    super.postStop();
  }

  private Connection connection() throws SQLException {
    if (reads == null) reads = db.connect();
    return reads;
  }
}
