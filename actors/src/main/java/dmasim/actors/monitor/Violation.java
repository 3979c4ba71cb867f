package dmasim.actors.monitor;

import java.util.List;

/**
 * A broken invariant: which monitor and invariant id (I1..I21, dma-debug classes, ...), the step and virtual
 * time, the actors involved, the causal chain of envelopes that led to it (oldest first), and one
 * sentence a kernel developer understands; {@code where} is the scenario-file line of the latest
 * CPU-queue step on that chain ("drv.conf:14 programs.all[4]"), or null (a built-in program, or no
 * CPU step on the chain). {@code about} names the driver objects the violation is about and
 * {@code causes} the steps that created, changed or freed them (oldest first, bounded), ending with
 * the violating step: the happens-before slice a developer reads instead of the last few envelopes.
 */
public record Violation(String monitor, String invariant, long step, long time, List<String> actors, List<String> chain, String message,
    String where, List<String> about, List<String> causes) {
  public Violation {
    actors = List.copyOf(actors);
    chain = List.copyOf(chain);
    about = List.copyOf(about);
    causes = List.copyOf(causes);
  }

  public Violation(String monitor, String invariant, long step, long time, List<String> actors, List<String> chain, String message) {
    this(monitor, invariant, step, time, actors, chain, message, null, List.of(), List.of());
  }
}
