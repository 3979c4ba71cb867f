package dmasim.peers;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The catalogue's B6 pair (b6-sync-map-flag-at-attach / b6-sync-map-flag-static) as plain Java
 * threads: a tiny hand-written model of the same race, for tools that explore thread interleavings.
 *
 * <p>One thread runs the driver: 12 requests, each mapping a 1-page buffer with the classic API
 * ({@code dma_map_phys}), submitting it to the device, and unmapping it. A map on an IOMMU domain
 * with the sync-map flag set ends with {@code iotlb_sync_map} ({@code cache_tag_flush_range_np}),
 * which drops any not-present entry the IOMMU cached for the new range; without the flag it skips
 * that flush. The device accesses the buffer once while the request is in flight and once more
 * late, after the unmap, as the scenario's {@code late-access-percent = 100} does.
 *
 * <p>The other thread attaches the domain to a caching-mode IOMMU (VT-d caching mode: it may cache
 * not-present entries). From then on the device's accesses go through that IOMMU: it caches the
 * entry of every IOVA it finds not present (the attach-time walk, a late access after an unmap),
 * and a translation that hits a cached not-present entry faults. In the buggy variant (the kernel
 * from 12724ce3fe1a until cee686775f9c) the attach ORs the sync-map flag into the domain after the
 * device is attached, so a map that reads the flag in between skips the flush and the device
 * faults on a valid mapping: SyncBeforeUse, I9. In the fixed variant the flag is a static property of the
 * domain, set when it was allocated.
 *
 * <p>Every shared access is an atomic, so each is a scheduling point for a controlled scheduler
 * (Fray, Lincheck) without interleaving plain memory operations. A schedule that reaches the fault
 * fails with an {@link AssertionError} from the thread that starts and joins the two.
 *
 * <p>Invariants: I9 (a device access never hits a cached not-present entry of a valid mapping).
 */
public final class SyncMapRace {
  /** Requests the driver thread runs, as in the scenario's {@code workload.requests}. */
  public static final int REQUESTS = 12;

  private static final int SYNC_MAP = 1;
  /** The request's page-table entry is present (bit of {@link #entry}). */
  private static final int PRESENT = 1;
  /** The caching-mode IOMMU holds a not-present entry for the request's IOVA (bit of {@link #entry}). */
  private static final int NOT_PRESENT_CACHED = 2;

  private final AtomicInteger domainFlags;
  private final AtomicBoolean cachingIommuAttached = new AtomicBoolean();
  /**
   * The one IOVA every request maps (the allocator hands the freed page back): its page-table entry
   * and the IOMMU's cached copy of it together, so that a walk that finds it not present and caches
   * that is one step, as the hardware's walk is against the kernel's invalidation.
   */
  private final AtomicInteger entry = new AtomicInteger();
  private final AtomicReference<String> fault = new AtomicReference<>();

  private SyncMapRace(boolean buggy) {
    domainFlags = new AtomicInteger(buggy ? 0 : SYNC_MAP);
  }

  /** Runs one schedule of the race; throws AssertionError when the device faulted on a valid mapping. */
  public static void runOnce(boolean buggy) throws InterruptedException {
    SyncMapRace race = new SyncMapRace(buggy);
    Thread driver = new Thread(race.new Driver(), "cpu0");
    Thread attach = new Thread(race.new Attach(buggy), "cpu1");
    driver.start();
    attach.start();
    driver.join();
    attach.join();
    String f = race.fault.get();
    if (f != null) {
      throw new AssertionError(f);
    }
  }

  // Named classes rather than lambdas: Lincheck cannot read the captured fields of a lambda's hidden
  // class ("Failed to get object field offset"), and then misses that the race object is shared.
  private final class Driver implements Runnable {
    @Override
    public void run() {
      driver();
    }
  }

  private final class Attach implements Runnable {
    private final boolean buggy;

    Attach(boolean buggy) {
      this.buggy = buggy;
    }

    @Override
    public void run() {
      attach(buggy);
    }
  }

  private void driver() {
    for (int r = 0; r < REQUESTS; r++) {
      mapPhys();
      deviceAccess(r);
      unmapPhys();
      lateDeviceAccess();
    }
  }

  /** dma_map_phys: install the PTE, then iotlb_sync_map only when the domain's flag says so. */
  private void mapPhys() {
    setBits(entry, PRESENT);
    if ((domainFlags.get() & SYNC_MAP) != 0) {
      clearBits(entry, NOT_PRESENT_CACHED);
    }
  }

  /** The device reads the mapped buffer; through a caching-mode IOMMU a cached not-present entry faults. */
  private void deviceAccess(int request) {
    if (cachingIommuAttached.get() && (entry.get() & NOT_PRESENT_CACHED) != 0) {
      fault.compareAndSet(null, "request " + request + ": the device faulted on a cached not-present"
          + " entry of a valid mapping (SyncBeforeUse, I9)");
    }
  }

  /** dma_unmap_phys on a strict domain: clear the PTE (the IOTLB flush drops present entries only). */
  private void unmapPhys() {
    clearBits(entry, PRESENT);
  }

  /** The device's late access after the unmap: blocked, and a caching-mode IOMMU caches the not-present entry. */
  private void lateDeviceAccess() {
    if (cachingIommuAttached.get()) {
      walk();
    }
  }

  /** A translation walk of the caching-mode IOMMU: an entry it finds not present, it may cache. */
  private void walk() {
    while (true) {
      int e = entry.get();
      if ((e & PRESENT) != 0 || entry.compareAndSet(e, e | NOT_PRESENT_CACHED)) {
        return;
      }
    }
  }

  /** Attach to the caching-mode IOMMU; the buggy kernel ORs the sync-map flag in only afterwards. */
  private void attach(boolean buggy) {
    cachingIommuAttached.set(true);
    walk();
    if (buggy) {
      setBits(domainFlags, SYNC_MAP);
    }
  }

  // Read-modify-writes as get + compareAndSet loops, not getAndUpdate: Lincheck does not stop between
  // the steps of a getAndUpdate (its loop is inside the JDK, which it does not analyse), so two of them
  // in a row would be one step to it.
  private static void setBits(AtomicInteger word, int bits) {
    while (true) {
      int w = word.get();
      if (word.compareAndSet(w, w | bits)) {
        return;
      }
    }
  }

  private static void clearBits(AtomicInteger word, int bits) {
    while (true) {
      int w = word.get();
      if (word.compareAndSet(w, w & ~bits)) {
        return;
      }
    }
  }
}
