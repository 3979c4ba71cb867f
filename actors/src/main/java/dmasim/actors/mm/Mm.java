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

  /** The state a run starts from: the VMAs of the settings and their populated pages, folded as if mmap(MAP_POPULATE) had run. */
  static MmState initial(MmSettings settings) {
    MmState s = new MmState(settings);
    for (MmSettings.Vma v : settings.vmas()) {
      s.apply(new dmasim.protocol.MmEvent.VmaAdded(v.start(), v.pages(), v.write()));
      if (!v.populate()) continue;
      for (long i = 0; i < v.pages(); i++) {
        long pfn = s.peekFrames(1, false).get(0);
        s.apply(new dmasim.protocol.MmEvent.FrameAllocated(pfn, "anon", ""));
        s.apply(new dmasim.protocol.MmEvent.PteSet(v.start() + i * 4096, pfn, v.write(), "present", ""));
      }
    }
    return s;
  }
}
