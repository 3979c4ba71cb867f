package dmasim.bench;

import dmasim.scenarios.trace.TraceImport;
import dmasim.scenarios.trace.TraceReader;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * (j) dmasim import-trace on a generated 10^6-line trace ({@link TraceGen}): reading alone
 * (prefix and body parsing, wrapped-line handling, IOMMU attribution) against reading and judging
 * (the trace monitor through a monitor suite, every event a step), in lines per second. The
 * journaled import is measured on the command line (BENCHMARKS.md).
 */
@State(Scope.Benchmark)
public class TraceImportBenchmark {
  /** Lines read in an iteration, reported per second by JMH. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Lines {
    public long lines;

    @Setup(Level.Iteration)
    public void reset() {
      lines = 0;
    }
  }

  static final long LINES = 1_000_000;
  Path dir;
  Path trace;

  @Setup(Level.Trial)
  public void generate() throws Exception {
    dir = Files.createTempDirectory("dmasim-trace-bench");
    trace = dir.resolve("trace.txt");
    TraceGen.write(trace, LINES);
  }

  @TearDown(Level.Trial)
  public void remove() throws Exception {
    Files.deleteIfExists(trace);
    Files.deleteIfExists(dir);
  }

  @Benchmark
  public long read(Lines lines) throws Exception {
    long[] events = {0};
    TraceReader r = new TraceReader(item -> events[0]++);
    try (BufferedReader in = Files.newBufferedReader(trace, StandardCharsets.UTF_8)) {
      r.read(in);
    }
    lines.lines += r.counts().lines;
    return events[0];
  }

  @Benchmark
  public long readAndJudge(Lines lines) {
    TraceImport.Result r = TraceImport.judge(trace, false, st -> {});
    if (!r.violations().isEmpty()) throw new IllegalStateException("the generated trace is clean: " + r.violations().get(0).message());
    lines.lines += r.counts().lines;
    return r.steps();
  }
}
