package dmasim.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Exploration throughput in one JMH run (`./benchmarks/run throughput`): Akka's ping-pong beside
 * controlled steps, and schedules per second of the canonical scenario (reused actors, spawned
 * actors, and whole `explore` calls with one and two workers). Two forks, a long warm-up, and
 * every measured iteration printed, with whether the last three of each fork agree within 10 %.
 */
final class Throughput {
  private Throughput() {}

  /** What each benchmark's figure is: its primary score or one of its counters. */
  private static final Map<String, String> FIGURES = new LinkedHashMap<>();

  static {
    FIGURES.put("PingPongBenchmark.roundTrips", "");
    FIGURES.put("ControlledWireBenchmark.stepsVolatile", "steps");
    FIGURES.put("ControlledWireBenchmark.canonicalSchedule", "");
    FIGURES.put("ControlledWireBenchmark.canonicalScheduleSpawning", "");
    FIGURES.put("ControlledWireBenchmark.exploreCanonicalOneWorker", "schedules");
    FIGURES.put("ControlledWireBenchmark.exploreCanonicalTwoWorkers", "schedules");
  }

  static void run(int iterations) throws Exception {
    OptionsBuilder b = new OptionsBuilder();
    for (String name : FIGURES.keySet()) b.include(name.replace(".", "\\.") + "$");
    Options opt = b.mode(org.openjdk.jmh.annotations.Mode.Throughput)
        .timeUnit(java.util.concurrent.TimeUnit.SECONDS)
        .forks(2)
        .warmupIterations(10).warmupTime(TimeValue.seconds(2))
        .measurementIterations(iterations).measurementTime(TimeValue.seconds(3))
        .jvmArgsAppend("-Xmx2g")
        .build();
    Collection<RunResult> results = new Runner(opt).run();
    Map<String, Double> mean = new LinkedHashMap<>();
    System.out.println();
    System.out.println("Every measured iteration, per fork (last three within 10 %: yes/no):");
    for (RunResult r : results) {
      String full = r.getParams().getBenchmark();
      String name = full.substring(full.lastIndexOf('.', full.lastIndexOf('.') - 1) + 1);
      String counter = FIGURES.getOrDefault(name, "");
      List<Double> all = new ArrayList<>();
      int fork = 0;
      for (BenchmarkResult br : r.getBenchmarkResults()) {
        fork++;
        List<Double> its = new ArrayList<>();
        for (IterationResult it : br.getIterationResults()) its.add(score(it.getPrimaryResult(), it.getSecondaryResults().get(counter), counter));
        all.addAll(its);
        System.out.printf(Locale.ROOT, "  %-48s fork %d: %s   last three within 10 %%: %s%n", name, fork, format(its), steady(its) ? "yes" : "no");
      }
      mean.put(name, all.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN));
    }
    double pingPong = mean.getOrDefault("PingPongBenchmark.roundTrips", Double.NaN);
    double steps = mean.getOrDefault("ControlledWireBenchmark.stepsVolatile", Double.NaN);
    double reused = mean.getOrDefault("ControlledWireBenchmark.canonicalSchedule", Double.NaN);
    double spawned = mean.getOrDefault("ControlledWireBenchmark.canonicalScheduleSpawning", Double.NaN);
    double one = mean.getOrDefault("ControlledWireBenchmark.exploreCanonicalOneWorker", Double.NaN);
    double two = mean.getOrDefault("ControlledWireBenchmark.exploreCanonicalTwoWorkers", Double.NaN);
    System.out.println();
    System.out.printf(Locale.ROOT, "(a) Akka ping-pong round trips/s:                    %,12.0f%n", pingPong);
    System.out.printf(Locale.ROOT, "(b) controlled steps/s (nvme-iova 2x20x4):           %,12.0f   (b)/(a) = %.3f (goal >= 0.5)%n", steps, steps / pingPong);
    System.out.printf(Locale.ROOT, "(c) canonical schedules/s, actors reused:            %,12.0f%n", reused);
    System.out.printf(Locale.ROOT, "(c') canonical schedules/s, actors spawned:          %,12.0f   (c)/(c') = %.2f%n", spawned, reused / spawned);
    System.out.printf(Locale.ROOT, "(k) explore canonical, 1 worker, schedules/s:        %,12.0f%n", one);
    System.out.printf(Locale.ROOT, "(k') explore canonical, 2 workers, schedules/s:      %,12.0f   (goal >= 10,000)%n", two);
  }

  private static double score(Result primary, Result secondary, String counter) {
    return counter.isEmpty() || secondary == null ? primary.getScore() : secondary.getScore();
  }

  private static String format(List<Double> its) {
    StringBuilder out = new StringBuilder();
    for (double d : its) out.append(out.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%,.0f", d));
    return out.toString();
  }

  /** Whether the last three iterations lie within 10 % of each other (max / min <= 1.1). */
  static boolean steady(List<Double> its) {
    if (its.size() < 3) return false;
    List<Double> last = its.subList(its.size() - 3, its.size());
    double max = last.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    double min = last.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    return min > 0 && max / min <= 1.1;
  }
}
