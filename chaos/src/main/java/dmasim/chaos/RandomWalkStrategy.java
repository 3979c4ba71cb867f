package dmasim.chaos;

import dmasim.protocol.Envelope;
import java.util.List;
import java.util.SplittableRandom;

/** Uniform choice among the enabled envelopes, from a source seeded once per run. */
public final class RandomWalkStrategy implements Strategy {
  private final SplittableRandom random;

  public RandomWalkStrategy(long seed) {
    this.random = new SplittableRandom(seed);
  }

  @Override
  public int choose(List<Envelope> enabled, long step) {
    return enabled.size() == 1 ? 0 : random.nextInt(enabled.size());
  }

  @Override
  public String name() {
    return "random";
  }
}
