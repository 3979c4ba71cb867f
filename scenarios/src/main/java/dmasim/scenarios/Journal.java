package dmasim.scenarios;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dmasim.scenarios.journal.Database;
import dmasim.scenarios.journal.JournalFailure;
import dmasim.scenarios.journal.JournalWriter;
import dmasim.scenarios.journal.Recordings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Function;

/**
 * Where runs are journaled: "memory" (Akka's in-memory journal, for tests and fast exploration),
 * "h2" (akka-persistence-jdbc's {@code event_journal} schema on an embedded H2 file, written in
 * batches by {@link JournalWriter}, with a registry of recordings beside it: {@link Recordings}) or
 * "postgres" (the same tables in a PostgreSQL database reached by a JDBC URL). Recordings are read
 * back through Akka Persistence Query ({@link dmasim.scenarios.journal.RowReadJournal}).
 *
 * <p>A kept run is recorded under a fresh recording id and becomes the run's kept recording only
 * when all of it is durable ({@link #keep}); until then the earlier recording stays, whole.
 */
public final class Journal implements AutoCloseable {
  /** Default limit of the journal file, in MB (--max-journal-mb). */
  public static final long DEFAULT_MAX_MB = 20_480;
  /**
   * The model version a run was recorded with (a replay under another version may diverge). Raise
   * it whenever events change shape or meaning: 0.2.0 added the dma-direct path, link attributes,
   * descriptor sources and the sealed invalidation continuations; 0.3.0 journals one row per step;
   * 0.3.1 counts fault-plan calls per caller (FaultDecided names it). 0.3.2 adds the RDMA device (HCA
   * events, work items, page-fault tokens) and changes the HMM model (a shared pfn list's page mode).
   * {@code check} judges again only runs kept by this version.
   */
  public static final String VERSION = "dmasim-0.3.2";

  private final String kind;
  private final Path dir;
  private final long maxMegabytes;
  /** PostgreSQL: the JDBC URL and credentials (empty: in the URL, or none). */
  private final String pgUrl;
  private final String pgUser;
  private final String pgPassword;
  /** H2: the URL the database was opened with (read-only opens add ACCESS_MODE_DATA=r), or null before it is opened. */
  private String openedUrl;
  private Connection connection;
  private ActorSystem<?> system;
  private Recordings recordings;
  private long sizeAtOpen;
  private RunRecord currentPlan;

  private Journal(String kind, Path dir, long maxMegabytes) {
    this(kind, dir, maxMegabytes, null, "", "");
  }

  private Journal(String kind, Path dir, long maxMegabytes, String pgUrl, String pgUser, String pgPassword) {
    if (!kind.equals("memory") && !kind.equals("h2") && !kind.equals("postgres")) {
      throw new UserError("unknown journal '" + kind + "' (use h2, postgres or memory)");
    }
    if (maxMegabytes < 1) throw new UserError("--max-journal-mb must be at least 1, not " + maxMegabytes);
    this.kind = kind;
    this.dir = dir;
    this.maxMegabytes = maxMegabytes;
    this.pgUrl = pgUrl;
    this.pgUser = pgUser == null ? "" : pgUser;
    this.pgPassword = pgPassword == null ? "" : pgPassword;
  }

  /**
   * A journal in the PostgreSQL database at {@code url} ({@code jdbc:postgresql://host:port/db?...});
   * {@code user} and {@code password} may be empty (given in the URL, or not needed). A URL that is
   * not a PostgreSQL JDBC URL is a user error; the database is reached only by {@link #open}.
   */
  public static Journal postgres(String url, String user, String password) {
    if (url == null || url.isBlank()) {
      throw new InfrastructureError("no PostgreSQL journal configured: give --journal-url jdbc:postgresql://HOST:PORT/DB, or set"
          + " DMASIM_POSTGRES_URL (or dmasim.journal.postgres.url)", null);
    }
    PG_LOG.setLevel(java.util.logging.Level.OFF); // the driver's own warnings (a bad port) would repeat the line below
    if (!url.startsWith("jdbc:postgresql:") || org.postgresql.Driver.parseURL(url, null) == null) {
      throw new UserError("malformed PostgreSQL journal URL '" + Database.server(url) + "': expected jdbc:postgresql://HOST[:PORT]/DATABASE[?user=U&...]");
    }
    return new Journal("postgres", null, DEFAULT_MAX_MB, url, user, password);
  }

  /** The PostgreSQL driver's java.util.logging logger (held: the level is kept only while the logger is referenced). */
  private static final java.util.logging.Logger PG_LOG = java.util.logging.Logger.getLogger("org.postgresql");

  /** Whether runs are kept (h2 or postgres), not only held in memory. */
  public boolean durable() {
    return !kind.equals("memory");
  }

  /** The database of a durable journal (the URL it was opened with). */
  public Database database() {
    if (kind.equals("postgres")) return Database.postgres(pgUrl, pgUser, pgPassword);
    return Database.h2(dir, openedUrl != null ? openedUrl : url());
  }

  /** Where the journal is, for messages: the data directory, "the PostgreSQL journal at host:port/db", or "memory". */
  public String where() {
    return kind.equals("memory") ? "memory" : database().where();
  }

  public static Journal memory() {
    return new Journal("memory", null, DEFAULT_MAX_MB);
  }

  public static Journal h2(Path dir) {
    return h2(dir, DEFAULT_MAX_MB);
  }

  public static Journal h2(Path dir, long maxMegabytes) {
    return new Journal("h2", dir.toAbsolutePath().normalize(), maxMegabytes);
  }

  public String kind() {
    return kind;
  }

  public Path dir() {
    return dir;
  }

  /** The database file of an h2 journal. */
  public Path file() {
    return dir.resolve("journal.mv.db");
  }

  /**
   * The JDBC URL: WRITE_DELAY=0 makes every commit durable at once (H2 otherwise loses the last
   * second of commits on a crash); no trace file (errors are reported by dmasim, in one line);
   * the database stays open until dmasim closes it, so a signal handler can still flush.
   */
  public String url() {
    if (kind.equals("postgres")) return pgUrl;
    return "jdbc:h2:file:" + dir.resolve("journal") + ";WRITE_DELAY=0;TRACE_LEVEL_FILE=0;DB_CLOSE_ON_EXIT=FALSE;MAX_LENGTH_INPLACE_LOB=65536;COMPRESS=TRUE";
  }

  /** The Akka configuration for this journal, over the application's configuration. */
  public Config config() {
    Config base = ConfigFactory.load();
    if (kind.equals("memory")) {
      // Akka's PersistenceTestKit journal: in memory, and its policies are how journal faults reach it.
      return ConfigFactory.parseString("""
          akka.persistence.snapshot-store.plugin = "akka.persistence.no-snapshot-store"
          akka.persistence.testkit.events.serialize = off
          """).withFallback(akka.persistence.testkit.PersistenceTestKitPlugin$.MODULE$.config()).withFallback(base);
    }
    Config db = database().toConfig();
    return ConfigFactory.parseString("""
        akka.persistence.journal.plugin = "dmasim-journal"
        akka.persistence.snapshot-store.plugin = "akka.persistence.no-snapshot-store"
        dmasim-journal {
          class = "dmasim.scenarios.journal.BatchedJournal"
          # The plugin runs on the thread of single runs: a persist is queued without crossing threads.
          plugin-dispatcher = "dmasim.dispatchers.w0"
        }
        # The run reader's Persistence Query plugin: the same rows, read back with their checksums checked.
        dmasim-read-journal {
          class = "dmasim.scenarios.journal.RowReadJournal$Provider"
        }
        """)
        .withFallback(db.atPath("dmasim-journal"))
        .withFallback(db.atPath("dmasim-read-journal"))
        .withFallback(db.atPath("dmasim.journal-writer"))
        .withValue("dmasim.journal-writer.file", ConfigValueFactory.fromAnyRef(kind.equals("h2") ? file().toString() : ""))
        .withValue("dmasim.journal-writer.max-bytes", ConfigValueFactory.fromAnyRef(maxMegabytes << 20))
        .withFallback(base);
  }

  /**
   * Opens the database (before the actor system starts, so a journal that cannot be used is
   * reported in one line at once: locked by another process, corrupt, read-only, or missing
   * kept runs it held), creates akka-persistence-jdbc's schema and the registry when missing.
   */
  public void open() {
    open(false);
  }

  /**
   * {@link #open()}; with {@code mustExist} (commands that only use kept runs) a data directory
   * without a journal is a user error and nothing is created.
   */
  public void open(boolean mustExist) {
    open(mustExist, false);
  }

  /**
   * {@link #open(boolean)}; {@code readOnly} (replay, inspect, runs) opens the database read-only,
   * so reading never changes the file. When H2 can only open the file by writing to it (a process
   * stopped in the middle of a write, or a damaged file), a copy is opened and checked; only a copy
   * that still holds every kept run journal.kept lists replaces the original.
   */
  public void open(boolean mustExist, boolean readOnly) {
    if (kind.equals("memory") || connection != null) return;
    if (kind.equals("postgres")) {
      openPostgres(mustExist || readOnly);
      return;
    }
    if (Files.exists(dir) && !Files.isDirectory(dir)) throw new UserError("--data-dir " + dir + " is a file, not a directory");
    boolean exists = Files.exists(file());
    String held = Recordings.heldBefore(dir);
    if (!exists) {
      if (!held.isEmpty()) {
        throw new JournalFailure("the journal file " + file() + " is missing" + held + " (listed in " + dir.resolve("journal.kept")
            + "); restore it, or move " + dir + " away to start a new journal");
      }
      if (mustExist || readOnly) throw new UserError("no journal in " + dir + ": nothing has been kept there (see --data-dir)");
    }
    try {
      if (exists && !held.isEmpty() && Files.size(file()) < 8192) {
        throw new JournalFailure("the journal " + file() + " is cut short (" + Files.size(file()) + " bytes)" + held + "; restore it, or move "
            + dir + " away to start a new journal");
      }
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new JournalFailure("cannot use the journal directory " + dir + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
    }
    try {
      if (exists) openChecked(readOnly);
      if (connection == null) {
        connection = DriverManager.getConnection(url(), "sa", "");
        openedUrl = url();
        recordings = new Recordings(connection, database());
      }
      sizeAtOpen = Files.size(file());
      if (readOnly) {
        if (!tableExists(connection, "dmasim_recordings")) throw new UserError("no journal in " + dir + ": nothing has been kept there");
        return;
      }
      if (!exists) recordings.forgetKept();
      if (!tableExists(connection, "event_journal")) {
        for (String ddl : akkaPersistenceJdbcSchema("h2")) connection.createStatement().execute(ddl);
      }
      recordings.createIfMissing();
    } catch (IOException e) {
      close();
      throw new JournalFailure("cannot read or restore " + file() + ": " + e.getMessage());
    } catch (SQLException e) {
      close();
      String why = JournalFailure.describe(e, dir);
      throw new JournalFailure(why.contains(" is corrupted") || why.contains(" cannot be read or written") ? why + Recordings.heldBefore(dir) : why);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Opens an existing file and checks it against journal.kept without letting H2 change a damaged
   * file (see {@link #open(boolean, boolean)}). When H2 can only open it by writing, a copy is
   * opened and checked instead (a failed read-only open may leave H2 holding the original in this
   * JVM); only a copy that holds every kept run replaces the original.
   */
  private void openChecked(boolean readOnly) throws SQLException, IOException {
    try {
      connection = DriverManager.getConnection(url() + ";ACCESS_MODE_DATA=r", "sa", "");
      openedUrl = url() + ";ACCESS_MODE_DATA=r";
    } catch (SQLException e) {
      if (!JournalFailure.needsWrite(e)) throw e;
      Path copy = dir.resolve("journal-check.mv.db");
      Files.copy(file(), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      try (Connection c = DriverManager.getConnection(url().replace(dir.resolve("journal").toString(), dir.resolve("journal-check").toString()),
          "sa", "")) {
        new Recordings(c, dir).verifyKept();
      } catch (SQLException | RuntimeException failure) {
        Files.deleteIfExists(copy);
        throw failure;
      }
      Files.move(copy, file(), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return; // the checked copy is the journal now: opened for writing below
    }
    recordings = new Recordings(connection, database());
    recordings.verifyKept();
    if (!readOnly) {
      connection.close();
      connection = null;
      openedUrl = null;
    }
  }

  /**
   * Connects to the PostgreSQL database (a server that cannot be reached or refuses the login is
   * one line, exit 3) and creates akka-persistence-jdbc's PostgreSQL schema and the registry in the
   * connection's current schema when missing; with {@code mustExist} (commands that only read kept
   * runs) a database without a registry is a user error and nothing is created.
   */
  private void openPostgres(boolean mustExist) {
    Database db = database();
    try {
      connection = db.connect();
      if (connection.getSchema() == null) {
        throw new JournalFailure(db.where() + " has no schema to use (the URL's currentSchema names none that exists); create it, or fix the URL");
      }
      recordings = new Recordings(connection, db);
      if (!tableExists(connection, "dmasim_recordings") && mustExist) {
        throw new UserError("no journal in " + db.where() + ": nothing has been kept there (see --journal-url)");
      }
      if (!tableExists(connection, "event_journal")) {
        for (String ddl : akkaPersistenceJdbcSchema("postgres")) connection.createStatement().execute(ddl);
      }
      recordings.createIfMissing();
    } catch (SQLException e) {
      close();
      throw new JournalFailure(db.describe(e));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Opens the journal if it is not open yet and binds it to the actor system whose journal plugin writes it. */
  public void prepare(ActorSystem<?> system) {
    this.system = system;
    open();
    if (kind.equals("memory")) akka.persistence.testkit.javadsl.PersistenceTestKit.create(system).withPolicy(new MemoryFaults());
  }

  /** The in-memory journal's policy: each actor's writes counted (its nth write is its nth step) and judged by the run's journal faults. */
  private static final class MemoryFaults implements akka.persistence.testkit.ProcessingPolicy<akka.persistence.testkit.JournalOperation> {
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicLong> writes =
        new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public akka.persistence.testkit.ProcessingResult tryProcess(String persistenceId, akka.persistence.testkit.JournalOperation op) {
      if (!(op instanceof akka.persistence.testkit.WriteEvents)) return akka.persistence.testkit.ProcessingSuccess$.MODULE$;
      long write = writes.computeIfAbsent(persistenceId, k -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
      dmasim.scenarios.journal.JournalFaults.Rule fault = dmasim.scenarios.journal.JournalFaults.check(persistenceId, write);
      if (fault == null) return akka.persistence.testkit.ProcessingSuccess$.MODULE$;
      Exception e = new dmasim.scenarios.journal.JournalFaults.Injected("journal fault injected: " + fault.describe());
      return switch (fault.kind()) {
        case FAIL -> new akka.persistence.testkit.StorageFailure(e);
        case REJECT -> new akka.persistence.testkit.Reject(e);
        case SLOW -> {
          java.util.concurrent.locks.LockSupport.parkNanos(fault.delayNanos()); // the write is acknowledged late
          yield akka.persistence.testkit.ProcessingSuccess$.MODULE$;
        }
      };
    }
  }

  /**
   * akka-persistence-jdbc's schema for {@code db} (h2 or postgres), as shipped in its jar. The
   * PostgreSQL script names the schema {@code public}; it is created in the connection's current
   * schema instead (the first of the URL's {@code currentSchema}, else {@code public}).
   */
  private static List<String> akkaPersistenceJdbcSchema(String db) {
    String path = "schema/" + db + "/" + db + "-create-schema.sql";
    try (InputStream in = Journal.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) throw new InfrastructureError("akka-persistence-jdbc's " + path + " is not on the class path", null);
      String sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      if (db.equals("postgres")) sql = sql.replace("public.", "").replace("CREATE INDEX CONCURRENTLY", "CREATE INDEX IF NOT EXISTS")
          .replace("CREATE UNIQUE INDEX event_journal_ordering_idx", "CREATE UNIQUE INDEX IF NOT EXISTS event_journal_ordering_idx");
      return java.util.Arrays.stream(sql.split(";")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    } catch (IOException e) {
      throw new InfrastructureError("cannot read akka-persistence-jdbc's schema: " + e.getMessage(), e);
    }
  }

  /** Whether {@code table} (a quoted lower-case name) exists in the connection's current schema. */
  public static boolean tableExists(Connection c, String table) throws SQLException {
    try (ResultSet rs = c.getMetaData().getTables(null, c.getSchema(), table, null)) {
      return rs.next();
    }
  }

  /**
   * Records one run as a kept run: a fresh recording is begun, {@code body} runs it under the
   * journal id it is given, everything is made durable, and only then the recording replaces the
   * run's earlier one (which is deleted). A failure leaves the new recording incomplete and the
   * earlier one untouched. Memory journals keep nothing: {@code body} runs under the run id.
   */
  public RunReport keep(RunRecord planned, Function<String, RunReport> body) {
    if (kind.equals("memory")) return body.apply(planned.runId());
    writer().checkRoom();
    String recording = recordings.begin(planned, VERSION);
    currentPlan = planned;
    RunReport report;
    try {
      report = body.apply(recording);
      flush();
    } catch (RuntimeException e) {
      recordings.fail(recording, e.getMessage());
      throw e;
    }
    if (report.outcome().crashed()) {
      recordings.fail(recording, "the model crashed: " + report.outcome().detail());
      return report;
    }
    recordings.complete(recording, planned.withResult(report));
    return report;
  }

  /** For a signal handler: stops the writer after the batch it is writing, marks the recording failed with {@code why}, returns how far it came. */
  public String interrupt(String recording, String why) {
    if (kind.equals("memory") || recordings == null) return null;
    writer().abandon(why, 2000); // what is not on disk yet is dropped; the registry says how far the run came
    recordings.fail(recording, why);
    if (kind.equals("postgres")) {
      // A server's commits are durable when they return: read how far the recording came on a connection of its own.
      try (Connection c = database().connect()) {
        return new Recordings(c, (Database) null).progress(recording);
      } catch (SQLException e) {
        return "progress unknown (" + database().describe(e) + ")";
      }
    }
    // The process halts next: shut the database down so that what it committed is on disk, then read how far the
    // recording came from the file itself, so the line says exactly what a later replay will find.
    try (java.sql.Statement st = connection.createStatement()) {
      st.execute("SHUTDOWN");
    } catch (SQLException e) {
      // already closed, or failing: the read below says what the file holds
    }
    connection = null;
    recordings = null;
    try (Connection c = DriverManager.getConnection(url() + ";ACCESS_MODE_DATA=r", "sa", "")) {
      return new Recordings(c, (Database) null).progress(recording);
    } catch (SQLException e) {
      return "progress unknown (" + JournalFailure.describe(e, dir) + ")";
    }
  }

  /**
   * {@code base}, or "{@code base}-N" with the first N that no recording uses: for runs that are not
   * functions of their options (live runs race), so a later one never replaces an earlier one.
   */
  public String unusedRunId(String base) {
    if (kind.equals("memory") || recordings == null) return base;
    java.util.Set<String> used = new java.util.HashSet<>();
    for (Recordings.Stored st : recordings.list()) used.add(st.record().runId());
    if (!used.contains(base)) return base;
    for (int n = 2; ; n++) if (!used.contains(base + "-" + n)) return base + "-" + n;
  }

  /** The recording that {@link #keep} is writing, or null. */
  public String current() {
    return recordings == null ? null : recordings.current();
  }

  /** What the latest {@link #keep} records (with {@link #current}: what the recording under way is of), or null. */
  public RunRecord currentPlan() {
    return currentPlan;
  }

  /** The kept run (or recording, given as RUN~N) named {@code id}; a user error when there is none. */
  public Recordings.Stored lookup(String id) {
    if (kind.equals("memory")) throw new UserError("runs are kept only in a durable journal (--journal h2 or postgres)");
    return recordings.lookup(id);
  }

  /**
   * Every step of a stored recording in step order, checked as it is read: a row whose checksum
   * does not match, a sequence gap, a row missing at an actor's end or a row nobody recorded is
   * "journal damaged" (exit 3), never a divergence of the model.
   */
  public List<RecordedStep> read(ActorSystem<?> system, Recordings.Stored stored) {
    flush();
    return recordings.read(system, stored);
  }

  /** Every journaled row under {@code journalId} as "actor seq manifest sha256(payload)", in key order (for determinism tests). */
  public List<String> dump(String journalId) {
    flush();
    return recordings.dump(journalId);
  }

  /** Every recording, newest first (dmasim runs). */
  public List<Recordings.Stored> list() {
    if (kind.equals("memory")) throw new UserError("runs are kept only in a durable journal (--journal h2 or postgres)");
    return recordings.list();
  }

  /** Removes incomplete recordings and rows no recording owns; returns what it removed. */
  public Recordings.Removed gc() {
    if (kind.equals("memory")) throw new UserError("the memory journal keeps nothing to collect");
    return recordings.gc();
  }

  /**
   * H2 keeps overwritten chunks for 45 s, so a session that wrote for longer than that can leave a
   * file several times what it wrote (a run of 100k steps: 110 MB for about 25 MB of data). When
   * the file grew by more than three times the payload bytes {@code written} since it was opened,
   * rewrite it compactly (closing the journal); otherwise H2's own compaction at close suffices.
   * Call last.
   */
  public void compactIfBloated(long written, java.util.function.LongConsumer announce) {
    if (connection == null || !kind.equals("h2")) return;
    try {
      long size = Files.size(file());
      long grown = size - sizeAtOpen;
      if (grown > 3 * written && grown > (16L << 20)) {
        announce.accept(size >> 20);
        compact();
      }
    } catch (IOException e) {
      // no size, no compaction: gc can still do it
    }
  }

  /** Rewrites the database file without its free space (H2's SHUTDOWN COMPACT); closes the journal. */
  public void compact() {
    if (connection == null || !kind.equals("h2")) return;
    try {
      connection.createStatement().execute("SHUTDOWN COMPACT");
    } catch (SQLException e) {
      throw new JournalFailure(JournalFailure.describe(e, dir));
    } finally {
      close();
    }
  }

  public JournalWriter writer() {
    if (system == null) throw new IllegalStateException("journal not prepared");
    return JournalWriter.get(system);
  }

  /** Waits until every step persisted so far is durable (nothing to wait for in memory). */
  private void flush() {
    if (durable()) writer().flush();
  }

  @Override
  public void close() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        // closing regardless
      }
      connection = null;
    }
    openedUrl = null;
  }
}
