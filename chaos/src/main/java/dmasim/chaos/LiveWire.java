package dmasim.chaos;

import akka.actor.typed.ActorRef;
import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import dmasim.protocol.Message;
import dmasim.protocol.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live wire: envelopes go straight to their receivers through Akka, on real dispatcher
 * threads, delayed in real (scaled) time, so actors race for real. What makes a live run
 * replayable is the stamp: when a receiver starts handling an envelope it takes the next global
 * step number and a virtual delivery time, max(virtual now, the envelope's due time), in one
 * atomic act. The stamps order every delivery; journaled with each step, they are the schedule
 * that the controlled wire replays (in any-order mode: the recorded envelope is delivered whatever
 * its channel holds), and the same rule computes the same virtual times there.
 *
 * <p>Monitors see the steps in stamp order: reports of handled steps wait in a reorder buffer until
 * every earlier step has reported, so a monitor never sees an effect before its cause. The run
 * ends when nothing is in flight (quiescent), when the observer stops it (a violation), at the
 * step bound, or when an actor crashes.
 *
 * <p>Invariants: step numbers are dense from 1; virtual time never decreases in step order;
 * sequence numbers are per sender, in the sender's send order. Non-invariant: the stamp order,
 * which is whatever the threads did (the point of the live wire).
 */
public final class LiveWire implements Wire {
  /**
   * Delayed deliveries. Not Akka's scheduler, whose 10 ms tick would round a 2 us page time and a
   * 50 us command timeout up to the same tick and so reorder them; a scheduled executor keeps the
   * operating system's timer precision (tens of microseconds).
   */
  private final java.util.concurrent.ScheduledThreadPoolExecutor timers;
  private final double timeScale;
  private final long maxSteps;
  private final StepObserver observer;
  private final ConcurrentHashMap<String, ActorRef<Envelope>> actors = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicLong> seqs = new ConcurrentHashMap<>();
  private final AtomicLong inFlight = new AtomicLong();
  private final Object stamping = new Object();
  private long step;
  private long now;
  private final Object observing = new Object();
  private final TreeMap<Long, Report> pending = new TreeMap<>();
  private long nextObserved = 1;
  private final List<EnvelopeId> schedule = new ArrayList<>();
  private final CompletableFuture<RunOutcome> outcome = new CompletableFuture<>();
  private volatile boolean finished;

  private record Report(Envelope envelope, List<? extends Event> events) {}

  /**
   * @param timeScale real nanoseconds per virtual nanosecond of delay (1: a 5 us latency waits 5 us, within the timer precision of
   *     the operating system, tens of microseconds)
   */
  public LiveWire(double timeScale, long maxSteps, StepObserver observer) {
    if (!(timeScale >= 0) || Double.isInfinite(timeScale)) throw new IllegalArgumentException("--time-scale must be 0 or more, got " + timeScale);
    this.timers = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "dmasim-live-timers");
      t.setDaemon(true);
      return t;
    });
    timers.setRemoveOnCancelPolicy(true);
    this.timeScale = timeScale;
    this.maxSteps = maxSteps;
    this.observer = observer;
  }

  public void register(String name, ActorRef<Envelope> ref) {
    actors.put(name, ref);
  }

  /** An envelope from outside the model (the harness): starts a CPU queue. */
  public void inject(String from, String to, Message message) {
    java.util.LinkedHashMap<String, Message> one = new java.util.LinkedHashMap<>();
    one.put(to, message);
    injectAll(from, one);
  }

  /**
   * Envelopes from outside the model, all counted in flight before the first is delivered: otherwise
   * the first queue could finish its whole program, and the run end quiescent, before the next one is
   * started (which a loaded machine makes likely).
   */
  public void injectAll(String from, java.util.LinkedHashMap<String, Message> messages) {
    inFlight.addAndGet(messages.size());
    for (java.util.Map.Entry<String, Message> m : messages.entrySet()) {
      long seq = seqs.computeIfAbsent(from, k -> new AtomicLong()).incrementAndGet();
      deliver(Envelope.sent(new EnvelopeId(from, seq), m.getKey(), m.getValue(), 0, 0, null), 0);
    }
  }

  /** Completes with the run's outcome. */
  public CompletableFuture<RunOutcome> outcome() {
    return outcome;
  }

  /** The envelopes in the order they were stamped, as far as the monitors have seen them (the schedule a replay forces). */
  public List<EnvelopeId> schedule() {
    synchronized (observing) {
      return List.copyOf(schedule);
    }
  }

  @Override
  public void send(String to, Message message, long delay, Envelope cause) {
    send(to, message, delay, cause, 0);
  }

  /** A reorderable envelope leaves a little later (100 us real), so envelopes sent after it on its channel may overtake it. */
  @Override
  public void sendUnordered(String to, Message message, long delay, Envelope cause) {
    send(to, message, delay, cause, 100_000);
  }

  private void send(String to, Message message, long delay, Envelope cause, long extraRealNanos) {
    if (!actors.containsKey(to)) throw new IllegalStateException("no actor named " + to + " (from " + cause.receiver() + ")");
    String from = cause.receiver();
    long seq = seqs.computeIfAbsent(from, k -> new AtomicLong()).incrementAndGet();
    Envelope e = Envelope.sent(new EnvelopeId(from, seq), to, message, cause.deliveredAt(), cause.deliveredAt() + Math.max(0, delay), cause.id());
    inFlight.incrementAndGet();
    deliver(e, (long) (Math.max(0, delay) * timeScale) + extraRealNanos);
  }

  private void deliver(Envelope e, long realNanos) {
    ActorRef<Envelope> ref = actors.get(e.receiver());
    if (realNanos <= 0) ref.tell(e);
    else if (!finished) {
      try {
        timers.schedule(() -> ref.tell(e), realNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.RejectedExecutionException late) {
        // the run ended between the check and the schedule: nothing is delivered any more
      }
    }
  }

  /** Stamps an envelope as its receiver starts handling it: the next step, and virtual time max(now, due). Null once the run is over. */
  @Override
  public Envelope received(Envelope envelope) {
    if (finished) return null;
    synchronized (stamping) {
      step++;
      now = Math.max(now, envelope.notBefore());
      return envelope.deliveredAt(now, step);
    }
  }

  @Override
  public void handled(Envelope envelope, List<? extends Event> events) {
    synchronized (observing) {
      if (finished) return;
      pending.put(envelope.step(), new Report(envelope, List.copyOf(events)));
      while (!finished && pending.containsKey(nextObserved)) {
        Report r = pending.remove(nextObserved);
        schedule.add(r.envelope().id());
        long at = nextObserved++;
        if (observer.onStep(at, r.envelope(), r.events())) {
          finish("stopped", at, "");
        } else if (at >= maxSteps) {
          finish("max-steps", at, "");
        }
      }
      if (inFlight.decrementAndGet() == 0 && !finished) finish("quiescent", nextObserved - 1, "");
    }
  }

  /** A model actor stopped (its journal write failed or was rejected, or it failed outside its logic): the run cannot go on. */
  public void stopped(String actor) {
    synchronized (observing) {
      finish("crashed", nextObserved - 1, "actor stopped: " + actor);
    }
  }

  /** Ends the run if it has not ended (the caller gave up waiting): stops the timers. */
  public void close() {
    synchronized (observing) {
      finish("stopped", nextObserved - 1, "closed");
    }
  }

  @Override
  public void crashed(Envelope envelope, String actor, String reason) {
    synchronized (observing) {
      finish("crashed", nextObserved - 1, actor + " failed handling " + envelope + ": " + reason);
    }
  }

  private void finish(String reason, long steps, String detail) {
    if (finished) return;
    finished = true;
    timers.shutdownNow();
    long virtualNow;
    synchronized (stamping) {
      virtualNow = now;
    }
    outcome.complete(new RunOutcome(reason, steps, virtualNow, (int) Math.min(Integer.MAX_VALUE, Math.max(0, inFlight.get())), 0, detail));
  }
}
