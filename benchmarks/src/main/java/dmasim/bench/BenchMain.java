package dmasim.bench;

import java.util.Collection;
import java.util.Locale;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The benchmark command: runs the ping-pong and controlled-wire benchmarks in one JMH run and
 * prints the figures BENCHMARKS.md records, with the ratios measured in the same run.
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Options opt = new OptionsBuilder()
        .include(PingPongBenchmark.class.getSimpleName())
        .include(ControlledWireBenchmark.class.getSimpleName())
        .mode(org.openjdk.jmh.annotations.Mode.Throughput)
        .timeUnit(java.util.concurrent.TimeUnit.SECONDS)
        .forks(1)
        .warmupIterations(3).warmupTime(TimeValue.seconds(2))
        .measurementIterations(iterations).measurementTime(TimeValue.seconds(3))
        .jvmArgsAppend("-Xmx2g")
        .build();
    Collection<RunResult> results = new Runner(opt).run();
    double roundTrips = 0;
    double stepsVolatile = 0;
    double stepsJournal = 0;
    double schedules = 0;
    double canonicalSteps = 0;
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark();
      Result primary = r.getPrimaryResult();
      if (name.endsWith("roundTrips")) roundTrips = primary.getScore();
      if (name.endsWith("stepsVolatile")) stepsVolatile = secondary(r, "steps");
      if (name.endsWith("stepsInMemoryJournal")) stepsJournal = secondary(r, "steps");
      if (name.endsWith("canonicalSchedule")) {
        schedules = primary.getScore();
        canonicalSteps = secondary(r, "steps") / Math.max(1e-9, schedules);
      }
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "(a) Akka ping-pong round trips/s:            %,.0f%n", roundTrips);
    System.out.printf(Locale.ROOT, "(b) controlled-wire steps/s, volatile:        %,.0f   ratio (b)/(a) = %.3f%n", stepsVolatile, stepsVolatile / roundTrips);
    System.out.printf(Locale.ROOT, "(b') steps/s, in-memory journal:              %,.0f   ratio (b')/(a) = %.3f%n", stepsJournal, stepsJournal / roundTrips);
    System.out.printf(Locale.ROOT, "(c) schedules/s, canonical (~%.0f steps):      %,.0f%n", canonicalSteps, schedules);
  }

  private static double secondary(RunResult r, String key) {
    Result res = r.getSecondaryResults().get(key);
    return res == null ? Double.NaN : res.getScore();
  }
}
