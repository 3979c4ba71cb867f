package dmasim.scenarios.cli;

import dmasim.scenarios.Journal;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where runs are journaled. */
final class JournalOptions {
  @Option(names = "--journal", defaultValue = "h2", description = "h2 (embedded file, default) or memory")
  String kind;

  @Option(names = "--data-dir", defaultValue = "dmasim-data", description = "directory of the embedded journal (default ${DEFAULT-VALUE})")
  Path dataDir;

  @Option(names = "--max-journal-mb", defaultValue = "" + Journal.DEFAULT_MAX_MB,
      description = "stop a run (exit 3, the run incomplete) when the journal file would grow past this many MB (default ${DEFAULT-VALUE});"
          + " a run also stops when less than 64 MB are left on the disk")
  long maxJournalMb;

  /** Options naming the in-memory journal (commands that keep nothing). */
  static JournalOptions memory() {
    JournalOptions o = new JournalOptions();
    o.kind = "memory";
    o.maxJournalMb = Journal.DEFAULT_MAX_MB;
    return o;
  }

  /** The journal these options name. */
  Journal journal() {
    return switch (kind) {
      case "memory" -> Journal.memory();
      case "h2" -> {
        if (dataDir != null && dataDir.toString().isBlank()) throw new dmasim.scenarios.UserError("--data-dir must not be empty");
        yield Journal.h2(dataDir == null ? Path.of("dmasim-data") : dataDir, maxJournalMb);
      }
      default -> throw new dmasim.scenarios.UserError("unknown journal '" + kind + "' (use h2 or memory)");
    };
  }

  /** " --data-dir DIR" when a data directory was given, so printed commands work when pasted; else "". */
  String dataDirOption() {
    return dataDir == null ? "" : " --data-dir " + dmasim.scenarios.Shell.quote(dataDir.toString());
  }
}
