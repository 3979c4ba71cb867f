package dmasim.chaos;

import java.util.Locale;

/**
 * A strategy as users name it: "fifo", "random", "pct:D" (PCT with depth D) or "delay:K" (delay
 * bounding with budget K). Makes one fresh strategy per schedule from that schedule's seed.
 * "live:N" records that a run went over the live wire on N threads (its schedule is replayed from
 * its journal, never made). "trace" (or "trace:1", judged as the driver's whole life) records
 * that a run is an imported kernel trace: nothing was scheduled.
 */
public record StrategySpec(String kind, int parameter) {
  public StrategySpec {
    switch (kind) {
      case "fifo", "random" -> {}
      case "pct" -> {
        if (parameter < 1 || parameter > 10) throw new IllegalArgumentException("PCT depth must be between 1 and 10, got " + parameter);
      }
      case "delay" -> {
        if (parameter < 0 || parameter > 1000) throw new IllegalArgumentException("delay budget must be between 0 and 1000, got " + parameter);
      }
      case "live" -> {
        if (parameter < 1 || parameter > 256) throw new IllegalArgumentException("--threads must be between 1 and 256, got " + parameter);
      }
      case "trace" -> {
        if (parameter < 0 || parameter > 1) throw new IllegalArgumentException("trace takes 0 or 1 (whole life), got " + parameter);
      }
      default -> throw new IllegalArgumentException("unknown strategy '" + kind + "' (fifo, random, pct:D, delay:K)");
    }
  }

  /** Parses "random", "fifo", "pct:2", "delay:3" (what a user may ask for; "trace" only names imported traces). */
  public static StrategySpec parse(String text) {
    StrategySpec s = parseRecorded(text);
    if (s.isTrace()) throw new IllegalArgumentException("unknown strategy '" + text.trim() + "' (fifo, random, pct:D, delay:K)");
    return s;
  }

  /** Parses a strategy as the registry stores it, including "trace" and "trace:1" of imported traces. */
  public static StrategySpec parseRecorded(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    int colon = t.indexOf(':');
    if (colon < 0) {
      if (t.equals("pct") || t.equals("delay")) throw new IllegalArgumentException("strategy '" + t + "' needs a parameter: " + t + ":N");
      return new StrategySpec(t, 0);
    }
    try {
      return new StrategySpec(t.substring(0, colon), Integer.parseInt(t.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("strategy parameter must be a whole number: '" + text + "'");
    }
  }

  /** The live wire on {@code threads} dispatcher threads: the threads choose the schedule; it is recorded, not made. */
  public static StrategySpec live(int threads) {
    return new StrategySpec("live", threads);
  }

  public boolean isLive() {
    return kind.equals("live");
  }

  /** An imported kernel trace: its steps are the trace's lines, nothing can re-execute them. */
  public boolean isTrace() {
    return kind.equals("trace");
  }

  /** A fresh strategy for one schedule. {@code expectedSteps} spreads PCT change points and delays. */
  public Strategy make(long scheduleSeed, long expectedSteps) {
    if (isLive()) throw new IllegalStateException("a live run's schedule comes from its threads; replay it from its record");
    if (isTrace()) throw new IllegalStateException("an imported trace has no schedule to make");
    return switch (kind) {
      case "fifo" -> new FifoStrategy();
      case "random" -> new RandomWalkStrategy(scheduleSeed);
      case "pct" -> new PctStrategy(scheduleSeed, parameter, expectedSteps);
      default -> new DelayBoundingStrategy(scheduleSeed, parameter, expectedSteps);
    };
  }

  public boolean needsExpectedSteps() {
    return kind.equals("pct") || kind.equals("delay");
  }

  /**
   * The PCT guarantee for one schedule: a bug of depth d is hit with probability at least
   * 1 / (n k^(d-1)) for n actors and k steps. NaN for other strategies.
   */
  public double pctBound(int actors, long steps) {
    if (!kind.equals("pct")) return Double.NaN;
    return 1.0 / (Math.max(1, actors) * Math.pow(Math.max(1, steps), parameter - 1));
  }

  /** The probability that {@code schedules} independent PCT schedules all missed a depth-d bug: (1 - bound)^N. */
  public double missProbability(int actors, long steps, long schedules) {
    double p = pctBound(actors, steps);
    return Double.isNaN(p) ? Double.NaN : Math.exp(schedules * Math.log1p(-Math.min(p, 1.0 - 1e-16)));
  }

  @Override
  public String toString() {
    return kind.equals("pct") || kind.equals("delay") || kind.equals("live") || kind.equals("trace") && parameter > 0 ? kind + ":" + parameter : kind;
  }
}
