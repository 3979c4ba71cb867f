package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** Facts of the Memory actor (the page allocator). */
@JsonSubTypes({
  @JsonSubTypes.Type(MemoryEvent.PagesAllocated.class),
  @JsonSubTypes.Type(MemoryEvent.PagesFreed.class),
  @JsonSubTypes.Type(MemoryEvent.AllocationFailed.class)
})
public sealed interface MemoryEvent extends Event {

  /** Pages were handed to {@code owner} ("cpuN/buffer"). */
  record PagesAllocated(String owner, List<Long> pfns) implements MemoryEvent {
    public PagesAllocated {
      pfns = List.copyOf(pfns);
    }
  }

  /** Pages went back to the free list. */
  record PagesFreed(String owner, List<Long> pfns) implements MemoryEvent {
    public PagesFreed {
      pfns = List.copyOf(pfns);
    }
  }

  /** Not enough free pages. */
  record AllocationFailed(String owner, int count) implements MemoryEvent {}
}
