package dmasim.actors.monitor;

import java.util.Arrays;

/**
 * The linked bytes of one dma_iova_state as a set of disjoint half-open ranges [start, end) of
 * state offsets, sorted and merged where they touch: the kernel keeps no record of individual
 * dma_iova_link calls, so an unlink may cover part of one link or several adjacent ones. A few
 * ranges per state, in one small array of (start, end) pairs that grows from one pair: most states
 * are linked contiguously from offset 0, one range, and a monitor keeps one per live allocation.
 */
class Links {
  private static final long[] NONE = new long[0];
  /** Range i is [ranges[2i], ranges[2i + 1]). */
  private long[] ranges = NONE;
  private int n;

  private long start(int i) {
    return ranges[2 * i];
  }

  private long end(int i) {
    return ranges[2 * i + 1];
  }

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
    while (first < n && end(first) < s) first++;
    int last = first;
    while (last < n && start(last) <= e) {
      s = Math.min(s, start(last));
      e = Math.max(e, end(last));
      last++;
    }
    int removed = last - first;
    if (removed == 0 && 2 * n == ranges.length) ranges = Arrays.copyOf(ranges, Math.max(2, 4 * n));
    int tail = n - last;
    int at = first + 1;
    System.arraycopy(ranges, 2 * last, ranges, 2 * at, 2 * tail);
    ranges[2 * first] = s;
    ranges[2 * first + 1] = e;
    n = at + tail;
  }

  /** True when every byte of [start, end) is linked (an empty range is covered). */
  boolean covers(long start, long end) {
    if (end <= start) return true;
    for (int i = 0; i < n; i++) if (start(i) <= start && end <= end(i)) return true;
    return false;
  }

  /** The first linked range overlapping [start, end) but not inside [keepStart, keepEnd), as {from, to}; null when none. */
  long[] linkedOutside(long start, long end, long keepStart, long keepEnd) {
    for (int i = 0; i < n; i++) {
      long s = Math.max(start(i), start);
      long e = Math.min(end(i), end);
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
      if (end(i) <= start || start(i) >= end) {
        kept.add(start(i), end(i));
        continue;
      }
      if (start(i) < start) kept.add(start(i), start);
      if (end(i) > end) kept.add(end, end(i));
    }
    ranges = kept.ranges;
    n = kept.n;
  }

  void clear() {
    n = 0;
  }

  /** {@code end} when exactly [0, end) is linked (0 when nothing is), else -1. */
  long contiguousEnd() {
    if (n == 0) return 0;
    return n == 1 && start(0) == 0 ? end(0) : -1;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("{");
    for (int i = 0; i < n; i++) b.append(i == 0 ? "" : ", ").append('[').append(start(i)).append(", ").append(end(i)).append(')');
    return b.append('}').toString();
  }
}
