package dmasim.actors.iommu;

import dmasim.actors.memory.Region;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Errno;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuEvent.ApiReturned;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Prot;
import dmasim.protocol.Segment;
import java.util.ArrayList;
import java.util.List;

/**
 * The DMA API for a device with use_dma_iommu() false: no IOMMU translates it (dma-direct) or it
 * sits in an identity domain (iommu=pt). kernel/dma/mapping.c routes dma_map_phys to
 * dma_direct_map_phys, which returns phys_to_dma(phys) (no bus offset modelled), and
 * dma_iova_try_alloc returns false with a zeroed state, so drivers take their fallback path. Unmaps
 * have nothing to tear down but the dma-debug entry; the driver's obligations (unmap before the
 * device is done is still a bug: the page may be reused) are the same.
 *
 * <p>Mappings are recorded as identity "dma_direct_map" / "dma_direct_unmap" ranges so the monitors
 * that judge what the driver handed the device (ownership, use after free, stale descriptors) see
 * them; the IOMMU's page table never holds them. Not modelled: swiotlb bouncing for addresses
 * beyond the DMA mask (dma_capable), and arch cache maintenance beyond the sync bookkeeping.
 */
final class DmaDirect extends IommuCall {
  static final String MAP = "dma_direct_map";
  static final String UNMAP = "dma_direct_unmap";

  DmaDirect(IommuLogic k) {
    super(k);
  }

  /** Whether {@code m} is a DMA API call for a device on the dma-direct path; handles it if so. */
  boolean handle(Object m) {
    if (m instanceof IommuCommand.TryAlloc c && cfg.direct(c.dev())) onTryAlloc(c);
    else if (m instanceof IommuCommand.MapPhys c && cfg.direct(c.dev())) onMapPhys(c);
    else if (m instanceof IommuCommand.UnmapPhys c && cfg.direct(c.dev())) {
      unmap(c.dev(), c.handle(), "unmap_phys", List.of(new DmaSegment(c.addr(), c.size())), c.addr(), c.size(), c.dir(), 1);
    }
    else if (m instanceof IommuCommand.MapSg c && cfg.direct(c.dev())) onMapSg(c);
    else if (m instanceof IommuCommand.UnmapSg c && cfg.direct(c.dev())) onUnmapSg(c);
    else if (m instanceof IommuCommand.SyncSingle c && cfg.direct(c.dev())) {
      sync(c.dev(), c.handle(), "sync_single", List.of(new DmaSegment(c.addr(), c.size())), c.dir(), c.forCpu(), 1);
    } else if (m instanceof IommuCommand.SyncSg c && cfg.direct(c.dev())) {
      sync(c.dev(), c.sg(), "sync_sg", c.mapped().isEmpty() ? List.of(new DmaSegment(Iova.MAPPING_ERROR, 1)) : c.mapped(), c.dir(), c.forCpu(),
          c.nents());
    } else return false;
    return true;
  }

  private void reply(String call, String object, int errno, long value, List<DmaSegment> segments) {
    d.send(caller, new IommuReply.Returned(call, object, errno, value, segments));
  }

  private static long pages(long addr, long size) {
    return ((addr & 0xfff) + size + 0xfff) >>> 12;
  }

  /** dma_iova_try_alloc: memset(state, 0); if (!use_dma_iommu(dev)) return false. No fault plan: nothing to fail. */
  private void onTryAlloc(IommuCommand.TryAlloc c) {
    d.emit(new IommuEvent.IovaAllocFailed(c.dev(), owner(c.state()), "try_alloc", c.size(),
        "use_dma_iommu() is false (dma-direct or identity domain): the caller must use the regular DMA API"));
    reply("try_alloc", c.state(), Errno.OK, 0, List.of());
  }

  /** dma_direct_map_phys: the DMA address is the physical address; MMIO is passed through untranslated. */
  private void onMapPhys(IommuCommand.MapPhys c) {
    String owner = owner(c.handle());
    long addr = c.phys().addr();
    Prot prot = cfg.prot(c.dev(), c.dir(), c.attrs().has(DmaAttrs.MMIO));
    long pages = pages(addr, c.size());
    d.emit(new IommuEvent.RangeLinked(c.dev(), owner, MAP, -1, 0, c.size(), addr >>> 12, addr >>> 12, pages, prot, c.dir()));
    d.emit(new IommuEvent.DebugHookCalled(c.dev(), owner, "map_phys", List.of(new IommuEvent.DebugSegment(addr, c.size(), addr, c.size())),
        c.dir(), c.attrs()));
    d.emit(new ApiReturned(c.dev(), owner, "map_phys", new Iova(addr), addr >>> 12, pages, c.size(), c.dir(), 1, false, Errno.OK));
    reply("map_phys", c.handle(), Errno.OK, addr, List.of());
  }

  /**
   * dma_direct_map_sg: each segment gets its physical address, a P2P segment its bus address
   * (pci_p2pdma_map_segment: bus address for MAP_BUS_ADDR, -EREMOTEIO when not supported).
   */
  private void onMapSg(IommuCommand.MapSg c) {
    String owner = owner(c.sg());
    List<DmaSegment> out = new ArrayList<>();
    List<IommuEvent.DebugSegment> hook = new ArrayList<>();
    for (Segment seg : c.segments()) {
      Region r = s.memory.regionOf(seg.phys().addr() >>> 12);
      if (r != null && r.path() == Region.Path.NOT_SUPPORTED) {
        d.emit(new ApiReturned(c.dev(), owner, "map_sg", Iova.MAPPING_ERROR, 0, 0, 0, c.dir(), c.segments().size(), false, Errno.EREMOTEIO));
        reply("map_sg", c.sg(), Errno.EREMOTEIO, 0, List.of());
        return;
      }
      DmaSegment mapped = r != null && r.path() == Region.Path.BUS_ADDRESS
          ? new DmaSegment(new Iova(seg.phys().addr() + (r.busOffsetPages() << 12)), seg.length(), true)
          : new DmaSegment(new Iova(seg.phys().addr()), seg.length());
      out.add(mapped);
      hook.add(new IommuEvent.DebugSegment(seg.phys().addr(), seg.length(), mapped.addr().addr(), seg.length()));
    }
    Prot prot = cfg.prot(c.dev(), c.dir(), c.attrs().has(DmaAttrs.MMIO) || s.memory.regionOf(c.segments().get(0).phys().addr() >>> 12) != null);
    long total = 0;
    for (DmaSegment m : out) {
      total += m.length();
      if (m.busAddress()) continue;
      long a = m.addr().addr();
      d.emit(new IommuEvent.RangeLinked(c.dev(), owner, MAP, -1, 0, m.length(), a >>> 12, a >>> 12, pages(a, m.length()), prot, c.dir()));
    }
    d.emit(new IommuEvent.DebugHookCalled(c.dev(), owner, "map_sg", hook, c.dir(), c.attrs()));
    DmaSegment first = out.get(0);
    d.emit(new ApiReturned(c.dev(), owner, "map_sg", first.addr(), first.addr().addr() >>> 12, pages(first.addr().addr(), first.length()), total,
        c.dir(), c.segments().size(), false, Errno.OK));
    reply("map_sg", c.sg(), Errno.OK, out.size(), out);
  }

  private void onUnmapSg(IommuCommand.UnmapSg c) {
    Iova first = c.mapped().isEmpty() ? Iova.MAPPING_ERROR : c.mapped().get(0).addr();
    long total = c.mapped().stream().mapToLong(DmaSegment::length).sum();
    unmap(c.dev(), c.sg(), "unmap_sg", c.mapped(), first, total, c.dir(), c.nents());
  }

  /** dma_direct_unmap_phys / _sg: nothing to tear down but what the driver mapped (and dma-debug's entry). */
  private void unmap(DeviceId dev, String object, String api, List<DmaSegment> segments, Iova first, long size, Direction dir, int nents) {
    String owner = owner(object);
    if (first.isError()) {
      d.emit(new ApiReturned(dev, owner, api, first, 0, 0, size, dir, nents, false, Errno.EINVAL));
      reply(api, object, Errno.EINVAL, 0, List.of());
      return;
    }
    for (DmaSegment seg : segments) {
      if (seg.busAddress() || seg.addr().isError()) continue;
      long pfn = seg.addr().addr() >>> 12;
      long n = 0;
      while (n < pages(seg.addr().addr(), seg.length()) && s.directMapped.containsKey(pfn + n)) n++;
      if (n > 0) d.emit(new IommuEvent.PtesCleared(dev, owner, UNMAP, -1, 0, seg.length(), pfn, n, n));
    }
    d.emit(new ApiReturned(dev, owner, api, first, first.addr() >>> 12, pages(first.addr(), size), size, dir, nents, false, Errno.OK));
    reply(api, object, Errno.OK, 0, List.of());
  }

  /**
   * dma_direct_sync_single_for_{cpu,device} / dma_direct_sync_sg_*: cache maintenance (and swiotlb,
   * not modelled) on each segment's physical address - an sg list is synced segment by segment, as
   * debug_dma_sync_sg_* checks each one, since its pages are not contiguous.
   */
  private void sync(DeviceId dev, String object, String api, List<DmaSegment> segments, Direction dir, boolean forCpu, int nents) {
    for (DmaSegment seg : segments) {
      if (seg.busAddress()) continue;
      boolean mapped = !seg.addr().isError() && s.directMapped.containsKey(seg.addr().addr() >>> 12);
      d.emit(new IommuEvent.SyncPerformed(dev, owner(object), api, seg.addr(), seg.length(), dir, forCpu, nents, mapped));
    }
    reply(api, object, Errno.OK, 0, List.of());
  }
}
