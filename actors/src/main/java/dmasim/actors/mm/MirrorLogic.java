package dmasim.actors.mm;

import dmasim.actors.model.Decision;
import dmasim.actors.model.Names;
import dmasim.protocol.DeviceCommand;
import dmasim.protocol.DeviceReply;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Envelope;
import dmasim.protocol.Errno;
import dmasim.protocol.HmmPfn;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Iova;
import dmasim.protocol.Message;
import dmasim.protocol.MirrorCommand;
import dmasim.protocol.MirrorEvent;
import dmasim.protocol.MirrorEvent.IoOp;
import dmasim.protocol.MirrorReply;
import dmasim.protocol.Phys;
import java.util.ArrayList;
import java.util.List;

/**
 * The decisions of a mirror's device side: the device page table the driver programs and zaps,
 * device accesses through it (a missing entry raises a device page fault), and the HMM DMA helpers
 * of mm/hmm.c on the IOMMU model: hmm_dma_map_alloc (one IOVA window, entry i at addr + i * 4096,
 * or per-page dma_map_page with a dma_list when the window cannot be had), hmm_dma_map_pfn (link +
 * sync of that one slot; an entry already DMA_MAPPED is returned as it is, without touching the
 * IOMMU), hmm_dma_unmap_pfn, hmm_dma_map_free. The DMA API calls of one driver call are made one at
 * a time, calls in the order they came (the IOMMU's own races are not what a mirror is about).
 */
public final class MirrorLogic {
  private final MirrorState s;
  private final MirrorSettings cfg;
  private final Decision d = new Decision();
  private final String self;
  private final String from;

  private MirrorLogic(MirrorState s, Envelope env) {
    this.s = s;
    this.cfg = s.cfg;
    this.self = Names.mirror(cfg.name());
    this.from = env.sender();
  }

  public static Decision decide(MirrorState s, Envelope env) {
    MirrorLogic l = new MirrorLogic(s, env);
    l.handle(env.message());
    return l.d;
  }

  private void handle(Message m) {
    if ((m instanceof MirrorCommand.PteSet || m instanceof MirrorCommand.Zap) && s.mkeyDead) {
      // a UMR of a revoked or freed mkey's MTT: the UMR QP completes it in error (a CQE with error), nothing is written
      String call = m instanceof MirrorCommand.PteSet ? "pte_set" : "zap";
      d.emit(new MirrorEvent.UmrFailed(cfg.name(), from, call));
      d.send(from, new MirrorReply.Done(call, Errno.EIO));
    } else if (m instanceof MirrorCommand.MkeyState k) {
      d.emit(new MirrorEvent.MkeyStateChanged(cfg.name(), k.live()));
    } else if (m instanceof MirrorCommand.PteSet p) {
      pteSet(p);
    } else if (m instanceof MirrorCommand.Zap z) {
      zap(z);
    } else if (m instanceof MirrorCommand.Access a) {
      access(from, a);
    } else if (m instanceof MirrorCommand.Npages) {
      // umem_odp->npages: the DMA-mapped entries (a mirror without DMA: its device PTEs)
      boolean none = cfg.dma() ? s.slots.isEmpty() : s.ptes.isEmpty();
      d.send(from, new MirrorReply.Done("npages", none ? Errno.ENOENT : Errno.OK));
    } else if (m instanceof MirrorCommand.DmaAlloc) {
      if (!cfg.dma() || s.allocated) finish("dma_alloc", from, Errno.EINVAL);
      else if (cfg.bounces()) finish("dma_alloc", from, Errno.EOPNOTSUPP); // hmm_dma_map_alloc: dma_need_sync or addressing-limited
      else queue("dma_alloc", List.of(new IoOp("try_alloc", 0, 0, 0)), 0, List.of(), 0, false);
    } else if (m instanceof MirrorCommand.DmaUnmap u) {
      List<IoOp> ops = new ArrayList<>();
      for (int i = u.first(); i < u.first() + u.pages(); i++) {
        if (cfg.sharedPfns()) {
          long w = s.words[i];
          if ((w & (HmmPfn.VALID | HmmPfn.DMA_MAPPED)) == (HmmPfn.VALID | HmmPfn.DMA_MAPPED)) {
            // the sticky bit says mapped: unlink that slot, whether or not the IOMMU still holds it
            ops.add(new IoOp(s.window != 0 ? "unlink" : "unmap_page", i, HmmPfn.pfn(w), s.window != 0 ? s.window + i * 4096L : s.dmaList[i]));
          } else if ((w & HmmPfn.FLAGS) != 0) {
            d.emit(new MirrorEvent.WordWritten(cfg.name(), i, w & ~HmmPfn.FLAGS, "unmap"));
          }
          continue;
        }
        MirrorState.Slot slot = s.slots.get(i);
        if (slot == null) continue;
        if ((slot.p2pFlags() & HmmPfn.P2PDMA_BUS) != 0) {
          d.emit(new MirrorEvent.SlotUnmapped(cfg.name(), i, slot.pfn(), slot.addr())); // a bus address: nothing was mapped
        } else {
          boolean mmio = (slot.p2pFlags() & HmmPfn.P2PDMA) != 0; // hmm_dma_unmap_pfn: DMA_ATTR_MMIO for a peer through the host bridge
          ops.add(new IoOp((s.window != 0 ? "unlink" : "unmap_page") + (mmio ? "_mmio" : ""), i, slot.pfn(), slot.addr()));
        }
      }
      if (ops.isEmpty()) finish("dma_unmap", from, 0);
      else queue("dma_unmap", ops, u.first(), List.of(), 0, false);
    } else if (m instanceof MirrorCommand.DmaFree) {
      if (s.window != 0) {
        queue("dma_free", List.of(new IoOp("free", 0, 0, s.window)), 0, List.of(), 0, false);
      } else {
        if (s.allocated) d.emit(new MirrorEvent.DmaMapFreed(cfg.name()));
        finish("dma_free", from, 0);
      }
    } else if (m instanceof MirrorCommand.FaultDone f && f.token() != 0) {
      // PAGE_FAULT_RESUME of a posted fault: the stalled access goes on (the device retries it) or fails
      MirrorState.Access stalled = s.stalled.get(f.token());
      if (stalled == null) {
        finish("fault_done", from, Errno.ENOENT); // no such fault waits (resumed already)
        return;
      }
      d.emit(new MirrorEvent.FaultResolved(cfg.name(), f.token(), stalled.va(), stalled.write(), f.error()));
      finish("fault_done", from, 0);
      if (f.error()) d.send(stalled.cpu(), new MirrorReply.Done("access", Errno.EIO));
      else access(stalled.cpu(), new MirrorCommand.Access(stalled.va(), stalled.write()));
    } else if (m instanceof MirrorCommand.FaultDone f) {
      MirrorState.Fault fault = s.faults.get(from);
      if (fault != null) d.emit(new MirrorEvent.FaultResolved(cfg.name(), fault.token(), fault.va(), fault.write(), f.error()));
      finish("fault_done", from, 0);
    } else if (m instanceof MirrorCommand.ReadWord r) {
      d.send(from, new dmasim.protocol.MmCommand.WordValue(r.walk(), r.index(), s.words[r.index()]));
    } else if (m instanceof MirrorCommand.WriteWord w) {
      d.emit(new MirrorEvent.WordWritten(cfg.name(), w.index(), w.word(), "walker"));
      d.send(from, new dmasim.protocol.MmCommand.WordStored(w.walk()));
    } else if (m instanceof IommuReply.Returned r) {
      ioDone(r);
    } else if (m instanceof DeviceReply.Completed c) {
      completed(c);
    } else {
      throw new IllegalArgumentException(self + " cannot handle " + m.getClass().getName());
    }
  }

  private void finish(String call, String cpu, int errno) {
    d.emit(new MirrorEvent.CallFinished(cfg.name(), call, cpu, errno));
    d.send(cpu, new MirrorReply.Done(call, errno));
  }

  private void pteSet(MirrorCommand.PteSet given) {
    MirrorCommand.PteSet p = given;
    if (cfg.sharedPfns()) { // populate_mtt reads the map's own pfn list, not a copy
      List<Long> own = new ArrayList<>();
      for (int i = 0; i < given.words().size(); i++) own.add(s.words[given.first() + i]);
      p = new MirrorCommand.PteSet(given.first(), own, given.seq(), given.downgrade());
    }
    if (!cfg.dma()) {
      write(p.first(), p.words(), p.seq(), p.downgrade(), from, java.util.Map.of());
      finish("pte_set", from, 0);
      return;
    }
    if (!s.allocated) {
      finish("pte_set", from, Errno.EINVAL); // hmm_dma_map_pfn without hmm_dma_map_alloc
      return;
    }
    List<IoOp> ops = new ArrayList<>();
    java.util.Set<Integer> planned = new java.util.HashSet<>();
    java.util.Map<Integer, Long> busNow = new java.util.HashMap<>();
    for (int i = 0; i < p.words().size(); i++) {
      long w = p.words().get(i);
      int idx = p.first() + i;
      if ((w & HmmPfn.VALID) == 0 || !planned.add(idx)) continue;
      // DMA_MAPPED: the existing address, no IOMMU call (hmm_dma_map_pfn trusts the sticky bit of a shared list; else the table's own slot)
      if (cfg.sharedPfns() ? (w & HmmPfn.DMA_MAPPED) != 0 : s.slots.containsKey(idx)) continue;
      long pfn = HmmPfn.pfn(w);
      dmasim.actors.memory.Region peer = cfg.p2pRegion(pfn);
      if (peer != null) {
        // hmm_dma_map_pfn -> pci_p2pdma_state: a peer's BAR by its bus address (nothing mapped), through the host bridge (mapped as MMIO), or not at all
        switch (peer.path()) {
          case BUS_ADDRESS -> {
            long bus = (pfn + peer.busOffsetPages()) << 12;
            d.emit(new MirrorEvent.SlotMapped(cfg.name(), idx, pfn, bus, HmmPfn.P2PDMA_BUS));
            busNow.put(idx, bus);
          }
          case HOST_BRIDGE -> {
            if (s.window != 0) {
              ops.add(new IoOp("link_mmio", idx, pfn, s.window + idx * 4096L));
              ops.add(new IoOp("sync_p2p", idx, pfn, s.window + idx * 4096L));
            } else {
              ops.add(new IoOp("map_page_mmio", idx, pfn, 0));
            }
          }
          default -> {
            finish("pte_set", from, Errno.EREMOTEIO); // PCI_P2PDMA_MAP_NOT_SUPPORTED: hmm_dma_map_pfn fails
            return;
          }
        }
        continue;
      }
      if (s.window != 0) {
        ops.add(new IoOp("link", idx, pfn, s.window + idx * 4096L));
        ops.add(new IoOp("sync", idx, pfn, s.window + idx * 4096L)); // hmm_dma_map_pfn syncs the one slot it linked
      } else {
        ops.add(new IoOp("map_page", idx, pfn, 0));
      }
    }
    if (ops.isEmpty()) {
      write(p.first(), p.words(), p.seq(), p.downgrade(), from, busNow);
      finish("pte_set", from, 0);
    } else {
      queue("pte_set", ops, p.first(), p.words(), p.seq(), p.downgrade());
    }
  }

  /** Writes the device PTEs of the valid words; {@code mappedNow}: addresses of the page-mode slots this call mapped (by slot). */
  private void write(int first, List<Long> words, long seq, boolean downgrade, String cpu, java.util.Map<Integer, Long> mappedNow) {
    for (int i = 0; i < words.size(); i++) {
      long w = words.get(i);
      if ((w & HmmPfn.VALID) == 0) continue;
      int idx = first + i;
      long addr = 0;
      if (cfg.dma()) {
        MirrorState.Slot slot = s.slots.get(idx);
        // DMA_MAPPED already: the address it has; else the one this call mapped (page mode) or the slot's in the IOVA window
        // a shared list's entry marked DMA_MAPPED in page mode: whatever its dma_list holds (hmm_dma_map_pfn returns dma_addrs[idx])
        long listed = cfg.sharedPfns() && s.window == 0 && (w & HmmPfn.DMA_MAPPED) != 0 ? s.dmaList[idx] : 0;
        addr = slot != null ? slot.addr() : mappedNow.getOrDefault(idx, s.window != 0 ? s.window + idx * 4096L : listed);
      }
      d.emit(new MirrorEvent.DevicePteWritten(cfg.name(), idx, cfg.vpn(idx) << 12, HmmPfn.pfn(w), !downgrade && (w & HmmPfn.WRITE) != 0, cfg.dma(),
          addr, cpu, seq, w));
    }
  }

  private void queue(String call, List<IoOp> ops, int first, List<Long> words, long seq, boolean downgrade) {
    d.emit(new MirrorEvent.CallStarted(cfg.name(), call, from, ops, first, words, seq, downgrade));
    if (s.calls.isEmpty()) d.send(Names.IOMMU, command(ops.get(0), s.window));
  }

  private Message command(IoOp op, long window) {
    String state = cfg.name();
    long size = cfg.pages() * 4096;
    Direction bi = Direction.BIDIRECTIONAL;
    return switch (op.op()) {
      case "try_alloc" -> new IommuCommand.TryAlloc(cfg.device(), state, new Phys(0), size);
      case "link", "link_mmio" -> new IommuCommand.Link(cfg.device(), state, new Iova(window), size, op.index() * 4096L, new Phys(op.pfn() << 12),
          4096, bi, attrs(op));
      case "sync", "sync_p2p" -> new IommuCommand.Sync(cfg.device(), state, new Iova(window), op.index() * 4096L, 4096);
      case "unlink", "unlink_mmio" -> new IommuCommand.Unlink(cfg.device(), state, new Iova(window), op.index() * 4096L, 4096, bi, attrs(op));
      case "map_page", "map_page_mmio" -> new IommuCommand.MapPhys(cfg.device(), state + "." + op.index(), new Phys(op.pfn() << 12), 4096, bi,
          attrs(op), null);
      case "unmap_page", "unmap_page_mmio" -> new IommuCommand.UnmapPhys(cfg.device(), state + "." + op.index(), new Iova(op.addr()), 4096, bi,
          attrs(op));
      case "free" -> new IommuCommand.Free(cfg.device(), state, new Iova(window), size);
      default -> throw new IllegalStateException("unknown DMA op " + op.op());
    };
  }

  /** DMA_ATTR_MMIO for a peer's BAR through the host bridge (and DMA_ATTR_SKIP_CPU_SYNC on its unmap), none for RAM. */
  private static DmaAttrs attrs(IoOp op) {
    if (!op.op().endsWith("_mmio")) return DmaAttrs.NONE;
    return new DmaAttrs(DmaAttrs.MMIO | (op.op().startsWith("un") ? DmaAttrs.SKIP_CPU_SYNC : 0));
  }

  /** The IOMMU answered the head call's current DMA API call. */
  private void ioDone(IommuReply.Returned r) {
    MirrorEvent.CallStarted c = s.calls.peekFirst();
    if (c == null) throw new IllegalStateException(self + " got a DMA API answer it did not ask for: " + r);
    IoOp op = c.ops().get(s.done);
    d.emit(new MirrorEvent.IoDone(cfg.name(), r.errno(), r.value()));
    long window = s.window;
    int errno = r.errno();
    java.util.Map<Integer, Long> mappedNow = new java.util.HashMap<>();
    switch (op.op()) {
      case "try_alloc" -> {
        // no window: per-page dma_map_page, with a dma_list since dma_need_unmap holds behind an IOMMU
        window = r.value();
        d.emit(new MirrorEvent.DmaMapAllocated(cfg.name(), r.value(), cfg.pages()));
        errno = 0;
      }
      case "sync", "sync_p2p" -> {
        if (errno == 0) d.emit(new MirrorEvent.SlotMapped(cfg.name(), op.index(), op.pfn(), op.addr(), op.op().equals("sync_p2p") ? HmmPfn.P2PDMA : 0));
        if (errno == 0 && cfg.sharedPfns()) {
          d.emit(new MirrorEvent.WordWritten(cfg.name(), op.index(), s.words[op.index()] | HmmPfn.DMA_MAPPED
              | (op.op().equals("sync_p2p") ? HmmPfn.P2PDMA : 0), "map"));
        }
      }
      case "map_page", "map_page_mmio" -> {
        if (r.value() == -1L && errno == 0) errno = Errno.ENOMEM; // dma_mapping_error
        if (errno == 0) {
          d.emit(new MirrorEvent.SlotMapped(cfg.name(), op.index(), op.pfn(), r.value(), op.op().equals("map_page_mmio") ? HmmPfn.P2PDMA : 0));
          mappedNow.put(op.index(), r.value());
          if (cfg.sharedPfns()) { // hmm_dma_map_pfn: pfns[idx] |= HMM_PFN_DMA_MAPPED, in page mode too
            d.emit(new MirrorEvent.WordWritten(cfg.name(), op.index(), s.words[op.index()] | HmmPfn.DMA_MAPPED
                | (op.op().equals("map_page_mmio") ? HmmPfn.P2PDMA : 0), "map"));
          }
        }
      }
      case "unlink", "unmap_page", "unlink_mmio", "unmap_page_mmio" -> {
        d.emit(new MirrorEvent.SlotUnmapped(cfg.name(), op.index(), op.pfn(), op.addr()));
        // hmm_dma_unmap_pfn clears DMA_MAPPED, ib_umem_odp_unmap_dma_pages every flag: a store of the word as it is now
        if (cfg.sharedPfns()) d.emit(new MirrorEvent.WordWritten(cfg.name(), op.index(), s.words[op.index()] & ~HmmPfn.FLAGS, "unmap"));
      }
      case "free" -> d.emit(new MirrorEvent.DmaMapFreed(cfg.name()));
      default -> { }
    }
    if (errno == 0 && s.done + 1 < c.ops().size()) {
      d.send(Names.IOMMU, command(c.ops().get(s.done + 1), window));
      return;
    }
    if (errno == 0 && c.call().equals("pte_set")) {
      for (int k = 0; k < s.done; k++) { // page-mode slots mapped earlier in this call
        IoOp earlier = c.ops().get(k);
        if (earlier.op().startsWith("map_page")) mappedNow.put(earlier.index(), s.answers.get(k));
      }
      write(c.first(), c.words(), c.seq(), c.downgrade(), c.cpu(), mappedNow);
    }
    finish(c.call(), c.cpu(), errno);
    if (s.calls.size() > 1) {
      MirrorEvent.CallStarted next = new ArrayList<>(s.calls).get(1);
      d.send(Names.IOMMU, command(next.ops().get(0), window));
    }
  }

  private void zap(MirrorCommand.Zap z) {
    for (int i = z.first(); i < z.first() + z.pages(); i++) {
      MirrorState.Entry e = s.ptes.get(i);
      if (e != null) d.emit(new MirrorEvent.DevicePteZapped(cfg.name(), i, cfg.vpn(i) << 12, e.pfn()));
    }
    int busy = 0;
    for (MirrorState.Access a : s.inFlight.values()) if (a.index() >= z.first() && a.index() < z.first() + z.pages()) busy++;
    if (z.waitIdle() && busy > 0) d.emit(new MirrorEvent.ZapWaits(cfg.name(), from, z.first(), z.pages(), busy));
    else finish("zap", from, 0);
  }

  private void access(String from, MirrorCommand.Access a) {
    if (s.mkeyDead) { // the RDMA mkey was revoked or freed: the device's access through it completes in error, it does not fault
      d.send(from, new MirrorReply.Done("access", Errno.EIO));
      return;
    }
    int idx = cfg.index(a.va());
    MirrorState.Entry e = idx < 0 ? null : s.ptes.get(idx);
    if (e == null || (a.write() && !e.writable())) {
      d.emit(new MirrorEvent.DeviceFaulted(cfg.name(), from, s.nextToken, a.va(), a.write()));
      if (!cfg.faultQueue().isEmpty()) { // the device posts a page-fault event; the access stalls until its token is resumed
        d.send(cfg.faultQueue(), new dmasim.protocol.HcaCommand.PageFault(cfg.name(), s.nextToken, a.va(), a.write()));
      } else {
        d.send(from, new MirrorReply.Done("access", Errno.EFAULT));
      }
    } else if (!e.dma()) {
      d.emit(new MirrorEvent.DeviceAccessed(cfg.name(), a.va(), e.pfn(), a.write()));
      d.send(from, new MirrorReply.Done("access", 0));
    } else {
      long tag = (1L << 62) | ((long) cfg.id() << 40) | s.nextTag;
      d.emit(new MirrorEvent.AccessIssued(cfg.name(), from, a.va(), e.pfn(), e.addr(), a.write(), tag));
      MirrorState.Slot slot = s.slots.get(idx);
      boolean bus = slot != null && (slot.p2pFlags() & HmmPfn.P2PDMA_BUS) != 0; // a peer's bus address: straight to the peer, no IOMMU
      d.send(Names.device(cfg.device()), new DeviceCommand.Submit(tag, List.of(new DmaSegment(new Iova(e.addr() + (a.va() & 0xfff)), 4096 - (a.va()
          & 0xfff), bus)), a.write()));
    }
  }

  private void completed(DeviceReply.Completed c) {
    MirrorState.Access a = s.inFlight.get(c.tag());
    if (a == null) return; // a duplicate completion
    d.emit(new MirrorEvent.AccessCompleted(cfg.name(), c.tag(), c.faults()));
    d.send(a.cpu(), new MirrorReply.Done("access", c.faults() > 0 ? Errno.EIO : 0));
    for (MirrorState.ZapWait z : s.zapWaits) {
      boolean busy = false;
      for (var f : s.inFlight.entrySet()) {
        if (f.getKey() != c.tag() && f.getValue().index() >= z.first() && f.getValue().index() < z.first() + z.pages()) busy = true;
      }
      if (!busy) finish("zap", z.cpu(), 0);
    }
  }
}
