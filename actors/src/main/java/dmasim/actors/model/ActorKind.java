package dmasim.actors.model;

import akka.actor.typed.Behavior;
import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import dmasim.protocol.JournalEvent;
import dmasim.protocol.Wire;
import dmasim.protocol.WireEvent;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * One model actor as data: its name, empty state, pure logic, fold, and what a restart loses. The
 * actor's behaviour, the crash-point check (which recovers the state from the journal and folds the
 * decided events itself) and tests all take it from here, so they cannot disagree about the fold.
 */
public record ActorKind<S>(String name, Supplier<S> empty, BiFunction<S, Envelope, Decision> logic, BiFunction<S, Event, S> fold,
    UnaryOperator<S> onRecovered) {

  /** The actor's behaviour: journaled under "{@code runId}|name" (null: volatile), telling {@code probe} (null: nobody) of each committed step. */
  public Behavior<Envelope> behavior(String runId, Wire wire, StateProbe probe) {
    return ModelBehavior.create(runId, name, wire, empty, logic, fold, onRecovered, probe);
  }

  /** {@code state} with one journaled row folded in, exactly as recovery folds it: a step's events in order, the wire's skipped. */
  public S foldRow(S state, Event row) {
    if (row instanceof JournalEvent.EnvelopeHandled h) return ModelBehavior.foldAll(fold, onRecovered, state, h.events());
    if (row instanceof JournalEvent.ActorRestarted) return onRecovered.apply(state);
    return row instanceof WireEvent ? state : fold.apply(state, row);
  }
}
