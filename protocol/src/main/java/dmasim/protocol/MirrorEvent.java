package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/**
 * Facts of a mirror's device page table: device PTEs written and zapped, device accesses through
 * them, the hmm_dma_map of the mirror (IOVA window, DMA_MAPPED slots), device faults and their
 * resolution. {@code mirror} names the mirror (the interval subscription).
 */
@JsonSubTypes({
  @JsonSubTypes.Type(MirrorEvent.DevicePteWritten.class),
  @JsonSubTypes.Type(MirrorEvent.DevicePteZapped.class),
  @JsonSubTypes.Type(MirrorEvent.ZapWaits.class),
  @JsonSubTypes.Type(MirrorEvent.DeviceAccessed.class),
  @JsonSubTypes.Type(MirrorEvent.AccessIssued.class),
  @JsonSubTypes.Type(MirrorEvent.AccessCompleted.class),
  @JsonSubTypes.Type(MirrorEvent.DeviceFaulted.class),
  @JsonSubTypes.Type(MirrorEvent.FaultResolved.class),
  @JsonSubTypes.Type(MirrorEvent.DmaMapAllocated.class),
  @JsonSubTypes.Type(MirrorEvent.DmaMapFreed.class),
  @JsonSubTypes.Type(MirrorEvent.SlotMapped.class),
  @JsonSubTypes.Type(MirrorEvent.SlotUnmapped.class),
  @JsonSubTypes.Type(MirrorEvent.CallStarted.class),
  @JsonSubTypes.Type(MirrorEvent.IoDone.class),
  @JsonSubTypes.Type(MirrorEvent.CallFinished.class),
  @JsonSubTypes.Type(MirrorEvent.WordWritten.class),
  @JsonSubTypes.Type(MirrorEvent.MkeyStateChanged.class),
  @JsonSubTypes.Type(MirrorEvent.UmrFailed.class)
})
public sealed interface MirrorEvent extends Event {

  /**
   * Device PTE of page {@code index} ({@code va}) now maps {@code pfn} ({@code dma}: through DMA
   * address {@code addr}; otherwise the device uses the pfn itself), {@code writable}; written for
   * {@code cpu} from the pfn word {@code word} of its attempt that began with {@code seq}.
   */
  record DevicePteWritten(String mirror, int index, long va, long pfn, boolean writable, boolean dma, long addr, String cpu, long seq, long word)
      implements MirrorEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return mirror;
    }
  }

  /** Device PTE of page {@code index} ({@code va}, which mapped {@code pfn}) zapped and flushed from the device TLB. */
  record DevicePteZapped(String mirror, int index, long va, long pfn) implements MirrorEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return mirror;
    }
  }

  /** {@code cpu}'s zap of pages [first, first + pages) waits for {@code inFlight} device accesses through them to finish. */
  record ZapWaits(String mirror, String cpu, int first, int pages, int inFlight) implements MirrorEvent {}

  /** The device accessed {@code va} through its page table: frame {@code pfn} directly (no DMA mapping). */
  record DeviceAccessed(String mirror, long va, long pfn, boolean write) implements MirrorEvent {}

  /** The device started a DMA to {@code va} through DMA address {@code addr} (descriptor {@code tag} of the backing device). */
  record AccessIssued(String mirror, String cpu, long va, long pfn, long addr, boolean write, long tag) implements MirrorEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return mirror;
    }
  }

  /** The DMA {@code tag} finished ({@code faults} pages faulted in the IOMMU). */
  record AccessCompleted(String mirror, long tag, int faults) implements MirrorEvent {}

  /** The device found no usable entry for {@code va} and raised page fault {@code token}, which {@code cpu}'s driver thread handles. */
  record DeviceFaulted(String mirror, String cpu, long token, long va, boolean write) implements MirrorEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return mirror;
    }
  }

  /** The driver resolved fault {@code token} ({@code va}): resumed, or failed ({@code error}: the device program dies). */
  record FaultResolved(String mirror, long token, long va, boolean write, boolean error) implements MirrorEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return mirror;
    }
  }

  /** hmm_dma_map_alloc: IOVA window at {@code addr} for {@code pages} pages ({@code addr} 0: no IOVA, per-page dma_map_page). */
  record DmaMapAllocated(String mirror, long addr, long pages) implements MirrorEvent {}

  record DmaMapFreed(String mirror) implements MirrorEvent {}

  /**
   * hmm_dma_map_pfn: slot {@code index} maps {@code pfn} at {@code addr}; DMA_MAPPED set, and
   * {@code p2pFlags} (HMM_PFN_P2PDMA: a peer's BAR through the host bridge; HMM_PFN_P2PDMA_BUS: its
   * bus address, nothing mapped).
   */
  record SlotMapped(String mirror, int index, long pfn, long addr, long p2pFlags) implements MirrorEvent, Owned {
    public SlotMapped(String mirror, int index, long pfn, long addr) {
      this(mirror, index, pfn, addr, 0);
    }

    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return mirror;
    }
  }

  /** hmm_dma_unmap_pfn: slot {@code index} (which mapped {@code pfn}) unlinked; DMA_MAPPED cleared. */
  record SlotUnmapped(String mirror, int index, long pfn, long addr) implements MirrorEvent, Owned {
    @Override
    @com.fasterxml.jackson.annotation.JsonIgnore
    public String owner() {
      return mirror;
    }
  }

  /**
   * One DMA API call the table makes for a driver call, in order: "try_alloc", "link", "sync",
   * "unlink", "map_page", "unmap_page", "free" of slot {@code index} for frame {@code pfn}
   * ({@code addr}: the slot's DMA address when known).
   */
  record IoOp(String op, int index, long pfn, long addr) implements CborSerializable {}

  /**
   * The driver's call {@code call} from {@code cpu} is queued: it needs the DMA API calls
   * {@code ops} (made one at a time, in order, by the table), then, for "pte_set", the device PTEs
   * of pages [first, first + words.size()) are written from {@code words} ({@code seq}: the
   * attempt's read_begin value; {@code downgrade}: read-only).
   */
  record CallStarted(String mirror, String call, String cpu, List<IoOp> ops, int first, List<Long> words, long seq, boolean downgrade)
      implements MirrorEvent {
    public CallStarted {
      ops = List.copyOf(ops);
      words = List.copyOf(words);
    }
  }

  /** The DMA API call at the head of the queue answered {@code errno} and {@code value} (an address). */
  record IoDone(String mirror, int errno, long value) implements MirrorEvent {}

  /** The driver's call {@code call} from {@code cpu} finished with {@code errno}. */
  record CallFinished(String mirror, String call, String cpu, int errno) implements MirrorEvent {}

  /**
   * Entry {@code index} of the mirror's shared pfn list is now {@code word}, written by {@code by}:
   * "walker" (hmm_range_fault's store), "map" (hmm_dma_map_pfn set DMA_MAPPED), "unmap"
   * (hmm_dma_unmap_pfn / ib_umem_odp_unmap_dma_pages cleared the flags).
   */
  record WordWritten(String mirror, int index, long word, String by) implements MirrorEvent {}

  /** The RDMA mkey over this mirror's device table is dead ({@code live} false: revoked or freed) or live again (a new child). */
  record MkeyStateChanged(String mirror, boolean live) implements MirrorEvent {}

  /** {@code cpu}'s {@code call} (a UMR of the MTT: pte_set, zap) completed in error: the mkey is dead, nothing changed. */
  record UmrFailed(String mirror, String cpu, String call) implements MirrorEvent {}
}
