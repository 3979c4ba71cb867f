package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** Bookkeeping every actor journals beside its domain events: the schedule it actually saw. */
@JsonSubTypes({@JsonSubTypes.Type(JournalEvent.EnvelopeHandled.class)})
public sealed interface JournalEvent extends Event {

  /** The actor handled envelope {@code id} at virtual time {@code at}; the domain events that follow belong to it. */
  record EnvelopeHandled(EnvelopeId id, long at) implements JournalEvent {}
}
