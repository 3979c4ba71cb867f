package dmasim.bench;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;
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
    if (args.length > 0 && args[0].equals("throughput")) {
      Throughput.run(args.length > 1 ? Integer.parseInt(args[1]) : 5);
      return;
    }
    int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    // A second argument picks benchmarks by regular expression (e.g. "ControlledWireBenchmark.(canonical|hmm)"); the default runs all.
    org.openjdk.jmh.runner.options.ChainedOptionsBuilder builder = new OptionsBuilder();
    if (args.length > 1) builder = builder.include(args[1]);
    else builder = builder.include(PingPongBenchmark.class.getSimpleName()).include(ControlledWireBenchmark.class.getSimpleName())
        .include(JournalBenchmark.class.getSimpleName()).include(JournalBackendsBenchmark.class.getSimpleName())
        .include(TraceImportBenchmark.class.getSimpleName()).include(StepCostBenchmark.class.getSimpleName());
    // The PostgreSQL cases of JournalBackendsBenchmark need a server: DMASIM_BENCH_POSTGRES_URL (e.g. one started by .ci/postgres.sh).
    String pg = System.getenv("DMASIM_BENCH_POSTGRES_URL");
    builder = pg == null || pg.isBlank() ? builder.param("backend", "h2") : builder.param("backend", "h2", "postgres");
    Options opt = builder
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
    double stepsFaulted = 0;
    double canonicalSteps = 0;
    double hmmSmall = 0;
    double hmmLarge = 0;
    java.util.Map<String, Double> journal = new java.util.HashMap<>();
    java.util.Map<String, Double> backends = new java.util.TreeMap<>();
    java.util.Map<String, Double> stepCost = new java.util.LinkedHashMap<>();
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark();
      if (name.contains("StepCostBenchmark")) stepCost.put(r.getParams().getParam("shape"), secondary(r, "steps"));
      Result primary = r.getPrimaryResult();
      if (name.endsWith("roundTrips")) roundTrips = primary.getScore();
      if (name.endsWith("stepsVolatile")) stepsVolatile = secondary(r, "steps");
      if (name.endsWith("stepsInMemoryJournal")) stepsJournal = secondary(r, "steps");
      if (name.endsWith("stepsVolatileFiveRules")) stepsFaulted = secondary(r, "steps");
      if (name.endsWith("hmmSmallMm")) hmmSmall = secondary(r, "steps");
      if (name.endsWith("hmmLargeMm")) hmmLarge = secondary(r, "steps");
      if (name.contains("TraceImportBenchmark")) journal.put("trace." + name.substring(name.lastIndexOf('.') + 1), secondary(r, "lines"));
      if (name.contains("JournalBackendsBenchmark")) {
        backends.put(r.getParams().getParam("backend") + " " + name.substring(name.lastIndexOf('.') + 1), secondary(r, "rows"));
        continue;
      }
      if (name.contains("JournalBenchmark")) journal.put(name.substring(name.lastIndexOf('.') + 1), secondary(r, "rows"));
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
    double run = journal.getOrDefault("runJournaled", Double.NaN);
    double vol = journal.getOrDefault("runVolatile", Double.NaN);
    double persist = journal.getOrDefault("persist", Double.NaN);
    double insert = journal.getOrDefault("rawInsert", Double.NaN);
    double read = journal.getOrDefault("read", Double.NaN);
    double select = journal.getOrDefault("rawSelect", Double.NaN);
    System.out.printf(Locale.ROOT, "(d) nvme-iova 2x100x4 lazy, steps/s journaled on H2: %,.0f   volatile: %,.0f   ratio %.3f%n", run, vol, run / vol);
    System.out.printf(Locale.ROOT, "(d') journal persist rows/s: %,.0f   raw JDBC batch insert: %,.0f   ratio %.2f%n", persist, insert, persist / insert);
    System.out.printf(Locale.ROOT, "(d'') journal read rows/s:   %,.0f   raw JDBC select:       %,.0f   ratio %.2f%n", read, select, read / select);
    System.out.printf(Locale.ROOT, "(e) controlled-wire steps/s with a 5-rule fault plan: %,.0f   without: %,.0f   ratio %.3f%n", stepsFaulted,
        stepsVolatile, stepsFaulted / stepsVolatile);
    double traceRead = journal.getOrDefault("trace.read", Double.NaN);
    double traceJudge = journal.getOrDefault("trace.readAndJudge", Double.NaN);
    System.out.printf(Locale.ROOT, "(j) import-trace lines/s on a 10^6-line trace, read and judged: %,.0f   read only: %,.0f   ratio %.3f%n", traceJudge,
        traceRead, traceJudge / traceRead);
    double liveVolatile = journal.getOrDefault("liveVolatile", Double.NaN);
    double liveJournaled = journal.getOrDefault("liveJournaled", Double.NaN);
    System.out.printf(Locale.ROOT, "(f) live wire steps/s, volatile: %,.0f   Akka ping-pong round trips/s: %,.0f   ratio %.3f%n", liveVolatile,
        roundTrips, liveVolatile / roundTrips);
    System.out.printf(Locale.ROOT, "(g) live wire journaled on H2, rows persisted/s: %,.0f   raw JDBC batch insert: %,.0f   ratio %.3f%n",
        liveJournaled, insert, liveJournaled / insert);
    double canonicalRate = schedules * canonicalSteps;
    System.out.printf(Locale.ROOT, "(h) HMM mirror steps/s, mm of 10^5 pages: %,.0f   of 64 pages: %,.0f   ratio %.3f%n", hmmLarge, hmmSmall,
        hmmLarge / hmmSmall);
    System.out.printf(Locale.ROOT, "(h') HMM 10^5 pages vs IOMMU-only: canonical (c) steps/s %,.0f ratio %.3f; nvme-iova 2x20x4 (b) ratio %.3f%n",
        canonicalRate, hmmLarge / canonicalRate, hmmLarge / stepsVolatile);
    for (String b : new String[] {"h2", "postgres"}) {
      if (!backends.containsKey(b + " persist") && !backends.containsKey(b + " read")) continue;
      double persist2 = backends.getOrDefault(b + " persist", Double.NaN);
      double insert2 = backends.getOrDefault(b + " rawInsert", Double.NaN);
      double read2 = backends.getOrDefault(b + " read", Double.NaN);
      double direct2 = backends.getOrDefault(b + " readDirect", Double.NaN);
      double select2 = backends.getOrDefault(b + " rawSelect", Double.NaN);
      System.out.printf(Locale.ROOT, "(i) %-8s 10^5-row run, persist rows/s: %,.0f   raw JDBC batch insert: %,.0f   ratio %.2f%n", b, persist2, insert2,
          persist2 / insert2);
      System.out.printf(Locale.ROOT, "(i) %-8s read (Persistence Query) rows/s: %,.0f   raw JDBC select: %,.0f   ratio %.2f;   direct read: %,.0f"
          + "   ratio read/direct %.2f%n", b, read2, select2, read2 / select2, direct2, read2 / direct2);
    }
    if (!stepCost.isEmpty()) {
      // (k) ns per step, model + standard monitors, by CPU queues x live mapped pages; each curve against its first point.
      double queuesBase = stepCost.getOrDefault("2x1000", Double.NaN);
      for (Map.Entry<String, Double> e : stepCost.entrySet()) {
        System.out.printf(Locale.ROOT, "(k) step cost, %-9s (CPU queues x live mapped pages): %,.0f steps/s = %.0f ns/step   vs 2x1000 %.2f%n", e.getKey(),
            e.getValue(), 1e9 / e.getValue(), queuesBase / e.getValue());
      }
    }
    JournalSize.print(System.out);
  }

  private static double secondary(RunResult r, String key) {
    Result res = r.getSecondaryResults().get(key);
    return res == null ? Double.NaN : res.getScore();
  }
}
