package dmasim.actors.cpu;

import dmasim.protocol.DeviceId;
import dmasim.protocol.Direction;

/**
 * One instruction of a driver program run by a CpuQueue. Calls (allocation, DMA API, await) send
 * one message and wait for its answer; the others run locally in the same step. Objects are named:
 * buffers (pages), dma_iova_state objects, handle groups (one dma_addr_t per segment), sg tables;
 * they live across loop iterations, so a program can reuse one wrongly on purpose.
 */
public sealed interface Op {
  /** A label for jumps; does nothing. */
  record Label(String name) implements Op {}

  /**
   * Allocate {@code pages} pages into buffer {@code buf} (one segment per page) from {@code region}
   * ("" = RAM); {@code kind} is what the RAM is to the kernel (the task's stack, kernel text, ...).
   */
  record AllocBuffer(String buf, int pages, String region, dmasim.protocol.PageKind kind) implements Op {
    public AllocBuffer {
      if (kind == null) kind = dmasim.protocol.PageKind.LINEAR;
    }

    public AllocBuffer(String buf, int pages, String region) {
      this(buf, pages, region, dmasim.protocol.PageKind.LINEAR);
    }

    public AllocBuffer(String buf, int pages) {
      this(buf, pages, "");
    }
  }

  /** Return the buffer's pages. */
  record FreeBuffer(String buf) implements Op {}

  /** The CPU writes ({@code write}) or reads the buffer's data. */
  record Touch(String buf, boolean write) implements Op {}

  /** dma_iova_try_alloc(dev, state, phys(buf) + offset, pages * 4096 - offset). */
  record TryAlloc(String state, String buf, DeviceId dev, long offset) implements Op {}

  /** if (!dma_use_iova(state)) goto label. */
  record JumpIfNoIova(String state, String label) implements Op {}

  /**
   * dma_iova_link of segment {@code seg} of {@code buf} at its offset in the state; {@code size} > 0
   * links only that many bytes; {@code attrs} are DMA_ATTR_* bits (MMIO, REQUIRE_COHERENT).
   */
  record Link(String state, String buf, int seg, DeviceId dev, Direction dir, long size, int attrs) implements Op {
    public Link(String state, String buf, int seg, DeviceId dev, Direction dir) {
      this(state, buf, seg, dev, dir, 0, 0);
    }

    public Link(String state, String buf, int seg, DeviceId dev, Direction dir, long size) {
      this(state, buf, seg, dev, dir, size, 0);
    }
  }

  /** dma_iova_sync over [0, size of state). */
  record Sync(String state, DeviceId dev) implements Op {}

  /**
   * dma_iova_unlink of segment {@code seg}, or, when {@code size} > 0, of the byte range
   * [offset, offset + size) of the state (part of one link, or several adjacent links at once).
   */
  record Unlink(String state, int seg, DeviceId dev, Direction dir, long offset, long size) implements Op {
    public Unlink(String state, int seg, DeviceId dev, Direction dir) {
      this(state, seg, dev, dir, 0, 0);
    }
  }

  /** dma_iova_destroy(state, mapped_len = {@code segs} * 4096, or the whole state when {@code segs} < 0). */
  record Destroy(String state, int segs, DeviceId dev, Direction dir) implements Op {}

  /** dma_iova_free(state). */
  record Free(String state, DeviceId dev) implements Op {}

  /**
   * dma_map_phys of segment {@code seg} of {@code buf} into handle group {@code handle}; {@code mmio} adds DMA_ATTR_MMIO,
   * {@code skipCpuSync} DMA_ATTR_SKIP_CPU_SYNC; {@code single}: through dma_map_single_attrs with the
   * buffer's kernel virtual address instead of dma_map_page.
   */
  record MapPhys(String handle, String buf, int seg, DeviceId dev, Direction dir, boolean mmio, boolean skipCpuSync, boolean single)
      implements Op {
    public MapPhys(String handle, String buf, int seg, DeviceId dev, Direction dir, boolean mmio, boolean skipCpuSync) {
      this(handle, buf, seg, dev, dir, mmio, skipCpuSync, false);
    }

    public MapPhys(String handle, String buf, int seg, DeviceId dev, Direction dir, boolean mmio) {
      this(handle, buf, seg, dev, dir, mmio, false);
    }

    public MapPhys(String handle, String buf, int seg, DeviceId dev, Direction dir) {
      this(handle, buf, seg, dev, dir, false, false);
    }
  }

  /** dma_mapping_error on handle {@code seg} of group {@code handle}; sets the error flag. */
  record MappingError(String handle, int seg, DeviceId dev) implements Op {}

  /** dma_unmap_phys of handle {@code seg} of group {@code handle}. */
  record UnmapPhys(String handle, int seg, DeviceId dev, Direction dir) implements Op {}

  /**
   * dma_map_sg of every page of {@code buf} into sg table {@code sg}: one entry per page, or, when
   * {@code mergeMax} > 0, physically contiguous pages merged into entries of at most that many bytes
   * (the table built by sg_alloc_table_from_pages_segment with max_segment = mergeMax).
   */
  record MapSg(String sg, String buf, DeviceId dev, Direction dir, long mergeMax) implements Op {
    public MapSg(String sg, String buf, DeviceId dev, Direction dir) {
      this(sg, buf, dev, dir, 0);
    }
  }

  /** The mapping half of dma_alloc_coherent for the pages of {@code buf} (allocated just before): the handle is kept under the buffer's name. */
  record AllocCoherent(String buf, DeviceId dev) implements Op {}

  /**
   * dma_free_coherent(dev, size, cpu address of {@code buf}, handle of {@code handleOf}); {@code size} 0 means the
   * buffer's pages. The pages themselves are freed by the FreeBuffer that follows.
   */
  record FreeCoherent(String buf, String handleOf, long size, DeviceId dev) implements Op {}

  /** dma_unmap_sg(sg, nents); {@code nents} < 0 means the nents passed to map. */
  record UnmapSg(String sg, int nents, DeviceId dev, Direction dir) implements Op {}

  /** dma_sync_{single,sg}_for_{cpu,device} on a handle group member or an sg table. */
  record SyncFor(String object, int seg, boolean forCpu, DeviceId dev, Direction dir) implements Op {}

  /**
   * Hand a descriptor over {@code source} ("state:NAME", "handles:NAME", "sg:NAME" or "coherent:NAME") to {@code dev};
   * {@code length} > 0 makes it a short transfer of that many bytes from the start.
   */
  record Submit(DeviceId dev, String source, boolean deviceWrites, long length) implements Op {
    public Submit(DeviceId dev, String source, boolean deviceWrites) {
      this(dev, source, deviceWrites, 0);
    }
  }

  /**
   * Wait for the completion of the last submitted descriptor; a faulted transfer sets the error
   * flag. With {@code timeout} > 0 (virtual ns) give up after that long: the error flag is set with
   * -ETIMEDOUT and the descriptor stays with the device (a driver's command timeout).
   */
  record Await(long timeout) implements Op {
    public Await() {
      this(0);
    }
  }

  /** goto label when the last call failed (errno, false try_alloc, or mapping error). */
  record JumpIfError(String label) implements Op {}

  /** goto label when the last call failed with exactly {@code errno} (e.g. -EREMOTEIO from a P2P map, -ENOMEM from a sync). */
  record JumpIfErrno(int errno, String label) implements Op {}

  /** goto label when counter is odd. */
  record JumpIfOdd(String counter, String label) implements Op {}

  /** goto label. */
  record Goto(String label) implements Op {}

  /** counter++; goto label while counter < times. */
  record Loop(String counter, long times, String label) implements Op {}

  /** memset(state, 0): the driver clears a dma_iova_state (dma_use_iova() is false until the next try_alloc). */
  record ResetState(String state) implements Op {}

  /** Sleep {@code duration} virtual ns (msleep, a retry back-off, a watchdog period); other queues and devices go on. */
  record Sleep(long duration) implements Op {}

  /** Count one finished request. */
  record RequestDone() implements Op {}

  /** Driver unbind for {@code dev}. */
  record Unbind(DeviceId dev) implements Op {}

  /** Acquire a named lock (waits until granted). */
  record Lock(String name) implements Op {}

  /** Release a named lock. */
  record Unlock(String name) implements Op {}

  /**
   * Reset the device (function-level reset, pci_reset_function): in-flight DMA and its ATC are lost.
   * Waits until the reset is done, which includes every transaction the device had already issued.
   */
  record ResetDevice(DeviceId dev) implements Op {}

  /** pci_device_is_present: sets the error flag when the device is gone (surprise-removed). */
  record ProbeDevice(DeviceId dev) implements Op {}

  /** Attach the DMA domain to another IOMMU unit (caching mode or not); waits for the answer, error flag on refusal. */
  record AttachIommu(boolean cachingMode) implements Op {}

  /**
   * Attach device {@code dev} to the shared DMA domain (its driver probes: iommu_setup_dma_ops ->
   * iommu_dma_init_domain); waits for the answer. Only then can the device use the DMA API.
   */
  record AttachDevice(DeviceId dev) implements Op {}

  /** Surprise removal of {@code dev}: the device vanishes and its DMA domain is torn down. Does not wait. */
  record SurpriseRemoval(DeviceId dev) implements Op {}

  /** Tear the DMA domain down (device removal). Does not wait. */
  record TearDownDomain() implements Op {}

  /** A memory operation of the process on its address space (mmap, munmap, mprotect, madvise, a touch, migrate, fork, reclaim, exit); waits for it. */
  record MmCall(dmasim.protocol.MmCommand command) implements Op {}

  /** mmu_interval_read_begin on mirror {@code mirror}'s subscription: the sequence of this attempt. */
  record ReadBegin(String mirror) implements Op {}

  /**
   * hmm_range_fault over [start, start + pages * 4096) with the seq of the last read_begin:
   * default_flags HMM_PFN_REQ_FAULT (| HMM_PFN_REQ_WRITE when {@code write}), none when
   * {@code snapshot}; pfn_flags_mask 0; range->dev_private_owner {@code owner} ("" for none).
   */
  record RangeFault(String mirror, long start, long pages, boolean write, boolean snapshot, String owner) implements Op {}

  /** mmu_interval_read_retry with the seq of the last read_begin: goto label when it says retry. */
  record ReadRetry(String mirror, String label) implements Op {}

  /** mmu_interval_set_seq(sub, cur_seq) inside the callback being run. */
  record SetSeq(String mirror) implements Op {}

  /** Program the device PTEs from the pfns of the last walk of the mirror (hmm_dma_map_pfn first on a DMA mirror); {@code downgrade}: read-only. */
  record DevPteSet(String mirror, long mirrorStart, boolean downgrade) implements Op {}

  /** Zap the device PTEs of the callback's range (the whole mirror outside a callback); {@code waitIdle}: wait for DMA in flight through them. */
  record DevZap(String mirror, long mirrorStart, long mirrorPages, boolean waitIdle) implements Op {}

  /** The device accesses {@code va} through its page table (error flag, EFAULT: the device raised a page fault). */
  record DevAccess(String mirror, long va, boolean write) implements Op {}

  /** The HMM DMA helpers: {@code call} "alloc" (hmm_dma_map_alloc), "unmap" (hmm_dma_unmap_pfn over the callback's range or the whole mirror), "free". */
  record HmmDma(String mirror, String call, long mirrorStart, long mirrorPages) implements Op {}

  /** set_page_dirty on the frames of the last walk of the mirror that came back writable. */
  record DirtyPages(String mirror) implements Op {}

  /** The driver finished handling the device's page fault: resume the device, or fail the access ({@code error}: its program dies). */
  record FaultDone(String mirror, boolean error) implements Op {}

  /** Return from the invalidate callback being run ({@code ok} false: could not, on a non-blockable range). */
  record Return(boolean ok) implements Op {}

  /** Try to take a named lock without waiting: the error flag says it was busy (mutex_trylock). */
  record TryLock(String name) implements Op {}

  /** Inside a callback: goto label when its range is not blockable (mmu_notifier_range_blockable false). */
  record JumpIfNonBlockable(String label) implements Op {}

  /** Inside a callback: goto label when the event is a MIGRATE this driver started itself (range->owner is {@code owner}). */
  record JumpIfOwnMigrate(String owner, String label) implements Op {}

  /** Stop. */
  /** In a work handler: jump to {@code label} when the item being run is for memory region {@code mr}. */
  record JumpIfWorkFor(String mr, String label) implements Op {}

  /** A call of mirror {@code mirror}'s device side that needs nothing from the queue's registers. */
  record MirrorCall(String mirror, dmasim.protocol.MirrorCommand command) implements Op {}

  /**
   * create_mkey of page-list mkey {@code mr} on {@code hca}: MTT entry i is the DMA address of page i
   * of {@code buf} as {@code source} ("state:NAME": the IOVA state, entry i at addr + i * 4096;
   * "handles:NAME": handle i of a map-phys group) gives it.
   */
  record MkeyCreate(String hca, String mr, String source, String buf) implements Op {}

  /** A call of the RDMA device {@code hca} (mkeys, implicit children, KSM updates, the workqueue). */
  record HcaCall(String hca, dmasim.protocol.HcaCommand command) implements Op {}

  record End() implements Op {}
}
