package dmasim.actors.state;

import dmasim.protocol.Prot;
import java.util.ArrayList;
import java.util.List;

/**
 * One domain's I/O page table: IOVA pfn -> (physical pfn, prot), plus the number of present
 * entries in each 512-entry leaf table so that emptied leaf tables can go on a freelist
 * (they may be freed only after the invalidation that covers them, I3).
 *
 * <p>Persisted state (it lives in RAM): survives an IOMMU reset. Owned by one actor; mutated
 * only by its event handler. About 32 bytes per mapped page plus a little per leaf table.
 */
public final class PageTable {
  public static final int LEAF_SHIFT = 9;
  private static final long NONE = -1L;
  private final LongLongMap ptes = new LongLongMap(1024);
  private final LongLongMap leafCounts = new LongLongMap(64);

  /** The packed entry for {@code iovaPfn} ({@link #physOf}/{@link #protOf}), or -1 when not present. */
  public long lookup(long iovaPfn) {
    return ptes.get(iovaPfn, NONE);
  }

  public static long physOf(long entry) {
    return entry >>> 8;
  }

  public static Prot protOf(long entry) {
    return new Prot((int) (entry & 0xff));
  }

  /** True when any page of the range is present (iommu_map would fail with -EEXIST). */
  public boolean anyPresent(long iovaPfn, long pages) {
    for (long p = iovaPfn; p < iovaPfn + pages; p++) if (ptes.containsKey(p)) return true;
    return false;
  }

  /**
   * How many pages from {@code iovaPfn} are present before the first hole: what iommu_unmap_fast
   * tears down of a range that is not fully mapped (the page-table walk stops at the first
   * unmapped entry and returns the bytes unmapped so far).
   */
  public long presentPrefix(long iovaPfn, long pages) {
    long n = 0;
    while (n < pages && ptes.containsKey(iovaPfn + n)) n++;
    return n;
  }

  public long countPresent(long iovaPfn, long pages) {
    long n = 0;
    for (long p = iovaPfn; p < iovaPfn + pages; p++) if (ptes.containsKey(p)) n++;
    return n;
  }

  public void map(long iovaPfn, long physPfn, long pages, Prot prot) {
    for (long i = 0; i < pages; i++) {
      if (!ptes.containsKey(iovaPfn + i)) leafCounts.add((iovaPfn + i) >>> LEAF_SHIFT, 1);
      ptes.put(iovaPfn + i, ((physPfn + i) << 8) | prot.bits());
    }
  }

  /** Clears the range; returns the leaf tables it emptied (in ascending order). */
  public List<Long> clear(long iovaPfn, long pages) {
    List<Long> emptied = new ArrayList<>();
    for (long p = iovaPfn; p < iovaPfn + pages; p++) {
      if (ptes.remove(p) && leafCounts.add(p >>> LEAF_SHIFT, -1) == 0) emptied.add(p >>> LEAF_SHIFT);
    }
    return emptied;
  }

  /** The leaf tables clearing the range would empty, without changing anything. */
  public List<Long> wouldEmpty(long iovaPfn, long pages) {
    List<Long> emptied = new ArrayList<>();
    long leaf = -1;
    long clearedInLeaf = 0;
    for (long p = iovaPfn; p <= iovaPfn + pages; p++) {
      long l = p < iovaPfn + pages ? p >>> LEAF_SHIFT : -2;
      if (l != leaf) {
        if (leaf >= 0 && clearedInLeaf > 0 && leafCounts.get(leaf, 0) == clearedInLeaf) emptied.add(leaf);
        leaf = l;
        clearedInLeaf = 0;
      }
      if (l >= 0 && ptes.containsKey(p)) clearedInLeaf++;
    }
    return emptied;
  }

  public int size() {
    return ptes.size();
  }

  public long footprintBytes() {
    return ptes.footprintBytes() + leafCounts.footprintBytes();
  }
}
