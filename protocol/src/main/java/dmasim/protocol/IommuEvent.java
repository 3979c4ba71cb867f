package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;

/**
 * Facts of the IommuUnit: allocator, I/O page table, IOTLB, invalidation queue, flush queues and
 * the device transactions it translated. {@code owner} is "cpuN/object" (the caller's state,
 * handle or sg name); pfns are IOVA page numbers in the domain's granule.
 */
@JsonSubTypes({
  @JsonSubTypes.Type(IommuEvent.IovaAllocated.class),
  @JsonSubTypes.Type(IommuEvent.IovaAllocFailed.class),
  @JsonSubTypes.Type(IommuEvent.IovaFreed.class),
  @JsonSubTypes.Type(IommuEvent.RangeLinked.class),
  @JsonSubTypes.Type(IommuEvent.MapFailed.class),
  @JsonSubTypes.Type(IommuEvent.RangeSynced.class),
  @JsonSubTypes.Type(IommuEvent.PtesCleared.class),
  @JsonSubTypes.Type(IommuEvent.ApiReturned.class),
  @JsonSubTypes.Type(IommuEvent.SyncPerformed.class),
  @JsonSubTypes.Type(IommuEvent.MapSingleRejected.class),
  @JsonSubTypes.Type(IommuEvent.DebugHookCalled.class),
  @JsonSubTypes.Type(IommuEvent.IotlbFilled.class),
  @JsonSubTypes.Type(IommuEvent.IotlbEvicted.class),
  @JsonSubTypes.Type(IommuEvent.InvalidationPosted.class),
  @JsonSubTypes.Type(IommuEvent.InvalidationCompleted.class),
  @JsonSubTypes.Type(IommuEvent.AtcInvalidationAcked.class),
  @JsonSubTypes.Type(IommuEvent.FlushQueued.class),
  @JsonSubTypes.Type(IommuEvent.FlushStarted.class),
  @JsonSubTypes.Type(IommuEvent.FlushFinished.class),
  @JsonSubTypes.Type(IommuEvent.FlushQueueEntryFreed.class),
  @JsonSubTypes.Type(IommuEvent.FlushTimerArmed.class),
  @JsonSubTypes.Type(IommuEvent.FlushTimerFired.class),
  @JsonSubTypes.Type(IommuEvent.PageTablesFreed.class),
  @JsonSubTypes.Type(IommuEvent.DomainTornDown.class),
  @JsonSubTypes.Type(IommuEvent.FaultDecided.class),
  @JsonSubTypes.Type(IommuEvent.PteClearPending.class),
  @JsonSubTypes.Type(IommuEvent.PteClearVisible.class),
  @JsonSubTypes.Type(IommuEvent.IommuAttached.class),
  @JsonSubTypes.Type(IommuEvent.Bounced.class),
  @JsonSubTypes.Type(IommuEvent.BounceReleased.class),
  @JsonSubTypes.Type(IommuEvent.BounceCopied.class),
  @JsonSubTypes.Type(IommuEvent.AttachRefused.class),
  @JsonSubTypes.Type(IommuEvent.SyncMapFlagSet.class),
  @JsonSubTypes.Type(IommuEvent.DomainInitStarted.class),
  @JsonSubTypes.Type(IommuEvent.DomainInitialised.class),
  @JsonSubTypes.Type(IommuEvent.AttachWaiting.class),
  @JsonSubTypes.Type(IommuEvent.DeviceAttached.class),
  @JsonSubTypes.Type(IommuEvent.DmaAccessed.class),
  @JsonSubTypes.Type(IommuEvent.DmaFaulted.class)
})
public sealed interface IommuEvent extends Event {

  /** IOVA space [basePfn, basePfn+pages) was allocated; {@code addr} is what the caller got (base + pad(phys)). */
  record IovaAllocated(DeviceId dev, String owner, String api, long basePfn, long pages, long size, Iova addr) implements IommuEvent, Owned {}

  /** An IOVA allocation failed (try_alloc returned false, or a map returned DMA_MAPPING_ERROR). */
  record IovaAllocFailed(DeviceId dev, String owner, String api, long size, String reason) implements IommuEvent, Owned {}

  /** IOVA space went back to the allocator; {@code path} is "free", "strict" or "flush-queue". */
  record IovaFreed(DeviceId dev, String owner, long basePfn, long pages, String path) implements IommuEvent, Owned {}

  /** PTEs were written for [iovaPfn, iovaPfn+pages) -> [physPfn, ...) by {@code api} ("link", "map_phys", "map_sg"). */
  record RangeLinked(
      DeviceId dev, String owner, String api, long allocBasePfn, long offset, long size,
      long iovaPfn, long physPfn, long pages, Prot prot, Direction dir) implements IommuEvent, Owned {}

  /** A link or map call failed with {@code errno}; {@code reason} says why in kernel terms. */
  record MapFailed(DeviceId dev, String owner, String api, long offset, long size, int errno, String reason) implements IommuEvent, Owned {}

  /** iommu_sync_map over the range: {@code flushedIotlb} when the IOMMU needs flush-on-map (caching mode). */
  record RangeSynced(DeviceId dev, String owner, String api, long iovaPfn, long pages, boolean flushedIotlb, int errno) implements IommuEvent, Owned {}

  /** PTEs of [iovaPfn, iovaPfn+pages) were cleared ({@code cleared} were present). */
  record PtesCleared(DeviceId dev, String owner, String api, long allocBasePfn, long offset, long size, long iovaPfn, long pages, long cleared)
      implements IommuEvent, Owned {}

  /**
   * An unmap-type call returned to its caller ("unlink", "destroy", "free", "unmap_phys", "unmap_sg")
   * over [iovaPfn, iovaPfn+pages); {@code deferred} when the IOTLB flush was left to the flush queue.
   */
  record ApiReturned(DeviceId dev, String owner, String api, Iova addr, long iovaPfn, long pages, long size, Direction dir,
      int nents, boolean deferred, int errno) implements IommuEvent, Owned {}

  /**
   * One scatterlist entry as a kernel/dma/debug.c hook sees it: the CPU side ({@code phys}, the
   * entry's {@code length}, sg_phys / sg->length) and the DMA side (sg_dma_address / sg_dma_len).
   */
  record DebugSegment(long phys, long length, long dmaAddr, long dmaLength) implements CborSerializable {}

  /**
   * The arguments a dma-debug hook is called with after a successful call (debug_dma_map_phys,
   * debug_dma_map_sg, debug_dma_alloc_coherent) or before a free (debug_dma_free_coherent):
   * {@code api} is "map_phys", "map_sg", "alloc_coherent" or "free_coherent"; one segment per
   * mapped entry (one for map_phys and coherent memory, whose {@code phys} is the CPU address).
   * "map_single" is debug_dma_map_single, called by dma_map_single_attrs before it maps: its one
   * segment is the memory the virtual address points into, with no DMA side yet (dmaAddr -1, dmaLength 0).
   */
  record DebugHookCalled(DeviceId dev, String owner, String api, List<DebugSegment> segments, Direction dir, DmaAttrs attrs)
      implements IommuEvent, Owned {
    public DebugHookCalled {
      segments = List.copyOf(segments);
    }
  }

  /**
   * dma_map_single_attrs refused a vmalloc address: dev_WARN_ONCE(dev, is_vmalloc_addr(ptr),
   * "rejecting DMA map of vmalloc memory") and DMA_MAPPING_ERROR, before debug_dma_map_single and
   * before anything is mapped. {@code kind} is the memory the address points into.
   */
  record MapSingleRejected(DeviceId dev, String owner, long phys, long size, PageKind kind) implements IommuEvent, Owned {}

  /** A dma_sync_* call on the classic API, resolved through the page table. */
  record SyncPerformed(DeviceId dev, String owner, String api, Iova addr, long size, Direction dir, boolean forCpu, int nents, boolean mapped)
      implements IommuEvent, Owned {}

  /** A translation was cached in the IOTLB; {@code present} false is a cached not-present entry (caching mode). */
  record IotlbFilled(long iovaPfn, long physPfn, Prot prot, boolean present) implements IommuEvent {}

  /** An IOTLB entry was evicted for capacity. */
  record IotlbEvicted(long iovaPfn) implements IommuEvent {}

  /**
   * An invalidation command was posted: scope "range", "all" or "atc"; {@code acks} completions are
   * awaited (one per ATS device for "atc"); {@code then} is what the IOMMU does once it completes.
   */
  record InvalidationPosted(long id, String scope, long startPfn, long pages, int acks, Continuation then) implements IommuEvent {}

  /** One ATS device acknowledged ATC invalidation {@code id}. */
  record AtcInvalidationAcked(long id, DeviceId dev) implements IommuEvent {}

  /**
   * What completes once an invalidation sequence finishes: the call that waited returns
   * ({@link Reply}), a flush-queue flush finishes ({@link FqFlush}), or the next stage of the
   * sequence is posted ({@link Next}). Carried in {@link InvalidationPosted} so a restart or a
   * replay knows what each pending command completes.
   */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
  @JsonSubTypes({
    @JsonSubTypes.Type(Continuation.Reply.class),
    @JsonSubTypes.Type(Continuation.FqFlush.class),
    @JsonSubTypes.Type(Continuation.Next.class)
  })
  sealed interface Continuation {
    /**
     * The call ({@code call} by {@code replyTo}) returns: page tables in {@code tables} and the IOVA
     * at {@code freeBasePfn} (when >= 0) are freed, the return is recorded as {@code api} over
     * [iovaPfn, iovaPfn+pages), and the caller gets its answer.
     */
    record Reply(String replyTo, String call, DeviceId dev, String owner, String api, Iova addr, long iovaPfn, long pages, long size,
        Direction dir, int nents, long freeBasePfn, long freePages, List<Long> tables) implements Continuation {
      public Reply {
        tables = List.copyOf(tables);
      }
    }

    /**
     * fq_flush_iotlb finished: finish_cnt++, the entries it covers are freed (every ring when
     * {@code allRings}, else ring {@code queue}), then {@code waiting} - a queue_iova that found its
     * ring full - is appended, if any.
     */
    record FqFlush(boolean allRings, int queue, Reply waiting) implements Continuation {}

    /** Post the {@code scope} stage of the sequence over the same range, completing {@code then}. */
    record Next(Scope scope, Continuation then) implements Continuation {}
  }

  /** What an invalidation command targets: an IOTLB range, the whole IOTLB (flush_iotlb_all), or the devices' ATCs. */
  enum Scope {
    RANGE,
    ALL,
    ATC;

    /** The name events carry: "range", "all", "atc". */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** The invalidation command completed; {@code dropped} IOTLB entries were removed. */
  record InvalidationCompleted(long id, String scope, long startPfn, long pages, int dropped) implements IommuEvent {}

  /** dma_iova_destroy / unmap in lazy mode queued the IOVA in flush queue {@code queue} with {@code counter} = fq_flush_start_cnt. */
  record FlushQueued(int queue, String owner, long basePfn, long pages, long counter, List<Long> freedTables) implements IommuEvent, Owned {
    public FlushQueued {
      freedTables = List.copyOf(freedTables);
    }
  }

  /** fq_flush_iotlb: fq_flush_start_cnt became {@code startCnt}; {@code reason} "timer" or "full". */
  record FlushStarted(long startCnt, String reason) implements IommuEvent {}

  /** fq_flush_iotlb: fq_flush_finish_cnt became {@code finishCnt}. */
  record FlushFinished(long finishCnt) implements IommuEvent {}

  /** A flush-queue entry was freed because its counter < finish_cnt. */
  record FlushQueueEntryFreed(int queue, String owner, long basePfn, long pages, long counter, long finishCnt) implements IommuEvent, Owned {}

  /** The flush-queue timer was armed for virtual time {@code deadline}. */
  record FlushTimerArmed(long deadline) implements IommuEvent {}

  /** The flush-queue timer fired. */
  record FlushTimerFired() implements IommuEvent {}

  /** Page-table pages (leaf tables by index) went back to the page allocator after invalidation {@code coveredBy}. */
  record PageTablesFreed(List<Long> tables, String coveredBy) implements IommuEvent {
    public PageTablesFreed {
      tables = List.copyOf(tables);
    }
  }

  /**
   * The DMA domain was torn down (iommu_dma_free_fq): the timer was deleted synchronously
   * ({@code timerDeletedSync}) and {@code droppedEntries} queued IOVAs were dropped with the domain.
   */
  record DomainTornDown(boolean timerDeletedSync, int droppedEntries) implements IommuEvent {}

  /**
   * The fault plan was consulted for {@code caller}'s call number {@code call} of {@code op} (on
   * {@code owner}): {@code injected} with {@code errno} per {@code rule}, or not. Calls are counted
   * per caller, whose program order fixes them, so a rule fires on the same call in every schedule.
   * Only journaled for operations a rule names.
   */
  record FaultDecided(String op, String caller, String owner, long call, boolean injected, int errno, String rule) implements IommuEvent, Owned {}

  /**
   * The CPU cleared the PTEs of [iovaPfn, iovaPfn+pages) but, with no barrier before the
   * flush-queue counter read (R1/B3), the IOMMU's page walker still sees the old entries until
   * {@link PteClearVisible}. Journaled before the PtesCleared it qualifies.
   */
  record PteClearPending(long iovaPfn, long pages) implements IommuEvent {}

  /** The cleared PTEs of [iovaPfn, iovaPfn+pages) became visible to the walker; {@code startCnt} is fq_flush_start_cnt at that moment. */
  record PteClearVisible(long iovaPfn, long pages, long startCnt) implements IommuEvent {}

  /**
   * A piece of a mapping for a device that must not see the original page (untrusted: dev_use_swiotlb)
   * was bounced: swiotlb slot {@code slotPfn} holds {@code length} bytes of {@code origPfn} and the
   * IOVA page {@code iovaPfn} maps the slot instead.
   */
  record Bounced(String owner, long iovaPfn, long origPfn, long slotPfn, long length, Direction dir) implements IommuEvent, Owned {}

  /** swiotlb copied the data of a mapping of {@code owner}: original page to slot ({@code toSlot}) or slot back to the original. */
  record BounceCopied(String owner, long slotPfn, long origPfn, boolean toSlot) implements IommuEvent, Owned {}

  /** The bounce slot behind IOVA page {@code iovaPfn} went back to the swiotlb pool (swiotlb_tbl_unmap_single). */
  record BounceReleased(long iovaPfn, long slotPfn) implements IommuEvent {}

  /** The domain was attached to an IOMMU that caches not-present entries from now on ({@code cachingMode}). */
  record IommuAttached(boolean cachingMode) implements IommuEvent {}

  /** Attach refused: the domain was allocated without flush-on-map and the IOMMU needs it (cee686775f9c). */
  record AttachRefused(String reason) implements IommuEvent {}

  /** The domain's flush-on-map (iotlb_sync_map) flag is now set for every map. */
  record SyncMapFlagSet() implements IommuEvent {}

  /**
   * Attach {@code id} of {@code dev}, by {@code attacher} ("cpuN/attach:devM"), found the shared
   * IOVA domain uninitialised (start_pfn == 0 in iommu_dma_init_domain) and started init_iova_domain;
   * {@code locked}: it holds the cookie mutex (ac9a5d522bb8) until {@link DomainInitialised}.
   */
  record DomainInitStarted(long id, DeviceId dev, String attacher, boolean locked) implements IommuEvent {}

  /** The init_iova_domain of attach {@code id} completed: start_pfn is set, the rbtree holds its anchor node only. */
  record DomainInitialised(long id, DeviceId dev, String attacher) implements IommuEvent {}

  /** Attach of {@code dev} by {@code attacher} sleeps in mutex_lock(&cookie->mutex), held by {@code holder}'s initialisation. */
  record AttachWaiting(DeviceId dev, String attacher, String holder) implements IommuEvent {}

  /** {@code dev} is attached to the DMA domain and may use the DMA API; {@code how} says whether it initialised the IOVA domain. */
  record DeviceAttached(DeviceId dev, String attacher, String how) implements IommuEvent {}

  /** A device transaction was translated and performed (via "iotlb" hit or page-table "walk"). */
  record DmaAccessed(DeviceId dev, long tag, Iova iova, long physPfn, boolean write, String via, boolean stray)
      implements IommuEvent, DmaAccess {}

  /** A device transaction faulted (not present, cached not-present, or prot). */
  record DmaFaulted(DeviceId dev, long tag, Iova iova, boolean write, String reason, boolean stray) implements IommuEvent {}
}
