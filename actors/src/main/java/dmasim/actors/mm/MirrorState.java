package dmasim.actors.mm;

import dmasim.protocol.Event;
import dmasim.protocol.JournalEvent;
import dmasim.protocol.MirrorEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.TreeMap;

/**
 * A mirror's device side, folded from {@link MirrorEvent}s: the device page table, the driver's
 * hmm_dma_map (IOVA window, the DMA-mapped slots), device accesses in flight, the device's
 * unresolved page faults, and the driver calls waiting for the DMA API. Changed only by {@link #apply}.
 */
public final class MirrorState {
  /** A device PTE: the frame, whether writable, and the DMA address the device uses (when {@code dma}). */
  public record Entry(long pfn, boolean writable, boolean dma, long addr) {}

  /** A DMA-mapped slot (HMM_PFN_DMA_MAPPED set): the frame it maps and its address. */
  public record Slot(long pfn, long addr, long p2pFlags) {
    public Slot(long pfn, long addr) {
      this(pfn, addr, 0);
    }
  }

  /** A device access through the DMA API in flight: who asked, which page. */
  public record Access(String cpu, int index, long va, boolean write) {}

  /** A device fault waiting for the driver. */
  public record Fault(long token, long va, boolean write) {}

  /** A zap that waits for accesses in flight through its pages. */
  public record ZapWait(String cpu, int first, int pages) {}

  final MirrorSettings cfg;
  final HashMap<Integer, Entry> ptes = new HashMap<>();
  final HashMap<Integer, Slot> slots = new HashMap<>();
  /** hmm_dma_map_alloc done: IOVA window {@code window} (0: per-page dma_map_page with a dma_list). */
  boolean allocated;
  long window;
  final TreeMap<Long, Access> inFlight = new TreeMap<>();
  final HashMap<String, Fault> faults = new HashMap<>();
  /** Accesses stalled on a fault posted to the fault queue, by token: who waits (a page-fault handler resumes them). */
  final TreeMap<Long, Access> stalled = new TreeMap<>();
  /** The RDMA mkey over this table was revoked or freed: UMRs of it complete in error. */
  boolean mkeyDead;
  final List<ZapWait> zapWaits = new ArrayList<>();
  final ArrayDeque<MirrorEvent.CallStarted> calls = new ArrayDeque<>();
  /** DMA API calls of the head call answered so far. */
  int done;
  /** Answers of the head call so far (addresses). */
  final List<Long> answers = new ArrayList<>();
  long nextTag = 1;
  long nextToken = 1;
  /** The driver's hmm_dma_map pfn list, when the walker writes into it ({@link MirrorSettings#sharedPfns()}): one word per page. */
  final long[] words;
  /**
   * The hmm_dma_map's dma_list of a shared pfn list in page mode (no IOVA window): the address each
   * entry was last mapped at. hmm_dma_unmap_pfn does not clear it, and hmm_dma_map_pfn returns it
   * for an entry whose DMA_MAPPED bit is set.
   */
  final long[] dmaList;

  public MirrorState(MirrorSettings cfg) {
    this.cfg = cfg;
    this.words = cfg.sharedPfns() ? new long[(int) cfg.pages()] : new long[0];
    this.dmaList = cfg.sharedPfns() ? new long[(int) cfg.pages()] : new long[0];
  }

  public List<String> describe() {
    List<String> out = new ArrayList<>();
    out.add("hmm_dma_map: " + (!cfg.dma() ? "none (the device uses pfns)" : !allocated ? "not allocated" : window != 0 ? String.format(
        java.util.Locale.ROOT, "IOVA window 0x%x, %d slot(s) DMA_MAPPED", window, slots.size()) : slots.size() + " page(s) dma_map_page'd"));
    new TreeMap<>(ptes).forEach((i, e) -> out.add(String.format(java.util.Locale.ROOT, "device pte 0x%x -> pfn 0x%x %s%s", cfg.vpn(i) << 12, e.pfn(),
        e.writable() ? "rw" : "r", e.dma() ? String.format(java.util.Locale.ROOT, " via 0x%x", e.addr()) : "")));
    inFlight.forEach((t, a) -> out.add(String.format(java.util.Locale.ROOT, "access 0x%x by the device in flight (tag %d)", a.va(), t)));
    faults.forEach((c, f) -> out.add(String.format(java.util.Locale.ROOT, "device fault %d at 0x%x waits for %s", f.token(), f.va(),
        stalled.containsKey(f.token()) ? "its handler (" + c + "'s access stalls)" : c)));
    calls.forEach(c -> out.add(c.call() + " of " + c.cpu() + " waits for " + (c.ops().size()) + " DMA API call(s)"));
    return out;
  }

  public MirrorState apply(Event event) {
    if (event instanceof JournalEvent) return this;
    MirrorEvent e = (MirrorEvent) event;
    if (e instanceof MirrorEvent.DevicePteWritten w) {
      ptes.put(w.index(), new Entry(w.pfn(), w.writable(), w.dma(), w.addr()));
    } else if (e instanceof MirrorEvent.DevicePteZapped z) {
      ptes.remove(z.index());
    } else if (e instanceof MirrorEvent.AccessIssued a) {
      inFlight.put(a.tag(), new Access(a.cpu(), cfg.index(a.va()), a.va(), a.write()));
      nextTag = Math.max(nextTag, a.tag() + 1);
    } else if (e instanceof MirrorEvent.AccessCompleted c) {
      inFlight.remove(c.tag());
    } else if (e instanceof MirrorEvent.DeviceFaulted f) {
      faults.put(f.cpu(), new Fault(f.token(), f.va(), f.write()));
      nextToken = Math.max(nextToken, f.token() + 1);
      if (!cfg.faultQueue().isEmpty()) stalled.put(f.token(), new Access(f.cpu(), cfg.index(f.va()), f.va(), f.write()));
    } else if (e instanceof MirrorEvent.FaultResolved r) {
      faults.values().removeIf(f -> f.token() == r.token());
      stalled.remove(r.token());
    } else if (e instanceof MirrorEvent.ZapWaits w) {
      zapWaits.add(new ZapWait(w.cpu(), w.first(), w.pages()));
    } else if (e instanceof MirrorEvent.DmaMapAllocated a) {
      allocated = true;
      window = a.addr();
    } else if (e instanceof MirrorEvent.DmaMapFreed) {
      allocated = false;
      window = 0;
    } else if (e instanceof MirrorEvent.SlotMapped m) {
      slots.put(m.index(), new Slot(m.pfn(), m.addr(), m.p2pFlags()));
      if (dmaList.length > 0 && window == 0) dmaList[m.index()] = m.addr();
    } else if (e instanceof MirrorEvent.SlotUnmapped u) {
      slots.remove(u.index());
    } else if (e instanceof MirrorEvent.CallStarted c) {
      calls.addLast(c);
    } else if (e instanceof MirrorEvent.IoDone d) {
      done++;
      answers.add(d.value());
    } else if (e instanceof MirrorEvent.MkeyStateChanged k) {
      mkeyDead = !k.live();
    } else if (e instanceof MirrorEvent.WordWritten w) {
      words[w.index()] = w.word();
    } else if (e instanceof MirrorEvent.CallFinished f) {
      if (!calls.isEmpty() && calls.peekFirst().cpu().equals(f.cpu()) && calls.peekFirst().call().equals(f.call())) {
        calls.removeFirst();
        done = 0;
        answers.clear();
      }
      zapWaits.removeIf(z -> z.cpu().equals(f.cpu()) && f.call().equals("zap"));
    }
    return this;
  }
}
