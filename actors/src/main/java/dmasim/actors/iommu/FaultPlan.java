package dmasim.actors.iommu;

import dmasim.protocol.Errno;
import java.util.List;
import java.util.Set;

/**
 * What may go wrong inside the IOMMU glue, and when. Each rule names an operation and fails each
 * caller's {@code nth} call, every {@code every}-th call of each caller, or each call with
 * {@code probability} (drawn from the run's seed, the caller and its own call number): calls are
 * counted per caller, so a rule fails the same calls in every schedule.
 * Every decision is journaled as a FaultInjected event. Message, component and journal faults
 * arrive with the fault-injection work and will extend this plan.
 */
public record FaultPlan(List<Rule> rules) {
  /** Operations a rule can fail. */
  public static final Set<String> OPERATIONS = Set.of("try_alloc", "link", "sync", "map_phys", "map_sg");

  /** Errors a rule can fail with. */
  public static final List<Errno.Name> ERRNOS = List.of(Errno.Name.ENOMEM, Errno.Name.EIO, Errno.Name.EINVAL, Errno.Name.EREMOTEIO);

  /** One rule. Exactly one of nth, every, probability is set (the others 0). */
  public record Rule(String op, long nth, long every, double probability, int errno) {
    public Rule {
      if (!OPERATIONS.contains(op)) throw new IllegalArgumentException("unknown fault operation '" + op + "' (one of " + OPERATIONS + ")");
      int set = (nth > 0 ? 1 : 0) + (every > 0 ? 1 : 0) + (probability > 0 ? 1 : 0);
      if (set != 1) throw new IllegalArgumentException("a fault rule needs exactly one of nth, every, probability");
      if (probability < 0 || probability > 1) throw new IllegalArgumentException("probability must be between 0 and 1");
      if (nth < 0 || every < 0) throw new IllegalArgumentException("nth and every must be positive");
      if (!ERRNOS.contains(Errno.Name.of(errno))) throw new IllegalArgumentException("a fault fails with one of " + ERRNOS + ", not " + Errno.name(errno));
    }

    /** Does call number {@code call} (1-based) fail, given a uniform draw in [0, 1)? */
    boolean fires(long call, double draw) {
      if (nth > 0) return call == nth;
      if (every > 0) return call % every == 0;
      return draw < probability;
    }

    String describe() {
      return op + (nth > 0 ? " call " + nth + " of each CPU queue" : every > 0 ? " every " + every + " calls of each CPU queue"
          : " with probability " + probability);
    }
  }

  public static final FaultPlan NONE = new FaultPlan(List.of());

  public FaultPlan {
    rules = List.copyOf(rules);
  }

  /** The first rule that fails call {@code call} of {@code op}, or null. */
  public Rule check(String op, long call, double draw) {
    for (Rule r : rules) if (r.op().equals(op) && r.fires(call, draw)) return r;
    return null;
  }
}
