package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/**
 * What a process address space (the mm actor) is asked: the process's own memory operations, which
 * invalidate mirrors, and the HMM / mmu interval notifier calls of a mirroring driver. Addresses are
 * user virtual addresses in bytes; page counts are 4 KiB pages.
 */
@JsonSubTypes({
  @JsonSubTypes.Type(MmCommand.Mmap.class),
  @JsonSubTypes.Type(MmCommand.Munmap.class),
  @JsonSubTypes.Type(MmCommand.Mprotect.class),
  @JsonSubTypes.Type(MmCommand.MadviseDontneed.class),
  @JsonSubTypes.Type(MmCommand.Touch.class),
  @JsonSubTypes.Type(MmCommand.Migrate.class),
  @JsonSubTypes.Type(MmCommand.Fork.class),
  @JsonSubTypes.Type(MmCommand.Reclaim.class),
  @JsonSubTypes.Type(MmCommand.Exit.class),
  @JsonSubTypes.Type(MmCommand.ReadBegin.class),
  @JsonSubTypes.Type(MmCommand.RangeFault.class),
  @JsonSubTypes.Type(MmCommand.WalkNext.class),
  @JsonSubTypes.Type(MmCommand.ReadRetry.class),
  @JsonSubTypes.Type(MmCommand.SetSeq.class),
  @JsonSubTypes.Type(MmCommand.CallbackReturned.class),
  @JsonSubTypes.Type(MmCommand.DirtyPages.class),
  @JsonSubTypes.Type(MmCommand.Resume.class),
  @JsonSubTypes.Type(MmCommand.Insert.class),
  @JsonSubTypes.Type(MmCommand.Remove.class),
  @JsonSubTypes.Type(MmCommand.MigrationFinish.class),
  @JsonSubTypes.Type(MmCommand.WordValue.class),
  @JsonSubTypes.Type(MmCommand.WordStored.class)
})
public sealed interface MmCommand extends Message {

  /** mmap(start, pages * 4096, PROT_READ [| PROT_WRITE], MAP_ANONYMOUS); {@code populate}: MAP_POPULATE. */
  record Mmap(long start, long pages, boolean write, boolean populate) implements MmCommand {}

  /** munmap: an UNMAP invalidation, then the PTEs go and the pages are freed. */
  record Munmap(long start, long pages) implements MmCommand {}

  /** mprotect: PROTECTION_VMA when write permission is taken away (adding it invalidates nothing). */
  record Mprotect(long start, long pages, boolean write) implements MmCommand {}

  /** madvise(MADV_DONTNEED): a CLEAR invalidation, the pages are zapped and freed; the VMA stays. */
  record MadviseDontneed(long start, long pages) implements MmCommand {}

  /** The process reads or writes its memory at {@code va}: a CPU page fault when needed (populate, COW break, migrate back). */
  record Touch(long va, boolean write) implements MmCommand {}

  /**
   * migrate_vma: {@code toDevice} moves the pages into device-private memory of {@code owner}
   * (MIGRATE invalidation carrying the owner); otherwise back to system memory.
   */
  record Migrate(long start, long pages, boolean toDevice, String owner) implements MmCommand {}

  /** fork: anonymous writable pages become copy-on-write in both processes (PROTECTION_PAGE). */
  record Fork() implements MmCommand {}

  /** Page reclaim of [start, start + pages): CLEAR; {@code blockable} false for the OOM reaper's non-blocking path. */
  record Reclaim(long start, long pages, boolean blockable) implements MmCommand {}

  /** The process exits: the mm is torn down (RELEASE over everything). */
  record Exit() implements MmCommand {}

  /** mmu_interval_read_begin(sub): answered with the sequence, after any invalidation of sub in progress ends. */
  record ReadBegin(String sub) implements MmCommand {}

  /**
   * hmm_range_fault over [start, start + pages) with {@code seq} from read_begin, the request flags
   * {@code defaultFlags} and {@code pfnFlagsMask}, the input words {@code input} (the driver's array)
   * and {@code owner} (range->dev_private_owner, "" for none). Walks one page per step.
   */
  record RangeFault(String sub, long seq, long start, long pages, long defaultFlags, long pfnFlagsMask, List<Long> input, String owner)
      implements MmCommand {
    public RangeFault {
      input = List.copyOf(input);
    }
  }

  /** The walker goes on with walk {@code walk} (sent to itself: each page is a step of its own). */
  record WalkNext(long walk) implements MmCommand {}

  /** mmu_interval_read_retry(sub, seq): answered whether an invalidation collided. */
  record ReadRetry(String sub, long seq) implements MmCommand {}

  /** mmu_interval_set_seq(sub, curSeq), from an invalidate callback of invalidation {@code inv}. */
  record SetSeq(String sub, long curSeq, long inv) implements MmCommand {}

  /** The invalidate callback of {@code sub} for invalidation {@code inv} returned {@code ok}. */
  record CallbackReturned(long inv, String sub, boolean ok) implements MmCommand {}

  /** set_page_dirty / mark_page_accessed on the struct pages of {@code pfns}, which the driver took from a walk of {@code sub}. */
  record DirtyPages(String sub, List<Long> pfns) implements MmCommand {
    public DirtyPages {
      pfns = List.copyOf(pfns);
    }
  }

  /** {@code cpu}'s {@code command}, which waited for mmap_lock, goes on now that the lock is free (sent by the mm to itself). */
  record Resume(String cpu, MmCommand command) implements MmCommand {}

  /** mmu_interval_notifier_insert of {@code sub}. */
  record Insert(String sub) implements MmCommand {}

  /** mmu_interval_notifier_remove of {@code sub}: answered once no callback of it runs or can run. */
  record Remove(String sub) implements MmCommand {}

  /**
   * migrate_vma_pages + migrate_vma_finalize of migration {@code migration} (sent by the mm to
   * itself once its pages are unmapped and hold migration entries: the copy in between is a step
   * other steps can interleave with).
   */
  record MigrationFinish(long migration) implements MmCommand {}

  /** The driver's pfn list answers the walker's load of entry {@code index} for walk {@code walk}: {@code word}. */
  record WordValue(long walk, int index, long word) implements MmCommand {}

  /** The walker's store into the driver's pfn list for walk {@code walk} is done: it goes on (its stores are in program order). */
  record WordStored(long walk) implements MmCommand {}
}
