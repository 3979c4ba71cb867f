package dmasim.actors.model;

import dmasim.protocol.Event;

/**
 * Where a volatile actor journals its steps without Akka Persistence's round trip: each committed
 * step is handed over as the row a persisting actor would write (same persistence id, sequence
 * number and {@code EnvelopeHandled}), and the journal writer makes it durable in batches. The live
 * wire's journaled runs use it: a persist is acknowledged once queued anyway, and the round trip
 * through the journal actor was most of a journaled step's cost.
 */
public interface JournalTap {
  void append(String persistenceId, long sequenceNr, Event row);
}
