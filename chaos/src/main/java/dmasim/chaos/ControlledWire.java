package dmasim.chaos;

import akka.actor.typed.ActorRef;
import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import dmasim.protocol.Message;
import dmasim.protocol.Wire;
import java.util.List;

/**
 * The wire of controlled runs: every send and every completion goes to the {@link
 * ControlledScheduler}, in one message per step: an actor's sends wait here until it reports the
 * envelope handled, then travel with that report. Only one envelope is handled at a time, and the
 * scheduler's delivery and the report order every use of the buffer.
 */
public final class ControlledWire implements Wire {
  private final ActorRef<ControlledScheduler.Command> scheduler;
  /** The sends of the envelope being handled, in order. */
  private final java.util.ArrayList<ControlledScheduler.Sent> sends = new java.util.ArrayList<>();

  public ControlledWire(ActorRef<ControlledScheduler.Command> scheduler) {
    this.scheduler = scheduler;
  }

  @Override
  public void send(String to, Message message, long delay, Envelope cause) {
    sends.add(new ControlledScheduler.Sent(to, message, delay, cause, true));
  }

  @Override
  public void sendUnordered(String to, Message message, long delay, Envelope cause) {
    sends.add(new ControlledScheduler.Sent(to, message, delay, cause, false));
  }

  @Override
  public void handled(Envelope envelope, List<? extends Event> events) {
    List<ControlledScheduler.Sent> out = sends.isEmpty() ? List.of() : List.copyOf(sends);
    sends.clear();
    scheduler.tell(new ControlledScheduler.Handled(envelope, List.copyOf(events), out));
  }

  @Override
  public void crashed(Envelope envelope, String actor, String reason) {
    sends.clear();
    scheduler.tell(new ControlledScheduler.Crashed(envelope, actor, reason));
  }
}
