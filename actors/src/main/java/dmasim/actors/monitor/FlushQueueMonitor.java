package dmasim.actors.monitor;

import dmasim.actors.state.PageTable;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The lazy-mode bookkeeping of drivers/iommu/dma-iommu.c: I2 (an IOVA returns to the allocator only
 * after a flush that started after its PTEs were cleared has completed: counter < finish_cnt, and
 * the counter is fq_flush_start_cnt read after the clear), I3 (page-table pages are freed only
 * after an invalidation posted after they were emptied has completed), I4 (start_cnt and
 * finish_cnt advance by one, finish <= start), I5 (a ring holds at most fq_size - 1 entries in
 * non-decreasing counter order), I6 (no timer callback after domain teardown).
 */
public final class FlushQueueMonitor extends AbstractMonitor {
  private final int fqSize;
  private long start;
  private long finish;
  private long lastPosted;
  private long allCompleted;
  private boolean tornDown;
  private final Map<Integer, ArrayDeque<Long>> rings = new HashMap<>();
  private final Map<Long, ArrayDeque<Long>> emptiedAt = new HashMap<>(); // leaf -> watermarks (FIFO)
  private final Map<Long, Long> rangeCompleted = new HashMap<>(); // leaf -> max completed range invalidation id
  private final Map<Long, Long> leafCounts = new HashMap<>();
  private final Map<Long, Long> visibleAtStart = new HashMap<>(); // iova pfn -> start_cnt when its PTE clear reached the walker

  public FlushQueueMonitor(int fqSize) {
    super("FlushQueue");
    this.fqSize = fqSize;
  }

  public FlushQueueMonitor(int fqSize, Shadow shared) {
    super("FlushQueue", shared);
    this.fqSize = fqSize;
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (Monitors.dmaDirect(event)) return; // dma-direct mappings have no page-table pages
    if (event instanceof IommuEvent.FlushStarted s) {
      if (s.startCnt() != start + 1) violate("I4", at, "fq_flush_start_cnt jumped from " + start + " to " + s.startCnt());
      start = s.startCnt();
    } else if (event instanceof IommuEvent.FlushFinished f) {
      if (f.finishCnt() != finish + 1 || f.finishCnt() > start) {
        violate("I4", at, "fq_flush_finish_cnt became " + f.finishCnt() + " with start_cnt " + start + " (was " + finish + ")");
      }
      finish = f.finishCnt();
    } else if (event instanceof IommuEvent.FlushQueued q) {
      onQueued(at, q);
    } else if (event instanceof IommuEvent.PteClearVisible v) {
      for (long p = v.iovaPfn(); p < v.iovaPfn() + v.pages(); p++) visibleAtStart.put(p, v.startCnt());
    } else if (event instanceof IommuEvent.FlushQueueEntryFreed f) {
      ArrayDeque<Long> ring = rings.get(f.queue());
      if (ring != null) ring.pollFirst();
      long visible = -1;
      for (long p = f.basePfn(); p < f.basePfn() + f.pages(); p++) {
        Long v = visibleAtStart.remove(p);
        if (v != null) visible = Math.max(visible, v);
      }
      if (visible >= 0 && f.finishCnt() <= visible) {
        violate("I2", at, "IOVA pfn " + f.basePfn() + " of " + f.owner() + " left the flush queue after " + f.finishCnt() + " flushes, but its PTE clear"
            + " reached the IOMMU only after flush " + visible + " had started: no flush started after the clear has completed (missing smp_mb in queue_iova, R1)");
        return;
      }
      if (f.counter() >= finish) {
        violate("I2", at, "IOVA pfn " + f.basePfn() + " of " + f.owner() + " left flush queue " + f.queue() + " with counter " + f.counter()
            + " but only " + finish + " flushes completed: the device may still hold its translation");
      }
    } else if (event instanceof IommuEvent.RangeLinked l) {
      for (long p = l.iovaPfn(); p < l.iovaPfn() + l.pages(); p++) {
        if (shadow.entry(p) >= 0) continue;
        leafCounts.merge(p >>> PageTable.LEAF_SHIFT, 1L, Long::sum);
      }
    } else if (event instanceof IommuEvent.PtesCleared c) {
      onCleared(c);
    } else if (event instanceof IommuEvent.InvalidationPosted p) {
      lastPosted = Math.max(lastPosted, p.id());
    } else if (event instanceof IommuEvent.InvalidationCompleted c) {
      if (c.scope().equals("all")) allCompleted = Math.max(allCompleted, c.id());
      else if (c.scope().equals("range")) {
        for (long leaf = c.startPfn() >>> PageTable.LEAF_SHIFT; leaf <= (c.startPfn() + c.pages() - 1) >>> PageTable.LEAF_SHIFT; leaf++) {
          rangeCompleted.merge(leaf, c.id(), Math::max);
        }
      }
    } else if (event instanceof IommuEvent.PageTablesFreed t) {
      for (long leaf : t.tables()) {
        ArrayDeque<Long> marks = emptiedAt.get(leaf);
        long mark = marks == null || marks.isEmpty() ? Long.MAX_VALUE : marks.pollFirst();
        long covered = Math.max(allCompleted, rangeCompleted.getOrDefault(leaf, 0L));
        if (covered <= mark) {
          violate("I3", at, "page-table page for IOVA leaf " + leaf + " freed before an invalidation covering it completed:"
              + " the IOMMU walk cache may still point into it");
        }
      }
    } else if (event instanceof IommuEvent.DomainTornDown) {
      tornDown = true;
    } else if (event instanceof IommuEvent.FlushTimerFired && tornDown) {
      violate("I6", at, "flush-queue timer ran after the domain was torn down (fq_flush_timeout on freed rings: use after free)");
    }
  }

  private void onQueued(StepInfo at, IommuEvent.FlushQueued q) {
    ArrayDeque<Long> ring = rings.computeIfAbsent(q.queue(), k -> new ArrayDeque<>());
    if (q.counter() != start) {
      violate("I2", at, "IOVA pfn " + q.basePfn() + " queued with counter " + q.counter() + " but fq_flush_start_cnt is " + start
          + ": the counter was read before the PTE clear was visible (missing smp_mb in queue_iova)");
    }
    if (ring.size() >= fqSize - 1) violate("I5", at, "flush queue " + q.queue() + " holds more than fq_size - 1 = " + (fqSize - 1) + " entries");
    if (!ring.isEmpty() && ring.peekLast() > q.counter()) violate("I5", at, "flush queue " + q.queue() + " counters decrease at the tail");
    ring.addLast(q.counter());
  }

  private void onCleared(IommuEvent.PtesCleared c) {
    for (long p = c.iovaPfn(); p < c.iovaPfn() + c.pages(); p++) {
      if (shadow.entry(p) < 0) continue;
      long leaf = p >>> PageTable.LEAF_SHIFT;
      if (leafCounts.merge(leaf, -1L, Long::sum) == 0) {
        leafCounts.remove(leaf);
        emptiedAt.computeIfAbsent(leaf, k -> new ArrayDeque<>()).addLast(lastPosted);
      }
    }
  }
}
