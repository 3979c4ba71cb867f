package dmasim.scenarios.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dmasim.chaos.RunOutcome;
import dmasim.chaos.StrategySpec;
import dmasim.protocol.JournalEvent;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunRecord;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.journal.JournalWriter;
import dmasim.scenarios.trace.TraceImport;
import dmasim.scenarios.trace.TraceReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** dmasim import-trace FILE: a kernel trace (ftrace text) judged by the trace monitor and kept as a run. */
@Command(name = "import-trace", mixinStandardHelpOptions = true,
    footer = {"", "Example:", "  dmasim import-trace trace.txt --check", "", "Capture the trace on the machine under test:",
        "  trace-cmd record -e dma -e iommu -e swiotlb -- ./workload", "  trace-cmd report > trace.txt     (or: cat /sys/kernel/tracing/trace > trace.txt)"},
    description = "Parse an ftrace text trace of the dma:, iommu: and swiotlb: events, judge it (device access after unmap or free, unmap of "
        + "what was never mapped, size and direction mismatches, overlapping mappings, ...) and keep it as a run that check, runs and report "
        + "read. Exit 0 when imported (1 with --check when it has violations), 2 when the file is not a trace.")
final class ImportTraceCommand implements Callable<Integer> {
  /** Steps per journal row of an imported trace. */
  static final int ROW_STEPS = 1024;

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE", description = "the trace: 'cat trace' or 'trace-cmd report' output")
  Path file;

  @Option(names = "--check", description = "exit 1 when the trace has a violation (for scripts and CI)")
  boolean check;

  @Option(names = "--whole-life", description = "the trace covers the driver's whole life (from probe to unload): DMA mappings still live at its end "
      + "are leaks (I12)")
  boolean wholeLife;

  @Option(names = "--json", description = "print one JSON object instead of text")
  boolean json;

  @Mixin JournalOptions journal;

  @Override
  public Integer call() {
    // A pipe (/dev/stdin, <(...)) can be read once: it is copied to a temporary file, which both passes read.
    Path read = file;
    Path spooled = null;
    if (java.nio.file.Files.exists(file) && !java.nio.file.Files.isRegularFile(file) && !java.nio.file.Files.isDirectory(file)) {
      try {
        spooled = java.nio.file.Files.createTempFile("dmasim-import-", ".trace");
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
          java.nio.file.Files.copy(in, spooled, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      } catch (java.io.IOException e) {
        throw new dmasim.scenarios.UserError("cannot read " + file + ": " + e.getMessage());
      }
      read = spooled;
    }
    try {
      return importFrom(read);
    } finally {
      if (spooled != null) {
        try {
          java.nio.file.Files.deleteIfExists(spooled);
        } catch (java.io.IOException e) {
          // a temporary file left behind
        }
      }
    }
  }

  private Integer importFrom(Path read) {
    TraceImport.Sniff sniff = TraceImport.sniff(read, file); // a file that is not a trace is refused before the journal is opened
    String runId = sniff.runId(wholeLife);
    StrategySpec strategy = new StrategySpec("trace", wholeLife ? 1 : 0);
    RunOptions options = new RunOptions(0, null, 1, 1, 1, Long.MAX_VALUE);
    TraceImport.Result[] result = new TraceImport.Result[1];
    RunReport report;
    try (Session session = new Session(journal, spec.commandLine().getErr())) {
      boolean durable = !session.journal.kind().equals("memory");
      JournalWriter writer = durable ? JournalWriter.get(session.system) : null;
      report = session.journal.keep(RunRecord.planned(runId, sniff.scenario(), options, strategy, 0, 0, null, 0), journalId -> {
        // one stream of rows of up to ROW_STEPS steps in step order: a durable prefix of the rows is a prefix of the steps
        List<String> actors = new ArrayList<>();
        List<JournalEvent.EnvelopeHandled> handled = new ArrayList<>();
        long[] rows = {0};
        Runnable row = () -> {
          if (handled.isEmpty()) return;
          writer.append(journalId + "|trace", ++rows[0], new JournalEvent.StepsHandled(actors, handled));
          actors.clear();
          handled.clear();
        };
        TraceImport.Result r = TraceImport.judge(read, wholeLife, st -> {
          if (writer == null) return;
          actors.add(st.actor());
          handled.add(new JournalEvent.EnvelopeHandled(st.envelope(), st.step(), st.at(), st.cause(), st.type(), st.events()));
          if (handled.size() == ROW_STEPS) row.run();
        });
        if (writer != null) row.run();
        if (r.counts().events - r.counts().lostMarkers == 0) { // the first pass saw event lines, yet none could be read
          throw new dmasim.scenarios.UserError(file + ": none of its dma/iommu/swiotlb lines could be read, e.g. "
              + (r.counts().samples.isEmpty() ? "?" : r.counts().samples.get(0)));
        }
        result[0] = r;
        return new RunReport(sniff.scenario(), runId, 0, strategy.toString(), options, "trace", new RunOutcome("trace-end", r.steps(), r.lastTimeNs(), 0, 0,
            ""), r.violations(), stats(sniff, r), strategy, 0, 0, r.actors().size(), null, Map.of());
      });
    }
    TraceImport.Result r = result[0];
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(json(sniff, r, report, !journal.kind.equals("memory")));
    } else {
      text(out, sniff, r, report, !journal.kind.equals("memory"));
    }
    out.flush();
    if (check && !report.violations().isEmpty()) return Main.VIOLATION;
    if (check && r.counts().unparsed > 0) {
      // a line that could not be read may hold the bug: the verdict covers only what was read
      spec.commandLine().getErr().println("dmasim: " + r.counts().unparsed + " line(s) of " + file + " could not be read (" + (r.counts().unparsed == 1
          ? "line " : "lines ") + r.counts().ranges() + "): --check cannot call it clean");
      spec.commandLine().getErr().flush();
      return Main.BAD_INPUT;
    }
    return Main.CLEAN;
  }

  private static Map<String, Object> stats(TraceImport.Sniff sniff, TraceImport.Result r) {
    TraceReader.Counts c = r.counts();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("lines", c.lines);
    m.put("events", c.events);
    m.put("otherEventLines", c.otherLines);
    m.put("headerLines", c.headers);
    m.put("unparsedLines", c.unparsed);
    m.put("wrappedLines", c.wrapped);
    m.put("lostEventMarkers", c.lostMarkers);
    m.put("iommuLinesAttributed", c.attributed);
    m.put("iommuLinesUnattributed", c.unattributed);
    m.put("liveMappingsAtEnd", r.liveMappings());
    m.put("liveIommuMappingsAtEnd", r.liveIommuMappings());
    m.put("unseenMappingsUsed", r.unseen());
    return m;
  }

  private void text(PrintWriter out, TraceImport.Sniff sniff, TraceImport.Result r, RunReport report, boolean kept) {
    TraceReader.Counts c = r.counts();
    out.printf(Locale.ROOT, "dmasim import-trace %s (sha256 %s)%n", file, sniff.sha256().substring(0, 16));
    Output.row(out, "verdict", report.verdict() + (report.violations().isEmpty() ? "" : " (" + report.violations().size() + (r.dropped() > 0 ? "+"
        + r.dropped() : "") + ")") + (c.unparsed == 0 ? "" : ", of the lines that could be read"));
    Output.row(out, "run id", runId(report, kept));
    Output.row(out, "lines", String.format(Locale.ROOT, "%,d: %,d events read, %,d lines of other events, %,d header lines, %,d unparsed", c.lines,
        c.events, c.otherLines, c.headers, c.unparsed));
    if (c.unparsed > 0) {
      Output.row(out, "unparsed lines", c.ranges());
      for (String s : c.samples) out.println("    " + s);
    }
    if (c.wrapped > 0) Output.row(out, "wrapped lines joined", String.format(Locale.ROOT, "%,d", c.wrapped));
    if (!c.otherEvents.isEmpty()) {
      Output.row(out, "other events (not judged)", c.otherEvents.entrySet().stream().limit(8).map(e -> e.getKey() + " " + e.getValue())
          .collect(Collectors.joining(", ")) + (c.otherEvents.size() > 8 ? ", ..." : ""));
    }
    if (c.lostMarkers > 0) Output.row(out, "lost events", c.lostMarkers + " marker(s): the ring buffer overwrote events; verdicts near them say so");
    Output.row(out, "actors", String.join(", ", r.actors()));
    if (c.attributed + c.unattributed > 0) {
      Output.row(out, "iommu map/unmap lines", String.format(Locale.ROOT, "%,d attributed to a device's DMA API call, %,d to no device (\"?\")",
          c.attributed, c.unattributed));
    }
    if (r.unseen() > 0) {
      Output.row(out, "made before the trace", String.format(Locale.ROOT, "%,d unmap(s) and sync(s) of DMA mappings the trace never saw made (a trace "
          + "is a window: not judged; --whole-life judges them)", r.unseen()));
    }
    Output.row(out, "live at the end", String.format(Locale.ROOT, "%,d DMA API mapping(s), %,d IOMMU mapping(s)%s", r.liveMappings(),
        r.liveIommuMappings(), wholeLife ? " (judged: --whole-life)" : " (a trace is a window: not judged; --whole-life judges them)"));
    Output.violations(out, report);
    if (kept) {
      out.printf(Locale.ROOT, "%nkept as %s: 'dmasim report %s --perfetto trace.json' draws it, 'dmasim check %s' judges it again%n", report.runId(),
          report.runId(), report.runId());
    }
  }

  private static String runId(RunReport report, boolean kept) {
    return report.runId() + (kept ? "" : " (not kept: --journal memory)");
  }

  private String json(TraceImport.Sniff sniff, TraceImport.Result r, RunReport report, boolean kept) {
    try {
      @SuppressWarnings("unchecked")
      Map<String, Object> m = new ObjectMapper().readValue(Output.json(report), LinkedHashMap.class);
      m.put("file", file.toString());
      m.put("sha256", sniff.sha256());
      m.put("kept", kept);
      m.put("unparsedLineRanges", r.counts().unparsedRanges);
      m.put("unparsedSamples", r.counts().samples);
      m.put("otherEvents", r.counts().otherEvents);
      m.put("actors", r.actors());
      m.put("droppedViolations", r.dropped());
      return new ObjectMapper().writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
