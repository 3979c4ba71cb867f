package dmasim.protocol;

/** One physically contiguous piece of a buffer, as in a scatterlist entry before mapping. */
public record Segment(Phys phys, long length) implements CborSerializable {
  public Segment {
    if (phys == null || length <= 0) throw new IllegalArgumentException("bad segment " + phys + "+" + length);
  }
}
