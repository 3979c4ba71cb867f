package dmasim.chaos;

import dmasim.protocol.Envelope;
import java.util.List;

/**
 * Picks which enabled envelope the controlled scheduler delivers next. Every choice is a pure
 * function of the strategy's seed and the sequence of calls, so a run is reproducible.
 */
public interface Strategy {
  /**
   * Index into {@code enabled} (never empty, in a deterministic order: by channel, then due time)
   * for step {@code step} (0-based), or -1 when the strategy cannot go on ({@link #divergence()} says why).
   */
  int choose(List<Envelope> enabled, long step);

  /** Why the strategy returned -1 (a replay that no longer matches the run), or null. */
  default String divergence() {
    return null;
  }

  /** A short name for reports ("fifo", "random"). */
  String name();
}
