package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** Page allocation requests to the Memory actor (the page allocator). */
@JsonSubTypes({
  @JsonSubTypes.Type(MemoryCommand.AllocPages.class),
  @JsonSubTypes.Type(MemoryCommand.FreePages.class),
  @JsonSubTypes.Type(MemoryCommand.Lock.class),
  @JsonSubTypes.Type(MemoryCommand.Unlock.class),
  @JsonSubTypes.Type(MemoryCommand.TryLock.class)
})
public sealed interface MemoryCommand extends Message {

  /**
   * Allocate {@code count} physical pages for {@code owner} (a buffer name) from {@code region} ("" = RAM);
   * {@code kind} says what the RAM pages are (null = ordinary linear RAM).
   */
  record AllocPages(String owner, int count, String region, PageKind kind) implements MemoryCommand {
    public AllocPages {
      if (count <= 0) throw new IllegalArgumentException("page count must be positive: " + count);
      if (region == null) region = "";
      if (kind == null) kind = PageKind.LINEAR;
    }

    public AllocPages(String owner, int count, String region) {
      this(owner, count, region, PageKind.LINEAR);
    }

    public AllocPages(String owner, int count) {
      this(owner, count, "");
    }
  }

  /** Acquire the named lock (a driver spinlock or mutex); answered when granted. */
  record Lock(String name) implements MemoryCommand {}

  /** Take the named lock if it is free (mutex_trylock); answered at once, granted or busy. */
  record TryLock(String name) implements MemoryCommand {}

  /** Release the named lock; answered at once. */
  record Unlock(String name) implements MemoryCommand {}

  /** Free pages previously allocated. */
  record FreePages(String owner, List<Long> pfns) implements MemoryCommand {
    public FreePages {
      pfns = List.copyOf(pfns);
    }
  }
}
