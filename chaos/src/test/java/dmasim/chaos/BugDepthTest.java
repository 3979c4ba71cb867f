package dmasim.chaos;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import dmasim.protocol.Message;
import dmasim.protocol.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongFunction;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The shapes of the PCT paper on plain actors: two threads A and B, each a sequence of operations
 * that a checker acknowledges one at a time. A bug of depth d needs d ordering constraints between
 * their operations. Each strategy must find the depth-1 bug; PCT must find the depth-2 and depth-3
 * bugs in fewer schedules than random walk (fixed seeds: the counts are deterministic).
 */
class BugDepthTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  record Kick() implements Message {}

  record Op(String thread, int index) implements Message {}

  record Ack() implements Message {}

  record BugFound(String trace) implements Event {}

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  static Behavior<Envelope> thread(String name, int ops, Wire wire) {
    return Behaviors.setup(ctx -> {
      int[] next = {1};
      return Behaviors.receiveMessage(env -> {
        if (next[0] <= ops) wire.send("checker", new Op(name, next[0]++), 0, env);
        wire.handled(env, List.of());
        return Behaviors.same();
      });
    });
  }

  static Behavior<Envelope> checker(Predicate<List<String>> bug, Wire wire) {
    return Behaviors.setup(ctx -> {
      List<String> history = new ArrayList<>();
      return Behaviors.receiveMessage(env -> {
        Op op = (Op) env.message();
        history.add(op.thread() + op.index());
        wire.send(op.thread(), new Ack(), 0, env);
        wire.handled(env, bug.test(history) ? List.of(new BugFound(String.join(" ", history))) : List.of());
        return Behaviors.same();
      });
    });
  }

  /** True when the schedule hit the bug. */
  static boolean runOnce(Strategy strategy, int ops, Predicate<List<String>> bug) {
    return runOnce(strategy, ops, bug, List.of("A", "B"));
  }

  static boolean runOnce(Strategy strategy, int ops, Predicate<List<String>> bug, List<String> threads) {
    ActorRef<ControlledScheduler.Command> scheduler =
        testKit.spawn(ControlledScheduler.create(strategy, (step, env, events) -> !events.isEmpty(), 10_000));
    Wire wire = new ControlledWire(scheduler);
    for (String t : threads) scheduler.tell(new ControlledScheduler.Register(t, testKit.spawn(thread(t, ops, wire))));
    scheduler.tell(new ControlledScheduler.Register("checker", testKit.spawn(checker(bug, wire))));
    for (String t : threads) scheduler.tell(new ControlledScheduler.Inject("harness", t, new Kick(), 0));
    TestProbe<RunOutcome> done = testKit.createTestProbe();
    scheduler.tell(new ControlledScheduler.Start(done.getRef()));
    RunOutcome outcome = done.receiveMessage();
    return outcome.reason().equals("stopped");
  }

  /** Schedules until the first that hits the bug (1-based), or budget + 1 when none did. */
  static int schedulesToBug(LongFunction<Strategy> strategies, int budget, int ops, Predicate<List<String>> bug) {
    return schedulesToBug(strategies, budget, ops, bug, List.of("A", "B"));
  }

  static int schedulesToBug(LongFunction<Strategy> strategies, int budget, int ops, Predicate<List<String>> bug, List<String> threads) {
    for (int i = 1; i <= budget; i++) if (runOnce(strategies.apply(1000L + i), ops, bug, threads)) return i;
    return budget + 1;
  }

  /** How many operations of {@code thread} precede the first occurrence of {@code op}, or -1. */
  static int doneBefore(List<String> h, String op, String thread) {
    int n = 0;
    for (String s : h) {
      if (s.equals(op)) return n;
      if (s.startsWith(thread)) n++;
    }
    return -1;
  }

  // depth 1: B1 before A1
  static final Predicate<List<String>> DEPTH1 = h -> h.size() >= 1 && h.contains("B1") && doneBefore(h, "B1", "A") == 0;

  // depth 2: A6 < B1 < A7 (when B starts, A has done exactly 6 operations)
  static final int OPS2 = 12;
  static final Predicate<List<String>> DEPTH2 = h -> h.contains("B1") && doneBefore(h, "B1", "A") == 6;

  // depth 3 (three threads): A4 < B1 and B4 < C1 < B5, C1 < A5 (when C starts, A has done exactly 4 and B exactly 4)
  static final int OPS3 = 6;
  static final Predicate<List<String>> DEPTH3 = h -> h.contains("C1") && doneBefore(h, "B1", "A") == 4 && doneBefore(h, "C1", "A") == 4
      && doneBefore(h, "C1", "B") == 4;

  @Test
  void everyStrategyFindsADepthOneBug() {
    long steps = 2 + 4L * 4;
    assertTrue(schedulesToBug(RandomWalkStrategy::new, 50, 4, DEPTH1) <= 50, "random");
    assertTrue(schedulesToBug(s -> new PctStrategy(s, 1, steps), 50, 4, DEPTH1) <= 50, "pct:1");
    assertTrue(schedulesToBug(s -> new DelayBoundingStrategy(s, 1, steps), 50, 4, DEPTH1) <= 50, "delay:1");
  }

  @Test
  void pctFindsDepthTwoAndThreeBugsInFewerSchedulesThanRandomWalk() {
    int budget = 20_000;
    long k2 = 2 + 4L * OPS2;
    int pct2 = schedulesToBug(s -> new PctStrategy(s, 2, k2), budget, OPS2, DEPTH2);
    // Random walk gets as many schedules as PCT needed, and then some: it only has to do better.
    int random2 = schedulesToBug(RandomWalkStrategy::new, Math.min(budget, 4 * pct2), OPS2, DEPTH2);
    long k3 = 3 + 6L * OPS3;
    List<String> three = List.of("A", "B", "C");
    int pct3 = schedulesToBug(s -> new PctStrategy(s, 3, k3), budget, OPS3, DEPTH3, three);
    int random3 = schedulesToBug(RandomWalkStrategy::new, Math.min(budget, 4 * pct3), OPS3, DEPTH3, three);
    String figures = String.format(Locale.ROOT, "depth 2: pct %d, random %d; depth 3: pct %d, random %d (budget %d)", pct2, random2, pct3,
        random3, budget);
    System.out.println(figures);
    assertTrue(pct2 <= budget && pct2 < random2, figures);
    assertTrue(pct3 <= budget && pct3 < random3, figures);
    assertTrue(schedulesToBug(s -> new PctStrategy(s, 1, k3), 300, OPS3, DEPTH3, three) > 300, "depth 1 cannot reach a depth-3 bug");
  }
}
