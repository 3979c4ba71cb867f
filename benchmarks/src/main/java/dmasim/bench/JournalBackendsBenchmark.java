package dmasim.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import dmasim.actors.iommu.IommuSettings;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.journal.JournalWriter;
import dmasim.scenarios.journal.Recordings;
import dmasim.scenarios.journal.Rows;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * (i) The journal backends against their own databases, in one JMH run: a kept run of about 10^5
 * steps (nvme-iova, 2 CPU queues x 1,500 requests x 4 segments, lazy: one row per step), on H2 and
 * on PostgreSQL ({@code backend}). {@code persist}: the journal's write path for those rows (queue,
 * serialize, CRC32C, batched insert, durable) beside {@code rawInsert}, a raw JDBC batch insert of
 * the same rows (the same payload bytes, already serialized) into the same database; {@code read}:
 * the run reader (Persistence Query, every row checked and deserialized) beside {@code rawSelect}, a
 * raw JDBC select of the same rows; {@code readDirect}: the reader's per-row work without Akka
 * Streams (one SQL select of the recording, checksum, deserialization, the steps in step order), as
 * the reader did it before it went through Persistence Query. Rows inserted by an invocation are deleted after it (not timed),
 * so every invocation meets a database of the same size. PostgreSQL: {@code DMASIM_BENCH_POSTGRES_URL}
 * (BenchMain runs the postgres cases only when it is set).
 */
@State(Scope.Benchmark)
public class JournalBackendsBenchmark {
  /** Rows handled in an iteration, reported per second by JMH. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Counter {
    public long rows;

    @Setup(Level.Iteration)
    public void reset() {
      rows = 0;
    }
  }

  /** A captured journal row. */
  record Row(String actor, long seq, int serId, String manifest, byte[] payload, byte[] meta, Object event) {}

  @Param({"h2", "postgres"})
  public String backend;

  Path dir;
  String schema;
  String baseUrl;
  Journal journal;
  ActorSystem<Void> system;
  Recordings.Stored stored;
  List<Row> rows = new ArrayList<>();
  Connection raw;
  Serialization serialization;
  String inserted;
  long instance;

  @Setup(Level.Trial)
  public void start() throws Exception {
    if (backend.equals("h2")) {
      dir = Files.createTempDirectory("dmasim-bench-backends");
      journal = Journal.h2(dir);
    } else {
      baseUrl = System.getenv("DMASIM_BENCH_POSTGRES_URL");
      if (baseUrl == null || baseUrl.isBlank()) throw new IllegalStateException("set DMASIM_BENCH_POSTGRES_URL for the postgres cases");
      schema = "bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
      try (Connection c = java.sql.DriverManager.getConnection(baseUrl)) {
        c.createStatement().execute("CREATE SCHEMA \"" + schema + "\"");
      }
      journal = Journal.postgres(baseUrl + (baseUrl.contains("?") ? "&" : "?") + "currentSchema=" + schema, "", "");
    }
    journal.open();
    system = ActorSystem.create(Behaviors.empty(), "bench-backends", journal.config());
    journal.prepare(system);
    serialization = SerializationExtension.get(system);
    Runner runner = new Runner(system);
    Scenario nvme = Catalog.find("nvme-iova").orElseThrow();
    RunOptions options = RunOptions.defaults(1).withMode(IommuSettings.Mode.LAZY).withRequests(1500);
    String runId = "bench-captured";
    journal.keep(Runner.plan(nvme, options, runId), journalId -> runner.run(nvme, options, runId, journalId));
    stored = journal.lookup(runId);
    raw = journal.database().connect();
    raw.setAutoCommit(false);
    try (PreparedStatement st = raw.prepareStatement(SELECT)) {
      st.setString(1, stored.recordingId() + "|%");
      st.setFetchSize(10_000);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          String pid = rs.getString(1);
          rows.add(new Row(pid.substring(pid.indexOf('|') + 1), rs.getLong(2), rs.getInt(3), rs.getString(4), rs.getBytes(5), rs.getBytes(6),
              serialization.deserialize(rs.getBytes(5), rs.getInt(3), rs.getString(4)).get()));
        }
      }
    }
    raw.commit();
    System.out.printf("%n%s: captured run of %,d rows%n", backend, rows.size());
  }

  static final String SELECT = "SELECT \"persistence_id\", \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\", \"event_payload\","
      + " \"meta_payload\", \"meta_ser_manifest\" FROM \"event_journal\" WHERE \"persistence_id\" LIKE ? ORDER BY \"persistence_id\","
      + " \"sequence_number\"";

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    raw.close();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get();
    JournalWriter.get(system).close();
    journal.close();
    if (dir != null) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    if (schema != null) {
      try (Connection c = java.sql.DriverManager.getConnection(baseUrl)) {
        c.createStatement().execute("DROP SCHEMA \"" + schema + "\" CASCADE");
      }
    }
  }

  /** Deletes what the last invocation inserted (not timed). */
  @TearDown(Level.Invocation)
  public void deleteInserted() throws Exception {
    if (inserted == null) return;
    try (PreparedStatement st = raw.prepareStatement("DELETE FROM \"event_journal\" WHERE \"persistence_id\" LIKE ?")) {
      st.setString(1, inserted + "%");
      st.executeUpdate();
    }
    raw.commit();
    inserted = null;
  }

  /** The journal's persist path for the captured rows: queued, serialized, checksummed, inserted in batches, durable. */
  @Benchmark
  public long persist(Counter counter) {
    String prefix = "bench-persist-" + instance++ + "|";
    inserted = prefix;
    JournalWriter writer = JournalWriter.get(system);
    for (Row r : rows) writer.append(prefix + r.actor(), r.seq(), r.event());
    writer.flush();
    counter.rows += rows.size();
    return rows.size();
  }

  /** A raw JDBC batch insert of the same rows (payload and checksum bytes given), same database, the writer's batch size and commit size. */
  @Benchmark
  public long rawInsert(Counter counter) throws Exception {
    String prefix = "bench-raw-" + instance++ + "|";
    inserted = prefix;
    try (PreparedStatement st = raw.prepareStatement("INSERT INTO \"event_journal\" (\"deleted\", \"persistence_id\", \"sequence_number\","
        + " \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\", \"meta_payload\","
        + " \"meta_ser_id\", \"meta_ser_manifest\") VALUES (FALSE, ?, ?, '', 0, '', ?, ?, ?, ?, 0, 'dmasim-crc32c')")) {
      int n = 0;
      for (Row r : rows) {
        st.setString(1, prefix + r.actor());
        st.setLong(2, r.seq());
        st.setBytes(3, r.payload());
        st.setInt(4, r.serId());
        st.setString(5, r.manifest());
        st.setBytes(6, r.meta());
        st.addBatch();
        if (++n % 2048 == 0) st.executeBatch();
        if (n % 8192 == 0) raw.commit();
      }
      st.executeBatch();
      raw.commit();
    }
    counter.rows += rows.size();
    return rows.size();
  }

  /** The run reader: Persistence Query per actor, every row checked (sequence, checksum, registry counts, steps) and deserialized. */
  @Benchmark
  public long read(Counter counter) {
    int n = journal.read(system, stored).size();
    counter.rows += n;
    return n;
  }

  /** The reader's per-row work without Persistence Query: one select of the recording, checksum, deserialization, steps in order. */
  @Benchmark
  public long readDirect(Counter counter) throws Exception {
    long n = 0;
    java.util.TreeMap<Long, dmasim.scenarios.RecordedStep> steps = new java.util.TreeMap<>();
    try (PreparedStatement st = raw.prepareStatement(SELECT)) {
      st.setString(1, stored.recordingId() + "|%");
      st.setFetchSize(10_000);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          String pid = rs.getString(1);
          byte[] payload = rs.getBytes(5);
          if (!Rows.CHECKSUM_MANIFEST.equals(rs.getString(7))
              || !Arrays.equals(rs.getBytes(6), Rows.checksum(pid, rs.getLong(2), rs.getInt(3), rs.getString(4), payload))) {
            throw new IllegalStateException("damaged row " + pid);
          }
          dmasim.protocol.JournalEvent.EnvelopeHandled h =
              (dmasim.protocol.JournalEvent.EnvelopeHandled) serialization.deserialize(payload, rs.getInt(3), rs.getString(4)).get();
          String actor = pid.substring(pid.indexOf('|') + 1);
          if (steps.put(h.step(), new dmasim.scenarios.RecordedStep(h.step(), actor, h.id(), h.at(), h.cause(), h.type(), h.events())) != null) {
            throw new IllegalStateException("step twice");
          }
          n++;
        }
      }
    }
    raw.commit();
    counter.rows += n;
    return n;
  }

  /** A raw JDBC select of the same rows, every column read. */
  @Benchmark
  public long rawSelect(Counter counter) throws Exception {
    long n = 0;
    long bytes = 0;
    try (PreparedStatement st = raw.prepareStatement(SELECT)) {
      st.setString(1, stored.recordingId() + "|%");
      st.setFetchSize(10_000);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          bytes += rs.getString(1).length() + rs.getLong(2) + rs.getInt(3) + rs.getString(4).length() + rs.getBytes(5).length
              + rs.getBytes(6).length + rs.getString(7).length();
          n++;
        }
      }
    }
    raw.commit();
    counter.rows += n;
    return n + (bytes & 1);
  }
}
