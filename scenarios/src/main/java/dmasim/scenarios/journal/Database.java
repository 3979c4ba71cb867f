package dmasim.scenarios.journal;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The database a durable journal lives in: an embedded H2 file in a data directory, or a
 * PostgreSQL server reached by a JDBC URL. The journal plugin, its writer, the read journal and the
 * registry all connect through this, so they reach the same tables with the same credentials, and
 * every failure is described in one line naming the database ({@link #describe}).
 */
public final class Database {
  /** The two durable backends. */
  public enum Kind {
    H2, POSTGRES
  }

  private final Kind kind;
  private final String url;
  private final String user;
  private final String password;
  private final Path dir;

  private Database(Kind kind, String url, String user, String password, Path dir) {
    this.kind = kind;
    this.url = url;
    this.user = user == null ? "" : user;
    this.password = password == null ? "" : password;
    this.dir = dir;
  }

  /** An H2 file in {@code dir}, opened with {@code url}. */
  public static Database h2(Path dir, String url) {
    return new Database(Kind.H2, url, "sa", "", dir);
  }

  /** A PostgreSQL database; {@code user}/{@code password} may be empty (then the URL carries them, or the server trusts the client). */
  public static Database postgres(String url, String user, String password) {
    return new Database(Kind.POSTGRES, url, user, password, null);
  }

  public Kind kind() {
    return kind;
  }

  public boolean postgres() {
    return kind == Kind.POSTGRES;
  }

  public String url() {
    return url;
  }

  /** The data directory of an H2 journal; null for PostgreSQL. */
  public Path dir() {
    return dir;
  }

  /** Where the journal is, for messages: the data directory, or "the PostgreSQL journal at host:port/db" (never the credentials). */
  public String where() {
    return kind == Kind.H2 ? dir.toString() : "the PostgreSQL journal at " + server(url);
  }

  /** "host:port/database" of a PostgreSQL URL, without its parameters (which may hold a password). */
  public static String server(String url) {
    String s = url.startsWith("jdbc:postgresql://") ? url.substring("jdbc:postgresql://".length()) : url.replaceFirst("^jdbc:postgresql:", "");
    int q = s.indexOf('?');
    return q < 0 ? s : s.substring(0, q);
  }

  /** A new connection (auto-commit on). */
  public Connection connect() throws SQLException {
    if (kind == Kind.H2) return DriverManager.getConnection(url, user, password);
    Properties p = new Properties();
    if (!user.isEmpty()) p.setProperty("user", user);
    if (!password.isEmpty()) p.setProperty("password", password);
    // A server that does not answer is reported after 10 s, not after the driver's default of minutes.
    p.setProperty("connectTimeout", "10");
    p.setProperty("ApplicationName", "dmasim");
    // A JDBC batch of inserts goes to the server as multi-row inserts (a round trip per batch, not per row).
    p.setProperty("reWriteBatchedInserts", "true");
    return DriverManager.getConnection(url, p);
  }

  /** One line naming the cause of {@code e}. */
  public String describe(SQLException e) {
    return kind == Kind.H2 ? JournalFailure.describe(e, dir) : JournalFailure.describePostgres(e, server(url), user);
  }

  /** This database as configuration (for the plugins of an actor system): kind, url, user, password, dir. */
  public Config toConfig() {
    return ConfigFactory.empty()
        .withValue("kind", ConfigValueFactory.fromAnyRef(kind.name().toLowerCase(java.util.Locale.ROOT)))
        .withValue("url", ConfigValueFactory.fromAnyRef(url))
        .withValue("user", ConfigValueFactory.fromAnyRef(user))
        .withValue("password", ConfigValueFactory.fromAnyRef(password))
        .withValue("dir", ConfigValueFactory.fromAnyRef(dir == null ? "" : dir.toString()));
  }

  /** The database {@link #toConfig()} describes. */
  public static Database fromConfig(Config c) {
    if (c.hasPath("kind") && c.getString("kind").equals("postgres")) {
      return postgres(c.getString("url"), c.getString("user"), c.getString("password"));
    }
    return h2(Path.of(c.getString("dir")), c.getString("url"));
  }
}
