package dmasim.actors.memory;

import akka.actor.typed.Behavior;
import dmasim.actors.model.ActorKind;
import dmasim.actors.model.Names;
import dmasim.protocol.Envelope;
import dmasim.protocol.Wire;

/** The page allocator: owns and persists the free list; nothing volatile. Fails only on unknown messages. */
public final class Memory {
  /** Physical memory starts at pfn 0x1000 (16 MiB), away from pfn 0. */
  public static final long FIRST_PFN = 0x1000;

  private Memory() {}

  public static Behavior<Envelope> create(String runId, long totalPages, Wire wire) {
    return create(runId, totalPages, java.util.List.of(), wire);
  }

  /** RAM plus non-RAM regions (MMIO, P2P BARs) that buffers can be allocated from. */
  public static Behavior<Envelope> create(String runId, long totalPages, java.util.List<Region> regions, Wire wire) {
    return create(runId, totalPages, regions, dmasim.actors.iommu.FaultPlan.NONE, 0, wire);
  }

  /** ... with the fault plan whose alloc_pages rules fail page allocations (seeded by {@code faultSeed}). */
  public static Behavior<Envelope> create(String runId, long totalPages, java.util.List<Region> regions, dmasim.actors.iommu.FaultPlan faults,
      long faultSeed, Wire wire) {
    return kind(totalPages, regions, faults, faultSeed).behavior(runId, wire, null);
  }

  public static ActorKind<MemoryState> kind(long totalPages, java.util.List<Region> regions, dmasim.actors.iommu.FaultPlan faults, long faultSeed) {
    return new ActorKind<>(Names.MEMORY, () -> new MemoryState(FIRST_PFN, totalPages, regions), (s, env) -> MemoryLogic.decide(s, env, faults,
        faultSeed), MemoryState::apply, s -> s, s -> java.util.List.of(String.format(java.util.Locale.ROOT, "free pages %d", s.available())));
  }
}
