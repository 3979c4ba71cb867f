package dmasim.actors.device;

import akka.actor.typed.Behavior;
import dmasim.actors.model.ActorKind;
import dmasim.actors.model.Names;
import dmasim.protocol.Envelope;
import dmasim.protocol.Wire;

/**
 * A DMA-capable device (NVMe-like). Executes descriptors page by page through the IOMMU (or its
 * ATC with ATS), reports completions to the submitting CPU queue, answers ATC invalidations.
 * Volatile: descriptors in flight and the ATC, lost on a reset or restart. Persists only the
 * journal of what it did.
 */
public final class Device {
  private Device() {}

  public static Behavior<Envelope> create(String runId, DeviceSettings settings, Wire wire) {
    return kind(settings).behavior(runId, wire, null);
  }

  public static ActorKind<DeviceState> kind(DeviceSettings settings) {
    return new ActorKind<>(Names.device(settings.id()), () -> new DeviceState(settings), DeviceLogic::decide, DeviceState::apply,
        DeviceState::lostVolatileState, d -> java.util.List.of("descriptors in flight " + d.inFlight(), "ATC entries " + d.atc().size()));
  }
}
