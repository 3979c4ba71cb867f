package dmasim.actors.memory;

import dmasim.protocol.Event;
import dmasim.protocol.JournalEvent;
import dmasim.protocol.MemoryEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The page allocator: a LIFO free list (recently freed pages are handed out first, like the
 * per-CPU hot lists, which makes reuse after free likely) over {@code totalPages} pages starting
 * at {@code firstPfn}. Persisted: it lives in RAM.
 */
public final class MemoryState {
  private final long firstPfn;
  private final long totalPages;
  private long nextFresh;
  private final ArrayDeque<Long> free = new ArrayDeque<>();
  private final java.util.TreeMap<String, String> holders = new java.util.TreeMap<>();
  private final java.util.TreeMap<String, ArrayDeque<String>> waiters = new java.util.TreeMap<>();

  /** Who holds lock {@code name}, or null. */
  public String holder(String name) {
    return holders.get(name);
  }

  /** The next waiter for lock {@code name}, or null. */
  public String nextWaiter(String name) {
    ArrayDeque<String> q = waiters.get(name);
    return q == null ? null : q.peekFirst();
  }

  public MemoryState(long firstPfn, long totalPages) {
    this(firstPfn, totalPages, java.util.List.of());
  }

  /** RAM of {@code totalPages} from {@code firstPfn}, and the non-RAM regions (each its own free list). */
  public MemoryState(long firstPfn, long totalPages, java.util.List<Region> regions) {
    this.firstPfn = firstPfn;
    this.totalPages = totalPages;
    this.nextFresh = firstPfn;
    for (Region r : regions) this.regions.put(r.name(), new MemoryState(r.startPfn(), r.pages()));
  }

  private final java.util.TreeMap<String, MemoryState> regions = new java.util.TreeMap<>();

  /** The allocator for {@code region} ("" = RAM), or null when there is no such region. */
  public MemoryState region(String region) {
    return region.isEmpty() ? this : regions.get(region);
  }

  public long available() {
    return free.size() + (firstPfn + totalPages - nextFresh);
  }

  private MemoryState owning(long pfn) {
    for (MemoryState r : regions.values()) if (pfn >= r.firstPfn && pfn < r.firstPfn + r.totalPages) return r;
    return this;
  }

  /** The pages an allocation of {@code count} would get, without taking them. */
  public List<Long> peek(int count) {
    List<Long> out = new ArrayList<>(count);
    for (Long p : free) {
      if (out.size() == count) return out;
      out.add(p);
    }
    for (long p = nextFresh; out.size() < count; p++) out.add(p);
    return out;
  }

  /** Per calling CPU queue, how many page allocations the fault plan has decided on (only when it has an alloc_pages rule). */
  private final java.util.Map<String, Long> allocCalls = new java.util.HashMap<>();

  /** {@code caller}'s page allocations decided so far. */
  long allocCalls(String caller) {
    return allocCalls.getOrDefault(caller, 0L);
  }

  public MemoryState apply(Event event) {
    if (event instanceof MemoryEvent.PagesAllocated a && !a.pfns().isEmpty() && owning(a.pfns().get(0)) != this) {
      owning(a.pfns().get(0)).apply(event);
    } else if (event instanceof MemoryEvent.PagesFreed f && !f.pfns().isEmpty() && owning(f.pfns().get(0)) != this) {
      owning(f.pfns().get(0)).apply(event);
    } else if (event instanceof MemoryEvent.PagesAllocated a) {
      for (long p : a.pfns()) {
        if (!free.isEmpty() && free.peekFirst() == p) free.removeFirst();
        else if (p == nextFresh) nextFresh++;
        else throw new IllegalStateException("page " + p + " is not the next free page");
      }
    } else if (event instanceof MemoryEvent.PagesFreed f) {
      for (long p : f.pfns()) free.addFirst(p);
    } else if (event instanceof MemoryEvent.LockAcquired a) {
      holders.put(a.name(), a.holder());
      ArrayDeque<String> q = waiters.get(a.name());
      if (q != null) q.remove(a.holder());
    } else if (event instanceof MemoryEvent.LockWaited w) {
      waiters.computeIfAbsent(w.name(), k -> new ArrayDeque<>()).addLast(w.waiter());
    } else if (event instanceof MemoryEvent.LockReleased r) {
      holders.remove(r.name());
    } else if (event instanceof MemoryEvent.AllocFaultDecided f) {
      allocCalls.put(f.caller(), f.call());
    } else if (!(event instanceof JournalEvent) && !(event instanceof MemoryEvent.AllocationFailed)
        && !(event instanceof MemoryEvent.PagesKind)) {
      throw new IllegalArgumentException("not a memory event: " + event);
    }
    return this;
  }
}
