package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** Bookkeeping every actor journals beside its domain events: the schedule it actually saw. */
@JsonSubTypes({@JsonSubTypes.Type(JournalEvent.EnvelopeHandled.class)})
public sealed interface JournalEvent extends Event {

  /**
   * The actor handled envelope {@code id} (a {@code type} message sent while {@code cause} was
   * handled) at global step {@code step} and virtual time {@code at}, and decided {@code events}
   * (folded in order). One journal row per step: merging every actor's records by step gives the
   * run's schedule back, and a step is on disk whole or not at all.
   */
  record EnvelopeHandled(EnvelopeId id, long step, long at, EnvelopeId cause, String type, List<Event> events) implements JournalEvent {
    public EnvelopeHandled {
      events = List.copyOf(events);
    }
  }
}
