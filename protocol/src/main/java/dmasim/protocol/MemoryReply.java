package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** The Memory actor's answers. */
@JsonSubTypes({@JsonSubTypes.Type(MemoryReply.PagesAllocated.class), @JsonSubTypes.Type(MemoryReply.PagesFreed.class)})
public sealed interface MemoryReply extends Message {

  /** The pages handed out, in order; empty when memory is exhausted. */
  record PagesAllocated(String owner, List<Long> pfns) implements MemoryReply {
    public PagesAllocated {
      pfns = List.copyOf(pfns);
    }
  }

  /** The pages were returned. */
  record PagesFreed(String owner, int count) implements MemoryReply {}
}
