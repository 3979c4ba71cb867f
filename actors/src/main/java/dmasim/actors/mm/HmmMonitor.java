package dmasim.actors.mm;

import dmasim.actors.monitor.AbstractMonitor;
import dmasim.actors.monitor.StepInfo;
import dmasim.protocol.CpuEvent;
import dmasim.protocol.Event;
import dmasim.protocol.MemoryEvent;
import dmasim.protocol.MirrorEvent;
import dmasim.protocol.MmEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The invariants of mirroring a process address space into a device (include/linux/mmu_notifier.h,
 * mm/mmu_notifier.c, Documentation/mm/hmm.rst, lib/test_hmm.c): the notifier core's sequence (N1),
 * the callback's set_seq (N2), read_retry under the user lock (N3), non-blockable callbacks (N6),
 * no stale device PTE (M1), a callback leaves nothing of its range in the device (M2), no frame freed
 * while the device or the IOMMU reaches it (M3), no IOMMU mapping of a page the CPU dropped (M4), no
 * struct page touched outside the read section (M5), a DMA-mapped slot that maps the page its device
 * entry names (M6), device-private pages only of one's own (M8),
 * device and CPU tables agree or one side is empty (M9), a fresh read_begin after a failed attempt
 * (L1), no retry loop without progress (L2), and a benign device fault never failed (O6). It keeps
 * its own fold of the address space (the mm actor's own {@link MmState}) and shadows of the device
 * tables, the locks and each driver thread's attempt.
 */
public final class HmmMonitor extends AbstractMonitor {
  /** Retries with -EBUSY and nothing changed in the address space between them, after which a loop is reported (L2). */
  static final int NO_PROGRESS_RETRIES = 3;

  private final MmState mm;
  private final Map<String, MirrorSettings> mirrors = new HashMap<>();
  private final Map<String, String> locks = new HashMap<>();
  /** Per "cpu/mirror": the attempt in progress. */
  private final Map<String, Attempt> attempts = new HashMap<>();
  /** Invalidations started, in order: {startVpn, pages, step}. */
  private final List<long[]> invalidations = new ArrayList<>();
  private final Map<String, Map<Integer, MirrorState.Entry>> devicePtes = new HashMap<>();
  private final Map<String, Map<Integer, MirrorState.Slot>> slots = new HashMap<>();
  private final Map<String, Map<Long, MirrorEvent.AccessIssued>> inFlight = new HashMap<>();
  /** Per CPU queue, the callback it runs. */
  private final Map<String, Frame> callbacks = new HashMap<>();
  /**
   * Mirrors whose RDMA mkey was revoked (mlx5_revoke_mr): the device can no longer reach their IOMMU
   * mappings, which ib_umem_odp_release unmaps later; an invalidation in between skips them
   * (odp->private == NULL), so their mappings of dropped or freed pages are not M3/M4.
   */
  private final java.util.Set<String> fenced = new java.util.HashSet<>();
  /** A shared pfn list's words as last stored (whether DMA_MAPPED is still there tells why an unmap skipped a slot). */
  private final Map<String, Map<Integer, Long>> words = new HashMap<>();
  /** DMA mirrors whose hmm_dma_map got no IOVA window: per-page dma_map_page with a dma_list. */
  private final java.util.Set<String> pageMode = new java.util.HashSet<>();
  /** Per "mirror/page": device faults on it in a row, each resumed without a device PTE written in between (a fault loop, L2). */
  private final Map<String, long[]> refaults = new HashMap<>();
  /** Address-space changes so far (the progress an -EBUSY retry needs). */
  private long changes;
  /** How many device PTEs and DMA-mapped slots reference each frame (a freed frame is looked up, not searched for). */
  private final dmasim.actors.state.LongLongMap refs = new dmasim.actors.state.LongLongMap(1024);
  /** Invalidations remembered for the steps a stale-PTE message cites. */
  static final int REMEMBERED_INVALIDATIONS = 4096;

  /** A driver thread's attempt on a mirror: its read_begin (seq, step), and what became of it. */
  private static final class Attempt {
    long seq;
    long begunAt;
    boolean failed;
    long retriedOkAt = -1;
    int busy;
    long busyChanges = -1;
  }

  /** A callback in progress on a CPU queue. */
  private static final class Frame {
    final CpuEvent.CallbackEntered call;
    final long step;
    boolean seqSet;
    final java.util.Set<String> taken = new java.util.TreeSet<>();

    Frame(CpuEvent.CallbackEntered call, long step) {
      this.call = call;
      this.step = step;
    }
  }

  public HmmMonitor(MmSettings mm, List<MirrorSettings> mirrors) {
    super(HmmComponent.MONITOR, false);
    this.mm = Mm.initial(mm);
    for (MirrorSettings m : mirrors) {
      this.mirrors.put(m.name(), m);
      devicePtes.put(m.name(), new HashMap<>());
      slots.put(m.name(), new HashMap<>());
      inFlight.put(m.name(), new java.util.TreeMap<>());
    }
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }

  private Attempt attempt(String cpu, String mirror) {
    return attempts.computeIfAbsent(cpu + "/" + mirror, k -> new Attempt());
  }

  private boolean holds(String cpu, MirrorSettings m) {
    return cpu.equals(locks.get(m.lock()));
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof MirrorEvent.WordWritten w) words.computeIfAbsent(w.mirror(), k -> new HashMap<>()).put(w.index(), w.word());
    if (event instanceof MirrorEvent.DmaMapAllocated a && a.addr() == 0) pageMode.add(a.mirror());
    else if (event instanceof MirrorEvent.DmaMapAllocated a) pageMode.remove(a.mirror());
    if (event instanceof MemoryEvent.LockAcquired a) {
      locks.put(a.name(), a.holder());
      Frame f = callbacks.get(a.holder());
      if (f != null) f.taken.add(a.name());
    } else if (event instanceof MemoryEvent.LockReleased r) {
      locks.remove(r.name());
      Frame f = callbacks.get(r.holder());
      if (f != null) f.taken.remove(r.name());
    } else if (event instanceof MemoryEvent.LockWaited w) {
      Frame f = callbacks.get(w.waiter());
      if (f != null && !f.call.blockable()) {
        violate("N6", at, w.waiter() + " sleeps on lock '" + w.name() + "' in " + f.call.sub() + "'s invalidate callback of a non-blockable "
            + f.call.event() + " (mmu_notifier_range_blockable false: the callback must trylock and return false, never sleep)", about(f.call.sub()));
      }
    } else if (event instanceof MmEvent e) {
      mmEvent(at, e);
      mm.apply(e);
    } else if (event instanceof MirrorEvent e) {
      mirrorEvent(at, e);
    } else if (event instanceof dmasim.protocol.DmaAccess a && !a.stray() && a.physPfn() >= MmState.FIRST_USER_PFN && mm.frame(a.physPfn()) == null) {
      violate("M3", at, a.dev() + " DMA " + (a.write() ? "wrote" : "read") + " frame " + hex(a.physPfn()) + " through " + a.iova() + ", and the "
          + "process's frame is free (use after free through a stale IOMMU mapping)");
    } else if (event instanceof dmasim.protocol.IommuEvent.PtesCleared c && c.owner().startsWith("dpt-")) {
      for (Map<Long, MirrorEvent.AccessIssued> flying : inFlight.values()) {
        for (MirrorEvent.AccessIssued a : flying.values()) {
          if ((a.addr() >>> 12) >= c.iovaPfn() && (a.addr() >>> 12) < c.iovaPfn() + c.pages()) {
            violate("M2", at, a.mirror() + "'s page " + hex(a.va()) + " (pfn " + hex(a.pfn()) + ", DMA address " + hex(a.addr()) + ") is unmapped "
                + "from the IOMMU while the device's DMA through it is in flight: the zap must wait for the device before the pages are unmapped", about(a.mirror()));
            return;
          }
        }
      }
    } else if (event instanceof dmasim.protocol.HcaEvent.Revoked r) {
      fenced.add(r.mr());
    } else if (event instanceof dmasim.protocol.HcaEvent.ChildCreated c && c.won()) {
      fenced.remove(c.child());
    } else if (event instanceof CpuEvent.CallbackEntered c) {
      callbacks.put(at.actor(), new Frame(c, at.step()));
    } else if (event instanceof CpuEvent.CallbackLeft l) {
      callbackLeft(at, l);
    }
  }

  private void mmEvent(StepInfo at, MmEvent e) {
    if (e instanceof MmEvent.InvalidationStarted s) {
      changes++;
      invalidations.add(new long[] {s.start() >>> 12, s.pages(), at.step()});
      if (invalidations.size() > REMEMBERED_INVALIDATIONS) invalidations.subList(0, invalidations.size() - REMEMBERED_INVALIDATIONS).clear();
      if (s.coreSeq() < mm.coreSeq() || (!s.subs().isEmpty() && (s.coreSeq() & 1) == 0)) {
        violate("N1", at, "invalidation " + s.id() + " left the notifier's invalidate_seq at " + s.coreSeq() + " (was " + mm.coreSeq()
            + "): it must be odd while an invalidation of a subscription runs and never go back");
      }
    } else if (e instanceof MmEvent.InvalidationEnded x) {
      if (x.coreSeq() < mm.coreSeq() || (mm.activeInvalidations() == 1 && (x.coreSeq() & 1) == 1)) {
        violate("N1", at, "invalidation " + x.id() + " ended with invalidate_seq " + x.coreSeq() + " and nothing else active: it must be even"
            + " when idle and never go back");
      }
    } else if (e instanceof MmEvent.SeqSet s) {
      seqSet(at, s);
    } else if (e instanceof MmEvent.MmCallFinished c && c.errno() == dmasim.protocol.Errno.EINVAL && (c.call().equals("insert")
        || c.call().equals("remove"))) {
      if (c.call().equals("insert")) {
        violate("N4", at, c.cpu() + " calls mmu_interval_notifier_insert on a subscription that is already inserted: the kernel's interval tree and "
            + "deferred list would be corrupted");
      } else {
        violate("N5", at, c.cpu() + " calls mmu_interval_notifier_remove on a subscription that is not inserted: the kernel's interval tree and "
            + "deferred list would be corrupted");
      }
    } else if (e instanceof MmEvent.ReadBegun r && !mm.sub(r.sub()).inTree() && !mm.sub(r.sub()).deferredInsert) {
      violate("N4", at, r.cpu() + " calls mmu_interval_read_begin on " + r.sub() + ", which is not inserted (never, or removed): no invalidation "
          + "will ever be reported to it" + (fenced.contains(r.sub()) ? " (its MR was deregistered and its umem released while this queue still used "
          + "it: a fault or prefetch must hold an mkey reference that dereg waits for)" : ""), about(r.sub()));
    } else if (e instanceof MmEvent.SubInserted i) {
      removed.remove(i.sub());
      if (!mm.invs.isEmpty()) insertedDuring.put(i.sub(), new java.util.HashSet<>(mm.invs.keySet()));
    } else if (e instanceof MmEvent.SubRemoveWaits w) {
      removing(at, w.sub(), w.cpu());
      waitingRemoves.add(w.sub() + "/" + w.cpu());
    } else if (e instanceof MmEvent.SubRemoved r) {
      if (!waitingRemoves.remove(r.sub() + "/" + r.cpu())) removing(at, r.sub(), r.cpu()); // a remove that waited was judged when it began
      removed.add(r.sub());
    } else if (e instanceof MmEvent.CallbackCalled c && removed.contains(c.sub())) {
      violate("N5", at, "the notifier calls " + c.sub() + "'s invalidate callback after mmu_interval_notifier_remove returned: the driver may "
          + "have freed what the callback uses", about(c.sub()));
    } else if (e instanceof MmEvent.ReadBegun r) {
      java.util.Set<Long> during = insertedDuring.get(r.sub());
      if (during != null) {
        during.retainAll(mm.invs.keySet());
        if (!during.isEmpty()) {
          violate("N4", at, r.cpu() + "'s read_begin on " + r.sub() + " returns seq " + r.seq() + " while invalidation " + during.iterator().next()
              + ", running when it was inserted, has not ended: the read section may miss it", about(r.sub()));
        } else {
          insertedDuring.remove(r.sub());
        }
      }
      Attempt a = attempt(r.cpu(), r.sub());
      a.seq = r.seq();
      a.begunAt = at.step();
      a.failed = false;
      a.retriedOkAt = -1;
    } else if (e instanceof MmEvent.ReadRetried r) {
      readRetried(at, r);
    } else if (e instanceof MmEvent.WalkStarted w) {
      Attempt a = attempt(w.cpu(), w.sub());
      if (a.failed) {
        violate("L1", at, w.cpu() + " calls hmm_range_fault on " + w.sub() + " with seq " + w.seq() + ", the seq of an attempt that already "
            + "failed (-EBUSY or read_retry): every new attempt needs a fresh mmu_interval_read_begin", about(w.sub()), a.begunAt);
      }
      walkCpu.put(w.walk(), w.cpu() + "/" + w.sub());
    } else if (e instanceof MmEvent.WalkEnded w) {
      walkEnded(at, w);
    } else if (e instanceof MmEvent.PteCleared c) {
      changes++;
      pteGone(at, c.va(), c.pfn(), c.event());
    } else if (e instanceof MmEvent.PteSet p) {
      changes++;
      MmState.Pte old = mm.pte(p.va() >>> 12);
      if (old != null && old.pfn() != p.pfn()) pteGone(at, p.va(), old.pfn(), "replaced");
    } else if (e instanceof MmEvent.FrameFreed f) {
      frameFreed(at, f);
    } else if (e instanceof MmEvent.FrameDirtied f) {
      frameDirtied(at, f);
    } else if (e instanceof MmEvent.VmaProtected || e instanceof MmEvent.VmaRemoved || e instanceof MmEvent.VmaAdded) {
      changes++;
    }
  }

  /**
   * What a violation about mirror {@code mirror} is about: the mirror (its notifier, walks, device
   * entries) and each CPU queue's calls on it, so the explanation lists the steps that touched them.
   */
  private List<String> about(String mirror) {
    List<String> out = new ArrayList<>();
    out.add(mirror);
    for (String k : attempts.keySet()) if (k.endsWith("/" + mirror)) out.add(k);
    for (String cpu : callbacks.keySet()) if (!out.contains(cpu + "/" + mirror)) out.add(cpu + "/" + mirror);
    return out;
  }

  /** mmu_interval_notifier_remove may sleep until callbacks end: never from a callback, never holding the lock the callbacks take. */
  private void removing(StepInfo at, String sub, String cpu) {
    MirrorSettings m = mirrors.get(sub);
    if (callbacks.containsKey(cpu)) {
      violate("N5", at, cpu + " calls mmu_interval_notifier_remove on " + sub + " from inside an invalidate callback", about(sub));
    } else if (m != null && holds(cpu, m)) {
      violate("N5", at, cpu + " calls mmu_interval_notifier_remove on " + sub + " holding '" + m.lock() + "', the lock its callback takes: the "
          + "remove waits for the running invalidation, whose callback waits for the lock", about(sub));
    }
  }

  @Override
  public void onRunEnd(StepInfo at) {
    for (MmEvent.SubRemoveWaits w : mm.removeWaiters) {
      violate("L3", at, w.cpu() + "'s mmu_interval_notifier_remove of " + w.sub() + " never returned: the invalidation it waits for never ended", about(w.sub()));
      return;
    }
    for (MmState.Waiter w : mm.waiters) {
      violate("L3", at, w.cpu() + "'s mmu_interval_read_begin on " + w.sub() + " never returned: the invalidation it waits for never ended", about(w.sub()));
      return;
    }
  }

  private final Map<Long, String> walkCpu = new HashMap<>();
  /** Per subscription inserted while invalidations ran: those invalidations (a read section must wait for all of them). */
  private final Map<String, java.util.Set<Long>> insertedDuring = new HashMap<>();
  /** Per mirror, the device-table updates (pte_set calls waiting for their DMA mapping) in progress, by queue. */
  private final Map<String, List<String>> updating = new HashMap<>();
  /** Removes sleeping until the invalidation ends: "sub/cpu". */
  private final java.util.Set<String> waitingRemoves = new java.util.HashSet<>();
  /** Subscriptions whose remove returned. */
  private final java.util.Set<String> removed = new java.util.HashSet<>();

  private void seqSet(StepInfo at, MmEvent.SeqSet s) {
    Frame f = callbacks.get(s.cpu());
    MirrorSettings m = mirrors.get(s.sub());
    if (f == null || !f.call.sub().equals(s.sub())) {
      violate("N2", at, s.cpu() + " calls mmu_interval_set_seq on " + s.sub() + " outside its invalidate callback", about(s.sub()));
      return;
    }
    f.seqSet = true;
    if (s.seq() != f.call.curSeq()) {
      violate("N2", at, s.cpu() + " sets " + s.sub() + "'s seq to " + s.seq() + ", not the cur_seq " + f.call.curSeq() + " its callback was given", about(s.sub()));
    } else if ((s.seq() & 1) == 0) {
      violate("N1", at, s.cpu() + " sets " + s.sub() + "'s seq to the even " + s.seq() + ": a subscription's seq is always odd", about(s.sub()));
    } else if (m != null && !holds(s.cpu(), m)) {
      violate("N2", at, s.cpu() + " calls mmu_interval_set_seq on " + s.sub() + " without holding its lock '" + m.lock() + "' (held by "
          + locks.getOrDefault(m.lock(), "nobody") + "): a fault path can check read_retry in between and program stale pfns", about(s.sub()));
    }
  }

  private void readRetried(StepInfo at, MmEvent.ReadRetried r) {
    MirrorSettings m = mirrors.get(r.sub());
    Attempt a = attempt(r.cpu(), r.sub());
    if (m != null && !holds(r.cpu(), m)) {
      violate("N3", at, r.cpu() + " calls mmu_interval_read_retry on " + r.sub() + " without holding '" + m.lock() + "' (held by "
          + locks.getOrDefault(m.lock(), "nobody") + "): an invalidation can run its callback between the check and the device update", about(r.sub()));
    } else if (r.seq() != a.seq) {
      violate("N3", at, r.cpu() + " checks read_retry on " + r.sub() + " with seq " + r.seq() + ", not the " + a.seq + " of its read_begin at step "
          + a.begunAt, about(r.sub()), a.begunAt);
    }
    if (r.retry()) a.failed = true;
    else a.retriedOkAt = at.step();
  }

  private void walkEnded(StepInfo at, MmEvent.WalkEnded w) {
    String key = walkCpu.remove(w.walk());
    if (key == null) return;
    Attempt a = attempts.computeIfAbsent(key, k -> new Attempt());
    if (w.errno() != dmasim.protocol.Errno.EBUSY) {
      a.busy = 0;
      return;
    }
    a.failed = true;
    if (a.busyChanges == changes) a.busy++;
    else a.busy = 1;
    a.busyChanges = changes;
    if (a.busy >= NO_PROGRESS_RETRIES) {
      violate("L2", at, key.replace("/", "'s hmm_range_fault of ") + " returned -EBUSY " + a.busy + " times with nothing changed in the address "
          + "space in between (no invalidation, no page-table change): a retry loop that cannot make progress", about(key.substring(key.indexOf('/') + 1)));
      a.busy = 0;
    }
  }

  /** The CPU page table no longer maps {@code va} to {@code pfn}: the device and the IOMMU must not either (M4, M9). */
  private void pteGone(StepInfo at, long va, long pfn, String event) {
    for (MirrorSettings m : mirrors.values()) {
      int i = m.index(va);
      if (i < 0) continue;
      MirrorState.Entry e = devicePtes.get(m.name()).get(i);
      if (e != null && e.pfn() == pfn) {
        violate("M9", at, "the CPU page table drops " + hex(va) + " -> pfn " + hex(pfn) + " (" + event + ") while " + m.name()
            + "'s device PTE still maps it: every invalidate callback must have zapped it first", about(m.name()));
        return;
      }
      MirrorState.Slot s = slots.get(m.name()).get(i);
      if (s != null && s.pfn() == pfn && !fenced.contains(m.name())) {
        violate("M4", at, "the CPU page table drops " + hex(va) + " -> pfn " + hex(pfn) + " (" + event + ") while " + m.name()
            + "'s DMA mapping of it (slot " + i + ", DMA address " + hex(s.addr()) + ") is still in the IOMMU: the device can reach a page the "
            + "process no longer has (" + (m.sharedPfns() && (words.getOrDefault(m.name(), Map.of()).getOrDefault(i, 0L) & dmasim.protocol.HmmPfn.DMA_MAPPED)
            == 0 ? "its pfn_list entry has lost HMM_PFN_DMA_MAPPED, so hmm_dma_unmap_pfn skipped the slot: a walker stored the entry back from a "
            + "load older than hmm_dma_map_pfn's set, see docs/findings.md" : "the callback zapped the device PTE but did not hmm_dma_unmap_pfn")
            + ")", about(m.name()));
        return;
      }
    }
  }

  private void frameFreed(StepInfo at, MmEvent.FrameFreed f) {
    if (refs.get(f.pfn(), 0) == 0) return;
    for (MirrorSettings m : mirrors.values()) {
      for (Map.Entry<Integer, MirrorState.Entry> e : devicePtes.get(m.name()).entrySet()) {
        if (e.getValue().pfn() == f.pfn()) {
          violate("M3", at, "frame " + hex(f.pfn()) + " is freed while " + m.name() + "'s device PTE for " + hex(m.vpn(e.getKey()) << 12)
              + " still maps it", about(m.name()));
          return;
        }
      }
      for (Map.Entry<Integer, MirrorState.Slot> e : slots.get(m.name()).entrySet()) {
        if (e.getValue().pfn() == f.pfn() && !fenced.contains(m.name())) {
          violate("M3", at, "frame " + hex(f.pfn()) + " is freed while " + m.name() + "'s DMA mapping of it (slot " + e.getKey() + ", DMA address "
              + hex(e.getValue().addr()) + ") is still in the IOMMU", about(m.name()));
          return;
        }
      }
    }
  }

  private void frameDirtied(StepInfo at, MmEvent.FrameDirtied f) {
    MirrorSettings m = mirrors.get(f.sub());
    Attempt a = attempt(f.by(), f.sub());
    long since = Math.max(a.begunAt, 0);
    boolean locked = m != null && holds(f.by(), m);
    boolean validated = a.retriedOkAt > since && m != null && mm.sub(m.name()).seq() == a.seq;
    if (!locked || !validated) {
      violate("M5", at, f.by() + " calls set_page_dirty on frame " + hex(f.pfn()) + " from " + f.sub() + "'s pfns " + (!locked ? "without holding '"
          + (m == null ? "?" : m.lock()) + "'" : "without a successful read_retry since its read_begin at step " + a.begunAt)
          + (f.free() ? ", and the frame is already free" : "") + ": struct pages from hmm pfns may be touched only inside the read section", about(f.sub()));
    } else if (f.free()) {
      violate("M3", at, f.by() + " dirties frame " + hex(f.pfn()) + ", which is free", about(f.sub()));
    }
  }

  private long invalidatedAfter(long step, long vpn) {
    for (long[] inv : invalidations) if (inv[2] > step && vpn >= inv[0] && vpn < inv[0] + inv[1]) return inv[2];
    return -1;
  }

  private void mirrorEvent(StepInfo at, MirrorEvent e) {
    if (e instanceof MirrorEvent.DevicePteWritten w) refaults.remove(w.mirror() + "/" + w.index());
    if (e instanceof MirrorEvent.DeviceFaulted f) refault(at, f);
    if (e instanceof MirrorEvent.DevicePteWritten w) {
      devicePteWritten(at, w);
      MirrorState.Entry old = devicePtes.get(w.mirror()).put(w.index(), new MirrorState.Entry(w.pfn(), w.writable(), w.dma(), w.addr()));
      if (old != null) refs.add(old.pfn(), -1);
      refs.add(w.pfn(), 1);
    } else if (e instanceof MirrorEvent.DevicePteZapped z) {
      MirrorState.Entry old = devicePtes.get(z.mirror()).remove(z.index());
      if (old != null) refs.add(old.pfn(), -1);
    } else if (e instanceof MirrorEvent.SlotMapped s) {
      MirrorState.Slot old = slots.get(s.mirror()).put(s.index(), new MirrorState.Slot(s.pfn(), s.addr()));
      if (old != null) refs.add(old.pfn(), -1);
      refs.add(s.pfn(), 1);
    } else if (e instanceof MirrorEvent.SlotUnmapped s) {
      MirrorState.Slot old = slots.get(s.mirror()).remove(s.index());
      if (old != null) refs.add(old.pfn(), -1);
    } else if (e instanceof MirrorEvent.AccessIssued a) {
      inFlight.get(a.mirror()).put(a.tag(), a);
    } else if (e instanceof MirrorEvent.AccessCompleted c) {
      inFlight.get(c.mirror()).remove(c.tag());
    } else if (e instanceof MirrorEvent.DeviceAccessed a) {
      if (mm.frame(a.pfn()) == null) {
        violate("M3", at, "the device of " + a.mirror() + " " + (a.write() ? "writes" : "reads") + " frame " + hex(a.pfn()) + " through its PTE for "
            + hex(a.va()) + ", and the frame is free (use after free)", about(a.mirror()));
      }
    } else if (e instanceof MirrorEvent.FaultResolved r && r.error()) {
      MmState.Vma vma = mm.vma(r.va() >>> 12);
      MmState.Pte pte = mm.pte(r.va() >>> 12);
      dmasim.actors.memory.Region peer = pte == null ? null : mirrors.get(r.mirror()).p2pRegion(pte.pfn());
      boolean unreachable = peer != null && peer.path() != dmasim.actors.memory.Region.Path.BUS_ADDRESS
          && peer.path() != dmasim.actors.memory.Region.Path.HOST_BRIDGE; // a peer's BAR the device cannot reach: failing is right
      if (vma != null && (!r.write() || vma.write()) && !unreachable && !vma.io()) { // VM_IO | VM_PFNMAP can never be mirrored
        violate("O6", at, "the driver fails the device's " + (r.write() ? "write" : "read") + " fault at " + hex(r.va()) + " (its program dies), "
            + "but the access is legal: " + hex(r.va()) + " is in a " + (vma.write() ? "writable" : "readable") + " VMA; a benign race must be "
            + "retried, not reported", about(r.mirror()));
      }
    } else if (e instanceof MirrorEvent.CallStarted c && c.call().equals("pte_set")) {
      deviceTableUpdate(at, c.mirror(), c.cpu(), "an update of");
      updating.computeIfAbsent(c.mirror(), k -> new ArrayList<>()).add(c.cpu());
    } else if (e instanceof MirrorEvent.CallFinished f && f.call().equals("pte_set")) {
      List<String> u = updating.get(f.mirror());
      if (u != null) u.remove(f.cpu());
    } else if (e instanceof MirrorEvent.CallFinished f && f.call().equals("zap") && deviceTableUpdate(at, f.mirror(), f.cpu(), "a zap of")) {
      return;
    } else if (e instanceof MirrorEvent.CallFinished f && f.call().equals("zap")) {
      Frame fr = callbacks.get(f.cpu());
      if (fr != null && !fr.seqSet && fr.call.sub().equals(f.mirror()) && !ownMigration(fr)) {
        violate("N2", at, f.cpu() + " zaps " + f.mirror() + "'s device PTEs in its invalidate callback before mmu_interval_set_seq: a fault path "
            + "that passes read_retry now programs what was just zapped", about(f.mirror()));
      }
    }
  }

  private void devicePteWritten(StepInfo at, MirrorEvent.DevicePteWritten w) {
    MirrorSettings m = mirrors.get(w.mirror());
    MmState.Frame frame = mm.frame(w.pfn());
    if (frame != null && frame.devicePrivate() && !frame.owner().equals(m.owner())) {
      violate("M8", at, w.cpu() + " maps " + hex(w.va()) + " in " + w.mirror() + "'s device to device-private frame " + hex(w.pfn()) + " of "
          + frame.owner() + ", not its own ('" + m.owner() + "'): hmm_range_fault must have migrated it back", about(w.mirror()));
      return;
    }
    if (w.dma()) {
      MirrorState.Slot slot = slots.get(w.mirror()).get(w.index());
      if (slot == null || slot.addr() != w.addr()) {
        violate("M6", at, w.cpu() + " writes " + w.mirror() + "'s device PTE " + hex(w.va()) + " with DMA address " + hex(w.addr()) + ", but slot "
            + w.index() + " is not DMA-mapped there: " + (pageMode.contains(w.mirror()) ? "dma_unmap_page released that address (without an IOMMU "
            + "it is the old page's physical address: the device would reach a page the process may have freed)" : "the device would use an "
            + "unlinked IOVA"), about(w.mirror()));
        return;
      }
      if (slot.pfn() != w.pfn()) {
        violate("M6", at, w.cpu() + " writes " + w.mirror() + "'s device PTE " + hex(w.va()) + " -> pfn " + hex(w.pfn()) + " through DMA address "
            + hex(w.addr()) + ", which still maps the old pfn " + hex(slot.pfn()) + ": the slot stayed DMA_MAPPED across an invalidation, so "
            + "hmm_dma_map_pfn returned the old mapping", about(w.mirror()));
        return;
      }
    }
    if (!holds(w.cpu(), m)) {
      violate("M1", at, w.cpu() + " writes " + w.mirror() + "'s device PTE " + hex(w.va()) + " -> pfn " + hex(w.pfn()) + " without holding '"
          + m.lock() + "': an invalidation can zap before the write lands", about(w.mirror()));
      return;
    }
    Attempt a = attempt(w.cpu(), w.mirror());
    long subSeq = mm.sub(w.mirror()).seq();
    MmState.Pte now = mm.pte(w.va() >>> 12);
    if (subSeq != w.seq() || now == null || now.pfn() != w.pfn()) {
      long inv = invalidatedAfter(a.begunAt, w.va() >>> 12);
      violate("M1", at, w.cpu() + " writes " + w.mirror() + "'s device PTE " + hex(w.va()) + " -> pfn " + hex(w.pfn()) + " from its attempt of "
          + "read_begin seq " + w.seq() + " (step " + a.begunAt + "), but " + (subSeq != w.seq() ? "an invalidation" + (inv >= 0 ? " (started at step "
          + inv + ")" : "") + " has set the subscription's seq to " + subSeq : "the CPU page table " + (now == null ? "has no page there now"
          : "now maps pfn " + hex(now.pfn()))) + ": a stale pfn in the device (read_retry missing, or not under the lock the callback takes)",
          about(w.mirror()), inv >= 0 ? new long[] {a.begunAt, inv} : new long[] {a.begunAt});
    } else if (w.writable() && !now.writable()) {
      violate("M7", at, w.cpu() + " maps " + hex(w.va()) + " writable in " + w.mirror() + "'s device while the CPU maps it read-only", about(w.mirror()));
    }
  }

  private void callbackLeft(StepInfo at, CpuEvent.CallbackLeft l) {
    Frame f = callbacks.remove(at.actor());
    if (f == null) return;
    if (!l.ok()) {
      if (f.call.blockable()) {
        violate("N6", at, at.actor() + "'s invalidate callback of " + l.sub() + " returns false on a blockable " + f.call.event()
            + ": only a non-blockable range may be refused", about(l.sub()));
      } else if (!f.taken.isEmpty()) {
        violate("N6", at, at.actor() + "'s invalidate callback of " + l.sub() + " returns false (non-blockable " + f.call.event() + ") still holding "
            + f.taken + ": the core calls no end after a failed start, so the lock is never released", about(l.sub()));
      }
      return;
    }
    if (!f.seqSet && !ownMigration(f)) {
      violate("N2", at, at.actor() + "'s invalidate callback of " + l.sub() + " (cur_seq " + f.call.curSeq() + ") returns without "
          + "mmu_interval_set_seq: a fault path's read_retry cannot see the collision", about(l.sub()), f.step);
      return;
    }
    MirrorSettings m = mirrors.get(l.sub());
    if (m == null) return;
    long from = Math.max(f.call.start() >>> 12, m.start() >>> 12);
    long to = Math.min((f.call.start() >>> 12) + f.call.pages(), (m.start() >>> 12) + m.pages());
    Map<Integer, MirrorState.Entry> ptes = devicePtes.get(m.name());
    if (to - from <= ptes.size()) {
      for (long vpn = from; vpn < to; vpn++) {
        MirrorState.Entry e = ptes.get(m.index(vpn << 12));
        if (e != null) {
          stillValid(at, l, vpn, e);
          return;
        }
      }
    } else {
      for (Map.Entry<Integer, MirrorState.Entry> e : ptes.entrySet()) {
        long vpn = m.vpn(e.getKey());
        if (vpn >= from && vpn < to) {
          stillValid(at, l, vpn, e.getValue());
          return;
        }
      }
    }
    for (MirrorEvent.AccessIssued a : inFlight.get(m.name()).values()) {
      long vpn = a.va() >>> 12;
      if (vpn >= from && vpn < to) {
        violate("M2", at, at.actor() + "'s invalidate callback of " + l.sub() + " returns while the device's DMA to " + hex(a.va())
            + " (pfn " + hex(a.pfn()) + ") is still in flight: the zap must wait for the device to be done with the page", about(l.sub()));
        return;
      }
    }
  }

  /**
   * O1 (mlx5 umr.c: every XLT update of an mkey runs under its umem_mutex, one at a time): {@code cpu}'s
   * update or zap of {@code mirror}'s device table holds the mirror's lock, and no other queue's update
   * is in progress. Reports and returns true when it is not so.
   */
  private boolean deviceTableUpdate(StepInfo at, String mirror, String cpu, String what) {
    MirrorSettings m = mirrors.get(mirror);
    if (m == null) return false;
    if (!holds(cpu, m)) {
      violate("O1", at, cpu + " starts " + what + " " + mirror + "'s device table without holding '" + m.lock() + "' (held by " + locks.getOrDefault(
          m.lock(), "nobody") + "): two writers of the table can interleave", about(mirror));
      return true;
    }
    List<String> u = updating.getOrDefault(mirror, List.of());
    if (!u.isEmpty() && !u.contains(cpu)) {
      violate("O1", at, cpu + " starts " + what + " " + mirror + "'s device table while " + u.get(0) + "'s update of it is in progress: an older "
          + "update can land last", about(mirror));
      return true;
    }
    return false;
  }

  /**
   * A MIGRATE the mirror's own driver started (range->owner is its dev_private_owner): lib/test_hmm.c
   * and nouveau return at once without set_seq, since the migrating driver updates the device
   * itself. The device entries of the range must still be gone when it returns (M2).
   */
  private boolean ownMigration(Frame f) {
    MirrorSettings m = mirrors.get(f.call.sub());
    return f.call.event().equals("MIGRATE") && m != null && !m.owner().isEmpty() && m.owner().equals(f.call.owner());
  }

  /** A device that faults on the same page again and again, each fault resumed while nothing maps the page: the loop cannot progress (L2). */
  private void refault(StepInfo at, MirrorEvent.DeviceFaulted f) {
    MirrorSettings m = mirrors.get(f.mirror());
    int i = m.index(f.va());
    long[] r = refaults.computeIfAbsent(f.mirror() + "/" + i, k -> new long[] {0, -1}); // {faults in a row, address-space changes then}
    r[0] = r[1] == changes ? r[0] + 1 : 1; // an invalidation in between is progress (a benign refault after -EBUSY)
    r[1] = changes;
    long n = r[0];
    if (n == NO_PROGRESS_RETRIES + 1) {
      violate("L2", at, "the device's " + (f.write() ? "write" : "read") + " of " + hex(f.va()) + " through " + f.mirror() + " (" + f.cpu() + ") faulted "
          + n + " times in a row, each fault resumed with no device PTE written for the page and nothing changed in the address space: a fault "
          + "loop that cannot make progress (a "
          + "handler that resumes without mapping, e.g. its mkey lookup failing because the MR is being deregistered while the device still uses it)",
          about(f.mirror()));
    }
  }

  private void stillValid(StepInfo at, CpuEvent.CallbackLeft l, long vpn, MirrorState.Entry e) {
    violate("M2", at, at.actor() + "'s invalidate callback of " + l.sub() + " returns while the device PTE " + hex(vpn << 12) + " -> pfn "
        + hex(e.pfn()) + " is still valid: the CPU page table changes next and the page may be freed", about(l.sub()));
  }

  /** Violations this monitor can report, in the order docs/monitors.md lists them. */
  public static final List<String> IDS = List.of("N1", "N2", "N3", "N4", "N5", "N6", "O1", "M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9", "L1", "L2", "O6");
}
