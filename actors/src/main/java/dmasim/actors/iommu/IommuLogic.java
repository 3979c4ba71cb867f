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
 * The decisions of an IommuUnit: given its state and one envelope, which events happen and which
 * envelopes go out. Pure: reads the state, never changes it (the actor persists the events and
 * the state folds them). Semantics follow drivers/iommu/dma-iommu.c, iova.c and iommu.c as
 * summarised in shared/domain/DMA-IOMMU.md section 2; kernel functions are named where modelled.
 */
public final class IommuLogic {
  private final IommuState s;
  private final IommuSettings cfg;
  private final Envelope env;
  private final Decision d = new Decision();
  /**
   * Why a DMA API call of a device not attached to the domain fails: as when the deferred attach in
   * the entry points fails (iommu_deferred_attach in dma_iova_try_alloc, __iommu_dma_map, iommu_dma_map_sg).
   */
  static final String NOT_ATTACHED = "device not attached to the DMA domain (iommu_deferred_attach fails)";
  private final String caller;
  private long nextId;
  /** PTEs and bounce slots this decision created: the state folds them only after the decision, an unwind inside it must see them. */
  private final java.util.TreeSet<Long> linkedNow = new java.util.TreeSet<>();
  private final java.util.TreeMap<Long, IommuEvent.Bounced> bouncedNow = new java.util.TreeMap<>();

  private IommuLogic(IommuState state, Envelope env) {
    this.s = state;
    this.cfg = state.settings;
    this.env = env;
    this.caller = env.sender();
    this.nextId = state.nextInvalidation;
  }

  /** Decides what handling {@code env} does to an IOMMU in {@code state}. */
  public static Decision decide(IommuState state, Envelope env) {
    return new IommuLogic(state, env).handle(env.message());
  }

  private Decision handle(Message m) {
    if (new DmaDirect(s, d, caller).handle(m)) return d;
    if (m instanceof IommuCommand.TryAlloc c) onTryAlloc(c);
    else if (m instanceof IommuCommand.Link c) onLink(c);
    else if (m instanceof IommuCommand.Sync c) onSync(c);
    else if (m instanceof IommuCommand.Unlink c) onUnlink(c);
    else if (m instanceof IommuCommand.Destroy c) onDestroy(c);
    else if (m instanceof IommuCommand.Free c) onFree(c.dev(), c.state(), c.addr(), "free");
    else if (m instanceof IommuCommand.MapPhys c) onMapPhys(c);
    else if (m instanceof IommuCommand.UnmapPhys c) onUnmap(c.dev(), c.handle(), "unmap_phys", c.addr(), c.addr(), c.size(), c.dir(), 1);
    else if (m instanceof IommuCommand.MapSg c) onMapSg(c);
    else if (m instanceof IommuCommand.UnmapSg c) onUnmapSg(c);
    else if (m instanceof IommuCommand.AllocCoherent c) onAllocCoherent(c);
    else if (m instanceof IommuCommand.FreeCoherent c) onFreeCoherent(c);
    else if (m instanceof IommuCommand.SyncSingle c) onSync(c.dev(), c.handle(), "sync_single", c.addr(), c.size(), c.dir(), c.forCpu(), 1);
    else if (m instanceof IommuCommand.SyncSg c) onSyncSg(c);
    else if (m instanceof IommuCommand.Translate c) onTranslate(c);
    else if (m instanceof IommuCommand.InvalidationDone c) onInvalidationDone(c.id());
    else if (m instanceof IommuCommand.FlushQueueTimeout) onFlushTimeout();
    else if (m instanceof IommuCommand.TearDown) onTearDown();
    else if (m instanceof IommuCommand.Attach c) onAttach(c);
    else if (m instanceof IommuCommand.SyncMapFlagLands) d.emit(new IommuEvent.SyncMapFlagSet());
    else if (m instanceof IommuCommand.AttachDevice c) onAttachDevice(c);
    else if (m instanceof IommuCommand.DomainInitLands c) onDomainInitLands(c.id());
    else if (m instanceof IommuCommand.PteClearLands c) d.emit(new IommuEvent.PteClearVisible(c.startPfn(), c.pages(), s.startCnt));
    else if (m instanceof DeviceReply.AtcInvalidated c) onAtcInvalidated(c.id());
    else if (m instanceof IommuCommand.Drain c) d.send(caller, new IommuReply.Drained(c.requester()));
    else throw new IllegalArgumentException("IommuUnit cannot handle " + m.getClass().getName());
    return d;
  }

  // ---- helpers -------------------------------------------------------------------------------

  private String owner(String object) {
    return caller + "/" + object;
  }

  private long pad(long addr) {
    return addr & (cfg.granule() - 1);
  }

  private long pagesFor(long bytes) {
    return (bytes + cfg.granule() - 1) >>> cfg.granuleShift();
  }

  private void reply(String call, String object, int errno, long value) {
    d.send(caller, new IommuReply.Returned(call, object, errno, value, List.of()));
  }

  /**
   * iommu_dma_alloc_iova: below 4 GiB first while the device's pci_32bit_workaround holds, then the
   * full DMA mask. Returns the base pfn or -1; emits the allocation or the failure.
   */
  private long allocIova(DeviceId dev, String owner, String api, long size, long pad) {
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

  private static Continuation reply(String replyTo, String call, DeviceId dev, String owner, String api, Iova addr, long iovaPfn,
      long pages, long size, Direction dir, int nents, long freeBase, long freePages, List<Long> tables) {
    return new Continuation("reply", replyTo, call, dev, owner, api, addr, iovaPfn, pages, size, dir, nents, freeBase, freePages,
        tables, false, -1, null, null);
  }

  private static Continuation fqFlush(boolean allRings, int queue, Continuation waiting) {
    return new Continuation("fq-flush", null, null, null, null, null, null, 0, 0, 0, null, 0, -1, 0, List.of(), allRings, queue,
        null, waiting);
  }

  /** Posts the invalidation sequence for a range ({@code pages} 0 = whole domain): IOTLB then ATC (or the configured wrong order). */
  private void invalidate(long startPfn, long pages, Continuation then) {
    String scope = pages == 0 ? "all" : "range";
    if (cfg.atsDevices().isEmpty()) {
      post(scope, startPfn, pages, then);
    } else if (cfg.atcFirst()) {
      post("atc", startPfn, pages, next(scope, then));
    } else {
      post(scope, startPfn, pages, next("atc", then));
    }
  }

  private static Continuation next(String scope, Continuation then) {
    return new Continuation("next", null, null, null, null, null, null, 0, 0, 0, null, 0, -1, 0, List.of(), false, -1, scope, then);
  }

  private void post(String scope, long startPfn, long pages, Continuation then) {
    long id = nextId++;
    if (scope.equals("atc")) {
      List<DeviceId> ats = cfg.atsDevices();
      d.emit(new IommuEvent.InvalidationPosted(id, scope, startPfn, pages, ats.size(), then));
      for (DeviceId dev : ats) d.send(Names.device(dev), new DeviceCommand.InvalidateAtc(id, startPfn, pages));
    } else if (scope.equals("range") && cfg.gatherEndBug()) {
      // B10: gather->end is inclusive but was used as exclusive, so the natural-aligned flushes
      // cover one page too many and split into several power-of-two commands (2212fc2acf3f).
      java.util.List<long[]> chunks = naturalChunks(startPfn, pages + 1);
      for (int i = 0; i < chunks.size(); i++) {
        long cid = i == 0 ? id : nextId++;
        long[] c = chunks.get(i);
        d.emit(new IommuEvent.InvalidationPosted(cid, scope, c[0], c[1], 1, i == chunks.size() - 1 ? then : null));
        d.send(Names.IOMMU, new IommuCommand.InvalidationDone(cid), cfg.invalidationLatency());
      }
    } else {
      d.emit(new IommuEvent.InvalidationPosted(id, scope, startPfn, pages, 1, then));
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

  /** Flush-on-map inside a classic map call (iommu_map -> iotlb_sync_map): completes before the call returns. */
  private boolean syncMapInline(long startPfn, long pages) {
    if (!s.syncMapFlag) return false;
    long id = nextId++;
    d.emit(new IommuEvent.InvalidationPosted(id, "range", startPfn, pages, 1, null));
    d.emit(new IommuEvent.InvalidationCompleted(id, "range", startPfn, pages, countCached(startPfn, pages)));
    return true;
  }

  private int countCached(long startPfn, long pages) {
    int n = 0;
    if (pages == 0) return s.iotlb.size();
    for (long p = startPfn; p < startPfn + pages; p++) if (s.iotlb.lookup(p) != Iotlb.MISS) n++;
    return n;
  }

  /**
   * Consults the fault plan for this call of {@code op}; journals the decision when a rule names the
   * operation. Returns the errno to fail with, or 0.
   */
  private int fault(String op, String owner) {
    if (cfg.faults().rules().stream().noneMatch(r -> r.op().equals(op))) return 0;
    long call = s.calls.getOrDefault(op, 0L) + 1;
    long h = dmasim.actors.model.Draw.hash(cfg.faultSeed(), env.sender() + "#" + env.id().seq(), call, op);
    double draw = (h >>> 11) * 0x1.0p-53;
    FaultPlan.Rule rule = cfg.faults().check(op, call, draw);
    int errno = rule == null ? 0 : rule.errno();
    d.emit(new IommuEvent.FaultDecided(op, owner, call, rule != null, errno, rule == null ? "" : rule.describe()));
    return errno;
  }

  // ---- two-step IOVA API ---------------------------------------------------------------------

  /** dma_iova_try_alloc: false on size 0 or bit 63 (WARN) or exhaustion; no page-table change. */
  private void onTryAlloc(IommuCommand.TryAlloc c) {
    String owner = owner(c.state());
    if (!s.attached.contains(c.dev())) {
      d.emit(new IommuEvent.IovaAllocFailed(c.dev(), owner, "try_alloc", c.size(), NOT_ATTACHED));
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
  private void onLink(IommuCommand.Link c) {
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
      linkSwiotlb(c, owner);
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

  /**
   * iommu_dma_iova_link_swiotlb: an unaligned buffer for a device that must not see its neighbours
   * is linked in three parts: the partial head granule and the partial tail bounced through swiotlb
   * slots, the aligned middle mapped directly. Each piece is a "link-part"; the call's whole range
   * is declared as one "link" (no pages of its own) only once every piece is in. On a failure the
   * fixed helper (6ec91df8aff7) unlinks what it mapped, from this link's offset, which also frees the
   * slots (out_unmap: if (mapped) dma_iova_unlink(state, offset, mapped)). With
   * {@code swiotlbZeroMiddleBug} (before that fix) an empty middle is still mapped - iommu_map of 0
   * bytes fails - and the unwind unlinks from offset 0 of the state instead of this link's offset.
   */
  private void linkSwiotlb(IommuCommand.Link c, String owner) {
    long granule = cfg.granule();
    long addr = c.addr().addr() + c.offset();
    long phys = c.phys().addr();
    long startPad = pad(phys);
    long endPad = pad(phys + c.size());
    long size = c.size();
    long mapped = 0;
    long allocBase = s.allocator.baseContaining((addr - startPad) >>> cfg.granuleShift());
    Prot prot = cfg.prot(c.dev(), c.dir(), false);
    java.util.Iterator<Long> slots = s.freeSlots.iterator();
    if (startPad != 0) {
      long len = Math.min(size, granule - startPad);
      if (!slots.hasNext()) { // nothing is linked yet: the error is returned directly
        failLink(c, owner, Errno.ENOMEM, "swiotlb slots exhausted");
        return;
      }
      bounceAndLink(c, owner, allocBase, c.offset(), (addr - startPad) >>> cfg.granuleShift(), phys >>> cfg.granuleShift(), slots.next(), len,
          prot);
      mapped += len;
      size -= len;
      if (size == 0) {
        linked(c, owner, allocBase, prot);
        return;
      }
    }
    size -= endPad;
    if (size > 0 || cfg.swiotlbZeroMiddleBug()) {
      int err = size == 0 ? Errno.EINVAL : fault("link", owner);
      if (err != Errno.OK) {
        unwindSwiotlb(c, owner, mapped, err, size == 0 ? "iommu_map of an empty aligned middle (0 bytes) in the swiotlb link helper"
            : "fault injected: iommu_map_nosync of the aligned middle fails");
        return;
      }
      long pfn = (addr + mapped) >>> cfg.granuleShift();
      for (long q = pfn; q < pfn + (size >>> cfg.granuleShift()); q++) linkedNow.add(q);
      d.emit(new IommuEvent.RangeLinked(c.dev(), owner, "link-part", allocBase, c.offset() + mapped, size, pfn,
          (phys + mapped) >>> cfg.granuleShift(), size >>> cfg.granuleShift(), prot, c.dir()));
      mapped += size;
    }
    if (endPad != 0) {
      if (!slots.hasNext()) {
        unwindSwiotlb(c, owner, mapped, Errno.ENOMEM, "swiotlb slots exhausted");
        return;
      }
      bounceAndLink(c, owner, allocBase, c.offset() + mapped, (addr + mapped) >>> cfg.granuleShift(), (phys + mapped) >>> cfg.granuleShift(),
          slots.next(), endPad, prot);
    }
    linked(c, owner, allocBase, prot);
  }

  /** The whole dma_iova_link succeeded: declare [offset, offset+size) linked (its pieces carry the pages). */
  private void linked(IommuCommand.Link c, String owner, long allocBase, Prot prot) {
    long iova = c.addr().addr() + c.offset();
    d.emit(new IommuEvent.RangeLinked(c.dev(), owner, "link", allocBase, c.offset(), c.size(), (iova - pad(iova)) >>> cfg.granuleShift(),
        c.phys().addr() >>> cfg.granuleShift(), 0, prot, c.dir()));
    reply("link", c.state(), Errno.OK, 0);
  }

  /** out_unmap of the swiotlb helper: undo what this call mapped (fixed: from its offset; buggy: from 0), then fail. */
  private void unwindSwiotlb(IommuCommand.Link c, String owner, long mapped, int errno, String why) {
    if (cfg.swiotlbZeroMiddleBug()) unwindUnlink(c, owner, 0, mapped);
    else if (mapped > 0) unwindUnlink(c, owner, c.offset(), mapped);
    failLink(c, owner, errno, why);
  }

  private void bounceAndLink(IommuCommand.Link c, String owner, long allocBase, long offset, long iovaPfn, long origPfn, long slot, long len,
      Prot prot) {
    IommuEvent.Bounced bounced = new IommuEvent.Bounced(owner, iovaPfn, origPfn, slot, len, c.dir());
    d.emit(bounced);
    bouncedNow.put(iovaPfn, bounced);
    linkedNow.add(iovaPfn);
    // swiotlb_tbl_map_single: the slot is filled from the original for TO_DEVICE; since aa6f8dcbab47
    // for every direction, so a short FROM_DEVICE transfer cannot leave stale slot data behind.
    if (c.dir() != Direction.FROM_DEVICE || cfg.swiotlbInitSlot()) d.emit(new IommuEvent.BounceCopied(owner, slot, origPfn, true));
    d.emit(new IommuEvent.RangeLinked(c.dev(), owner, "link-part", allocBase, offset, len, iovaPfn, slot, 1, prot, c.dir()));
  }

  private void failLink(IommuCommand.Link c, String owner, int errno, String why) {
    d.emit(new IommuEvent.MapFailed(c.dev(), owner, "link", c.offset(), c.size(), errno, why));
    reply("link", c.state(), errno, 0);
  }

  /** dma_iova_unlink(state, offset, len) done synchronously inside the failing link call. */
  private void unwindUnlink(IommuCommand.Link c, String owner, long offset, long len) {
    long a = c.addr().addr() + offset;
    long pad = pad(a);
    long pfn = (a - pad) >>> cfg.granuleShift();
    long pages = 0;
    while (pages < pagesFor(len + pad) && (s.pageTable.lookup(pfn + pages) >= 0 || linkedNow.contains(pfn + pages))) pages++;
    if (pages == 0) return;
    d.emit(new IommuEvent.PtesCleared(c.dev(), owner, "unlink", s.allocator.baseContaining(pfn), offset, len, pfn, pages, pages));
    releaseBounces(pfn, pages);
    long id = nextId++;
    d.emit(new IommuEvent.InvalidationPosted(id, "range", pfn, pages, 1, null));
    d.emit(new IommuEvent.InvalidationCompleted(id, "range", pfn, pages, countCached(pfn, pages)));
  }

  /** swiotlb_tbl_unmap_single for every bounced page of the range: copy back (FROM_DEVICE, BIDIRECTIONAL), then free the slot. */
  private void releaseBounces(long pfn, long pages) {
    for (long p = pfn; p < pfn + pages; p++) {
      IommuEvent.Bounced b = s.bounceInfo.getOrDefault(p, bouncedNow.get(p));
      if (b == null) continue;
      if (b.dir() == Direction.FROM_DEVICE || b.dir() == Direction.BIDIRECTIONAL) {
        d.emit(new IommuEvent.BounceCopied(b.owner(), b.slotPfn(), b.origPfn(), false));
      }
      d.emit(new IommuEvent.BounceReleased(p, b.slotPfn()));
    }
  }

  /** dma_iova_sync -> iommu_sync_map: a range invalidation when the IOMMU needs flush-on-map, else nothing. */
  private void onSync(IommuCommand.Sync c) {
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
    invalidate(pfn, pages, reply(caller, "sync", c.dev(), owner(c.state()), "sync", c.addr(), pfn, pages, c.size(), null, 0, -1, 0,
        List.of()));
  }

  /**
   * dma_iova_unlink (__iommu_dma_iova_unlink with free_iova false): iommu_unmap_fast over the
   * granule-aligned range, which stops at the first hole (WARN_ON(unmapped != size)), then always a
   * synchronous iommu_iotlb_sync of what was unmapped; the IOVA stays allocated.
   */
  private void onUnlink(IommuCommand.Unlink c) {
    long a = c.addr().addr() + c.offset();
    long pad = pad(a);
    long pfn = (a - pad) >>> cfg.granuleShift();
    long pages = s.pageTable.presentPrefix(pfn, pagesFor(c.size() + pad));
    String owner = owner(c.state());
    long allocBase = s.allocator.baseContaining(pfn);
    d.emit(new IommuEvent.PtesCleared(c.dev(), owner, "unlink", allocBase, c.offset(), c.size(), pfn, pages, pages));
    releaseBounces(pfn, pages);
    List<Long> tables = s.pageTable.wouldEmpty(pfn, pages);
    Continuation done = reply(caller, "unlink", c.dev(), owner, "unlink", c.addr(), pfn, pages, c.size(), c.dir(), 1, -1, 0, tables);
    if (pages == 0) finishCall(done, false); // an empty gather: iommu_iotlb_sync has nothing to flush
    else invalidate(pfn, pages, done);
  }

  /** dma_iova_destroy: unlink [0, mapped_len) and free the IOVA, through the flush queue in a DMA-FQ domain. */
  private void onDestroy(IommuCommand.Destroy c) {
    if (c.mappedLen() == 0) {
      onFree(c.dev(), c.state(), c.addr(), "destroy");
      return;
    }
    long pad = pad(c.addr().addr());
    long pfn = (c.addr().addr() - pad) >>> cfg.granuleShift();
    long pages = pagesFor(c.mappedLen() + pad);
    unmapAndFree(c.dev(), owner(c.state()), c.state(), "destroy", c.addr(), pfn, pages, c.mappedLen(), c.dir(), 1);
  }

  /**
   * Shared tail of destroy/unmap_phys/unmap_sg (__iommu_dma_iova_unlink, __iommu_dma_unmap):
   * iommu_unmap_fast stops at the first hole of the range, WARN_ON(unmapped != size), and the IOVA is
   * freed all the same, so whatever was mapped behind a hole stays mapped in a freed IOVA: the next
   * owner of that IOVA shares it with the old pages. Then a strict flush and free, or queue_iova.
   * The whole allocation goes back (free_iova); the kernel's free_iova_fast of the smaller
   * iova_align(mapped_len + pad) only differs in which rcache magazine keeps it.
   */
  private void unmapAndFree(DeviceId dev, String owner, String object, String api, Iova addr, long pfn, long requested, long size,
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
    Continuation done = reply(caller, api, dev, owner, api, addr, pfn, pages, size, dir, nents, base, allocPages, tables);
    if (cfg.lazy() && base >= 0) queueIova(Names.cpuIndex(caller), done);
    else if (pages == 0) finishCall(done, false);
    else invalidate(pfn, pages, done);
  }

  /** dma_iova_free: the IOVA goes straight back to the allocator (free_iova_fast); PTEs are not touched. */
  private void onFree(DeviceId dev, String object, Iova addr, String api) {
    long pfn = addr.addr() >>> cfg.granuleShift();
    long base = s.allocator.baseContaining(pfn);
    String owner = owner(object);
    if (base >= 0) d.emit(new IommuEvent.IovaFreed(dev, owner, base, s.allocator.pagesAt(base), "free"));
    long pages = base < 0 ? 0 : s.allocator.pagesAt(base);
    d.emit(new ApiReturned(dev, owner, api, addr, base < 0 ? pfn : base, pages, 0, null, 0, false,
        base < 0 ? Errno.EINVAL : Errno.OK));
    reply(api, object, Errno.OK, 0);
  }

  // ---- flush queue (queue_iova, fq_flush_iotlb, fq_flush_timeout) ----------------------------

  private void queueIova(int cpu, Continuation done) {
    int q = cfg.mode() == IommuSettings.Mode.LAZY_SINGLE ? 0 : cpu % s.rings.size();
    FlushQueue ring = s.rings.get(q);
    List<FlushQueue.Entry> freeable = ring.freeable(s.finishCnt);
    freeEntries(q, freeable, s.finishCnt);
    if (ring.length() - freeable.size() >= ring.capacity()) {
      // Ring still full: fq_flush_iotlb() synchronously under the ring lock, the caller waits.
      d.emit(new IommuEvent.FlushStarted(s.startCnt + 1, "full"));
      invalidate(0, 0, fqFlush(false, q, done));
      return;
    }
    append(q, done, s.startCnt, s.timerOn);
  }

  private void append(int q, Continuation done, long counter, boolean timerOn) {
    d.emit(new IommuEvent.FlushQueued(q, done.owner(), done.freeBasePfn(), done.freePages(), counter, done.tables()));
    if (!timerOn) {
      d.emit(new IommuEvent.FlushTimerArmed(env.deliveredAt() + cfg.fqTimeout()));
      d.send(Names.IOMMU, new IommuCommand.FlushQueueTimeout(), cfg.fqTimeout());
    }
    finishCall(done, true);
  }

  private void freeEntries(int q, List<FlushQueue.Entry> entries, long finishCnt) {
    for (FlushQueue.Entry e : entries) {
      d.emit(new IommuEvent.FlushQueueEntryFreed(q, e.owner(), e.basePfn(), e.pages(), e.counter(), finishCnt));
      if (!e.tables().isEmpty()) d.emit(new IommuEvent.PageTablesFreed(e.tables(), "flush-queue finish_cnt " + finishCnt));
      d.emit(new IommuEvent.IovaFreed(null, e.owner(), e.basePfn(), e.pages(), "flush-queue"));
    }
  }

  /** fq_flush_timeout: clear fq_timer_on, one flush_iotlb_all, then free covered entries of every ring. */
  private void onFlushTimeout() {
    // timer_delete_sync in iommu_dma_free_fq: the callback never runs after teardown. Without it
    // (plain del_timer, before d7061627d701) a timer that already fired runs on the freed rings.
    if (s.tornDown && cfg.teardownTimerSync()) return;
    d.emit(new IommuEvent.FlushTimerFired());
    d.emit(new IommuEvent.FlushStarted(s.startCnt + 1, "timer"));
    invalidate(0, 0, fqFlush(true, -1, null));
  }

  /**
   * Attach to another IOMMU unit. Fixed (cee686775f9c): the flush-on-map flag is a static property
   * decided at domain allocation, so attaching to a caching-mode IOMMU without it is refused.
   * Buggy (12724ce3fe1a): the flag is OR-ed in at attach without locking against the map path;
   * maps in flight still read the old flag until it lands.
   */
  private void onAttach(IommuCommand.Attach c) {
    boolean needs = c.cachingMode() && !s.syncMapFlag;
    if (needs && !cfg.syncMapFlagAtAttach()) {
      d.emit(new IommuEvent.AttachRefused("the domain was allocated without iotlb_sync_map and this IOMMU caches not-present entries"));
      reply("attach", "domain", Errno.EINVAL, 0);
      return;
    }
    d.emit(new IommuEvent.IommuAttached(c.cachingMode()));
    if (needs) d.send(Names.IOMMU, new IommuCommand.SyncMapFlagLands(), cfg.invalidationLatency());
    reply("attach", "domain", Errno.OK, 0);
  }

  /**
   * A device's driver probes and its group is attached to the shared DMA domain: iommu_setup_dma_ops
   * -> iommu_dma_init_domain. The first attach finds the cookie's iova_domain uninitialised ("start_pfn
   * is always nonzero for an already-initialised domain") and runs init_iova_domain, which completes
   * as a separate envelope (DomainInitLands) after initDomainLatency. Fixed (ac9a5d522bb8): the check
   * and the whole initialisation hold cookie->mutex, so a second attach sleeps in mutex_lock until the
   * first is done and then finds start_pfn set. Unlocked (before it): a second attach inside the
   * window also reads start_pfn == 0 and runs init_iova_domain on the same iova_domain at once.
   * (032d7e435cbd later removed the mutex again, once iommu_setup_dma_ops ran from the core probe
   * path under the group mutex; the model keeps the mutex version.)
   */
  private void onAttachDevice(IommuCommand.AttachDevice c) {
    if (!cfg.devices().containsKey(c.dev())) throw new IllegalArgumentException("device " + c.dev() + " is not behind " + Names.IOMMU);
    String attacher = caller + "/attach:" + Names.device(c.dev());
    if (!cfg.initDomainUnlocked() && s.initMutexHolder != null) {
      d.emit(new IommuEvent.AttachWaiting(c.dev(), attacher, s.initMutexHolder));
      return; // mutex_lock sleeps: answered when the holder's initialisation completes
    }
    if (s.iovadReady) {
      attached(c.dev(), attacher, "start_pfn already set: the IOVA domain is initialised");
      return;
    }
    long id = s.nextInit;
    d.emit(new IommuEvent.DomainInitStarted(id, c.dev(), attacher, !cfg.initDomainUnlocked()));
    d.send(Names.IOMMU, new IommuCommand.DomainInitLands(id), cfg.initDomainLatency());
  }

  /**
   * init_iova_domain of attach {@code id} is done (iova_domain_init_rcaches and
   * iova_reserve_iommu_regions with it): start_pfn is set and the attach returns 0. With the mutex,
   * mutex_unlock lets each sleeper in turn take it, find start_pfn set and return 0.
   */
  private void onDomainInitLands(long id) {
    IommuEvent.DomainInitStarted st = s.initsInFlight.get(id);
    if (st == null) return;
    d.emit(new IommuEvent.DomainInitialised(id, st.dev(), st.attacher()));
    attached(st.dev(), st.attacher(), "initialised the IOVA domain (init_iova_domain)");
    if (st.locked()) {
      for (IommuEvent.AttachWaiting w : s.initWaiters) {
        attached(w.dev(), w.attacher(), "start_pfn already set once cookie->mutex was released");
      }
    }
  }

  /** The attach by {@code attacher} ("cpuN/attach:devM") returns 0 to its CPU queue. */
  private void attached(DeviceId dev, String attacher, String how) {
    d.emit(new IommuEvent.DeviceAttached(dev, attacher, how));
    d.send(attacher.substring(0, attacher.indexOf('/')), new IommuReply.Returned("attach_device", Names.device(dev), Errno.OK, 0, List.of()));
  }

  /** iommu_dma_free_fq: timer_delete_sync, queued page lists freed, IOVAs dropped with the iova_domain. No final flush. */
  private void onTearDown() {
    int queued = s.rings.stream().mapToInt(FlushQueue::length).sum();
    d.emit(new IommuEvent.DomainTornDown(cfg.teardownTimerSync(), queued));
  }

  // ---- invalidation queue completion ---------------------------------------------------------

  private void onInvalidationDone(long id) {
    IommuState.Pending p = s.pending.get(id);
    if (p == null) return; // lost in a reset: the command never completes
    int dropped = countCached(p.startPfn(), p.scope().equals("all") ? 0 : p.pages());
    d.emit(new IommuEvent.InvalidationCompleted(id, p.scope(), p.startPfn(), p.pages(), dropped));
    complete(p, p.then());
  }

  private void onAtcInvalidated(long id) {
    IommuState.Pending p = s.pending.get(id);
    if (p == null) return;
    d.emit(new IommuEvent.AtcInvalidationAcked(id, Names.deviceOf(caller)));
    if (p.acksLeft() > 1) return;
    d.emit(new IommuEvent.InvalidationCompleted(id, "atc", p.startPfn(), p.pages(), 0));
    complete(p, p.then());
  }

  private void complete(IommuState.Pending p, Continuation then) {
    if (then == null) return;
    switch (then.kind()) {
      case "next" -> post(then.nextScope(), p.startPfn(), p.pages(), then.next());
      case "reply" -> finishCall(then, false);
      case "fq-flush" -> finishFlush(then);
      default -> throw new IllegalStateException("unknown continuation " + then.kind());
    }
  }

  /** The call that waited returns: free what it may free now, record the return, answer the caller. */
  private void finishCall(Continuation c, boolean deferred) {
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

  /** fq_flush_iotlb completed: finish_cnt++, free what it covers, then append the entry that waited for room. */
  private void finishFlush(Continuation c) {
    long finish = s.finishCnt + 1;
    d.emit(new IommuEvent.FlushFinished(finish));
    for (int q = 0; q < s.rings.size(); q++) {
      if (c.allRings() || q == c.queue()) freeEntries(q, s.rings.get(q).freeable(finish), finish);
    }
    Continuation waiting = c.next();
    if (waiting != null) {
      FlushQueue ring = s.rings.get(c.queue());
      if (ring.length() - ring.freeable(finish).size() >= ring.capacity()) {
        d.emit(new IommuEvent.FlushStarted(s.startCnt + 1, "full"));
        invalidate(0, 0, c);
      } else {
        append(c.queue(), waiting, s.startCnt, s.timerOn);
      }
    }
  }

  // ---- classic API: dma_map_phys / dma_map_sg and their unmaps and syncs ---------------------

  /** iommu_dma_map_phys -> __iommu_dma_map: alloc IOVA, iommu_map (map + sync_map); DMA_MAPPING_ERROR on failure. */
  private void onMapPhys(IommuCommand.MapPhys c) {
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
  private void onMapSg(IommuCommand.MapSg c) {
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
      dmasim.actors.memory.Region r = cfg.regionOf(seg.phys().addr() >>> 12);
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
    Prot prot = cfg.prot(c.dev(), c.dir(), c.attrs().has(DmaAttrs.MMIO) || cfg.regionOf(c.segments().get(0).phys().addr() >>> 12) != null);
    List<DmaSegment> out = new ArrayList<>();
    long pfn = base;
    long offset = 0;
    for (int i = 0; i < c.segments().size(); i++) {
      Segment seg = c.segments().get(i);
      dmasim.actors.memory.Region region = cfg.regionOf(seg.phys().addr() >>> 12);
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
  private void onAllocCoherent(IommuCommand.AllocCoherent c) {
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
  private void onFreeCoherent(IommuCommand.FreeCoherent c) {
    d.emit(new IommuEvent.DebugHookCalled(c.dev(), owner(c.buf()), "free_coherent",
        List.of(new IommuEvent.DebugSegment(c.cpu().addr(), c.size(), c.handle().addr(), c.size())), Direction.BIDIRECTIONAL, DmaAttrs.NONE));
    onUnmap(c.dev(), c.buf(), "free_coherent", c.handle(), c.handle(), c.size(), Direction.BIDIRECTIONAL, 1);
  }

  private DmaSegment busSegment(Segment seg) {
    dmasim.actors.memory.Region r = cfg.regionOf(seg.phys().addr() >>> 12);
    return new DmaSegment(new Iova(seg.phys().addr() + (r.busOffsetPages() << 12)), seg.length(), true);
  }

  /** iommu_dma_unmap_phys: WARN_ON(!iova_to_phys) and return; else __iommu_dma_unmap. */
  private void onUnmap(DeviceId dev, String object, String api, Iova first, Iova addr, long size, Direction dir, int nents) {
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

  /** iommu_dma_unmap_sg: skip bus-address segments, unmap the span from the first to the last other one in one __iommu_dma_unmap. */
  private void onUnmapSg(IommuCommand.UnmapSg c) {
    List<DmaSegment> mapped = c.mapped().stream().filter(x -> !x.busAddress()).toList();
    if (!c.mapped().isEmpty() && mapped.isEmpty()) {
      d.emit(new ApiReturned(c.dev(), owner(c.sg()), "unmap_sg", c.mapped().get(0).addr(), 0, 0, 0, c.dir(), c.nents(), false, Errno.OK));
      reply("unmap_sg", c.sg(), Errno.OK, 0);
      return;
    }
    c = new IommuCommand.UnmapSg(c.dev(), c.sg(), mapped, c.nents(), c.dir(), c.attrs());
    if (c.mapped().isEmpty()) {
      onUnmap(c.dev(), c.sg(), "unmap_sg", Iova.MAPPING_ERROR, Iova.MAPPING_ERROR, 0, c.dir(), c.nents());
      return;
    }
    DmaSegment first = c.mapped().get(0);
    DmaSegment last = c.mapped().get(c.mapped().size() - 1);
    long start = first.addr().addr() - pad(first.addr().addr());
    long span = last.addr().addr() + last.length() - start;
    onUnmap(c.dev(), c.sg(), "unmap_sg", first.addr(), new Iova(start), span, c.dir(), c.nents());
  }

  private void onSync(DeviceId dev, String object, String api, Iova addr, long size, Direction dir, boolean forCpu, int nents) {
    boolean mapped = !addr.isError() && s.pageTable.lookup(addr.addr() >>> cfg.granuleShift()) >= 0;
    d.emit(new IommuEvent.SyncPerformed(dev, owner(object), api, addr, size, dir, forCpu, nents, mapped));
    reply(api, object, Errno.OK, 0);
  }

  private void onSyncSg(IommuCommand.SyncSg c) {
    long total = c.mapped().stream().mapToLong(DmaSegment::length).sum();
    Iova first = c.mapped().isEmpty() ? Iova.MAPPING_ERROR : c.mapped().get(0).addr();
    onSync(c.dev(), c.sg(), "sync_sg", first, total, c.dir(), c.forCpu(), c.nents());
  }

  // ---- translation ---------------------------------------------------------------------------

  /** A device transaction or ATS translation request: IOTLB, else page-table walk (and fill). */
  private void onTranslate(IommuCommand.Translate c) {
    long pfn = c.iova().addr() >>> cfg.granuleShift();
    long entry = s.iotlb.lookup(pfn);
    String via = "iotlb";
    if (entry == Iotlb.MISS) {
      via = "walk";
      entry = s.walk(pfn);
      if (entry >= 0 || s.caching) fill(pfn, entry);
    }
    String fault = null;
    if (entry == Iotlb.NOT_PRESENT) fault = "cached not-present IOTLB entry (caching mode)";
    else if (entry < 0) fault = "not present";
    else if (!c.atsRequest() && !PageTable.protOf(entry).allows(c.write())) fault = c.write() ? "write to read-only mapping" : "read of write-only mapping";
    long phys = entry >= 0 ? PageTable.physOf(entry) : 0;
    Prot prot = entry >= 0 ? PageTable.protOf(entry) : new Prot(0);
    if (fault != null) d.emit(new IommuEvent.DmaFaulted(c.dev(), c.tag(), c.iova(), c.write(), fault, c.stray()));
    else if (!c.atsRequest()) d.emit(new IommuEvent.DmaAccessed(c.dev(), c.tag(), c.iova(), phys, c.write(), via, c.stray()));
    d.send(caller, new IommuReply.Translated(c.tag(), c.iova(), c.write(), c.stray(), fault == null, phys, prot, fault));
  }

  private void fill(long pfn, long entry) {
    long victim = s.iotlb.victimFor(pfn);
    if (victim >= 0) d.emit(new IommuEvent.IotlbEvicted(victim));
    boolean present = entry >= 0;
    d.emit(new IommuEvent.IotlbFilled(pfn, present ? PageTable.physOf(entry) : 0, present ? PageTable.protOf(entry) : new Prot(0), present));
  }
}
