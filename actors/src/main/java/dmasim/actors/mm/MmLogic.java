package dmasim.actors.mm;

import dmasim.actors.model.Decision;
import dmasim.protocol.Envelope;
import dmasim.protocol.Errno;
import dmasim.protocol.HmmPfn;
import dmasim.protocol.MmCommand;
import dmasim.protocol.MmEvent;
import dmasim.protocol.MmReply;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The decisions of a process address space: the process's memory operations (each an
 * invalidation whose callbacks must all return before the CPU page table changes and pages are
 * freed: mmu_notifier_invalidate_range_start/_end around the change), the interval notifier calls
 * of mirroring drivers (mm/mmu_notifier.c: mmu_interval_read_begin, mmu_interval_read_retry,
 * mmu_interval_set_seq), and hmm_range_fault (mm/hmm.c), one page per step. Pure: reads the state,
 * emits events, and computes within a step what earlier events of the same step imply.
 */
public final class MmLogic {
  /** The memory operations that take mmap_lock for writing (the others that need it read it). */
  static final Set<String> WRITERS = Set.of("munmap", "mprotect", "mmap", "fork", "exit");
  /** The whole user address space (48 bits) in pages: the range of an exit's RELEASE. */
  static final long ALL_PAGES = 1L << 36;

  private final MmState s;
  private final MmSettings cfg;
  private final Decision d = new Decision();
  private final String self;
  private String from;
  /** System and device-private frames allocated earlier in this step (the state does not show them yet). */
  private int allocated;
  private int allocatedDevice;

  private MmLogic(MmState s, MmSettings cfg, String self) {
    this.s = s;
    this.cfg = cfg;
    this.self = self;
  }

  public static Decision decide(MmState s, MmSettings cfg, String self, Envelope env) {
    MmLogic l = new MmLogic(s, cfg, self);
    l.from = env.sender();
    l.handle((MmCommand) env.message(), false);
    return l.d;
  }

  private void handle(MmCommand m, boolean resumed) {
    if (m instanceof MmCommand.Resume r) {
      from = r.cpu();
      handle(r.command(), true);
    } else if (m instanceof MmCommand.ReadBegin r) {
      readBegin(r);
    } else if (m instanceof MmCommand.ReadRetry r) {
      boolean retry = s.sub(r.sub()).seq != r.seq();
      d.emit(new MmEvent.ReadRetried(r.sub(), from, r.seq(), retry));
      d.send(from, new MmReply.Retry(r.sub(), retry));
    } else if (m instanceof MmCommand.SetSeq x) {
      d.emit(new MmEvent.SeqSet(x.sub(), x.curSeq(), from, x.inv()));
      d.send(from, new MmReply.Done("set_seq", 0));
    } else if (m instanceof MmCommand.CallbackReturned c) {
      callbackReturned(c);
    } else if (m instanceof MmCommand.WalkNext w) {
      walkNext(s.walks.get(w.walk()));
    } else if (m instanceof MmCommand.WordStored st) {
      walkNext(s.walks.get(st.walk()));
    } else if (m instanceof MmCommand.WordValue v) {
      MmState.Walk w = s.walks.get(v.walk());
      // the walker loaded the driver's entry (a mirror index): it goes on with that value at its own page
      page(w, v.index() - (int) (w.startVpn - s.sub(w.sub).startVpn), v.word());
    } else if (m instanceof MmCommand.MigrationFinish f) {
      migrationFinish(f.migration());
    } else if (m instanceof MmCommand.DirtyPages p) {
      for (long pfn : p.pfns()) d.emit(new MmEvent.FrameDirtied(pfn, from, p.sub(), s.frame(pfn) == null));
      d.send(from, new MmReply.Done("dirty_pages", 0));
    } else if (s.exited) {
      done(callName(m), Errno.EFAULT); // mmget_not_zero fails: the address space is gone
    } else if (m instanceof MmCommand.Insert i) {
      insert(s.sub(i.sub()));
    } else if (m instanceof MmCommand.Remove r) {
      remove(s.sub(r.sub()));
    } else if (!resumed && !cfg.reclaims().isEmpty() && reclaimFirst(m)) {
      return; // direct reclaim in this thread; the call goes on once it is over
    } else if (!lockFree(m, resumed)) {
      d.emit(new MmEvent.MmapLockWaits(from, callName(m), m));
    } else if (m instanceof MmCommand.RangeFault r) {
      rangeFault(r);
    } else if (m instanceof MmCommand.Mmap x) {
      mmap(x);
    } else if (m instanceof MmCommand.Munmap x) {
      begin("munmap", "UNMAP", x.start() >>> 12, x.pages(), true, "", false, 0);
    } else if (m instanceof MmCommand.Mprotect x) {
      if (x.write()) {
        d.emit(new MmEvent.VmaProtected(x.start(), x.pages(), true)); // adding a permission invalidates nothing
        done("mprotect", 0);
        wakeLockWaiters(0);
      } else {
        begin("mprotect", "PROTECTION_VMA", x.start() >>> 12, x.pages(), true, "", false, 0);
      }
    } else if (m instanceof MmCommand.MadviseDontneed x) {
      begin("madvise", "CLEAR", x.start() >>> 12, x.pages(), true, "", false, 0);
    } else if (m instanceof MmCommand.Reclaim x) {
      begin("reclaim", "CLEAR", x.start() >>> 12, x.pages(), x.blockable(), "", false, 0);
    } else if (m instanceof MmCommand.Migrate x) {
      begin("migrate", "MIGRATE", x.start() >>> 12, x.pages(), true, x.owner(), x.toDevice(), 0);
    } else if (m instanceof MmCommand.Fork) {
      begin("fork", "PROTECTION_PAGE", 0, ALL_PAGES, true, "", false, 0);
    } else if (m instanceof MmCommand.Exit) {
      begin("exit", "RELEASE", 0, ALL_PAGES, true, "", false, 0);
    } else if (m instanceof MmCommand.Touch t) {
      touch(t);
    } else {
      throw new IllegalArgumentException(self + " cannot handle " + m.getClass().getName());
    }
  }

  /**
   * mmu_interval_notifier_insert (__mmu_interval_notifier_insert): with no invalidation active the
   * subscription goes into the tree with seq = core seq - 1; while one is active and the tree is
   * frozen (seq odd) it waits on the deferred list with seq = core seq, so read_begin sleeps until the
   * last invalidation ends; while one is active but the seq is even, the seq is made odd and it goes in
   * at once (the core cannot know which ranges the running invalidations cover).
   */
  private void insert(MmState.Sub sub) {
    if (sub.inTree || sub.deferredInsert) {
      done("insert", Errno.EINVAL); // inserted twice
      return;
    }
    long core = s.seq;
    long subSeq;
    boolean deferred = false;
    if (s.active > 0) {
      if ((core & 1) == 1) {
        deferred = true;
      } else {
        core |= 1;
      }
      subSeq = core;
    } else {
      subSeq = core - 1;
    }
    d.emit(new MmEvent.SubInserted(sub.name, from, subSeq, core, deferred));
    done("insert", 0);
  }

  /**
   * mmu_interval_notifier_remove: while the tree is frozen the removal is deferred and the caller
   * sleeps until the core's seq moves past the value it read (a pending insert is just cancelled);
   * afterwards no callback of the subscription runs or will run.
   */
  private void remove(MmState.Sub sub) {
    if (!sub.inTree && !sub.deferredInsert) {
      done("remove", Errno.EINVAL); // never inserted, or removed already
      return;
    }
    if ((s.seq & 1) == 1 && sub.inTree) {
      d.emit(new MmEvent.SubRemoveWaits(sub.name, from, s.seq));
      return;
    }
    d.emit(new MmEvent.SubRemoved(sub.name, from));
    done("remove", 0);
  }

  /**
   * Consults the reclaim rules for this envelope (each rule that selects it counts it, per sender);
   * when one fires, reclaim of its range starts first (a CLEAR invalidation run by the sender, as
   * direct reclaim runs in the allocating thread) and {@code m} is handled when it is over.
   */
  private boolean reclaimFirst(MmCommand m) {
    String type = m.getClass().getSimpleName();
    ReclaimRule fired = null;
    for (int i = 0; i < cfg.reclaims().size(); i++) {
      ReclaimRule r = cfg.reclaims().get(i);
      if (!r.selects(from, type)) continue;
      long[] counts = s.reclaimMatches.get(from);
      long match = (counts == null ? 0 : counts[i]) + 1;
      boolean fires = fired == null && r.trigger().fires(cfg.seed(), self + "<-" + from, match, "reclaim-" + i);
      d.emit(new MmEvent.ReclaimDecided(i, from, type, match, fires, r.describe()));
      if (fires) fired = r;
    }
    if (fired == null) return false;
    begin("reclaim", "CLEAR", fired.start() >>> 12, fired.pages(), fired.blockable(), "", false, 0, m);
    return true;
  }

  static String callName(MmCommand m) {
    return switch (m.getClass().getSimpleName()) {
      case "MadviseDontneed" -> "madvise";
      case "RangeFault" -> "range_fault";
      case "Resume" -> callName(((MmCommand.Resume) m).command());
      default -> m.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
    };
  }

  /**
   * May {@code m} take mmap_lock now? Writers need no walk and no other writer; the page-table
   * readers (walks, page faults, madvise, migrate) need no writer; reclaim takes no mmap_lock.
   * Calls already waiting go first.
   */
  private boolean lockFree(MmCommand m, boolean resumed) {
    if (m instanceof MmCommand.Reclaim) return true;
    if (!resumed && !s.lockWaiters.isEmpty()) return false;
    if (WRITERS.contains(callName(m))) return s.writer == 0 && s.walks.isEmpty();
    return s.writer == 0;
  }

  private void done(String call, int errno) {
    done(from, call, errno);
  }

  /** {@code cpu}'s memory operation {@code call} finished with {@code errno}: journaled, and answered. */
  private void done(String cpu, String call, int errno) {
    d.emit(new MmEvent.MmCallFinished(call, cpu, errno));
    d.send(cpu, new MmReply.Done(call, errno));
  }

  private void readBegin(MmCommand.ReadBegin r) {
    long seq = s.sub(r.sub()).seq;
    if (seq == s.seq) {
      d.emit(new MmEvent.ReadBeginWaits(r.sub(), from, seq)); // the subscription is being invalidated: wait_event until the core's seq moves
    } else {
      d.emit(new MmEvent.ReadBegun(r.sub(), from, seq, false));
      d.send(from, new MmReply.SeqRead(r.sub(), seq));
    }
  }

  private void mmap(MmCommand.Mmap x) {
    long vpn = x.start() >>> 12;
    for (long v = vpn; v < vpn + x.pages(); v++) {
      if (s.vma(v) != null) {
        done("mmap", Errno.EEXIST); // MAP_FIXED_NOREPLACE over an existing mapping
        wakeLockWaiters(0);
        return;
      }
    }
    d.emit(new MmEvent.VmaAdded(x.start(), x.pages(), x.write()));
    if (x.populate()) for (long v = vpn; v < vpn + x.pages(); v++) map(v, newFrame(false, ""), x.write(), false, "");
    done("mmap", 0);
    wakeLockWaiters(0);
  }

  // ---------------------------------------------------------------- invalidations

  /**
   * mmu_notifier_invalidate_range_start for {@code call}: the core's seq goes odd when a subscription
   * intersects (mn_itree_inv_start_range), and the first intersecting subscription's callback is called
   * on the thread that caused it; with none, the change is made at once.
   */
  private void begin(String call, String event, long vpn, long pages, boolean blockable, String owner, boolean flag, long walk) {
    begin(call, event, vpn, pages, blockable, owner, flag, walk, null);
  }

  /** ... {@code after}: the call an injected reclaim went before, handled when the reclaim is over. */
  private void begin(String call, String event, long vpn, long pages, boolean blockable, String owner, boolean flag, long walk, MmCommand after) {
    long id = s.nextInv;
    String initiator = walk != 0 ? s.walks.get(walk).cpu : from;
    List<String> subs = s.intersecting(vpn, pages);
    long coreSeq = subs.isEmpty() ? s.seq : s.seq | 1;
    d.emit(new MmEvent.InvalidationStarted(id, initiator, event, vpn << 12, pages, blockable, owner, coreSeq, subs, call, flag, walk, after));
    MmState.Inv inv = new MmState.Inv(id, initiator, event, vpn, pages, blockable, owner, coreSeq, subs, 0, 0, false, call, flag, walk, after);
    if (subs.isEmpty()) finish(inv, s.active + 1, false);
    else callback(inv, subs.get(0));
  }

  private void callback(MmState.Inv inv, String sub) {
    d.emit(new MmEvent.CallbackCalled(inv.id(), sub, inv.curSeq(), inv.initiator()));
    d.send(inv.initiator(), new MmReply.RunCallback(inv.id(), sub, inv.curSeq(), inv.startVpn() << 12, inv.pages(), inv.event(), inv.blockable(),
        inv.owner()));
  }

  private void callbackReturned(MmCommand.CallbackReturned c) {
    MmState.Inv inv = s.invs.get(c.inv());
    if (inv == null) throw new IllegalStateException(from + " returns from a callback of invalidation " + c.inv() + ", which is not running");
    d.emit(new MmEvent.CallbackFinished(c.inv(), c.sub(), c.ok()));
    if (!c.ok()) {
      // mn_itree_invalidate: a callback may fail only a non-blockable range; the core ends the invalidation itself (-EAGAIN) and the
      // caller leaves the page table alone.
      finish(inv, s.active, true);
    } else if (inv.called() < inv.subs().size()) {
      callback(inv, inv.subs().get(inv.called()));
    } else {
      finish(inv, s.active, false);
    }
  }

  /**
   * Every callback returned: make the change the invalidation was for, then end it
   * (mn_itree_inv_end: the last active invalidation makes the seq even again and wakes the readers
   * sleeping in read_begin). {@code active} counts this one.
   */
  private void finish(MmState.Inv inv, int active, boolean failed) {
    if (!failed) change(inv);
    // mn_itree_inv_end: the last active invalidation makes an odd seq even (whoever made it odd: this one, or an insert meanwhile)
    long core = Math.max(s.seq, inv.curSeq());
    long seq = active == 1 && (core & 1) == 1 ? core + 1 : core;
    d.emit(new MmEvent.InvalidationEnded(inv.id(), seq, failed));
    if (seq != core) applyDeferred(seq);
    for (MmState.Waiter w : s.waiters) {
      if (w.seq() != seq) {
        d.emit(new MmEvent.ReadBegun(w.sub(), w.cpu(), w.seq(), true));
        d.send(w.cpu(), new MmReply.SeqRead(w.sub(), w.seq()));
      }
    }
    if (inv.walk() != 0) {
      d.send(self, new MmCommand.WalkNext(inv.walk())); // the walk restarts at the page it faulted
    } else if (inv.after() != null) {
      d.send(self, new MmCommand.Resume(inv.initiator(), inv.after())); // the call the injected reclaim went before
    } else if (inv.call().equals("migrate") && !failed) {
      // the migrating thread goes on to copy, migrate_vma_pages and migrate_vma_finalize: it returns when they are done
    } else {
      done(inv.initiator(), inv.call(), failed ? Errno.EAGAIN : 0);
    }
    if (WRITERS.contains(inv.call())) wakeLockWaiters(0);
  }

  /** The last invalidation ended (mn_itree_inv_end): the deferred inserts and removes go into the tree, and the removes waiting are answered. */
  private void applyDeferred(long seq) {
    List<String> inserted = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    for (MmState.Sub sub : s.subs.values()) {
      if (sub.deferredInsert) inserted.add(sub.name);
      if (sub.deferredRemove) removed.add(sub.name);
    }
    if (!inserted.isEmpty() || !removed.isEmpty()) d.emit(new MmEvent.DeferredApplied(inserted, removed));
    for (MmEvent.SubRemoveWaits w : s.removeWaiters) {
      if (w.seq() == seq) continue;
      d.emit(new MmEvent.SubRemoved(w.sub(), w.cpu()));
      done(w.cpu(), "remove", 0);
    }
  }

  /** Hands mmap_lock to the calls waiting for it, when it is free (no writer, and no walk unless {@code endedWalk} was the last). */
  private void wakeLockWaiters(long endedWalk) {
    if (s.lockWaiters.isEmpty()) return;
    if (s.walks.size() - (endedWalk != 0 && s.walks.containsKey(endedWalk) ? 1 : 0) > 0 && WRITERS.contains(s.lockWaiters.get(0).call())) return;
    d.emit(new MmEvent.MmapLockResumed(s.lockWaiters.size()));
    for (MmEvent.MmapLockWaits w : s.lockWaiters) d.send(self, new MmCommand.Resume(w.cpu(), w.command()));
  }

  /** The page-table change of {@code inv}, made once its callbacks returned. */
  private void change(MmState.Inv inv) {
    String ev = inv.event();
    switch (inv.call()) {
      case "munmap" -> {
        s.ptesIn(inv.startVpn(), inv.pages()).forEach((v, p) -> unmap(v, p, ev));
        d.emit(new MmEvent.VmaRemoved(inv.startVpn() << 12, inv.pages()));
      }
      case "madvise", "reclaim" -> s.ptesIn(inv.startVpn(), inv.pages()).forEach((v, p) -> unmap(v, p, ev));
      case "exit" -> {
        s.ptesIn(inv.startVpn(), inv.pages()).forEach((v, p) -> unmap(v, p, ev));
        for (MmState.Vma vma : new ArrayList<>(s.vmas.values())) d.emit(new MmEvent.VmaRemoved(vma.startVpn() << 12, vma.pages()));
      }
      case "mprotect" -> {
        s.ptesIn(inv.startVpn(), inv.pages()).forEach((v, p) -> {
          if (p.writable()) d.emit(new MmEvent.PteSet(v << 12, p.pfn(), false, kind(p), p.owner()));
        });
        d.emit(new MmEvent.VmaProtected(inv.startVpn() << 12, inv.pages(), false));
      }
      case "fork" -> s.ptesIn(inv.startVpn(), inv.pages()).forEach((v, p) -> {
        if (p.devicePrivate() || p.migration()) return;
        if (p.writable()) d.emit(new MmEvent.PteSet(v << 12, p.pfn(), false, kind(p), p.owner())); // copy-on-write in parent and child
        d.emit(new MmEvent.FrameReferenced(p.pfn(), s.frame(p.pfn()).refs() + 1)); // the child's mapping
      });
      case "migrate" -> {
        // migrate_vma_setup: the pages to move are unmapped and hold migration entries until migrate_vma_finalize
        s.ptesIn(inv.startVpn(), inv.pages()).forEach((v, p) -> {
          if (!p.migration() && inv.flag() != p.devicePrivate()) d.emit(new MmEvent.PteSet(v << 12, p.pfn(), p.writable(), "migration", inv.owner()));
        });
        d.send(self, new MmCommand.MigrationFinish(inv.id()));
      }
      case "touch", "walk" -> fault(inv.startVpn(), inv.flag());
      default -> throw new IllegalStateException("unknown memory operation " + inv.call());
    }
  }

  private static String kind(MmState.Pte p) {
    return p.devicePrivate() ? "device-private" : p.migration() ? "migration" : "present";
  }

  /**
   * migrate_vma_pages + migrate_vma_finalize: every page of the migration still holding its
   * migration entry gets its new page (device-private memory of the owner, or system memory back),
   * the old page is released, and whoever met a migration entry of it goes on.
   */
  private void migrationFinish(long id) {
    MmState.Inv m = s.migrations.get(id);
    if (m == null) return;
    s.ptesIn(m.startVpn(), m.pages()).forEach((v, p) -> {
      if (!p.migration()) return; // unmapped meanwhile: nothing to finish
      if (m.flag()) {
        map(v, newFrame(true, m.owner()), p.writable(), true, m.owner());
      } else {
        MmState.Vma vma = s.vma(v);
        map(v, newFrame(false, ""), vma != null && vma.write(), false, "");
      }
      unref(p.pfn());
    });
    d.emit(new MmEvent.MigrationFinished(id));
    done(m.initiator(), "migrate", 0);
    for (MmEvent.MigrationWaits w : s.migrationWaiters) {
      if (w.migration() != id) continue;
      if (w.walk() != 0) d.send(self, new MmCommand.WalkNext(w.walk()));
      else d.send(self, new MmCommand.Resume(w.cpu(), w.command()));
    }
  }

  /** The migration whose entry {@code p} is (the one that covers {@code vpn}). */
  private long migrationOf(long vpn) {
    for (MmState.Inv m : s.migrations.values()) if (vpn >= m.startVpn() && vpn < m.startVpn() + m.pages()) return m.id();
    throw new IllegalStateException("a migration entry at 0x" + Long.toHexString(vpn << 12) + " without its migration");
  }

  private void unmap(long vpn, MmState.Pte p, String event) {
    d.emit(new MmEvent.PteCleared(vpn << 12, p.pfn(), event));
    unref(p.pfn());
  }

  private void unref(long pfn) {
    MmState.Frame f = s.frame(pfn);
    if (f.refs() <= 1) d.emit(new MmEvent.FrameFreed(pfn, f.devicePrivate() ? "device-private" : "p2p".equals(f.owner()) ? "p2p" : "anon"));
    else d.emit(new MmEvent.FrameReferenced(pfn, f.refs() - 1));
  }

  private void map(long vpn, long pfn, boolean writable, boolean devicePrivate, String owner) {
    d.emit(new MmEvent.PteSet(vpn << 12, pfn, writable, devicePrivate ? "device-private" : "present", owner));
  }

  private long newFrame(boolean device, String owner) {
    long pfn = device ? s.peekFrames(allocatedDevice + 1, true).get(allocatedDevice++) : s.peekFrames(allocated + 1, false).get(allocated++);
    d.emit(new MmEvent.FrameAllocated(pfn, device ? "device-private" : "anon", owner));
    return pfn;
  }

  private void migrateBack(long vpn, MmState.Pte p) {
    MmState.Vma vma = s.vma(vpn);
    map(vpn, newFrame(false, ""), vma != null && vma.write(), false, "");
    unref(p.pfn());
  }

  /**
   * handle_mm_fault for page {@code vpn} once its invalidation (if it needed one) is over: populate
   * a missing page, migrate a device-private page back, or break copy-on-write for a write.
   */
  private void fault(long vpn, boolean write) {
    MmState.Vma vma = s.vma(vpn);
    MmState.Pte p = s.pte(vpn);
    if (vma == null) return;
    if (p == null) {
      map(vpn, newFrame(false, ""), vma.write(), false, "");
    } else if (p.devicePrivate()) {
      migrateBack(vpn, p);
    } else if (write && !p.writable()) {
      if (s.frame(p.pfn()).refs() > 1) { // wp_page_copy: a new page for this process
        map(vpn, newFrame(false, ""), true, false, "");
        unref(p.pfn());
      } else {
        map(vpn, p.pfn(), true, false, ""); // wp_page_reuse
      }
    }
  }

  /** What a CPU access to {@code vpn} needs: nothing, a fault without invalidation, or an invalidation first (event), as handle_mm_fault decides. */
  private String faultNeeds(long vpn, boolean write) {
    MmState.Pte p = s.pte(vpn);
    if (p == null) return "populate";
    if (p.devicePrivate()) return "MIGRATE"; // do_swap_page -> the owner's migrate_to_ram
    if (write && !p.writable()) return s.frame(p.pfn()).refs() > 1 ? "CLEAR" : "reuse"; // wp_page_copy invalidates; reuse does not
    return "";
  }

  private void touch(MmCommand.Touch t) {
    long vpn = t.va() >>> 12;
    MmState.Vma vma = s.vma(vpn);
    if (vma == null || (t.write() && !vma.write())) {
      done("touch", Errno.EFAULT); // SIGSEGV
      return;
    }
    if (vma.io()) {
      done("touch", 0); // device memory mapped by the driver: no page fault to handle
      return;
    }
    MmState.Pte now = s.pte(vpn);
    if (now != null && now.migration()) {
      d.emit(new MmEvent.MigrationWaits(migrationOf(vpn), from, 0, t)); // do_swap_page: migration_entry_wait, then the fault again
      return;
    }
    String needs = faultNeeds(vpn, t.write());
    if (needs.equals("MIGRATE") || needs.equals("CLEAR")) {
      begin("touch", needs, vpn, 1, true, needs.equals("MIGRATE") ? s.pte(vpn).owner() : "", t.write(), 0);
    } else {
      if (!needs.isEmpty()) fault(vpn, t.write());
      done("touch", 0);
    }
  }

  // ---------------------------------------------------------------- hmm_range_fault

  private void rangeFault(MmCommand.RangeFault r) {
    long id = s.nextWalk;
    d.emit(new MmEvent.WalkStarted(id, from, r.sub(), r.seq(), r.start(), r.pages(), r.defaultFlags(), r.pfnFlagsMask(), r.owner(), r.input()));
    if (s.sub(r.sub()).seq != r.seq()) {
      end(id, from, r.sub(), Errno.EBUSY, r.start(), r.input()); // mmu_interval_check_retry before the first walk
    } else {
      d.send(self, new MmCommand.WalkNext(id));
    }
  }

  private void end(long walk, String cpu, String sub, int errno, long start, List<Long> words) {
    d.emit(new MmEvent.WalkEnded(walk, errno));
    d.send(cpu, new MmReply.RangeFaulted(sub, errno, start, words));
    wakeLockWaiters(walk);
  }

  /**
   * One page of hmm_range_fault: after a fault the loop first checks the sequence
   * (mmu_interval_check_retry: -EBUSY); then the page's request is computed as hmm_pte_need_fault
   * does, from the input word, pfn_flags_mask and default_flags; a page that satisfies it is
   * written with the INOUT bits of the input kept; one that does not is faulted (hmm_vma_fault) and
   * walked again.
   */
  private void walkNext(MmState.Walk w) {
    if (w.restart && s.sub(w.sub).seq != w.seq) {
      end(w.id, w.cpu, w.sub, Errno.EBUSY, w.startVpn << 12, w.words());
      return;
    }
    if (w.index == w.pages) {
      end(w.id, w.cpu, w.sub, 0, w.startVpn << 12, w.words());
      return;
    }
    int i = w.index;
    if (s.sub(w.sub).sharedPfns) {
      // range.hmm_pfns is the driver's map.pfn_list: the walker loads the entry there (no lock), and stores it later
      d.send(dmasim.actors.model.Names.mirror(w.sub), new dmasim.protocol.MirrorCommand.ReadWord(w.id, (int) (w.startVpn - s.sub(w.sub).startVpn) + i));
      return;
    }
    page(w, i, w.words[i]);
  }

  /** Page {@code i} of walk {@code w}, whose entry holds {@code in} (the request on input). */
  private void page(MmState.Walk w, int i, long in) {
    long vpn = w.startVpn + i;
    long req = (in & w.mask) | w.defaultFlags;
    boolean fault = (req & HmmPfn.REQ_FAULT) != 0;
    boolean writeFault = fault && (req & HmmPfn.REQ_WRITE) != 0;
    MmState.Vma vma = s.vma(vpn);
    MmState.Pte p = s.pte(vpn);
    if (vma == null) { // hmm_vma_walk_hole without a vma
      if (fault) {
        end(w.id, w.cpu, w.sub, Errno.EFAULT, w.startVpn << 12, w.words());
      } else {
        step(w, i, (in & HmmPfn.INOUT) | HmmPfn.ERROR, "error");
      }
      return;
    }
    if (vma.io()) { // hmm_vma_walk_test: VM_IO | VM_PFNMAP has no struct pages to mirror
      if (fault) end(w.id, w.cpu, w.sub, Errno.EFAULT, w.startVpn << 12, w.words());
      else step(w, i, (in & HmmPfn.INOUT) | HmmPfn.ERROR, "error");
      return;
    }
    if (p != null && p.migration()) {
      // hmm_vma_handle_pte: migration_entry_wait, then -EBUSY: the walk restarts at this page when the migration is over
      d.emit(new MmEvent.WalkStep(w.id, i, vpn << 12, in, "migration-wait"));
      d.emit(new MmEvent.MigrationWaits(migrationOf(vpn), w.cpu, w.id, null));
      return;
    }
    if (p != null && p.devicePrivate() && !w.owner.isEmpty() && p.owner().equals(w.owner)) {
      // hmm_vma_handle_pte: the range's own device-private page is reported as it is, never faulted
      step(w, i, (in & HmmPfn.INOUT) | HmmPfn.VALID | (p.writable() ? HmmPfn.WRITE : 0) | p.pfn(), "device-private");
      return;
    }
    boolean satisfied = p != null && !p.devicePrivate() && (!writeFault || p.writable());
    if (satisfied) {
      step(w, i, (in & HmmPfn.INOUT) | HmmPfn.VALID | (p.writable() ? HmmPfn.WRITE : 0) | p.pfn(), "present");
      return;
    }
    if (!fault) {
      step(w, i, in & HmmPfn.INOUT, "none"); // not present and not requested: HMM_PFN_NONE (INOUT bits kept)
      return;
    }
    if (writeFault && !vma.write()) {
      if (cfg.hmmWriteCheck()) {
        end(w.id, w.cpu, w.sub, Errno.EPERM, w.startVpn << 12, w.words()); // hmm_vma_fault: write fault on a VMA without VM_WRITE
      } else {
        // before the fix: handle_mm_fault(FAULT_FLAG_WRITE) leaves the PTE read-only without an error and the walk reports -EBUSY
        d.emit(new MmEvent.WalkStep(w.id, i, vpn << 12, in, "no-progress"));
        end(w.id, w.cpu, w.sub, Errno.EBUSY, w.startVpn << 12, w.words());
      }
      return;
    }
    if (p != null && p.devicePrivate() && !cfg.foreignDevicePrivateFaults()) {
      end(w.id, w.cpu, w.sub, Errno.EFAULT, w.startVpn << 12, w.words()); // v5.7 hmm_vma_handle_pte: "report error for everything else"
      return;
    }
    String needs = faultNeeds(vpn, writeFault);
    d.emit(new MmEvent.WalkStep(w.id, i, vpn << 12, in, "fault"));
    if (needs.equals("MIGRATE") || needs.equals("CLEAR")) {
      String owner = needs.equals("MIGRATE") ? p.owner() : "";
      begin("walk", needs, vpn, 1, true, owner, writeFault, w.id); // its initiator is the walk's queue
    } else {
      fault(vpn, writeFault);
      d.send(self, new MmCommand.WalkNext(w.id));
    }
  }

  private void step(MmState.Walk w, int i, long word, String action) {
    d.emit(new MmEvent.WalkStep(w.id, i, (w.startVpn + i) << 12, word, action));
    if (s.sub(w.sub).sharedPfns) {
      // *hmm_pfn = (*hmm_pfn & HMM_PFN_INOUT_FLAGS) | new, with the value loaded before: a store a concurrent clear can lose to
      d.send(dmasim.actors.model.Names.mirror(w.sub), new dmasim.protocol.MirrorCommand.WriteWord(w.id, (int) (w.startVpn - s.sub(w.sub).startVpn) + i,
          word));
      return; // the walk goes on once the store is done (WordStored)
    }
    d.send(self, new MmCommand.WalkNext(w.id));
  }
}
