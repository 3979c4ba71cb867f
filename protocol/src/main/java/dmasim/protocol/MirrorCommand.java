package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/**
 * What a mirror's device page table (the device MMU a mirroring driver programs, with the driver's
 * hmm_dma_map beside it) is asked by the driver. Entries are indexed by page of the mirror's range.
 */
@JsonSubTypes({
  @JsonSubTypes.Type(MirrorCommand.PteSet.class),
  @JsonSubTypes.Type(MirrorCommand.Zap.class),
  @JsonSubTypes.Type(MirrorCommand.Access.class),
  @JsonSubTypes.Type(MirrorCommand.DmaAlloc.class),
  @JsonSubTypes.Type(MirrorCommand.DmaUnmap.class),
  @JsonSubTypes.Type(MirrorCommand.DmaFree.class),
  @JsonSubTypes.Type(MirrorCommand.FaultDone.class),
  @JsonSubTypes.Type(MirrorCommand.ReadWord.class),
  @JsonSubTypes.Type(MirrorCommand.WriteWord.class),
  @JsonSubTypes.Type(MirrorCommand.Npages.class),
  @JsonSubTypes.Type(MirrorCommand.MkeyState.class)
})
public sealed interface MirrorCommand extends Message {

  /**
   * Program the device PTEs of pages [first, first + words.size()) from the pfn words of a walk;
   * {@code seq} is the read_begin value of the attempt the words come from; DMA mirrors map each
   * valid page first (hmm_dma_map_pfn). {@code downgrade}: map read-only whatever the word says.
   */
  record PteSet(int first, List<Long> words, long seq, boolean downgrade) implements MirrorCommand {
    public PteSet {
      words = List.copyOf(words);
    }
  }

  /** Zap the device PTEs of pages [first, first + pages) and flush the device TLB; {@code waitIdle}: also wait for DMA in flight through them. */
  record Zap(int first, int pages, boolean waitIdle) implements MirrorCommand {}

  /** The device reads or writes the mirrored address {@code va} through its page table (a device fault when the entry is missing). */
  record Access(long va, boolean write) implements MirrorCommand {}

  /** hmm_dma_map_alloc: one IOVA window for the whole range. */
  record DmaAlloc() implements MirrorCommand {}

  /** hmm_dma_unmap_pfn for every DMA-mapped page of [first, first + pages). */
  record DmaUnmap(int first, int pages) implements MirrorCommand {}

  /** hmm_dma_map_free. */
  record DmaFree() implements MirrorCommand {}

  /**
   * The driver finished handling the device's fault: resume it, or fail it ({@code error}: the device
   * program is killed). {@code token} 0: the fault the calling queue's own access raised; otherwise
   * that fault, whose access stalls until it is resumed (a page-fault work item's).
   */
  record FaultDone(boolean error, long token) implements MirrorCommand {}

  /**
   * hmm_range_fault loads entry {@code index} of the driver's pfn list (map.pfn_list: the walker
   * writes straight into it, without the driver's lock) for walk {@code walk}.
   */
  record ReadWord(long walk, int index) implements MirrorCommand {}

  /** hmm_range_fault stores {@code word} into entry {@code index}: (the value it loaded & HMM_PFN_INOUT_FLAGS) | what it found. */
  record WriteWord(long walk, int index, long word) implements MirrorCommand {}

  /**
   * From the RDMA device: the mkey whose MTT this mirror's device table is was revoked or freed
   * ({@code live} false; UMRs of its MTT then complete in error), or created again (true).
   */
  record MkeyState(boolean live) implements MirrorCommand {}

  /** How many pages of the mirror are DMA-mapped (ib_umem_odp's npages): answered ENOENT when none is. */
  record Npages() implements MirrorCommand {}
}
