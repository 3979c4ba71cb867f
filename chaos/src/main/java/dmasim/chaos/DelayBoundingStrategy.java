package dmasim.chaos;

import dmasim.protocol.Envelope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Delay-bounded scheduling (Emmi, Qadeer, Rakamaric, POPL 2011) over the FIFO scheduler: the
 * deterministic choice is the envelope due first; a budget of k delays is spent at k steps drawn
 * uniformly over the expected step count, each delay skipping the current choice for the next one.
 */
public final class DelayBoundingStrategy implements Strategy {
  private static final Comparator<Envelope> FIFO =
      Comparator.comparingLong(Envelope::notBefore).thenComparingLong(Envelope::sentAt).thenComparing(e -> e.id().toString());
  private final int budget;
  private final long[] delayPoints;
  private int next;

  public DelayBoundingStrategy(long seed, int budget, long expectedSteps) {
    if (budget < 0) throw new IllegalArgumentException("delay budget must not be negative");
    this.budget = budget;
    SplittableRandom random = new SplittableRandom(seed);
    delayPoints = new long[budget];
    for (int i = 0; i < budget; i++) delayPoints[i] = random.nextLong(Math.max(1, expectedSteps));
    Arrays.sort(delayPoints);
  }

  @Override
  public int choose(List<Envelope> enabled, long step) {
    int delays = 0;
    while (next < delayPoints.length && delayPoints[next] <= step) {
      next++;
      delays++;
    }
    List<Envelope> ordered = new ArrayList<>(enabled);
    ordered.sort(FIFO);
    return enabled.indexOf(ordered.get(delays % ordered.size()));
  }

  @Override
  public String name() {
    return "delay:" + budget;
  }
}
