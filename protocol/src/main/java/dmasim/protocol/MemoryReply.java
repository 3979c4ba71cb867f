package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** The Memory actor's answers. */
@JsonSubTypes({
  @JsonSubTypes.Type(MemoryReply.PagesAllocated.class),
  @JsonSubTypes.Type(MemoryReply.PagesFreed.class),
  @JsonSubTypes.Type(MemoryReply.LockGranted.class),
  @JsonSubTypes.Type(MemoryReply.LockBusy.class)
})
public sealed interface MemoryReply extends Message {

  /** The pages handed out, in order; empty when memory is exhausted. */
  record PagesAllocated(String owner, List<Long> pfns) implements MemoryReply {
    public PagesAllocated {
      pfns = List.copyOf(pfns);
    }
  }

  /** The lock was granted to the caller (or released, {@code held} false). */
  record LockGranted(String name, boolean held) implements MemoryReply {}

  /** The pages were returned. */
  record PagesFreed(String owner, int count) implements MemoryReply {}

  /** A trylock of {@code name} failed: someone else holds it. */
  record LockBusy(String name) implements MemoryReply {}
}
