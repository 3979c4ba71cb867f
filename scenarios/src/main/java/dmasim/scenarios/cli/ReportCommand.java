package dmasim.scenarios.cli;

import dmasim.scenarios.PerfettoTrace;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.UserError;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** dmasim report RUN_ID --perfetto FILE: a kept run as a trace the Perfetto UI opens. */
@Command(name = "report", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim report nvme-iova-missing-sync-s1-a9ae2333 --perfetto run.json"},
    description = "Write a kept run as Chrome trace-event JSON (Perfetto UI, chrome://tracing): a track per actor, arrows for envelopes, violations marked.")
final class ReportCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN_ID")
  String runId;

  @Option(names = "--perfetto", paramLabel = "FILE", required = true, description = "write the trace-event JSON here")
  Path perfetto;

  @Mixin JournalOptions journal;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Session session = new Session(journal, spec.commandLine().getErr(), true, true)) {
      Session.Kept kept = session.kept(runId);
      List<RecordedStep> steps = session.journal.read(session.system, kept.stored());
      if (steps.isEmpty()) throw new UserError("run " + runId + " is " + kept.stored().status() + " and has no step to show");
      // the violations as the monitors judge the recorded steps (a run of another model version is shown without them)
      List<dmasim.actors.monitor.Violation> violations = dmasim.scenarios.Journal.VERSION.equals(kept.stored().version())
          ? kept.judge(steps) : List.of();
      String trace = PerfettoTrace.of(kept.record(), steps, violations);
      try {
        Path parent = perfetto.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.writeString(perfetto, trace, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UserError("cannot write " + perfetto + ": " + e.getMessage());
      }
      out.printf(Locale.ROOT, "wrote %s: %d steps on %d tracks, %d violation(s) marked; open it in https://ui.perfetto.dev or chrome://tracing%n",
          perfetto, steps.size(), steps.stream().map(RecordedStep::actor).distinct().count(), violations.size());
      out.flush();
      return Main.CLEAN;
    }
  }
}
