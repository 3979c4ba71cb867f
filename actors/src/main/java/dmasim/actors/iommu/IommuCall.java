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
 * One seam of the IOMMU's decision (the IOVA API, the swiotlb link, the classic API, the unmap
 * tail, the flush queues, the invalidation queue, translation, the domain): the state it reads, the
 * decision it adds to, the caller, and the helpers every seam needs. Pure like the decision it is
 * part of: reads the state, never changes it.
 */
abstract class IommuCall {
  final IommuLogic k;
  final IommuState s;
  final IommuSettings cfg;
  final Envelope env;
  final Decision d;
  final String caller;

  IommuCall(IommuLogic k) {
    this.k = k;
    this.s = k.s;
    this.cfg = k.s.settings;
    this.env = k.env;
    this.d = k.d;
    this.caller = k.env.sender();
  }

  String owner(String object) {
    return caller + "/" + object;
  }

  long pad(long addr) {
    return addr & (cfg.granule() - 1);
  }

  long pagesFor(long bytes) {
    return (bytes + cfg.granule() - 1) >>> cfg.granuleShift();
  }

  void reply(String call, String object, int errno, long value) {
    d.send(caller, new IommuReply.Returned(call, object, errno, value, List.of()));
  }

  /**
   * iommu_dma_alloc_iova: below 4 GiB first while the device's pci_32bit_workaround holds, then the
   * full DMA mask. Returns the base pfn or -1; emits the allocation or the failure.
   */
  long allocIova(DeviceId dev, String owner, String api, long size, long pad) {
    long pages = IovaAllocator.roundedSize(pagesFor(size + pad));
    IommuSettings.DeviceSpec spec = cfg.devices().get(dev);
    if (spec == null) throw new IllegalArgumentException("device " + dev + " is not attached to " + Names.IOMMU);
    long limit = spec.dmaMaskBits() >= 64 ? Long.MAX_VALUE : (1L << spec.dmaMaskBits()) >>> cfg.granuleShift();
    limit = Math.min(limit, cfg.apertureEndPfn()); // force_aperture clips before the 32-bit decision
    long dma32 = (1L << 32) >>> cfg.granuleShift();
    long base = -1;
    if (!s.dac.contains(dev) && limit > dma32) {
      base = s.allocator.find(pages, dma32);
      if (base < 0) d.emit(new IommuEvent.IovaAllocFailed(dev, owner, api, size, "32-bit space exhausted, using the full DMA mask"));
    }
    if (base < 0) base = s.allocator.find(pages, limit);
    if (base < 0) {
      d.emit(new IommuEvent.IovaAllocFailed(dev, owner, api, size, "IOVA space exhausted"));
      return -1;
    }
    long addr = (base << cfg.granuleShift()) + pad;
    d.emit(new IommuEvent.IovaAllocated(dev, owner, api, base, pages, size, new Iova(addr)));
    return base;
  }

  /** Flush-on-map inside a classic map call (iommu_map -> iotlb_sync_map): completes before the call returns. */
  boolean syncMapInline(long startPfn, long pages) {
    if (!s.syncMapFlag) return false;
    long id = k.nextId++;
    d.emit(new IommuEvent.InvalidationPosted(id, "range", startPfn, pages, 1, null));
    d.emit(new IommuEvent.InvalidationCompleted(id, "range", startPfn, pages, countCached(startPfn, pages)));
    return true;
  }

  int countCached(long startPfn, long pages) {
    int n = 0;
    if (pages == 0) return s.iotlb.size();
    for (long p = startPfn; p < startPfn + pages; p++) if (s.iotlb.lookup(p) != Iotlb.MISS) n++;
    return n;
  }

  /**
   * Consults the fault plan for this call of {@code op}; journals the decision when a rule names the
   * operation. Returns the errno to fail with, or 0. The decision is a function of the run's fault
   * seed, the caller, the caller's own envelope sequence number and its count of {@code op} calls,
   * all fixed by the caller's program order: never of how other callers' calls interleave.
   */
  int fault(String op, String owner) {
    if (cfg.faults().rules().stream().noneMatch(r -> r.op().equals(op))) return 0;
    String caller = env.sender();
    long call = s.calls.getOrDefault(IommuState.callKey(caller, op), 0L) + 1;
    FaultPlan.Rule rule = cfg.faults().check(op, call, cfg.faultSeed(), caller + "#" + env.id().seq());
    int errno = rule == null ? 0 : rule.errno();
    d.emit(new IommuEvent.FaultDecided(op, caller, owner, call, rule != null, errno, rule == null ? "" : rule.describe()));
    return errno;
  }

  /** swiotlb_tbl_unmap_single for every bounced page of the range: copy back (FROM_DEVICE, BIDIRECTIONAL), then free the slot. */
  void releaseBounces(long pfn, long pages) {
    for (long p = pfn; p < pfn + pages; p++) {
      IommuEvent.Bounced b = s.bounceInfo.getOrDefault(p, k.bouncedNow.get(p));
      if (b == null) continue;
      if (b.dir() == Direction.FROM_DEVICE || b.dir() == Direction.BIDIRECTIONAL) {
        d.emit(new IommuEvent.BounceCopied(b.owner(), b.slotPfn(), b.origPfn(), false));
      }
      d.emit(new IommuEvent.BounceReleased(p, b.slotPfn()));
    }
  }

  DmaSegment busSegment(Segment seg) {
    dmasim.actors.memory.Region r = s.memory.regionOf(seg.phys().addr() >>> 12);
    return new DmaSegment(new Iova(seg.phys().addr() + (r.busOffsetPages() << 12)), seg.length(), true);
  }
}
