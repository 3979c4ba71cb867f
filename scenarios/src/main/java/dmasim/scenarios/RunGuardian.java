package dmasim.scenarios;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.actors.model.Names;
import dmasim.chaos.ControlledScheduler;
import dmasim.chaos.ControlledWire;
import dmasim.chaos.FaultingWire;
import dmasim.chaos.LiveWire;
import dmasim.chaos.RunOutcome;
import dmasim.chaos.StepObserver;
import dmasim.chaos.Strategy;
import dmasim.protocol.CpuCommand;
import dmasim.protocol.Envelope;
import dmasim.protocol.Wire;

/**
 * The one actor that wires a run: spawns the controlled scheduler (or sets up the live wire) and
 * every model actor as its children, registers them, injects the harness envelopes, and stops them
 * all when told to.
 */
public final class RunGuardian {
  /** The guardian's protocol. */
  public sealed interface Command {}

  /** Run until the scheduler reports the outcome. */
  public record Begin(ActorRef<RunOutcome> replyTo) implements Command {}

  /** Stop every actor of the run; acknowledged before stopping. */
  public record Stop(ActorRef<Boolean> replyTo) implements Command {}

  /** Run one more schedule on the kept actors (see {@link #createReusable}); {@code done} completes with its outcome. */
  public record Rerun(Strategy strategy, StepObserver observer, long maxSteps, boolean anyOrder,
      java.util.concurrent.CompletableFuture<RunOutcome> done) implements Command {}

  private RunGuardian() {}

  /**
   * A run on the controlled wire. {@code runId} null: volatile actors (exploration in memory); else
   * every actor journals under it, through {@code tap} when it is not null, else through Akka
   * Persistence. {@code anyOrder}: the replay of a live run's schedule.
   */
  public static Behavior<Command> create(String runId, SystemSpec spec, Strategy strategy, StepObserver observer, long maxSteps, boolean anyOrder,
      dmasim.actors.model.StateProbe probe, dmasim.actors.model.JournalTap tap) {
    return Behaviors.setup(ctx -> {
      // Children inherit nothing by default: pin them to the guardian's dispatcher explicitly.
      akka.actor.typed.Props same = akka.actor.typed.DispatcherSelector.sameAsParent();
      ActorRef<ControlledScheduler.Command> scheduler = ctx.spawn(ControlledScheduler.create(strategy, observer, maxSteps, anyOrder), "scheduler",
          same);
      Wire wire = FaultingWire.around(new ControlledWire(scheduler), spec.messageFaults());
      // journaled through the writer directly when there is a tap: the same rows, without Akka Persistence's round trip per step
      spawnModel(ctx, spec, same, (name, ref) -> scheduler.tell(new ControlledScheduler.Register(name, ref)),
          kind -> runId != null && tap != null ? kind.tapped(runId, wire, tap) : kind.behavior(runId, wire, probe));
      for (ControlledScheduler.Inject start : starts(spec)) scheduler.tell(start);
      return Behaviors.receive(Command.class)
          .onMessage(Begin.class, b -> {
            scheduler.tell(new ControlledScheduler.Start(b.replyTo()));
            return Behaviors.same();
          })
          .onMessage(Stop.class, RunGuardian::stop)
          .build();
    });
  }

  /**
   * Volatile actors of {@code spec} on the controlled wire, kept for one schedule after another
   * ({@link Rerun}): an exploration worker's actors are spawned once, not once per schedule. Each
   * schedule starts from the actors' empty states and an empty scheduler, exactly as a fresh run.
   * Not for fault plans on messages (their wire counts sends across the run).
   */
  public static Behavior<Command> createReusable(SystemSpec spec) {
    if (!spec.messageFaults().isEmpty()) throw new IllegalArgumentException("a fault plan's wire is not reusable");
    return Behaviors.setup(ctx -> {
      akka.actor.typed.Props same = akka.actor.typed.DispatcherSelector.sameAsParent();
      ActorRef<ControlledScheduler.Command> scheduler = ctx.spawn(ControlledScheduler.create(null, null, 0, false), "scheduler", same);
      Wire wire = new ControlledWire(scheduler);
      spawnModel(ctx, spec, same, (name, ref) -> scheduler.tell(new ControlledScheduler.Register(name, ref)), kind -> kind.behavior(null, wire, null));
      java.util.List<ControlledScheduler.Inject> starts = starts(spec);
      return Behaviors.receive(Command.class)
          .onMessage(Rerun.class, r -> {
            scheduler.tell(new ControlledScheduler.Rerun(r.strategy(), r.observer(), r.maxSteps(), r.anyOrder(), starts, r.done()));
            return Behaviors.same();
          })
          .onMessage(Stop.class, RunGuardian::stop)
          .build();
    });
  }

  /** A run on the live wire: the model actors on the guardian's (live) dispatcher, started when told to begin. */
  public static Behavior<Command> createLive(String runId, SystemSpec spec, LiveWire live, dmasim.actors.model.JournalTap tap) {
    return Behaviors.setup(ctx -> {
      akka.actor.typed.Props same = akka.actor.typed.DispatcherSelector.sameAsParent();
      Wire wire = FaultingWire.around(live, spec.messageFaults());
      java.util.function.BiConsumer<String, ActorRef<Envelope>> register = (name, ref) -> {
        live.register(name, ref);
        ctx.watch(ref); // an actor that stops (a failed journal write) ends the run, as the controlled scheduler's watch does
      };
      // journaled through the writer directly when there is a tap: the same rows, without a persist round trip per step
      spawnModel(ctx, spec, same, register, kind -> runId != null && tap != null ? kind.tapped(runId, wire, tap) : kind.behavior(runId, wire, null));
      return Behaviors.receive(Command.class)
          .onMessage(Begin.class, b -> {
            java.util.LinkedHashMap<String, dmasim.protocol.Message> starts = new java.util.LinkedHashMap<>();
            for (int c = 0; c < spec.programs().size(); c++) starts.put(Names.cpu(c), new CpuCommand.Start());
            live.injectAll(Names.HARNESS, starts); // every queue counted in flight before the first starts
            return Behaviors.same();
          })
          .onMessage(Stop.class, RunGuardian::stop)
          .onSignal(akka.actor.typed.Terminated.class, t -> {
            live.stopped(t.getRef().path().name());
            return Behaviors.same();
          })
          .build();
    });
  }

  /** The harness's start of every CPU queue, as each run of {@code spec} begins. */
  private static java.util.List<ControlledScheduler.Inject> starts(SystemSpec spec) {
    java.util.List<ControlledScheduler.Inject> out = new java.util.ArrayList<>();
    for (int c = 0; c < spec.programs().size(); c++) out.add(new ControlledScheduler.Inject(Names.HARNESS, Names.cpu(c), new CpuCommand.Start(), 0));
    return out;
  }

  private static Behavior<Command> stop(Stop s) {
    s.replyTo().tell(true);
    return Behaviors.stopped();
  }

  /** Spawns every model actor of {@code spec} with the behaviour {@code behavior} gives its kind, and hands each (name, ref) to {@code register}. */
  private static void spawnModel(akka.actor.typed.javadsl.ActorContext<Command> ctx, SystemSpec spec, akka.actor.typed.Props props,
      java.util.function.BiConsumer<String, ActorRef<Envelope>> register,
      java.util.function.Function<dmasim.actors.model.ActorKind<?>, Behavior<Envelope>> behavior) {
    for (dmasim.actors.model.ActorKind<?> kind : spec.kinds()) register.accept(kind.name(), ctx.spawn(behavior.apply(kind), kind.name(), props));
  }
}
