package dmasim.protocol;

/**
 * The HMM pfn word (include/linux/hmm.h, 64-bit, the v6.16-era layout with the DMA helpers): one
 * {@code unsigned long} per 4 KiB page, flag bits at the top, the pfn at the bottom. The same bits
 * are the request on input (HMM_PFN_REQ_FAULT = VALID, HMM_PFN_REQ_WRITE = WRITE) and the answer on
 * output; {@link #INOUT} bits survive every output write of the walker.
 */
public final class HmmPfn {
  public static final long VALID = 1L << 63;
  public static final long WRITE = 1L << 62;
  public static final long ERROR = 1L << 61;
  /** Sticky: the entry is DMA-mapped (hmm_dma_map_pfn set it; hmm_dma_unmap_pfn clears it). */
  public static final long DMA_MAPPED = 1L << 60;
  public static final long P2PDMA = 1L << 59;
  public static final long P2PDMA_BUS = 1L << 58;
  /** HMM_PFN_INOUT_FLAGS: kept from input to output ({@code *pfn = (*pfn & INOUT) | new}). */
  public static final long INOUT = DMA_MAPPED | P2PDMA | P2PDMA_BUS;
  /** HMM_PFN_REQ_FAULT. */
  public static final long REQ_FAULT = VALID;
  /** HMM_PFN_REQ_WRITE. */
  public static final long REQ_WRITE = WRITE;
  /** The flag bits (HMM_PFN_FLAGS: everything above the order field). */
  public static final long FLAGS = VALID | WRITE | ERROR | DMA_MAPPED | P2PDMA | P2PDMA_BUS;
  /** Bits 0..52: the pfn. */
  public static final long PFN_MASK = (1L << 53) - 1;

  private HmmPfn() {}

  public static long pfn(long word) {
    return word & PFN_MASK;
  }

  /** The word in the kernel's terms: "pfn 0x100003 VALID|WRITE". */
  public static String describe(long word) {
    StringBuilder b = new StringBuilder();
    if ((word & VALID) != 0) b.append("|VALID");
    if ((word & WRITE) != 0) b.append("|WRITE");
    if ((word & ERROR) != 0) b.append("|ERROR");
    if ((word & DMA_MAPPED) != 0) b.append("|DMA_MAPPED");
    if ((word & P2PDMA) != 0) b.append("|P2PDMA");
    if ((word & P2PDMA_BUS) != 0) b.append("|P2PDMA_BUS");
    String flags = b.length() == 0 ? "0" : b.substring(1);
    return (word & VALID) != 0 ? "pfn 0x" + Long.toHexString(pfn(word)) + " " + flags : flags;
  }
}
