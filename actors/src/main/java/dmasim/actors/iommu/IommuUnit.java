package dmasim.actors.iommu;

import akka.actor.typed.Behavior;
import dmasim.actors.model.ActorKind;
import dmasim.actors.model.Names;
import dmasim.protocol.Envelope;
import dmasim.protocol.Wire;

/**
 * The IOMMU unit with the dma-iommu glue of its one DMA domain. Owns and persists the IOVA
 * allocator, the I/O page table, the flush-queue rings and counters; forgets on reset the IOTLB
 * and the invalidation queue (commands in flight never complete, their waiters hang - as on real
 * hardware). Fails only on a message it does not understand (a model bug).
 *
 * <p>Invariants: I1, I4, I5 hold by construction of its state; the monitors check the rest.
 */
public final class IommuUnit {
  private IommuUnit() {}

  public static Behavior<Envelope> create(String runId, IommuSettings settings, Wire wire) {
    return kind(settings).behavior(runId, wire, null);
  }

  public static ActorKind<IommuState> kind(IommuSettings settings) {
    return kind(settings, dmasim.actors.memory.MemorySettings.of(0));
  }

  /** The IOMMU of a system whose physical memory is {@code memory} (what each physical address is). */
  public static ActorKind<IommuState> kind(IommuSettings settings, dmasim.actors.memory.MemorySettings memory) {
    return new ActorKind<>(Names.IOMMU, () -> new IommuState(settings, memory), IommuLogic::decide, IommuState::apply, IommuState::lostVolatileState,
        IommuUnit::describe);
  }

  /** What {@code dmasim inspect} shows of the IOMMU: mode, allocations, PTEs, IOTLB, invalidations, flush queues. */
  static java.util.List<String> describe(IommuState s) {
    java.util.List<String> out = new java.util.ArrayList<>();
    out.add("mode " + s.settings().mode() + (s.settings().cachingMode() ? ", caching mode" : ""));
    out.add("IOVA allocations " + s.allocator().allocations() + " (" + s.allocator().allocatedPages() + " pages)");
    out.add("mapped pages (PTEs) " + s.pageTable().size());
    out.add("IOTLB entries " + s.iotlb().size() + " of " + s.iotlb().capacity());
    out.add("invalidations in flight " + s.pendingInvalidations());
    if (s.settings().lazy()) {
      StringBuilder rings = new StringBuilder();
      for (dmasim.actors.state.FlushQueue q : s.rings()) rings.append(rings.length() == 0 ? "" : ", ").append(q.length());
      out.add("flush queues [" + rings + "], fq_flush_start_cnt " + s.startCnt() + ", fq_flush_finish_cnt " + s.finishCnt());
    }
    return out;
  }
}
