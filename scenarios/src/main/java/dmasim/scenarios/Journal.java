package dmasim.scenarios;

import akka.actor.typed.ActorSystem;
import akka.persistence.jdbc.testkit.javadsl.SchemaUtils;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where runs are journaled: "memory" (Akka's in-memory journal, for tests and fast exploration)
 * or "h2" (akka-persistence-jdbc 5.1.0 on an embedded H2 file: crash-safe with WRITE_DELAY=0 and
 * with the replay batch sizes that keep replay linear, set in its journal configuration).
 */
public record Journal(String kind, Path dir) {
  public Journal {
    if (!kind.equals("memory") && !kind.equals("h2")) throw new UserError("unknown journal '" + kind + "' (use h2 or memory)");
  }

  public static Journal memory() {
    return new Journal("memory", null);
  }

  public static Journal h2(Path dir) {
    return new Journal("h2", dir.toAbsolutePath().normalize());
  }

  public String url() {
    return "jdbc:h2:file:" + dir.resolve("journal") + ";WRITE_DELAY=0";
  }

  /** The Akka configuration for this journal, over the application's configuration. */
  public Config config() {
    Config base = ConfigFactory.load();
    if (kind.equals("memory")) {
      return ConfigFactory.parseString("""
          akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
          akka.persistence.journal.inmem.test-serialization = off
          akka.persistence.snapshot-store.plugin = "akka.persistence.no-snapshot-store"
          """).withFallback(base);
    }
    return ConfigFactory.parseString("""
        akka.persistence.journal.plugin = "jdbc-journal"
        akka.persistence.snapshot-store.plugin = "jdbc-snapshot-store"
        akka-persistence-jdbc.shared-databases.slick {
          profile = "slick.jdbc.H2Profile$"
          db {
            user = "sa"
            password = ""
            driver = "org.h2.Driver"
            numThreads = 2
            maxConnections = 2
            minConnections = 1
            connectionTimeout = 10000
          }
        }
        jdbc-journal { use-shared-db = "slick", replayBatchSize = 10000 }
        jdbc-snapshot-store { use-shared-db = "slick" }
        jdbc-read-journal { use-shared-db = "slick", max-buffer-size = 10000 }
        """).withValue("akka-persistence-jdbc.shared-databases.slick.db.url", ConfigValueFactory.fromAnyRef(url())).withFallback(base);
  }

  /** Creates the schema when missing and checks it is there (SchemaUtils swallows DDL errors). */
  public void prepare(ActorSystem<?> system) {
    if (kind.equals("memory")) return;
    try {
      Files.createDirectories(dir);
      SchemaUtils.createIfNotExists(system).toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new InfrastructureError("cannot create the journal schema in " + dir + ": " + e.getMessage(), e);
    }
    try (Connection c = connect(); ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM \"event_journal\"")) {
      rs.next();
      c.createStatement().execute(REGISTRY_DDL);
    } catch (SQLException e) {
      throw new InfrastructureError("the journal in " + dir + " has no event_journal table after schema creation: " + e.getMessage(), e);
    }
  }

  /** Removes an earlier recording of {@code runId} (a run id is a function of its inputs, so it is recorded anew). */
  public void forget(String runId) {
    if (kind.equals("memory")) return;
    try (Connection c = connect(); PreparedStatement st = c.prepareStatement("DELETE FROM \"event_journal\" WHERE \"persistence_id\" LIKE ?")) {
      st.setString(1, runId + "|%");
      st.executeUpdate();
    } catch (SQLException e) {
      throw new InfrastructureError("cannot clear run " + runId + " from the journal in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Every journaled event of {@code runId} as "persistenceId seq manifest sha256(payload)", in key order. */
  public List<String> dump(String runId) {
    List<String> rows = new ArrayList<>();
    String sql = "SELECT \"persistence_id\", \"sequence_number\", \"event_ser_manifest\", \"event_payload\" FROM \"event_journal\""
        + " WHERE \"persistence_id\" LIKE ? ORDER BY \"persistence_id\", \"sequence_number\"";
    try (Connection c = connect(); PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, runId + "|%");
      try (ResultSet rs = st.executeQuery()) {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        while (rs.next()) {
          rows.add(rs.getString(1) + " " + rs.getLong(2) + " " + rs.getString(3) + " " + HexFormat.of().formatHex(sha.digest(rs.getBytes(4))));
        }
      }
    } catch (SQLException | NoSuchAlgorithmException e) {
      throw new InfrastructureError("cannot read run " + runId + " from the journal in " + dir + ": " + e.getMessage(), e);
    }
    return rows;
  }

  // ---- the run registry (a table beside the journal) ------------------------------------------

  private static final String REGISTRY_DDL = "CREATE TABLE IF NOT EXISTS \"dmasim_runs\" (\"run_id\" VARCHAR(255) PRIMARY KEY,"
      + " \"scenario\" VARCHAR NOT NULL, \"seed\" BIGINT NOT NULL, \"mode\" VARCHAR NOT NULL, \"cpus\" INT NOT NULL,"
      + " \"requests\" BIGINT NOT NULL, \"segments\" INT NOT NULL, \"max_steps\" BIGINT NOT NULL, \"strategy\" VARCHAR NOT NULL,"
      + " \"schedule_seed\" BIGINT NOT NULL, \"expected_steps\" BIGINT NOT NULL, \"verdict\" VARCHAR NOT NULL, \"monitor\" VARCHAR,"
      + " \"steps\" BIGINT NOT NULL, \"non_fifo\" BIGINT NOT NULL, \"parent_run\" VARCHAR, \"prefix\" BIGINT NOT NULL,"
      + " \"version\" VARCHAR NOT NULL)";
  /**
   * The model version a run was recorded with (a replay under another version may diverge). Raise
   * it whenever events change shape or meaning: 0.2.0 added the dma-direct path, link attributes,
   * descriptor sources and the sealed invalidation continuations.
   */
  public static final String VERSION = "dmasim-0.2.0";

  /** Records (or re-records) a kept run. Memory journals keep no registry. */
  public void register(RunRecord r) {
    if (kind.equals("memory")) return;
    String sql = "MERGE INTO \"dmasim_runs\" KEY(\"run_id\") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    try (Connection c = connect(); PreparedStatement st = c.prepareStatement(sql)) {
      RunOptions o = r.options();
      Object[] values = {r.runId(), r.scenario(), o.seed(), RunRecord.modeName(o.mode()), o.cpus(), o.requests(), o.segments(), o.maxSteps(),
          r.strategy(), r.scheduleSeed(), r.expectedSteps(), r.verdict(), r.monitor(), r.steps(), r.nonFifoChoices(), r.parentRun(), r.prefix(),
          VERSION};
      for (int i = 0; i < values.length; i++) st.setObject(i + 1, values[i]);
      st.executeUpdate();
    } catch (SQLException e) {
      throw new InfrastructureError("cannot register run " + r.runId() + " in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The model version {@code runId} was registered with, or null when it is not registered. */
  private static String versionOf(Connection c, String runId) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT \"version\" FROM \"dmasim_runs\" WHERE \"run_id\" = ?")) {
      st.setString(1, runId);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  /** The registered run, or a user error naming what is known. */
  public RunRecord lookup(String runId) {
    if (kind.equals("memory")) throw new UserError("runs are kept only in the embedded journal (--journal h2)");
    try (Connection c = connect()) {
      try (PreparedStatement st = c.prepareStatement("SELECT * FROM \"dmasim_runs\" WHERE \"run_id\" = ?")) {
        st.setString(1, runId);
        try (ResultSet rs = st.executeQuery()) {
          if (!rs.next()) throw new UserError("no run '" + runId + "' in " + dir + " (see the run ids printed by run and explore)");
          RunOptions o = new RunOptions(rs.getLong("seed"), RunRecord.mode(rs.getString("mode")), rs.getInt("cpus"), rs.getLong("requests"),
              rs.getInt("segments"), rs.getLong("max_steps"));
          return new RunRecord(runId, rs.getString("scenario"), o, rs.getString("strategy"), rs.getLong("schedule_seed"),
              rs.getLong("expected_steps"), rs.getString("verdict"), rs.getString("monitor"), rs.getLong("steps"), rs.getLong("non_fifo"),
              rs.getString("parent_run"), rs.getLong("prefix"));
        }
      }
    } catch (SQLException e) {
      throw new InfrastructureError("cannot read the run registry in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Every step of {@code runId} as the actors journaled them, in step order. Events are deserialized
   * with the system's configured serializer; an unreadable row is reported, never skipped.
   */
  public List<RecordedStep> read(akka.actor.typed.ActorSystem<?> system, String runId) {
    akka.serialization.Serialization serialization = akka.serialization.SerializationExtension.get(system);
    java.util.TreeMap<Long, RecordedStep> steps = new java.util.TreeMap<>();
    String sql = "SELECT \"persistence_id\", \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\", \"event_payload\""
        + " FROM \"event_journal\" WHERE \"persistence_id\" LIKE ? ORDER BY \"persistence_id\", \"sequence_number\"";
    try (Connection c = connect(); PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, runId + "|%");
      try (ResultSet rs = st.executeQuery()) {
        String actor = null;
        dmasim.protocol.JournalEvent.EnvelopeHandled head = null;
        List<dmasim.protocol.Event> events = new ArrayList<>();
        while (rs.next()) {
          String pid = rs.getString(1);
          Object event;
          try {
            event = serialization.deserialize(rs.getBytes(5), rs.getInt(3), rs.getString(4)).get();
          } catch (Exception e) {
            String recordedBy = versionOf(c, runId);
            if (recordedBy != null && !recordedBy.equals(VERSION)) {
              throw new RecordedByAnotherModel("run " + runId + " was recorded by " + recordedBy + " and this is " + VERSION + ": journal row " + pid
                  + " #" + rs.getLong(2) + " (" + rs.getString(4).substring(rs.getString(4).lastIndexOf('.') + 1) + ") is not an event of this"
                  + " model, so the run diverges from its record before it can be replayed; run its command again to record it with this model", e);
            }
            throw new InfrastructureError("journal row " + pid + " #" + rs.getLong(2) + " cannot be read (" + rs.getString(4) + "): "
                + e.getMessage(), e);
          }
          if (event instanceof dmasim.protocol.JournalEvent.EnvelopeHandled h) {
            if (head != null) steps.put(head.step(), new RecordedStep(head.step(), actor, head.id(), head.at(), head.cause(), head.type(), events));
            head = h;
            actor = pid.substring(pid.indexOf('|') + 1);
            events = new ArrayList<>();
          } else if (event instanceof dmasim.protocol.Event e && head != null && pid.endsWith("|" + actor)) {
            events.add(e);
          } else {
            throw new InfrastructureError("journal row " + pid + " #" + rs.getLong(2) + " is not preceded by its EnvelopeHandled record", null);
          }
        }
        if (head != null) steps.put(head.step(), new RecordedStep(head.step(), actor, head.id(), head.at(), head.cause(), head.type(), events));
      }
    } catch (SQLException e) {
      throw new InfrastructureError("cannot read run " + runId + " from the journal in " + dir + ": " + e.getMessage(), e);
    }
    return new ArrayList<>(steps.values());
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(url(), "sa", "");
  }
}
