package dmasim.scenarios.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where runs are journaled. */
final class JournalOptions {
  @Option(names = "--journal", defaultValue = "h2", description = "h2 (embedded file, default) or memory")
  String kind;

  @Option(names = "--data-dir", defaultValue = "dmasim-data", description = "directory of the embedded journal (default ${DEFAULT-VALUE})")
  Path dataDir;

  /** " --data-dir DIR" when a data directory was given, so printed commands work when pasted; else "". */
  String dataDirOption() {
    return dataDir == null ? "" : " --data-dir " + dataDir;
  }
}
