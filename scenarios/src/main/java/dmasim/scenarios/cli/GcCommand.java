package dmasim.scenarios.cli;

import dmasim.scenarios.journal.Recordings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** dmasim gc: removes incomplete recordings and rows nobody owns, then compacts the database file. */
@Command(name = "gc", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim gc --data-dir dmasim-data"},
    description = "Remove incomplete recordings (killed, interrupted or failed runs), journal rows no recording owns and runs kept by"
        + " older dmasim versions, then compact the journal file (h2; on postgres the rows are deleted and the server reclaims"
        + " their space). Kept runs are untouched.")
final class GcCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin JournalOptions journal;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    try (Session session = new Session(journal, spec.commandLine().getErr(), true)) {
      if (session.journal.kind().equals("postgres")) {
        // The rows are deleted; the server reclaims their space itself (autovacuum): there is no file to compact.
        Recordings.Removed removed = session.journal.gc();
        out.printf(Locale.ROOT, "removed %d incomplete or outdated recording(s), %d journal row(s) from %s%n", removed.recordings(), removed.rows(),
            session.journal.where());
        out.flush();
        return Main.CLEAN;
      }
      long before = Files.size(session.journal.file());
      Recordings.Removed removed = session.journal.gc();
      session.journal.compact();
      long after = Files.size(session.journal.file());
      out.printf(Locale.ROOT, "removed %d incomplete or outdated recording(s), %d journal row(s); %s: %.1f MB -> %.1f MB%n", removed.recordings(),
          removed.rows(), session.journal.file(), before / 1048576.0, after / 1048576.0);
      out.flush();
      return Main.CLEAN;
    }
  }
}
