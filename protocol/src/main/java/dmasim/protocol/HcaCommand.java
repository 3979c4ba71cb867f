package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/**
 * What an RDMA device with on-demand paging (the HCA: mlx5 odp.c, mr.c, umr.c) is asked by its
 * driver: the device-wide mkey table and each mkey's usecount, an implicit MR's children (the
 * xarray) and KSM slots (posted as UMR work requests), and the driver's work queue. {@code mr}
 * names a memory region as the scenario's rdma section does; a child names its slot of its parent.
 */
@JsonSubTypes({
  @JsonSubTypes.Type(HcaCommand.MkeyCreate.class),
  @JsonSubTypes.Type(HcaCommand.MkeyGet.class),
  @JsonSubTypes.Type(HcaCommand.MkeyPut.class),
  @JsonSubTypes.Type(HcaCommand.MkeyUnpublish.class),
  @JsonSubTypes.Type(HcaCommand.MkeyWait.class),
  @JsonSubTypes.Type(HcaCommand.MkeyRevoke.class),
  @JsonSubTypes.Type(HcaCommand.MkeyFree.class),
  @JsonSubTypes.Type(HcaCommand.MkeyCheck.class),
  @JsonSubTypes.Type(HcaCommand.ChildGet.class),
  @JsonSubTypes.Type(HcaCommand.ChildCreate.class),
  @JsonSubTypes.Type(HcaCommand.ChildDestroy.class),
  @JsonSubTypes.Type(HcaCommand.KsmUpdate.class),
  @JsonSubTypes.Type(HcaCommand.UmrRun.class),
  @JsonSubTypes.Type(HcaCommand.GracePeriod.class),
  @JsonSubTypes.Type(HcaCommand.WorkRun.class),
  @JsonSubTypes.Type(HcaCommand.WorkDone.class),
  @JsonSubTypes.Type(HcaCommand.WqFlush.class),
  @JsonSubTypes.Type(HcaCommand.PageFault.class)
})
public sealed interface HcaCommand extends Message {

  /**
   * create_mkey over a page list (VFIO mlx5 live migration): MTT entry i is {@code addrs[i]}, the
   * DMA address the driver computed for page {@code pfns[i]} of its buffer (EEXIST: it exists).
   */
  record MkeyCreate(String mr, java.util.List<Long> addrs, java.util.List<Long> pfns) implements HcaCommand {
    public MkeyCreate {
      addrs = java.util.List.copyOf(addrs);
      pfns = java.util.List.copyOf(pfns);
    }
  }

  /** find_odp_mkey: look {@code mr} up in dev->odp_mkeys and take a reference (ENOENT: not published, or its usecount already 0). */
  record MkeyGet(String mr) implements HcaCommand {}

  /** mlx5r_deref_odp_mkey: drop a reference; the last one wakes whoever waits in mlx5r_deref_wait_odp_mkey. */
  record MkeyPut(String mr) implements HcaCommand {}

  /** xa_erase(&dev->odp_mkeys): no new fault or prefetch can find {@code mr}. */
  record MkeyUnpublish(String mr) implements HcaCommand {}

  /** mlx5r_deref_wait_odp_mkey: drop the caller's reference and sleep until the usecount is 0. */
  record MkeyWait(String mr) implements HcaCommand {}

  /** mlx5_revoke_mr: a UMR that stops the device using {@code mr}, then odp->private = NULL. */
  record MkeyRevoke(String mr) implements HcaCommand {}

  /** Destroy the mkey and free the MR (the child or MR memory is gone after this). */
  record MkeyFree(String mr) implements HcaCommand {}

  /** Read odp->private: ENOENT when the MR was revoked (the invalidate path skips a dead mkey). */
  record MkeyCheck(String mr) implements HcaCommand {}

  /** xa_load(&imr->implicit_children, idx) + refcount_inc_not_zero (ENOENT: no live child there). */
  record ChildGet(String child) implements HcaCommand {}

  /** implicit_get_child_mr: a new child (usecount 2: the xarray's and the caller's), __xa_cmpxchg into its slot; EEXIST: another queue won, its child adopted. */
  record ChildCreate(String child) implements HcaCommand {}

  /**
   * destroy_unused_implicit_child_mr: take a parent reference (ENOENT: the parent is going away),
   * take the child out of the xarray and queue free_implicit_child_mr_work. {@code erase}: a plain
   * xa_erase whatever is there (before d3d930411ce3); otherwise __xa_cmpxchg, and EEXIST when another
   * queue already took it out; {@code work} names the handler queued ({@code putOnLost}: the parent reference is dropped on that path,
   * 3d8c6f26893d). {@code srcu}: the code before 2021: no parent reference, the work is queued from
   * call_srcu after a grace period. An empty {@code work}: the parent's own teardown (xa_erase and
   * dereg inline, mlx5_ib_free_odp_mr): no reference, no work, ENOENT when the slot is empty.
   */
  record ChildDestroy(String child, String work, boolean erase, boolean putOnLost, boolean srcu) implements HcaCommand {}

  /**
   * mlx5r_umr_update_xlt of implicit MR {@code parent}'s KSM slots [first, first + count): built from
   * the xarray now, posted, completed later (UmrRun).
   */
  record KsmUpdate(String parent, int first, int count) implements HcaCommand {}

  /** The UMR QP executes work request {@code id} (sent by the HCA to itself). */
  record UmrRun(long id) implements HcaCommand {}

  /** An SRCU grace period ended: deferred work {@code work} is queued (sent by the HCA to itself). */
  record GracePeriod(long work) implements HcaCommand {}

  /** A worker thread of the driver's workqueue takes the next work item (sleeps while there is none). */
  record WorkRun() implements HcaCommand {}

  /** The work item {@code id} returned. */
  record WorkDone(long id) implements HcaCommand {}

  /**
   * A page-fault event from the device (mlx5_ib_eq_pf_int): the access to {@code va} of MR
   * {@code mr} faulted with {@code token}; the driver queues its handler on the page-fault workqueue.
   */
  record PageFault(String mr, long token, long va, boolean write) implements HcaCommand {}

  /** flush_workqueue ({@code deferred} false) or wait_event until no work is deferred, queued or running ({@code deferred} true, de5ed007a03d). */
  record WqFlush(boolean deferred) implements HcaCommand {}
}
