package dmasim.protocol;

/**
 * Seeded randomness as a pure function of stable coordinates (seed, actor, envelope, purpose),
 * SplitMix64-style: the same draw on the controlled wire, on the live wire and after a restart,
 * whatever order threads ran in (docs/architecture.md, "Determinism").
 */
public final class Draw {
  private Draw() {}

  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  public static long hash(long seed, String actor, long a, String purpose) {
    long h = mix(seed + 0x9E3779B97F4A7C15L);
    h = mix(h ^ actor.hashCode());
    h = mix(h ^ a);
    return mix(h ^ purpose.hashCode());
  }

  /** A uniform value in [0, 1): the top 53 bits of the hash. */
  public static double unit(long seed, String actor, long a, String purpose) {
    return (hash(seed, actor, a, purpose) >>> 11) * 0x1.0p-53;
  }

  /** A value in [0, bound). */
  public static long below(long seed, String actor, long a, String purpose, long bound) {
    if (bound <= 0) return 0;
    return Math.floorMod(hash(seed, actor, a, purpose), bound);
  }
}
