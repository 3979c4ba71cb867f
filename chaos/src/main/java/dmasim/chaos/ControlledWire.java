package dmasim.chaos;

import akka.actor.typed.ActorRef;
import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import dmasim.protocol.Message;
import dmasim.protocol.Wire;
import java.util.List;

/** The wire of controlled runs: every send and every completion goes to the {@link ControlledScheduler}. */
public final class ControlledWire implements Wire {
  private final ActorRef<ControlledScheduler.Command> scheduler;

  public ControlledWire(ActorRef<ControlledScheduler.Command> scheduler) {
    this.scheduler = scheduler;
  }

  @Override
  public void send(String to, Message message, long delay, Envelope cause) {
    scheduler.tell(new ControlledScheduler.Sent(to, message, delay, cause, true));
  }

  @Override
  public void sendUnordered(String to, Message message, long delay, Envelope cause) {
    scheduler.tell(new ControlledScheduler.Sent(to, message, delay, cause, false));
  }

  @Override
  public void handled(Envelope envelope, List<? extends Event> events) {
    scheduler.tell(new ControlledScheduler.Handled(envelope, List.copyOf(events)));
  }

  @Override
  public void crashed(Envelope envelope, String actor, String reason) {
    scheduler.tell(new ControlledScheduler.Crashed(envelope, actor, reason));
  }
}
