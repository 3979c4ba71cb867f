package dmasim.actors.model;

import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import java.util.List;

/**
 * Told of every step a model actor commits (persisted, or folded by a volatile actor): the envelope,
 * the events it decided (the journal row's, before any serialization) and its state right after
 * the fold, on the actor's own thread. The crash-point check records what each persist point holds.
 */
public interface StateProbe {
  void committed(String actor, Envelope envelope, List<Event> events, Object state);
}
