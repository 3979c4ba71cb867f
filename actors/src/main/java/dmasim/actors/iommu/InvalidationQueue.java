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
import dmasim.protocol.IommuEvent.Scope;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Message;
import dmasim.protocol.Prot;
import dmasim.protocol.Segment;
import java.util.ArrayList;
import java.util.List;

/**
 * The IOMMU's invalidation queue (Intel QI, SMMUv3 CMDQ, AMD command buffer): an invalidation
 * sequence is posted as commands - IOTLB then ATC, or the wrong order under test - each completing
 * as its own envelope after the queue's latency, and what waits for it (a caller's return, a
 * flush-queue flush, the next stage) is carried as a {@link Continuation} in the posted event.
 */
final class InvalidationQueue extends IommuCall {
  InvalidationQueue(IommuLogic k) {
    super(k);
  }

  /** Posts the invalidation sequence for a range ({@code pages} 0 = whole domain): IOTLB then ATC (or the configured wrong order). */
  void invalidate(long startPfn, long pages, Continuation then) {
    Scope scope = pages == 0 ? Scope.ALL : Scope.RANGE;
    if (cfg.atsDevices().isEmpty()) {
      post(scope, startPfn, pages, then);
    } else if (cfg.atcFirst()) {
      post(Scope.ATC, startPfn, pages, new Continuation.Next(scope, then));
    } else {
      post(scope, startPfn, pages, new Continuation.Next(Scope.ATC, then));
    }
  }

  void post(Scope scope, long startPfn, long pages, Continuation then) {
    long id = k.nextId++;
    if (scope == Scope.ATC) {
      List<DeviceId> ats = cfg.atsDevices();
      d.emit(new IommuEvent.InvalidationPosted(id, scope.label(), startPfn, pages, ats.size(), then));
      for (DeviceId dev : ats) d.send(Names.device(dev), new DeviceCommand.InvalidateAtc(id, startPfn, pages));
    } else if (scope == Scope.RANGE && cfg.gatherEndBug()) {
      // B10: gather->end is inclusive but was used as exclusive, so the natural-aligned flushes
      // cover one page too many and split into several power-of-two commands (2212fc2acf3f).
      java.util.List<long[]> chunks = naturalChunks(startPfn, pages + 1);
      for (int i = 0; i < chunks.size(); i++) {
        long cid = i == 0 ? id : k.nextId++;
        long[] c = chunks.get(i);
        d.emit(new IommuEvent.InvalidationPosted(cid, scope.label(), c[0], c[1], 1, i == chunks.size() - 1 ? then : null));
        d.send(Names.IOMMU, new IommuCommand.InvalidationDone(cid), cfg.invalidationLatency());
      }
    } else {
      d.emit(new IommuEvent.InvalidationPosted(id, scope.label(), startPfn, pages, 1, then));
      // The invalidation queue completes the command after its latency, as a separate envelope,
      // so device transactions can interleave between the PTE clear and the completion.
      d.send(Names.IOMMU, new IommuCommand.InvalidationDone(id), cfg.invalidationLatency());
    }
  }

  /** The largest naturally aligned power-of-two blocks covering [start, start + pages). */
  static java.util.List<long[]> naturalChunks(long start, long pages) {
    java.util.List<long[]> out = new java.util.ArrayList<>();
    long p = start;
    long end = start + pages;
    while (p < end) {
      long size = p == 0 ? Long.highestOneBit(end) : Long.lowestOneBit(p);
      while (p + size > end) size >>= 1;
      out.add(new long[] {p, size});
      p += size;
    }
    return out;
  }

  void onInvalidationDone(long id) {
    IommuState.Pending p = s.pending.get(id);
    if (p == null) return; // lost in a reset: the command never completes
    int dropped = countCached(p.startPfn(), p.scope().equals("all") ? 0 : p.pages());
    d.emit(new IommuEvent.InvalidationCompleted(id, p.scope(), p.startPfn(), p.pages(), dropped));
    complete(p, p.then());
  }

  void onAtcInvalidated(long id) {
    IommuState.Pending p = s.pending.get(id);
    if (p == null) return;
    d.emit(new IommuEvent.AtcInvalidationAcked(id, Names.deviceOf(caller)));
    if (p.acksLeft() > 1) return;
    d.emit(new IommuEvent.InvalidationCompleted(id, "atc", p.startPfn(), p.pages(), 0));
    complete(p, p.then());
  }

  void complete(IommuState.Pending p, Continuation then) {
    if (then == null) return;
    if (then instanceof Continuation.Next n) post(n.scope(), p.startPfn(), p.pages(), n.then());
    else if (then instanceof Continuation.Reply r) finishCall(r, false);
    else if (then instanceof Continuation.FqFlush f) k.flushQueues.finishFlush(f);
  }

  /** The call that waited returns: free what it may free now, record the return, answer the caller. */
  void finishCall(Continuation.Reply c, boolean deferred) {
    if (!deferred) {
      if (!c.tables().isEmpty()) d.emit(new IommuEvent.PageTablesFreed(c.tables(), "invalidation"));
      if (c.freeBasePfn() >= 0) d.emit(new IommuEvent.IovaFreed(c.dev(), c.owner(), c.freeBasePfn(), c.freePages(), "strict"));
    }
    if (c.api().equals("sync")) {
      d.emit(new IommuEvent.RangeSynced(c.dev(), c.owner(), "sync", c.iovaPfn(), c.pages(), true, Errno.OK));
    } else {
      d.emit(new ApiReturned(c.dev(), c.owner(), c.api(), c.addr(), c.iovaPfn(), c.pages(), c.size(), c.dir(), c.nents(), deferred,
          Errno.OK));
    }
    String object = c.owner().substring(c.owner().indexOf('/') + 1);
    d.send(c.replyTo(), new IommuReply.Returned(c.call(), object, Errno.OK, 0, List.of()));
  }
}
