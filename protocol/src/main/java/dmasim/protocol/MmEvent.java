package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/**
 * Facts of a process address space: VMAs, CPU page-table entries, page frames, and the mmu interval
 * notifier core (mm/mmu_notifier.c) with its subscriptions, invalidations, read sections and the
 * hmm_range_fault walks (mm/hmm.c). Virtual addresses in bytes.
 */
@JsonSubTypes({
  @JsonSubTypes.Type(MmEvent.VmaAdded.class),
  @JsonSubTypes.Type(MmEvent.VmaRemoved.class),
  @JsonSubTypes.Type(MmEvent.VmaProtected.class),
  @JsonSubTypes.Type(MmEvent.PteSet.class),
  @JsonSubTypes.Type(MmEvent.PteCleared.class),
  @JsonSubTypes.Type(MmEvent.FrameAllocated.class),
  @JsonSubTypes.Type(MmEvent.FrameReferenced.class),
  @JsonSubTypes.Type(MmEvent.FrameFreed.class),
  @JsonSubTypes.Type(MmEvent.FrameDirtied.class),
  @JsonSubTypes.Type(MmEvent.InvalidationStarted.class),
  @JsonSubTypes.Type(MmEvent.CallbackCalled.class),
  @JsonSubTypes.Type(MmEvent.CallbackFinished.class),
  @JsonSubTypes.Type(MmEvent.InvalidationEnded.class),
  @JsonSubTypes.Type(MmEvent.SeqSet.class),
  @JsonSubTypes.Type(MmEvent.ReadBegun.class),
  @JsonSubTypes.Type(MmEvent.ReadBeginWaits.class),
  @JsonSubTypes.Type(MmEvent.ReadRetried.class),
  @JsonSubTypes.Type(MmEvent.WalkStarted.class),
  @JsonSubTypes.Type(MmEvent.WalkStep.class),
  @JsonSubTypes.Type(MmEvent.WalkEnded.class),
  @JsonSubTypes.Type(MmEvent.MmCallFinished.class),
  @JsonSubTypes.Type(MmEvent.MmapLockWaits.class),
  @JsonSubTypes.Type(MmEvent.MmapLockResumed.class),
  @JsonSubTypes.Type(MmEvent.ReclaimDecided.class),
  @JsonSubTypes.Type(MmEvent.SubInserted.class),
  @JsonSubTypes.Type(MmEvent.SubRemoved.class),
  @JsonSubTypes.Type(MmEvent.SubRemoveWaits.class),
  @JsonSubTypes.Type(MmEvent.DeferredApplied.class),
  @JsonSubTypes.Type(MmEvent.MigrationWaits.class),
  @JsonSubTypes.Type(MmEvent.MigrationFinished.class)
})
public sealed interface MmEvent extends Event {

  /** A VMA [start, start + pages) with read (always) and {@code write} permission; {@code io}: VM_IO | VM_PFNMAP. */
  record VmaAdded(long start, long pages, boolean write, boolean io) implements MmEvent {
    public VmaAdded(long start, long pages, boolean write) {
      this(start, pages, write, false);
    }
  }

  record VmaRemoved(long start, long pages) implements MmEvent {}

  /** mprotect changed the write permission of the VMA pages [start, start + pages). */
  record VmaProtected(long start, long pages, boolean write) implements MmEvent {}

  /**
   * The CPU page table maps {@code va} to {@code pfn}: {@code kind} "present" (system memory),
   * "device-private" (owned by {@code owner}), or "migration" (a migration entry: the page is being
   * migrated, to {@code owner}'s device memory or back, and {@code pfn} is the old page);
   * {@code writable} false for read-only and COW pages.
   */
  record PteSet(long va, long pfn, boolean writable, String kind, String owner) implements MmEvent {}

  /** The CPU page-table entry of {@code va} (to {@code pfn}) is gone, as {@code event} ("UNMAP", "CLEAR", ...) needed. */
  record PteCleared(long va, long pfn, String event) implements MmEvent {}

  /** A page frame was allocated: "anon" system memory, or "device-private" memory of {@code owner}. */
  record FrameAllocated(long pfn, String kind, String owner) implements MmEvent {}

  /** The frame's reference count is now {@code refs} (fork shares, COW breaks). */
  record FrameReferenced(long pfn, int refs) implements MmEvent {}

  /** The frame went back to the page allocator (its last reference dropped). */
  record FrameFreed(long pfn, String kind) implements MmEvent {}

  /** set_page_dirty on frame {@code pfn} by {@code by}, from a walk of {@code sub}; {@code free}: the frame was free at the time. */
  record FrameDirtied(long pfn, String by, String sub, boolean free) implements MmEvent {}

  /**
   * mmu_notifier_invalidate_range_start: invalidation {@code id} of [start, start + pages) for
   * {@code event} (UNMAP, CLEAR, PROTECTION_VMA, PROTECTION_PAGE, MIGRATE, RELEASE), caused by
   * {@code initiator}; {@code blockable} false on the non-blocking path; {@code owner} the MIGRATE
   * owner. {@code coreSeq}: subscriptions->invalidate_seq after it started (odd when a subscription
   * intersects); {@code subs}: the intersecting subscriptions, called in this order. What waits for
   * it: the memory operation {@code call} ("munmap", "touch", ...) with its flag {@code flag} (the
   * new write permission of mprotect, the write of a touch, the direction of a migration), and the
   * walk {@code walk} whose fault caused it (0: none); {@code after}: the initiator's call that an
   * injected reclaim went before (handled once the reclaim is over; null for none).
   */
  record InvalidationStarted(long id, String initiator, String event, long start, long pages, boolean blockable, String owner, long coreSeq,
      List<String> subs, String call, boolean flag, long walk, MmCommand after) implements MmEvent {
    public InvalidationStarted {
      subs = List.copyOf(subs);
    }

    public InvalidationStarted(long id, String initiator, String event, long start, long pages, boolean blockable, String owner, long coreSeq,
        List<String> subs, String call, boolean flag, long walk) {
      this(id, initiator, event, start, pages, blockable, owner, coreSeq, subs, call, flag, walk, null);
    }
  }

  /** The notifier called {@code sub}'s invalidate callback for invalidation {@code id} with {@code curSeq}, on {@code cpu}. */
  record CallbackCalled(long id, String sub, long curSeq, String cpu) implements MmEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return sub;
    }
  }

  /** {@code sub}'s callback for invalidation {@code id} returned {@code ok}. */
  record CallbackFinished(long id, String sub, boolean ok) implements MmEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return sub;
    }
  }

  /**
   * Invalidation {@code id} ended (mn_itree_inv_end): {@code coreSeq} is the sequence after it;
   * {@code failed}: a non-blockable callback returned false and the core ended it without changing
   * the page table (-EAGAIN to the caller).
   */
  record InvalidationEnded(long id, long coreSeq, boolean failed) implements MmEvent {}

  /** mmu_interval_set_seq(sub, seq) by {@code cpu} inside the callback of invalidation {@code inv}. */
  record SeqSet(String sub, long seq, String cpu, long inv) implements MmEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return sub;
    }
  }

  /** mmu_interval_read_begin(sub) by {@code cpu} returned {@code seq}; {@code waited}: it slept until an invalidation ended. */
  record ReadBegun(String sub, String cpu, long seq, boolean waited) implements MmEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return sub;
    }
  }

  /** mmu_interval_read_begin(sub) by {@code cpu} sleeps: sub is being invalidated (its seq equals the core's). */
  record ReadBeginWaits(String sub, String cpu, long seq) implements MmEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return sub;
    }
  }

  /** mmu_interval_read_retry(sub, seq) by {@code cpu} returned {@code retry}. */
  record ReadRetried(String sub, String cpu, long seq, boolean retry) implements MmEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return sub;
    }
  }

  /** hmm_range_fault by {@code cpu}: walk {@code walk} of [start, start + pages) for {@code sub} with {@code seq}. */
  record WalkStarted(long walk, String cpu, String sub, long seq, long start, long pages, long defaultFlags, long pfnFlagsMask, String owner,
      List<Long> input) implements MmEvent {
    public WalkStarted {
      input = List.copyOf(input);
    }
  }

  /**
   * The walker handled page {@code index} of walk {@code walk}: {@code word} is the entry it wrote
   * (unchanged when it faulted), {@code action} what it did ("present", "fault", "device-private",
   * "error", "none", "restart").
   */
  record WalkStep(long walk, int index, long va, long word, String action) implements MmEvent {}

  /** Walk {@code walk} returned {@code errno} to its caller. */
  record WalkEnded(long walk, int errno) implements MmEvent {}

  /** The memory operation {@code call} of {@code cpu} finished with {@code errno}. */
  record MmCallFinished(String call, String cpu, int errno) implements MmEvent {}

  /**
   * {@code cpu}'s {@code call} waits for mmap_lock: a writer (munmap, mprotect, mmap, fork, exit)
   * while hmm_range_fault walks hold it for reading, or a walk while a writer holds it.
   */
  record MmapLockWaits(String cpu, String call, MmCommand command) implements MmEvent {}

  /** The waiting calls got mmap_lock and go on, in the order they came. */
  record MmapLockResumed(int count) implements MmEvent {}

  /**
   * Reclaim rule {@code rule} selected the {@code match}-th {@code type} envelope from {@code from};
   * {@code injected}: direct reclaim runs first in that thread. {@code describe} is the rule in words.
   */
  record ReclaimDecided(int rule, String from, String type, long match, boolean injected, String describe) implements MmEvent {}

  /**
   * mmu_interval_notifier_insert of {@code sub} by {@code cpu}: its seq is now {@code seq} and the
   * core's {@code coreSeq}; {@code deferred}: an invalidation was running with the tree frozen, so
   * the subscription waits on the deferred list until the last one ends (its seq equals the core's
   * until then, so read_begin sleeps).
   */
  record SubInserted(String sub, String cpu, long seq, long coreSeq, boolean deferred) implements MmEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return sub;
    }
  }

  /** mmu_interval_notifier_remove of {@code sub} by {@code cpu} returned: no callback of it runs or will run. */
  record SubRemoved(String sub, String cpu) implements MmEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return sub;
    }
  }

  /** mmu_interval_notifier_remove of {@code sub} by {@code cpu} waits until the core's seq moves past {@code seq} (the tree is frozen). */
  record SubRemoveWaits(String sub, String cpu, long seq) implements MmEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return sub;
    }
  }

  /** The last invalidation ended: the deferred inserts and removes are applied to the tree. */
  record DeferredApplied(List<String> inserted, List<String> removed) implements MmEvent {
    public DeferredApplied {
      inserted = List.copyOf(inserted);
      removed = List.copyOf(removed);
    }
  }

  /**
   * {@code cpu} met a migration entry of migration {@code migration} and sleeps until it is over
   * (migration_entry_wait): walk {@code walk} (then it restarts, -EBUSY), or its {@code command}.
   */
  record MigrationWaits(long migration, String cpu, long walk, MmCommand command) implements MmEvent {}

  /** Migration {@code migration} replaced its migration entries with the new pages (migrate_vma_finalize). */
  record MigrationFinished(long migration) implements MmEvent {}
}
