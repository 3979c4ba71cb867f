package dmasim.scenarios.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dmasim.scenarios.Journal;
import dmasim.scenarios.UserError;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where runs are journaled: {@code --journal h2} (default: an embedded file in {@code --data-dir}),
 * {@code postgres} (a PostgreSQL database: {@code --journal-url}, else {@code dmasim.journal.postgres.url}
 * in the configuration, which is the environment's {@code DMASIM_POSTGRES_URL} unless set; user
 * and password in the URL or {@code DMASIM_POSTGRES_USER} / {@code DMASIM_POSTGRES_PASSWORD}) or
 * {@code memory}.
 */
final class JournalOptions {
  @Option(names = "--journal", defaultValue = "h2", description = "h2 (embedded file, default), postgres (a PostgreSQL database: --journal-url) or memory")
  String kind;

  @Option(names = "--data-dir", description = "directory of the embedded (h2) journal (default dmasim-data)")
  Path dataDir;

  @Option(names = "--journal-url", description = "JDBC URL of the PostgreSQL journal (jdbc:postgresql://HOST:PORT/DB); default: the configuration's"
      + " dmasim.journal.postgres.url, which is $DMASIM_POSTGRES_URL unless set")
  String journalUrl;

  @Option(names = "--max-journal-mb",
      description = "stop a run (exit 3, the run incomplete) when the h2 journal file would grow past this many MB (default " + Journal.DEFAULT_MAX_MB
          + "); a run also stops when less than 64 MB are left on the disk. Not for postgres (the server manages its storage)")
  Long maxJournalMb;

  /** Options naming the in-memory journal (commands that keep nothing). */
  static JournalOptions memory() {
    JournalOptions o = new JournalOptions();
    o.kind = "memory";
    return o;
  }

  /** The journal these options name. */
  Journal journal() {
    if (!kind.equals("h2") && dataDir != null) throw new UserError("--data-dir is for --journal h2, not " + kind);
    if (!kind.equals("postgres") && journalUrl != null) throw new UserError("--journal-url is for --journal postgres, not " + kind);
    if (kind.equals("postgres") && maxJournalMb != null) {
      throw new UserError("--max-journal-mb limits the h2 journal file; a PostgreSQL journal's size is the server's to manage");
    }
    long maxMb = maxJournalMb == null ? Journal.DEFAULT_MAX_MB : maxJournalMb;
    return switch (kind) {
      case "memory" -> Journal.memory();
      case "h2" -> {
        if (dataDir != null && dataDir.toString().isBlank()) throw new UserError("--data-dir must not be empty");
        yield Journal.h2(dataDir == null ? Path.of("dmasim-data") : dataDir, maxMb);
      }
      case "postgres" -> {
        Config c = ConfigFactory.load().getConfig("dmasim.journal.postgres");
        String url = journalUrl != null ? journalUrl : c.getString("url");
        if (journalUrl != null && journalUrl.isBlank()) throw new UserError("--journal-url must not be empty");
        yield Journal.postgres(url, c.getString("user"), c.getString("password"));
      }
      default -> throw new UserError("unknown journal '" + kind + "' (use h2, postgres or memory)");
    };
  }

  /**
   * The options that name this journal again, so printed commands work when pasted: " --data-dir DIR"
   * for h2; " --journal postgres" (with --journal-url when it was given and holds no
   * password); else "".
   */
  String dataDirOption() {
    if ("postgres".equals(kind)) {
      String url = journalUrl != null && !journalUrl.toLowerCase(java.util.Locale.ROOT).contains("password")
          ? " --journal-url " + dmasim.scenarios.Shell.quote(journalUrl) : "";
      return " --journal postgres" + url;
    }
    return " --data-dir " + dmasim.scenarios.Shell.quote((dataDir == null ? Path.of("dmasim-data") : dataDir).toString());
  }
}
