package dmasim.scenarios.cli;

import dmasim.scenarios.journal.Recordings;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** dmasim runs: the recordings in the registry, newest first. */
@Command(name = "runs", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim runs --data-dir dmasim-data"},
    description = "List the kept runs and incomplete recordings of the embedded journal, newest first.")
final class RunsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin JournalOptions journal;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Session session = new Session(journal, spec.commandLine().getErr(), true, true)) {
      List<Recordings.Stored> all = session.journal.list();
      out.printf(Locale.ROOT, "%-56s %-10s %-10s %9s  %s%n", "recording", "state", "verdict", "steps", "started");
      for (Recordings.Stored s : all) {
        long steps = s.complete() ? s.record().steps() : s.recordedStep();
        String state = s.complete() ? "kept" : s.state().equals("damaged") ? "damaged" : "incomplete";
        out.printf(Locale.ROOT, "%-56s %-10s %-10s %9d  %s%s%n", s.recordingId(), state, s.complete() ? s.record().verdict() : "-", steps,
            s.started(), s.complete() ? "" : "  (" + s.why() + ")");
      }
      out.printf(Locale.ROOT, "%d recording(s); replay a kept run by its run id (the part before ~), an incomplete one by its recording id%n",
          all.size());
      out.flush();
      return Main.CLEAN;
    }
  }
}
