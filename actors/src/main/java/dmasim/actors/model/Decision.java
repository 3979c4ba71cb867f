package dmasim.actors.model;

import dmasim.protocol.Event;
import dmasim.protocol.Message;
import java.util.ArrayList;
import java.util.List;

/**
 * What an actor decided while handling one envelope: the events to persist (in order) and the
 * envelopes to send once they are persisted. Built by the pure logic classes, executed by the actor.
 */
public final class Decision {
  /** One envelope to send after persisting. */
  public record Send(String to, Message message, long delay) {}

  private final List<Event> events = new ArrayList<>();
  private final List<Send> sends = new ArrayList<>();

  public Decision emit(Event e) {
    events.add(e);
    return this;
  }

  public Decision send(String to, Message m, long delay) {
    sends.add(new Send(to, m, delay));
    return this;
  }

  public Decision send(String to, Message m) {
    return send(to, m, 0);
  }

  public List<Event> events() {
    return events;
  }

  public List<Send> sends() {
    return sends;
  }
}
