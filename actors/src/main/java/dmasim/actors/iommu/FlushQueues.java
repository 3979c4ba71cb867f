package dmasim.actors.iommu;

import dmasim.actors.model.Decision;
import dmasim.actors.model.Names;
import dmasim.actors.state.FlushQueue;
import dmasim.actors.state.Iotlb;
import dmasim.actors.state.IovaAllocator;
import dmasim.actors.state.PageTable;
import dmasim.protocol.DeviceCommand;
import dmasim.protocol.DeviceId;
import dmasim.protocol.DeviceReply;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Envelope;
import dmasim.protocol.Errno;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuEvent.ApiReturned;
import dmasim.protocol.IommuEvent.Continuation;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Message;
import dmasim.protocol.Prot;
import dmasim.protocol.Segment;
import java.util.ArrayList;
import java.util.List;

/** The flush queues of a DMA-FQ domain (dma-iommu.c): queue_iova, fq_flush_iotlb and fq_flush_timeout. */
final class FlushQueues extends IommuCall {
  FlushQueues(IommuLogic k) {
    super(k);
  }

  void queueIova(int cpu, Continuation.Reply done) {
    int q = cfg.mode() == IommuSettings.Mode.LAZY_SINGLE ? 0 : cpu % s.rings.size();
    FlushQueue ring = s.rings.get(q);
    List<FlushQueue.Entry> freeable = ring.freeable(s.finishCnt);
    freeEntries(q, freeable, s.finishCnt);
    if (ring.length() - freeable.size() >= ring.capacity()) {
      // Ring still full: fq_flush_iotlb() synchronously under the ring lock, the caller waits.
      d.emit(new IommuEvent.FlushStarted(s.startCnt + 1, "full"));
      k.invalidations.invalidate(0, 0, new Continuation.FqFlush(false, q, done));
      return;
    }
    append(q, done, s.startCnt, s.timerOn);
  }

  void append(int q, Continuation.Reply done, long counter, boolean timerOn) {
    d.emit(new IommuEvent.FlushQueued(q, done.owner(), done.freeBasePfn(), done.freePages(), counter, done.tables()));
    if (!timerOn) {
      d.emit(new IommuEvent.FlushTimerArmed(env.deliveredAt() + cfg.fqTimeout()));
      d.send(Names.IOMMU, new IommuCommand.FlushQueueTimeout(), cfg.fqTimeout());
    }
    k.invalidations.finishCall(done, true);
  }

  void freeEntries(int q, List<FlushQueue.Entry> entries, long finishCnt) {
    for (FlushQueue.Entry e : entries) {
      d.emit(new IommuEvent.FlushQueueEntryFreed(q, e.owner(), e.basePfn(), e.pages(), e.counter(), finishCnt));
      if (!e.tables().isEmpty()) d.emit(new IommuEvent.PageTablesFreed(e.tables(), "flush-queue finish_cnt " + finishCnt));
      d.emit(new IommuEvent.IovaFreed(null, e.owner(), e.basePfn(), e.pages(), "flush-queue"));
    }
  }

  /** fq_flush_timeout: clear fq_timer_on, one flush_iotlb_all, then free covered entries of every ring. */
  void onFlushTimeout() {
    // timer_delete_sync in iommu_dma_free_fq: the callback never runs after teardown. Without it
    // (plain del_timer, before d7061627d701) a timer that already fired runs on the freed rings.
    if (s.tornDown && cfg.teardownTimerSync()) return;
    d.emit(new IommuEvent.FlushTimerFired());
    d.emit(new IommuEvent.FlushStarted(s.startCnt + 1, "timer"));
    k.invalidations.invalidate(0, 0, new Continuation.FqFlush(true, -1, null));
  }

  /** fq_flush_iotlb completed: finish_cnt++, free what it covers, then append the entry that waited for room. */
  void finishFlush(Continuation.FqFlush c) {
    long finish = s.finishCnt + 1;
    d.emit(new IommuEvent.FlushFinished(finish));
    for (int q = 0; q < s.rings.size(); q++) {
      if (c.allRings() || q == c.queue()) freeEntries(q, s.rings.get(q).freeable(finish), finish);
    }
    Continuation.Reply waiting = c.waiting();
    if (waiting != null) {
      FlushQueue ring = s.rings.get(c.queue());
      if (ring.length() - ring.freeable(finish).size() >= ring.capacity()) {
        d.emit(new IommuEvent.FlushStarted(s.startCnt + 1, "full"));
        k.invalidations.invalidate(0, 0, c);
      } else {
        append(c.queue(), waiting, s.startCnt, s.timerOn);
      }
    }
  }
}
