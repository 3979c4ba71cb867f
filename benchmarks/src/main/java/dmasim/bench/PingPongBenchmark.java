package dmasim.bench;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** (a) Raw Akka 2.6 typed ping-pong: round trips per second between two actors, tell-based, on the default dispatcher. */
@State(Scope.Benchmark)
public class PingPongBenchmark {
  static final int ROUND_TRIPS = 100_000;

  record Ping(ActorRef<Pong> replyTo, int left, CountDownLatch done) {}

  record Pong(ActorRef<Ping> from, int left, CountDownLatch done) {}

  ActorSystem<Void> system;
  ActorRef<Ping> ponger;
  ActorRef<Pong> pinger;

  static Behavior<Ping> ponger() {
    return Behaviors.receive((ctx, p) -> {
      p.replyTo().tell(new Pong(ctx.getSelf(), p.left(), p.done()));
      return Behaviors.same();
    });
  }

  static Behavior<Pong> pinger() {
    return Behaviors.receive((ctx, p) -> {
      if (p.left() == 0) p.done().countDown();
      else p.from().tell(new Ping(ctx.getSelf(), p.left() - 1, p.done()));
      return Behaviors.same();
    });
  }

  @Setup(Level.Trial)
  public void start() {
    system = ActorSystem.create(Behaviors.empty(), "pingpong", ConfigFactory.parseString("akka.loglevel = WARNING"));
    ponger = system.systemActorOf(ponger(), "ponger", akka.actor.typed.Props.empty());
    pinger = system.systemActorOf(pinger(), "pinger", akka.actor.typed.Props.empty());
  }

  @TearDown(Level.Trial)
  public void stop() {
    system.terminate();
  }

  @Benchmark
  @OperationsPerInvocation(ROUND_TRIPS)
  public void roundTrips() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    ponger.tell(new Ping(pinger, ROUND_TRIPS - 1, done));
    if (!done.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("ping-pong stalled");
  }
}
