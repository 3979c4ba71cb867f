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
 * The two-step IOVA API (dma-iommu.c): dma_iova_try_alloc, dma_iova_link (whose swiotlb branch is
 * {@link SwiotlbLink}), dma_iova_sync, dma_iova_unlink, dma_iova_destroy and dma_iova_free.
 */
final class IovaApiCalls extends IommuCall {
  IovaApiCalls(IommuLogic k) {
    super(k);
  }

  /** dma_iova_try_alloc: false on size 0 or bit 63 (WARN) or exhaustion; no page-table change. */
  void onTryAlloc(IommuCommand.TryAlloc c) {
    String owner = owner(c.state());
    if (!s.attached.contains(c.dev())) {
      d.emit(new IommuEvent.IovaAllocFailed(c.dev(), owner, "try_alloc", c.size(), IommuLogic.NOT_ATTACHED));
      reply("try_alloc", c.state(), Errno.OK, 0);
      return;
    }
    if (c.size() <= 0) {
      d.emit(new IommuEvent.IovaAllocFailed(c.dev(), owner, "try_alloc", c.size(), "size is 0 or has bit 63 set (WARN)"));
      reply("try_alloc", c.state(), Errno.OK, 0);
      return;
    }
    long pad = pad(c.phys().addr());
    if (fault("try_alloc", owner) != 0) {
      d.emit(new IommuEvent.IovaAllocFailed(c.dev(), owner, "try_alloc", c.size(), "fault injected: IOVA allocation fails"));
      reply("try_alloc", c.state(), Errno.OK, 0);
      return;
    }
    long base = allocIova(c.dev(), owner, "try_alloc", c.size(), pad);
    reply("try_alloc", c.state(), Errno.OK, base < 0 ? 0 : (base << cfg.granuleShift()) + pad);
  }

  /**
   * dma_iova_link, in the kernel's order: the -EIO check; DMA_ATTR_REQUIRE_COHERENT refused with
   * -EOPNOTSUPP on a state that already went through swiotlb or on a non-coherent device; then the
   * swiotlb path for a device that must bounce an unaligned buffer (dev_use_swiotlb &&
   * iova_unaligned), which memory without struct page (DMA_ATTR_MMIO) or a coherent-only caller
   * cannot take (-EPERM); else __dma_iova_link -> iommu_map_nosync: PTEs written (IOMMU_MMIO
   * instead of IOMMU_CACHE for MMIO, no CPU cache maintenance), no iotlb_sync_map.
   */
  void onLink(IommuCommand.Link c) {
    String owner = owner(c.state());
    long pad = pad(c.phys().addr());
    if (pad != 0 && c.offset() != 0) {
      failLink(c, owner, Errno.EIO, "unaligned phys with offset > 0 (WARN_ON in dma_iova_link)");
      return;
    }
    IommuSettings.DeviceSpec spec = cfg.devices().get(c.dev());
    boolean requireCoherent = c.attrs().has(DmaAttrs.REQUIRE_COHERENT);
    if (requireCoherent && s.swiotlbStates.contains(s.allocator.baseContaining((c.addr().addr() - pad(c.addr().addr())) >>> cfg.granuleShift()))) {
      failLink(c, owner, Errno.EOPNOTSUPP, "DMA_ATTR_REQUIRE_COHERENT on a state that already used swiotlb (WARN_ON_ONCE)");
      return;
    }
    if (requireCoherent && spec != null && !spec.coherent()) {
      failLink(c, owner, Errno.EOPNOTSUPP, "DMA_ATTR_REQUIRE_COHERENT on a non-coherent device");
      return;
    }
    if (c.size() > 0 && spec != null && spec.untrusted() && (pad != 0 || pad(c.size()) != 0)) {
      if (c.attrs().has(DmaAttrs.MMIO) || requireCoherent) {
        failLink(c, owner, Errno.EPERM, "swiotlb bouncing needed, but " + (requireCoherent ? "DMA_ATTR_REQUIRE_COHERENT" : "DMA_ATTR_MMIO")
            + " memory cannot be bounced");
        return;
      }
      k.swiotlb.linkSwiotlb(c, owner);
      return;
    }
    long iova = c.addr().addr() + c.offset() - pad;
    long pages = pagesFor(c.size() + pad);
    long iovaPfn = iova >>> cfg.granuleShift();
    int err = Errno.OK;
    String why = null;
    if (c.size() <= 0) {
      err = Errno.EINVAL;
      why = "zero-length link (iommu_map of 0 bytes)";
    } else if (pad(iova) != 0) {
      err = Errno.EINVAL;
      why = "IOVA not aligned to the granule (iommu_map_nosync: unaligned)";
    } else if (s.pageTable.anyPresent(iovaPfn, pages)) {
      err = Errno.EEXIST;
      why = "PTE already present in [" + iovaPfn + "+" + pages + ")";
    } else if ((err = fault("link", owner)) != 0) {
      why = "fault injected: iommu_map_nosync fails (nothing of this link stays mapped)";
    }
    if (err != Errno.OK) {
      failLink(c, owner, err, why);
      return;
    }
    long allocBase = s.allocator.baseContaining(iovaPfn);
    Prot prot = cfg.prot(c.dev(), c.dir(), c.attrs().has(DmaAttrs.MMIO));
    long physPfn = (c.phys().addr() - pad) >>> cfg.granuleShift();
    d.emit(new IommuEvent.RangeLinked(c.dev(), owner, "link", allocBase, c.offset(), c.size(), iovaPfn, physPfn, pages, prot, c.dir()));
    reply("link", c.state(), Errno.OK, 0);
  }

  void failLink(IommuCommand.Link c, String owner, int errno, String why) {
    d.emit(new IommuEvent.MapFailed(c.dev(), owner, "link", c.offset(), c.size(), errno, why));
    reply("link", c.state(), errno, 0);
  }

  /** The whole dma_iova_link succeeded: declare [offset, offset+size) linked (its pieces carry the pages). */
  void linked(IommuCommand.Link c, String owner, long allocBase, Prot prot) {
    long iova = c.addr().addr() + c.offset();
    d.emit(new IommuEvent.RangeLinked(c.dev(), owner, "link", allocBase, c.offset(), c.size(), (iova - pad(iova)) >>> cfg.granuleShift(),
        c.phys().addr() >>> cfg.granuleShift(), 0, prot, c.dir()));
    reply("link", c.state(), Errno.OK, 0);
  }

  /** dma_iova_sync -> iommu_sync_map: a range invalidation when the IOMMU needs flush-on-map, else nothing. */
  void onSync(IommuCommand.Sync c) {
    long a = c.addr().addr() + c.offset();
    long pad = pad(a);
    long pfn = (a - pad) >>> cfg.granuleShift();
    long pages = pagesFor(c.size() + pad);
    int err = fault("sync", owner(c.state()));
    if (err != 0) {
      // iotlb_sync_map failed (s390 RPCIT out of resources, fa4c4507099f); the NEW dma_iova_sync
      // returns the error and does not unmap: the caller must unlink or destroy.
      d.emit(new IommuEvent.RangeSynced(c.dev(), owner(c.state()), "sync", pfn, pages, false, err));
      reply("sync", c.state(), err, 0);
      return;
    }
    if (!s.syncMapFlag) {
      d.emit(new IommuEvent.RangeSynced(c.dev(), owner(c.state()), "sync", pfn, pages, false, Errno.OK));
      reply("sync", c.state(), Errno.OK, 0);
      return;
    }
    k.invalidations.invalidate(pfn, pages, new Continuation.Reply(caller, "sync", c.dev(), owner(c.state()), "sync", c.addr(), pfn, pages, c.size(), null, 0, -1, 0,
        List.of()));
  }

  /**
   * dma_iova_unlink (__iommu_dma_iova_unlink with free_iova false): iommu_unmap_fast over the
   * granule-aligned range, which stops at the first hole (WARN_ON(unmapped != size)), then always a
   * synchronous iommu_iotlb_sync of what was unmapped; the IOVA stays allocated.
   */
  void onUnlink(IommuCommand.Unlink c) {
    long a = c.addr().addr() + c.offset();
    long pad = pad(a);
    long pfn = (a - pad) >>> cfg.granuleShift();
    long pages = s.pageTable.presentPrefix(pfn, pagesFor(c.size() + pad));
    String owner = owner(c.state());
    long allocBase = s.allocator.baseContaining(pfn);
    d.emit(new IommuEvent.PtesCleared(c.dev(), owner, "unlink", allocBase, c.offset(), c.size(), pfn, pages, pages));
    releaseBounces(pfn, pages);
    List<Long> tables = s.pageTable.wouldEmpty(pfn, pages);
    Continuation.Reply done = new Continuation.Reply(caller, "unlink", c.dev(), owner, "unlink", c.addr(), pfn, pages, c.size(), c.dir(), 1, -1, 0, tables);
    if (pages == 0) k.invalidations.finishCall(done, false); // an empty gather: iommu_iotlb_sync has nothing to flush
    else k.invalidations.invalidate(pfn, pages, done);
  }

  /** dma_iova_destroy: unlink [0, mapped_len) and free the IOVA, through the flush queue in a DMA-FQ domain. */
  void onDestroy(IommuCommand.Destroy c) {
    if (c.mappedLen() == 0) {
      onFree(c.dev(), c.state(), c.addr(), "destroy");
      return;
    }
    long pad = pad(c.addr().addr());
    long pfn = (c.addr().addr() - pad) >>> cfg.granuleShift();
    long pages = pagesFor(c.mappedLen() + pad);
    k.unmaps.unmapAndFree(c.dev(), owner(c.state()), c.state(), "destroy", c.addr(), pfn, pages, c.mappedLen(), c.dir(), 1);
  }

  /** dma_iova_free: the IOVA goes straight back to the allocator (free_iova_fast); PTEs are not touched. */
  void onFree(DeviceId dev, String object, Iova addr, String api) {
    long pfn = addr.addr() >>> cfg.granuleShift();
    long base = s.allocator.baseContaining(pfn);
    String owner = owner(object);
    if (base >= 0) d.emit(new IommuEvent.IovaFreed(dev, owner, base, s.allocator.pagesAt(base), "free"));
    long pages = base < 0 ? 0 : s.allocator.pagesAt(base);
    d.emit(new ApiReturned(dev, owner, api, addr, base < 0 ? pfn : base, pages, 0, null, 0, false,
        base < 0 ? Errno.EINVAL : Errno.OK));
    reply(api, object, Errno.OK, 0);
  }
}
