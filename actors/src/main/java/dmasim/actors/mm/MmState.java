package dmasim.actors.mm;

import dmasim.protocol.Event;
import dmasim.protocol.JournalEvent;
import dmasim.protocol.MmEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A process address space as the kernel keeps it, folded from {@link MmEvent}s: VMAs, the CPU
 * page table, page frames with reference counts, and the mmu interval notifier core
 * (mm/mmu_notifier.c: struct mmu_notifier_subscriptions and the interval subscriptions), plus the
 * invalidations and hmm_range_fault walks in progress and the readers sleeping in read_begin.
 * Keys are virtual page numbers (va >> 12). Changed only by {@link #apply}.
 */
public final class MmState {
  /** User page frames come from here up (1 TiB), away from the memory actor's pages and the MMIO / P2P regions (from 4 GiB up). */
  public static final long FIRST_USER_PFN = 0x10000000;
  /** Device-private page frames (ZONE_DEVICE, MEMORY_DEVICE_PRIVATE) come from here up (4 TiB). */
  public static final long FIRST_DEVICE_PFN = 0x40000000;
  /** mm/mmu_notifier.c: subscriptions->invalidate_seq starts at 2 (even: idle). */
  public static final long FIRST_SEQ = 2;

  /** A VMA: pages [startVpn, startVpn + pages), readable, writable or not. */
  public record Vma(long startVpn, long pages, boolean write, boolean io) {
    public Vma(long startVpn, long pages, boolean write) {
      this(startVpn, pages, write, false);
    }

    boolean covers(long vpn) {
      return vpn >= startVpn && vpn < startVpn + pages;
    }
  }

  /** A CPU page-table entry: {@code devicePrivate} entries name their owner. */
  public record Pte(long pfn, boolean writable, boolean devicePrivate, String owner, boolean migration) {
    public Pte(long pfn, boolean writable, boolean devicePrivate, String owner) {
      this(pfn, writable, devicePrivate, owner, false);
    }
  }

  /** A page frame in use: its references (mappings), what memory it is, and its owner when device-private. */
  public record Frame(int refs, boolean devicePrivate, String owner) {}

  /** An interval subscription: its range in pages and its invalidate_seq (odd once set). */
  public static final class Sub {
    final String name;
    final long startVpn;
    final long pages;
    long seq;
    /** In the interval tree (callbacks are called); false before its insert, while the insert is deferred, after its remove. */
    boolean inTree;
    /** On the deferred list: an insert or a remove waiting for the last invalidation to end. */
    boolean deferredInsert;
    boolean deferredRemove;
    boolean removed;
    /** hmm_range_fault loads and stores the driver's own pfn list, entry by entry (see {@link MirrorSettings#sharedPfns()}). */
    boolean sharedPfns;

    Sub(String name, long startVpn, long pages, long seq, boolean inTree) {
      this.name = name;
      this.startVpn = startVpn;
      this.pages = pages;
      this.seq = seq;
      this.inTree = inTree;
    }

    public boolean inTree() {
      return inTree;
    }

    boolean intersects(long vpn, long n) {
      return vpn < startVpn + pages && startVpn < vpn + n;
    }

    public long seq() {
      return seq;
    }
  }

  /** What an invalidation is for: the operation whose page-table change waits for the callbacks. */
  public record Inv(long id, String initiator, String event, long startVpn, long pages, boolean blockable, String owner, long curSeq,
      List<String> subs, int called, int returned, boolean failed, String call, boolean flag, long walk, dmasim.protocol.MmCommand after) {
    Inv next(int called, int returned, boolean failed) {
      return new Inv(id, initiator, event, startVpn, pages, blockable, owner, curSeq, subs, called, returned, failed, call, flag, walk, after);
    }
  }

  /** An hmm_range_fault in progress: the page it is at and the words written so far ({@code restart}: re-check the seq first). */
  public static final class Walk {
    final long id;
    final String cpu;
    final String sub;
    final long seq;
    final long startVpn;
    final long pages;
    final long defaultFlags;
    final long mask;
    final String owner;
    final long[] words;
    int index;
    boolean restart;

    Walk(MmEvent.WalkStarted w) {
      this.id = w.walk();
      this.cpu = w.cpu();
      this.sub = w.sub();
      this.seq = w.seq();
      this.startVpn = w.start() >>> 12;
      this.pages = w.pages();
      this.defaultFlags = w.defaultFlags();
      this.mask = w.pfnFlagsMask();
      this.owner = w.owner();
      this.words = w.input().stream().mapToLong(Long::longValue).toArray();
    }

    public List<Long> words() {
      List<Long> out = new ArrayList<>(words.length);
      for (long w : words) out.add(w);
      return out;
    }
  }

  /** A reader sleeping in mmu_interval_read_begin until the core's seq moves past {@code seq}. */
  public record Waiter(String cpu, String sub, long seq) {}

  final TreeMap<Long, Vma> vmas = new TreeMap<>();
  /** Page-table entries written since the start; the populated VMAs' own entries are implicit (see {@link Populated}). */
  final HashMap<Long, Pte> ptes = new HashMap<>();
  final HashMap<Long, Frame> frames = new HashMap<>();
  /**
   * The pages of the VMAs populated at the start, kept implicitly so that an address space of 10^5
   * pages costs nothing to set up: page {@code startVpn + i} maps frame {@code firstPfn + i} (one
   * reference), until its entry or its frame is changed.
   */
  record Populated(long startVpn, long pages, long firstPfn, boolean write, boolean p2p) {}

  final List<Populated> populated = new ArrayList<>();
  /** Pages of populated VMAs whose implicit entry was cleared or overwritten, and frames of them whose implicit reference changed. */
  final java.util.HashSet<Long> goneVpns = new java.util.HashSet<>();
  final java.util.HashSet<Long> goneFrames = new java.util.HashSet<>();
  long implicitPages;
  /** Freed system frames, lowest first (a freed frame is soon reused, as the page allocator's hot lists make likely). */
  final TreeSet<Long> freeFrames = new TreeSet<>();
  long nextFrame = FIRST_USER_PFN;
  final TreeSet<Long> freeDeviceFrames = new TreeSet<>();
  long nextDeviceFrame = FIRST_DEVICE_PFN;
  long seq = FIRST_SEQ;
  int active;
  final java.util.LinkedHashMap<String, Sub> subs = new java.util.LinkedHashMap<>();
  final TreeMap<Long, Inv> invs = new TreeMap<>();
  final TreeMap<Long, Walk> walks = new TreeMap<>();
  final List<Waiter> waiters = new ArrayList<>();
  /** The invalidation of the memory operation holding mmap_lock for writing (0: none). */
  long writer;
  /** Removes waiting for the core's seq to move past the value they read: (cpu, sub, seq). */
  final List<MmEvent.SubRemoveWaits> removeWaiters = new ArrayList<>();
  /** Migrations between their setup and their finalize: id -> (toDevice, owner) by the invalidation that set them up; and who waits for each. */
  final TreeMap<Long, Inv> migrations = new TreeMap<>();
  final List<MmEvent.MigrationWaits> migrationWaiters = new ArrayList<>();
  /** Calls waiting for mmap_lock, in order. */
  final List<MmEvent.MmapLockWaits> lockWaiters = new ArrayList<>();
  long nextInv = 1;
  /** Per sender, how many envelopes each reclaim rule selected. */
  final HashMap<String, long[]> reclaimMatches = new HashMap<>();
  long nextWalk = 1;
  boolean exited;

  /** The address space of {@code settings} before anything ran: its subscriptions inserted (seq = core seq - 1, mmu_interval_notifier_insert on an idle mm). */
  public MmState(MmSettings settings) {
    for (MmSettings.Sub s : settings.subs()) {
      Sub sub = new Sub(s.name(), s.start() >>> 12, s.pages(), s.inserted() ? seq - 1 : 0, s.inserted());
      sub.sharedPfns = s.sharedPfns();
      subs.put(s.name(), sub);
    }
  }

  public long coreSeq() {
    return seq;
  }

  public int activeInvalidations() {
    return active;
  }

  public Sub sub(String name) {
    Sub s = subs.get(name);
    if (s == null) throw new IllegalArgumentException("no interval subscription '" + name + "'");
    return s;
  }

  public Vma vma(long vpn) {
    Map.Entry<Long, Vma> e = vmas.floorEntry(vpn);
    return e != null && e.getValue().covers(vpn) ? e.getValue() : null;
  }

  public Pte pte(long vpn) {
    Pte p = ptes.get(vpn);
    if (p != null || populated.isEmpty() || goneVpns.contains(vpn)) return p;
    for (Populated r : populated) if (vpn >= r.startVpn() && vpn < r.startVpn() + r.pages()) return new Pte(r.firstPfn() + vpn - r.startVpn(), r.write(), false, "");
    return null;
  }

  public Frame frame(long pfn) {
    Frame f = frames.get(pfn);
    if (f != null || populated.isEmpty() || goneFrames.contains(pfn)) return f;
    for (Populated r : populated) if (pfn >= r.firstPfn() && pfn < r.firstPfn() + r.pages()) return new Frame(1, false, r.p2p() ? "p2p" : "");
    return null;
  }

  /** Registers a VMA's pages as present from the start (implicitly: nothing per page). */
  void populate(long startVpn, long pages, boolean write) {
    populated.add(new Populated(startVpn, pages, nextFrame, write, false));
    nextFrame += pages;
    implicitPages += pages;
  }

  /** Registers a VMA's pages as a P2P BAR's pages from {@code firstPfn}, present from the start. */
  void populateP2p(long startVpn, long pages, boolean write, long firstPfn) {
    populated.add(new Populated(startVpn, pages, firstPfn, write, true));
    implicitPages += pages;
  }

  private boolean implicitVpn(long vpn) {
    for (Populated r : populated) if (vpn >= r.startVpn() && vpn < r.startVpn() + r.pages()) return true;
    return false;
  }

  private boolean implicitFrame(long pfn) {
    for (Populated r : populated) if (pfn >= r.firstPfn() && pfn < r.firstPfn() + r.pages()) return true;
    return false;
  }

  public long mappedPages() {
    return ptes.size() + implicitPages - goneVpns.size();
  }

  /** The {@code count} system frames an allocation would get, in order, without taking them. */
  List<Long> peekFrames(int count, boolean device) {
    List<Long> out = new ArrayList<>(count);
    for (long p : device ? freeDeviceFrames : freeFrames) {
      if (out.size() == count) return out;
      out.add(p);
    }
    for (long p = device ? nextDeviceFrame : nextFrame; out.size() < count; p++) out.add(p);
    return out;
  }

  /** The subscriptions intersecting [vpn, vpn + pages), in insertion order (the interval tree's iteration is by start; ours is fixed). */
  List<String> intersecting(long vpn, long pages) {
    List<String> out = new ArrayList<>();
    for (Sub s : subs.values()) if (s.inTree && s.intersects(vpn, pages)) out.add(s.name);
    return out;
  }

  /** The PTEs of [vpn, vpn + pages), by page, in order. */
  TreeMap<Long, Pte> ptesIn(long vpn, long pages) {
    TreeMap<Long, Pte> out = new TreeMap<>();
    if (pages <= ptes.size() + implicitPages) {
      for (long v = vpn; v < vpn + pages; v++) {
        Pte p = pte(v);
        if (p != null) out.put(v, p);
      }
      return out;
    }
    for (Map.Entry<Long, Pte> e : ptes.entrySet()) if (e.getKey() >= vpn && e.getKey() < vpn + pages) out.put(e.getKey(), e.getValue());
    for (Populated r : populated) {
      for (long v = Math.max(vpn, r.startVpn()); v < Math.min(vpn + pages, r.startVpn() + r.pages()); v++) {
        if (!goneVpns.contains(v) && !ptes.containsKey(v)) out.put(v, new Pte(r.firstPfn() + v - r.startVpn(), r.write(), false, ""));
      }
    }
    return out;
  }

  /** One line per part of the state, for {@code dmasim inspect}. */
  public List<String> describe() {
    List<String> out = new ArrayList<>();
    out.add(String.format(java.util.Locale.ROOT, "notifier: invalidate_seq %d (%s), %d invalidation(s) active", seq, (seq & 1) == 0 ? "idle"
        : "invalidating", active));
    subs.values().forEach(s -> out.add(String.format(java.util.Locale.ROOT, "subscription %s: [0x%x, 0x%x) seq %d%s", s.name, s.startVpn << 12,
        (s.startVpn + s.pages) << 12, s.seq, s.inTree ? (s.deferredRemove ? " (remove deferred)" : "") : s.deferredInsert ? " (insert deferred)"
        : s.removed ? " (removed)" : " (not inserted)")));
    removeWaiters.forEach(w -> out.add("mmu_interval_notifier_remove of " + w.sub() + " by " + w.cpu() + " waits (seq " + w.seq() + ")"));
    vmas.values().forEach(v -> out.add(String.format(java.util.Locale.ROOT, "vma [0x%x, 0x%x) %s", v.startVpn() << 12, (v.startVpn() + v.pages())
        << 12, (v.write() ? "rw" : "r") + (v.io() ? " VM_IO|VM_PFNMAP" : ""))));
    out.add(mappedPages() + " page(s) mapped");
    ptesIn(0, MmLogic.ALL_PAGES).entrySet().stream().limit(64).forEach(e -> out.add(String.format(java.util.Locale.ROOT, "pte 0x%x -> pfn 0x%x %s%s",
        e.getKey() << 12, e.getValue().pfn(), e.getValue().writable() ? "rw" : "r", e.getValue().devicePrivate() ? " device-private("
        + e.getValue().owner() + ")" : e.getValue().migration() ? " migration entry" : "")));
    migrations.keySet().forEach(id -> out.add("migration " + id + " between setup and finalize"));
    invs.values().forEach(i -> out.add(String.format(java.util.Locale.ROOT, "invalidation %d %s [0x%x, 0x%x) by %s: cur_seq %d, %d of %d callback(s) "
        + "returned", i.id(), i.event(), i.startVpn() << 12, (i.startVpn() + i.pages()) << 12, i.initiator(), i.curSeq(), i.returned(), i.subs()
        .size())));
    walks.values().forEach(w -> out.add(String.format(java.util.Locale.ROOT, "hmm_range_fault %d by %s on %s: page %d of %d, seq %d", w.id, w.cpu,
        w.sub, w.index, w.pages, w.seq)));
    if (writer != 0) out.add("mmap_lock held for writing by invalidation " + writer);
    lockWaiters.forEach(w -> out.add(w.call() + " of " + w.cpu() + " waits for mmap_lock"));
    waiters.forEach(w -> out.add("read_begin of " + w.sub() + " by " + w.cpu() + " sleeps (seq " + w.seq() + ")"));
    return out;
  }

  public MmState apply(Event event) {
    if (event instanceof JournalEvent) return this;
    MmEvent e = (MmEvent) event;
    if (e instanceof MmEvent.VmaAdded v) {
      vmas.put(v.start() >>> 12, new Vma(v.start() >>> 12, v.pages(), v.write(), v.io()));
    } else if (e instanceof MmEvent.VmaRemoved v) {
      removeVmas(v.start() >>> 12, v.pages());
    } else if (e instanceof MmEvent.VmaProtected v) {
      long from = v.start() >>> 12;
      long to = from + v.pages();
      List<Vma> touched = new ArrayList<>();
      for (Vma x : vmas.values()) if (x.startVpn() < to && from < x.startVpn() + x.pages()) touched.add(x);
      removeVmas(from, v.pages());
      for (Vma x : touched) {
        long a = Math.max(from, x.startVpn());
        long b = Math.min(to, x.startVpn() + x.pages());
        vmas.put(a, new Vma(a, b - a, v.write(), x.io()));
      }
    } else if (e instanceof MmEvent.PteSet p) {
      long vpn = p.va() >>> 12;
      if (ptes.put(vpn, new Pte(p.pfn(), p.writable(), p.kind().equals("device-private"), p.owner(), p.kind().equals("migration"))) == null
          && implicitVpn(vpn)) {
        goneVpns.add(vpn);
      }
    } else if (e instanceof MmEvent.PteCleared p) {
      long vpn = p.va() >>> 12;
      if (ptes.remove(vpn) == null && implicitVpn(vpn)) goneVpns.add(vpn);
    } else if (e instanceof MmEvent.FrameAllocated f) {
      boolean device = f.kind().equals("device-private");
      TreeSet<Long> free = device ? freeDeviceFrames : freeFrames;
      if (!free.remove(f.pfn())) {
        if (device) nextDeviceFrame = Math.max(nextDeviceFrame, f.pfn() + 1);
        else nextFrame = Math.max(nextFrame, f.pfn() + 1);
      }
      frames.put(f.pfn(), new Frame(1, device, f.owner()));
    } else if (e instanceof MmEvent.FrameReferenced r) {
      Frame f = frame(r.pfn());
      frames.put(r.pfn(), new Frame(r.refs(), f.devicePrivate(), f.owner()));
      if (implicitFrame(r.pfn())) goneFrames.add(r.pfn());
    } else if (e instanceof MmEvent.FrameFreed f) {
      Frame was = frames.remove(f.pfn());
      if (implicitFrame(f.pfn())) goneFrames.add(f.pfn());
      if (f.kind().equals("p2p")) return this; // a BAR's page: it goes back to its provider, not to the page allocator
      if (was != null && was.devicePrivate()) freeDeviceFrames.add(f.pfn());
      else freeFrames.add(f.pfn());
    } else if (e instanceof MmEvent.InvalidationStarted s) {
      active++;
      seq = s.coreSeq();
      nextInv = Math.max(nextInv, s.id() + 1);
      if (MmLogic.WRITERS.contains(s.call())) writer = s.id();
      invs.put(s.id(), new Inv(s.id(), s.initiator(), s.event(), s.start() >>> 12, s.pages(), s.blockable(), s.owner(), s.coreSeq(), s.subs(), 0,
          0, false, s.call(), s.flag(), s.walk(), s.after()));
    } else if (e instanceof MmEvent.CallbackCalled c) {
      Inv i = invs.get(c.id());
      invs.put(c.id(), i.next(i.called() + 1, i.returned(), i.failed()));
    } else if (e instanceof MmEvent.CallbackFinished c) {
      Inv i = invs.get(c.id());
      invs.put(c.id(), i.next(i.called(), i.returned() + 1, i.failed() || !c.ok()));
    } else if (e instanceof MmEvent.InvalidationEnded x) {
      active--;
      seq = x.coreSeq();
      Inv ended = invs.remove(x.id());
      if (ended != null && ended.call().equals("migrate") && !x.failed()) migrations.put(x.id(), ended);
      if (writer == x.id()) writer = 0;
    } else if (e instanceof MmEvent.SeqSet s) {
      sub(s.sub()).seq = s.seq();
    } else if (e instanceof MmEvent.ReadBegun r) {
      waiters.removeIf(w -> w.cpu().equals(r.cpu()) && w.sub().equals(r.sub()));
    } else if (e instanceof MmEvent.ReadBeginWaits w) {
      waiters.add(new Waiter(w.cpu(), w.sub(), w.seq()));
    } else if (e instanceof MmEvent.WalkStarted w) {
      walks.put(w.walk(), new Walk(w));
      nextWalk = Math.max(nextWalk, w.walk() + 1);
    } else if (e instanceof MmEvent.WalkStep w) {
      Walk k = walks.get(w.walk());
      k.words[w.index()] = w.word();
      k.restart = w.action().equals("fault") || w.action().equals("migration-wait");
      k.index = k.restart ? w.index() : w.index() + 1;
    } else if (e instanceof MmEvent.WalkEnded w) {
      walks.remove(w.walk());
    } else if (e instanceof MmEvent.SubInserted i) {
      Sub sub = sub(i.sub());
      sub.seq = i.seq();
      sub.removed = false;
      if (i.deferred()) sub.deferredInsert = true;
      else sub.inTree = true;
      seq = i.coreSeq();
    } else if (e instanceof MmEvent.SubRemoveWaits w) {
      Sub sub = sub(w.sub());
      sub.deferredRemove = true;
      removeWaiters.add(w);
    } else if (e instanceof MmEvent.SubRemoved r) {
      Sub sub = sub(r.sub());
      if (sub.deferredInsert) sub.deferredInsert = false; // a pending insert cancelled
      if (!sub.deferredRemove) sub.inTree = false;
      sub.removed = true;
      removeWaiters.removeIf(w -> w.sub().equals(r.sub()));
    } else if (e instanceof MmEvent.DeferredApplied a) {
      for (String n : a.inserted()) {
        sub(n).inTree = true;
        sub(n).deferredInsert = false;
      }
      for (String n : a.removed()) {
        sub(n).inTree = false;
        sub(n).deferredRemove = false;
      }
    } else if (e instanceof MmEvent.MigrationWaits w) {
      migrationWaiters.add(w);
    } else if (e instanceof MmEvent.MigrationFinished f) {
      migrations.remove(f.migration());
      migrationWaiters.removeIf(w -> w.migration() == f.migration());
    } else if (e instanceof MmEvent.ReclaimDecided r) {
      reclaimMatches.computeIfAbsent(r.from(), k -> new long[64])[r.rule()] = r.match();
    } else if (e instanceof MmEvent.MmapLockWaits w) {
      lockWaiters.add(w);
    } else if (e instanceof MmEvent.MmapLockResumed r) {
      lockWaiters.subList(0, r.count()).clear();
    } else if (e instanceof MmEvent.MmCallFinished c) {
      if (c.call().equals("exit")) exited = true;
    }
    // FrameDirtied, ReadRetried change nothing the model keeps
    return this;
  }

  private void removeVmas(long from, long pages) {
    long to = from + pages;
    List<Vma> hit = new ArrayList<>();
    for (Vma x : vmas.values()) if (x.startVpn() < to && from < x.startVpn() + x.pages()) hit.add(x);
    for (Vma x : hit) {
      vmas.remove(x.startVpn());
      if (x.startVpn() < from) vmas.put(x.startVpn(), new Vma(x.startVpn(), from - x.startVpn(), x.write(), x.io()));
      long end = x.startVpn() + x.pages();
      if (end > to) vmas.put(to, new Vma(to, end - to, x.write(), x.io()));
    }
  }
}
