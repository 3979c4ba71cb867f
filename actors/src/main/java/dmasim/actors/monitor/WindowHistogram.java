package dmasim.actors.monitor;

import java.util.Arrays;

/**
 * A bounded histogram of non-negative durations in virtual nanoseconds (exposure windows), with
 * log-linear buckets as in HdrHistogram: values below 64 have a bucket each (exact); above, every
 * power of two [2^e, 2^(e+1)) is split into 64 equal buckets, so a bucket's width is at most 1/64
 * of its lower bound. There are at most {@link #BUCKETS} buckets whatever the number or size of
 * the values; only the buckets used are stored (sorted), so a run with few exposures holds a few
 * dozen bytes and the merge of any number of runs at most ~45 KiB.
 *
 * <p>{@link #percentile} is the nearest-rank percentile rounded up to its bucket's upper bound
 * (capped at the largest value recorded): exact below 64 ns, otherwise at least the true value and
 * less than 1/64 (1.6%) above it. Count, sum-free, max are exact. Not thread-safe.
 */
public final class WindowHistogram {
  /** Bits of sub-bucket resolution: 64 buckets per power of two. */
  static final int SUB_BITS = 6;
  static final int SUB = 1 << SUB_BITS;
  /** Buckets for every long value >= 0: 64 exact ones, then 64 per power of two from 2^6 to 2^62. */
  public static final int BUCKETS = SUB + (63 - SUB_BITS) * SUB;

  private int[] buckets = new int[0];
  private long[] counts = new long[0];
  private int used;
  private long count;
  private long max;

  /** The bucket of {@code v} (v >= 0). */
  public static int bucketOf(long v) {
    if (v < 0) throw new IllegalArgumentException("negative window " + v);
    if (v < SUB) return (int) v;
    int e = 63 - Long.numberOfLeadingZeros(v);
    int sub = (int) (v >>> (e - SUB_BITS)) - SUB;
    return SUB + (e - SUB_BITS) * SUB + sub;
  }

  /** The smallest value in bucket {@code b}. */
  public static long lowerBound(int b) {
    if (b < SUB) return b;
    int e = (b - SUB) / SUB + SUB_BITS;
    long sub = (b - SUB) % SUB;
    return (SUB + sub) << (e - SUB_BITS);
  }

  /** The largest value in bucket {@code b}. */
  public static long upperBound(int b) {
    return b == BUCKETS - 1 ? Long.MAX_VALUE : lowerBound(b + 1) - 1;
  }

  public void record(long v) {
    add(bucketOf(v), 1);
    count++;
    max = Math.max(max, v);
  }

  /** Adds every value of {@code other}. */
  public void merge(WindowHistogram other) {
    for (int i = 0; i < other.used; i++) add(other.buckets[i], other.counts[i]);
    count += other.count;
    max = Math.max(max, other.max);
  }

  private void add(int bucket, long n) {
    int i = Arrays.binarySearch(buckets, 0, used, bucket);
    if (i >= 0) {
      counts[i] += n;
      return;
    }
    i = -i - 1;
    if (used == buckets.length) {
      int cap = Math.min(BUCKETS, Math.max(4, used * 2));
      buckets = Arrays.copyOf(buckets, cap);
      counts = Arrays.copyOf(counts, cap);
    }
    System.arraycopy(buckets, i, buckets, i + 1, used - i);
    System.arraycopy(counts, i, counts, i + 1, used - i);
    buckets[i] = bucket;
    counts[i] = n;
    used++;
  }

  public long count() {
    return count;
  }

  /** The largest value recorded (0 when empty). */
  public long max() {
    return max;
  }

  /** Distinct buckets in use. */
  public int bucketsUsed() {
    return used;
  }

  /**
   * The {@code q}-th percentile (0 < q <= 100) by nearest rank: the value of rank ceil(q/100 * count)
   * in sorted order, reported as the upper bound of its bucket capped at {@link #max()}; 0 when empty.
   */
  public long percentile(double q) {
    if (!(q > 0 && q <= 100)) throw new IllegalArgumentException("percentile must be in (0, 100]: " + q);
    if (count == 0) return 0;
    long rank = Math.max(1, (long) Math.ceil(q / 100.0 * count));
    long seen = 0;
    for (int i = 0; i < used; i++) {
      seen += counts[i];
      if (seen >= rank) return Math.min(upperBound(buckets[i]), max);
    }
    return max;
  }

  /** An independent copy. */
  public WindowHistogram copy() {
    WindowHistogram h = new WindowHistogram();
    h.merge(this);
    return h;
  }
}
