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

/**
 * The common unmap tail (__iommu_dma_unmap, __iommu_dma_iova_unlink with free_iova): clear the
 * PTEs up to the first hole, then a strict flush and free, or queue_iova in a DMA-FQ domain.
 */
final class DmaUnmap extends IommuCall {
  DmaUnmap(IommuLogic k) {
    super(k);
  }

  /**
   * Shared tail of destroy/unmap_phys/unmap_sg (__iommu_dma_iova_unlink, __iommu_dma_unmap):
   * iommu_unmap_fast stops at the first hole of the range, WARN_ON(unmapped != size), and the IOVA is
   * freed all the same, so whatever was mapped behind a hole stays mapped in a freed IOVA: the next
   * owner of that IOVA shares it with the old pages. Then a strict flush and free, or queue_iova.
   * The whole allocation goes back (free_iova); the kernel's free_iova_fast of the smaller
   * iova_align(mapped_len + pad) only differs in which rcache magazine keeps it.
   */
  void unmapAndFree(DeviceId dev, String owner, String object, String api, Iova addr, long pfn, long requested, long size,
      Direction dir, int nents) {
    long pages = s.pageTable.presentPrefix(pfn, requested);
    long base = s.allocator.baseContaining(pfn);
    long allocPages = base < 0 ? 0 : s.allocator.pagesAt(base);
    boolean unordered = cfg.lazy() && !cfg.fqBarrier() && base >= 0;
    if (unordered) {
      // No smp_mb() at the top of queue_iova (B3/R1): the counter is read below while the walker
      // may still see the old PTEs; the clear lands as a separate envelope.
      d.emit(new IommuEvent.PteClearPending(pfn, pages));
      d.send(Names.IOMMU, new IommuCommand.PteClearLands(pfn, pages), cfg.invalidationLatency());
    }
    d.emit(new IommuEvent.PtesCleared(dev, owner, api, base, 0, size, pfn, pages, pages));
    releaseBounces(pfn, pages);
    List<Long> tables = s.pageTable.wouldEmpty(pfn, pages);
    Continuation.Reply done = new Continuation.Reply(caller, api, dev, owner, api, addr, pfn, pages, size, dir, nents, base, allocPages, tables);
    if (cfg.lazy() && base >= 0) k.flushQueues.queueIova(Names.cpuIndex(caller), done);
    else if (pages == 0) k.invalidations.finishCall(done, false);
    else k.invalidations.invalidate(pfn, pages, done);
  }

  /** iommu_dma_unmap_phys: WARN_ON(!iova_to_phys) and return; else __iommu_dma_unmap. */
  void onUnmap(DeviceId dev, String object, String api, Iova first, Iova addr, long size, Direction dir, int nents) {
    String owner = owner(object);
    if (addr.isError() || s.pageTable.lookup(addr.addr() >>> cfg.granuleShift()) < 0) {
      d.emit(new ApiReturned(dev, owner, api, first, addr.isError() ? 0 : addr.addr() >>> cfg.granuleShift(), 0, size, dir, nents,
          false, Errno.EINVAL));
      reply(api, object, Errno.EINVAL, 0);
      return;
    }
    long pad = pad(addr.addr());
    long pfn = (addr.addr() - pad) >>> cfg.granuleShift();
    unmapAndFree(dev, owner, object, api, first, pfn, pagesFor(size + pad), size, dir, nents);
  }
}
