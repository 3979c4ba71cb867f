package dmasim.actors.mm;

import dmasim.actors.model.ActorKind;
import dmasim.actors.model.Names;

/** A mirror's device side as a model actor: the device page table and the driver's hmm_dma_map. */
public final class Mirror {
  private Mirror() {}

  public static ActorKind<MirrorState> kind(MirrorSettings settings) {
    return new ActorKind<>(Names.mirror(settings.name()), () -> new MirrorState(settings), MirrorLogic::decide, MirrorState::apply, s -> s,
        MirrorState::describe);
  }
}
