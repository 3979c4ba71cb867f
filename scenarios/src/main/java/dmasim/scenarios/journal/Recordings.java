package dmasim.scenarios.journal;

import akka.actor.typed.ActorSystem;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import dmasim.protocol.JournalEvent;
import dmasim.scenarios.InfrastructureError;
import dmasim.scenarios.RecordedByAnotherModel;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunRecord;
import dmasim.scenarios.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The run registry beside the journal: one row per recording of a run (what it ran, when it
 * started and finished, its state, how far it came), and the reading of a recording's journal
 * rows with the checks that tell damage from divergence.
 *
 * <p>States: {@code recording} (being written, or its process died), {@code failed} (stopped by
 * an error or a signal; the reason says which), {@code complete} (the run's kept recording; only
 * the newest complete recording of a run is kept).
 */
public final class Recordings {
  private final Connection c;
  /** The database, for messages (null: a bare connection, for tools and tests). */
  private final Database db;
  /** The data directory of an H2 journal (journal.kept lives there); null for PostgreSQL. */
  private final Path dir;
  private String current;

  /** The registry of the H2 journal in {@code dir} (null: a bare connection). */
  public Recordings(Connection c, Path dir) {
    this(c, dir == null ? null : Database.h2(dir, ""));
  }

  /** The registry of the journal in {@code db} (null: a bare connection). */
  public Recordings(Connection c, Database db) {
    this.c = c;
    this.db = db;
    this.dir = db == null ? null : db.dir();
  }

  /** One line naming the cause of {@code e}. */
  private String why(SQLException e) {
    return db == null ? JournalFailure.firstLine(e) : db.describe(e);
  }

  /** Where the journal is, for messages: its data directory, or the PostgreSQL server. */
  private String where() {
    return db == null ? "the journal" : db.where();
  }

  /** A recording as the registry holds it. {@code note} says what a reader should know (a later incomplete recording). */
  public record Stored(String recordingId, RunRecord record, String state, long recordedStep, Map<String, Long> actorRows, String version,
      String started, String finished, String reason, String note) {
    public boolean complete() {
      return state.equals("complete");
    }

    /** "complete", or "incomplete: recorded to step N (reason)". */
    public String status() {
      if (complete()) return "complete";
      return "incomplete: recorded to step " + recordedStep + " (" + why() + ")";
    }

    /** Why an incomplete recording stopped. */
    public String why() {
      return reason != null ? reason : state.equals("recording") ? "its process stopped before it finished" : state;
    }
  }

  /** What {@link #gc()} removed. */
  public record Removed(int recordings, long rows) {}

  private static final String DDL = "CREATE TABLE IF NOT EXISTS \"dmasim_recordings\" (\"recording_id\" VARCHAR(255) PRIMARY KEY,"
      + " \"run_id\" VARCHAR(255) NOT NULL, \"state\" VARCHAR NOT NULL, \"started\" TIMESTAMP WITH TIME ZONE NOT NULL,"
      + " \"finished\" TIMESTAMP WITH TIME ZONE, \"reason\" VARCHAR, \"scenario\" VARCHAR NOT NULL, \"seed\" BIGINT NOT NULL,"
      + " \"mode\" VARCHAR NOT NULL, \"cpus\" INT NOT NULL, \"requests\" BIGINT NOT NULL, \"segments\" INT NOT NULL,"
      + " \"max_steps\" BIGINT NOT NULL, \"strategy\" VARCHAR NOT NULL, \"schedule_seed\" BIGINT NOT NULL, \"expected_steps\" BIGINT NOT NULL,"
      + " \"verdict\" VARCHAR NOT NULL, \"monitor\" VARCHAR, \"steps\" BIGINT NOT NULL, \"non_fifo\" BIGINT NOT NULL, \"parent_run\" VARCHAR,"
      + " \"prefix\" BIGINT NOT NULL, \"version\" VARCHAR NOT NULL, \"recorded_step\" BIGINT DEFAULT 0 NOT NULL,"
      + " \"actor_rows\" VARCHAR DEFAULT '' NOT NULL)";

  /**
   * The kept recordings beside the database, in {@code journal.kept} (one line each: recording id,
   * run id, steps), rewritten after each change. H2 opens a truncated file at the last state it
   * can read, without a word; this list is how a kept run that vanished that way is noticed.
   */
  private static Path keptFile(Path dir) {
    return dir.resolve("journal.kept");
  }

  /** The recording number of RUN~N. */
  private static long number(String recording) {
    return Long.parseLong(recording.substring(recording.lastIndexOf('~') + 1));
  }

  /** Removes journal.kept: the database file is new, so the list would describe another one. */
  public void forgetKept() {
    if (dir == null) return;
    try {
      Files.deleteIfExists(keptFile(dir));
    } catch (IOException e) {
      throw new JournalFailure("cannot remove " + keptFile(dir) + ": " + e.getMessage());
    }
  }

  /**
   * Fails when a recording journal.kept lists is gone from the database and no later complete
   * recording of its run replaced it (a replacement is committed before the list is rewritten).
   */
  public void verifyKept() {
    if (dir == null) return;
    Path kept = keptFile(dir);
    try {
      if (!Files.exists(kept)) return;
      Map<String, Long> newest = new java.util.HashMap<>();
      java.util.Set<String> present = new java.util.HashSet<>();
      if (dmasim.scenarios.Journal.tableExists(c, "dmasim_recordings")) try (ResultSet rs = c.createStatement().executeQuery(
          "SELECT \"recording_id\", \"run_id\" FROM \"dmasim_recordings\" WHERE \"state\" = 'complete'")) {
        while (rs.next()) {
          present.add(rs.getString(1));
          newest.merge(rs.getString(2), number(rs.getString(1)), Math::max);
        }
      }
      List<String[]> missing = new ArrayList<>();
      for (String[] f : keptLines(dir)) {
        if (present.contains(f[0]) || newest.getOrDefault(f[1], -1L) > number(f[0])) continue;
        missing.add(f);
      }
      if (!missing.isEmpty()) {
        String[] last = missing.get(missing.size() - 1);
        throw new JournalFailure("the journal " + dir.resolve("journal.mv.db") + " is damaged: " + missing.size() + " kept run(s) it held are gone,"
            + " the last kept being run " + last[1] + " (" + last[2] + " steps); the file was truncated or rolled back to an older state."
            + " Move " + dir + " away to start a new journal");
      }
    } catch (SQLException e) {
      throw new JournalFailure(why(e) + heldBefore(dir));
    }
  }

  /** The lines of journal.kept (recording id, run id, steps), or a failure naming the file. */
  private static List<String[]> keptLines(Path dir) {
    Path kept = keptFile(dir);
    List<String[]> out = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(kept)) {
        String[] f = line.split("\t");
        if (f.length != 3 || !f[0].contains("~") || !f[2].matches("\\d+")) throw new IOException("a line that is not 'recording run steps': " + line);
        number(f[0]);
        out.add(f);
      }
    } catch (IOException | RuntimeException e) {
      throw new JournalFailure("cannot read " + kept + ", the list of kept runs beside the journal (" + e.getClass().getSimpleName() + ": "
          + e.getMessage() + "); restore it, or remove it if the journal file is known to be whole");
    }
    return out;
  }

  /** Rewrites journal.kept from the registry (atomically: a new file renamed over the old). */
  private void writeKept() throws SQLException, IOException {
    if (dir == null) return; // PostgreSQL: a server does not roll a database back to an older state unnoticed
    StringBuilder b = new StringBuilder();
    try (ResultSet rs = c.createStatement().executeQuery("SELECT \"recording_id\", \"run_id\", \"steps\" FROM \"dmasim_recordings\""
        + " WHERE \"state\" = 'complete' ORDER BY \"started\", \"recording_id\"")) {
      while (rs.next()) b.append(rs.getString(1)).append('\t').append(rs.getString(2)).append('\t').append(rs.getLong(3)).append('\n');
    }
    Path kept = keptFile(dir);
    Path tmp = dir.resolve("journal.kept.tmp");
    Files.writeString(tmp, b.toString());
    Files.move(tmp, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** " (it held N kept runs, the last kept being run R)" from journal.kept, or "" when there is no list. */
  public static String heldBefore(Path dir) {
    if (dir == null || !Files.exists(keptFile(dir))) return "";
    List<String[]> lines = keptLines(dir);
    if (lines.isEmpty()) return "";
    return " (it held " + lines.size() + " kept run(s), the last kept being run " + lines.get(lines.size() - 1)[1] + ")";
  }

  public void createIfMissing() throws SQLException {
    c.createStatement().execute(DDL);
    c.createStatement().execute("ALTER TABLE \"dmasim_recordings\" ADD COLUMN IF NOT EXISTS \"entry_crc\" VARCHAR");
    c.createStatement().execute("CREATE INDEX IF NOT EXISTS \"dmasim_recordings_run\" ON \"dmasim_recordings\" (\"run_id\")");
  }

  /**
   * Registers a new recording of {@code planned.runId()} in state "recording"; returns its id
   * (RUN~N, N one more than any recording of the run now registered), the prefix of its persistence ids.
   */
  public String begin(RunRecord planned, String version) {
    try {
      long n = 1;
      try (PreparedStatement st = c.prepareStatement("SELECT \"recording_id\" FROM \"dmasim_recordings\" WHERE \"run_id\" = ?")) {
        st.setString(1, planned.runId());
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) n = Math.max(n, number(rs.getString(1)) + 1);
        }
      }
      String id = planned.runId() + "~" + n;
      String sql = "INSERT INTO \"dmasim_recordings\" (\"recording_id\", \"run_id\", \"state\", \"started\", \"scenario\", \"seed\", \"mode\","
          + " \"cpus\", \"requests\", \"segments\", \"max_steps\", \"strategy\", \"schedule_seed\", \"expected_steps\", \"verdict\", \"steps\","
          + " \"non_fifo\", \"parent_run\", \"prefix\", \"version\") VALUES (?, ?, 'recording', CURRENT_TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
          + " 'incomplete', 0, 0, ?, ?, ?)";
      try (PreparedStatement st = c.prepareStatement(sql)) {
        RunOptions o = planned.options();
        Object[] values = {id, planned.runId(), planned.scenario(), o.seed(), RunRecord.modeName(o.mode()), o.cpus(), o.requests(),
            o.segments(), o.maxSteps(), planned.strategy(), planned.scheduleSeed(), planned.expectedSteps(), planned.parentRun(),
            planned.prefix(), version};
        for (int i = 0; i < values.length; i++) st.setObject(i + 1, values[i]);
        st.executeUpdate();
      }
      sealEntry(id, false);
      current = id;
      return id;
    } catch (SQLException e) {
      throw new JournalFailure(why(e));
    }
  }

  /** The recording being written now, or null. */
  public String current() {
    return current;
  }

  /** Marks a recording failed with {@code reason}; its rows stay, replayable up to its last step, until gc. */
  public void fail(String recording, String reason) {
    if (recording.equals(current)) current = null;
    try (PreparedStatement st = c.prepareStatement("UPDATE \"dmasim_recordings\" SET \"state\" = 'failed', \"finished\" = CURRENT_TIMESTAMP,"
        + " \"reason\" = ? WHERE \"recording_id\" = ? AND \"state\" = 'recording'")) {
      st.setString(1, reason == null ? "failed" : reason.length() > 500 ? reason.substring(0, 500) : reason);
      st.setString(2, recording);
      st.executeUpdate();
    } catch (SQLException e) {
      // the registry cannot be written (the database failed too): the recording stays "recording", which also reads as incomplete
    }
  }

  /** "recorded to step N" of a recording, as the registry has it. */
  public String progress(String recording) {
    try (PreparedStatement st = c.prepareStatement("SELECT \"recorded_step\" FROM \"dmasim_recordings\" WHERE \"recording_id\" = ?")) {
      st.setString(1, recording);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? "recorded to step " + rs.getLong(1) : "not registered";
      }
    } catch (SQLException e) {
      return "progress unknown (" + JournalFailure.firstLine(e) + ")";
    }
  }

  /**
   * Makes a durable recording the run's kept one, in one transaction: the recording becomes
   * complete with its result, and the run's earlier complete recording (and its rows) is deleted.
   */
  public void complete(String recording, RunRecord result) {
    if (recording.equals(current)) current = null;
    inTransaction(() -> {
      List<String> older = new ArrayList<>();
      try (PreparedStatement st = c.prepareStatement("SELECT \"recording_id\" FROM \"dmasim_recordings\" WHERE \"run_id\" = ?"
          + " AND \"state\" = 'complete' AND \"recording_id\" <> ?")) {
        st.setString(1, result.runId());
        st.setString(2, recording);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) older.add(rs.getString(1));
        }
      }
      try (PreparedStatement st = c.prepareStatement("UPDATE \"dmasim_recordings\" SET \"state\" = 'complete', \"finished\" = CURRENT_TIMESTAMP,"
          + " \"verdict\" = ?, \"monitor\" = ?, \"steps\" = ?, \"non_fifo\" = ? WHERE \"recording_id\" = ? AND \"state\" = 'recording'")) {
        st.setString(1, result.verdict());
        st.setString(2, result.monitor());
        st.setLong(3, result.steps());
        st.setLong(4, result.nonFifoChoices());
        st.setString(5, recording);
        if (st.executeUpdate() != 1) {
          throw new JournalFailure("recording " + recording + " was stopped before it could be kept (" + progress(recording) + ")");
        }
      }
      sealEntry(recording, true);
      for (String old : older) deleteRecording(old);
      deleteLegacy(result.runId());
      return null;
    });
    try {
      writeKept();
    } catch (IOException | SQLException e) {
      throw new JournalFailure("cannot write " + keptFile(dir) + ": " + e.getMessage());
    }
  }

  /** Work on the registry connection that commits whole or not at all. */
  private interface SqlWork<T> {
    T run() throws SQLException;
  }

  private <T> T inTransaction(SqlWork<T> work) {
    try {
      c.setAutoCommit(false);
      try {
        T result = work.run();
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new JournalFailure(why(e));
    }
  }

  private long deleteRecording(String recording) throws SQLException {
    long rows;
    try (PreparedStatement st = c.prepareStatement("DELETE FROM \"event_journal\" WHERE \"persistence_id\" LIKE ? ESCAPE '\\'")) {
      st.setString(1, likePrefix(recording));
      rows = st.executeUpdate();
    }
    try (PreparedStatement st = c.prepareStatement("DELETE FROM \"dmasim_recordings\" WHERE \"recording_id\" = ?")) {
      st.setString(1, recording);
      st.executeUpdate();
    }
    return rows;
  }

  /** Rows and registry entry of a run kept by dmasim 0.2 (journaled under the run id itself, registered in dmasim_runs). */
  private void deleteLegacy(String runId) throws SQLException {
    if (!legacyTable()) return;
    try (PreparedStatement st = c.prepareStatement("DELETE FROM \"event_journal\" WHERE \"persistence_id\" LIKE ? ESCAPE '\\'")) {
      st.setString(1, likePrefix(runId));
      st.executeUpdate();
    }
    try (PreparedStatement st = c.prepareStatement("DELETE FROM \"dmasim_runs\" WHERE \"run_id\" = ?")) {
      st.setString(1, runId);
      st.executeUpdate();
    }
  }

  private boolean legacyTable() throws SQLException {
    return dmasim.scenarios.Journal.tableExists(c, "dmasim_runs");
  }

  /** "RUN|%" with LIKE's wildcards in RUN escaped. */
  private static String likePrefix(String journalId) {
    return journalId.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "|%";
  }

  private static final String SELECT = "SELECT * FROM \"dmasim_recordings\"";

  /**
   * The run's kept (newest complete) recording; a recording by its id (RUN~N); or, when a run has
   * no complete recording, its newest incomplete one.
   */
  public Stored lookup(String id) {
    try {
      if (id.contains("~")) {
        List<Stored> one = query(SELECT + " WHERE \"recording_id\" = ?", id);
        if (one.isEmpty()) throw new UserError("no recording '" + id + "' in " + where() + " (see 'dmasim runs')");
        return trusted(one.get(0), id);
      }
      List<Stored> all = query(SELECT + " WHERE \"run_id\" = ? ORDER BY \"started\" DESC, \"recording_id\" DESC", id);
      for (Stored s : all) trusted(s, id);
      Stored kept = all.stream().filter(Stored::complete).findFirst().orElse(null);
      if (kept == null && !all.isEmpty()) return all.get(0);
      if (kept == null) {
        String legacy = legacyVersion(id);
        if (legacy != null) {
          throw new RecordedByAnotherModel("run " + id + " was recorded by " + legacy + " and this is " + dmasim.scenarios.Journal.VERSION
              + ", whose journal this version does not read; run its command again to record it with this model", null);
        }
        throw new UserError("no run '" + id + "' in " + where() + " (see 'dmasim runs' or the run ids printed by run and explore)");
      }
      Stored later = all.stream().filter(s -> !s.complete()).filter(s -> s.started().compareTo(kept.started()) > 0).findFirst().orElse(null);
      if (later == null) return kept;
      return new Stored(kept.recordingId(), kept.record(), kept.state(), kept.recordedStep(), kept.actorRows(), kept.version(), kept.started(),
          kept.finished(), kept.reason(), "a later recording, " + later.recordingId() + ", is " + later.status()
          + "; this is the kept one ('dmasim gc' removes the other)");
    } catch (SQLException e) {
      throw new JournalFailure(why(e));
    }
  }

  private static Stored trusted(Stored s, String id) {
    if (s.state().equals("damaged")) {
      String run = id.contains("~") ? id.substring(0, id.lastIndexOf('~')) : id;
      throw new JournalDamaged("journal damaged at run " + run + " (recording " + s.recordingId() + "): " + s.reason());
    }
    return s;
  }

  private String legacyVersion(String runId) throws SQLException {
    if (!legacyTable()) return null;
    try (PreparedStatement st = c.prepareStatement("SELECT \"version\" FROM \"dmasim_runs\" WHERE \"run_id\" = ?")) {
      st.setString(1, runId);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  /** Every recording, newest first. */
  public List<Stored> list() {
    try {
      return query(SELECT + " ORDER BY \"started\" DESC, \"recording_id\" DESC");
    } catch (SQLException e) {
      throw new JournalFailure(why(e));
    }
  }

  /** The registry fields a replay depends on, in a fixed order; with the result fields once complete. */
  private static final String[] PLANNED = {"recording_id", "run_id", "scenario", "seed", "mode", "cpus", "requests", "segments", "max_steps",
      "strategy", "schedule_seed", "expected_steps", "parent_run", "prefix", "version"};
  private static final String[] RESULT = {"verdict", "monitor", "steps", "non_fifo"};

  /** The checksum of the registry row {@code rs} is on: its planned fields, and its result fields once complete. */
  private static String entryChecksum(ResultSet rs, boolean complete) throws SQLException {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    for (String f : PLANNED) crc.update((rs.getString(f) + "\u0001").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    if (complete) for (String f : RESULT) crc.update((rs.getString(f) + "\u0001").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return Long.toHexString(crc.getValue());
  }

  /** Why a registry row cannot be trusted (changed since dmasim wrote it, or unreadable), or null. */
  private static String entryDamage(ResultSet rs) throws SQLException {
    try {
      RunRecord.mode(rs.getString("mode"));
      String stored = rs.getString("entry_crc");
      if (stored == null) return "its registry entry has no checksum (it was changed, or written by no dmasim)";
      boolean complete = "complete".equals(rs.getString("state"));
      String expected = entryChecksum(rs, complete);
      return expected.equals(stored) ? null : "its registry entry was changed: what it ran or found no longer matches its checksum";
    } catch (IllegalArgumentException e) {
      return "its registry entry cannot be read (" + e.getMessage() + ")";
    }
  }

  /** Recomputes the checksum of a registry row as it is now (for tools that migrate a registry, and tests that forge one). */
  public static void reseal(Connection c, String recording) throws SQLException {
    Recordings r = new Recordings(c, (Database) null);
    try (PreparedStatement st = c.prepareStatement("SELECT \"state\" FROM \"dmasim_recordings\" WHERE \"recording_id\" = ?")) {
      st.setString(1, recording);
      try (ResultSet rs = st.executeQuery()) {
        if (rs.next()) r.sealEntry(recording, "complete".equals(rs.getString(1)));
      }
    }
  }

  /** Stores the checksum of a registry row as it is now. */
  private void sealEntry(String recording, boolean complete) throws SQLException {
    String crc;
    try (PreparedStatement st = c.prepareStatement("SELECT * FROM \"dmasim_recordings\" WHERE \"recording_id\" = ?")) {
      st.setString(1, recording);
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) return;
        crc = entryChecksum(rs, complete);
      }
    }
    try (PreparedStatement st = c.prepareStatement("UPDATE \"dmasim_recordings\" SET \"entry_crc\" = ? WHERE \"recording_id\" = ?")) {
      st.setString(1, crc);
      st.setString(2, recording);
      st.executeUpdate();
    }
  }

  private List<Stored> query(String sql, String... args) throws SQLException {
    List<Stored> out = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) st.setString(i + 1, args[i]);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          String damage = entryDamage(rs);
          if (damage != null) {
            out.add(new Stored(rs.getString("recording_id"), null, "damaged", rs.getLong("recorded_step"), Map.of(), rs.getString("version"),
                time(rs, "started"), null, damage, null));
            continue;
          }
          RunOptions o = new RunOptions(rs.getLong("seed"), RunRecord.mode(rs.getString("mode")), rs.getInt("cpus"), rs.getLong("requests"),
              rs.getInt("segments"), rs.getLong("max_steps"));
          RunRecord r = new RunRecord(rs.getString("run_id"), rs.getString("scenario"), o, rs.getString("strategy"), rs.getLong("schedule_seed"),
              rs.getLong("expected_steps"), rs.getString("verdict"), rs.getString("monitor"), rs.getLong("steps"), rs.getLong("non_fifo"),
              rs.getString("parent_run"), rs.getLong("prefix"));
          out.add(new Stored(rs.getString("recording_id"), r, rs.getString("state"), rs.getLong("recorded_step"),
              Rows.parseActorRows(rs.getString("actor_rows")), rs.getString("version"), time(rs, "started"), time(rs, "finished"),
              rs.getString("reason"), null));
        }
      }
    }
    return out;
  }

  /** A timestamp column as this machine's local time with its offset (what H2 and PostgreSQL store alike), or null. */
  private static String time(ResultSet rs, String column) throws SQLException {
    java.time.OffsetDateTime t = rs.getObject(column, java.time.OffsetDateTime.class);
    return t == null ? null : String.valueOf(t.atZoneSameInstant(java.time.ZoneId.systemDefault()).toOffsetDateTime());
  }

  /** Removes every recording that is not complete (with its rows) and every row no recording owns. */
  public Removed gc() {
    return inTransaction(() -> {
      int recordings = 0;
      long rows = 0;
      List<String> incomplete = new ArrayList<>();
      try (ResultSet rs = c.createStatement().executeQuery("SELECT \"recording_id\" FROM \"dmasim_recordings\" WHERE \"state\" <> 'complete'")) {
        while (rs.next()) incomplete.add(rs.getString(1));
      }
      for (String r : incomplete) {
        rows += deleteRecording(r);
        recordings++;
      }
      // Standard SQL (H2 and PostgreSQL): the recording id is what precedes the first '|'.
      rows += c.createStatement().executeUpdate("DELETE FROM \"event_journal\" WHERE NOT EXISTS (SELECT 1 FROM \"dmasim_recordings\" r"
          + " WHERE r.\"recording_id\" = CASE WHEN POSITION('|' IN \"persistence_id\") > 0"
          + " THEN SUBSTRING(\"persistence_id\" FROM 1 FOR POSITION('|' IN \"persistence_id\") - 1) ELSE \"persistence_id\" END)");
      if (legacyTable()) recordings += c.createStatement().executeUpdate("DELETE FROM \"dmasim_runs\"");
      return new Removed(recordings, rows);
    });
  }

  /** The journal rows of one persistence-id prefix, in key order. */
  private interface RowSink {
    void row(String actor, long seq, int serializerId, String manifest, byte[] payload, byte[] checksum, String checksumManifest) throws SQLException;
  }

  private void rows(String journalId, RowSink sink) {
    rows(journalId, journalId.contains("~") ? journalId.substring(0, journalId.lastIndexOf('~')) : journalId, sink);
  }

  private void rows(String journalId, String run, RowSink sink) {
    String sql = "SELECT \"persistence_id\", \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\", \"event_payload\", \"meta_payload\","
        + " \"meta_ser_manifest\" FROM \"event_journal\" WHERE \"persistence_id\" LIKE ? ESCAPE '\\' ORDER BY \"persistence_id\", \"sequence_number\"";
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, likePrefix(journalId));
      st.setFetchSize(10_000);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          String pid = rs.getString(1);
          sink.row(pid.substring(pid.indexOf('|') + 1), rs.getLong(2), rs.getInt(3), rs.getString(4), rs.getBytes(5), rs.getBytes(6),
              rs.getString(7));
        }
      }
    } catch (SQLException e) {
      String why = why(e);
      if (why.contains(" is corrupted")) throw new JournalDamaged("journal damaged at run " + run + ": H2 cannot read its rows (the file is"
          + " corrupted where they are stored); other runs may still be readable");
      throw new JournalFailure(why + " (reading run " + run + ")");
    }
  }

  /** Every row under {@code journalId} as "actor seq manifest sha256(payload)". */
  public List<String> dump(String journalId) {
    List<String> out = new ArrayList<>();
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new InfrastructureError("no SHA-256 in this JVM", e);
    }
    rows(journalId, (actor, seq, ser, manifest, payload, crc, crcManifest) ->
        out.add(actor + " " + seq + " " + manifest + " " + HexFormat.of().formatHex(sha.digest(payload))));
    return out;
  }

  /**
   * The steps of a recording, checked: see {@link dmasim.scenarios.Journal#read}. The events are read
   * through Akka Persistence Query ({@link RowReadJournal}: {@code currentEventsByPersistenceId} of
   * each of the recording's persistence ids, in key order); which persistence ids the journal holds
   * under the recording is one explicit query of its own ({@link #persistenceIds}), so rows of an
   * actor the registry does not know are found too.
   */
  public List<RecordedStep> read(ActorSystem<?> system, Stored stored) {
    String run = stored.record().runId();
    String journalId = stored.recordingId();
    TreeMap<Long, RecordedStep> steps = new TreeMap<>();
    Map<String, Long> last = new LinkedHashMap<>();
    java.util.TreeSet<String> actors = new java.util.TreeSet<>(stored.actorRows().keySet());
    actors.addAll(persistenceIds(journalId, run));
    akka.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery query = akka.persistence.query.PersistenceQuery.get(system)
        .getReadJournalFor(akka.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery.class, RowReadJournal.ID);
    // Every actor's query runs at once (each on a connection of its own; deserializing is most of a read's cost, so this
    // uses every core), each into its own list; the results are then taken in actor order, so a damaged journal is
    // reported the same way whatever the timing.
    Map<String, List<RecordedStep>> byActor = new LinkedHashMap<>();
    Map<String, List<Long>> rowsOf = new LinkedHashMap<>();
    Map<String, java.util.concurrent.CompletionStage<akka.Done>> queries = new LinkedHashMap<>();
    for (String actor : actors) {
      String pid = journalId + "|" + actor;
      List<RecordedStep> mine = new ArrayList<>();
      List<Long> rowOf = new ArrayList<>(); // the row each step came from, for the damage report
      rowsOf.put(actor, rowOf);
      long[] mineLast = {0};
      byActor.put(actor, mine);
      queries.put(actor, query.currentEventsByPersistenceId(pid, 0, Long.MAX_VALUE).runForeach(env -> {
        long seq = env.sequenceNr();
        long expected = mineLast[0] + 1;
        if (seq != expected) throw damaged(run, actor, expected, "missing (the next row is event " + seq + ")");
        mineLast[0] = seq;
        synchronized (last) {
          last.put(actor, seq);
        }
        RowReadJournal.RowCheck check = (RowReadJournal.RowCheck) env.getEventMetaData().orElse(null);
        if (check == null || !check.intact()) {
          throw damaged(run, actor, seq, "its checksum does not match its contents (the row was changed or torn)");
        }
        Object event = env.event();
        if (event instanceof RowReadJournal.Unreadable u) {
          String manifest = u.manifest();
          if (!stored.version().equals(dmasim.scenarios.Journal.VERSION)) {
            throw new RecordedByAnotherModel("run " + run + " was recorded by " + stored.version() + " and this is "
                + dmasim.scenarios.Journal.VERSION + ": its event " + seq + " of " + actor + " ("
                + manifest.substring(Math.max(manifest.lastIndexOf('.'), manifest.lastIndexOf('$')) + 1) + ") is not an event of this"
                + " model, so the run diverges from its record before it can be replayed; run its command again to record it with this model", null);
          }
          throw damaged(run, actor, seq, "it cannot be read (" + u.why() + ")");
        }
        if (event instanceof JournalEvent.StepsHandled many) { // an imported trace: steps of several actors in one row
          for (int i = 0; i < many.steps().size(); i++) {
            JournalEvent.EnvelopeHandled h = many.steps().get(i);
            mine.add(new RecordedStep(h.step(), many.actors().get(i), h.id(), h.at(), h.cause(), h.type(), h.events()));
            rowOf.add(seq);
          }
          return;
        }
        if (!(event instanceof JournalEvent.EnvelopeHandled h)) throw damaged(run, actor, seq, "it is not a step record");
        mine.add(new RecordedStep(h.step(), actor, h.id(), h.at(), h.cause(), h.type(), h.events()));
        rowOf.add(seq);
      }, system));
    }
    for (Map.Entry<String, java.util.concurrent.CompletionStage<akka.Done>> q : queries.entrySet()) {
      await(q.getValue(), run);
      List<RecordedStep> mine = byActor.get(q.getKey());
      for (int i = 0; i < mine.size(); i++) {
        RecordedStep st = mine.get(i);
        if (steps.put(st.step(), st) != null) throw damaged(run, q.getKey(), rowsOf.get(q.getKey()).get(i), "a second record of step " + st.step());
      }
    }
    for (Map.Entry<String, Long> e : stored.actorRows().entrySet()) {
      long found = last.getOrDefault(e.getKey(), 0L);
      if (found < e.getValue()) {
        throw damaged(run, e.getKey(), found + 1, "missing (recorded up to event " + e.getValue() + ", the journal ends at event " + found + ")");
      }
    }
    for (Map.Entry<String, Long> e : new TreeMap<>(last).entrySet()) { // in key order: the same report whatever the streams' timing
      long recorded = stored.actorRows().getOrDefault(e.getKey(), 0L);
      if (e.getValue() > recorded) throw damaged(run, e.getKey(), recorded + 1, "a row the registry does not know (recorded up to event " + recorded + ")");
    }
    long step = 0;
    for (long s : steps.keySet()) {
      if (s != ++step) throw new JournalDamaged("journal damaged at run " + run + ": step " + step + " is recorded by no actor");
    }
    return new ArrayList<>(steps.values());
  }

  /** Waits for one query of {@link #read} to end; its failure as dmasim reports it (damage, a journal failure). */
  private void await(java.util.concurrent.CompletionStage<akka.Done> done, String run) {
    try {
      done.toCompletableFuture().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new JournalFailure("interrupted while reading run " + run);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r && !(cause instanceof akka.stream.AbruptStageTerminationException)) throw r;
      if (cause instanceof SQLException q) throw readFailure(q, run);
      throw new JournalFailure("cannot read run " + run + ": " + cause);
    }
  }

  private RuntimeException readFailure(SQLException e, String run) {
    String why = why(e);
    if (why.contains(" is corrupted")) return new JournalDamaged("journal damaged at run " + run + ": H2 cannot read its rows (the file is"
        + " corrupted where they are stored); other runs may still be readable");
    return new JournalFailure(why + " (reading run " + run + ")");
  }

  /**
   * The actors with rows under {@code journalId} (the part of each persistence id after '|'): the
   * one integrity check of {@link #read} that is SQL of its own, since Persistence Query has no
   * query for the persistence ids under a prefix (only all of them, {@code currentPersistenceIds}).
   */
  private List<String> persistenceIds(String journalId, String run) {
    List<String> out = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement("SELECT DISTINCT \"persistence_id\" FROM \"event_journal\" WHERE \"persistence_id\" LIKE ?"
        + " ESCAPE '\\'")) {
      st.setString(1, likePrefix(journalId));
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) out.add(rs.getString(1).substring(journalId.length() + 1));
      }
    } catch (SQLException e) {
      throw readFailure(e, run);
    }
    return out;
  }

  private static JournalDamaged damaged(String run, String actor, long event, String what) {
    return new JournalDamaged("journal damaged at run " + run + ", actor " + actor + ", event " + event + ": " + what);
  }

  /** A recording whose rows are not what was written (exit 3, never a divergence). */
  public static final class JournalDamaged extends JournalFailure {
    JournalDamaged(String message) {
      super(message);
    }
  }
}
