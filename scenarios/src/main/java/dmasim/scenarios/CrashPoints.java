package dmasim.scenarios;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.persistence.AbstractPersistentActor;
import akka.persistence.Recovery;
import akka.persistence.RecoveryCompleted;
import dmasim.actors.model.ActorKind;
import dmasim.actors.model.StateDump;
import dmasim.actors.model.StateProbe;
import dmasim.actors.monitor.Violation;
import dmasim.chaos.StrategySpec;
import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The crash-point check: runs one schedule journaled, recording at every persist point of every
 * actor the events it decided and its state; then crashes each actor at each of those points in the
 * way that matters, by recovering a fresh copy of it from the journal through Akka Persistence (the
 * journal plugin's replay, deserialization, the actor's fold, what a restart loses), and compares.
 *
 * <p>At the persist point of an actor's k-th step there are two crash points: before the write (the
 * journal holds k-1 steps) and after the write, before its sends (it holds k). The first is the same
 * journal prefix as the second point of step k-1, so recovering every prefix 0..n covers both. For
 * each prefix: (1) the actor's live state equals the fold of the events it decided (a state changed
 * outside its events would be lost by a crash); (2) the state recovered from the journal equals that
 * fold after a restart's losses; (3) recovering twice gives the same state (a fold that is not a
 * function of its events). Any difference is a violation of the Recovery monitor.
 */
public final class CrashPoints {
  private CrashPoints() {}

  private static final java.util.concurrent.atomic.AtomicLong COPIES = new java.util.concurrent.atomic.AtomicLong();

  /** What one check found: actors, persist points, recoveries through the journal, and the differences (each a Recovery violation). */
  public record Result(RunReport run, int actors, long points, long recoveries, List<Violation> differences) {}

  /** One persist point: the global step, the events decided, the state right after. */
  private record Point(long step, List<Event> events, String live) {}

  /** Records every persist point, per actor. */
  public static final class Recorder implements StateProbe {
    final Map<String, List<Point>> points = new LinkedHashMap<>();

    /** Persist points recorded for {@code actor}. */
    public synchronized int count(String actor) {
      return points.getOrDefault(actor, List.of()).size();
    }

    @Override
    public synchronized void committed(String actor, Envelope envelope, List<Event> events, Object state) {
      points.computeIfAbsent(actor, k -> new ArrayList<>()).add(new Point(envelope.step(), List.copyOf(events), StateDump.of(state)));
    }
  }

  /** Runs schedule {@code scheduleSeed} of {@code spec}, kept as {@code runId}, and checks every crash point of every actor. */
  public static Result check(Runner runner, Journal journal, ActorSystem<?> system, Scenario scenario, RunOptions o, StrategySpec spec,
      long scheduleSeed, String runId) {
    return check(runner, journal, system, scenario, o, spec, scheduleSeed, runId, null);
  }

  /** ... telling {@code progress} (null: nobody) how many recoveries of how many are done. */
  public static Result check(Runner runner, Journal journal, ActorSystem<?> system, Scenario scenario, RunOptions o, StrategySpec spec,
      long scheduleSeed, String runId, java.util.function.BiConsumer<Long, Long> progress) {
    Recorder recorder = new Recorder();
    String[] journalId = {null};
    RunReport run;
    runner.probe(recorder);
    try {
      run = journal.keep(RunRecord.planned(runId, Catalog.ref(scenario), o, spec, scheduleSeed, 0, null, 0), id -> {
        journalId[0] = id;
        return runner.run(scenario, o, runId, spec, scheduleSeed, 0, null, id, null);
      });
    } finally {
      runner.probe(null);
    }
    List<Violation> differences = new ArrayList<>();
    long points = 0;
    long recoveries = 0;
    List<ActorKind<?>> kinds = scenario.build().apply(o).kinds();
    long total = 0;
    for (ActorKind<?> kind : kinds) total += 2L * (recorder.points.getOrDefault(kind.name(), List.of()).size() + 1);
    for (ActorKind<?> kind : kinds) {
      List<Point> ps = recorder.points.getOrDefault(kind.name(), List.of());
      points += ps.size();
      recoveries += 2L * (ps.size() + 1);
      Violation v = checkActor(system, journalId[0] + "|" + kind.name(), kind, ps);
      if (v != null) differences.add(v);
      if (progress != null) progress.accept(recoveries, total);
    }
    return new Result(run, kinds.size(), points, recoveries, differences);
  }

  /** {@link #checkActor(ActorSystem, String, ActorKind, List)} for the points {@code recorder} holds for the actor. */
  public static <S> Violation checkActor(ActorSystem<?> system, String persistenceId, ActorKind<S> kind, Recorder recorder) {
    List<Point> ps;
    synchronized (recorder) {
      ps = List.copyOf(recorder.points.getOrDefault(kind.name(), List.of()));
    }
    return checkActor(system, persistenceId, kind, ps);
  }

  /** The first crash point of one actor whose recovered state differs, as a Recovery violation, or null. */
  static <S> Violation checkActor(ActorSystem<?> system, String persistenceId, ActorKind<S> kind, List<Point> points) {
    S live = kind.empty().get();
    for (int k = 0; k <= points.size(); k++) {
      long step = k == 0 ? 0 : points.get(k - 1).step();
      String at = k == 0 ? "before its first write" : "at its step " + k + " (global step " + step + "), after the write and before its sends,"
          + " or before the write of its next step";
      if (k > 0) {
        live = kind.foldStep(live, points.get(k - 1).events());
        String d = StateDump.firstDifference(StateDump.of(live), points.get(k - 1).live(), "fold of its events", "live state");
        if (d != null) {
          return violation(kind, step, kind.name() + " " + at + ": its live state is not the fold of the events it decided, so a crash here"
              + " loses state the journal never held: " + d);
        }
      }
      S folded = kind.empty().get();
      for (int i = 0; i < k; i++) folded = kind.foldStep(folded, points.get(i).events());
      String expected = StateDump.of(kind.onRecovered().apply(folded));
      String first = recover(system, persistenceId, kind, k);
      String d = StateDump.firstDifference(first, expected, "recovered from the journal", "fold of its events after a restart");
      if (d != null) return violation(kind, step, kind.name() + " crashed " + at + " recovers a different state: " + d);
      String second = recover(system, persistenceId, kind, k);
      d = StateDump.firstDifference(second, first, "second recovery", "first recovery");
      if (d != null) return violation(kind, step, kind.name() + " crashed " + at + ": recovering twice from the same journal gives two states: " + d);
    }
    return null;
  }

  private static Violation violation(ActorKind<?> kind, long step, String message) {
    return new Violation("Recovery", "RECOVERY", step, 0, List.of(kind.name()), List.of(), message);
  }

  /** The state of a fresh copy of the actor recovered through Akka Persistence from the first {@code steps} rows of its journal, after a restart's losses. */
  static <S> String recover(ActorSystem<?> system, String persistenceId, ActorKind<S> kind, long steps) {
    CompletableFuture<String> recovered = new CompletableFuture<>();
    ((akka.actor.ExtendedActorSystem) Adapter.toClassic(system)).systemActorOf(akka.actor.Props.create(RecoveringCopy.class,
        () -> new RecoveringCopy<>(persistenceId, kind, steps, recovered)), "recovering-copy-" + COPIES.incrementAndGet());
    try {
      return recovered.get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InfrastructureError("interrupted while recovering " + persistenceId, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new InfrastructureError("recovering " + persistenceId + " to step " + steps + " failed: " + e.getMessage(), e);
    }
  }

  /** A copy of a model actor that only recovers (to a sequence number), reports its state, and stops. It never writes. */
  static final class RecoveringCopy<S> extends AbstractPersistentActor {
    private final String persistenceId;
    private final ActorKind<S> kind;
    private final long steps;
    private final CompletableFuture<String> done;
    private S state;

    RecoveringCopy(String persistenceId, ActorKind<S> kind, long steps, CompletableFuture<String> done) {
      this.persistenceId = persistenceId;
      this.kind = kind;
      this.steps = steps;
      this.done = done;
      this.state = kind.empty().get();
    }

    @Override
    public String persistenceId() {
      return persistenceId;
    }

    @Override
    public Recovery recovery() {
      return Recovery.create(steps);
    }

    @Override
    public Receive createReceiveRecover() {
      return receiveBuilder()
          .match(RecoveryCompleted.class, c -> {
            done.complete(StateDump.of(kind.onRecovered().apply(state)));
            getContext().stop(getSelf());
          })
          .match(Event.class, e -> state = kind.foldRow(state, e))
          .build();
    }

    @Override
    public Receive createReceive() {
      return receiveBuilder().build();
    }

    @Override
    public void onRecoveryFailure(Throwable cause, scala.Option<Object> event) {
      done.completeExceptionally(cause);
    }
  }
}
