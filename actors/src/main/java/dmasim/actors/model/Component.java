package dmasim.actors.model;

import dmasim.actors.monitor.Monitor;
import java.util.List;

/**
 * A part of the modelled system beyond the DMA core (IOMMU, memory, devices, CPU queues): its
 * actors and the monitors that judge them. The run spawns {@link #kinds()}, the inspector folds
 * them, the crash-point check recovers them, and the monitor suite adds {@link #monitors()}, all by
 * iterating; none of them names a component's actors.
 */
public interface Component {
  /** The component's actors. */
  List<ActorKind<?>> kinds();

  /** Fresh monitors for one run (they keep state). */
  List<Monitor> monitors();
}
