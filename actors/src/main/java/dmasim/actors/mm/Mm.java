package dmasim.actors.mm;

import dmasim.actors.model.ActorKind;
import dmasim.actors.model.Names;

/** A process address space as a model actor: VMAs, CPU page table, page frames, the mmu interval notifier core, hmm_range_fault. */
public final class Mm {
  private Mm() {}

  /** Process {@code index}'s address space: its starting VMAs (populated ones mapped) and subscriptions from {@code settings}. */
  public static ActorKind<MmState> kind(int index, MmSettings settings) {
    String name = Names.mm(index);
    return new ActorKind<>(name, () -> initial(settings), (s, env) -> MmLogic.decide(s, settings, name, env), MmState::apply, s -> s,
        MmState::describe);
  }

  /** The state a run starts from: the VMAs of the settings, their populated pages present (implicitly: no work per page). */
  static MmState initial(MmSettings settings) {
    MmState s = new MmState(settings);
    for (MmSettings.Vma v : settings.vmas()) {
      s.apply(new dmasim.protocol.MmEvent.VmaAdded(v.start(), v.pages(), v.write(), v.io()));
      if (v.p2pFirstPfn() > 0) s.populateP2p(v.start() >>> 12, v.pages(), v.write(), v.p2pFirstPfn());
      else if (v.populate() && !v.io()) s.populate(v.start() >>> 12, v.pages(), v.write());
    }
    return s;
  }
}
