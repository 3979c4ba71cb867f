package dmasim.actors.iommu;

import dmasim.actors.model.Decision;
import dmasim.protocol.DeviceReply;
import dmasim.protocol.Envelope;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Message;

/**
 * The decisions of an IommuUnit: given its state and one envelope, which events happen and which
 * envelopes go out. Pure: reads the state, never changes it (the actor persists the events and
 * the state folds them). The work is split along the kernel's own seams - {@link IovaApiCalls}
 * and {@link SwiotlbLink} (dma-iommu.c's IOVA API), {@link ClassicApi}, {@link DmaUnmap}
 * (__iommu_dma_unmap), {@link FlushQueues}, {@link InvalidationQueue}, {@link Translation},
 * {@link DomainOps}, and {@link DmaDirect} for devices the IOMMU does not translate - each naming
 * the kernel functions it models (drivers/iommu/dma-iommu.c, iova.c, iommu.c, kernel/dma/).
 */
public final class IommuLogic {
  /**
   * Why a DMA API call of a device not attached to the domain fails: as when the deferred attach in
   * the entry points fails (iommu_deferred_attach in dma_iova_try_alloc, __iommu_dma_map, iommu_dma_map_sg).
   */
  static final String NOT_ATTACHED = "device not attached to the DMA domain (iommu_deferred_attach fails)";

  final IommuState s;
  final Envelope env;
  final Decision d = new Decision();
  /** The next invalidation command id; commands posted by this decision take consecutive ids. */
  long nextId;
  /** PTEs and bounce slots this decision created: the state folds them only after the decision, an unwind inside it must see them. */
  final java.util.TreeSet<Long> linkedNow = new java.util.TreeSet<>();
  final java.util.TreeMap<Long, IommuEvent.Bounced> bouncedNow = new java.util.TreeMap<>();

  final IovaApiCalls iovaApi;
  final SwiotlbLink swiotlb;
  final ClassicApi classic;
  final DmaUnmap unmaps;
  final FlushQueues flushQueues;
  final InvalidationQueue invalidations;
  final Translation translation;
  final DomainOps domain;

  private IommuLogic(IommuState state, Envelope env) {
    this.s = state;
    this.env = env;
    this.nextId = state.nextInvalidation;
    this.iovaApi = new IovaApiCalls(this);
    this.swiotlb = new SwiotlbLink(this);
    this.classic = new ClassicApi(this);
    this.unmaps = new DmaUnmap(this);
    this.flushQueues = new FlushQueues(this);
    this.invalidations = new InvalidationQueue(this);
    this.translation = new Translation(this);
    this.domain = new DomainOps(this);
  }

  /** Decides what handling {@code env} does to an IOMMU in {@code state}. */
  public static Decision decide(IommuState state, Envelope env) {
    return new IommuLogic(state, env).handle(env.message());
  }

  private Decision handle(Message m) {
    if (m instanceof IommuCommand.MapPhys c && c.single() != null && classic.onMapSingle(c)) return d;
    if (new DmaDirect(this).handle(m)) return d;
    if (m instanceof IommuCommand.TryAlloc c) iovaApi.onTryAlloc(c);
    else if (m instanceof IommuCommand.Link c) iovaApi.onLink(c);
    else if (m instanceof IommuCommand.Sync c) iovaApi.onSync(c);
    else if (m instanceof IommuCommand.Unlink c) iovaApi.onUnlink(c);
    else if (m instanceof IommuCommand.Destroy c) iovaApi.onDestroy(c);
    else if (m instanceof IommuCommand.Free c) iovaApi.onFree(c.dev(), c.state(), c.addr(), "free");
    else if (m instanceof IommuCommand.MapPhys c) classic.onMapPhys(c);
    else if (m instanceof IommuCommand.UnmapPhys c) unmaps.onUnmap(c.dev(), c.handle(), "unmap_phys", c.addr(), c.addr(), c.size(), c.dir(), 1);
    else if (m instanceof IommuCommand.MapSg c) classic.onMapSg(c);
    else if (m instanceof IommuCommand.UnmapSg c) classic.onUnmapSg(c);
    else if (m instanceof IommuCommand.AllocCoherent c) classic.onAllocCoherent(c);
    else if (m instanceof IommuCommand.FreeCoherent c) classic.onFreeCoherent(c);
    else if (m instanceof IommuCommand.SyncSingle c) classic.onSync(c.dev(), c.handle(), "sync_single", c.addr(), c.size(), c.dir(), c.forCpu(), 1);
    else if (m instanceof IommuCommand.SyncSg c) classic.onSyncSg(c);
    else if (m instanceof IommuCommand.Translate c) translation.onTranslate(c);
    else if (m instanceof IommuCommand.InvalidationDone c) invalidations.onInvalidationDone(c.id());
    else if (m instanceof DeviceReply.AtcInvalidated c) invalidations.onAtcInvalidated(c.id());
    else if (m instanceof IommuCommand.FlushQueueTimeout) flushQueues.onFlushTimeout();
    else if (m instanceof IommuCommand.TearDown) domain.onTearDown();
    else if (m instanceof IommuCommand.Attach c) domain.onAttach(c);
    else if (m instanceof IommuCommand.SyncMapFlagLands) d.emit(new IommuEvent.SyncMapFlagSet());
    else if (m instanceof IommuCommand.AttachDevice c) domain.onAttachDevice(c);
    else if (m instanceof IommuCommand.DomainInitLands c) domain.onDomainInitLands(c.id());
    else if (m instanceof IommuCommand.PteClearLands c) d.emit(new IommuEvent.PteClearVisible(c.startPfn(), c.pages(), s.startCnt));
    else if (m instanceof IommuCommand.Drain c) d.send(env.sender(), new IommuReply.Drained(c.requester()));
    else throw new IllegalArgumentException("IommuUnit cannot handle " + m.getClass().getName());
    return d;
  }
}
