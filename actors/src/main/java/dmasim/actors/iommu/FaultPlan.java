package dmasim.actors.iommu;

import dmasim.protocol.Errno;
import dmasim.protocol.Trigger;
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
  /** A page allocation of the memory manager (alloc_pages), failed as if memory were exhausted. */
  public static final String ALLOC_PAGES = "alloc_pages";

  /** A swiotlb bounce-slot allocation (swiotlb_tbl_map_single), failed as if the slots were exhausted. */
  public static final String SWIOTLB = "swiotlb";

  /** Operations a rule can fail. */
  public static final Set<String> OPERATIONS = Set.of("try_alloc", "link", "sync", "map_phys", "map_sg", ALLOC_PAGES, SWIOTLB);

  /** Errors a rule can fail with. */
  public static final List<Errno.Name> ERRNOS = List.of(Errno.Name.ENOMEM, Errno.Name.EIO, Errno.Name.EINVAL, Errno.Name.EREMOTEIO);

  /** One rule: the operation, when it fails (counted per calling CPU queue), and the errno. */
  public record Rule(String op, Trigger trigger, int errno) {
    public Rule {
      if (!OPERATIONS.contains(op)) throw new IllegalArgumentException("unknown fault operation '" + op + "' (one of " + OPERATIONS + ")");
      if (trigger == null) throw new IllegalArgumentException("a fault rule needs a trigger");
      if (!ERRNOS.contains(Errno.Name.of(errno))) throw new IllegalArgumentException("a fault fails with one of " + ERRNOS + ", not " + Errno.name(errno));
    }

    /** The rule {@code op} failing on the {@code nth} call, every {@code every}-th, or with {@code probability} (exactly one set). */
    public Rule(String op, long nth, long every, double probability, int errno) {
      this(op, new Trigger(nth, every, probability), errno);
    }

    public String describe() {
      Trigger t = trigger;
      return op + (t.nth() > 0 ? " call " + t.nth() + " of each CPU queue" : t.every() > 0 ? " every " + t.every() + " calls of each CPU queue"
          : " with probability " + t.probability());
    }
  }

  public static final FaultPlan NONE = new FaultPlan(List.of());

  public FaultPlan {
    rules = List.copyOf(rules);
  }

  /** Whether some rule names {@code op}. */
  public boolean names(String op) {
    for (Rule r : rules) if (r.op().equals(op)) return true;
    return false;
  }

  /** The first rule that fails call {@code call} of {@code op} by {@code caller} (its key in the draw), or null. */
  public Rule check(String op, long call, long seed, String caller) {
    for (Rule r : rules) if (r.op().equals(op) && r.trigger().fires(seed, caller, call, op)) return r;
    return null;
  }
}
