package dmasim.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.chaos.StrategySpec;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Explorer;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The rare-races table (BENCHMARKS.md, issue 14): for every buggy catalogue entry, the fraction of
 * random schedules that fail, and the first failing schedule under each strategy, median and p90
 * over seeds 1..S.
 *
 * <p>Every figure is an exploration exactly as {@code dmasim explore ENTRY --strategy X --seed S
 * --stop-at-first --schedules CAP} runs it (the scenario's own workload, {@code --max-steps}
 * 5,000,000): the first violating schedule is the 0-based index that command prints as the first
 * violating schedule, so the same seed gives the same figure, whatever {@code --threads}. The
 * fraction is {@code dmasim explore ENTRY --schedules N --seed 1}'s violating schedules over N.
 * Wall time is read here only, for the closing line: nothing of the model sees it.
 *
 * <p>Arguments: {@code --schedules N} (random schedules for the fraction, default 1000),
 * {@code --seeds S} (default 20), {@code --cap C} (most schedules per search, default 500: a
 * search that finds nothing is reported as "&gt;C" and counted as C + 1 in the median),
 * {@code --strategies LIST} (default random,pct:1,pct:2,pct:3,delay:1,delay:2), {@code --threads T}
 * (the workers of each exploration, as {@code explore --parallel}, default 2), {@code --only REGEX} (entries whose name matches), {@code --file F} (repeatable: these scenario files instead of the catalogue).
 */
public final class RaceTable {
  private RaceTable() {}

  /** One entry's figures: violating schedules out of {@code schedules}, and per strategy the first failing index of each seed (-1: none within the cap). */
  record Row(Scenario scenario, long violating, long schedules, long[][] firsts, double seconds) {
    double fraction() {
      return (double) violating / schedules;
    }
  }

  private static final String USAGE = "usage: benchmarks/races [--schedules N] [--seeds S] [--cap C] [--strategies LIST] [--threads T]"
      + " [--only REGEX] [--file F]...\n  N random schedules for the failing fraction (default 1000); S seeds per strategy (20); C schedules at most"
      + " per search (500);\n  LIST comma-separated strategies (random,pct:1,pct:2,pct:3,delay:1,delay:2); T exploration workers (2);\n"
      + "  REGEX picks buggy catalogue entries by name; F a scenario file instead of the catalogue";

  public static void main(String[] args) throws Exception {
    try {
      table(args);
    } catch (IllegalArgumentException e) { // a bad argument: one line and the usage, no trace
      System.err.println("races: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
    }
  }

  private static long number(String[] args, int i, long min) {
    if (i >= args.length) throw new IllegalArgumentException(args[i - 1] + " needs a value");
    try {
      long v = Long.parseLong(args[i]);
      if (v < min) throw new IllegalArgumentException(args[i - 1] + " must be at least " + min + ", got " + v);
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(args[i - 1] + " takes a number, got '" + args[i] + "'");
    }
  }

  private static String text(String[] args, int i) {
    if (i >= args.length) throw new IllegalArgumentException(args[i - 1] + " needs a value");
    return args[i];
  }

  private static void table(String[] args) throws Exception {
    long schedules = 1000;
    int seeds = 20;
    long cap = 500;
    int threads = 2;
    List<String> strategies = List.of("random", "pct:1", "pct:2", "pct:3", "delay:1", "delay:2");
    Pattern only = null;
    List<Scenario> files = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--schedules" -> schedules = number(args, ++i, 1);
        case "--seeds" -> seeds = (int) Math.min(10_000, number(args, ++i, 1));
        case "--cap" -> cap = number(args, ++i, 1);
        case "--threads" -> threads = (int) Math.min(64, number(args, ++i, 1));
        case "--strategies" -> {
          strategies = Arrays.asList(text(args, ++i).split(","));
          for (String st : strategies) dmasim.chaos.StrategySpec.parse(st); // an unknown strategy is refused here, not after the first entries
        }
        case "--only" -> {
          try {
            only = Pattern.compile(text(args, ++i));
          } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("--only: not a regular expression: " + e.getDescription());
          }
        }
        case "--file" -> {
          try {
            files.add(dmasim.scenarios.Catalog.resolve(text(args, ++i)));
          } catch (dmasim.scenarios.UserError e) {
            throw new IllegalArgumentException(e.getMessage());
          }
        }
        case "-h", "--help" -> {
          System.out.println(USAGE);
          return;
        }
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    long started = System.nanoTime();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "races", Journal.memory().config());
    try {
      Explorer explorer = new Explorer(new Runner(system), Journal.memory());
      List<Row> rows = new ArrayList<>();
      for (Scenario s : files.isEmpty() ? Catalog.catalogue().values() : files) {
        if (!s.expectsViolation() || (only != null && !only.matcher(s.name()).find())) continue;
        rows.add(row(explorer, s, schedules, seeds, cap, strategies, threads));
        Row r = rows.get(rows.size() - 1);
        System.err.printf(Locale.ROOT, "%-40s %6.1f %%  %s  (%.1f s)%n", s.name(), 100 * r.fraction(), summary(r, cap), r.seconds());
      }
      if (rows.isEmpty()) throw new IllegalArgumentException("no buggy catalogue entry" + (only == null ? "" : " matches --only " + only.pattern()));
      print(rows, schedules, seeds, cap, strategies, (System.nanoTime() - started) / 1e9);
    } finally {
      system.terminate();
    }
  }

  static Row row(Explorer explorer, Scenario s, long schedules, int seeds, long cap, List<String> strategies, int parallel) {
    long t0 = System.nanoTime();
    long violating = explorer.explore(s, options(s, 1), plan("random", schedules, false, parallel), List.of(), null).violatingSchedules();
    long[][] out = new long[strategies.size()][seeds];
    for (int i = 0; i < strategies.size(); i++) {
      for (int seed = 1; seed <= seeds; seed++) {
        Explorer.ScheduleResult first = explorer.explore(s, options(s, seed), plan(strategies.get(i), cap, true, parallel), List.of(), null)
            .firstViolation();
        out[i][seed - 1] = first == null ? -1L : first.index();
      }
    }
    return new Row(s, violating, schedules, out, (System.nanoTime() - t0) / 1e9);
  }

  /** The options {@code dmasim explore ENTRY --seed SEED} runs with: the scenario's workload, the default step bound. */
  static RunOptions options(Scenario s, long seed) {
    RunOptions d = s.defaults();
    return new RunOptions(seed, null, d.cpus(), d.requests(), d.segments(), RunOptions.DEFAULT_MAX_STEPS);
  }

  /** Explorations run one at a time, each on {@code parallel} workers (the explorer's own: each worker has its one-thread dispatcher). */
  static Explorer.Plan plan(String strategy, long schedules, boolean stopAtFirst, int parallel) {
    return new Explorer.Plan(StrategySpec.parse(strategy), schedules, stopAtFirst, parallel, 0, null, 0);
  }

  /** The q-quantile (nearest rank) of the first failing indices, a miss counting as {@code cap} (shown as "&gt;cap"). */
  static long quantile(long[] firsts, double q, long cap) {
    long[] v = Arrays.stream(firsts).map(x -> x < 0 ? cap : x).sorted().toArray();
    return v[(int) Math.ceil(q * v.length) - 1];
  }

  static String show(long v, long cap) {
    return v >= cap ? ">" + (cap - 1) : Long.toString(v);
  }

  static String summary(Row r, long cap) {
    StringBuilder b = new StringBuilder();
    for (long[] f : r.firsts()) b.append(show(quantile(f, 0.5, cap), cap)).append('/').append(show(quantile(f, 0.9, cap), cap)).append(' ');
    return b.toString().trim();
  }

  static void print(List<Row> rows, long schedules, int seeds, long cap, List<String> strategies, double wall) {
    StringBuilder head = new StringBuilder("| entry | fails (random, " + schedules + " schedules) | rare |");
    StringBuilder rule = new StringBuilder("|---|---|---|");
    for (String st : strategies) {
      head.append(' ').append(st).append(" |");
      rule.append("---|");
    }
    head.append(" best / random |");
    rule.append("---|");
    System.out.println(head);
    System.out.println(rule);
    for (Row r : rows) {
      StringBuilder line = new StringBuilder("| `" + r.scenario().name() + "` | " + String.format(Locale.ROOT, "%.1f %%", 100 * r.fraction()) + " | "
          + (r.fraction() <= 0.10 ? "**rare**" : "") + " |");
      long randomMedian = -1;
      long best = Long.MAX_VALUE;
      for (int i = 0; i < strategies.size(); i++) {
        long median = quantile(r.firsts()[i], 0.5, cap);
        long p90 = quantile(r.firsts()[i], 0.9, cap);
        line.append(' ').append(show(median, cap)).append(" / ").append(show(p90, cap)).append(" |");
        if (strategies.get(i).equals("random")) randomMedian = median;
        else best = Math.min(best, median);
      }
      // Ratio of schedules run to the first failure (index + 1), random's median over the best other strategy's.
      String ratio = randomMedian < 0 || best == Long.MAX_VALUE ? "" : String.format(Locale.ROOT, "%s%.1fx",
          randomMedian >= cap ? "≥ " : "", (randomMedian + 1.0) / (best + 1.0));
      System.out.println(line.append(' ').append(ratio).append(" |"));
    }
    System.out.printf(Locale.ROOT, "%nmedian / p90 of the first violating schedule (0-based, as dmasim explore --seed S --stop-at-first prints it) over seeds 1..%d;"
        + " >%d: none within %d schedules (counted as %d). %d entries, wall time %.0f s.%n", seeds, cap - 1, cap, cap, rows.size(), wall);
  }
}
