package dmasim.protocol;

/**
 * When a fault rule fires: on the {@code nth} thing it counts, on every {@code every}-th, or on
 * each with {@code probability}. The one decision function every fault kind uses (calls the IOMMU
 * glue fails, envelopes the wire faults, components that reset or vanish): a pure function of the
 * run's seed, the actor the count belongs to, the count and the rule, never of a count over the
 * whole run, so a replay makes the same decision.
 */
public record Trigger(long nth, long every, double probability) {
  public Trigger {
    int set = (nth > 0 ? 1 : 0) + (every > 0 ? 1 : 0) + (probability > 0 ? 1 : 0);
    if (set != 1) throw new IllegalArgumentException("a fault rule needs exactly one of nth, every, probability");
    if (probability < 0 || probability > 1 || Double.isNaN(probability)) throw new IllegalArgumentException("probability must be between 0 and 1");
    if (nth < 0 || every < 0) throw new IllegalArgumentException("nth and every must be positive");
  }

  /** Does the {@code count}-th (1-based) thing {@code actor} did that the rule counts fire it? {@code purpose} names the rule in the draw. */
  public boolean fires(long seed, String actor, long count, String purpose) {
    if (nth > 0) return count == nth;
    if (every > 0) return count % every == 0;
    return Draw.unit(seed, actor, count, purpose) < probability;
  }

  /** "the 2nd X of each sender", "every 3rd X", "each X with probability 0.2", for rule descriptions ({@code countedPer} null: one counter). */
  public String describe(String what, String countedPer) {
    String per = countedPer == null ? "" : " of " + countedPer;
    if (nth > 0) return "the " + nth + ordinal(nth) + " " + what + per;
    if (every == 1) return "every " + what;
    if (every > 0) return "every " + every + ordinal(every) + " " + what + per;
    return "each " + what + " with probability " + probability;
  }

  /** The English ordinal suffix of {@code n}: st, nd, rd, th. */
  public static String ordinal(long n) {
    long mod100 = n % 100;
    return mod100 >= 11 && mod100 <= 13 ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
  }
}
