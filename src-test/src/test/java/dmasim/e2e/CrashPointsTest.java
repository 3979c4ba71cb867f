package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.actors.iommu.IommuSettings;
import dmasim.chaos.StrategySpec;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.CrashPoints;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every actor of nvme-iova, crashed at every persist point and recovered from the H2 journal, comes back as the fold of its events. */
class CrashPointsTest {
  @TempDir static Path dir;
  static Journal journal;
  static ActorSystem<Void> system;
  static Runner runner;

  @BeforeAll
  static void start() {
    journal = Journal.h2(dir);
    system = ActorSystem.create(Behaviors.empty(), "crash-points", journal.config());
    journal.prepare(system);
    runner = new Runner(system);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void nvmeIovaStrictAndLazyRecoverAtEveryCrashPoint() {
    Scenario s = Catalog.find("nvme-iova").orElseThrow();
    for (IommuSettings.Mode mode : List.of(IommuSettings.Mode.STRICT, IommuSettings.Mode.LAZY)) {
      RunOptions o = s.defaults().withRequests(4).withMode(mode);
      CrashPoints.Result r = CrashPoints.check(runner, journal, system, s, o, StrategySpec.parse("random"), Runner.scheduleSeed(1, 0),
          "crash-" + mode);
      assertEquals("clean", r.run().verdict());
      assertEquals(List.of(), r.differences(), mode.toString());
      assertEquals(5, r.actors());
      assertEquals(r.run().outcome().steps(), r.points(), "one persist point per step");
      assertEquals(2 * (r.points() + r.actors()), r.recoveries());
    }
  }

  /** A test actor: counts what it handled and what it saw. */
  static final class Tally {
    int handled;
    final java.util.List<String> seen = new java.util.ArrayList<>();
  }

  /** A static the non-deterministic fold reads: a fold that is not a function of its events. */
  static int folds;

  /** Runs {@code kind} journaled over three envelopes, then checks its crash points. */
  static dmasim.actors.monitor.Violation crashTest(dmasim.actors.model.ActorKind<Tally> kind, String runId) {
    CrashPoints.Recorder recorder = new CrashPoints.Recorder();
    dmasim.protocol.Wire quiet = new dmasim.protocol.Wire() {
      @Override
      public void send(String to, dmasim.protocol.Message message, long delay, dmasim.protocol.Envelope cause) {}

      @Override
      public void handled(dmasim.protocol.Envelope envelope, java.util.List<? extends dmasim.protocol.Event> events) {}

      @Override
      public void crashed(dmasim.protocol.Envelope envelope, String actor, String reason) {}
    };
    akka.actor.typed.ActorRef<dmasim.protocol.Envelope> ref = system.systemActorOf(kind.behavior(runId, quiet, recorder), runId,
        akka.actor.typed.Props.empty());
    for (long i = 1; i <= 3; i++) {
      ref.tell(dmasim.protocol.Envelope.sent(new dmasim.protocol.EnvelopeId("harness", i), kind.name(), new dmasim.protocol.CpuCommand.Start(), 0, 0,
          null).deliveredAt(i, i));
    }
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> recorder.count(kind.name()) == 3);
    return CrashPoints.checkActor(system, runId + "|" + kind.name(), kind, recorder);
  }

  @Test
  void aFoldThatIsAFunctionOfItsEventsPasses() {
    dmasim.actors.model.ActorKind<Tally> honest = new dmasim.actors.model.ActorKind<>("honest", Tally::new, (st, env) -> new dmasim.actors.model
        .Decision().emit(new dmasim.protocol.CpuEvent.ProgramStarted("p" + env.step())), (st, e) -> {
          st.handled++;
          st.seen.add(((dmasim.protocol.CpuEvent.ProgramStarted) e).program());
          return st;
        }, st -> st);
    assertEquals(null, crashTest(honest, "honest-run"));
  }

  @Test
  void anActorThatChangesItsStateOutsideItsEventsIsCaught() {
    dmasim.actors.model.ActorKind<Tally> sneaky = new dmasim.actors.model.ActorKind<>("sneaky", Tally::new, (st, env) -> {
      st.handled++; // the decision mutates the state: no event carries it, so a crash loses it
      return new dmasim.actors.model.Decision().emit(new dmasim.protocol.CpuEvent.ProgramStarted("p" + env.step()));
    }, (st, e) -> {
      st.seen.add(((dmasim.protocol.CpuEvent.ProgramStarted) e).program());
      return st;
    }, st -> st);
    dmasim.actors.monitor.Violation v = crashTest(sneaky, "sneaky-run");
    assertTrue(v != null, "caught");
    assertEquals("Recovery RECOVERY @1 [sneaky]", v.monitor() + " " + v.invariant() + " @" + v.step() + " " + v.actors());
    assertTrue(v.message().startsWith("sneaky at its step 1 (global step 1), after the write and before its sends, or before the write of its next"
        + " step: its live state is not the fold of the events it decided, so a crash here loses state the journal never held: fold of its events"
        + " ...Tally{handled=0"), v.message());
  }

  @Test
  void aFoldThatReadsSomethingBesidesItsEventsIsCaught() {
    dmasim.actors.model.ActorKind<Tally> drifting = new dmasim.actors.model.ActorKind<>("drifting", Tally::new, (st, env) -> new dmasim.actors
        .model.Decision().emit(new dmasim.protocol.CpuEvent.ProgramStarted("p" + env.step())), (st, e) -> {
          st.handled = ++folds; // a global counter: every replay of the journal folds to another state
          return st;
        }, st -> st);
    dmasim.actors.monitor.Violation v = crashTest(drifting, "drifting-run");
    assertTrue(v != null, "caught");
    assertEquals("Recovery RECOVERY @1 [drifting]", v.monitor() + " " + v.invariant() + " @" + v.step() + " " + v.actors());
  }
}
