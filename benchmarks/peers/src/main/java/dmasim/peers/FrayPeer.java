package dmasim.peers;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Locale;
import java.util.Random;
import kotlin.Unit;
import org.pastalab.fray.core.TestRunner;
import org.pastalab.fray.core.command.Configuration;
import org.pastalab.fray.core.command.ExecutionInfo;
import org.pastalab.fray.core.command.LambdaExecutor;
import org.pastalab.fray.core.command.NetworkDelegateType;
import org.pastalab.fray.core.command.SystemTimeDelegateType;
import org.pastalab.fray.core.observers.TimelineCoverageType;
import org.pastalab.fray.core.randomness.ControlledRandom;
import org.pastalab.fray.core.randomness.Randomness;
import org.pastalab.fray.core.randomness.RandomnessProvider;
import org.pastalab.fray.core.scheduler.PCTScheduler;
import org.pastalab.fray.core.scheduler.POSScheduler;
import org.pastalab.fray.core.scheduler.RandomScheduler;
import org.pastalab.fray.core.scheduler.Scheduler;

/**
 * Runs {@link SyncMapRace} under Fray 0.9.2 (its core API, as its JUnit launcher does) and prints
 * one {@code RESULT} line.
 *
 * <p>Usage: {@code FrayPeer bug|rate|rate-buggy random|pct:D|pos SEED SCHEDULES REPORT_DIR}.
 * {@code bug} runs the buggy variant until the first failing schedule (at most SCHEDULES) and
 * reports its 1-based index; {@code rate} runs SCHEDULES schedules of the fixed variant (no failure,
 * every schedule whole) and reports schedules/s over the exploration; {@code rate-buggy} does the
 * same on the buggy variant, going on after each failure (Fray's explore mode, which writes a
 * recording of each failing schedule to REPORT_DIR). Must run on Fray's instrumented JDK with its
 * agent and JVMTI library (see {@code run}).
 *
 * <p>Determinism: Fray 0.9.2 draws its scheduling choices from a {@link RandomnessProvider} that
 * is unseeded by default (a fresh {@code java.util.Random} per schedule). This harness hands it one
 * {@code Random(SEED)} shared by every schedule, and runs the race twice uncontrolled first so that
 * class initialisation (which takes locks and would add scheduling points to the first controlled
 * schedule only) is done before Fray takes over: the same seed then gives the same schedules.
 */
public final class FrayPeer {
  private FrayPeer() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: FrayPeer bug|rate|rate-buggy random|pct:D|pos SEED SCHEDULES REPORT_DIR");
      System.exit(2);
    }
    boolean bug = !args[0].equals("rate");
    boolean explore = args[0].equals("rate-buggy");
    String strategy = args[1];
    long seed = Long.parseLong(args[2]);
    int schedules = Integer.parseInt(args[3]);
    Path report = Path.of(args[4]);
    Files.createDirectories(report);
    PrintStream out = System.out;

    for (int i = 0; i < 2; i++) {
      SyncMapRace.runOnce(false);
    }

    Random random = new Random(seed);
    RandomnessProvider provider = () -> new ControlledRandom(new ArrayList<>(), new ArrayList<>(), random);
    Scheduler scheduler = scheduler(strategy, provider.getRandomness());
    int[] executed = {0};
    LambdaExecutor body = new LambdaExecutor(() -> {
      executed[0]++;
      try {
        SyncMapRace.runOnce(bug);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return Unit.INSTANCE;
    });
    Configuration config = new Configuration(
        new ExecutionInfo(body, false, false, -1),
        report,
        schedules,
        3600,
        scheduler,
        provider,
        true, // fullSchedule
        explore, // exploreMode: go on after a failure (rate-buggy), else stop at the first
        true, // noExitWhenBugFound: return it instead of System.exit
        false, // isReplay
        false, // noFray
        false, // dummyRun: warmed up above, with no randomness drawn
        NetworkDelegateType.NONE,
        SystemTimeDelegateType.NONE,
        100_000L,
        true, // ignoreTimedBlock
        false, // sleepAsYield
        false, // resetClassLoader
        true, // redirectStdout: Fray's progress screen goes to REPORT_DIR/stdout.txt
        false, // abortThreadExecutionAfterMainExit
        false, // resolveRacingOperationStackTraceHash
        TimelineCoverageType.NONE);
    long start = System.nanoTime();
    Throwable failure = new TestRunner(config).run();
    double seconds = (System.nanoTime() - start) / 1e9;
    int run = executed[0];
    out.println(String.format(Locale.ROOT,
        "RESULT tool=fray mode=%s strategy=%s seed=%d schedules=%d found=%b seconds=%.3f schedulesPerSecond=%.1f failure=%s",
        args[0], strategy, seed, run, failure != null, seconds, run / seconds,
        failure == null ? "-" : failure.toString().replace(' ', '_')));
    out.flush();
    System.exit(0);
  }

  private static Scheduler scheduler(String strategy, Randomness randomness) {
    if (strategy.equals("random")) {
      return new RandomScheduler(randomness);
    }
    if (strategy.equals("pos")) {
      return new POSScheduler(randomness);
    }
    if (strategy.startsWith("pct:")) {
      // PCT's depth d has d - 1 priority change points; Fray's third argument bounds the steps it draws them from.
      return new PCTScheduler(randomness, Integer.parseInt(strategy.substring(4)) - 1, 0);
    }
    throw new IllegalArgumentException("strategy: random, pct:D or pos, not " + strategy);
  }
}
