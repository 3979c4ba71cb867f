package dmasim.actors.odp;

import dmasim.actors.model.Decision;
import dmasim.protocol.Envelope;
import dmasim.protocol.Errno;
import dmasim.protocol.HcaCommand;
import dmasim.protocol.HcaEvent;
import dmasim.protocol.HcaReply;
import dmasim.protocol.Message;
import java.util.List;

/**
 * The decisions of the RDMA device and the driver's structures around it (drivers/infiniband/hw/mlx5
 * odp.c, mr.c, umr.c): mkey lookups and references (find_odp_mkey, mlx5r_deref_odp_mkey,
 * mlx5r_deref_wait_odp_mkey), an implicit MR's children (implicit_get_child_mr's __xa_cmpxchg,
 * destroy_unused_implicit_child_mr), its KSM written by UMR work requests that the UMR QP executes
 * one delivery later (so two of them can be in flight, built from different snapshots), and the
 * driver's workqueue with the SRCU grace period that deferred child destruction before 2021.
 */
public final class HcaLogic {
  /** How long an SRCU grace period lasts, in virtual time: the deferred destroy reaches the workqueue this much later. */
  public static final long GRACE_PERIOD_NS = 1000;
  /** The work handler a page-fault event runs (rdma.work.pagefault). */
  public static final String PAGE_FAULT_HANDLER = "pagefault";

  private final HcaState s;
  private final Decision d = new Decision();
  private final String self;
  private final String from;

  private HcaLogic(HcaState s, Envelope env) {
    this.s = s;
    this.self = env.receiver();
    this.from = env.sender();
  }

  public static Decision decide(HcaState s, Envelope env) {
    HcaLogic l = new HcaLogic(s, env);
    l.handle(env.message());
    return l.d;
  }

  private void answer(String to, String call, int errno) {
    d.send(to, new HcaReply.Done(call, errno));
  }

  private HcaState.Mkey mkey(String name) {
    HcaState.Mkey k = s.mkey(name);
    if (k == null) throw new IllegalArgumentException(self + " has no memory region " + name);
    return k;
  }

  private void handle(Message m) {
    if (m instanceof HcaCommand.MkeyCreate c) {
      HcaState.Mkey k = mkey(c.mr());
      if (k.live()) answer(from, "mkey_create", Errno.EEXIST);
      else {
        d.emit(new HcaEvent.MkeyCreated(c.mr(), from, c.addrs(), c.pfns()));
        answer(from, "mkey_create", Errno.OK);
      }
    } else if (m instanceof HcaCommand.MkeyGet g) {
      HcaState.Mkey k = mkey(g.mr());
      if (!k.live() || !k.published) {
        d.emit(new HcaEvent.RefMissed(g.mr(), from, k.freed ? "freed" : "not in odp_mkeys"));
        answer(from, "mkey_get", Errno.ENOENT);
      } else {
        d.emit(new HcaEvent.RefTaken(g.mr(), from, k.usecount + 1, k.mr.kind() == HcaSettings.Kind.IMPLICIT ? "implicit lookup" : "lookup"));
        answer(from, "mkey_get", Errno.OK);
      }
    } else if (m instanceof HcaCommand.MkeyPut p) {
      put(p.mr(), from, mkey(p.mr()).usecount);
      answer(from, "mkey_put", Errno.OK);
    } else if (m instanceof HcaCommand.MkeyUnpublish u) {
      d.emit(new HcaEvent.Unpublished(u.mr(), from));
      answer(from, "mkey_unpublish", Errno.OK);
    } else if (m instanceof HcaCommand.MkeyWait w) {
      HcaState.Mkey k = mkey(w.mr());
      int left = k.usecount - 1;
      if (left > 0) d.emit(new HcaEvent.RefDropped(w.mr(), from, left)).emit(new HcaEvent.WaitStarted(w.mr(), from, left));
      else {
        put(w.mr(), from, k.usecount);
        answer(from, "mkey_wait", Errno.OK);
      }
    } else if (m instanceof HcaCommand.MkeyRevoke r) {
      d.emit(new HcaEvent.Revoked(r.mr(), from));
      mtt(r.mr(), false);
      answer(from, "mkey_revoke", Errno.OK);
    } else if (m instanceof HcaCommand.MkeyFree f) {
      d.emit(new HcaEvent.Freed(f.mr(), from));
      if (!mkey(f.mr()).revoked) mtt(f.mr(), false);
      answer(from, "mkey_free", Errno.OK);
    } else if (m instanceof HcaCommand.MkeyCheck c) {
      HcaState.Mkey k = mkey(c.mr());
      answer(from, "mkey_check", k.revoked || !k.live() ? Errno.ENOENT : Errno.OK);
    } else if (m instanceof HcaCommand.ChildGet g) {
      HcaState.Mkey k = mkey(g.child());
      if (k.live() && s.child(k.mr.parent(), k.mr.slot()).equals(g.child()) && k.usecount > 0) {
        d.emit(new HcaEvent.RefTaken(g.child(), from, k.usecount + 1, "child"));
        answer(from, "child_get", Errno.OK);
      } else {
        d.emit(new HcaEvent.RefMissed(g.child(), from, "no child in slot " + k.mr.slot() + " of " + k.mr.parent()));
        answer(from, "child_get", Errno.ENOENT);
      }
    } else if (m instanceof HcaCommand.ChildCreate c) {
      create(c);
    } else if (m instanceof dmasim.protocol.MirrorReply.Done && from.startsWith("dpt-") && s.creating.containsKey(from.substring(4))) {
      // the child's hmm_dma_map_alloc returned: now its interval notifier, unless another child's insert is in flight
      String child = from.substring(4);
      d.emit(new HcaEvent.ChildAllocated(child));
      if (s.inserting == null) insert(child);
    } else if (m instanceof dmasim.protocol.MmReply.Done && s.inserting != null) {
      HcaEvent.ChildCreating c = s.creating.get(s.inserting);
      d.emit(new HcaEvent.ChildCreated(c.child(), c.parent(), c.slot(), c.cpu(), true));
      if (mkey(c.child()).revoked || mkey(c.child()).freed) mtt(c.child(), true); // a new child's mkey over the same mirror
      answer(c.cpu(), "child_create", Errno.OK);
      for (String next : s.creating.keySet()) { // the next allocated child, in the order creations began
        if (!next.equals(c.child()) && s.allocated.contains(next)) {
          insert(next);
          break;
        }
      }
    } else if (m instanceof HcaCommand.ChildDestroy x) {
      destroy(x);
    } else if (m instanceof HcaCommand.KsmUpdate u) {
      long id = s.nextUmr;
      // mlx5r_umr_update_xlt -> populate_klm: the entries are built from the xarray as it is now; the UMR QP executes them later
      List<String> values = new java.util.ArrayList<>();
      for (int i = u.first(); i < u.first() + u.count(); i++) values.add(s.child(u.parent(), i));
      d.emit(new HcaEvent.UmrPosted(id, from, u.parent(), u.first(), values));
      d.send(self, new HcaCommand.UmrRun(id));
    } else if (m instanceof HcaCommand.UmrRun r) {
      HcaEvent.UmrPosted u = s.umrs.get(r.id());
      HcaState.Mkey parent = mkey(u.parent());
      boolean ok = parent.live() && !parent.revoked; // a UMR on a destroyed or revoked mkey completes in error
      d.emit(new HcaEvent.UmrCompleted(u.id(), u.cpu(), u.parent(), u.first(), u.values(), ok));
      answer(u.cpu(), "ksm_update", ok ? Errno.OK : Errno.EIO);
    } else if (m instanceof HcaCommand.GracePeriod g) {
      d.emit(new HcaEvent.WorkReady(g.work()));
      HcaEvent.WorkQueued w = s.deferred.get(g.work());
      if (!s.idle.isEmpty() && s.queued.isEmpty()) start(w, s.idle.peekFirst());
    } else if (m instanceof HcaCommand.PageFault f) {
      // mlx5_ib_eq_pf_int -> mlx5_ib_eq_pf_process: the event becomes a work item on the page-fault workqueue
      HcaEvent.WorkQueued w = new HcaEvent.WorkQueued(s.nextWork, PAGE_FAULT_HANDLER, f.mr(), from, false, f.token());
      d.emit(w);
      if (!s.idle.isEmpty() && s.queued.isEmpty()) start(w, s.idle.peekFirst());
    } else if (m instanceof HcaCommand.WorkRun) {
      if (s.queued.isEmpty()) d.emit(new HcaEvent.WorkerIdle(from));
      else start(s.queued.firstEntry().getValue(), from);
    } else if (m instanceof HcaCommand.WorkDone w) {
      d.emit(new HcaEvent.WorkFinished(w.id(), from));
      for (HcaState.Flush f : s.flushes) {
        boolean done = f.deferred() ? s.outstandingWork() == 1 : f.items().size() == 1 && f.items().contains(w.id()) || f.items().isEmpty();
        if (done) {
          d.emit(new HcaEvent.FlushEnded(f.cpu()));
          answer(f.cpu(), "wq_flush", Errno.OK);
        }
      }
    } else if (m instanceof HcaCommand.WqFlush f) {
      boolean nothing = f.deferred() ? s.outstandingWork() == 0 : s.queued.isEmpty() && s.running.isEmpty();
      if (nothing) answer(from, "wq_flush", Errno.OK);
      else d.emit(new HcaEvent.FlushStarted(from, f.deferred()));
    } else {
      throw new IllegalArgumentException(self + " cannot handle " + m.getClass().getName());
    }
  }

  /** Drops one reference of {@code cpu} on {@code mr}, which has {@code usecount}; the last one wakes the waiters. */
  private void put(String mr, String cpu, int usecount) {
    d.emit(new HcaEvent.RefDropped(mr, cpu, usecount - 1));
    if (usecount - 1 == 0) {
      for (String w : s.waiters.getOrDefault(mr, List.of())) {
        d.emit(new HcaEvent.WaitEnded(mr, w));
        answer(w, "mkey_wait", Errno.OK);
      }
    }
  }

  /** implicit_get_child_mr: the new child goes in with __xa_cmpxchg; a queue that finds another child there adopts it. */
  private void create(HcaCommand.ChildCreate c) {
    HcaState.Mkey own = mkey(c.child());
    HcaSettings.Mr child = own.mr;
    String there = s.child(child.parent(), child.slot());
    if (there.isEmpty() && own.live()) {
      // the model has one child per slot: its predecessor, taken out of the xarray, is not freed yet (the kernel would make a new one)
      d.emit(new HcaEvent.RefMissed(c.child(), from, "its predecessor in slot " + child.slot() + " is still being destroyed"));
      answer(from, "child_create", Errno.EAGAIN);
      return;
    }
    if (there.isEmpty() && s.creating.containsKey(c.child())) {
      // another queue allocates this slot's child right now: it will win the cmpxchg; this fault resumes and the device faults again
      d.emit(new HcaEvent.RefMissed(c.child(), from, s.creating.get(c.child()).cpu() + " is creating the child of slot " + child.slot()));
      answer(from, "child_create", Errno.EAGAIN);
      return;
    }
    if (there.isEmpty()) {
      d.emit(new HcaEvent.ChildCreating(c.child(), child.parent(), child.slot(), from));
      d.send(dmasim.actors.model.Names.mirror(c.child()), new dmasim.protocol.MirrorCommand.DmaAlloc());
      return;
    }
    HcaState.Mkey winner = mkey(there);
    d.emit(new HcaEvent.ChildCreated(there, child.parent(), child.slot(), from, false));
    d.emit(new HcaEvent.RefTaken(there, from, winner.usecount + 1, "adopt"));
    answer(from, "child_create", Errno.EEXIST);
  }

  /** destroy_unused_implicit_child_mr, in the form {@code x} says. */
  private void destroy(HcaCommand.ChildDestroy x) {
    HcaSettings.Mr child = mkey(x.child()).mr;
    HcaState.Mkey parent = mkey(child.parent());
    boolean there = s.child(child.parent(), child.slot()).equals(x.child());
    if (x.work().isEmpty()) { // the parent's teardown: xa_erase, dereg inline
      if (there) d.emit(new HcaEvent.ChildRemoved(x.child(), child.parent(), child.slot(), from, true));
      answer(from, "child_erase", there ? Errno.OK : Errno.ENOENT);
      return;
    }
    if (x.srcu()) { // before 2021: no usecount on the parent; an SRCU grace period, then the workqueue
      if (there || x.erase()) d.emit(new HcaEvent.ChildRemoved(x.child(), child.parent(), child.slot(), from, x.erase()));
      if (!there && !x.erase()) {
        answer(from, "child_destroy", Errno.EEXIST);
        return;
      }
      HcaEvent.WorkQueued w = new HcaEvent.WorkQueued(s.nextWork, x.work(), x.child(), from, true, 0);
      d.emit(w);
      d.send(self, new HcaCommand.GracePeriod(w.id()), GRACE_PERIOD_NS);
      answer(from, "child_destroy", Errno.OK);
      return;
    }
    if (!parent.live() || parent.usecount <= 0) { // refcount_inc_not_zero(&imr->mmkey.usecount) failed: the parent's teardown owns the child
      d.emit(new HcaEvent.RefMissed(child.parent(), from, "its usecount is 0 (being deregistered)"));
      answer(from, "child_destroy", Errno.ENOENT);
      return;
    }
    d.emit(new HcaEvent.RefTaken(child.parent(), from, parent.usecount + 1, "parent"));
    if (!x.erase() && !there) { // __xa_cmpxchg found another value: someone else is destroying it
      if (x.putOnLost()) put(child.parent(), from, parent.usecount + 1);
      d.emit(new HcaEvent.RefMissed(x.child(), from, "lost the cmpxchg: another queue took it out of the xarray; the parent reference "
          + (x.putOnLost() ? "dropped" : "kept")));
      answer(from, "child_destroy", Errno.EEXIST);
      return;
    }
    if (there || x.erase()) d.emit(new HcaEvent.ChildRemoved(x.child(), child.parent(), child.slot(), from, x.erase()));
    HcaEvent.WorkQueued w = new HcaEvent.WorkQueued(s.nextWork, x.work(), x.child(), from, false, 0);
    d.emit(w);
    if (!s.idle.isEmpty() && s.queued.isEmpty()) start(w, s.idle.peekFirst());
    answer(from, "child_destroy", Errno.OK);
  }

  /** Tells the mirror of an explicit MR or a child whether its mkey lives: UMRs of a dead one's MTT complete in error. */
  private void mtt(String mr, boolean live) {
    HcaSettings.Kind kind = mkey(mr).mr.kind();
    if (kind == HcaSettings.Kind.EXPLICIT || kind == HcaSettings.Kind.CHILD) d.send(dmasim.actors.model.Names.mirror(mr), new dmasim.protocol.MirrorCommand.MkeyState(live));
  }

  private void insert(String child) {
    d.emit(new HcaEvent.ChildInserting(child));
    d.send(dmasim.actors.model.Names.mm(0), new dmasim.protocol.MmCommand.Insert(child));
  }

  private void start(HcaEvent.WorkQueued w, String worker) {
    d.emit(new HcaEvent.WorkStarted(w.id(), w.kind(), w.mr(), worker));
    d.send(worker, new HcaReply.RunWork(w.id(), w.kind(), w.mr(), w.token()));
  }
}
