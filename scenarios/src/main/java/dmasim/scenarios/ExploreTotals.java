package dmasim.scenarios;

import dmasim.actors.monitor.Violation;
import dmasim.actors.monitor.WindowHistogram;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Run statistics summed over the schedules an exploration counted (all of them, or up to the first
 * violating one with stop-at-first): requests, IOTLB and ATC invalidations, fault-plan faults fired
 * (FaultDecided with injected), DMA faults (non-stray), exposures, the largest exposure window and
 * the schedule it occurred in, the p99 of every exposure's window (from a bounded
 * {@link WindowHistogram}: exact below 64 ns, otherwise at most 1/64 above the true nearest-rank
 * p99), and for every monitor that reported a violation in some schedule the lowest such schedule
 * index. {@code maxExposureWindowSchedule} is -1 when there was no exposure.
 */
public record ExploreTotals(long schedules, long requests, long iotlbInvalidations, long atcInvalidations, long faultsInjected, long dmaFaults,
    long exposures, long maxExposureWindowNs, long maxExposureWindowSchedule, WindowHistogram exposureWindows,
    Map<String, Long> firstViolatingSchedule) {

  public ExploreTotals {
    firstViolatingSchedule = Collections.unmodifiableMap(new TreeMap<>(firstViolatingSchedule));
  }

  /** The nearest-rank p99 of all exposure windows, bucketed (see the class comment); 0 without exposures. */
  public long p99ExposureWindowNs() {
    return exposureWindows.percentile(99);
  }

  public double iotlbInvalidationsPerRequest() {
    return perRequest(iotlbInvalidations);
  }

  public double atcInvalidationsPerRequest() {
    return perRequest(atcInvalidations);
  }

  private double perRequest(long n) {
    return requests == 0 ? 0.0 : Math.round((double) n / requests * 1000) / 1000.0;
  }

  /** The figures in a fixed order (JSON {@code stats}). */
  public Map<String, Object> asMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("requests", requests);
    m.put("iotlbInvalidations", iotlbInvalidations);
    m.put("iotlbInvalidationsPerRequest", iotlbInvalidationsPerRequest());
    m.put("atcInvalidations", atcInvalidations);
    m.put("atcInvalidationsPerRequest", atcInvalidationsPerRequest());
    m.put("faultsInjected", faultsInjected);
    m.put("dmaFaults", dmaFaults);
    m.put("exposures", exposures);
    m.put("maxExposureWindowNs", maxExposureWindowNs);
    m.put("maxExposureWindowSchedule", maxExposureWindowSchedule);
    m.put("p99ExposureWindowNs", p99ExposureWindowNs());
    return m;
  }

  /** What one schedule contributes: a few counters, its sparse window buckets and the monitors that fired. */
  record Tally(long index, long requests, long iotlb, long atc, long faultsInjected, long dmaFaults, long exposures, long maxWindow,
      WindowHistogram windows, List<String> monitors) {

    static Tally of(long index, RunReport r) {
      Map<String, Object> s = r.stats();
      List<String> monitors = new ArrayList<>();
      for (Violation v : r.violations()) if (!monitors.contains(v.monitor())) monitors.add(v.monitor());
      return new Tally(index, n(s, "requests"), n(s, "iotlbInvalidations"), n(s, "atcInvalidations"), n(s, "faultsInjected"),
          n(s, "dmaFaults"), n(s, "exposures"), n(s, "maxExposureWindowNs"), r.exposureWindows(), List.copyOf(monitors));
    }

    private static long n(Map<String, Object> stats, String key) {
      return ((Number) stats.get(key)).longValue();
    }
  }

  /**
   * Adds tallies strictly in schedule-index order, whatever order workers finish them in: a tally
   * waits in {@code pending} until every lower index has arrived, then is counted if its index is not
   * beyond the stop-at-first cutoff. Because a violating schedule lowers the cutoff before offering its
   * tally, the cutoff read when index i is merged is already final for i, so exactly the schedules
   * 0..min(n-1, cutoff) are counted - the same set and the same order for any parallelism. Memory:
   * one running total plus the tallies finished ahead of the lowest unfinished schedule (workers take
   * indices from a shared counter, so that is about the schedules run while one schedule runs).
   */
  static final class Merger {
    private final AtomicLong cutoff;
    private final TreeMap<Long, Tally> pending = new TreeMap<>();
    private final WindowHistogram windows = new WindowHistogram();
    private final Map<String, Long> first = new TreeMap<>();
    private long next;
    private long counted;
    private long requests;
    private long iotlb;
    private long atc;
    private long faultsInjected;
    private long dmaFaults;
    private long exposures;
    private long maxWindow;
    private long maxWindowSchedule = -1;
    private int maxPending;

    Merger(AtomicLong cutoff) {
      this.cutoff = cutoff;
    }

    synchronized void offer(Tally t) {
      pending.put(t.index(), t);
      maxPending = Math.max(maxPending, pending.size());
      while (!pending.isEmpty() && pending.firstKey() == next) {
        Tally x = pending.pollFirstEntry().getValue();
        next++;
        if (x.index() <= cutoff.get()) add(x);
      }
    }

    private void add(Tally t) {
      counted++;
      requests += t.requests();
      iotlb += t.iotlb();
      atc += t.atc();
      faultsInjected += t.faultsInjected();
      dmaFaults += t.dmaFaults();
      exposures += t.exposures();
      if (t.exposures() > 0 && (maxWindowSchedule < 0 || t.maxWindow() > maxWindow)) {
        maxWindow = t.maxWindow();
        maxWindowSchedule = t.index();
      }
      windows.merge(t.windows());
      for (String m : t.monitors()) first.putIfAbsent(m, t.index());
    }

    /** Most tallies ever waiting at once. */
    synchronized int maxPending() {
      return maxPending;
    }

    /** The totals once every schedule up to the cutoff ({@code expected} of them) has been offered. */
    synchronized ExploreTotals totals(long expected) {
      if (counted != expected) {
        throw new InfrastructureError("exploration totals counted " + counted + " schedules, expected " + expected, null);
      }
      pending.clear();
      return new ExploreTotals(counted, requests, iotlb, atc, faultsInjected, dmaFaults, exposures, maxWindow, maxWindowSchedule,
          windows.copy(), first);
    }
  }
}
