package dmasim.actors.monitor;

import java.util.Arrays;

/** The linked ranges of one dma_iova_state: offset -> size, sorted by offset, in two small arrays (a few links per state). */
final class Links {
  private long[] offsets = new long[4];
  private long[] sizes = new long[4];
  private int n;

  int size() {
    return n;
  }

  boolean isEmpty() {
    return n == 0;
  }

  /** The size linked at {@code offset}, or -1. */
  long get(long offset) {
    int i = Arrays.binarySearch(offsets, 0, n, offset);
    return i >= 0 ? sizes[i] : -1;
  }

  void put(long offset, long size) {
    int i = Arrays.binarySearch(offsets, 0, n, offset);
    if (i >= 0) {
      sizes[i] = size;
      return;
    }
    i = -i - 1;
    if (n == offsets.length) {
      offsets = Arrays.copyOf(offsets, n * 2);
      sizes = Arrays.copyOf(sizes, n * 2);
    }
    System.arraycopy(offsets, i, offsets, i + 1, n - i);
    System.arraycopy(sizes, i, sizes, i + 1, n - i);
    offsets[i] = offset;
    sizes[i] = size;
    n++;
  }

  void remove(long offset) {
    int i = Arrays.binarySearch(offsets, 0, n, offset);
    if (i < 0) return;
    System.arraycopy(offsets, i + 1, offsets, i, n - i - 1);
    System.arraycopy(sizes, i + 1, sizes, i, n - i - 1);
    n--;
  }

  void clear() {
    n = 0;
  }

  /** The end of the contiguous run from offset 0, or -1 when the links are not exactly [0, end). */
  long contiguousEnd() {
    long covered = 0;
    for (int i = 0; i < n; i++) {
      if (offsets[i] != covered) return -1;
      covered += sizes[i];
    }
    return covered;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("{");
    for (int i = 0; i < n; i++) b.append(i == 0 ? "" : ", ").append(offsets[i]).append('+').append(sizes[i]);
    return b.append('}').toString();
  }
}
