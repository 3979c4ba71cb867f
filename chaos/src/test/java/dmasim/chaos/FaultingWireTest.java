package dmasim.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.protocol.CpuCommand;
import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import dmasim.protocol.Trigger;
import dmasim.protocol.Wire;
import dmasim.protocol.WireEvent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The faulting wire on a tiny system: what each action does to the envelopes, what plan() journals, and the decisions' independence of the schedule. */
class FaultingWireTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** "a", on its start, sends four Woke(1..4) to "b" (plan first, then sends, as ModelBehavior does); "b" logs what it receives. */
  private static List<String> run(MessageFaults faults, Strategy strategy, List<Event> planned) {
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    ActorRef<ControlledScheduler.Command> scheduler = testKit.spawn(ControlledScheduler.create(strategy, (step, env, events) -> false, 100));
    Wire wire = FaultingWire.around(new ControlledWire(scheduler), faults);
    Behavior<Envelope> a = Behaviors.receiveMessage(env -> {
      List<Wire.Outgoing> out = new ArrayList<>();
      for (long i = 1; i <= 4; i++) out.add(new Wire.Outgoing("b", new CpuCommand.Woke(i), 10));
      planned.addAll(wire.plan("a", out));
      for (Wire.Outgoing o : out) wire.send(o.to(), o.message(), o.delay(), env);
      wire.handled(env, planned);
      return Behaviors.same();
    });
    Behavior<Envelope> b = Behaviors.receiveMessage(env -> {
      log.add(((CpuCommand.Woke) env.message()).sleep() + "@" + env.deliveredAt());
      wire.handled(env, List.of());
      return Behaviors.same();
    });
    scheduler.tell(new ControlledScheduler.Register("a", testKit.spawn(a)));
    scheduler.tell(new ControlledScheduler.Register("b", testKit.spawn(b)));
    scheduler.tell(new ControlledScheduler.Inject("harness", "a", new CpuCommand.Start(), 0));
    TestProbe<RunOutcome> done = testKit.createTestProbe();
    scheduler.tell(new ControlledScheduler.Start(done.getRef()));
    assertEquals("quiescent", done.receiveMessage().reason());
    return new ArrayList<>(log);
  }

  private static MessageFaults plan(MessageFaults.Action action, long nth, MessageFaults.Delay delay) {
    return new MessageFaults(5, List.of(new MessageFaults.Rule(action, "a", "b", "Woke", new Trigger(nth, 0, 0), delay)));
  }

  private static List<String> faulted(List<Event> planned) {
    return planned.stream().map(e -> (WireEvent.MessageFaulted) e).map(m -> m.match() + " " + m.action() + " " + m.delay()).toList();
  }

  @Test
  void withoutAPlanTheWireIsTheInnerWire() {
    List<Event> planned = new ArrayList<>();
    assertEquals(List.of("1@10", "2@10", "3@10", "4@10"), run(MessageFaults.NONE, new FifoStrategy(), planned));
    assertEquals(List.of(), planned);
  }

  @Test
  void eachActionDoesWhatItSaysToTheNthEnvelopeOnly() {
    List<Event> planned = new ArrayList<>();
    assertEquals(List.of("1@10", "3@10", "4@10", "2@510"), run(plan(MessageFaults.Action.DELAY, 2, new MessageFaults.Delay("fixed", 500, 0)),
        new FifoStrategy(), planned));
    assertEquals(List.of("2 delayed 500"), faulted(planned));

    planned.clear();
    assertEquals(List.of("1@10", "2@10", "4@10"), run(plan(MessageFaults.Action.DROP, 3, null), new FifoStrategy(), planned));
    assertEquals(List.of("3 dropped 0"), faulted(planned));

    planned.clear();
    assertEquals(List.of("1@10", "1@10", "2@10", "3@10", "4@10"), run(plan(MessageFaults.Action.DUPLICATE, 1, null), new FifoStrategy(), planned));
    assertEquals(List.of("1 duplicated 0"), faulted(planned));
  }

  /** A reordered envelope is enabled beside its channel's head: a strategy that always takes the last enabled envelope delivers it first. */
  @Test
  void aReorderedEnvelopeMayOvertakeItsChannel() {
    Strategy last = new Strategy() {
      @Override
      public int choose(List<Envelope> enabled, long step) {
        return enabled.size() - 1;
      }

      @Override
      public String name() {
        return "last";
      }
    };
    List<Event> planned = new ArrayList<>();
    assertEquals(List.of("1@10", "2@10", "3@10", "4@10"), run(MessageFaults.NONE, last, planned), "in order without the plan");
    assertEquals(List.of("3@10", "1@10", "2@10", "4@10"), run(plan(MessageFaults.Action.REORDER, 3, null), last, planned));
    assertEquals(List.of("3 reordered 0"), faulted(planned));
  }

  @Test
  void drawnDelaysStayInTheirRangeAndDependOnlyOnSeedSenderAndMatch() {
    MessageFaults.Rule rule = new MessageFaults.Rule(MessageFaults.Action.DELAY, null, null, null, new Trigger(0, 1, 0),
        new MessageFaults.Delay("uniform", 1000, 3000));
    MessageFaults f = new MessageFaults(9, List.of(rule));
    long[] counts = new long[1];
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < 200; i++) delays.add(f.decide("dev0", "cpu0", "Completed", counts).delay());
    assertEquals(200, counts[0]);
    for (long d : delays) assertEquals(true, d >= 1000 && d <= 3000, "delay " + d);
    assertEquals(true, delays.stream().distinct().count() > 100, "draws spread over the range");
    long[] again = new long[1];
    for (int i = 0; i < 200; i++) assertEquals(delays.get(i), f.decide("dev0", "iommu0", "Translate", again).delay(), "same sender, same match");
    long[] other = new long[1];
    List<Long> otherSender = new ArrayList<>();
    for (int i = 0; i < 200; i++) otherSender.add(f.decide("dev1", "cpu0", "Completed", other).delay());
    assertEquals(false, otherSender.equals(delays));
  }

  @Test
  void rulesNeedExactlyOneTriggerAndADelayToDelay() {
    assertThrows(IllegalArgumentException.class, () -> new Trigger(1, 2, 0));
    assertThrows(IllegalArgumentException.class, () -> new Trigger(0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new MessageFaults.Rule(MessageFaults.Action.DELAY, null, null, null, new Trigger(1, 0, 0), null));
    assertThrows(IllegalArgumentException.class, () -> new MessageFaults.Delay("uniform", 5, 1));
  }
}
