package dmasim.actors.iommu;

import dmasim.actors.model.Decision;
import dmasim.actors.model.Names;
import dmasim.actors.state.FlushQueue;
import dmasim.actors.state.Iotlb;
import dmasim.actors.state.IovaAllocator;
import dmasim.actors.state.PageTable;
import dmasim.protocol.DeviceCommand;
import dmasim.protocol.DeviceId;
import dmasim.protocol.DeviceReply;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Envelope;
import dmasim.protocol.Errno;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuEvent.ApiReturned;
import dmasim.protocol.IommuEvent.Continuation;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Message;
import dmasim.protocol.Prot;
import dmasim.protocol.Segment;
import java.util.ArrayList;
import java.util.List;

/** Domain life cycle: attach to another IOMMU unit (B6), device attach and IOVA-domain initialisation (ac9a5d522bb8), teardown. */
final class DomainOps extends IommuCall {
  DomainOps(IommuLogic k) {
    super(k);
  }

  /**
   * Attach to another IOMMU unit. Fixed (cee686775f9c): the flush-on-map flag is a static property
   * decided at domain allocation, so attaching to a caching-mode IOMMU without it is refused.
   * Buggy (12724ce3fe1a): the flag is OR-ed in at attach without locking against the map path;
   * maps in flight still read the old flag until it lands.
   */
  void onAttach(IommuCommand.Attach c) {
    boolean needs = c.cachingMode() && !s.syncMapFlag;
    if (needs && !cfg.syncMapFlagAtAttach()) {
      d.emit(new IommuEvent.AttachRefused("the domain was allocated without iotlb_sync_map and this IOMMU caches not-present entries"));
      reply("attach", "domain", Errno.EINVAL, 0);
      return;
    }
    d.emit(new IommuEvent.IommuAttached(c.cachingMode()));
    if (needs) d.send(Names.IOMMU, new IommuCommand.SyncMapFlagLands(), cfg.invalidationLatency());
    reply("attach", "domain", Errno.OK, 0);
  }

  /**
   * A device's driver probes and its group is attached to the shared DMA domain: iommu_setup_dma_ops
   * -> iommu_dma_init_domain. The first attach finds the cookie's iova_domain uninitialised ("start_pfn
   * is always nonzero for an already-initialised domain") and runs init_iova_domain, which completes
   * as a separate envelope (DomainInitLands) after initDomainLatency. Fixed (ac9a5d522bb8): the check
   * and the whole initialisation hold cookie->mutex, so a second attach sleeps in mutex_lock until the
   * first is done and then finds start_pfn set. Unlocked (before it): a second attach inside the
   * window also reads start_pfn == 0 and runs init_iova_domain on the same iova_domain at once.
   * (032d7e435cbd later removed the mutex again, once iommu_setup_dma_ops ran from the core probe
   * path under the group mutex; the model keeps the mutex version.)
   */
  void onAttachDevice(IommuCommand.AttachDevice c) {
    if (!cfg.devices().containsKey(c.dev())) throw new IllegalArgumentException("device " + c.dev() + " is not behind " + Names.IOMMU);
    String attacher = caller + "/attach:" + Names.device(c.dev());
    if (cfg.direct(c.dev())) { // an identity domain has no IOVA domain: iommu_dma_init_domain is not called
      attached(c.dev(), attacher, "identity domain: no IOVA domain to initialise");
      return;
    }
    if (!cfg.initDomainUnlocked() && s.initMutexHolder != null) {
      d.emit(new IommuEvent.AttachWaiting(c.dev(), attacher, s.initMutexHolder));
      return; // mutex_lock sleeps: answered when the holder's initialisation completes
    }
    if (s.iovadReady) {
      attached(c.dev(), attacher, "start_pfn already set: the IOVA domain is initialised");
      return;
    }
    long id = s.nextInit;
    d.emit(new IommuEvent.DomainInitStarted(id, c.dev(), attacher, !cfg.initDomainUnlocked()));
    d.send(Names.IOMMU, new IommuCommand.DomainInitLands(id), cfg.initDomainLatency());
  }

  /**
   * init_iova_domain of attach {@code id} is done (iova_domain_init_rcaches and
   * iova_reserve_iommu_regions with it): start_pfn is set and the attach returns 0. With the mutex,
   * mutex_unlock lets each sleeper in turn take it, find start_pfn set and return 0.
   */
  void onDomainInitLands(long id) {
    IommuEvent.DomainInitStarted st = s.initsInFlight.get(id);
    if (st == null) return;
    d.emit(new IommuEvent.DomainInitialised(id, st.dev(), st.attacher()));
    attached(st.dev(), st.attacher(), "initialised the IOVA domain (init_iova_domain)");
    if (st.locked()) {
      for (IommuEvent.AttachWaiting w : s.initWaiters) {
        attached(w.dev(), w.attacher(), "start_pfn already set once cookie->mutex was released");
      }
    }
  }

  /** The attach by {@code attacher} ("cpuN/attach:devM") returns 0 to its CPU queue. */
  void attached(DeviceId dev, String attacher, String how) {
    d.emit(new IommuEvent.DeviceAttached(dev, attacher, how));
    d.send(attacher.substring(0, attacher.indexOf('/')), new IommuReply.Returned("attach_device", Names.device(dev), Errno.OK, 0, List.of()));
  }

  /** iommu_dma_free_fq: timer_delete_sync, queued page lists freed, IOVAs dropped with the iova_domain. No final flush. */
  void onTearDown() {
    int queued = s.rings.stream().mapToInt(FlushQueue::length).sum();
    d.emit(new IommuEvent.DomainTornDown(cfg.teardownTimerSync(), queued));
  }
}
