package dmasim.actors.cpu;

import dmasim.protocol.CpuCommand;
import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceReply;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Errno;
import dmasim.protocol.Event;
import dmasim.protocol.IommuReply;
import dmasim.protocol.JournalEvent;
import dmasim.protocol.MemoryReply;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The registers of a CpuQueue running a driver program, folded from its events: program counter,
 * the call it waits for, named buffers, dma_iova_state objects (16 bytes each in the kernel:
 * addr and size), handle groups, sg tables, loop counters, completions. Small, so the logic
 * works on a {@link #copy()} and folds its own events as it decides. Persisted entirely.
 */
public final class CpuState {
  /** A dma_iova_state as the driver holds it, plus how much the driver linked from offset 0. */
  public record IovaState(long addr, long size, long offset0, long linked) {}

  /**
   * An sg table after dma_map_sg: the nents passed in and the dma segments written into it. After
   * dma_unmap_sg the segments stay in the table, as the dma_address fields of a real scatterlist
   * do ({@code live} false): a driver that hands them to a device again uses stale addresses.
   */
  public record SgTable(int nents, List<DmaSegment> mapped, boolean live) {
    SgTable unmapped() {
      return new SgTable(nents, mapped, false);
    }
  }

  final Program program;
  final int cpuIndex;
  int pc;
  String waiting;
  boolean started;
  boolean ended;
  boolean lastError;
  int lastErrno; // the errno of the last call (0 when it succeeded or returned no errno)
  long requests;
  long nextTag = 1;
  long lastTag = -1;
  /** How many awaits have been issued: names the wait an await timeout belongs to. */
  long awaits;
  /** How many sleeps have been issued: names the sleep a wake-up belongs to. */
  long sleeps;
  final TreeMap<String, List<Long>> buffers = new TreeMap<>();
  /** Buffers whose last allocation failed (the driver holds NULL for them). */
  final java.util.TreeSet<String> failedAllocations = new java.util.TreeSet<>();
  /** What each buffer's memory is to the kernel (absent: ordinary linear RAM), from its alloc step. */
  final TreeMap<String, dmasim.protocol.PageKind> kinds = new TreeMap<>();
  final TreeMap<String, IovaState> states = new TreeMap<>();
  final TreeMap<String, TreeMap<Integer, Long>> handles = new TreeMap<>();
  /** dma_addr_t values the driver still holds after unmapping them (what a stale descriptor carries). */
  final TreeMap<String, TreeMap<Integer, Long>> staleHandles = new TreeMap<>();
  final TreeMap<String, SgTable> sgs = new TreeMap<>();
  /** Coherent allocations by buffer name: the dma handle and size; kept after dma_free_coherent (a stale handle). */
  final TreeMap<String, Coherent> coherent = new TreeMap<>();

  /** A dma_alloc_coherent result as the driver holds it; {@code live} false after dma_free_coherent. */
  public record Coherent(long addr, long size, boolean live) {}
  final TreeMap<String, Long> counters = new TreeMap<>();
  final TreeMap<Long, Integer> completions = new TreeMap<>();
  /** Per mirror, the seq of the last mmu_interval_read_begin. */
  final TreeMap<String, Long> seqs = new TreeMap<>();
  /** Page-list mkeys this queue created: their MTT entries (DMA addresses), what a submit through the mkey uses. */
  final TreeMap<String, List<Long>> mkeys = new TreeMap<>();
  /** Per mirror, the pfn array of the last hmm_range_fault: the first address and the words. */
  final TreeMap<String, Walked> walked = new TreeMap<>();
  /** The locks this queue holds. */
  final java.util.TreeSet<String> locks = new java.util.TreeSet<>();
  /** The invalidate callback being run, or null. */
  Callback callback;

  /** The pfn array a walk left: for pages from {@code start}. */
  public record Walked(long start, List<Long> words) {}

  /** An invalidate callback in progress: what it was called with, and what the queue was doing before (the pc and call to go back to). */
  public record Callback(CpuEvent.CallbackEntered call, int returnPc, String returnWaiting) {}

  /** The work item being run, or null. */
  CpuEvent.WorkEntered work;

  public CpuState(Program program, int cpuIndex) {
    this.program = program;
    this.cpuIndex = cpuIndex;
  }

  public CpuState copy() {
    CpuState c = new CpuState(program, cpuIndex);
    c.pc = pc;
    c.waiting = waiting;
    c.started = started;
    c.ended = ended;
    c.lastError = lastError;
    c.lastErrno = lastErrno;
    c.requests = requests;
    c.nextTag = nextTag;
    c.lastTag = lastTag;
    c.awaits = awaits;
    c.sleeps = sleeps;
    c.buffers.putAll(buffers);
    c.failedAllocations.addAll(failedAllocations);
    c.kinds.putAll(kinds);
    c.states.putAll(states);
    handles.forEach((k, v) -> c.handles.put(k, new TreeMap<>(v)));
    staleHandles.forEach((k, v) -> c.staleHandles.put(k, new TreeMap<>(v)));
    c.sgs.putAll(sgs);
    c.coherent.putAll(coherent);
    c.counters.putAll(counters);
    c.completions.putAll(completions);
    c.seqs.putAll(seqs);
    c.mkeys.putAll(mkeys);
    c.walked.putAll(walked);
    c.callback = callback;
    c.work = work;
    c.locks.addAll(locks);
    return c;
  }

  public int pc() {
    return pc;
  }

  /** One line per object the queue holds: dma_iova_states, handle groups (mapped and stale), sg tables, buffers. */
  public List<String> objects() {
    List<String> out = new ArrayList<>();
    states.forEach((n, st) -> out.add(String.format(java.util.Locale.ROOT, "dma_iova_state '%s': addr 0x%x size %d linked %d%s", n, st.addr(),
        st.size(), st.linked(), st.size() == 0 ? " (dma_use_iova false)" : "")));
    java.util.TreeSet<String> groups = new java.util.TreeSet<>(handles.keySet());
    groups.addAll(staleHandles.keySet());
    for (String g : groups) {
      StringBuilder b = new StringBuilder("handles '" + g + "':");
      TreeMap<Integer, Long> all = new TreeMap<>(staleHandles.getOrDefault(g, new TreeMap<>()));
      all.putAll(handles.getOrDefault(g, new TreeMap<>()));
      all.forEach((seg, a) -> b.append(' ').append(seg).append('=').append(a == -1L ? "DMA_MAPPING_ERROR" : "0x" + Long.toHexString(a))
          .append(handles.getOrDefault(g, new TreeMap<>()).containsKey(seg) ? "" : " (unmapped)"));
      out.add(b.toString());
    }
    sgs.forEach((n, t) -> out.add("sg table '" + n + "': nents " + t.nents() + ", " + t.mapped().size() + " dma segment(s)"
        + (t.live() ? "" : " (unmapped)")));
    buffers.forEach((n, pfns) -> out.add("buffer '" + n + "': " + pfns.size() + " page(s) from phys pfn " + (pfns.isEmpty() ? "-" : pfns.get(0))));
    java.util.TreeSet<String> mirrors = new java.util.TreeSet<>(seqs.keySet());
    mirrors.addAll(walked.keySet());
    for (String m : mirrors) {
      StringBuilder b = new StringBuilder("mirror '" + m + "': read_begin seq " + seqs.getOrDefault(m, 0L));
      Walked w = walked.get(m);
      if (w != null) {
        b.append(String.format(java.util.Locale.ROOT, ", last walk from 0x%x:", w.start()));
        w.words().stream().limit(16).forEach(x -> b.append(' ').append(dmasim.protocol.HmmPfn.describe(x)).append(';'));
      }
      out.add(b.toString());
    }
    if (callback != null) {
      out.add("running " + callback.call().sub() + "'s invalidate callback of invalidation " + callback.call().inv() + " (" + callback.call().event()
          + ", cur_seq " + callback.call().curSeq() + (callback.call().blockable() ? "" : ", non-blockable") + ")");
    }
    if (work != null) out.add("running work item " + work.id() + " (" + work.kind() + " for " + work.mr() + ")");
    if (!locks.isEmpty()) out.add("holds " + locks);
    return out;
  }

  /** The scenario-file line of the instruction at the program counter ("drv.conf:14 programs.all[4]"), or null. */
  public String origin() {
    return program.origin(pc);
  }

  /** The seq of the last read_begin on {@code mirror} (0: none yet). */
  public long seq(String mirror) {
    return seqs.getOrDefault(mirror, 0L);
  }

  public Callback callback() {
    return callback;
  }

  /** The work item being run, or null. */
  public CpuEvent.WorkEntered work() {
    return work;
  }

  public String waiting() {
    return waiting;
  }

  public boolean ended() {
    return ended;
  }

  public long requests() {
    return requests;
  }

  /** The dma_addr_t of handle {@code seg} of group {@code group}, or -1 (DMA_MAPPING_ERROR) when it is not mapped. */
  public long handle(String group, int seg) {
    TreeMap<Integer, Long> g = handles.get(group);
    Long addr = g == null ? null : g.get(seg);
    return addr == null ? -1L : addr;
  }

  /**
   * The MTT a page-list mkey gets for {@code pages} pages from {@code source}: "state:NAME" entry i at
   * the state's addr + i * 4096 (register_dma_pages' IOVA path), "handles:NAME" handle i.
   */
  public List<Long> mtt(String source, int pages) {
    String name = source.substring(source.indexOf(':') + 1);
    List<Long> out = new java.util.ArrayList<>();
    for (int i = 0; i < pages; i++) out.add(source.startsWith("state:") ? state(name).addr() + i * 4096L : handle(name, i));
    return out;
  }

  public IovaState state(String name) {
    return states.getOrDefault(name, new IovaState(0, 0, 0, 0));
  }

  public CpuState apply(Event event) {
    if (event instanceof JournalEvent) return this;
    CpuEvent e = (CpuEvent) event;
    if (e instanceof CpuEvent.ProgramStarted) {
      started = true;
      pc = 0;
    } else if (e instanceof CpuEvent.CallIssued c) {
      pc = c.pc();
      waiting = c.call();
      if (c.call().equals("await")) awaits++;
      if (c.call().equals("sleep")) sleeps++;
    } else if (e instanceof CpuEvent.ReplyReceived r) {
      onReply(r.pc(), r.reply());
    } else if (e instanceof CpuEvent.BufferTouched t) {
      pc = t.nextPc();
    } else if (e instanceof CpuEvent.DescriptorSubmitted s) {
      lastTag = s.tag();
      nextTag++;
      pc = s.pc() + 1;
    } else if (e instanceof CpuEvent.MappingChecked m) {
      lastError = m.error();
      pc = m.nextPc();
    } else if (e instanceof CpuEvent.Jumped j) {
      pc = j.pc();
      if (j.counter() != null) counters.put(j.counter(), j.value());
    } else if (e instanceof CpuEvent.StateReset r) {
      states.remove(r.state());
      pc = r.nextPc();
    } else if (e instanceof CpuEvent.RequestCompleted r) {
      requests = r.request();
      pc = r.nextPc();
    } else if (e instanceof CpuEvent.DriverUnbound u) {
      pc = u.nextPc();
    } else if (e instanceof CpuEvent.CallbackEntered c) {
      callback = new Callback(c, pc, waiting);
      waiting = null;
      pc = c.pc();
    } else if (e instanceof CpuEvent.WorkEntered w) {
      work = w;
      waiting = null;
      pc = w.pc();
    } else if (e instanceof CpuEvent.WorkLeft w) {
      work = null;
      pc = w.pc();
    } else if (e instanceof CpuEvent.CallbackLeft) {
      pc = callback.returnPc();
      waiting = callback.returnWaiting();
      callback = null;
    } else if (e instanceof CpuEvent.ProgramEnded) {
      ended = true;
      waiting = null;
    }
    return this;
  }

  private void onReply(int atPc, Object reply) {
    lastErrno = reply instanceof IommuReply.Returned r ? r.errno()
        : reply instanceof dmasim.protocol.MmReply.Done m ? m.errno()
        : reply instanceof dmasim.protocol.MmReply.RangeFaulted m ? m.errno()
        : reply instanceof dmasim.protocol.MirrorReply.Done m ? m.errno()
        : reply instanceof dmasim.protocol.HcaReply.Done m ? m.errno()
        : reply instanceof DeviceReply.Completed c && c.faults() > 0 ? Errno.EIO
        : reply instanceof CpuCommand.AwaitTimedOut ? Errno.ETIMEDOUT : 0;
    if (reply instanceof DeviceReply.Completed c) {
      completions.put(c.tag(), c.faults());
      if (atPc < 0) return;
      completions.remove(c.tag());
      lastError = c.faults() > 0;
    } else if (reply instanceof MemoryReply.PagesAllocated a) {
      buffers.put(a.owner(), a.pfns());
      kinds.remove(a.owner());
      if (program.at(atPc) instanceof Op.AllocBuffer op && op.kind() != dmasim.protocol.PageKind.LINEAR) kinds.put(a.owner(), op.kind());
      lastError = a.pfns().isEmpty();
      if (lastError) buffers.remove(a.owner());
      if (lastError) failedAllocations.add(a.owner());
      else failedAllocations.remove(a.owner());
    } else if (reply instanceof CpuCommand.AwaitTimedOut) {
      lastError = true;
    } else if (reply instanceof DeviceReply.Presence p) {
      lastError = !p.present();
    } else if (reply instanceof DeviceReply.ResetDone || reply instanceof CpuCommand.Woke) {
      lastError = false;
    } else if (reply instanceof MemoryReply.LockGranted g) {
      if (g.held()) locks.add(g.name());
      else locks.remove(g.name());
      lastError = false;
    } else if (reply instanceof MemoryReply.PagesFreed f) {
      buffers.remove(f.owner());
      kinds.remove(f.owner());
      lastError = false;
    } else if (reply instanceof IommuReply.Returned r) {
      onReturned(program.at(atPc), r);
    } else if (reply instanceof MemoryReply.LockBusy) {
      lastError = true;
    } else if (reply instanceof dmasim.protocol.MmReply.SeqRead r) {
      seqs.put(r.sub(), r.seq());
      lastError = false;
    } else if (reply instanceof dmasim.protocol.MmReply.RangeFaulted r) {
      walked.put(r.sub(), new Walked(r.start(), r.words()));
      lastError = r.errno() != 0;
    } else if (reply instanceof dmasim.protocol.MmReply.Retry r) {
      lastError = false;
      waiting = null;
      pc = r.retry() ? program.label(((Op.ReadRetry) program.at(atPc)).label()) : atPc + 1;
      return;
    } else if (reply instanceof dmasim.protocol.HcaReply.Done h && h.call().equals("mkey_create") && h.errno() == 0
        && program.at(atPc) instanceof Op.MkeyCreate op) {
      mkeys.put(op.mr(), mtt(op.source(), buffers.getOrDefault(op.buf(), List.of()).size()));
      lastError = false;
    } else if (reply instanceof dmasim.protocol.HcaReply.Done h && h.call().equals("mkey_free") && program.at(atPc) instanceof Op.HcaCall op
        && op.command() instanceof dmasim.protocol.HcaCommand.MkeyFree f) {
      mkeys.remove(f.mr());
      lastError = h.errno() != 0;
    } else if (reply instanceof dmasim.protocol.MmReply.Done || reply instanceof dmasim.protocol.MirrorReply.Done
        || reply instanceof dmasim.protocol.HcaReply.Done) {
      lastError = lastErrno != 0;
    }
    waiting = null;
    pc = atPc + 1;
  }

  private void onReturned(Op op, IommuReply.Returned r) {
    lastError = r.errno() != 0;
    if (op instanceof Op.TryAlloc t) {
      long size = (long) buffers.getOrDefault(t.buf(), List.of()).size() * 4096 - t.offset();
      states.put(t.state(), new IovaState(r.value(), r.value() == 0 ? 0 : size, t.offset(), 0));
      lastError = r.value() == 0;
    } else if (op instanceof Op.Link l && r.errno() == 0) {
      IovaState st = state(l.state());
      long size = l.size() > 0 ? Math.min(l.size(), segmentSize(st, l.seg())) : segmentSize(st, l.seg());
      states.put(l.state(), new IovaState(st.addr(), st.size(), st.offset0(), st.linked() + size));
    } else if (op instanceof Op.MapPhys m) {
      // A failed map leaves DMA_MAPPING_ERROR in the driver's variable: handle() reads -1 either way,
      // and a descriptor built from the group carries it.
      handles.computeIfAbsent(m.handle(), k -> new TreeMap<>()).put(m.seg(), r.value());
      if (staleHandles.containsKey(m.handle())) staleHandles.get(m.handle()).remove(m.seg());
      lastError = false; // the driver learns of failure only through dma_mapping_error
    } else if (op instanceof Op.UnmapPhys u) {
      TreeMap<Integer, Long> group = handles.get(u.handle());
      Long addr = group == null ? null : group.remove(u.seg());
      if (addr != null) staleHandles.computeIfAbsent(u.handle(), k -> new TreeMap<>()).put(u.seg(), addr);
    } else if (op instanceof Op.MapSg m) {
      sgs.put(m.sg(), new SgTable(sgEntries(buffers.getOrDefault(m.buf(), List.of()), m.mergeMax()).size(), r.segments(), r.value() != 0));
      lastError = r.value() == 0;
    } else if (op instanceof Op.UnmapSg u) {
      sgs.computeIfPresent(u.sg(), (k, t) -> t.unmapped());
    } else if (op instanceof Op.AllocCoherent a) {
      if (r.errno() == 0) coherent.put(a.buf(), new Coherent(r.value(), buffers.getOrDefault(a.buf(), List.of()).size() * 4096L, true));
      else coherent.remove(a.buf());
    } else if (op instanceof Op.FreeCoherent f) {
      coherent.computeIfPresent(f.handleOf(), (k, c) -> new Coherent(c.addr(), c.size(), false));
    }
  }

  /**
   * The scatterlist a driver builds over {@code pfns}, as {pfn, bytes} pairs: one entry per page, or
   * with {@code mergeMax} > 0 runs of physically contiguous pages merged up to that many bytes
   * (sg_alloc_table_from_pages_segment: a new entry starts when the next page is not contiguous or
   * the entry would exceed max_segment).
   */
  public static List<long[]> sgEntries(List<Long> pfns, long mergeMax) {
    List<long[]> out = new ArrayList<>();
    for (long pfn : pfns) {
      long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (mergeMax > 0 && last != null && last[0] + (last[1] >>> 12) == pfn && last[1] + 4096 <= mergeMax) last[1] += 4096;
      else out.add(new long[] {pfn, 4096});
    }
    return out;
  }

  /** The dma handle of the coherent allocation named {@code buf}, or -1 (DMA_MAPPING_ERROR) when there is none. */
  public long coherentHandle(String buf) {
    Coherent c = coherent.get(buf);
    return c == null ? -1L : c.addr();
  }

  /** Bytes of segment {@code seg} in a state whose data starts {@code offset0} into the first page. */
  static long segmentSize(IovaState st, int seg) {
    return seg == 0 ? 4096 - st.offset0() : 4096;
  }

  static long segmentOffset(IovaState st, int seg) {
    return seg == 0 ? 0 : seg * 4096L - st.offset0();
  }

  /** The dma_addr_t the driver holds for each handle of {@code group}, mapped or already unmapped, in segment order. */
  List<DmaSegment> handleSegments(String group) {
    TreeMap<Integer, Long> held = new TreeMap<>(staleHandles.getOrDefault(group, new TreeMap<>()));
    held.putAll(handles.getOrDefault(group, new TreeMap<>()));
    List<DmaSegment> out = new ArrayList<>();
    held.values().forEach(a -> out.add(new DmaSegment(new dmasim.protocol.Iova(a), 4096)));
    return out;
  }
}
