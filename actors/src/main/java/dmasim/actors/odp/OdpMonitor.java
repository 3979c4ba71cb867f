package dmasim.actors.odp;

import dmasim.actors.mm.MirrorSettings;
import dmasim.actors.monitor.AbstractMonitor;
import dmasim.actors.monitor.StepInfo;
import dmasim.protocol.CpuEvent;
import dmasim.protocol.Event;
import dmasim.protocol.HcaEvent;
import dmasim.protocol.MemoryEvent;
import dmasim.protocol.MirrorEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The invariants of RDMA on-demand paging (drivers/infiniband/hw/mlx5 odp.c, mr.c, umr.c): one UMR
 * at a time per mkey's translation (O1), an implicit MR's KSM that catches up with its xarray and is
 * never overwritten by an older snapshot (O2), no UMR and no device-table update on a revoked or
 * freed mkey (O3), mkey references balanced so that deregistration's wait ends (O4), a child
 * destroyed once and nothing touching an MR after it was freed (O5), and a child destroyed only when
 * nothing of it is mapped (O7). It keeps shadows of the mkeys (with who holds each reference since
 * which step), the xarrays and KSMs, the UMRs in flight, the work items and the children's mappings.
 */
public final class OdpMonitor extends AbstractMonitor {
  private final HcaSettings cfg;
  private final Map<String, K> mkeys = new TreeMap<>();
  private final Map<String, String> locks = new HashMap<>();
  private final Map<String, String[]> xarray = new HashMap<>();
  private final Map<String, String[]> ksm = new HashMap<>();
  /** Per "parent/slot": how many times the xarray slot changed, and the change the last completed UMR of it was built after. */
  private final Map<String, Integer> version = new HashMap<>();
  private final Map<String, Integer> settled = new HashMap<>();
  private final Map<Long, Umr> umrs = new TreeMap<>();
  /** Per mirror: its device PTEs and its DMA-mapped slots (a child must be empty before it is destroyed). */
  private final Map<String, Set<Integer>> ptes = new HashMap<>();
  private final Map<String, Set<Integer>> mapped = new HashMap<>();
  /** IOVA pages linked and not yet made visible by dma_iova_sync. */
  private final java.util.Set<Long> unsynced = new HashSet<>();
  /** Live page-list mkeys (VFIO): their MTT entries, and the buffer pages they are for. */
  private final Map<String, HcaEvent.MkeyCreated> pageLists = new TreeMap<>();
  /** Per CPU queue, its last call ("mkey_wait/mr"): a reference dropped by mkey-wait is the registration's. */
  private final Map<String, String> lastCall = new HashMap<>();
  /** Owners ("cpuN/mr") seen per MR, for the explanation. */
  private final Map<String, Set<String>> owners = new HashMap<>();

  /** An mkey's shadow: its lifecycle, and the references each queue holds (the steps it took them at). */
  private static final class K {
    final HcaSettings.Mr mr;
    boolean exists;
    boolean revoked;
    boolean freed;
    long revokedAt = -1;
    long freedAt = -1;
    String freedBy;
    /** The step a destroy work item was queued for this incarnation, or -1. */
    long destroyQueuedAt = -1;
    String destroyQueuedBy;
    final Map<String, List<long[]>> refs = new TreeMap<>();
    String waiter;
    long waitAt;
    /** Lost-cmpxchg paths of destroy_unused_implicit_child_mr that kept the parent reference (B10), and their steps. */
    final List<String> keptOnLost = new ArrayList<>();
    final List<Long> keptAt = new ArrayList<>();

    K(HcaSettings.Mr mr) {
      this.mr = mr;
    }

    boolean dead() {
      return revoked || freed;
    }
  }

  private record Umr(HcaEvent.UmrPosted posted, int[] versions, long step) {}

  public OdpMonitor(HcaSettings cfg, List<MirrorSettings> mirrors) {
    super(OdpComponent.MONITOR);
    this.cfg = cfg;
    for (HcaSettings.Mr m : cfg.mrs()) {
      K k = new K(m);
      k.exists = m.kind() == HcaSettings.Kind.EXPLICIT || m.kind() == HcaSettings.Kind.IMPLICIT;
      if (k.exists) k.refs.computeIfAbsent("registration", x -> new ArrayList<>()).add(new long[] {0});
      mkeys.put(m.name(), k);
      if (m.kind() == HcaSettings.Kind.IMPLICIT) {
        xarray.put(m.name(), cfg.emptySlots(m.name()));
        ksm.put(m.name(), cfg.emptySlots(m.name()));
      }
    }
    for (MirrorSettings m : mirrors) {
      ptes.put(m.name(), new HashSet<>());
      mapped.put(m.name(), new HashSet<>());
    }
  }

  private List<String> about(String mr) {
    List<String> out = new ArrayList<>();
    out.add(mr);
    out.addAll(owners.getOrDefault(mr, Set.of()));
    return out;
  }

  private String kindOf(K k) {
    return switch (k.mr.kind()) {
      case EXPLICIT -> "MR " + k.mr.name();
      case IMPLICIT -> "implicit MR " + k.mr.name();
      case CHILD -> "child " + k.mr.name() + " (slot " + k.mr.slot() + " of " + k.mr.parent() + ")";
      case PLAIN -> "mkey " + k.mr.name();
    };
  }

  private String deadness(K k) {
    return k.freed ? "freed by " + k.freedBy + " at step " + k.freedAt : "revoked at step " + k.revokedAt + " (odp->private = NULL)";
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof CpuEvent.CallIssued c) lastCall.put(at.actor(), c.call() + "/" + c.object());
    if (event instanceof dmasim.protocol.Owned o && event instanceof HcaEvent) {
      String owner = o.owner();
      owners.computeIfAbsent(owner.substring(owner.indexOf('/') + 1), x -> new java.util.TreeSet<>()).add(owner);
    }
    if (event instanceof MemoryEvent.LockAcquired a) {
      locks.put(a.name(), a.holder());
    } else if (event instanceof MemoryEvent.LockReleased r) {
      locks.remove(r.name());
    } else if (event instanceof HcaEvent.MkeyCreated c) {
      pageList(at, c);
    } else if (event instanceof HcaEvent.Freed f && pageLists.remove(f.mr()) != null) {
      mkeys.get(f.mr()).freed = true;
    } else if (event instanceof HcaEvent e) {
      hca(at, e);
    } else if (event instanceof dmasim.protocol.IommuEvent.RangeLinked l) {
      for (long p = l.iovaPfn(); p < l.iovaPfn() + l.pages(); p++) unsynced.add(p);
    } else if (event instanceof dmasim.protocol.IommuEvent.RangeSynced y && y.errno() == 0) {
      for (long p = y.iovaPfn(); p < y.iovaPfn() + y.pages(); p++) unsynced.remove(p);
    } else if (event instanceof dmasim.protocol.IommuEvent.PtesCleared c) {
      for (long p = c.iovaPfn(); p < c.iovaPfn() + c.pages(); p++) unsynced.remove(p);
      unmapped(at, c);
    } else if (event instanceof MemoryEvent.PagesFreed f) {
      pagesFreed(at, f);
    } else if (event instanceof CpuEvent.CallIssued c && (c.call().equals("dev_pte_set") || c.call().equals("dev_zap"))) {
      K k = mkeys.get(c.object());
      if (k != null && k.dead()) {
        violate("O3", at, at.actor() + " " + (c.call().equals("dev_zap") ? "zaps" : "writes") + " the MTT of " + kindOf(k) + ", whose mkey was "
            + deadness(k) + ": a UMR on a dead mkey (whoever programs it must hold an mkey reference that dereg waits for, and an invalidation must "
            + "see odp->private == NULL under umem_mutex and skip it)", about(k.mr.name()),
            k.freed ? k.freedAt : k.revokedAt);
      }
    } else if (event instanceof MirrorEvent.DevicePteWritten w && ptes.containsKey(w.mirror())) {
      ptes.get(w.mirror()).add(w.index());
    } else if (event instanceof MirrorEvent.DevicePteZapped z && ptes.containsKey(z.mirror())) {
      ptes.get(z.mirror()).remove(z.index());
    } else if (event instanceof MirrorEvent.SlotMapped s && mapped.containsKey(s.mirror())) {
      mapped.get(s.mirror()).add(s.index());
    } else if (event instanceof MirrorEvent.SlotUnmapped s && mapped.containsKey(s.mirror())) {
      mapped.get(s.mirror()).remove(s.index());
    }
  }

  private void hca(StepInfo at, HcaEvent e) {
    if (e instanceof HcaEvent.RefTaken t) {
      K k = mkeys.get(t.mr());
      touchFreed(at, k, t.cpu(), "takes a reference on");
      k.refs.computeIfAbsent(t.cpu(), x -> new ArrayList<>()).add(new long[] {at.step()});
    } else if (e instanceof HcaEvent.RefDropped t) {
      K k = mkeys.get(t.mr());
      touchFreed(at, k, t.cpu(), "drops a reference on");
      List<long[]> held = k.refs.get(t.cpu());
      boolean dereg = ("mkey_wait/" + t.mr()).equals(lastCall.get(t.cpu())); // mlx5r_deref_wait_odp_mkey drops the registration's (a child: the xarray's)
      List<long[]> own = !k.refs.getOrDefault("registration", List.of()).isEmpty() ? k.refs.get("registration")
          : !k.refs.getOrDefault("xarray", List.of()).isEmpty() ? k.refs.get("xarray") : null;
      if (dereg && own != null) own.remove(own.size() - 1);
      else if (held != null && !held.isEmpty()) held.remove(0); // its oldest: a work item drops what its destroy took before
      else {
        // a reference the queue did not take itself: the registration's or the xarray's (dereg, the destroy work), else another queue's
        List<long[]> from = !k.refs.getOrDefault("registration", List.of()).isEmpty() ? k.refs.get("registration")
            : !k.refs.getOrDefault("xarray", List.of()).isEmpty() ? k.refs.get("xarray")
            : k.refs.values().stream().filter(l -> !l.isEmpty()).findFirst().orElse(null);
        if (from != null) from.remove(from.size() - 1);
      }
      if (t.usecount() < 0) {
        violate("O4", at, t.cpu() + " drops a reference on " + kindOf(k) + " that has none left (usecount " + t.usecount() + "): a reference dropped "
            + "twice, or by a path that never took it (refcount_t underflow: a use after free)", about(k.mr.name()));
      }
    } else if (e instanceof HcaEvent.RefMissed r && r.why().endsWith("parent reference kept")) {
      K parent = mkeys.get(mkeys.get(r.mr()).mr.parent());
      parent.keptOnLost.add(r.cpu() + " lost the cmpxchg for " + r.mr() + " at step " + at.step() + " and kept the parent reference it took");
      parent.keptAt.add(at.step());
    } else if (e instanceof HcaEvent.WaitStarted w) {
      K k = mkeys.get(w.mr());
      k.waiter = w.cpu();
      k.waitAt = at.step();
    } else if (e instanceof HcaEvent.WaitEnded w) {
      mkeys.get(w.mr()).waiter = null;
    } else if (e instanceof HcaEvent.Revoked r) {
      K k = mkeys.get(r.mr());
      touchFreed(at, k, r.cpu(), "revokes");
      k.revoked = true;
      k.revokedAt = at.step();
    } else if (e instanceof HcaEvent.Freed f) {
      K k = mkeys.get(f.mr());
      touchFreed(at, k, f.cpu(), "frees");
      k.freed = true;
      k.freedAt = at.step();
      k.freedBy = f.cpu();
    } else if (e instanceof HcaEvent.ChildCreated c && c.won()) {
      K k = mkeys.get(c.child());
      k.exists = true;
      k.freed = false;
      k.revoked = false;
      k.destroyQueuedAt = -1;
      k.refs.clear();
      k.refs.computeIfAbsent("xarray", x -> new ArrayList<>()).add(new long[] {at.step()});
      k.refs.computeIfAbsent(c.cpu(), x -> new ArrayList<>()).add(new long[] {at.step()});
      changeSlot(c.parent(), c.slot(), c.child());
    } else if (e instanceof HcaEvent.ChildRemoved r) {
      changeSlot(r.parent(), r.slot(), "");
    } else if (e instanceof HcaEvent.WorkQueued w && w.token() == 0) { // a destroy (a page-fault item carries its fault's token)
      K k = mkeys.get(w.mr());
      Set<Integer> p = ptes.getOrDefault(w.mr(), Set.of());
      Set<Integer> m = mapped.getOrDefault(w.mr(), Set.of());
      if (k != null && (!p.isEmpty() || !m.isEmpty())) {
        violate("O7", at, w.cpu() + " queues the destruction of " + kindOf(k) + " while it still has " + p.size() + " device PTE(s) and " + m.size()
            + " DMA-mapped page(s): npages is not 0, the child is not empty (only a child whose last page was unmapped may be destroyed)",
            about(k.mr.name()));
      }
      if (k != null && k.destroyQueuedAt >= 0) {
        violate("O5", at, w.cpu() + " queues a second " + w.kind() + " work item for " + kindOf(k) + " (" + k.destroyQueuedBy + " queued one at step "
            + k.destroyQueuedAt + "): the child will be destroyed twice, the second work frees freed memory (use after free, CVE-2025-21714)",
            about(k.mr.name()), k.destroyQueuedAt);
      } else if (k != null) {
        k.destroyQueuedAt = at.step();
        k.destroyQueuedBy = w.cpu();
      }
    } else if (e instanceof HcaEvent.WorkStarted s) {
      K k = mkeys.get(s.mr());
      if (k != null && k.freed) {
        violate("O5", at, s.cpu() + " runs work item " + s.id() + " (" + s.kind() + ") for " + kindOf(k) + ", which was " + deadness(k)
            + ": deferred work outlived the MR", about(k.mr.name()), k.freedAt);
      }
    } else if (e instanceof HcaEvent.UmrPosted u) {
      K k = mkeys.get(u.parent());
      if (k.dead()) {
        violate("O3", at, u.cpu() + " posts a UMR of " + kindOf(k) + "'s KSM, whose mkey was " + deadness(k) + ": the UMR completes in error "
            + "(work outlived the parent's teardown)", about(k.mr.name()), k.freed ? k.freedAt : k.revokedAt);
      }
      if (!u.cpu().equals(locks.get(k.mr.lock()))) {
        violate("O1", at, u.cpu() + " posts a UMR of " + kindOf(k) + "'s KSM without holding its umem_mutex '" + k.mr.lock() + "' (held by "
            + locks.getOrDefault(k.mr.lock(), "nobody") + "): every update of the parent must run under it (populate_klm asserts it with lockdep), "
            + "or an older snapshot of the xarray can land after a newer one", about(k.mr.name()));
      }
      for (Umr o : umrs.values()) {
        if (o.posted().parent().equals(u.parent()) && u.cpu().equals(locks.get(k.mr.lock()))) {
          violate("O1", at, u.cpu() + " posts a UMR of " + kindOf(k) + "'s KSM while " + o.posted().cpu() + "'s (posted at step " + o.step() + ") is "
              + "in flight: two updates of one mkey's translation at once, each built from its own snapshot of the xarray", about(k.mr.name()),
              o.step());
          break;
        }
      }
      int[] versions = new int[u.values().size()];
      for (int i = 0; i < versions.length; i++) versions[i] = version.getOrDefault(u.parent() + "/" + (u.first() + i), 0);
      umrs.put(u.id(), new Umr(u, versions, at.step()));
    } else if (e instanceof HcaEvent.UmrCompleted c) {
      Umr u = umrs.remove(c.id());
      if (!c.ok() || u == null) return;
      for (int i = 0; i < c.values().size(); i++) {
        int slot = c.first() + i;
        String key = c.parent() + "/" + slot;
        int now = version.getOrDefault(key, 0);
        String value = c.values().get(i);
        ksm.get(c.parent())[slot] = value;
        if (u.versions()[i] == now) settled.put(key, now);
        else if (settled.getOrDefault(key, 0) == now && !value.equals(xarray.get(c.parent())[slot])) {
          String there = xarray.get(c.parent())[slot];
          violate("O2", at, c.cpu() + "'s UMR (built at step " + u.step() + ") writes " + c.parent() + "'s KSM slot " + slot + " := "
              + (value.isEmpty() ? "the null mkey" : value) + " after a newer update had already made it " + (there.isEmpty() ? "the null mkey"
              : there) + ": a lost update, the KSM no longer matches the xarray and nothing will write it again (the parent's updates must be "
              + "serialised by its umem_mutex)", about(c.parent()), u.step());
          return;
        }
      }
    }
  }

  /** create_mkey over a page list (VFIO mlx5 register_dma_pages, then the mkey): V1 and V3. */
  private void pageList(StepInfo at, HcaEvent.MkeyCreated c) {
    K k = mkeys.get(c.mr());
    k.exists = true;
    k.freed = false;
    pageLists.put(c.mr(), c);
    for (int i = 0; i < c.addrs().size(); i++) {
      long addr = c.addrs().get(i);
      long pfn = c.pfns().get(i);
      long iovaPfn = addr >>> 12;
      long phys = shadow.physOf(iovaPfn);
      if (unsynced.contains(iovaPfn)) {
        violate("V1", at, c.cpu() + " creates mkey " + c.mr() + " while its MTT entry " + i + " (" + hex(addr) + ") is linked but not yet made "
            + "visible by dma_iova_sync: the device may use the mkey at once (register_dma_pages links every page, syncs once, and only then "
            + "is the mkey created)", about(c.mr()));
        return;
      }
      boolean direct = phys < 0 && iovaPfn == pfn; // dma-direct: the DMA address is the physical one
      if (phys < 0 && !direct) {
        violate("V1", at, c.cpu() + " creates mkey " + c.mr() + " whose MTT entry " + i + " (" + hex(addr) + ") is not mapped: the page list's DMA "
            + "mapping must be complete before the mkey exists", about(c.mr()));
        return;
      }
      if (!direct && phys != pfn) {
        violate("V3", at, c.cpu() + " creates mkey " + c.mr() + " whose MTT entry " + i + " (" + hex(addr) + ") leads to pfn " + hex(phys)
            + ", not to page " + i + " of its buffer (pfn " + hex(pfn) + "): MTT[i] must be state.addr + i * 4 KiB of the linked list, or "
            + "the dma_map_page address of page i", about(c.mr()));
        return;
      }
    }
  }

  /** Teardown order (mlx5vf_free_data_buffer): the mkey goes before the DMA mapping, the mapping before the pages (V2). */
  private void unmapped(StepInfo at, dmasim.protocol.IommuEvent.PtesCleared c) {
    for (HcaEvent.MkeyCreated m : pageLists.values()) {
      for (int i = 0; i < m.addrs().size(); i++) {
        long p = m.addrs().get(i) >>> 12;
        if (p >= c.iovaPfn() && p < c.iovaPfn() + c.pages()) {
          violate("V2", at, "MTT entry " + i + " (" + hex(m.addrs().get(i)) + ") of mkey " + m.mr() + " is unmapped from the IOMMU while the mkey "
              + "still exists: a SAVE or LOAD through it reaches an unmapped IOVA (destroy the mkey first, then unregister the DMA, then free)",
              about(m.mr()));
          return;
        }
      }
    }
  }

  private void pagesFreed(StepInfo at, MemoryEvent.PagesFreed f) {
    for (HcaEvent.MkeyCreated m : pageLists.values()) {
      for (long pfn : f.pfns()) {
        int i = m.pfns().indexOf(pfn);
        if (i >= 0) {
          violate("V2", at, "page " + i + " (pfn " + hex(pfn) + ") of mkey " + m.mr() + "'s page list is freed while the mkey still exists: the "
              + "device can still write the migration image into it", about(m.mr()));
          return;
        }
      }
    }
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }

  private void changeSlot(String parent, int slot, String child) {
    xarray.get(parent)[slot] = child;
    version.merge(parent + "/" + slot, 1, Integer::sum);
  }

  private void touchFreed(StepInfo at, K k, String cpu, String what) {
    if (k.freed) {
      violate("O5", at, cpu + " " + what + " " + kindOf(k) + ", which was freed by " + k.freedBy + " at step " + k.freedAt + " (use after free)",
          about(k.mr.name()), k.freedAt);
    }
  }

  @Override
  public boolean explainsHangs() {
    return true; // a deregistration waiting forever: O4 names the reference never dropped
  }

  @Override
  public void onRunEnd(StepInfo at) {
    for (K k : mkeys.values()) {
      if (k.waiter == null) continue;
      StringBuilder held = new StringBuilder();
      List<Long> cited = new ArrayList<>();
      k.refs.forEach((who, l) -> {
        if (l.isEmpty()) return;
        held.append(held.length() == 0 ? "" : ", ").append(who).append(" (taken at step");
        for (long[] s : l) {
          held.append(' ').append(s[0]);
          cited.add(s[0]);
        }
        held.append(')');
      });
      cited.addAll(k.keptAt);
      violate("O4", at, k.waiter + " waits forever (since step " + k.waitAt + ") for " + kindOf(k) + "'s usecount to drain: a reference was never "
          + "dropped" + (k.keptOnLost.isEmpty() ? "" : " (" + String.join("; ", k.keptOnLost) + ")") + (held.length() == 0 ? "" : "; held by: " + held),
          about(k.mr.name()), cited.stream().mapToLong(Long::longValue).toArray());
    }
    for (Map.Entry<String, String[]> x : xarray.entrySet()) {
      if (mkeys.get(x.getKey()).dead()) continue; // a torn-down parent's KSM is gone with it
      String[] want = x.getValue();
      String[] have = ksm.get(x.getKey());
      for (int i = 0; i < want.length; i++) {
        if (!want[i].equals(have[i])) {
          violate("O2", at, x.getKey() + "'s KSM slot " + i + " still points at " + (have[i].isEmpty() ? "the null mkey" : have[i]) + " while its "
              + "xarray holds " + (want[i].isEmpty() ? "nothing" : want[i]) + " at the end: the locked KSM update that must follow every xarray change "
              + "never came", about(x.getKey()));
          return;
        }
      }
    }
  }

  /** The invariant ids this monitor reports. */
  public static final List<String> IDS = List.of("O1", "O2", "O3", "O4", "O5", "O7", "V1", "V2", "V3");
}
