package dmasim.scenarios.cli;

import dmasim.scenarios.HtmlReport;
import dmasim.scenarios.PerfettoTrace;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.SystemSpec;
import dmasim.scenarios.UserError;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
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

/** dmasim report RUN_ID --perfetto FILE --html FILE: a kept run as a trace the Perfetto UI opens, as a page any browser opens, or both. */
@Command(name = "report", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim report nvme-iova-missing-sync-s1-a9ae2333 --html run.html",
    "  dmasim report nvme-iova-missing-sync-s1-a9ae2333 --perfetto run.json"},
    description = {"Write a kept run as a self-contained HTML page (a lane per actor, arrows for envelopes, faults and violations marked, the "
        + "violation's causal chain, a step slider, actor states), as Chrome trace-event JSON (Perfetto UI, chrome://tracing), or both.",
        "Give --html, --perfetto or both."})
final class ReportCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN_ID")
  String runId;

  @Option(names = "--perfetto", paramLabel = "FILE", description = "write the trace-event JSON here")
  Path perfetto;

  @Option(names = "--html", paramLabel = "FILE", description = "write the HTML page here (it loads nothing from the network)")
  Path html;

  @Mixin JournalOptions journal;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (perfetto == null && html == null) throw new UserError("report needs --html FILE, --perfetto FILE or both");
    if (perfetto != null && html != null && perfetto.toAbsolutePath().normalize().equals(html.toAbsolutePath().normalize())) {
      throw new UserError("--html and --perfetto name the same file " + html);
    }
    try (Session session = new Session(journal, spec.commandLine().getErr(), true, true)) {
      Session.Kept kept = session.kept(runId);
      List<RecordedStep> steps = kept.schedule(session.journal.read(session.system, kept.stored()));
      if (steps.isEmpty()) throw new UserError("run " + runId + " is " + kept.stored().status() + " and has no step to show");
      // the violations as the monitors judge the recorded steps (a run of another model version is shown without them)
      boolean judged = dmasim.scenarios.Journal.VERSION.equals(kept.stored().version());
      List<dmasim.actors.monitor.Violation> violations = judged ? kept.judge(steps) : List.of();
      long lanes = steps.stream().map(RecordedStep::actor).distinct().count();
      if (!kept.stored().complete()) {
        // a killed or interrupted run: what it recorded, judged as far as it came (its end was never reached)
        out.printf(Locale.ROOT, "run %s is %s: drawing the %d steps it recorded%n", runId, kept.stored().status(), steps.size());
      }
      if (perfetto != null) {
        write(perfetto, PerfettoTrace.of(kept.record(), steps, violations));
        out.printf(Locale.ROOT, "wrote %s: %d steps on %d tracks, %d violation(s) marked; open it in https://ui.perfetto.dev or chrome://tracing%n",
            perfetto, steps.size(), lanes, violations.size());
      }
      if (html != null) {
        String judgedBy = kept.trace() ? "as the Trace monitor judges the imported kernel trace" : judged ? "as today's monitors judge the recording"
            : "not judged: the run was recorded by " + kept.stored().version() + ", whose monitors this version does not have";
        SystemSpec system = null; // an imported trace has no model actors whose states could be shown
        if (!kept.trace()) {
          try {
            system = kept.scenario().build().apply(kept.record().options());
          } catch (IllegalArgumentException e) {
            throw new UserError(kept.scenario().name() + ": " + e.getMessage());
          }
        }
        String description = kept.trace() ? "kernel trace " + kept.record().scenario().substring(dmasim.scenarios.trace.TraceImport.SCENARIO_PREFIX.length())
            + " (dmasim import-trace)" : kept.scenario().description();
        HtmlReport page = HtmlReport.of(kept.record(), description, steps, violations, judgedBy, system);
        write(html, page.html());
        out.printf(Locale.ROOT, "wrote %s: %d steps on %d lanes, %d violation(s) marked, %s; open it in a browser%n", html, steps.size(),
            page.lanes(), violations.size(), page.states() ? "actor states at every step"
                : kept.trace() ? "the trace's events (an imported trace has no model states)" : "events only (actor states are in the page for runs of at most " + HtmlReport.STATE_STEPS + " steps; dmasim inspect shows any)");
      }
      out.flush();
      return Main.CLEAN;
    }
  }

  /** Writes {@code text} to {@code file}, creating its directory; a file that cannot be written is the user's to fix (one line). */
  private static void write(Path file, String text) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UserError("cannot write " + file + ": " + why(e));
    }
  }

  private static String why(IOException e) {
    if (e instanceof AccessDeniedException) return "permission denied";
    if (e instanceof FileAlreadyExistsException f) return f.getFile() + " exists and is not a directory";
    if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
    return e.getMessage();
  }
}
