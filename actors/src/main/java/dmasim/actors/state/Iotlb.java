package dmasim.actors.state;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The IOMMU's translation cache: a bounded map IOVA pfn -> packed page-table entry, evicting the
 * oldest fill first. With caching mode (Intel CM, AMD NpCache) it also caches not-present
 * entries ({@link #NOT_PRESENT}), which is why such IOMMUs need a flush after map (I9).
 *
 * <p>Volatile state: lost on an IOMMU reset. Insertion-ordered, so eviction is deterministic.
 */
public final class Iotlb {
  public static final long NOT_PRESENT = -2L;
  public static final long MISS = -1L;
  private final int capacity;
  private final LinkedHashMap<Long, Long> entries = new LinkedHashMap<>();

  public Iotlb(int capacity) {
    if (capacity < 1) throw new IllegalArgumentException("IOTLB capacity must be positive");
    this.capacity = capacity;
  }

  /** The cached entry, {@link #NOT_PRESENT}, or {@link #MISS}. */
  public long lookup(long iovaPfn) {
    Long e = entries.get(iovaPfn);
    return e == null ? MISS : e;
  }

  /** The pfn a fill would evict, or -1 when there is room (or the pfn is already cached). */
  public long victimFor(long iovaPfn) {
    if (entries.size() < capacity || entries.containsKey(iovaPfn)) return -1;
    return entries.keySet().iterator().next();
  }

  public void fill(long iovaPfn, long entry) {
    entries.remove(iovaPfn);
    if (entries.size() >= capacity) evict(entries.keySet().iterator().next());
    entries.put(iovaPfn, entry);
  }

  public void evict(long iovaPfn) {
    entries.remove(iovaPfn);
  }

  /** Drops the entries of the range (all entries when {@code pages} is 0); returns how many. */
  public int invalidate(long startPfn, long pages) {
    if (pages == 0) {
      int n = entries.size();
      entries.clear();
      return n;
    }
    int dropped = 0;
    if (pages < entries.size()) {
      for (long p = startPfn; p < startPfn + pages; p++) if (entries.remove(p) != null) dropped++;
      return dropped;
    }
    for (Iterator<Map.Entry<Long, Long>> it = entries.entrySet().iterator(); it.hasNext(); ) {
      long k = it.next().getKey();
      if (k >= startPfn && k < startPfn + pages) {
        it.remove();
        dropped++;
      }
    }
    return dropped;
  }

  /** True when any entry (present or not) of the range is cached. */
  public boolean holdsAny(long startPfn, long pages) {
    if (pages < entries.size()) {
      for (long p = startPfn; p < startPfn + pages; p++) if (entries.containsKey(p)) return true;
      return false;
    }
    for (long k : entries.keySet()) if (k >= startPfn && k < startPfn + pages) return true;
    return false;
  }

  public int size() {
    return entries.size();
  }

  public int capacity() {
    return capacity;
  }

  public void clear() {
    entries.clear();
  }
}
