package dmasim.actors.iommu;

import dmasim.actors.state.FlushQueue;
import dmasim.actors.state.Iotlb;
import dmasim.actors.state.IovaAllocator;
import dmasim.actors.state.PageTable;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuEvent.Continuation;
import dmasim.protocol.JournalEvent;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Everything an IommuUnit owns, folded from its events. Persisted (lives in RAM, survives a reset):
 * the IOVA allocator with each allocation's owner, the I/O page table, the flush-queue rings and
 * their counters, the timer flag, the per-device 32-bit workaround. Volatile (hardware, lost on
 * reset): the IOTLB and the invalidation queue with what waits on it.
 *
 * <p>Invariants: I1 (allocator), I4 (finish <= start), I5 (rings). Mutated only by {@link #apply}.
 */
public final class IommuState {
  /** An invalidation command in the hardware queue. */
  public record Pending(long id, String scope, long startPfn, long pages, int acksLeft, Continuation then) {}

  final IommuSettings settings;
  /** Physical memory: what a physical address is (RAM, MMIO, a P2P BAR). */
  final dmasim.actors.memory.MemorySettings memory;
  final IovaAllocator allocator;
  final PageTable pageTable = new PageTable();
  final TreeMap<Long, String> owners = new TreeMap<>(); // allocation base pfn -> owner
  final List<FlushQueue> rings = new ArrayList<>();
  final Set<DeviceId> dac = new HashSet<>(); // devices whose pci_32bit_workaround was cleared
  long startCnt;
  long finishCnt;
  boolean timerOn;
  boolean tornDown;
  boolean caching; // the attached IOMMUs cache not-present entries
  final SlotPool slots = new SlotPool(IommuSettings.SWIOTLB_PFN, IommuSettings.SWIOTLB_SLOTS); // swiotlb pool
  // dma-direct mappings (identity, never in the page table): phys pfn -> how many live mappings
  final dmasim.actors.state.LongLongMap directMapped = new dmasim.actors.state.LongLongMap(64);
  final TreeMap<Long, IommuEvent.Bounced> bounceInfo = new TreeMap<>(); // iova pfn -> what was bounced
  // allocations whose dma_iova_state has DMA_IOVA_USE_SWIOTLB set: sticky until the IOVA is freed
  final java.util.TreeSet<Long> swiotlbStates = new java.util.TreeSet<>();
  boolean syncMapFlag; // the domain flushes on map (iotlb_sync_map)
  /** The key of a caller's count of an operation's calls. */
  static String callKey(String caller, String op) {
    return caller + "/" + op;
  }

  final java.util.TreeMap<String, Long> calls = new java.util.TreeMap<>(); // fault-plan call counters per caller and operation
  long nextInvalidation = 1;
  // The cookie's iova_domain (iommu_dma_init_domain): start_pfn != 0, the devices attached to the
  // domain, initialisations in progress by id, the cookie mutex's holder (ac9a5d522bb8) and its sleepers.
  boolean iovadReady;
  final Set<DeviceId> attached = new HashSet<>();
  final TreeMap<Long, IommuEvent.DomainInitStarted> initsInFlight = new TreeMap<>();
  String initMutexHolder;
  final List<IommuEvent.AttachWaiting> initWaiters = new ArrayList<>();
  long nextInit = 1;
  // volatile
  Iotlb iotlb;
  final TreeMap<Long, Pending> pending = new TreeMap<>();
  // PTE clears not yet visible to the page walker (missing barrier, R1): iova pfn -> old entry. Volatile.
  final dmasim.actors.state.LongLongMap pendingClears = new dmasim.actors.state.LongLongMap(64);

  public IommuState(IommuSettings settings) {
    this(settings, dmasim.actors.memory.MemorySettings.of(0));
  }

  public IommuState(IommuSettings settings, dmasim.actors.memory.MemorySettings memory) {
    this.settings = settings;
    this.memory = memory;
    this.allocator = new IovaAllocator(1, settings.apertureEndPfn());
    for (long[] r : settings.reserved()) allocator.reserve(r[0], r[1]);
    for (int i = 0; i < settings.flushQueues(); i++) rings.add(new FlushQueue(settings.fqSize()));
    this.iotlb = new Iotlb(settings.iotlbCapacity());
    this.caching = settings.cachingMode();
    this.syncMapFlag = settings.cachingMode();
    settings.devices().forEach((dev, spec) -> {
      if (spec.attachAtStart()) attached.add(dev);
    });
    // A device attached before the run initialised the IOVA domain then; with every device attached
    // by a program step, the first such attach finds start_pfn == 0.
    this.iovadReady = settings.devices().isEmpty() || !attached.isEmpty();
  }

  /** Whether {@code dev} is attached to the DMA domain (may use the DMA API). */
  public boolean attached(DeviceId dev) {
    return attached.contains(dev);
  }

  /** Whether the IOVA domain is initialised (start_pfn != 0). */
  public boolean iovaDomainReady() {
    return iovadReady;
  }

  public IommuSettings settings() {
    return settings;
  }

  public PageTable pageTable() {
    return pageTable;
  }

  public IovaAllocator allocator() {
    return allocator;
  }

  public Iotlb iotlb() {
    return iotlb;
  }

  public List<FlushQueue> rings() {
    return rings;
  }

  public long startCnt() {
    return startCnt;
  }

  public long finishCnt() {
    return finishCnt;
  }

  public int pendingInvalidations() {
    return pending.size();
  }

  /** A reset (or a restart of the actor) loses what the hardware held: the IOTLB and the invalidation queue. */
  public IommuState lostVolatileState() {
    iotlb = new Iotlb(settings.iotlbCapacity());
    pending.clear();
    pendingClears.clear();
    return this;
  }

  /** What the IOMMU's page walker sees at {@code iovaPfn}: the page table, or a clear that has not landed yet. */
  public long walk(long iovaPfn) {
    long e = pageTable.lookup(iovaPfn);
    return e >= 0 ? e : pendingClears.get(iovaPfn, -1);
  }

  public IommuState apply(Event event) {
    if (event instanceof JournalEvent) return this;
    IommuEvent e = (IommuEvent) event;
    if (e instanceof IommuEvent.IovaAllocated a) {
      allocator.insert(a.basePfn(), a.pages());
      owners.put(a.basePfn(), a.owner());
    } else if (e instanceof IommuEvent.IovaAllocFailed f) {
      if (f.reason().startsWith("32-bit")) dac.add(f.dev());
    } else if (e instanceof IommuEvent.IovaFreed f) {
      allocator.remove(f.basePfn());
      owners.remove(f.basePfn());
      swiotlbStates.remove(f.basePfn());
    } else if (e instanceof IommuEvent.RangeLinked l && l.api().equals(DmaDirect.MAP)) {
      for (long p = l.iovaPfn(); p < l.iovaPfn() + l.pages(); p++) directMapped.add(p, 1);
    } else if (e instanceof IommuEvent.RangeLinked l) {
      for (long p = l.iovaPfn(); p < l.iovaPfn() + l.pages(); p++) pendingClears.remove(p);
      pageTable.map(l.iovaPfn(), l.physPfn(), l.pages(), l.prot());
    } else if (e instanceof IommuEvent.PteClearPending p) {
      for (long q = p.iovaPfn(); q < p.iovaPfn() + p.pages(); q++) {
        long old = pageTable.lookup(q);
        if (old >= 0) pendingClears.put(q, old);
      }
    } else if (e instanceof IommuEvent.PteClearVisible v) {
      for (long q = v.iovaPfn(); q < v.iovaPfn() + v.pages(); q++) pendingClears.remove(q);
    } else if (e instanceof IommuEvent.PtesCleared c && c.api().equals(DmaDirect.UNMAP)) {
      for (long p = c.iovaPfn(); p < c.iovaPfn() + c.pages(); p++) directMapped.add(p, -1);
    } else if (e instanceof IommuEvent.PtesCleared c) {
      pageTable.clear(c.iovaPfn(), c.pages());
    } else if (e instanceof IommuEvent.IotlbFilled f) {
      iotlb.fill(f.iovaPfn(), f.present() ? (f.physPfn() << 8) | f.prot().bits() : Iotlb.NOT_PRESENT);
    } else if (e instanceof IommuEvent.IotlbEvicted v) {
      iotlb.evict(v.iovaPfn());
    } else if (e instanceof IommuEvent.InvalidationPosted p) {
      pending.put(p.id(), new Pending(p.id(), p.scope(), p.startPfn(), p.pages(), p.acks(), p.then()));
      nextInvalidation = Math.max(nextInvalidation, p.id() + 1);
    } else if (e instanceof IommuEvent.AtcInvalidationAcked a) {
      Pending p = pending.get(a.id());
      if (p != null) pending.put(a.id(), new Pending(p.id(), p.scope(), p.startPfn(), p.pages(), p.acksLeft() - 1, p.then()));
    } else if (e instanceof IommuEvent.InvalidationCompleted c) {
      pending.remove(c.id());
      if (!c.scope().equals("atc")) iotlb.invalidate(c.startPfn(), c.scope().equals("all") ? 0 : c.pages());
    } else if (e instanceof IommuEvent.FlushQueued q) {
      rings.get(q.queue()).append(new FlushQueue.Entry(q.owner(), q.basePfn(), q.pages(), q.counter(), q.freedTables()));
    } else if (e instanceof IommuEvent.FlushQueueEntryFreed f) {
      rings.get(f.queue()).removeHead(f.basePfn());
    } else if (e instanceof IommuEvent.FlushStarted s) {
      startCnt = s.startCnt();
    } else if (e instanceof IommuEvent.FlushFinished f) {
      finishCnt = f.finishCnt();
    } else if (e instanceof IommuEvent.FlushTimerArmed) {
      timerOn = true;
    } else if (e instanceof IommuEvent.FlushTimerFired) {
      timerOn = false;
    } else if (e instanceof IommuEvent.DomainTornDown) {
      tornDown = true;
    } else if (e instanceof IommuEvent.Bounced b) {
      slots.take(b.slotPfn());
      bounceInfo.put(b.iovaPfn(), b);
      long base = allocator.baseContaining(b.iovaPfn());
      if (base >= 0) swiotlbStates.add(base);
    } else if (e instanceof IommuEvent.BounceReleased r) {
      bounceInfo.remove(r.iovaPfn());
      slots.give(r.slotPfn());
    } else if (e instanceof IommuEvent.IommuAttached a) {
      caching |= a.cachingMode();
    } else if (e instanceof IommuEvent.SyncMapFlagSet) {
      syncMapFlag = true;
    } else if (e instanceof IommuEvent.DomainInitStarted st) {
      initsInFlight.put(st.id(), st);
      nextInit = Math.max(nextInit, st.id() + 1);
      if (st.locked()) initMutexHolder = st.attacher();
    } else if (e instanceof IommuEvent.DomainInitialised i) {
      iovadReady = true;
      IommuEvent.DomainInitStarted st = initsInFlight.remove(i.id());
      if (st != null && st.locked()) initMutexHolder = null;
    } else if (e instanceof IommuEvent.AttachWaiting w) {
      initWaiters.add(w);
    } else if (e instanceof IommuEvent.DeviceAttached a) {
      attached.add(a.dev());
      initWaiters.removeIf(w -> w.dev().equals(a.dev()) && w.attacher().equals(a.attacher()));
    } else if (e instanceof IommuEvent.FaultDecided f) {
      calls.put(callKey(f.caller(), f.op()), f.call());
    }
    // RangeSynced, ApiReturned, SyncPerformed, PageTablesFreed, DmaAccessed, DmaFaulted, MapFailed: facts only.
    return this;
  }
}
