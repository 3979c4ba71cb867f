package dmasim.actors.odp;

import dmasim.actors.model.ActorKind;
import dmasim.actors.model.Names;

/** The RDMA device with on-demand paging as a model actor. */
public final class Hca {
  private Hca() {}

  public static ActorKind<HcaState> kind(HcaSettings settings) {
    return new ActorKind<>(Names.hca(settings.deviceIndex()), () -> new HcaState(settings), HcaLogic::decide, HcaState::apply, s -> s,
        HcaState::describe);
  }
}
