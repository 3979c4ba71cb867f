package dmasim.protocol;

/** A half-open range of page frame numbers [start, start + pages). */
public record PageRange(long start, long pages) {
  public PageRange {
    if (start < 0 || pages < 0) throw new IllegalArgumentException("bad range " + start + "+" + pages);
  }

  public long end() {
    return start + pages;
  }

  public boolean contains(long pfn) {
    return pfn >= start && pfn < end();
  }

  public boolean overlaps(PageRange o) {
    return start < o.end() && o.start < end();
  }

  @Override
  public String toString() {
    return "[0x" + Long.toHexString(start) + "+" + pages + ")";
  }
}
