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

/** The classic DMA API on the IOMMU path: iommu_dma_map_phys / _map_sg / _alloc / _free, their unmaps and syncs. */
final class ClassicApi extends IommuCall {
  ClassicApi(IommuLogic k) {
    super(k);
  }

  /**
   * dma_map_single_attrs, before dma_map_page_attrs (either path): a vmalloc address is refused with
   * dev_WARN_ONCE(dev, is_vmalloc_addr(ptr), "rejecting DMA map of vmalloc memory") and
   * DMA_MAPPING_ERROR (dma_mapping_error then gives -ENOMEM), nothing mapped; any other address goes
   * to debug_dma_map_single(dev, ptr, size) and on to the map. Returns whether the call ended here.
   */
  boolean onMapSingle(IommuCommand.MapPhys c) {
    String owner = owner(c.handle());
    if (c.single().vmallocAddr()) {
      d.emit(new IommuEvent.MapSingleRejected(c.dev(), owner, c.phys().addr(), c.size(), c.single()));
      d.emit(new ApiReturned(c.dev(), owner, "map_phys", Iova.MAPPING_ERROR, 0, 0, c.size(), c.dir(), 1, false, Errno.ENOMEM));
      reply("map_phys", c.handle(), Errno.ENOMEM, Iova.MAPPING_ERROR.addr());
      return true;
    }
    d.emit(new IommuEvent.DebugHookCalled(c.dev(), owner, "map_single", List.of(new IommuEvent.DebugSegment(c.phys().addr(), c.size(), -1, 0)),
        c.dir(), c.attrs()));
    return false;
  }

  /** iommu_dma_map_phys -> __iommu_dma_map: alloc IOVA, iommu_map (map + sync_map); DMA_MAPPING_ERROR on failure. */
  void onMapPhys(IommuCommand.MapPhys c) {
    String owner = owner(c.handle());
    if (!s.attached.contains(c.dev())) {
      d.emit(new ApiReturned(c.dev(), owner, "map_phys", Iova.MAPPING_ERROR, 0, 0, c.size(), c.dir(), 1, false, Errno.EINVAL));
      reply("map_phys", c.handle(), Errno.EINVAL, Iova.MAPPING_ERROR.addr());
      return;
    }
    long pad = pad(c.phys().addr());
    int err = fault("map_phys", owner);
    long base = err != 0 ? -1 : allocIova(c.dev(), owner, "map_phys", c.size(), pad);
    if (base < 0) {
      d.emit(new ApiReturned(c.dev(), owner, "map_phys", Iova.MAPPING_ERROR, 0, 0, c.size(), c.dir(), 1, false, Errno.ENOMEM));
      reply("map_phys", c.handle(), Errno.ENOMEM, Iova.MAPPING_ERROR.addr());
      return;
    }
    long pages = pagesFor(c.size() + pad);
    Prot prot = cfg.prot(c.dev(), c.dir(), c.attrs().has(DmaAttrs.MMIO));
    d.emit(new IommuEvent.RangeLinked(c.dev(), owner, "map_phys", base, 0, c.size(), base, (c.phys().addr() - pad) >>> cfg.granuleShift(),
        pages, prot, c.dir()));
    if (syncMapInline(base, pages)) d.emit(new IommuEvent.RangeSynced(c.dev(), owner, "map_phys", base, pages, true, Errno.OK));
    Iova addr = new Iova((base << cfg.granuleShift()) + pad);
    d.emit(new IommuEvent.DebugHookCalled(c.dev(), owner, "map_phys",
        List.of(new IommuEvent.DebugSegment(c.phys().addr(), c.size(), addr.addr(), c.size())), c.dir(), c.attrs()));
    d.emit(new ApiReturned(c.dev(), owner, "map_phys", addr, base, pages, c.size(), c.dir(), 1, false, Errno.OK));
    reply("map_phys", c.handle(), Errno.OK, addr.addr());
  }

  /**
   * iommu_dma_map_sg: P2P segments by their mapping type (bus address: not mapped; not supported:
   * -EREMOTEIO for the whole list), the rest in one IOVA allocation laid out granule-aligned, one sync.
   * As there, a segment that would cross the device's segment boundary (dma_get_seg_boundary) starts
   * at the next boundary instead: pad_len = (mask - iova_len + 1) & mask is added after the previous
   * segment when pad_len && pad_len < s_length - 1 (the padding itself is not mapped here).
   */
  void onMapSg(IommuCommand.MapSg c) {
    String owner = owner(c.sg());
    if (!s.attached.contains(c.dev())) {
      d.emit(new ApiReturned(c.dev(), owner, "map_sg", Iova.MAPPING_ERROR, 0, 0, 0, c.dir(), c.segments().size(), false, Errno.EINVAL));
      reply("map_sg", c.sg(), Errno.EINVAL, 0);
      return;
    }
    IommuSettings.DeviceSpec spec = cfg.devices().get(c.dev());
    long mask = spec == null ? IommuSettings.DeviceSpec.DEFAULT_SEGMENT_BOUNDARY : spec.segmentBoundary();
    long[] padAfter = new long[c.segments().size()];
    int prev = -1;
    long total = 0;
    for (int i = 0; i < c.segments().size(); i++) {
      Segment seg = c.segments().get(i);
      dmasim.actors.memory.Region r = s.memory.regionOf(seg.phys().addr() >>> 12);
      if (r != null && r.path() == dmasim.actors.memory.Region.Path.NOT_SUPPORTED) {
        d.emit(new ApiReturned(c.dev(), owner, "map_sg", Iova.MAPPING_ERROR, 0, 0, 0, c.dir(), c.segments().size(), false, Errno.EREMOTEIO));
        d.send(caller, new IommuReply.Returned("map_sg", c.sg(), Errno.EREMOTEIO, 0, List.of()));
        return;
      }
      if (r == null || r.path() != dmasim.actors.memory.Region.Path.BUS_ADDRESS) {
        long sLength = pagesFor(seg.length() + pad(seg.phys().addr())) << cfg.granuleShift();
        long padLen = (mask - total + 1) & mask;
        if (padLen != 0 && prev >= 0 && Long.compareUnsigned(padLen, sLength - 1) < 0) {
          padAfter[prev] += padLen;
          total += padLen;
        }
        total += sLength;
        prev = i;
      }
    }
    if (total == 0) { // every segment is a P2P bus address: nothing goes through the IOMMU
      List<DmaSegment> bus = new ArrayList<>();
      for (Segment seg : c.segments()) bus.add(busSegment(seg));
      d.emit(new ApiReturned(c.dev(), owner, "map_sg", bus.get(0).addr(), 0, 0, 0, c.dir(), c.segments().size(), false, Errno.OK));
      d.send(caller, new IommuReply.Returned("map_sg", c.sg(), Errno.OK, bus.size(), bus));
      return;
    }
    long base = fault("map_sg", owner) != 0 ? -1 : allocIova(c.dev(), owner, "map_sg", total, 0);
    if (base < 0) {
      d.emit(new ApiReturned(c.dev(), owner, "map_sg", Iova.MAPPING_ERROR, 0, 0, total, c.dir(), c.segments().size(), false,
          Errno.ENOMEM));
      reply("map_sg", c.sg(), Errno.ENOMEM, 0);
      return;
    }
    Prot prot = cfg.prot(c.dev(), c.dir(), c.attrs().has(DmaAttrs.MMIO) || s.memory.regionOf(c.segments().get(0).phys().addr() >>> 12) != null);
    List<DmaSegment> out = new ArrayList<>();
    long pfn = base;
    long offset = 0;
    for (int i = 0; i < c.segments().size(); i++) {
      Segment seg = c.segments().get(i);
      dmasim.actors.memory.Region region = s.memory.regionOf(seg.phys().addr() >>> 12);
      if (region != null && region.path() == dmasim.actors.memory.Region.Path.BUS_ADDRESS) {
        out.add(busSegment(seg)); // SG_DMA_BUS_ADDRESS: pci_p2pdma_bus_addr_map, no IOVA
        continue;
      }
      long pad = pad(seg.phys().addr());
      long pages = pagesFor(seg.length() + pad);
      d.emit(new IommuEvent.RangeLinked(c.dev(), owner, "map_sg", base, offset, seg.length(), pfn,
          (seg.phys().addr() - pad) >>> cfg.granuleShift(), pages, prot, c.dir()));
      out.add(new DmaSegment(new Iova((pfn << cfg.granuleShift()) + pad), seg.length()));
      pfn += pages + (padAfter[i] >>> cfg.granuleShift());
      offset += (pages << cfg.granuleShift()) + padAfter[i];
    }
    if (syncMapInline(base, pfn - base)) d.emit(new IommuEvent.RangeSynced(c.dev(), owner, "map_sg", base, pfn - base, true, Errno.OK));
    List<IommuEvent.DebugSegment> hook = new ArrayList<>();
    for (int i = 0; i < out.size(); i++) {
      Segment seg = c.segments().get(i);
      hook.add(new IommuEvent.DebugSegment(seg.phys().addr(), seg.length(), out.get(i).addr().addr(), out.get(i).length()));
    }
    d.emit(new IommuEvent.DebugHookCalled(c.dev(), owner, "map_sg", hook, c.dir(), c.attrs()));
    DmaSegment firstIova = out.stream().filter(x -> !x.busAddress()).findFirst().orElseThrow();
    d.emit(new ApiReturned(c.dev(), owner, "map_sg", firstIova.addr(), base, pfn - base, total, c.dir(), c.segments().size(), false,
        Errno.OK));
    d.send(caller, new IommuReply.Returned("map_sg", c.sg(), Errno.OK, out.size(), out));
  }

  /**
   * iommu_dma_alloc on the mapping side: the pages (allocated by the caller, not necessarily
   * contiguous, as __iommu_dma_alloc_noncontiguous gets them) are mapped BIDIRECTIONAL into one IOVA
   * range; the handle is its start. debug_dma_alloc_coherent then records a coherent entry whose
   * CPU address is the first page.
   */
  void onAllocCoherent(IommuCommand.AllocCoherent c) {
    String owner = owner(c.buf());
    long size = c.pfns().size() * 4096L;
    long base = allocIova(c.dev(), owner, "alloc_coherent", size, 0);
    if (base < 0) {
      d.emit(new ApiReturned(c.dev(), owner, "alloc_coherent", Iova.MAPPING_ERROR, 0, 0, size, Direction.BIDIRECTIONAL, 1, false,
          Errno.ENOMEM));
      reply("alloc_coherent", c.buf(), Errno.ENOMEM, Iova.MAPPING_ERROR.addr());
      return;
    }
    Prot prot = cfg.prot(c.dev(), Direction.BIDIRECTIONAL, false);
    for (int i = 0; i < c.pfns().size(); i++) {
      d.emit(new IommuEvent.RangeLinked(c.dev(), owner, "alloc_coherent", base, i * 4096L, 4096, base + i, c.pfns().get(i), 1, prot,
          Direction.BIDIRECTIONAL));
    }
    long pages = c.pfns().size();
    if (syncMapInline(base, pages)) d.emit(new IommuEvent.RangeSynced(c.dev(), owner, "alloc_coherent", base, pages, true, Errno.OK));
    Iova addr = new Iova(base << cfg.granuleShift());
    d.emit(new IommuEvent.DebugHookCalled(c.dev(), owner, "alloc_coherent",
        List.of(new IommuEvent.DebugSegment(c.pfns().get(0) << 12, size, addr.addr(), size)), Direction.BIDIRECTIONAL, DmaAttrs.NONE));
    d.emit(new ApiReturned(c.dev(), owner, "alloc_coherent", addr, base, pages, size, Direction.BIDIRECTIONAL, 1, false, Errno.OK));
    reply("alloc_coherent", c.buf(), Errno.OK, addr.addr());
  }

  /** iommu_dma_free: debug_dma_free_coherent (in dma_free_attrs) first, then __iommu_dma_unmap(dev, handle, size). */
  void onFreeCoherent(IommuCommand.FreeCoherent c) {
    d.emit(new IommuEvent.DebugHookCalled(c.dev(), owner(c.buf()), "free_coherent",
        List.of(new IommuEvent.DebugSegment(c.cpu().addr(), c.size(), c.handle().addr(), c.size())), Direction.BIDIRECTIONAL, DmaAttrs.NONE));
    k.unmaps.onUnmap(c.dev(), c.buf(), "free_coherent", c.handle(), c.handle(), c.size(), Direction.BIDIRECTIONAL, 1);
  }

  /** iommu_dma_unmap_sg: skip bus-address segments, unmap the span from the first to the last other one in one __iommu_dma_unmap. */
  void onUnmapSg(IommuCommand.UnmapSg c) {
    List<DmaSegment> mapped = c.mapped().stream().filter(x -> !x.busAddress()).toList();
    if (!c.mapped().isEmpty() && mapped.isEmpty()) {
      d.emit(new ApiReturned(c.dev(), owner(c.sg()), "unmap_sg", c.mapped().get(0).addr(), 0, 0, 0, c.dir(), c.nents(), false, Errno.OK));
      reply("unmap_sg", c.sg(), Errno.OK, 0);
      return;
    }
    c = new IommuCommand.UnmapSg(c.dev(), c.sg(), mapped, c.nents(), c.dir(), c.attrs());
    if (c.mapped().isEmpty()) {
      k.unmaps.onUnmap(c.dev(), c.sg(), "unmap_sg", Iova.MAPPING_ERROR, Iova.MAPPING_ERROR, 0, c.dir(), c.nents());
      return;
    }
    DmaSegment first = c.mapped().get(0);
    DmaSegment last = c.mapped().get(c.mapped().size() - 1);
    long start = first.addr().addr() - pad(first.addr().addr());
    long span = last.addr().addr() + last.length() - start;
    k.unmaps.onUnmap(c.dev(), c.sg(), "unmap_sg", first.addr(), new Iova(start), span, c.dir(), c.nents());
  }

  void onSync(DeviceId dev, String object, String api, Iova addr, long size, Direction dir, boolean forCpu, int nents) {
    boolean mapped = !addr.isError() && s.pageTable.lookup(addr.addr() >>> cfg.granuleShift()) >= 0;
    d.emit(new IommuEvent.SyncPerformed(dev, owner(object), api, addr, size, dir, forCpu, nents, mapped));
    reply(api, object, Errno.OK, 0);
  }

  void onSyncSg(IommuCommand.SyncSg c) {
    long total = c.mapped().stream().mapToLong(DmaSegment::length).sum();
    Iova first = c.mapped().isEmpty() ? Iova.MAPPING_ERROR : c.mapped().get(0).addr();
    onSync(c.dev(), c.sg(), "sync_sg", first, total, c.dir(), c.forCpu(), c.nents());
  }
}
