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
 * {@code faults} lists the latest faults the fault plan injected before the violation (a failed
 * call, a faulted envelope, a device reset or removal), whether or not they are on the chain.
 */
public record Violation(String monitor, String invariant, long step, long time, List<String> actors, List<String> chain, String message,
    String where, List<String> about, List<String> causes, List<String> faults) {
  public Violation {
    actors = List.copyOf(actors);
    chain = List.copyOf(chain);
    about = List.copyOf(about);
    causes = List.copyOf(causes);
    faults = faults == null ? List.of() : List.copyOf(faults);
  }

  public Violation(String monitor, String invariant, long step, long time, List<String> actors, List<String> chain, String message) {
    this(monitor, invariant, step, time, actors, chain, message, null, List.of(), List.of(), List.of());
  }
}
