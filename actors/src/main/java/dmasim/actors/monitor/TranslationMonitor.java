package dmasim.actors.monitor;

import dmasim.actors.state.LongLongMap;
import dmasim.actors.state.PageTable;
import dmasim.protocol.DeviceEvent;
import dmasim.protocol.DmaAccess;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import java.util.HashMap;
import java.util.Map;

/**
 * What a device can reach through the IOMMU, judged against a shadow of the page table, the IOTLB
 * and each device's ATC:
 * I7 (strict: when an unmap returns, no IOTLB or ATC entry for the range is left, and no later
 * access uses one), I8 (lazy: an access through a stale translation inside the flush-queue window
 * reaches the old pages - an <em>exposure</em>, measured, not a bug - but a stale translation that
 * aliases a <em>new</em> mapping of the IOVA is a bug), I10 (ATC invalidation only after the IOTLB
 * invalidation of the range completed), I11 (a device access only as prot allows; a descriptor
 * faulting on prot means the driver mapped with the wrong direction).
 */
public final class TranslationMonitor extends AbstractMonitor {
  private final LongLongMap iotlb = new LongLongMap(128);
  private final Map<String, LongLongMap> atcs = new HashMap<>();
  private final LongLongMap lazyUnmappedAt = new LongLongMap(256);
  private final LongLongMap needsIotlbInvalidation = new LongLongMap(256);
  private final LongLongMap unmapInProgress = new LongLongMap(256);
  private long exposures;
  private long maxWindow;
  private final WindowHistogram windows = new WindowHistogram();
  private long strayBlocked;
  private long strayOnLiveMapping;
  private long accessesDuringUnmap;

  public TranslationMonitor() {
    super("Translation");
  }

  public TranslationMonitor(Shadow shared) {
    super("Translation", shared);
  }

  public long exposures() {
    return exposures;
  }

  public long maxExposureWindow() {
    return maxWindow;
  }

  /** Every exposure's window (virtual ns from the deferred unmap's return to the access), bucketed. */
  public WindowHistogram exposureWindows() {
    return windows;
  }

  public long strayBlocked() {
    return strayBlocked;
  }

  public long strayOnLiveMapping() {
    return strayOnLiveMapping;
  }

  /** Accesses through a stale translation after the PTE clear but before the unmap returned: the driver still owns the pages. */
  public long accessesDuringUnmap() {
    return accessesDuringUnmap;
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (Monitors.dmaDirect(event)) return; // no IOMMU translates these: nothing to cache, invalidate or expose
    if (event instanceof IommuEvent.RangeLinked l) {
      for (long i = 0; i < l.pages(); i++) lazyUnmappedAt.remove(l.iovaPfn() + i);
    } else if (event instanceof IommuEvent.PtesCleared c) {
      for (long p = c.iovaPfn(); p < c.iovaPfn() + c.pages(); p++) {
        if (shadow.entry(p) >= 0) {
          needsIotlbInvalidation.put(p, at.step());
          unmapInProgress.put(p, at.time());
        }
      }
    } else if (event instanceof IommuEvent.IotlbFilled f) {
      iotlb.put(f.iovaPfn(), f.present() ? (f.physPfn() << 8) | f.prot().bits() : -2);
    } else if (event instanceof IommuEvent.IotlbEvicted v) {
      iotlb.remove(v.iovaPfn());
    } else if (event instanceof IommuEvent.InvalidationPosted p && p.scope().equals("atc")) {
      checkAtcOrder(at, p);
    } else if (event instanceof IommuEvent.InvalidationCompleted c && !c.scope().equals("atc")) {
      onIotlbInvalidated(c);
    } else if (event instanceof DeviceEvent.AtcFilled f) {
      atc(at.actor()).put(f.iovaPfn(), (f.physPfn() << 8) | f.prot().bits());
    } else if (event instanceof DeviceEvent.AtcInvalidated i) {
      LongLongMap atc = atc(at.actor());
      if (i.pages() == 0) atc.clear();
      else for (long p = i.startPfn(); p < i.startPfn() + i.pages(); p++) atc.remove(p);
    } else if (event instanceof IommuEvent.ApiReturned r) {
      onReturned(at, r);
    } else if (event instanceof DmaAccess a) {
      onAccess(at, a);
    } else if (event instanceof IommuEvent.DmaFaulted f) {
      if (f.stray()) strayBlocked++;
      else if (f.reason().startsWith("write to") || f.reason().startsWith("read of")) {
        violate("I11", at, f.dev() + " faulted on " + f.iova() + ": " + f.reason() + " - the driver mapped the buffer with the wrong DMA direction");
      }
    }
  }

  private LongLongMap atc(String device) {
    return atcs.computeIfAbsent(device, k -> new LongLongMap(64));
  }

  private void checkAtcOrder(StepInfo at, IommuEvent.InvalidationPosted p) {
    long end = p.startPfn() + p.pages();
    for (long q = p.startPfn(); p.pages() > 0 && q < end; q++) {
      if (needsIotlbInvalidation.containsKey(q)) {
        violate("I10", at, "ATC invalidation posted for IOVA pfn " + q + " before the IOTLB invalidation of that range completed:"
            + " the device can refill its ATC from the stale IOTLB entry");
        return;
      }
    }
  }

  private void onIotlbInvalidated(IommuEvent.InvalidationCompleted c) {
    if (c.scope().equals("all")) {
      iotlb.clear();
      needsIotlbInvalidation.clear();
      lazyUnmappedAt.clear();
      return;
    }
    for (long p = c.startPfn(); p < c.startPfn() + c.pages(); p++) {
      iotlb.remove(p);
      needsIotlbInvalidation.remove(p);
    }
  }

  private void onReturned(StepInfo at, IommuEvent.ApiReturned r) {
    boolean unmap = switch (r.api()) {
      case "unlink", "destroy", "unmap_phys", "unmap_sg", "free_coherent" -> true;
      default -> false;
    };
    if (!unmap || r.errno() != 0) return;
    for (long p = r.iovaPfn(); p < r.iovaPfn() + r.pages(); p++) {
      unmapInProgress.remove(p);
      if (r.deferred()) {
        lazyUnmappedAt.put(p, at.time());
        continue;
      }
      if (iotlb.containsKey(p)) {
        violate("I7", at, r.api() + " of " + r.owner() + " returned while the IOTLB still holds IOVA pfn " + p);
        return;
      }
      for (Map.Entry<String, LongLongMap> atc : atcs.entrySet()) {
        if (atc.getValue().containsKey(p)) {
          violate("I7", at, r.api() + " of " + r.owner() + " returned while the ATC of " + atc.getKey() + " still holds IOVA pfn " + p);
          return;
        }
      }
    }
  }

  private void onAccess(StepInfo at, DmaAccess a) {
    long pfn = a.iova().addr() >>> 12;
    long entry = shadow.entry(pfn);
    if (entry >= 0 && PageTable.physOf(entry) == a.physPfn()) {
      if (a.stray()) strayOnLiveMapping++;
      if (!PageTable.protOf(entry).allows(a.write())) {
        violate("I11", at, a.dev() + " " + (a.write() ? "wrote" : "read") + " " + a.iova() + " against the mapping's protection");
      }
      return;
    }
    if (entry < 0 && lazyUnmappedAt.containsKey(pfn)) {
      exposures++;
      long window = at.time() - lazyUnmappedAt.get(pfn, at.time());
      maxWindow = Math.max(maxWindow, window);
      windows.record(window);
      return;
    }
    if (entry < 0 && unmapInProgress.containsKey(pfn)) {
      accessesDuringUnmap++;
      return;
    }
    if (entry >= 0) {
      violate("I8", at, a.dev() + " reached phys pfn " + a.physPfn() + " through a stale " + a.via() + " translation of " + a.iova()
          + ", which now maps phys pfn " + PageTable.physOf(entry) + ": the IOVA was reused before the flush");
    } else {
      violate("I7", at, a.dev() + " reached phys pfn " + a.physPfn() + " through a stale " + a.via() + " translation of " + a.iova()
          + " after its unmap returned");
    }
  }
}
