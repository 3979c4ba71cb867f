package dmasim.actors.monitor;

import java.util.List;

/**
 * A broken invariant: which monitor and invariant id (I1..I21, dma-debug classes, ...), the step and virtual
 * time, the actors involved, the causal chain of envelopes that led to it (oldest first), and one
 * sentence a kernel developer understands.
 */
public record Violation(String monitor, String invariant, long step, long time, List<String> actors, List<String> chain, String message) {
  public Violation {
    actors = List.copyOf(actors);
    chain = List.copyOf(chain);
  }
}
