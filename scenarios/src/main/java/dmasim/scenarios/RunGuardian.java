package dmasim.scenarios;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.actors.cpu.CpuQueue;
import dmasim.actors.device.Device;
import dmasim.actors.device.DeviceSettings;
import dmasim.actors.iommu.IommuUnit;
import dmasim.actors.memory.Memory;
import dmasim.actors.model.Names;
import dmasim.chaos.ControlledScheduler;
import dmasim.chaos.ControlledWire;
import dmasim.chaos.FaultingWire;
import dmasim.chaos.RunOutcome;
import dmasim.chaos.StepObserver;
import dmasim.chaos.Strategy;
import dmasim.protocol.CpuCommand;
import dmasim.protocol.Envelope;
import dmasim.protocol.Wire;

/**
 * The one actor that wires a run: spawns the controlled scheduler and every model actor as its
 * children, registers them, injects the harness envelopes, and stops them all when told to.
 */
public final class RunGuardian {
  /** The guardian's protocol. */
  public sealed interface Command {}

  /** Run until the scheduler reports the outcome. */
  public record Begin(ActorRef<RunOutcome> replyTo) implements Command {}

  /** Stop every actor of the run; acknowledged before stopping. */
  public record Stop(ActorRef<Boolean> replyTo) implements Command {}

  private RunGuardian() {}

  /** {@code runId} null: volatile actors (exploration in memory); else every actor journals under it. */
  public static Behavior<Command> create(String runId, SystemSpec spec, Strategy strategy, StepObserver observer, long maxSteps) {
    return Behaviors.setup(ctx -> {
      // Children inherit nothing by default: pin them to the guardian's dispatcher explicitly.
      akka.actor.typed.Props same = akka.actor.typed.DispatcherSelector.sameAsParent();
      ActorRef<ControlledScheduler.Command> scheduler = ctx.spawn(ControlledScheduler.create(strategy, observer, maxSteps), "scheduler", same);
      Wire wire = FaultingWire.around(new ControlledWire(scheduler), spec.messageFaults());
      register(ctx.spawn(IommuUnit.create(runId, spec.iommu(), wire), Names.IOMMU, same), Names.IOMMU, scheduler);
      register(ctx.spawn(Memory.create(runId, spec.memoryPages(), spec.iommu().regions(), spec.iommu().faults(),
          spec.iommu().faultSeed(), wire), Names.MEMORY, same), Names.MEMORY, scheduler);
      for (DeviceSettings d : spec.devices()) {
        String name = Names.device(d.id());
        register(ctx.spawn(Device.create(runId, d, wire), name, same), name, scheduler);
      }
      for (int c = 0; c < spec.programs().size(); c++) {
        register(ctx.spawn(CpuQueue.create(runId, c, spec.programs().get(c), wire), Names.cpu(c), same), Names.cpu(c), scheduler);
        scheduler.tell(new ControlledScheduler.Inject(Names.HARNESS, Names.cpu(c), new CpuCommand.Start(), 0));
      }
      return Behaviors.receive(Command.class)
          .onMessage(Begin.class, b -> {
            scheduler.tell(new ControlledScheduler.Start(b.replyTo()));
            return Behaviors.same();
          })
          .onMessage(Stop.class, s -> {
            s.replyTo().tell(true);
            return Behaviors.stopped();
          })
          .build();
    });
  }

  private static void register(ActorRef<Envelope> ref, String name, ActorRef<ControlledScheduler.Command> scheduler) {
    scheduler.tell(new ControlledScheduler.Register(name, ref));
  }
}
