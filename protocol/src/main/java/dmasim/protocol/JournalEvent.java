package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** Bookkeeping every actor journals beside its domain events: the schedule it actually saw. */
@JsonSubTypes({@JsonSubTypes.Type(JournalEvent.EnvelopeHandled.class)})
public sealed interface JournalEvent extends Event {

  /**
   * The actor handled envelope {@code id} (a {@code type} message sent while {@code cause} was
   * handled) at global step {@code step} and virtual time {@code at}; the domain events that
   * follow it in the journal belong to it. Merging every actor's records by step gives the run's
   * schedule back.
   */
  record EnvelopeHandled(EnvelopeId id, long step, long at, EnvelopeId cause, String type) implements JournalEvent {}
}
