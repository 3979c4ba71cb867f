package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/**
 * What the IommuUnit (with the dma-iommu glue, IOVA allocator and flush queues it owns) is asked to
 * do: the DMA API calls of a CPU queue, and translation requests of a device. {@code state},
 * {@code handle} and {@code sg} name the caller's object so monitors can follow its lifetime.
 */
@JsonSubTypes({
  @JsonSubTypes.Type(IommuCommand.TryAlloc.class),
  @JsonSubTypes.Type(IommuCommand.Link.class),
  @JsonSubTypes.Type(IommuCommand.Sync.class),
  @JsonSubTypes.Type(IommuCommand.Unlink.class),
  @JsonSubTypes.Type(IommuCommand.Destroy.class),
  @JsonSubTypes.Type(IommuCommand.Free.class),
  @JsonSubTypes.Type(IommuCommand.MapPhys.class),
  @JsonSubTypes.Type(IommuCommand.UnmapPhys.class),
  @JsonSubTypes.Type(IommuCommand.MapSg.class),
  @JsonSubTypes.Type(IommuCommand.UnmapSg.class),
  @JsonSubTypes.Type(IommuCommand.AllocCoherent.class),
  @JsonSubTypes.Type(IommuCommand.FreeCoherent.class),
  @JsonSubTypes.Type(IommuCommand.SyncSingle.class),
  @JsonSubTypes.Type(IommuCommand.SyncSg.class),
  @JsonSubTypes.Type(IommuCommand.Translate.class),
  @JsonSubTypes.Type(IommuCommand.InvalidationDone.class),
  @JsonSubTypes.Type(IommuCommand.FlushQueueTimeout.class),
  @JsonSubTypes.Type(IommuCommand.TearDown.class),
  @JsonSubTypes.Type(IommuCommand.PteClearLands.class),
  @JsonSubTypes.Type(IommuCommand.Attach.class),
  @JsonSubTypes.Type(IommuCommand.SyncMapFlagLands.class),
  @JsonSubTypes.Type(IommuCommand.AttachDevice.class),
  @JsonSubTypes.Type(IommuCommand.DomainInitLands.class),
  @JsonSubTypes.Type(IommuCommand.Drain.class)
})
public sealed interface IommuCommand extends Message {

  /** dma_iova_try_alloc(dev, state, phys, size). */
  record TryAlloc(DeviceId dev, String state, Phys phys, long size) implements IommuCommand {}

  /** dma_iova_link(dev, state, phys, offset, size, dir, attrs); {@code addr}/{@code stateSize} are the state's fields. */
  record Link(DeviceId dev, String state, Iova addr, long stateSize, long offset, Phys phys, long size, Direction dir, DmaAttrs attrs)
      implements IommuCommand {}

  /** dma_iova_sync(dev, state, offset, size). */
  record Sync(DeviceId dev, String state, Iova addr, long offset, long size) implements IommuCommand {}

  /** dma_iova_unlink(dev, state, offset, size, dir, attrs). */
  record Unlink(DeviceId dev, String state, Iova addr, long offset, long size, Direction dir, DmaAttrs attrs)
      implements IommuCommand {}

  /** dma_iova_destroy(dev, state, mapped_len, dir, attrs). */
  record Destroy(DeviceId dev, String state, Iova addr, long stateSize, long mappedLen, Direction dir, DmaAttrs attrs)
      implements IommuCommand {}

  /** dma_iova_free(dev, state). */
  record Free(DeviceId dev, String state, Iova addr, long stateSize) implements IommuCommand {}

  /**
   * dma_map_phys(dev, phys, size, dir, attrs); with {@code single} non-null the driver called
   * dma_map_single_attrs on a kernel virtual address into memory of that kind, which checks the
   * address (and dma-debug's debug_dma_map_single runs) before dma_map_page_attrs.
   */
  record MapPhys(DeviceId dev, String handle, Phys phys, long size, Direction dir, DmaAttrs attrs, PageKind single) implements IommuCommand {
    /** dma_map_phys / dma_map_page (not through dma_map_single). */
    public MapPhys(DeviceId dev, String handle, Phys phys, long size, Direction dir, DmaAttrs attrs) {
      this(dev, handle, phys, size, dir, attrs, null);
    }
  }

  /** dma_unmap_phys(dev, addr, size, dir, attrs). */
  record UnmapPhys(DeviceId dev, String handle, Iova addr, long size, Direction dir, DmaAttrs attrs) implements IommuCommand {}

  /** dma_map_sg(dev, sgl, nents, dir, attrs). */
  record MapSg(DeviceId dev, String sg, List<Segment> segments, Direction dir, DmaAttrs attrs) implements IommuCommand {
    public MapSg {
      segments = List.copyOf(segments);
    }
  }

  /**
   * The mapping half of dma_alloc_coherent(dev, size, &handle, gfp) on the IOMMU path
   * (iommu_dma_alloc): the pages of {@code buf} were allocated, map them BIDIRECTIONAL into one IOVA range.
   */
  record AllocCoherent(DeviceId dev, String buf, List<Long> pfns) implements IommuCommand {
    public AllocCoherent {
      pfns = List.copyOf(pfns);
    }
  }

  /** dma_free_coherent(dev, size, cpu_addr, handle): the debug hook, then __iommu_dma_unmap(handle, size); the caller frees the pages. */
  record FreeCoherent(DeviceId dev, String buf, Phys cpu, Iova handle, long size) implements IommuCommand {}

  /** dma_unmap_sg(dev, sgl, nents, dir, attrs): {@code mapped} is what the sg's dma fields hold. */
  record UnmapSg(DeviceId dev, String sg, List<DmaSegment> mapped, int nents, Direction dir, DmaAttrs attrs) implements IommuCommand {
    public UnmapSg {
      mapped = List.copyOf(mapped);
    }
  }

  /** dma_sync_single_for_cpu / _for_device. */
  record SyncSingle(DeviceId dev, String handle, Iova addr, long size, Direction dir, boolean forCpu) implements IommuCommand {}

  /** dma_sync_sg_for_cpu / _for_device. */
  record SyncSg(DeviceId dev, String sg, List<DmaSegment> mapped, int nents, Direction dir, boolean forCpu) implements IommuCommand {
    public SyncSg {
      mapped = List.copyOf(mapped);
    }
  }

  /**
   * A device transaction at {@code iova}: translated and performed by the IOMMU, or with
   * {@code atsRequest} only translated for the device's ATC. {@code stray} marks an access that
   * belongs to no live descriptor (a late or malicious access).
   */
  record Translate(DeviceId dev, long tag, Iova iova, boolean write, boolean stray, boolean atsRequest) implements IommuCommand {}

  /** The invalidation queue finished command {@code id} (the hardware's completion, after its latency). */
  record InvalidationDone(long id) implements IommuCommand {}

  /** The flush-queue timer fired (fq_flush_timeout). */
  record FlushQueueTimeout() implements IommuCommand {}

  /** The store clearing PTEs of [startPfn, startPfn+pages) reaches the page walker (the missing-barrier window ends). */
  record PteClearLands(long startPfn, long pages) implements IommuCommand {}

  /** Attach the domain to another IOMMU unit, one that caches not-present entries when {@code cachingMode} (B6). */
  record Attach(boolean cachingMode) implements IommuCommand {}

  /** The flush-on-map flag OR-ed in at attach becomes visible to the map path (the B6 window ends). */
  record SyncMapFlagLands() implements IommuCommand {}

  /**
   * Attach device {@code dev} to the shared DMA domain as its driver probes (iommu_setup_dma_ops ->
   * iommu_dma_init_domain); answered once the device can use the DMA API.
   */
  record AttachDevice(DeviceId dev) implements IommuCommand {}

  /** init_iova_domain started by attach {@code id} completes: start_pfn is set (the window of ac9a5d522bb8 ends). */
  record DomainInitLands(long id) implements IommuCommand {}

  /**
   * A resetting device asks that every transaction it sent before this one be finished: the channel
   * is FIFO, so the answer ({@link IommuReply.Drained}) comes after all of them. {@code requester}
   * is whom the device reports the finished reset to.
   */
  record Drain(String requester) implements IommuCommand {}

  /** Tear the DMA domain down (device removal / group release: iommu_dma_free_fq). */
  record TearDown() implements IommuCommand {}
}
