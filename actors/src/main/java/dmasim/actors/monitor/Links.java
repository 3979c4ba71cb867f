package dmasim.actors.monitor;

import java.util.Arrays;

/**
 * The linked bytes of one dma_iova_state as a set of disjoint half-open ranges [start, end) of
 * state offsets, sorted and merged where they touch: the kernel keeps no record of individual
 * dma_iova_link calls, so an unlink may cover part of one link or several adjacent ones. A few
 * ranges per state, in two small arrays.
 */
final class Links {
  private long[] starts = new long[4];
  private long[] ends = new long[4];
  private int n;

  /** How many separate ranges are linked. */
  int size() {
    return n;
  }

  boolean isEmpty() {
    return n == 0;
  }

  /** Adds [start, end), merging with ranges it overlaps or touches. */
  void add(long start, long end) {
    if (end <= start) return;
    long s = start;
    long e = end;
    int first = 0;
    while (first < n && ends[first] < s) first++;
    int last = first;
    while (last < n && starts[last] <= e) {
      s = Math.min(s, starts[last]);
      e = Math.max(e, ends[last]);
      last++;
    }
    int removed = last - first;
    if (removed == 0 && n == starts.length) {
      starts = Arrays.copyOf(starts, n * 2);
      ends = Arrays.copyOf(ends, n * 2);
    }
    int tail = n - last;
    int at = first + 1;
    System.arraycopy(starts, last, starts, at, tail);
    System.arraycopy(ends, last, ends, at, tail);
    starts[first] = s;
    ends[first] = e;
    n = at + tail;
  }

  /** True when every byte of [start, end) is linked (an empty range is covered). */
  boolean covers(long start, long end) {
    if (end <= start) return true;
    for (int i = 0; i < n; i++) if (starts[i] <= start && end <= ends[i]) return true;
    return false;
  }

  /** The first linked range overlapping [start, end) but not inside [keepStart, keepEnd), as {from, to}; null when none. */
  long[] linkedOutside(long start, long end, long keepStart, long keepEnd) {
    for (int i = 0; i < n; i++) {
      long s = Math.max(starts[i], start);
      long e = Math.min(ends[i], end);
      if (s >= e) continue;
      if (s < keepStart) return new long[] {s, Math.min(e, keepStart)};
      if (e > keepEnd) return new long[] {Math.max(s, keepEnd), e};
    }
    return null;
  }

  /** Removes [start, end) from the set, splitting a range it falls inside. */
  void remove(long start, long end) {
    if (end <= start) return;
    Links kept = new Links();
    for (int i = 0; i < n; i++) {
      if (ends[i] <= start || starts[i] >= end) {
        kept.add(starts[i], ends[i]);
        continue;
      }
      if (starts[i] < start) kept.add(starts[i], start);
      if (ends[i] > end) kept.add(end, ends[i]);
    }
    starts = kept.starts;
    ends = kept.ends;
    n = kept.n;
  }

  void clear() {
    n = 0;
  }

  /** {@code end} when exactly [0, end) is linked (0 when nothing is), else -1. */
  long contiguousEnd() {
    if (n == 0) return 0;
    return n == 1 && starts[0] == 0 ? ends[0] : -1;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("{");
    for (int i = 0; i < n; i++) b.append(i == 0 ? "" : ", ").append('[').append(starts[i]).append(", ").append(ends[i]).append(')');
    return b.append('}').toString();
  }
}
