package dmasim.protocol;

/**
 * One device-visible piece of a mapping: what a driver writes into a descriptor. {@code busAddress}
 * marks a PCI bus address of a P2P peer (SG_DMA_BUS_ADDRESS): the device reaches the peer directly,
 * the IOMMU neither translates nor maps it.
 */
public record DmaSegment(Iova addr, long length, boolean busAddress) implements CborSerializable {
  public DmaSegment {
    if (addr == null || length <= 0) throw new IllegalArgumentException("bad dma segment " + addr + "+" + length);
  }

  /** An IOVA (or dma-direct) segment. */
  public DmaSegment(Iova addr, long length) {
    this(addr, length, false);
  }
}
