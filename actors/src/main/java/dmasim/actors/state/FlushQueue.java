package dmasim.actors.state;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One flush-queue ring (struct iova_fq in drivers/iommu/dma-iommu.c): IOVA ranges whose PTEs are
 * cleared but whose IOTLB entries may still be live, each stamped with fq_flush_start_cnt at
 * queue time. An entry may be freed only once {@code counter < fq_flush_finish_cnt} (I2).
 *
 * <p>Invariants: I5 (at most {@code size - 1} entries; counters non-decreasing head to tail).
 * Persisted state: the ring lives in RAM.
 */
public final class FlushQueue {
  /** One queued range. {@code tables} are page-table pages freed with it (the freelist). */
  public record Entry(String owner, long basePfn, long pages, long counter, List<Long> tables) {}

  private final int size;
  private final ArrayDeque<Entry> ring = new ArrayDeque<>();

  public FlushQueue(int size) {
    if (Integer.bitCount(size) != 1 || size < 2) throw new IllegalArgumentException("fq_size must be a power of two >= 2: " + size);
    this.size = size;
  }

  /** The ring is full when (tail + 1) & mask == head: usable capacity is size - 1. */
  public boolean isFull() {
    return ring.size() >= size - 1;
  }

  public int length() {
    return ring.size();
  }

  public int capacity() {
    return size - 1;
  }

  /** The head entries freeable at {@code finishCnt} (fq_ring_free_locked), oldest first, without removing them. */
  public List<Entry> freeable(long finishCnt) {
    List<Entry> out = new ArrayList<>();
    for (Entry e : ring) {
      if (e.counter() >= finishCnt) break;
      out.add(e);
    }
    return out;
  }

  public void append(Entry e) {
    if (isFull()) throw new IllegalStateException("flush queue overflow");
    Entry tail = ring.peekLast();
    if (tail != null && tail.counter() > e.counter()) throw new IllegalStateException("flush queue counters must not decrease");
    ring.addLast(e);
  }

  /** Removes the head entry, which must be {@code basePfn}. */
  public Entry removeHead(long basePfn) {
    Entry head = ring.peekFirst();
    if (head == null || head.basePfn() != basePfn) throw new IllegalStateException("flush queue head is not " + basePfn);
    return ring.removeFirst();
  }
}
