package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/**
 * Facts of an RDMA device with on-demand paging: mkey references taken and dropped, mkeys
 * unpublished, revoked and freed, an implicit MR's children stored in and removed from its xarray,
 * UMR work requests of its KSM posted and completed, work items queued, run and finished, and the
 * callers parked until something happens ({@code cpu} is always the driver queue that caused it).
 */
@JsonSubTypes({
  @JsonSubTypes.Type(HcaEvent.MkeyCreated.class),
  @JsonSubTypes.Type(HcaEvent.RefTaken.class),
  @JsonSubTypes.Type(HcaEvent.RefMissed.class),
  @JsonSubTypes.Type(HcaEvent.RefDropped.class),
  @JsonSubTypes.Type(HcaEvent.Unpublished.class),
  @JsonSubTypes.Type(HcaEvent.WaitStarted.class),
  @JsonSubTypes.Type(HcaEvent.WaitEnded.class),
  @JsonSubTypes.Type(HcaEvent.Revoked.class),
  @JsonSubTypes.Type(HcaEvent.Freed.class),
  @JsonSubTypes.Type(HcaEvent.ChildCreating.class),
  @JsonSubTypes.Type(HcaEvent.ChildAllocated.class),
  @JsonSubTypes.Type(HcaEvent.ChildInserting.class),
  @JsonSubTypes.Type(HcaEvent.ChildCreated.class),
  @JsonSubTypes.Type(HcaEvent.ChildRemoved.class),
  @JsonSubTypes.Type(HcaEvent.UmrPosted.class),
  @JsonSubTypes.Type(HcaEvent.UmrCompleted.class),
  @JsonSubTypes.Type(HcaEvent.WorkQueued.class),
  @JsonSubTypes.Type(HcaEvent.WorkReady.class),
  @JsonSubTypes.Type(HcaEvent.WorkStarted.class),
  @JsonSubTypes.Type(HcaEvent.WorkFinished.class),
  @JsonSubTypes.Type(HcaEvent.WorkerIdle.class),
  @JsonSubTypes.Type(HcaEvent.FlushStarted.class),
  @JsonSubTypes.Type(HcaEvent.FlushEnded.class)
})
public sealed interface HcaEvent extends Event {

  /** {@code cpu} created mkey {@code mr} over a page list: MTT entry i is {@code addrs[i]}, meant for page {@code pfns[i]}. */
  record MkeyCreated(String mr, String cpu, List<Long> addrs, List<Long> pfns) implements HcaEvent, Owned {
    public MkeyCreated {
      addrs = List.copyOf(addrs);
      pfns = List.copyOf(pfns);
    }

    @Override
    public String owner() {
      return cpu + "/" + mr;
    }
  }

  /** {@code cpu} took a reference on {@code mr} ({@code how}: lookup, implicit lookup (an implicit parent's mkey), child, parent, adopt); {@code usecount} after it. */
  record RefTaken(String mr, String cpu, int usecount, String how) implements HcaEvent, Owned {
    @Override
    public String owner() {
      return cpu + "/" + mr;
    }
  }

  /** {@code cpu}'s lookup of {@code mr} found nothing to take a reference on ({@code why}). */
  record RefMissed(String mr, String cpu, String why) implements HcaEvent {}

  /** {@code cpu} dropped a reference on {@code mr}; {@code usecount} after it (below 0: an underflow, the kernel's refcount_t saturates and warns). */
  record RefDropped(String mr, String cpu, int usecount) implements HcaEvent, Owned {
    @Override
    public String owner() {
      return cpu + "/" + mr;
    }
  }

  /** {@code mr} is no longer in dev->odp_mkeys. */
  record Unpublished(String mr, String cpu) implements HcaEvent, Owned {
    @Override
    public String owner() {
      return cpu + "/" + mr;
    }
  }

  /** {@code cpu} sleeps until {@code mr}'s usecount drains to 0. */
  record WaitStarted(String mr, String cpu, int usecount) implements HcaEvent {}

  /** {@code cpu}'s wait for {@code mr} ended (its usecount is 0). */
  record WaitEnded(String mr, String cpu) implements HcaEvent {}

  /** The device no longer uses {@code mr} (UMR revoke), odp->private = NULL. */
  record Revoked(String mr, String cpu) implements HcaEvent, Owned {
    @Override
    public String owner() {
      return cpu + "/" + mr;
    }
  }

  /** The mkey of {@code mr} is destroyed and the MR freed. */
  record Freed(String mr, String cpu) implements HcaEvent, Owned {
    @Override
    public String owner() {
      return cpu + "/" + mr;
    }
  }

  /** {@code cpu} allocates child {@code child}: its umem's hmm_dma_map and interval notifier come first (ib_umem_odp_alloc_child), then the cmpxchg. */
  record ChildCreating(String child, String parent, int slot, String cpu) implements HcaEvent, Owned {
    @Override
    public String owner() {
      return cpu + "/" + child;
    }
  }

  /** Child {@code child}'s hmm_dma_map is allocated; its notifier insert comes next (the device's inserts go one at a time). */
  record ChildAllocated(String child) implements HcaEvent {}

  /** Child {@code child}'s interval notifier is being inserted. */
  record ChildInserting(String child) implements HcaEvent {}

  /** {@code cpu} made child {@code child} ({@code won}: its __xa_cmpxchg stored it and published the mkey; otherwise it adopted the winner's). */
  record ChildCreated(String child, String parent, int slot, String cpu, boolean won) implements HcaEvent, Owned {
    @Override
    public String owner() {
      return cpu + "/" + child;
    }
  }

  /** {@code cpu} took {@code child} out of its parent's xarray and dev->odp_mkeys ({@code erase}: a plain xa_erase). */
  record ChildRemoved(String child, String parent, int slot, String cpu, boolean erase) implements HcaEvent, Owned {
    @Override
    public String owner() {
      return cpu + "/" + child;
    }
  }

  /**
   * UMR {@code id} of {@code cpu}: the parent's KSM slots from {@code first} := {@code values} (""
   * the null mkey), built from the xarray as it is now.
   */
  record UmrPosted(long id, String cpu, String parent, int first, List<String> values) implements HcaEvent, Owned {
    public UmrPosted {
      values = List.copyOf(values);
    }

    @Override
    public String owner() {
      return cpu + "/" + parent;
    }
  }

  /** UMR {@code id} completed ({@code ok} false: in error, the mkey is dead, nothing written). */
  record UmrCompleted(long id, String cpu, String parent, int first, List<String> values, boolean ok) implements HcaEvent {
    public UmrCompleted {
      values = List.copyOf(values);
    }
  }

  /**
   * Work item {@code id} (handler {@code kind} for {@code mr}) queued by {@code cpu} ({@code deferred}:
   * waiting for an SRCU grace period first; {@code token}: the device fault of a page-fault item, its
   * event posted by the mirror's device, else 0).
   */
  record WorkQueued(long id, String kind, String mr, String cpu, boolean deferred, long token) implements HcaEvent, Owned {
    @Override
    public String owner() {
      return cpu + "/" + mr;
    }
  }

  /** The grace period of deferred work item {@code id} ended: it is on the workqueue. */
  record WorkReady(long id) implements HcaEvent {}

  /** Worker {@code cpu} runs work item {@code id}. */
  record WorkStarted(long id, String kind, String mr, String cpu) implements HcaEvent {}

  /** Work item {@code id} returned. */
  record WorkFinished(long id, String cpu) implements HcaEvent {}

  /** Worker {@code cpu} sleeps: the workqueue is empty. */
  record WorkerIdle(String cpu) implements HcaEvent {}

  /** {@code cpu} waits for the workqueue ({@code deferred}: also for deferred work). */
  record FlushStarted(String cpu, boolean deferred) implements HcaEvent {}

  /** {@code cpu}'s flush returned. */
  record FlushEnded(String cpu) implements HcaEvent {}
}
