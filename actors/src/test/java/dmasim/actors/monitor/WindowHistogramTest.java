package dmasim.actors.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The exposure-window histogram: bucket bounds, the p99 error bound, merging, bounded size. */
class WindowHistogramTest {
  static long exactNearestRank(long[] sorted, double q) {
    long rank = Math.max(1, (long) Math.ceil(q / 100.0 * sorted.length));
    return sorted[(int) rank - 1];
  }

  @Test
  void bucketsTileTheLongsWithoutGapsAndAreAtMostOneSixtyFourthWide() {
    assertEquals(0, WindowHistogram.lowerBound(0));
    for (int b = 0; b < WindowHistogram.BUCKETS - 1; b++) {
      long lo = WindowHistogram.lowerBound(b);
      long hi = WindowHistogram.upperBound(b);
      assertEquals(hi + 1, WindowHistogram.lowerBound(b + 1), "bucket " + b);
      assertEquals(b, WindowHistogram.bucketOf(lo));
      assertEquals(b, WindowHistogram.bucketOf(hi));
      if (lo >= 64) assertTrue((hi - lo + 1) * 64 <= lo, "bucket " + b + " [" + lo + ", " + hi + "]");
      else assertEquals(lo, hi, "values below 64 are exact");
    }
    assertEquals(WindowHistogram.BUCKETS - 1, WindowHistogram.bucketOf(Long.MAX_VALUE));
    assertThrows(IllegalArgumentException.class, () -> WindowHistogram.bucketOf(-1));
  }

  @Test
  void percentilesAreWithinOneSixtyFourthAboveTheExactNearestRank() {
    SplittableRandom random = new SplittableRandom(42);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + random.nextInt(3000);
      long[] values = new long[n];
      WindowHistogram h = new WindowHistogram();
      long bound = 1L << (1 + random.nextInt(40));
      for (int i = 0; i < n; i++) {
        values[i] = random.nextLong(bound);
        h.record(values[i]);
      }
      Arrays.sort(values);
      assertEquals(n, h.count());
      assertEquals(values[n - 1], h.max());
      for (double q : new double[] {50, 90, 99, 99.9, 100}) {
        long exact = exactNearestRank(values, q);
        long got = h.percentile(q);
        assertTrue(got >= exact && got <= values[n - 1], q + ": " + got + " vs exact " + exact);
        if (exact < 64) assertEquals(exact, got);
        else assertTrue(got - exact < exact / 64.0, q + ": " + got + " vs exact " + exact);
      }
    }
  }

  @Test
  void mergingGivesTheHistogramOfAllValuesAndStaysBounded() {
    WindowHistogram all = new WindowHistogram();
    WindowHistogram merged = new WindowHistogram();
    SplittableRandom random = new SplittableRandom(7);
    for (int part = 0; part < 500; part++) {
      WindowHistogram p = new WindowHistogram();
      for (int i = 0; i < 40; i++) {
        long v = random.nextLong(Long.MAX_VALUE);
        p.record(v);
        all.record(v);
      }
      merged.merge(p);
    }
    assertEquals(all.count(), merged.count());
    assertEquals(all.max(), merged.max());
    assertEquals(all.bucketsUsed(), merged.bucketsUsed());
    assertTrue(merged.bucketsUsed() <= WindowHistogram.BUCKETS);
    for (double q : new double[] {1, 50, 99, 100}) assertEquals(all.percentile(q), merged.percentile(q));
    assertEquals(0, new WindowHistogram().percentile(99));
  }

  @Test
  void aSmallExampleByHand() {
    WindowHistogram h = new WindowHistogram();
    for (long v = 1; v <= 100; v++) h.record(v * 1000);
    // rank 99 of 1000..100000 is 99000, in bucket [98304, 99327] (width 1024 = 2^16/64): reported as 99327
    assertEquals(99_327, h.percentile(99));
    assertEquals(100_000, h.percentile(100));
    assertEquals(100_000, h.max());
    h.record(5);
    assertEquals(5, h.percentile(0.5));
  }
}
