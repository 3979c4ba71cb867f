package dmasim.scenarios;

import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import java.util.List;

/** One step as an actor journaled it: the envelope it handled (with step, time, cause, type) and the domain events that followed. */
public record RecordedStep(long step, String actor, EnvelopeId envelope, long at, EnvelopeId cause, String type, List<Event> events) {
  public RecordedStep {
    events = List.copyOf(events);
  }
}
