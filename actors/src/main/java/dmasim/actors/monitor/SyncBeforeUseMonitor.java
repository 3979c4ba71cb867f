package dmasim.actors.monitor;

import dmasim.actors.state.LongLongMap;
import dmasim.protocol.DmaAccess;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;

/**
 * I9: ranges linked with dma_iova_link must be made visible with dma_iova_sync (iommu_sync_map)
 * before the device uses them. On an IOMMU that caches not-present entries (caching mode,
 * NpCache, s390) the device may fault on a mapping the kernel considers valid; elsewhere it is
 * still a contract violation of Documentation/core-api/dma-api.rst that breaks on those IOMMUs.
 * A fault on a cached not-present entry of a synced mapping is a violation too. Once the domain
 * is attached to such an IOMMU, classic maps (map_phys, map_sg) must flush on map as well (B6).
 */
public final class SyncBeforeUseMonitor extends AbstractMonitor {
  private boolean cachingMode;
  private final LongLongMap unsynced = new LongLongMap(256);

  public SyncBeforeUseMonitor(boolean cachingMode) {
    super("SyncBeforeUse");
    this.cachingMode = cachingMode;
  }

  public SyncBeforeUseMonitor(boolean cachingMode, Shadow shared) {
    super("SyncBeforeUse", shared);
    this.cachingMode = cachingMode;
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (Monitors.dmaDirect(event)) return; // no IOTLB on the dma-direct path: nothing to make visible
    if (event instanceof IommuEvent.IommuAttached a) {
      cachingMode |= a.cachingMode();
    } else if (event instanceof IommuEvent.RangeLinked l) {
      // dma_iova_link never flushes; a classic map flushes inside the call when the domain says so.
      if (l.api().startsWith("link") || cachingMode) for (long p = l.iovaPfn(); p < l.iovaPfn() + l.pages(); p++) unsynced.put(p, at.step());
    } else if (event instanceof IommuEvent.RangeSynced s && s.errno() == 0) {
      // A failed iotlb_sync_map (B11) made nothing visible: the range stays unsynced.
      for (long p = s.iovaPfn(); p < s.iovaPfn() + s.pages(); p++) unsynced.remove(p);
    } else if (event instanceof IommuEvent.PtesCleared c) {
      for (long p = c.iovaPfn(); p < c.iovaPfn() + c.pages(); p++) unsynced.remove(p);
    } else if (event instanceof DmaAccess a && !a.stray()) {
      check(at, a.iova().addr() >>> 12, a.dev() + " accessed");
    } else if (event instanceof IommuEvent.DmaFaulted f && !f.stray()) {
      long pfn = f.iova().addr() >>> 12;
      if (!check(at, pfn, f.dev() + " faulted on") && shadow.entry(pfn) >= 0 && f.reason().startsWith("cached not-present")) {
        violate("I9", at, f.dev() + " faulted on synced mapping " + f.iova() + ": a cached not-present IOTLB entry survived the flush-on-map");
      }
    }
  }

  private boolean check(StepInfo at, long pfn, String what) {
    if (!unsynced.containsKey(pfn)) return false;
    violate("I9", at, what + " IOVA pfn " + pfn + " mapped at step " + unsynced.get(pfn, 0) + " but never made visible (dma_iova_sync / iotlb_sync_map)"
        + (cachingMode ? ": this caching-mode IOMMU may still hold a not-present entry for it"
            : ": an IOMMU that caches not-present entries (caching mode, NpCache, s390) would fault"));
    unsynced.remove(pfn);
    return true;
  }
}
