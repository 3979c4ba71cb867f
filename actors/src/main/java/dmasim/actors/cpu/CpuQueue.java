package dmasim.actors.cpu;

import akka.actor.typed.Behavior;
import dmasim.actors.model.ActorKind;
import dmasim.actors.model.Names;
import dmasim.protocol.Envelope;
import dmasim.protocol.Wire;

/**
 * A CPU queue running one driver program: owns and persists its registers (program counter,
 * buffers, dma_iova_state objects, handles, sg tables). Nothing volatile: a restart resumes the
 * program where the journal left it. Fails when the program does something impossible (a buffer
 * that was never allocated), reported to the wire as a crash.
 */
public final class CpuQueue {
  private CpuQueue() {}

  public static Behavior<Envelope> create(String runId, int index, Program program, Wire wire) {
    return kind(index, program).behavior(runId, wire, null);
  }

  public static ActorKind<CpuState> kind(int index, Program program) {
    return new ActorKind<>(Names.cpu(index), () -> new CpuState(program, index), CpuLogic::decide, CpuState::apply, s -> s, CpuQueue::describe);
  }

  /** What {@code dmasim inspect} shows of a CPU queue: where its program is, what it waits for, the objects it holds. */
  static java.util.List<String> describe(CpuState c) {
    java.util.List<String> out = new java.util.ArrayList<>();
    out.add(c.ended() ? "program ended" : "pc " + c.pc() + (c.origin() == null ? "" : " (" + c.origin() + ")")
        + (c.waiting() == null ? "" : ", waiting for " + c.waiting()));
    out.add("requests completed " + c.requests());
    out.addAll(c.objects());
    return out;
  }
}
