package dmasim.chaos;

import dmasim.protocol.Envelope;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Probabilistic concurrency testing with depth d (Burckhardt, Kothari, Musuvathi, Nagarakatte,
 * ASPLOS 2010) for actors, as in Coyote and P#: the schedulable entity is the receiving actor,
 * which takes its next step by handling the oldest due envelope of its inbox. Every actor gets a
 * random priority of at least d when first seen; d - 1 change points are drawn uniformly over the
 * expected number of steps k; the highest-priority actor with a deliverable envelope steps; at the
 * i-th change point the actor that just stepped drops to priority i (below every initial one).
 * A bug of depth d is found by one schedule with probability at least 1 / (n k^(d-1)) for n actors.
 */
public final class PctStrategy implements Strategy {
  private final int depth;
  private final SplittableRandom random;
  private final long[] changePoints;
  private final Map<String, Long> priority = new HashMap<>();
  private int nextChange;

  public PctStrategy(long seed, int depth, long expectedSteps) {
    if (depth < 1) throw new IllegalArgumentException("PCT depth must be at least 1");
    this.depth = depth;
    this.random = new SplittableRandom(seed);
    this.changePoints = new long[depth - 1];
    for (int i = 0; i < changePoints.length; i++) changePoints[i] = random.nextLong(Math.max(1, expectedSteps));
    Arrays.sort(changePoints);
  }

  @Override
  public int choose(List<Envelope> enabled, long step) {
    int best = -1;
    long bestPriority = Long.MIN_VALUE;
    for (int i = 0; i < enabled.size(); i++) {
      Envelope e = enabled.get(i);
      long p = priority.computeIfAbsent(e.receiver(), k -> depth + random.nextLong(Long.MAX_VALUE - depth));
      if (p > bestPriority || (p == bestPriority && FifoStrategy.before(e, enabled.get(best)))) {
        bestPriority = p;
        best = i;
      }
    }
    while (nextChange < changePoints.length && changePoints[nextChange] <= step) {
      nextChange++;
      priority.put(enabled.get(best).receiver(), (long) nextChange);
    }
    return best;
  }

  /** Actors seen so far (n in the PCT bound). */
  public int actors() {
    return priority.size();
  }

  @Override
  public String name() {
    return "pct:" + depth;
  }
}
