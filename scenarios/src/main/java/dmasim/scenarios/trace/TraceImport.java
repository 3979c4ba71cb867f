package dmasim.scenarios.trace;

import dmasim.actors.monitor.MonitorSuite;
import dmasim.actors.monitor.RunStats;
import dmasim.actors.monitor.TraceMonitor;
import dmasim.actors.monitor.Violation;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Owned;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.UserError;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * {@code dmasim import-trace}: a kernel trace held against the trace monitor. The file is read
 * twice, streaming both times: once to hash it (the run id) and to refuse what is not a trace before
 * anything is recorded, once to parse, judge and journal it, one step per event (the envelope id is
 * the line: "line#42"; an event's cause is the latest earlier line about the same mapping).
 */
public final class TraceImport {
  private TraceImport() {}

  /** Scenario names of imported traces start with this. */
  public static final String SCENARIO_PREFIX = "trace:";

  /** What the first pass found: the file's hash and that it holds events dmasim reads. */
  public record Sniff(Path file, String sha256) {
    /** The file as the user named it (a pipe's contents are read from a copy). */
    /** "trace-NAME-1a2b3c4d" (+ "-whole-life"): the same file imported the same way is the same run. */
    public String runId(boolean wholeLife) {
      String base = file.getFileName().toString();
      int dot = base.lastIndexOf('.');
      if (dot > 0) base = base.substring(0, dot);
      String slug = base.replaceAll("[^A-Za-z0-9_.-]+", "-").replaceAll("^-+|-+$", "");
      if (slug.length() > 40) slug = slug.substring(0, 40);
      if (slug.isEmpty()) slug = "file";
      return "trace-" + slug + "-" + sha256.substring(0, 8) + (wholeLife ? "-whole-life" : "");
    }

    /** The registry's scenario: "trace:NAME#SHA12". */
    public String scenario() {
      return SCENARIO_PREFIX + file.getFileName() + "#" + sha256.substring(0, 12);
    }
  }

  /** The outcome of the second pass. */
  public record Result(TraceReader.Counts counts, List<Violation> violations, long dropped, long steps, long lastTimeNs, TreeSet<String> actors,
      long liveMappings, long liveIommuMappings, long unseen) {}

  /** The first pass: hash and sniff (parsing lines only until the first event dmasim reads). A file that is missing, binary, empty, not ftrace text or without a single event dmasim reads is a user error. */
  public static Sniff sniff(Path file) {
    return sniff(file, file);
  }

  /** {@link #sniff(Path)} of {@code read}, a copy of {@code file} (a pipe is read twice from a copy), named {@code file} in messages and the run id. */
  public static Sniff sniff(Path read, Path file) {
    if (Files.isDirectory(file)) throw new UserError(file + " is a directory, not a trace file");
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    long headers = 0;
    long prefixed = 0;
    long events = 0;
    String firstLine = null;
    TreeSet<String> others = new TreeSet<>();
    // every byte passes the digest once, as it comes from the file; the first 64 KiB are looked at, then read again from the buffer
    try (java.io.BufferedInputStream all = new java.io.BufferedInputStream(new java.security.DigestInputStream(Files.newInputStream(read), sha), 1 << 17)) {
      all.mark(1 << 16);
      byte[] head = all.readNBytes(1 << 16);
      all.reset();
      if (head.length == 0) throw new UserError(file + " is empty: not a trace");
      if (head.length >= 2 && head[0] == 0x1f && head[1] == (byte) 0x8b) throw new UserError(file + " is gzip-compressed: decompress it first (gunzip)");
      for (byte b : head) {
        if (b == 0) {
          throw new UserError(file + " is a binary file, not ftrace text (a trace-cmd trace.dat? convert it: trace-cmd report -i " + file
              + " > trace.txt)");
        }
      }
      try (InputStreamReader in = new InputStreamReader(all, StandardCharsets.UTF_8)) {
        TraceLines source = new TraceLines(in);
        String s;
        while ((s = source.next()) != null) {
          if (s == TraceLines.TOO_LONG) continue;
          if (s.startsWith("# tracer:") || s.startsWith("cpus=")) headers++;
          if (firstLine == null && !s.isBlank()) firstLine = s.length() > 100 ? s.substring(0, 97) + "..." : s;
          if (s.indexOf(" [") < 0) continue;
          Ftrace.Line p = Ftrace.parse(s);
          if (p == null) continue;
          prefixed++;
          if (Ftrace.EVENTS.contains(p.event())) {
            events++;
            break; // a trace with events: the rest of the file is only hashed
          }
          if (others.size() < 5) others.add(p.event());
        }
        byte[] skip = new byte[1 << 20];
        while (all.read(skip) >= 0) {
          // the rest of the file only through the digest
        }
      }
    } catch (NoSuchFileException e) {
      throw new UserError("no trace file " + file);
    } catch (IOException e) {
      throw new UserError("cannot read " + file + ": " + e.getMessage());
    }
    if (prefixed == 0 && headers > 0) throw new UserError(file + " is a trace with no events at all (only its header); record them with: trace-cmd record -e dma -e iommu -e swiotlb");
    if (prefixed == 0) {
      throw new UserError(file + " is not an ftrace text trace: no line has the shape 'TASK-PID [CPU] SECONDS: EVENT: ...' (line 1: "
          + (firstLine == null ? "blank" : firstLine) + ")");
    }
    if (events == 0) {
      throw new UserError(file + " has no dma:, iommu: or swiotlb: events (" + prefixed + " event line(s) of other kinds, e.g. " + String.join(", ", others)
          + "); record them with: trace-cmd record -e dma -e iommu -e swiotlb");
    }
    return new Sniff(file, HexFormat.of().formatHex(sha.digest()));
  }

  /** A fresh suite holding only the trace monitor. */
  public static MonitorSuite suite(boolean wholeLife) {
    return new MonitorSuite(List.of(new TraceMonitor(wholeLife)), new RunStats(null));
  }

  /**
   * The second pass: every event judged in line order and handed to {@code journal} as a step.
   * A trace is judged to its end (all its violations, not only the first).
   */
  public static Result judge(Path file, boolean wholeLife, Consumer<RecordedStep> journal) {
    MonitorSuite suite = suite(wholeLife);
    TraceMonitor monitor = (TraceMonitor) suite.monitors().get(0);
    TreeSet<String> actors = new TreeSet<>();
    long[] step = {0};
    long[] time = {0};
    // the latest line about each mapping ("dev@0xADDR"), for causes; bounded like the monitors' memory
    Map<String, Long> lastLine = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
        return size() > 65_536;
      }
    };
    TraceReader reader = new TraceReader(item -> {
      String owner = item.event() instanceof Owned o ? o.owner() : null;
      Long before = owner == null ? null : lastLine.put(owner, item.line());
      EnvelopeId id = new EnvelopeId("line", item.line());
      EnvelopeId cause = before == null ? null : new EnvelopeId("line", before);
      long at = item.timeNs() < 0 ? time[0] : item.timeNs();
      time[0] = Math.max(time[0], at);
      RecordedStep st = new RecordedStep(++step[0], item.actor(), id, at, cause, item.type(), List.of(item.event()));
      actors.add(item.actor());
      suite.observeRecorded(st.step(), st.envelope(), st.actor(), st.cause(), st.at(), st.type(), st.events());
      journal.accept(st);
    });
    try (InputStreamReader in = new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8)) {
      reader.read(in); // bytes that are not UTF-8 (a task name) read as U+FFFD, as in the first pass
    } catch (IOException e) {
      throw new UserError("cannot read " + file + ": " + e.getMessage());
    }
    suite.end(step[0], time[0]);
    return new Result(reader.counts(), suite.violations(), suite.droppedViolations(), step[0], time[0], actors, monitor.liveMappings(),
        monitor.liveIommuMappings(), monitor.unseen());
  }

  /** Today's trace monitor over the steps of a kept imported trace (dmasim check, report). */
  public static List<Violation> recheck(List<RecordedStep> steps, boolean wholeLife) {
    MonitorSuite suite = suite(wholeLife);
    long last = 0;
    long time = 0;
    for (RecordedStep st : steps) {
      suite.observeRecorded(st.step(), st.envelope(), st.actor(), st.cause(), st.at(), st.type(), st.events());
      last = st.step();
      time = st.at();
    }
    suite.end(last, time);
    return suite.violations();
  }
}
