package dmasim.actors.model;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.Effect;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import akka.persistence.typed.javadsl.SignalHandler;
import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import dmasim.protocol.JournalEvent;
import dmasim.protocol.Wire;
import dmasim.protocol.WireEvent;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The event-sourced shell every model actor shares. For each envelope: ask the actor's pure logic
 * for a {@link Decision}, persist one {@code EnvelopeHandled} carrying the decided events (one
 * journal row per step: the commit point), let the state fold them, and only then send the decided envelopes
 * and report the step as handled. On recovery the state is the fold of the journal, minus what
 * the hardware would lose ({@code onRecovered}: IOTLB, ATC, in-flight DMA). Volatile actors
 * (exploration) take the same step — {@code decide}, commit, {@code foldAll}, {@code release} —
 * with a commit point that writes nothing.
 *
 * @param <S> the actor's state class (mutable, owned by this actor, changed only by {@code fold})
 */
public final class ModelBehavior<S> extends EventSourcedBehavior<Envelope, Event, S> {
  private final String name;
  private final Wire wire;
  private final Supplier<S> empty;
  private final BiFunction<S, Envelope, Decision> logic;
  private final BiFunction<S, Event, S> fold;
  private final UnaryOperator<S> onRecovered;
  private final StateProbe probe;

  private ModelBehavior(String name, PersistenceId id, Wire wire, Supplier<S> empty, BiFunction<S, Envelope, Decision> logic,
      BiFunction<S, Event, S> fold, UnaryOperator<S> onRecovered, StateProbe probe) {
    super(id);
    this.name = name;
    this.wire = wire;
    this.empty = empty;
    this.logic = logic;
    this.fold = fold;
    this.onRecovered = onRecovered;
    this.probe = probe;
  }

  /**
   * A model actor named {@code name}: journaling under "{@code runId}|{@code name}" when
   * {@code runId} is not null, else volatile (exploration in memory: the same decisions and folds,
   * nothing written; a violating schedule is re-executed journaled afterwards).
   */
  public static <S> Behavior<Envelope> create(String runId, String name, Wire wire, Supplier<S> empty,
      BiFunction<S, Envelope, Decision> logic, BiFunction<S, Event, S> fold, UnaryOperator<S> onRecovered) {
    return create(runId, name, wire, empty, logic, fold, onRecovered, null);
  }

  /** ... telling {@code probe} (null: nobody) of every committed step. */
  public static <S> Behavior<Envelope> create(String runId, String name, Wire wire, Supplier<S> empty,
      BiFunction<S, Envelope, Decision> logic, BiFunction<S, Event, S> fold, UnaryOperator<S> onRecovered, StateProbe probe) {
    if (runId == null) return volatileBehavior(name, wire, empty, logic, fold, onRecovered, probe);
    // A journal write that fails or is rejected stops the actor (Akka Persistence's rule); the run reports it in one line, so the
    // supervisor does not log a stack trace for it.
    return Behaviors.supervise(Behaviors.setup((ActorContext<Envelope> ctx) ->
        new ModelBehavior<>(name, PersistenceId.ofUniqueId(runId + "|" + name), wire, empty, logic, fold, onRecovered, probe)))
        .onFailure(akka.actor.typed.SupervisorStrategy.stop().withLoggingEnabled(false));
  }

  /**
   * A volatile actor that journals every step through {@code tap} under "{@code runId}|name", as the
   * persisting shell would write it, before its sends: the live wire's journaled runs.
   */
  public static <S> Behavior<Envelope> tapped(String runId, String name, Wire wire, Supplier<S> empty, BiFunction<S, Envelope, Decision> logic,
      BiFunction<S, Event, S> fold, UnaryOperator<S> onRecovered, JournalTap tap) {
    return volatileBehavior(name, wire, empty, logic, fold, onRecovered, null, runId + "|" + name, tap);
  }

  private static <S> Behavior<Envelope> volatileBehavior(String name, Wire wire, Supplier<S> empty, BiFunction<S, Envelope, Decision> logic,
      BiFunction<S, Event, S> fold, UnaryOperator<S> onRecovered, StateProbe probe) {
    return volatileBehavior(name, wire, empty, logic, fold, onRecovered, probe, null, null);
  }

  private static <S> Behavior<Envelope> volatileBehavior(String name, Wire wire, Supplier<S> empty, BiFunction<S, Envelope, Decision> logic,
      BiFunction<S, Event, S> fold, UnaryOperator<S> onRecovered, StateProbe probe, String persistenceId, JournalTap tap) {
    return Behaviors.setup(ctx -> {
      Object[] state = {empty.get()};
      long[] seq = {0};
      return Behaviors.receiveMessage(delivered -> {
        if (delivered.message() == dmasim.protocol.Reset.INSTANCE) { // another schedule on the same actors (exploration)
          state[0] = empty.get();
          seq[0] = 0;
          return Behaviors.same();
        }
        Envelope env = wire.received(delivered);
        if (env == null) return Behaviors.same();
        @SuppressWarnings("unchecked")
        S s = (S) state[0];
        Decision decision = decide(name, wire, logic, s, env);
        if (decision == null) return Behaviors.same();
        List<Event> events = withWireEvents(wire, name, decision);
        state[0] = foldAll(fold, onRecovered, s, events); // the commit point of a volatile actor: nothing is written, or the tap's row
        if (tap != null) tap.append(persistenceId, ++seq[0], new JournalEvent.EnvelopeHandled(env.id(), env.step(), env.deliveredAt(), env.cause(),
            env.message().getClass().getSimpleName(), events));
        if (probe != null) probe.committed(name, env, events, state[0]);
        release(wire, env, decision, events);
        return Behaviors.same();
      });
    });
  }

  // ---- the one step both shells take: decide, commit (persisted or not), fold, then release ----------------

  /** The actor's decision for {@code env}, or null when its logic threw (reported to the wire as a crash of the model). */
  private static <S> Decision decide(String name, Wire wire, BiFunction<S, Envelope, Decision> logic, S state, Envelope env) {
    if (env.message() instanceof dmasim.protocol.Crash c) {
      // A fault plan crashes this actor as the envelope arrives: the step is the restart, the envelope is lost.
      return new Decision().emit(new JournalEvent.ActorRestarted(c.lost().getClass().getSimpleName(), c.rule()));
    }
    try {
      return logic.apply(state, env);
    } catch (RuntimeException e) {
      wire.crashed(env, name, e.getClass().getSimpleName() + ": " + e.getMessage());
      return null;
    }
  }

  /** The step's events: the decided ones, then what the wire will do to its sends (a fault plan's decisions, journaled with the step). */
  private static List<Event> withWireEvents(Wire wire, String name, Decision decision) {
    if (decision.sends().isEmpty()) return decision.events();
    List<Wire.Outgoing> out = new java.util.ArrayList<>(decision.sends().size());
    for (Decision.Send send : decision.sends()) out.add(new Wire.Outgoing(send.to(), send.message(), send.delay()));
    List<Event> planned = wire.plan(name, out);
    if (planned.isEmpty()) return decision.events();
    List<Event> all = new java.util.ArrayList<>(decision.events());
    all.addAll(planned);
    return all;
  }

  /** {@code state} with {@code events} folded in order; the wire's events are not the actor's to fold; a restart is what recovery gives. */
  static <S> S foldAll(BiFunction<S, Event, S> fold, UnaryOperator<S> onRecovered, S state, List<Event> events) {
    S s = state;
    for (Event e : events) {
      if (e instanceof JournalEvent.ActorRestarted) s = onRecovered.apply(s);
      else if (!(e instanceof WireEvent)) s = fold.apply(s, e);
    }
    return s;
  }

  /** After the commit point: the decided envelopes go out and the step is reported handled, with its events. */
  private static void release(Wire wire, Envelope env, Decision decision, List<Event> events) {
    for (Decision.Send send : decision.sends()) wire.send(send.to(), send.message(), send.delay(), env);
    wire.handled(env, events);
  }

  @Override
  public S emptyState() {
    return empty.get();
  }

  @Override
  public CommandHandler<Envelope, Event, S> commandHandler() {
    return newCommandHandlerBuilder().forAnyState().onAnyCommand(this::onEnvelope);
  }

  private Effect<Event, S> onEnvelope(S state, Envelope delivered) {
    Envelope env = wire.received(delivered);
    if (env == null) return Effect().none();
    Decision decision = decide(name, wire, logic, state, env);
    if (decision == null) return Effect().none();
    List<Event> events = withWireEvents(wire, name, decision);
    Event handled = new JournalEvent.EnvelopeHandled(env.id(), env.step(), env.deliveredAt(), env.cause(),
        env.message().getClass().getSimpleName(), events);
    return Effect().persist(handled).thenRun(s -> { // the commit point: the step is journaled
      if (probe != null) probe.committed(name, env, events, s);
      release(wire, env, decision, events);
    });
  }

  @Override
  public EventHandler<S, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(this::foldStep);
  }

  private S foldStep(S state, Event event) {
    if (event instanceof JournalEvent.EnvelopeHandled h) return foldAll(fold, onRecovered, state, h.events());
    if (event instanceof JournalEvent.ActorRestarted) return onRecovered.apply(state);
    return event instanceof WireEvent ? state : fold.apply(state, event);
  }

  @Override
  public SignalHandler<S> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), onRecovered::apply).build();
  }
}
