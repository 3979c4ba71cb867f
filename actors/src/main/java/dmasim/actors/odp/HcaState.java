package dmasim.actors.odp;

import dmasim.protocol.Event;
import dmasim.protocol.HcaEvent;
import dmasim.protocol.JournalEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The RDMA device's side of on-demand paging, folded from {@link HcaEvent}s: every mkey (published
 * in dev->odp_mkeys or not, its usecount, revoked, freed), each implicit parent's xarray of children
 * and its KSM as the device sees it, UMR work requests posted and not completed, the driver's
 * workqueue (deferred, queued and running items, idle workers) and who sleeps on what. Changed only
 * by {@link #apply}.
 */
public final class HcaState {
  /** One mkey and the MR behind it. */
  public static final class Mkey {
    final HcaSettings.Mr mr;
    /** Created (explicit and implicit MRs from the start, children by a won ChildCreate) and not freed. */
    boolean exists;
    boolean published;
    int usecount;
    boolean revoked;
    boolean freed;

    Mkey(HcaSettings.Mr mr) {
      this.mr = mr;
    }

    public boolean live() {
      return exists && !freed;
    }

    public int usecount() {
      return usecount;
    }
  }

  /** A flush waiting: who, whether deferred work counts too, and the items queued before it. */
  record Flush(String cpu, boolean deferred, Set<Long> items) {}

  final HcaSettings cfg;
  final TreeMap<String, Mkey> mkeys = new TreeMap<>();
  /** Per implicit parent: the child in each slot of implicit_children ("" for none). */
  final Map<String, String[]> xarray = new HashMap<>();
  /** Per implicit parent: the KSM entry of each slot as the device holds it ("" for the null mkey). */
  final Map<String, String[]> ksm = new HashMap<>();
  final TreeMap<Long, HcaEvent.UmrPosted> umrs = new TreeMap<>();
  final TreeMap<Long, HcaEvent.WorkQueued> deferred = new TreeMap<>();
  final TreeMap<Long, HcaEvent.WorkQueued> queued = new TreeMap<>();
  final TreeMap<Long, HcaEvent.WorkStarted> running = new TreeMap<>();
  final ArrayDeque<String> idle = new ArrayDeque<>();
  final TreeMap<String, List<String>> waiters = new TreeMap<>();
  final List<Flush> flushes = new ArrayList<>();
  /** Children being allocated (their hmm_dma_map, then their notifier), in the order they began, and for whom. */
  final java.util.LinkedHashMap<String, HcaEvent.ChildCreating> creating = new java.util.LinkedHashMap<>();
  /** Of those, the ones whose hmm_dma_map is allocated; and the one whose notifier insert is in flight, or null. */
  final java.util.Set<String> allocated = new java.util.HashSet<>();
  String inserting;
  long nextUmr = 1;
  long nextWork = 1;

  public HcaState(HcaSettings cfg) {
    this.cfg = cfg;
    for (HcaSettings.Mr m : cfg.mrs()) {
      Mkey k = new Mkey(m);
      if (m.kind() == HcaSettings.Kind.EXPLICIT || m.kind() == HcaSettings.Kind.IMPLICIT) {
        k.exists = true;
        k.published = true;
        k.usecount = 1; // the registration's reference
      }
      mkeys.put(m.name(), k);
      if (m.kind() == HcaSettings.Kind.IMPLICIT) {
        xarray.put(m.name(), cfg.emptySlots(m.name()));
        ksm.put(m.name(), cfg.emptySlots(m.name()));
      }
    }
  }

  public Mkey mkey(String name) {
    return mkeys.get(name);
  }

  /** The child in {@code parent}'s xarray slot, or "". */
  public String child(String parent, int slot) {
    String[] x = xarray.get(parent);
    return x == null || slot >= x.length ? "" : x[slot];
  }

  /** Every work item not yet finished: deferred, queued or running. */
  int outstandingWork() {
    return deferred.size() + queued.size() + running.size();
  }

  public List<String> describe() {
    List<String> out = new ArrayList<>();
    for (Mkey k : mkeys.values()) {
      if (!k.exists && !k.freed) continue;
      out.add(String.format(Locale.ROOT, "mkey %s (%s): %s, usecount %d%s%s", k.mr.name(), k.mr.kind().name().toLowerCase(Locale.ROOT),
          k.freed ? "freed" : k.published ? "published" : "not published", k.usecount, k.revoked ? ", revoked (odp->private = NULL)" : "",
          waiters.containsKey(k.mr.name()) ? ", waited for by " + String.join(", ", waiters.get(k.mr.name())) : ""));
    }
    xarray.forEach((p, x) -> {
      for (int i = 0; i < x.length; i++) {
        out.add(String.format(Locale.ROOT, "%s slot %d: xarray %s, KSM %s", p, i, x[i].isEmpty() ? "empty" : x[i], ksm.get(p)[i].isEmpty() ? "null mkey"
            : ksm.get(p)[i]));
      }
    });
    umrs.values().forEach(u -> out.add("UMR " + u.id() + " of " + u.cpu() + " posted: " + u.parent() + " slots from " + u.first() + " := "
        + u.values().stream().map(v -> v.isEmpty() ? "null mkey" : v).toList()));
    deferred.values().forEach(w -> out.add("work " + w.id() + " (" + w.kind() + " " + w.mr() + ") waits for an SRCU grace period"));
    queued.values().forEach(w -> out.add("work " + w.id() + " (" + w.kind() + " " + w.mr() + ") queued"));
    running.values().forEach(w -> out.add("work " + w.id() + " (" + w.kind() + " " + w.mr() + ") running on " + w.cpu()));
    creating.values().forEach(c -> out.add(c.cpu() + " is allocating child " + c.child() + (c.child().equals(inserting) ? " (inserting its notifier)"
        : allocated.contains(c.child()) ? " (its notifier insert waits)" : "")));
    if (!idle.isEmpty()) out.add("idle workers: " + String.join(", ", idle));
    flushes.forEach(f -> out.add(f.cpu() + " waits for the workqueue" + (f.deferred() ? " (and deferred work)" : "")));
    return out;
  }

  public HcaState apply(Event event) {
    if (event instanceof JournalEvent) return this;
    HcaEvent e = (HcaEvent) event;
    if (e instanceof HcaEvent.MkeyCreated c) {
      Mkey k = mkeys.get(c.mr());
      k.exists = true;
      k.freed = false;
      k.revoked = false;
      k.usecount = 1;
    } else if (e instanceof HcaEvent.RefTaken t) {
      mkeys.get(t.mr()).usecount = t.usecount();
    } else if (e instanceof HcaEvent.RefDropped t) {
      mkeys.get(t.mr()).usecount = t.usecount();
    } else if (e instanceof HcaEvent.Unpublished u) {
      mkeys.get(u.mr()).published = false;
    } else if (e instanceof HcaEvent.WaitStarted w) {
      waiters.computeIfAbsent(w.mr(), k -> new ArrayList<>()).add(w.cpu());
    } else if (e instanceof HcaEvent.WaitEnded w) {
      List<String> l = waiters.get(w.mr());
      if (l != null) {
        l.remove(w.cpu());
        if (l.isEmpty()) waiters.remove(w.mr());
      }
    } else if (e instanceof HcaEvent.Revoked r) {
      mkeys.get(r.mr()).revoked = true;
    } else if (e instanceof HcaEvent.Freed f) {
      Mkey k = mkeys.get(f.mr());
      k.freed = true;
      k.published = false;
    } else if (e instanceof HcaEvent.ChildCreating c) {
      creating.put(c.child(), c);
    } else if (e instanceof HcaEvent.ChildAllocated a) {
      allocated.add(a.child());
    } else if (e instanceof HcaEvent.ChildInserting i) {
      inserting = i.child();
    } else if (e instanceof HcaEvent.ChildCreated c && c.won()) {
      creating.remove(c.child());
      allocated.remove(c.child());
      inserting = null;
      Mkey k = mkeys.get(c.child());
      k.exists = true;
      k.freed = false;
      k.revoked = false;
      k.published = true;
      k.usecount = 2; // the xarray's and the creator's
      xarray.get(c.parent())[c.slot()] = c.child();
    } else if (e instanceof HcaEvent.ChildRemoved r) {
      xarray.get(r.parent())[r.slot()] = "";
      mkeys.get(r.child()).published = false;
    } else if (e instanceof HcaEvent.UmrPosted u) {
      umrs.put(u.id(), u);
      nextUmr = Math.max(nextUmr, u.id() + 1);
    } else if (e instanceof HcaEvent.UmrCompleted c) {
      umrs.remove(c.id());
      if (c.ok()) for (int i = 0; i < c.values().size(); i++) ksm.get(c.parent())[c.first() + i] = c.values().get(i);
    } else if (e instanceof HcaEvent.WorkQueued w) {
      (w.deferred() ? deferred : queued).put(w.id(), w);
      nextWork = Math.max(nextWork, w.id() + 1);
    } else if (e instanceof HcaEvent.WorkReady r) {
      HcaEvent.WorkQueued w = deferred.remove(r.id());
      if (w != null) queued.put(w.id(), w);
    } else if (e instanceof HcaEvent.WorkStarted s) {
      queued.remove(s.id());
      running.put(s.id(), s);
      idle.remove(s.cpu());
    } else if (e instanceof HcaEvent.WorkFinished f) {
      running.remove(f.id());
      for (Flush x : flushes) x.items().remove(f.id());
    } else if (e instanceof HcaEvent.WorkerIdle w) {
      idle.addLast(w.cpu());
    } else if (e instanceof HcaEvent.FlushStarted f) {
      Set<Long> items = new LinkedHashSet<>(queued.keySet());
      items.addAll(running.keySet());
      flushes.add(new Flush(f.cpu(), f.deferred(), items));
    } else if (e instanceof HcaEvent.FlushEnded f) {
      flushes.removeIf(x -> x.cpu().equals(f.cpu()));
    }
    return this;
  }
}
