package dmasim.actors.monitor;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceEvent;
import dmasim.protocol.DmaAccess;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts what a run did: requests, DMA API calls, invalidations, flushes, accesses, exposures, and
 * the DMA metadata a driver keeps per request (16 bytes of dma_iova_state on the IOVA path, 32
 * bytes per scatterlist entry plus a 16-byte sg_table on the classic path, 8 bytes per dma_addr_t
 * on the map_phys fallback). Not a judge: it never reports violations.
 */
public final class RunStats implements Monitor {
  private final TranslationMonitor translation;
  private long requests;
  private long links;
  private long syncs;
  private long maps;
  private long iotlbInvalidations;
  private long atcInvalidations;
  private long flushes;
  private long timerFlushes;
  private long fullFlushes;
  private long accesses;
  private long faults;
  private long faultsInjected;
  private long lateAccesses;
  private long fallbacks;
  private long metadataBytes;
  private long steps;
  private long virtualTime;
  /** HMM figures, shown only for a system with an address space: invalidations of mirrors, callbacks, walks and their -EBUSY ends, failed read_retry checks, device PTE writes and zaps, device faults and those failed. */
  private boolean hmm;
  private long mirrorInvalidations;
  private long callbacks;
  private long walks;
  private long walksBusy;
  private long readRetries;
  private long devicePteWrites;
  private long devicePteZaps;
  private long deviceFaults;
  private long deviceFaultsFailed;

  public RunStats(TranslationMonitor translation) {
    this.translation = translation;
  }

  @Override
  public String name() {
    return "RunStats";
  }

  @Override
  public void onEvent(StepInfo at, Event event) {
    if (event instanceof dmasim.protocol.MmEvent || event instanceof dmasim.protocol.MirrorEvent) hmm(event);
    steps = Math.max(steps, at.step());
    virtualTime = Math.max(virtualTime, at.time());
    if (event instanceof CpuEvent.RequestCompleted) requests++;
    else if (event instanceof IommuEvent.RangeLinked l && l.api().equals("link")) links++;
    else if (event instanceof IommuEvent.RangeSynced s && s.api().equals("sync")) syncs++;
    else if (event instanceof IommuEvent.InvalidationPosted p) {
      if (p.scope().equals("atc")) atcInvalidations++;
      else iotlbInvalidations++;
    } else if (event instanceof IommuEvent.FlushStarted f) {
      flushes++;
      if (f.reason().equals("timer")) timerFlushes++;
      else fullFlushes++;
    } else if (event instanceof IommuEvent.IovaAllocated a && a.api().equals("try_alloc")) metadataBytes += 16;
    else if (event instanceof IommuEvent.IovaAllocFailed f && f.api().equals("try_alloc") && !f.reason().startsWith("32-bit")) fallbacks++;
    else if (event instanceof IommuEvent.ApiReturned r && r.errno() == 0) {
      if (r.api().equals("map_sg")) {
        maps++;
        metadataBytes += 32L * r.nents() + 16;
      } else if (r.api().equals("map_phys")) {
        maps++;
        metadataBytes += 8;
      }
    } else if (event instanceof DmaAccess a && !a.stray()) accesses++;
    else if (event instanceof IommuEvent.DmaFaulted f && !f.stray()) faults++;
    else if (event instanceof DeviceEvent.LateAccessScheduled) lateAccesses++;
    else if (event instanceof IommuEvent.FaultDecided d && d.injected()) faultsInjected++;
    else if (event instanceof dmasim.protocol.WireEvent.MessageFaulted) faultsInjected++;
    else if (event instanceof DeviceEvent.FaultDecided d && d.injected()) faultsInjected++;
    else if (event instanceof dmasim.protocol.MemoryEvent.AllocFaultDecided a && a.injected()) faultsInjected++;
    else if (event instanceof dmasim.protocol.MmEvent.ReclaimDecided r && r.injected()) faultsInjected++;
  }

  public long requests() {
    return requests;
  }

  public long iotlbInvalidations() {
    return iotlbInvalidations;
  }

  /** Every exposure's window in virtual ns, bucketed (see {@link WindowHistogram}). */
  public WindowHistogram exposureWindows() {
    return translation.exposureWindows();
  }

  private void hmm(Event e) {
    hmm = true;
    if (e instanceof dmasim.protocol.MmEvent.InvalidationStarted s && !s.subs().isEmpty()) mirrorInvalidations++;
    else if (e instanceof dmasim.protocol.MmEvent.CallbackCalled) callbacks++;
    else if (e instanceof dmasim.protocol.MmEvent.WalkStarted) walks++;
    else if (e instanceof dmasim.protocol.MmEvent.WalkEnded w && w.errno() == dmasim.protocol.Errno.EBUSY) walksBusy++;
    else if (e instanceof dmasim.protocol.MmEvent.ReadRetried r && r.retry()) readRetries++;
    else if (e instanceof dmasim.protocol.MirrorEvent.DevicePteWritten) devicePteWrites++;
    else if (e instanceof dmasim.protocol.MirrorEvent.DevicePteZapped) devicePteZaps++;
    else if (e instanceof dmasim.protocol.MirrorEvent.DeviceFaulted) deviceFaults++;
    else if (e instanceof dmasim.protocol.MirrorEvent.FaultResolved f && f.error()) deviceFaultsFailed++;
  }

  /** The figures in a fixed order (for text and JSON output). */
  public Map<String, Object> asMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("steps", steps);
    m.put("virtualTimeNs", virtualTime);
    m.put("requests", requests);
    m.put("links", links);
    m.put("syncs", syncs);
    m.put("classicMaps", maps);
    m.put("iovaFallbacks", fallbacks);
    m.put("iotlbInvalidations", iotlbInvalidations);
    m.put("iotlbInvalidationsPerRequest", requests == 0 ? 0.0 : round((double) iotlbInvalidations / requests));
    m.put("atcInvalidations", atcInvalidations);
    m.put("flushQueueFlushes", flushes);
    m.put("flushQueueTimerFlushes", timerFlushes);
    m.put("flushQueueFullFlushes", fullFlushes);
    m.put("dmaAccesses", accesses);
    m.put("dmaFaults", faults);
    m.put("faultsInjected", faultsInjected);
    m.put("lateAccesses", lateAccesses);
    m.put("exposures", translation.exposures());
    m.put("maxExposureWindowNs", translation.maxExposureWindow());
    m.put("strayAccessesBlocked", translation.strayBlocked());
    m.put("strayAccessesOnLiveMappings", translation.strayOnLiveMapping());
    m.put("accessesDuringUnmap", translation.accessesDuringUnmap());
    m.put("dmaMetadataBytesPerRequest", requests == 0 ? 0.0 : round((double) metadataBytes / requests));
    if (hmm) {
      m.put("mirrorInvalidations", mirrorInvalidations);
      m.put("invalidateCallbacks", callbacks);
      m.put("hmmRangeFaults", walks);
      m.put("hmmRangeFaultsBusy", walksBusy);
      m.put("readRetriesThatRetried", readRetries);
      m.put("devicePteWrites", devicePteWrites);
      m.put("devicePteZaps", devicePteZaps);
      m.put("deviceFaults", deviceFaults);
      m.put("deviceFaultsFailed", deviceFaultsFailed);
    }
    return m;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
