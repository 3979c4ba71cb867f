package dmasim.actors.state;

import dmasim.protocol.Prot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One domain's I/O page table: IOVA pfn -> (physical pfn, prot), held as the kernel holds it, in
 * 512-entry leaf tables (the last level of the io-pgtable walk, e.g. __arm_lpae_map /
 * pfn_to_dma_pte), each with its number of present entries so that emptied leaf tables can go on a
 * freelist (they may be freed only after the invalidation that covers them, I3).
 *
 * <p>Why leaves and not one hash map of PTEs: consecutive pages of a mapping share a leaf, so a
 * four-page link, translation or unmap touches one leaf table as the kernel's walk does, instead
 * of four random slots of a table as large as the whole mapped space (at 10^6 mapped pages each of
 * those was a cache miss, and the step cost grew with the live mappings).
 *
 * <p>Persisted state (it lives in RAM): survives an IOMMU reset. Owned by one actor; mutated
 * only by its event handler. About 8 bytes per mapped page when mappings are dense, 4 KiB per leaf
 * table in use (as in the kernel).
 */
public final class PageTable {
  public static final int LEAF_SHIFT = 9;
  private static final int LEAF_MASK = (1 << LEAF_SHIFT) - 1;
  private static final long NONE = -1L;
  /** Leaf table index (iova pfn >> 9) -> its slot in {@link #leaves}. */
  private final LongLongMap slots = new LongLongMap(64);
  /** Leaf tables by slot: the packed entry of each of its 512 pages, or -1 when not present. */
  private final List<long[]> leaves = new ArrayList<>();
  /** Present entries per slot. */
  private int[] counts = new int[16];
  /** Slots of freed leaf tables, reused before new ones. */
  private int[] freeSlots = new int[16];
  private int freeCount;
  private int size;

  /** The packed entry for {@code iovaPfn} ({@link #physOf}/{@link #protOf}), or -1 when not present. */
  public long lookup(long iovaPfn) {
    int slot = slotOf(iovaPfn);
    return slot < 0 ? NONE : leaves.get(slot)[(int) (iovaPfn & LEAF_MASK)];
  }

  private int slotOf(long iovaPfn) {
    if (iovaPfn < 0) throw new IllegalArgumentException("negative key " + iovaPfn);
    return (int) slots.get(iovaPfn >>> LEAF_SHIFT, -1);
  }

  private boolean present(long iovaPfn) {
    return lookup(iovaPfn) != NONE;
  }

  public static long physOf(long entry) {
    return entry >>> 8;
  }

  public static Prot protOf(long entry) {
    return new Prot((int) (entry & 0xff));
  }

  /** True when any page of the range is present (iommu_map would fail with -EEXIST). */
  public boolean anyPresent(long iovaPfn, long pages) {
    for (long p = iovaPfn; p < iovaPfn + pages; p++) if (present(p)) return true;
    return false;
  }

  /**
   * How many pages from {@code iovaPfn} are present before the first hole: what iommu_unmap_fast
   * tears down of a range that is not fully mapped (the page-table walk stops at the first
   * unmapped entry and returns the bytes unmapped so far).
   */
  public long presentPrefix(long iovaPfn, long pages) {
    long n = 0;
    while (n < pages && present(iovaPfn + n)) n++;
    return n;
  }

  public long countPresent(long iovaPfn, long pages) {
    long n = 0;
    for (long p = iovaPfn; p < iovaPfn + pages; p++) if (present(p)) n++;
    return n;
  }

  public void map(long iovaPfn, long physPfn, long pages, Prot prot) {
    for (long i = 0; i < pages; i++) {
      long p = iovaPfn + i;
      int slot = slotOf(p);
      if (slot < 0) slot = newLeaf(p >>> LEAF_SHIFT);
      long[] leaf = leaves.get(slot);
      int at = (int) (p & LEAF_MASK);
      if (leaf[at] == NONE) {
        counts[slot]++;
        size++;
      }
      leaf[at] = ((physPfn + i) << 8) | prot.bits();
    }
  }

  private int newLeaf(long leafIndex) {
    int slot;
    if (freeCount > 0) {
      slot = freeSlots[--freeCount];
    } else {
      slot = leaves.size();
      long[] leaf = new long[1 << LEAF_SHIFT];
      Arrays.fill(leaf, NONE);
      leaves.add(leaf);
      if (slot == counts.length) counts = Arrays.copyOf(counts, slot * 2);
    }
    slots.put(leafIndex, slot);
    return slot;
  }

  /** Clears the range; returns the leaf tables it emptied (in ascending order). */
  public List<Long> clear(long iovaPfn, long pages) {
    List<Long> emptied = new ArrayList<>();
    for (long p = iovaPfn; p < iovaPfn + pages; p++) {
      int slot = slotOf(p);
      if (slot < 0) continue;
      long[] leaf = leaves.get(slot);
      int at = (int) (p & LEAF_MASK);
      if (leaf[at] == NONE) continue;
      leaf[at] = NONE;
      size--;
      if (--counts[slot] == 0) {
        // The leaf table is empty (all its entries are -1 again): its slot is reused.
        slots.remove(p >>> LEAF_SHIFT);
        if (freeCount == freeSlots.length) freeSlots = Arrays.copyOf(freeSlots, freeCount * 2);
        freeSlots[freeCount++] = slot;
        emptied.add(p >>> LEAF_SHIFT);
      }
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
        if (leaf >= 0 && clearedInLeaf > 0 && leafCount(leaf) == clearedInLeaf) emptied.add(leaf);
        leaf = l;
        clearedInLeaf = 0;
      }
      if (l >= 0 && present(p)) clearedInLeaf++;
    }
    return emptied;
  }

  private long leafCount(long leafIndex) {
    long slot = slots.get(leafIndex, -1);
    return slot < 0 ? 0 : counts[(int) slot];
  }

  public int size() {
    return size;
  }

  public long footprintBytes() {
    return slots.footprintBytes() + (long) leaves.size() * (16 + 8L * (1 << LEAF_SHIFT)) + 4L * counts.length + 4L * freeSlots.length;
  }
}
