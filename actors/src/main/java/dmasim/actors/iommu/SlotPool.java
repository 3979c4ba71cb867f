package dmasim.actors.iommu;

import java.util.BitSet;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The swiotlb pool's slots (swiotlb_find_slots over io_tlb_mem): a bit per slot, set while the slot
 * holds a bounce buffer; free slots are handed out lowest first. A bit set instead of a sorted set
 * of boxed page numbers: every schedule starts with a fresh pool, and building 1,024 boxed entries
 * was a visible part of a short schedule.
 */
final class SlotPool {
  private final long firstPfn;
  private final int slots;
  private final BitSet used = new BitSet();

  SlotPool(long firstPfn, int slots) {
    this.firstPfn = firstPfn;
    this.slots = slots;
  }

  /** Slot {@code pfn} now holds a bounce buffer. */
  void take(long pfn) {
    used.set(index(pfn));
  }

  /** Slot {@code pfn} is free again. */
  void give(long pfn) {
    used.clear(index(pfn));
  }

  /** The free slots' page numbers, lowest first, as they are now. */
  Iterator<Long> free() {
    return new Iterator<>() {
      private int next = used.nextClearBit(0);

      @Override
      public boolean hasNext() {
        return next < slots;
      }

      @Override
      public Long next() {
        if (!hasNext()) throw new NoSuchElementException();
        long pfn = firstPfn + next;
        next = used.nextClearBit(next + 1);
        return pfn;
      }
    };
  }

  private int index(long pfn) {
    long i = pfn - firstPfn;
    if (i < 0 || i >= slots) throw new IllegalArgumentException("not a swiotlb slot: pfn " + pfn);
    return (int) i;
  }
}
