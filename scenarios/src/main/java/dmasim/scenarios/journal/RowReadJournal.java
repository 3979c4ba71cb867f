package dmasim.scenarios.journal;

import akka.NotUsed;
import akka.actor.ExtendedActorSystem;
import akka.persistence.query.EventEnvelope;
import akka.persistence.query.Offset;
import akka.persistence.query.ReadJournalProvider;
import akka.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.stream.javadsl.Source;
import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The read side of the durable journal as an Akka Persistence Query plugin (plugin id
 * {@link #ID}): {@code currentEventsByPersistenceId} over the {@code event_journal} rows that
 * {@link BatchedJournal} writes, on H2 or PostgreSQL. Run readers (replay, inspect, check, report,
 * shrink, explore --from) read recordings through it, never with SQL of their own.
 *
 * <p>Every envelope says whether its row is intact: its {@code eventMetadata} is a {@link RowCheck}
 * (the row's CRC32C, kept in {@code meta_payload}, checked against the row's raw bytes here, where
 * the bytes are), and a row that is not intact or whose payload does not deserialize carries an
 * {@link Unreadable} instead of its event. The reader decides what that means (damage, or a run of
 * another model). akka-persistence-jdbc's own {@code JdbcReadJournal} reads the same rows but
 * drops what is needed for this: it never exposes the raw payload, and it deserializes
 * {@code meta_payload} with the serializer {@code meta_ser_id} names (0 here: Akka's null
 * serializer), so the checksum would be lost.
 */
public final class RowReadJournal implements CurrentEventsByPersistenceIdQuery {
  /** The query plugin's configuration path (and id). */
  public static final String ID = "dmasim-read-journal";

  /** An envelope's metadata: whether its row matched its checksum, and the row's serializer manifest. */
  public record RowCheck(boolean intact, String manifest) {}

  /** The event of an envelope whose row is not intact, or whose payload does not deserialize ({@code why}). */
  public record Unreadable(String manifest, String why) {}

  /** Rows per round trip: PostgreSQL streams a query this many rows at a time (inside a transaction). */
  private static final int FETCH = 10_000;

  /** Rows decoded by one task, and tasks at a time per query. */
  private static final int BATCH = 256;
  private static final int DECODERS = Math.max(2, Runtime.getRuntime().availableProcessors());

  private final Database db;
  private final Serialization serialization;
  private final java.util.concurrent.Executor executor;

  private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();

  RowReadJournal(ExtendedActorSystem system, Config config) {
    this.db = Database.fromConfig(config);
    this.serialization = SerializationExtension.get(system);
    this.executor = system.dispatcher();

    system.registerOnTermination(this::closeAll);
  }

  /** The plugin class Akka instantiates for {@link #ID}. */
  public static final class Provider implements ReadJournalProvider {
    private final RowReadJournal journal;

    public Provider(ExtendedActorSystem system, Config config) {
      this.journal = new RowReadJournal(system, config);
    }

    @Override
    public akka.persistence.query.scaladsl.ReadJournal scaladslReadJournal() {
      return new Scaladsl(journal);
    }

    @Override
    public akka.persistence.query.javadsl.ReadJournal javadslReadJournal() {
      return journal;
    }
  }

  /** The same query for Scala callers. */
  public static final class Scaladsl implements akka.persistence.query.scaladsl.CurrentEventsByPersistenceIdQuery {
    private final RowReadJournal journal;

    Scaladsl(RowReadJournal journal) {
      this.journal = journal;
    }

    @Override
    public akka.stream.scaladsl.Source<EventEnvelope, NotUsed> currentEventsByPersistenceId(String persistenceId, long from, long to) {
      return journal.currentEventsByPersistenceId(persistenceId, from, to).asScala();
    }
  }

  @Override
  public Source<EventEnvelope, NotUsed> currentEventsByPersistenceId(String persistenceId, long fromSequenceNr, long toSequenceNr) {
    // The cursor only reads rows; checking and deserializing them, most of a read's cost, runs on the dispatcher in batches,
    // DECODERS at a time, and mapAsync keeps their order.
    return Source.unfoldResource(() -> new Cursor(persistenceId, fromSequenceNr, toSequenceNr), Cursor::next, Cursor::close)
        .grouped(BATCH)
        .mapAsync(DECODERS, rows -> java.util.concurrent.CompletableFuture.supplyAsync(() -> decode(persistenceId, rows), executor))
        .mapConcat(envelopes -> envelopes);
  }

  private static final String SELECT = "SELECT \"ordering\", \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\", \"event_payload\","
      + " \"meta_payload\", \"meta_ser_manifest\", \"write_timestamp\" FROM \"event_journal\" WHERE \"persistence_id\" = ?"
      + " AND \"sequence_number\" BETWEEN ? AND ? AND \"deleted\" = FALSE ORDER BY \"sequence_number\"";

  /** One query's rows, read as the stream pulls them. */
  private final class Cursor {
    private final String persistenceId;
    private final Connection c;
    private final PreparedStatement st;
    private final ResultSet rs;

    Cursor(String persistenceId, long from, long to) throws SQLException {
      this.persistenceId = persistenceId;
      Connection pooled = idle.poll();
      this.c = pooled != null ? pooled : db.connect();
      try {
        c.setAutoCommit(false); // PostgreSQL fetches FETCH rows at a time only inside a transaction
        st = c.prepareStatement(SELECT);
        st.setFetchSize(FETCH);
        st.setString(1, persistenceId);
        st.setLong(2, from);
        st.setLong(3, to);
        rs = st.executeQuery();
      } catch (SQLException | RuntimeException e) {
        c.close();
        throw e;
      }
    }

    Optional<Row> next() throws SQLException {
      if (!rs.next()) return Optional.empty();
      return Optional.of(new Row(rs.getLong(1), rs.getLong(2), rs.getInt(3), rs.getString(4), rs.getBytes(5), rs.getBytes(6), rs.getString(7),
          rs.getLong(8)));
    }

    void close() throws SQLException {
      try {
        rs.close();
        st.close();
        c.rollback(); // read only: nothing to keep
        idle.add(c);
      } catch (SQLException e) {
        c.close();
        throw e;
      }
    }
  }

  /** One row as the cursor read it. */
  private record Row(long ordering, long seq, int serializer, String manifest, byte[] payload, byte[] crc, String crcManifest, long written) {}

  /** The envelopes of {@code rows}: each checked against its checksum and deserialized (a row that is neither carries {@link Unreadable}). */
  private List<EventEnvelope> decode(String persistenceId, List<Row> rows) {
    List<EventEnvelope> out = new java.util.ArrayList<>(rows.size());
    for (Row r : rows) {
      boolean intact = Rows.CHECKSUM_MANIFEST.equals(r.crcManifest())
          && Arrays.equals(r.crc(), Rows.checksum(persistenceId, r.seq(), r.serializer(), r.manifest(), r.payload()));
      Object event;
      if (!intact) {
        event = new Unreadable(r.manifest(), "its checksum does not match its contents");
      } else {
        try {
          event = serialization.deserialize(r.payload(), r.serializer(), r.manifest()).get();
        } catch (Exception e) {
          event = new Unreadable(r.manifest(), String.valueOf(e.getMessage()));
        }
      }
      out.add(new EventEnvelope(Offset.sequence(r.ordering()), persistenceId, r.seq(), event, r.written(),
          scala.Option.apply(new RowCheck(intact, r.manifest()))));
    }
    return out;
  }

  private void closeAll() {
    for (Connection c; (c = idle.poll()) != null; ) {
      try {
        c.close();
      } catch (SQLException e) {
        // closing regardless
      }
    }
  }
}
