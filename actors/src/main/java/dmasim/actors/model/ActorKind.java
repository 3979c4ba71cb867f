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
 * One model actor as data: its name, empty state, pure logic, fold, what a restart loses, and how
 * {@code dmasim inspect} describes its state. The run, the inspector, the crash-point check (which
 * recovers the state from the journal and folds the decided events itself) and tests all take it
 * from here, so they cannot disagree about the fold, and a new kind of actor is added by giving one.
 */
public record ActorKind<S>(String name, Supplier<S> empty, BiFunction<S, Envelope, Decision> logic, BiFunction<S, Event, S> fold,
    UnaryOperator<S> onRecovered, java.util.function.Function<S, java.util.List<String>> describe) {

  /** A kind that {@code inspect} describes field by field. */
  public ActorKind(String name, Supplier<S> empty, BiFunction<S, Envelope, Decision> logic, BiFunction<S, Event, S> fold,
      UnaryOperator<S> onRecovered) {
    this(name, empty, logic, fold, onRecovered, s -> java.util.List.of(StateDump.of(s)));
  }

  /** A fresh state, for folding a journal: {@link Inspection#fold} and {@link Inspection#describe}. */
  public Inspection<S> inspection() {
    return new Inspection<>(this, empty.get());
  }

  /** A state being folded from journal rows, for inspection. */
  public static final class Inspection<S> {
    private final ActorKind<S> kind;
    private S state;

    Inspection(ActorKind<S> kind, S state) {
      this.kind = kind;
      this.state = state;
    }

    /** Folds one step's events, exactly as recovery folds its row. */
    public void fold(java.util.List<Event> events) {
      state = kind.foldStep(state, events);
    }

    public java.util.List<String> describe() {
      return kind.describe().apply(state);
    }
  }

  /** The actor's behaviour: journaled under "{@code runId}|name" (null: volatile), telling {@code probe} (null: nobody) of each committed step. */
  public Behavior<Envelope> behavior(String runId, Wire wire, StateProbe probe) {
    return ModelBehavior.create(runId, name, wire, empty, logic, fold, onRecovered, probe);
  }

  /** The actor's behaviour journaling through {@code tap} under "{@code runId}|name" without Akka Persistence (the live wire's journaled runs). */
  public Behavior<Envelope> tapped(String runId, Wire wire, JournalTap tap) {
    return ModelBehavior.tapped(runId, name, wire, empty, logic, fold, onRecovered, tap);
  }

  /** {@code state} with one step's events folded in, exactly as recovery folds its row (the wire's skipped, a restart as recovery gives). */
  public S foldStep(S state, java.util.List<Event> events) {
    return ModelBehavior.foldAll(fold, onRecovered, state, events);
  }

  /** {@code state} with one journaled row folded in, exactly as recovery folds it: a step's events in order, the wire's skipped. */
  public S foldRow(S state, Event row) {
    if (row instanceof JournalEvent.EnvelopeHandled h) return foldStep(state, h.events());
    if (row instanceof JournalEvent.ActorRestarted) return onRecovered.apply(state);
    return row instanceof WireEvent ? state : fold.apply(state, row);
  }
}
