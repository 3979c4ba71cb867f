package dmasim.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import dmasim.actors.iommu.IommuSettings;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.journal.JournalWriter;
import dmasim.scenarios.journal.Recordings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * (d) The embedded journal against the database it writes, in one run: a journaled run of
 * nvme-iova (2 CPU queues x 100 requests x 4 segments, lazy; one row per step) against the same
 * run volatile; the journal's persist path (serialize, checksum, batch insert) against a raw JDBC
 * batch insert of the same rows (payloads already serialized) into the same database; and the
 * journal's read (checks and deserialization included) against a raw JDBC select of those rows.
 */
@State(Scope.Benchmark)
public class JournalBenchmark {
  /** Steps (rows) handled in an iteration, reported per second by JMH. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Rows {
    public long rows;

    @Setup(Level.Iteration)
    public void reset() {
      rows = 0;
    }
  }

  /** A captured journal row. */
  record Row(String actor, long seq, int serId, String manifest, byte[] payload, byte[] meta, Object event) {}

  Path dir;
  Journal journal;
  ActorSystem<Void> system;
  Runner runner;
  Scenario nvme;
  RunOptions options;
  Recordings.Stored stored;
  List<Row> rows = new ArrayList<>();
  Connection raw;
  long instance;

  @Setup(Level.Trial)
  public void start() throws Exception {
    dir = Files.createTempDirectory("dmasim-bench-journal");
    journal = Journal.h2(dir);
    system = ActorSystem.create(Behaviors.empty(), "bench-journal", journal.config());
    journal.prepare(system);
    runner = new Runner(system);
    nvme = Catalog.find("nvme-iova").orElseThrow();
    options = RunOptions.defaults(1).withMode(IommuSettings.Mode.LAZY).withRequests(100);
    String runId = keep("captured");
    stored = journal.lookup(runId);
    Serialization ser = SerializationExtension.get(system);
    raw = DriverManager.getConnection(journal.url(), "sa", "");
    try (PreparedStatement st = raw.prepareStatement(SELECT)) {
      st.setString(1, stored.recordingId() + "|%");
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          String pid = rs.getString(1);
          rows.add(new Row(pid.substring(pid.indexOf('|') + 1), rs.getLong(2), rs.getInt(3), rs.getString(4), rs.getBytes(5), rs.getBytes(6),
              ser.deserialize(rs.getBytes(5), rs.getInt(3), rs.getString(4)).get()));
        }
      }
    }
    raw.setAutoCommit(false);
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
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private String keep(String tag) {
    String runId = "bench-" + tag + "-" + instance++;
    journal.keep(Runner.plan(nvme, options, runId), journalId -> runner.run(nvme, options, runId, journalId));
    return runId;
  }

  @Benchmark
  public long runJournaled(Rows counter) {
    String runId = "bench-run-" + instance++;
    RunReport r = journal.keep(Runner.plan(nvme, options, runId), journalId -> runner.run(nvme, options, runId, journalId));
    counter.rows += r.outcome().steps();
    return r.outcome().steps();
  }

  /** (g) The same run on the live wire (4 threads, no real delays), journaled on H2: rows persisted per second, durable at the end. */
  @Benchmark
  public long liveJournaled(Rows counter) {
    String runId = "bench-live-" + instance++;
    RunReport r = journal.keep(dmasim.scenarios.RunRecord.planned(runId, Catalog.ref(nvme), options, dmasim.chaos.StrategySpec.live(4), 0, 0, null,
        0), journalId -> runner.runLive(nvme, options, runId, new Runner.Live(4, 0), journalId, null).report());
    counter.rows += r.outcome().steps();
    return r.outcome().steps();
  }

  /** (f) The same run on the live wire, volatile: steps per second of real threads racing. */
  @Benchmark
  public long liveVolatile(Rows counter) {
    RunReport r = runner.runLive(nvme, options, "bench-live-volatile", new Runner.Live(4, 0), null, null).report();
    counter.rows += r.outcome().steps();
    return r.outcome().steps();
  }

  @Benchmark
  public long runVolatile(Rows counter) {
    RunReport r = runner.run(nvme, options, "bench-volatile", new dmasim.chaos.StrategySpec("random", 0), Runner.scheduleSeed(1, 0), 0, null,
        null, null);
    counter.rows += r.outcome().steps();
    return r.outcome().steps();
  }

  /** The journal's persist path for the captured steps: queued, serialized, checksummed, inserted in batches, durable. */
  @Benchmark
  public long persist(Rows counter) {
    String prefix = "bench-persist-" + instance++ + "|";
    JournalWriter writer = JournalWriter.get(system);
    for (Row r : rows) writer.append(prefix + r.actor(), r.seq(), r.event());
    writer.flush();
    counter.rows += rows.size();
    return rows.size();
  }

  /** A raw JDBC batch insert of the same rows (payload and checksum bytes given) into the same database, committed every 8192 rows. */
  @Benchmark
  public long rawInsert(Rows counter) throws Exception {
    String prefix = "bench-raw-" + instance++ + "|";
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
        if (++n % 8192 == 0) {
          st.executeBatch();
          raw.commit();
        }
      }
      st.executeBatch();
      raw.commit();
    }
    counter.rows += rows.size();
    return rows.size();
  }

  /** The journal's read of the captured recording: every row checked (sequence, checksum, registry counts) and deserialized. */
  @Benchmark
  public long read(Rows counter) {
    int n = journal.read(system, stored).size();
    counter.rows += n;
    return n;
  }

  /** A raw JDBC select of the same rows, every column read. */
  @Benchmark
  public long rawSelect(Rows counter) throws Exception {
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
    counter.rows += n;
    return n + (bytes & 1);
  }
}
