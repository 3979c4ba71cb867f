package dmasim.protocol;

/** One device-visible piece of a mapping: what a driver writes into a descriptor. */
public record DmaSegment(Iova addr, long length) implements CborSerializable {
  public DmaSegment {
    if (addr == null || length <= 0) throw new IllegalArgumentException("bad dma segment " + addr + "+" + length);
  }
}
