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
@Command(name = "runs", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim runs --verdict violation --json"},
    description = "List the kept runs and incomplete recordings of the embedded journal, newest first.")
final class RunsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin JournalOptions journal;

  @picocli.CommandLine.Option(names = "--scenario", paramLabel = "S", description = "only runs of this scenario (a name, or a file as run recorded it)")
  String scenario;

  @picocli.CommandLine.Option(names = "--verdict", paramLabel = "V", description = "only runs with this verdict: clean, violation or incomplete")
  String verdict;

  @picocli.CommandLine.Option(names = "--json", description = "one JSON object per line instead of the table")
  boolean json;

  @Override
  public Integer call() {
    if (verdict != null && !List.of("clean", "violation", "incomplete").contains(verdict)) {
      throw new dmasim.scenarios.UserError("--verdict must be clean, violation or incomplete, got '" + verdict + "'");
    }
    PrintWriter out = spec.commandLine().getOut();
    try (Session session = new Session(journal, spec.commandLine().getErr(), true, true)) {
      List<Recordings.Stored> all = session.journal.list().stream().filter(s -> scenario == null || s.record().scenario().equals(scenario)
          || traceNamed(s.record().scenario(), scenario)
          || s.record().scenario().endsWith("/" + scenario) || s.record().scenario().endsWith("/" + scenario + ".conf"))
          .filter(s -> verdict == null || (s.complete() ? s.record().verdict() : "incomplete").equals(verdict)).toList();
      if (json) {
        for (Recordings.Stored s : all) out.println(json(s));
        out.flush();
        return Main.CLEAN;
      }
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

  /** One recording as the registry holds it: run and recording ids, scenario, options (as JSON, whatever component they configure), verdict, versions, times. */
  private static String json(Recordings.Stored s) {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    dmasim.scenarios.RunRecord r = s.record();
    m.put("runId", r.runId());
    m.put("recordingId", s.recordingId());
    m.put("scenario", r.scenario());
    java.util.Map<String, Object> o = new java.util.LinkedHashMap<>();
    o.put("seed", r.options().seed());
    o.put("iommu", r.options().mode() == null ? null : r.options().mode().name().toLowerCase(Locale.ROOT).replace('_', '-'));
    o.put("cpus", r.options().cpus());
    o.put("requests", r.options().requests());
    o.put("segments", r.options().segments());
    o.put("maxSteps", r.options().maxSteps());
    m.put("options", o);
    m.put("strategy", r.strategy());
    m.put("state", s.complete() ? "kept" : s.state());
    m.put("complete", s.complete());
    m.put("verdict", s.complete() ? r.verdict() : "incomplete");
    m.put("firstMonitor", s.complete() ? r.monitor() : null);
    m.put("steps", s.complete() ? r.steps() : s.recordedStep());
    m.put("version", s.version());
    m.put("started", s.started());
    m.put("finished", s.finished());
    if (!s.complete()) m.put("why", s.why());
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An imported trace ("trace:FILE#SHA12") is found by its file name, or by "trace" for every imported trace. */
  private static boolean traceNamed(String recorded, String asked) {
    if (!recorded.startsWith(dmasim.scenarios.trace.TraceImport.SCENARIO_PREFIX)) return false;
    String name = recorded.substring(dmasim.scenarios.trace.TraceImport.SCENARIO_PREFIX.length(), recorded.lastIndexOf('#'));
    return asked.equals("trace") || asked.equals(name);
  }
}
