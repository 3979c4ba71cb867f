package dmasim.chaos;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import dmasim.protocol.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * The heart of the controlled wire: holds every envelope in flight and delivers exactly one at a
 * time, waiting for the receiver to report it handled before choosing the next.
 *
 * <p>Contract: envelopes sit in channels, one per (sender, receiver). A channel delivers in order
 * of due time (send time + delay), ties in order of sending: FIFO for envelopes of equal delay,
 * while a delayed envelope (a latency or a timer) is overtaken by later ones due earlier. The
 * enabled set is the head of every channel that is due at the current virtual time; when none is
 * due, virtual time jumps to the earliest due head. The strategy picks among the enabled heads.
 *
 * <p>Invariants: at most one envelope is being handled; virtual time never decreases; sequence
 * numbers are per sender, from 1, in the order the sender sent. Non-invariant: the global order of
 * sends from different actors (it depends on the schedule, which is the point).
 */
public final class ControlledScheduler extends AbstractBehavior<ControlledScheduler.Command> {

  /** The scheduler's protocol. Model actors reach it only through {@link ControlledWire}. */
  public sealed interface Command {}

  /** Make {@code name} deliverable to {@code ref}. */
  public record Register(String name, ActorRef<Envelope> ref) implements Command {}

  /** An envelope from outside the model (the harness), e.g. starting a CPU queue. */
  public record Inject(String from, String to, Message message, long delay) implements Command {}

  /** Begin stepping; {@code done} receives the outcome. */
  public record Start(ActorRef<RunOutcome> done) implements Command {}

  /**
   * Run another schedule on the same actors (volatile ones: exploration): every registered actor is
   * told {@link dmasim.protocol.Reset} first (its empty state again; the scheduler's channel to it
   * is in order, so before any delivery of the new schedule), the scheduler forgets everything in
   * flight, {@code injections} are made and stepping begins; {@code done} completes with the
   * outcome, and the scheduler stays for the next one.
   */
  public record Rerun(Strategy strategy, StepObserver observer, long maxSteps, boolean anyOrder, List<Inject> injections,
      java.util.concurrent.CompletableFuture<RunOutcome> done) implements Command {}

  /** {@code ordered} false: the envelope travels in a channel of its own (a reordering a fault plan allows). */
  record Sent(String to, Message message, long delay, Envelope cause, boolean ordered) {}

  /** {@code envelope} handled: its events, and the envelopes it sent, in order. */
  record Handled(Envelope envelope, List<? extends Event> events, List<Sent> sends) implements Command {}

  record Crashed(Envelope envelope, String actor, String reason) implements Command {}

  private Strategy strategy;
  private StepObserver observer;
  private long maxSteps;
  private final Map<String, ActorRef<Envelope>> actors = new HashMap<>();
  private final Map<String, Long> seqs = new HashMap<>();
  private final TreeMap<String, PriorityQueue<Envelope>> channels = new TreeMap<>();
  private long now;
  private long step;
  private long sends;
  private long nonFifoChoices;
  private static final FifoStrategy FIFO = new FifoStrategy();
  private int inFlight;
  private Envelope current;
  /** Every channel's head, and those due now, at the step being chosen (reused from step to step: a strategy keeps neither). */
  private final List<Envelope> heads = new ArrayList<>();
  private final List<Envelope> enabled = new ArrayList<>();
  private ActorRef<RunOutcome> done;
  /** Where a {@link Rerun}'s outcome goes. */
  private java.util.concurrent.CompletableFuture<RunOutcome> doneFuture;
  /** Whether this scheduler and its actors outlive a schedule ({@link Rerun}) instead of stopping at its end. */
  private boolean reused;
  /** An actor of this run that stopped (its run cannot go on, nor can a reused scheduler's next one), or null. */
  private String stoppedActor;

  /** Replaying a live run: every envelope in flight is enabled, whatever its channel or due time. */
  private boolean anyOrder;

  private ControlledScheduler(ActorContext<Command> ctx, Strategy strategy, StepObserver observer, long maxSteps, boolean anyOrder) {
    super(ctx);
    this.strategy = strategy;
    this.observer = observer;
    this.maxSteps = maxSteps;
    this.anyOrder = anyOrder;
  }

  public static Behavior<Command> create(Strategy strategy, StepObserver observer, long maxSteps) {
    return create(strategy, observer, maxSteps, false);
  }

  /**
   * {@code anyOrder}: the replay of a live run, whose threads delivered envelopes in an order no
   * channel discipline predicts: every envelope in flight is enabled, and the one delivered moves
   * virtual time to max(now, its due time), the rule the live wire stamped it with.
   */
  public static Behavior<Command> create(Strategy strategy, StepObserver observer, long maxSteps, boolean anyOrder) {
    return Behaviors.setup(ctx -> new ControlledScheduler(ctx, strategy, observer, maxSteps, anyOrder));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Inject.class, this::onInject)
        .onMessage(Start.class, this::onStart)
        .onMessage(Rerun.class, this::onRerun)
        .onMessage(Handled.class, this::onHandled)
        .onMessage(Crashed.class, c -> finish("crashed", c.actor() + " failed handling " + c.envelope() + ": " + c.reason()))
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  private Behavior<Command> onRegister(Register r) {
    actors.put(r.name(), r.ref());
    getContext().watch(r.ref());
    return this;
  }

  private Behavior<Command> onInject(Inject i) {
    enqueue(i.from(), i.to(), i.message(), now, i.delay(), null, true);
    return this;
  }

  private Behavior<Command> onStart(Start s) {
    done = s.done();
    return deliverNext();
  }

  private Behavior<Command> onTerminated(Terminated t) {
    stoppedActor = t.getRef().path().name();
    return current == null ? this : finish("crashed", "actor stopped: " + stoppedActor);
  }

  private Behavior<Command> onRerun(Rerun r) {
    reused = true;
    if (stoppedActor != null) {
      doneFuture = r.done();
      return finish("crashed", "actor stopped: " + stoppedActor);
    }
    strategy = r.strategy();
    observer = r.observer();
    maxSteps = r.maxSteps();
    anyOrder = r.anyOrder();
    seqs.clear();
    channels.clear();
    now = 0;
    step = 0;
    sends = 0;
    nonFifoChoices = 0;
    inFlight = 0;
    current = null;
    for (ActorRef<Envelope> a : actors.values()) a.tell(dmasim.protocol.Reset.ENVELOPE);
    for (Inject i : r.injections()) onInject(i);
    doneFuture = r.done();
    return deliverNext();
  }


  private void enqueue(String from, String to, Message m, long at, long delay, EnvelopeId cause, boolean ordered) {
    if (!actors.containsKey(to)) throw new IllegalStateException("no actor named " + to + " (from " + from + ")");
    long seq = seqs.merge(from, 1L, Long::sum);
    Envelope e = Envelope.sent(new EnvelopeId(from, seq), to, m, at, at + Math.max(0, delay), cause);
    channels.computeIfAbsent(channel(from, to, ordered ? 0 : seq), k -> new PriorityQueue<>(ControlledScheduler::dueOrder)).add(e);
    sends++;
    inFlight++;
  }

  /** The channel of an envelope: (sender, receiver), or one of its own ({@code own} its sequence number) when it may be reordered. */
  private static String channel(String from, String to, long own) {
    return own == 0 ? from + "->" + to : from + "->" + to + "~" + own;
  }

  private static int dueOrder(Envelope a, Envelope b) {
    int c = Long.compare(a.notBefore(), b.notBefore());
    return c != 0 ? c : Long.compare(a.id().seq(), b.id().seq());
  }

  private Behavior<Command> onHandled(Handled h) {
    if (current == null || !current.id().equals(h.envelope().id())) {
      throw new IllegalStateException("handled " + h.envelope() + " but delivered " + current);
    }
    current = null;
    for (Sent s : h.sends()) enqueue(s.cause().receiver(), s.to(), s.message(), s.cause().deliveredAt(), s.delay(), s.cause().id(), s.ordered());
    if (observer.onStep(step, h.envelope(), h.events())) return finish("stopped", "");
    return deliverNext();
  }

  private Behavior<Command> deliverNext() {
    if (inFlight == 0) return finish("quiescent", "");
    if (step >= maxSteps) return finish("max-steps", "");
    if (anyOrder) return deliverAny();
    List<Envelope> heads = this.heads;
    heads.clear();
    long earliest = Long.MAX_VALUE;
    for (PriorityQueue<Envelope> q : channels.values()) {
      Envelope head = q.peek();
      if (head != null) {
        heads.add(head);
        earliest = Math.min(earliest, head.notBefore());
      }
    }
    if (earliest > now) now = earliest;
    List<Envelope> enabled = this.enabled;
    enabled.clear();
    for (Envelope head : heads) if (head.notBefore() <= now) enabled.add(head);
    int choice = strategy.choose(enabled, step);
    if (choice < 0) return finish("diverged", strategy.divergence());
    Envelope chosen = enabled.get(choice);
    if (!chosen.equals(enabled.get(FIFO.choose(enabled, step)))) nonFifoChoices++;
    String key = channel(chosen.sender(), chosen.receiver(), 0);
    PriorityQueue<Envelope> channel = channels.get(key);
    if (channel == null || channel.peek() != chosen) {
      key = channel(chosen.sender(), chosen.receiver(), chosen.id().seq());
      channel = channels.get(key);
    }
    channel.poll();
    if (channel.isEmpty() && !key.equals(channel(chosen.sender(), chosen.receiver(), 0))) channels.remove(key);
    inFlight--;
    step++;
    current = chosen.deliveredAt(now, step);
    actors.get(current.receiver()).tell(current);
    return this;
  }

  private Behavior<Command> deliverAny() {
    List<Envelope> all = new ArrayList<>();
    for (PriorityQueue<Envelope> q : channels.values()) {
      List<Envelope> in = new ArrayList<>(q);
      in.sort(ControlledScheduler::dueOrder);
      all.addAll(in);
    }
    int choice = strategy.choose(all, step);
    if (choice < 0) return finish("diverged", strategy.divergence());
    Envelope chosen = all.get(choice);
    for (Map.Entry<String, PriorityQueue<Envelope>> c : channels.entrySet()) {
      if (c.getValue().remove(chosen)) break;
    }
    now = Math.max(now, chosen.notBefore());
    inFlight--;
    step++;
    current = chosen.deliveredAt(now, step);
    actors.get(current.receiver()).tell(current);
    return this;
  }

  private Behavior<Command> finish(String reason, String detail) {
    RunOutcome outcome = new RunOutcome(reason, step, now, inFlight, nonFifoChoices, detail);
    if (done != null) done.tell(outcome);
    done = null;
    if (doneFuture != null) doneFuture.complete(outcome);
    doneFuture = null;
    current = null;
    // A reused scheduler waits for the next Rerun, unless its actors can no longer be trusted (one failed or stopped).
    return reused && !outcome.crashed() ? this : Behaviors.stopped();
  }
}
