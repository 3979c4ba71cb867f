package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** Facts of the Memory actor (the page allocator). */
@JsonSubTypes({
  @JsonSubTypes.Type(MemoryEvent.PagesAllocated.class),
  @JsonSubTypes.Type(MemoryEvent.PagesFreed.class),
  @JsonSubTypes.Type(MemoryEvent.PagesKind.class),
  @JsonSubTypes.Type(MemoryEvent.AllocationFailed.class),
  @JsonSubTypes.Type(MemoryEvent.AllocFaultDecided.class),
  @JsonSubTypes.Type(MemoryEvent.LockAcquired.class),
  @JsonSubTypes.Type(MemoryEvent.LockWaited.class),
  @JsonSubTypes.Type(MemoryEvent.LockReleased.class)
})
public sealed interface MemoryEvent extends Event {

  /** Pages were handed to {@code owner} ("cpuN/buffer"). */
  record PagesAllocated(String owner, List<Long> pfns) implements MemoryEvent, Owned {
    public PagesAllocated {
      pfns = List.copyOf(pfns);
    }
  }

  /**
   * The pages just handed to {@code owner} are not ordinary linear RAM but {@code kind} (the task's
   * stack, kernel text, ...). Follows their PagesAllocated; never emitted for linear RAM. The kind
   * lasts until the pages are freed.
   */
  record PagesKind(String owner, List<Long> pfns, PageKind kind) implements MemoryEvent, Owned {
    public PagesKind {
      pfns = List.copyOf(pfns);
    }
  }

  /** Pages went back to the free list. */
  record PagesFreed(String owner, List<Long> pfns) implements MemoryEvent, Owned {
    public PagesFreed {
      pfns = List.copyOf(pfns);
    }
  }

  /** {@code holder} ("cpuN") now holds lock {@code name}. */
  record LockAcquired(String name, String holder) implements MemoryEvent {}

  /** {@code waiter} waits for lock {@code name}. */
  record LockWaited(String name, String waiter) implements MemoryEvent {}

  /** {@code holder} released lock {@code name}. */
  record LockReleased(String name, String holder) implements MemoryEvent {}

  /** Not enough free pages. */
  record AllocationFailed(String owner, int count) implements MemoryEvent, Owned {}

  /**
   * The fault plan's decision for {@code caller}'s {@code call}-th page allocation (alloc_pages):
   * {@code injected} fails it as if memory were exhausted; {@code rule} says which rule.
   */
  record AllocFaultDecided(String caller, long call, boolean injected, String rule) implements MemoryEvent {}
}
