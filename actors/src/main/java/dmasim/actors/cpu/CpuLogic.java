package dmasim.actors.cpu;

import dmasim.actors.model.Decision;
import dmasim.actors.model.Names;
import dmasim.protocol.CpuCommand;
import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceCommand;
import dmasim.protocol.DeviceReply;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuReply;
import dmasim.protocol.MemoryCommand;
import dmasim.protocol.MemoryReply;
import dmasim.protocol.Message;
import dmasim.protocol.Phys;
import dmasim.protocol.Segment;
import java.util.ArrayList;
import java.util.List;

/**
 * The interpreter of a CpuQueue: on a start or an answer, run local instructions until the next
 * call (which sends one message and waits) or the end. Works on a copy of the state, folding each
 * event it emits, so the events alone rebuild the registers.
 */
public final class CpuLogic {
  /** A program that runs this many local instructions without a call is looping forever. */
  static final int MAX_LOCAL_STEPS = 100_000;
  /** How a program's own mistake (a loop without a call, a buffer it does not hold) is reported: a bad scenario, not the machinery. */
  public static final String PROGRAM_ERROR = "program error at ";

  private final CpuState v;
  private final Program p;
  private final Decision d = new Decision();
  private final String self;
  /** The instruction being run (for errors that name the file line). */
  private int atPc;

  private CpuLogic(CpuState state) {
    this.v = state.copy();
    this.p = state.program;
    this.self = Names.cpu(state.cpuIndex);
  }

  public static Decision decide(CpuState state, Envelope env) {
    return new CpuLogic(state).handle(env.message());
  }

  private void emit(Event e) {
    d.emit(e);
    v.apply(e);
  }

  private Decision handle(Message m) {
    if (m instanceof CpuCommand.Start) {
      if (v.started) return d;
      emit(new CpuEvent.ProgramStarted(p.name()));
      guarded();
    } else if (m instanceof DeviceReply.Completed c) {
      boolean awaited = "await".equals(v.waiting) && c.tag() == v.lastTag;
      emit(new CpuEvent.ReplyReceived(awaited ? v.pc : -1, c));
      if (awaited) guarded();
    } else if (m instanceof CpuCommand.Woke w) {
      if (!"sleep".equals(v.waiting) || w.sleep() != v.sleeps) throw new IllegalStateException(self + " woke from a sleep it is not in: " + m);
      emit(new CpuEvent.ReplyReceived(v.pc, w));
      guarded();
    } else if (m instanceof CpuCommand.AwaitTimedOut t) {
      if (!"await".equals(v.waiting) || t.tag() != v.lastTag || t.await() != v.awaits) return d; // the completion came first
      emit(new CpuEvent.ReplyReceived(v.pc, t));
      guarded();
    } else if (m instanceof dmasim.protocol.MmReply.RunCallback rc) {
      if (v.waiting == null || v.callback != null) throw new IllegalStateException(self + " is asked to run a callback while not in a memory operation: " + m);
      Integer at = p.labelOrNull(callbackLabel(rc.sub()));
      if (at == null) throw new IllegalStateException(self + " has no invalidate callback for " + rc.sub());
      emit(new CpuEvent.CallbackEntered(rc.inv(), rc.sub(), rc.curSeq(), rc.start(), rc.pages(), rc.event(), rc.blockable(), rc.owner(), at));
      guarded();
    } else if (m instanceof dmasim.protocol.HcaReply.RunWork rw) {
      if (!"workrun".equals(v.waiting)) throw new IllegalStateException(self + " is given work while not waiting for any: " + m);
      Integer at = p.labelOrNull(workLabel(rw.kind()));
      if (at == null) throw new IllegalStateException(self + " has no work handler " + rw.kind());
      emit(new CpuEvent.WorkEntered(rw.id(), rw.kind(), rw.mr(), rw.token(), at, v.pc + 1));
      guarded();
    } else if (m instanceof IommuReply.Returned || m instanceof MemoryReply || m instanceof DeviceReply.ResetDone || m instanceof dmasim.protocol.HcaReply
        || m instanceof DeviceReply.Presence || m instanceof dmasim.protocol.MmReply || m instanceof dmasim.protocol.MirrorReply) {
      if (v.waiting == null) throw new IllegalStateException(self + " got an answer it did not wait for: " + m);
      emit(new CpuEvent.ReplyReceived(v.pc, m));
      guarded();
    } else {
      throw new IllegalArgumentException(self + " cannot handle " + m.getClass().getName());
    }
    return d;
  }

  /** Runs the program on; a buffer used after its allocation failed is a NULL dereference: the kernel oopses and the program ends there. */
  private void guarded() {
    try {
      run();
    } catch (NullBuffer n) {
      emit(new CpuEvent.NullBufferUsed(self + "/" + n.buffer, n.buffer, atPc));
      emit(new CpuEvent.ProgramEnded(v.requests));
    }
  }

  /** A buffer the driver holds as NULL (its allocation failed) was used. */
  private static final class NullBuffer extends RuntimeException {
    final String buffer;

    NullBuffer(String buffer) {
      super(buffer, null, false, false);
      this.buffer = buffer;
    }
  }

  private void run() {
    int pc = v.pc;
    for (int steps = 0; steps < MAX_LOCAL_STEPS; steps++) {
      atPc = pc;
      Op op = p.at(pc);
      if (op instanceof Op.Label) {
        pc++;
      } else if (op instanceof Op.Goto g) {
        pc = p.label(g.label());
      } else if (op instanceof Op.JumpIfError j) {
        pc = v.lastError ? p.label(j.label()) : pc + 1;
      } else if (op instanceof Op.JumpIfErrno j) {
        pc = v.lastErrno == j.errno() ? p.label(j.label()) : pc + 1;
      } else if (op instanceof Op.JumpIfOdd j) {
        pc = (v.counters.getOrDefault(j.counter(), 0L) & 1) == 1 ? p.label(j.label()) : pc + 1;
      } else if (op instanceof Op.JumpIfNoIova j) {
        pc = v.state(j.state()).size() == 0 ? p.label(j.label()) : pc + 1;
      } else if (op instanceof Op.Loop l) {
        long value = v.counters.getOrDefault(l.counter(), 0L) + 1;
        emit(new CpuEvent.Jumped(value < l.times() ? p.label(l.label()) : pc + 1, l.counter(), value));
        pc = v.pc;
      } else if (op instanceof Op.Touch t) {
        emit(new CpuEvent.BufferTouched(t.buf(), buffer(t.buf()), t.write(), pc + 1));
        pc++;
      } else if (op instanceof Op.MappingError m) {
        long addr = v.handle(m.handle(), m.seg());
        emit(new CpuEvent.MappingChecked(m.dev(), m.handle() + "." + m.seg(), new Iova(addr), addr == -1L, pc + 1));
        pc++;
      } else if (op instanceof Op.Submit s) {
        long tag = ((long) v.cpuIndex << 32) | v.nextTag;
        List<DmaSegment> segs = truncate(source(s.source()), s.length());
        emit(new CpuEvent.DescriptorSubmitted(pc, Names.device(s.dev()), tag, segs, s.deviceWrites(), s.source()));
        d.send(Names.device(s.dev()), new DeviceCommand.Submit(tag, segs, s.deviceWrites()));
        pc++;
      } else if (op instanceof Op.Await a) {
        if (v.completions.containsKey(v.lastTag)) {
          emit(new CpuEvent.ReplyReceived(pc, new DeviceReply.Completed(v.lastTag, v.completions.get(v.lastTag))));
          pc++;
        } else {
          emit(new CpuEvent.CallIssued(pc, "await", "tag " + v.lastTag, "device"));
          if (a.timeout() > 0) d.send(self, new CpuCommand.AwaitTimedOut(v.lastTag, v.awaits), a.timeout());
          return;
        }
      } else if (op instanceof Op.ResetState r) {
        emit(new CpuEvent.StateReset(r.state(), pc + 1));
        pc++;
      } else if (op instanceof Op.Sleep sl) {
        emit(new CpuEvent.CallIssued(pc, "sleep", sl.duration() + " ns", self));
        d.send(self, new CpuCommand.Woke(v.sleeps), sl.duration());
        return;
      } else if (op instanceof Op.RequestDone) {
        emit(new CpuEvent.RequestCompleted(v.requests + 1, pc + 1));
        pc++;
      } else if (op instanceof Op.SurpriseRemoval r) {
        emit(new CpuEvent.Jumped(pc + 1, null, 0));
        d.send(Names.device(r.dev()), new DeviceCommand.Remove());
        d.send(Names.IOMMU, new IommuCommand.TearDown());
        pc++;
      } else if (op instanceof Op.TearDownDomain) {
        emit(new CpuEvent.Jumped(pc + 1, null, 0));
        d.send(Names.IOMMU, new IommuCommand.TearDown());
        pc++;
      } else if (op instanceof Op.Unbind u) {
        emit(new CpuEvent.DriverUnbound(u.dev(), pc + 1));
        pc++;
      } else if (op instanceof Op.JumpIfWorkFor j) {
        if (v.work == null) {
          String at = p.origin(pc);
          throw new IllegalStateException(PROGRAM_ERROR + (at != null ? at : "program " + p.name() + " pc " + pc) + ": " + self + " runs " + op
              + " outside a work item");
        }
        pc = v.work.mr().equals(j.mr()) ? p.label(j.label()) : pc + 1;
      } else if (op instanceof Op.JumpIfNonBlockable j) {
        pc = !inCallback(op).call().blockable() ? p.label(j.label()) : pc + 1;
      } else if (op instanceof Op.JumpIfOwnMigrate j) {
        CpuEvent.CallbackEntered c = inCallback(op).call();
        pc = c.event().equals("MIGRATE") && c.owner().equals(j.owner()) ? p.label(j.label()) : pc + 1;
      } else if (op instanceof Op.Return && v.callback == null && v.work != null) {
        CpuEvent.WorkEntered w = v.work;
        emit(new CpuEvent.WorkLeft(w.id(), w.returnPc()));
        d.send(((Op.HcaCall) p.at(w.returnPc() - 1)).hca(), new dmasim.protocol.HcaCommand.WorkDone(w.id()));
        pc = v.pc;
      } else if (op instanceof Op.Return r) {
        CpuEvent.CallbackEntered c = inCallback(op).call();
        emit(new CpuEvent.CallbackLeft(c.inv(), c.sub(), r.ok()));
        d.send(Names.mm(0), new dmasim.protocol.MmCommand.CallbackReturned(c.inv(), c.sub(), r.ok()));
        return;
      } else if (op instanceof Op.End) {
        emit(new CpuEvent.ProgramEnded(v.requests));
        return;
      } else if (op instanceof Op.UnmapPhys u && v.handle(u.handle(), u.seg()) == -1L) {
        pc++; // the driver unmaps only what it mapped
      } else if (op instanceof Op.FreeBuffer f && !v.buffers.containsKey(f.buf()) && v.failedAllocations.contains(f.buf())) {
        pc++; // freeing the NULL a failed allocation left is a no-op, as kfree(NULL) is
      } else if (op instanceof Op.AllocCoherent a && !v.buffers.containsKey(a.buf())) {
        pc++; // the page allocation failed: dma_alloc_coherent returns NULL (the error flag is already set)
      } else {
        call(pc, op);
        return;
      }
    }
    String at = p.origin(pc);
    throw new IllegalStateException(PROGRAM_ERROR + (at != null ? at : "program " + p.name() + " pc " + pc) + ": " + self + " ran " + MAX_LOCAL_STEPS
        + " steps without calling anything (a label/goto loop that never waits, maps or allocates)");
  }

  /** The label of work handler {@code kind}, compiled into every program. */
  public static String workLabel(String kind) {
    return "__work:" + kind;
  }

  /** The label of {@code sub}'s invalidate callback, compiled into every program. */
  public static String callbackLabel(String sub) {
    return "__callback:" + sub;
  }

  /** The callback being run, for an instruction that only makes sense in one. */
  private CpuState.Callback inCallback(Op op) {
    if (v.callback == null) {
      String at = p.origin(atPc);
      throw new IllegalStateException(PROGRAM_ERROR + (at != null ? at : "program " + p.name() + " pc " + atPc) + ": " + self + " runs " + op
          + " outside an invalidate callback");
    }
    return v.callback;
  }

  private CpuState.Walked walked(String mirror) {
    CpuState.Walked w = v.walked.get(mirror);
    if (w == null) {
      String at = p.origin(atPc);
      throw new IllegalStateException(PROGRAM_ERROR + (at != null ? at : "program " + p.name() + " pc " + atPc) + ": " + self
          + " programs the device from mirror '" + mirror + "' before any range-fault of it");
    }
    return w;
  }

  /** Pages [first, first + count) of a mirror from {@code mStart} covering the callback's range (the whole mirror outside one). */
  private long[] range(long mStart, long mPages) {
    if (v.callback == null) return new long[] {0, mPages};
    CpuEvent.CallbackEntered c = v.callback.call();
    long from = Math.max(c.start(), mStart);
    long to = Math.min(c.start() + c.pages() * 4096, mStart + mPages * 4096);
    return to <= from ? new long[] {0, 0} : new long[] {(from - mStart) >>> 12, (to - from) >>> 12};
  }

  private List<Long> buffer(String name) {
    List<Long> pfns = v.buffers.get(name);
    if (pfns == null && v.failedAllocations.contains(name)) throw new NullBuffer(name);
    if (pfns == null) {
      String at = p.origin(atPc);
      throw new IllegalStateException(PROGRAM_ERROR + (at != null ? at : "program " + p.name() + " pc " + atPc) + ": " + self + " uses buffer '" + name
          + "', which it does not hold (never allocated, or already freed)");
    }
    return pfns;
  }

  /** The first {@code length} bytes of the segments (all of them when {@code length} is 0): a short transfer. */
  private static List<DmaSegment> truncate(List<DmaSegment> segs, long length) {
    if (length <= 0) return segs;
    List<DmaSegment> out = new ArrayList<>();
    long left = length;
    for (DmaSegment s : segs) {
      if (left <= 0) break;
      out.add(new DmaSegment(s.addr(), Math.min(left, s.length()), s.busAddress()));
      left -= s.length();
    }
    return out;
  }

  private List<DmaSegment> source(String source) {
    String kind = source.substring(0, source.indexOf(':'));
    String name = source.substring(source.indexOf(':') + 1);
    return switch (kind) {
      case "state" -> {
        CpuState.IovaState st = v.state(name);
        yield st.size() == 0 ? List.of() : List.of(new DmaSegment(new Iova(st.addr()), st.size()));
      }
      case "handles" -> v.handleSegments(name);
      case "sg" -> v.sgs.containsKey(name) ? v.sgs.get(name).mapped() : List.of();
      case "mkey" -> {
        List<DmaSegment> segs = new ArrayList<>();
        for (long a : v.mkeys.getOrDefault(name, List.of())) segs.add(new DmaSegment(new Iova(a), 4096));
        yield segs;
      }
      case "coherent" -> v.coherent.containsKey(name) ? List.of(new DmaSegment(new Iova(v.coherent.get(name).addr()), v.coherent.get(name).size()))
          : List.of();
      default -> throw new IllegalArgumentException("unknown descriptor source " + source);
    };
  }

  private void call(int pc, Op op) {
    String to = Names.IOMMU;
    Message m;
    String object;
    if (op instanceof Op.ResetDevice r) {
      to = Names.device(r.dev());
      object = to;
      m = new DeviceCommand.Reset();
    } else if (op instanceof Op.ProbeDevice pr) {
      to = Names.device(pr.dev());
      object = to;
      m = new DeviceCommand.Probe();
    } else if (op instanceof Op.AttachIommu at) {
      object = "domain";
      m = new IommuCommand.Attach(at.cachingMode());
    } else if (op instanceof Op.AttachDevice at) {
      object = Names.device(at.dev());
      m = new IommuCommand.AttachDevice(at.dev());
    } else if (op instanceof Op.MmCall mc) {
      to = Names.mm(0);
      object = to;
      m = mc.command();
    } else if (op instanceof Op.ReadBegin rb) {
      to = Names.mm(0);
      object = rb.mirror();
      m = new dmasim.protocol.MmCommand.ReadBegin(rb.mirror());
    } else if (op instanceof Op.RangeFault rf) {
      to = Names.mm(0);
      object = rf.mirror();
      long flags = rf.snapshot() ? 0 : dmasim.protocol.HmmPfn.REQ_FAULT | (rf.write() ? dmasim.protocol.HmmPfn.REQ_WRITE : 0);
      m = new dmasim.protocol.MmCommand.RangeFault(rf.mirror(), v.seq(rf.mirror()), rf.start(), rf.pages(), flags, 0,
          java.util.Collections.nCopies((int) rf.pages(), 0L), rf.owner());
    } else if (op instanceof Op.ReadRetry rr) {
      to = Names.mm(0);
      object = rr.mirror();
      m = new dmasim.protocol.MmCommand.ReadRetry(rr.mirror(), v.seq(rr.mirror()));
    } else if (op instanceof Op.SetSeq ss) {
      to = Names.mm(0);
      object = ss.mirror();
      CpuEvent.CallbackEntered c = inCallback(op).call();
      m = new dmasim.protocol.MmCommand.SetSeq(ss.mirror(), c.curSeq(), c.inv());
    } else if (op instanceof Op.DirtyPages dp) {
      to = Names.mm(0);
      object = dp.mirror();
      List<Long> pfns = new ArrayList<>();
      for (long w : walked(dp.mirror()).words()) {
        if ((w & dmasim.protocol.HmmPfn.VALID) != 0 && (w & dmasim.protocol.HmmPfn.WRITE) != 0) pfns.add(dmasim.protocol.HmmPfn.pfn(w));
      }
      m = new dmasim.protocol.MmCommand.DirtyPages(dp.mirror(), pfns);
    } else if (op instanceof Op.DevPteSet ps) {
      to = Names.mirror(ps.mirror());
      object = ps.mirror();
      CpuState.Walked w = walked(ps.mirror());
      m = new dmasim.protocol.MirrorCommand.PteSet((int) ((w.start() - ps.mirrorStart()) >>> 12), w.words(), v.seq(ps.mirror()), ps.downgrade());
    } else if (op instanceof Op.DevZap z) {
      to = Names.mirror(z.mirror());
      object = z.mirror();
      long[] r = range(z.mirrorStart(), z.mirrorPages());
      m = new dmasim.protocol.MirrorCommand.Zap((int) r[0], (int) r[1], z.waitIdle());
    } else if (op instanceof Op.DevAccess a) {
      to = Names.mirror(a.mirror());
      object = a.mirror();
      m = new dmasim.protocol.MirrorCommand.Access(a.va(), a.write());
    } else if (op instanceof Op.HmmDma h) {
      to = Names.mirror(h.mirror());
      object = h.mirror();
      long[] r = range(h.mirrorStart(), h.mirrorPages());
      m = switch (h.call()) {
        case "alloc" -> new dmasim.protocol.MirrorCommand.DmaAlloc();
        case "unmap" -> new dmasim.protocol.MirrorCommand.DmaUnmap((int) r[0], (int) r[1]);
        default -> new dmasim.protocol.MirrorCommand.DmaFree();
      };
    } else if (op instanceof Op.FaultDone f) {
      to = Names.mirror(f.mirror());
      object = f.mirror();
      // in a page-fault work item: PAGE_FAULT_RESUME of the item's fault; else of this queue's own access
      m = new dmasim.protocol.MirrorCommand.FaultDone(f.error(), v.callback == null && v.work != null ? v.work.token() : 0);
    } else if (op instanceof Op.MirrorCall mc) {
      to = Names.mirror(mc.mirror());
      object = mc.mirror();
      m = mc.command();
    } else if (op instanceof Op.MkeyCreate mc) {
      to = mc.hca();
      object = mc.mr();
      List<Long> pfns = buffer(mc.buf());
      m = new dmasim.protocol.HcaCommand.MkeyCreate(mc.mr(), v.mtt(mc.source(), pfns.size()), pfns);
    } else if (op instanceof Op.HcaCall h) {
      to = h.hca();
      m = h.command();
      object = hcaObject(h.command());
    } else if (op instanceof Op.TryLock l) {
      to = Names.MEMORY;
      object = l.name();
      m = new MemoryCommand.TryLock(l.name());
    } else if (op instanceof Op.Lock l) {
      to = Names.MEMORY;
      object = l.name();
      m = new MemoryCommand.Lock(l.name());
    } else if (op instanceof Op.Unlock l) {
      if (!v.locks.contains(l.name())) {
        String at = p.origin(pc);
        throw new IllegalStateException(PROGRAM_ERROR + (at != null ? at : "program " + p.name() + " pc " + pc) + ": " + self + " unlocks '" + l.name()
            + "', which it does not hold");
      }
      to = Names.MEMORY;
      object = l.name();
      m = new MemoryCommand.Unlock(l.name());
    } else if (op instanceof Op.AllocBuffer a) {
      to = Names.MEMORY;
      object = a.buf();
      m = new MemoryCommand.AllocPages(a.buf(), a.pages(), a.region(), a.kind());
    } else if (op instanceof Op.FreeBuffer f) {
      to = Names.MEMORY;
      object = f.buf();
      m = new MemoryCommand.FreePages(f.buf(), buffer(f.buf()));
    } else if (op instanceof Op.TryAlloc t) {
      object = t.state();
      List<Long> pfns = buffer(t.buf());
      m = new IommuCommand.TryAlloc(t.dev(), t.state(), new Phys((pfns.get(0) << 12) + t.offset()), pfns.size() * 4096L - t.offset());
    } else if (op instanceof Op.Link l) {
      object = l.state();
      CpuState.IovaState st = v.state(l.state());
      long pfn = buffer(l.buf()).get(l.seg());
      Phys phys = new Phys((pfn << 12) + (l.seg() == 0 ? st.offset0() : 0));
      m = new IommuCommand.Link(l.dev(), l.state(), new Iova(st.addr()), st.size(), CpuState.segmentOffset(st, l.seg()), phys,
          l.size() > 0 ? Math.min(l.size(), CpuState.segmentSize(st, l.seg())) : CpuState.segmentSize(st, l.seg()), l.dir(),
          new DmaAttrs(l.attrs()));
    } else if (op instanceof Op.Sync s) {
      object = s.state();
      CpuState.IovaState st = v.state(s.state());
      m = new IommuCommand.Sync(s.dev(), s.state(), new Iova(st.addr()), 0, st.size());
    } else if (op instanceof Op.Unlink u) {
      object = u.state();
      CpuState.IovaState st = v.state(u.state());
      boolean range = u.size() > 0;
      m = new IommuCommand.Unlink(u.dev(), u.state(), new Iova(st.addr()), range ? u.offset() : CpuState.segmentOffset(st, u.seg()),
          range ? u.size() : CpuState.segmentSize(st, u.seg()), u.dir(), DmaAttrs.NONE);
    } else if (op instanceof Op.Destroy x) {
      object = x.state();
      CpuState.IovaState st = v.state(x.state());
      long len = x.segs() == -1 ? st.size() : x.segs() == -2 ? st.linked() : Math.min(st.size(), x.segs() * 4096L - st.offset0());
      m = new IommuCommand.Destroy(x.dev(), x.state(), new Iova(st.addr()), st.size(), Math.max(0, len), x.dir(), DmaAttrs.NONE);
    } else if (op instanceof Op.Free f) {
      object = f.state();
      CpuState.IovaState st = v.state(f.state());
      m = new IommuCommand.Free(f.dev(), f.state(), new Iova(st.addr()), st.size());
    } else if (op instanceof Op.MapPhys mp) {
      object = mp.handle() + "." + mp.seg();
      m = new IommuCommand.MapPhys(mp.dev(), object, new Phys(buffer(mp.buf()).get(mp.seg()) << 12), 4096, mp.dir(),
          new DmaAttrs((mp.mmio() ? DmaAttrs.MMIO : 0) | (mp.skipCpuSync() ? DmaAttrs.SKIP_CPU_SYNC : 0)),
          mp.single() ? v.kinds.getOrDefault(mp.buf(), dmasim.protocol.PageKind.LINEAR) : null);
    } else if (op instanceof Op.UnmapPhys u) {
      object = u.handle() + "." + u.seg();
      m = new IommuCommand.UnmapPhys(u.dev(), object, new Iova(v.handle(u.handle(), u.seg())), 4096, u.dir(), DmaAttrs.NONE);
    } else if (op instanceof Op.MapSg ms) {
      object = ms.sg();
      List<Segment> segs = new ArrayList<>();
      for (long[] e : CpuState.sgEntries(buffer(ms.buf()), ms.mergeMax())) segs.add(new Segment(new Phys(e[0] << 12), e[1]));
      m = new IommuCommand.MapSg(ms.dev(), ms.sg(), segs, ms.dir(), DmaAttrs.NONE);
    } else if (op instanceof Op.AllocCoherent a) {
      object = a.buf();
      m = new IommuCommand.AllocCoherent(a.dev(), a.buf(), buffer(a.buf()));
    } else if (op instanceof Op.FreeCoherent f) {
      object = f.buf();
      List<Long> pfns = buffer(f.buf());
      m = new IommuCommand.FreeCoherent(f.dev(), f.buf(), new Phys(pfns.get(0) << 12), new Iova(v.coherentHandle(f.handleOf())),
          f.size() > 0 ? f.size() : pfns.size() * 4096L);
    } else if (op instanceof Op.UnmapSg u) {
      object = u.sg();
      CpuState.SgTable sg = v.sgs.getOrDefault(u.sg(), new CpuState.SgTable(0, List.of(), false));
      m = new IommuCommand.UnmapSg(u.dev(), u.sg(), sg.mapped(), u.nents() < 0 ? sg.nents() : u.nents(), u.dir(), DmaAttrs.NONE);
    } else if (op instanceof Op.SyncFor s) {
      CpuState.SgTable sg = v.sgs.get(s.object());
      if (sg != null) {
        object = s.object();
        m = new IommuCommand.SyncSg(s.dev(), object, sg.mapped(), sg.nents(), s.dir(), s.forCpu());
      } else {
        object = s.object() + "." + s.seg();
        long addr = v.handle(s.object(), s.seg());
        m = new IommuCommand.SyncSingle(s.dev(), object, new Iova(addr), 4096, s.dir(), s.forCpu());
      }
    } else {
      throw new IllegalStateException("not a call: " + op);
    }
    emit(new CpuEvent.CallIssued(pc, callName(m), object, to));
    d.send(to, m);
  }

  /** The object an RDMA device call is about: the memory region it names. */
  private static String hcaObject(dmasim.protocol.HcaCommand c) {
    if (c instanceof dmasim.protocol.HcaCommand.MkeyGet x) return x.mr();
    if (c instanceof dmasim.protocol.HcaCommand.MkeyPut x) return x.mr();
    if (c instanceof dmasim.protocol.HcaCommand.MkeyUnpublish x) return x.mr();
    if (c instanceof dmasim.protocol.HcaCommand.MkeyWait x) return x.mr();
    if (c instanceof dmasim.protocol.HcaCommand.MkeyRevoke x) return x.mr();
    if (c instanceof dmasim.protocol.HcaCommand.MkeyFree x) return x.mr();
    if (c instanceof dmasim.protocol.HcaCommand.MkeyCheck x) return x.mr();
    if (c instanceof dmasim.protocol.HcaCommand.ChildGet x) return x.child();
    if (c instanceof dmasim.protocol.HcaCommand.ChildCreate x) return x.child();
    if (c instanceof dmasim.protocol.HcaCommand.ChildDestroy x) return x.child();
    if (c instanceof dmasim.protocol.HcaCommand.KsmUpdate x) return x.parent();
    return "workqueue";
  }

  private static String callName(Message m) {
    String n = m.getClass().getSimpleName();
    return switch (n) {
      case "AllocPages" -> "alloc_pages";
      case "ReadBegin" -> "read_begin";
      case "RangeFault" -> "range_fault";
      case "ReadRetry" -> "read_retry";
      case "SetSeq" -> "set_seq";
      case "DirtyPages" -> "set_page_dirty";
      case "PteSet" -> "dev_pte_set";
      case "Zap" -> "dev_zap";
      case "Access" -> "dev_access";
      case "DmaAlloc" -> "hmm_dma_map_alloc";
      case "DmaUnmap" -> "hmm_dma_unmap_pfn";
      case "DmaFree" -> "hmm_dma_map_free";
      case "FaultDone" -> "fault_done";
      case "Npages" -> "npages";
      case "MkeyGet" -> "mkey_get";
      case "MkeyCreate" -> "mkey_create";
      case "MkeyPut" -> "mkey_put";
      case "MkeyUnpublish" -> "mkey_unpublish";
      case "MkeyWait" -> "mkey_wait";
      case "MkeyRevoke" -> "mkey_revoke";
      case "MkeyFree" -> "mkey_free";
      case "MkeyCheck" -> "mkey_check";
      case "ChildGet" -> "child_get";
      case "ChildCreate" -> "child_create";
      case "ChildDestroy" -> "child_destroy";
      case "KsmUpdate" -> "ksm_update";
      case "WorkRun" -> "workrun";
      case "WqFlush" -> "wq_flush";
      case "TryLock" -> "trylock";
      case "Insert" -> "mmu_interval_notifier_insert";
      case "Remove" -> "mmu_interval_notifier_remove";
      case "MadviseDontneed" -> "madvise";
      case "Lock" -> "lock";
      case "Reset" -> "reset_device";
      case "Probe" -> "probe_device";
      case "Attach" -> "attach";
      case "AttachDevice" -> "attach_device";
      case "Unlock" -> "unlock";
      case "FreePages" -> "free_pages";
      case "TryAlloc" -> "try_alloc";
      case "MapPhys" -> "map_phys";
      case "UnmapPhys" -> "unmap_phys";
      case "MapSg" -> "map_sg";
      case "UnmapSg" -> "unmap_sg";
      case "AllocCoherent" -> "alloc_coherent";
      case "FreeCoherent" -> "free_coherent";
      case "SyncSingle" -> "sync_single";
      case "SyncSg" -> "sync_sg";
      default -> n.toLowerCase(java.util.Locale.ROOT);
    };
  }
}
