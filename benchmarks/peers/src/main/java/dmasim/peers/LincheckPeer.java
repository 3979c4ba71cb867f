package dmasim.peers;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.Lincheck;

/**
 * Runs {@link SyncMapRace} under Lincheck's model checker for general concurrent code
 * ({@code Lincheck.runConcurrentTest}) and prints one {@code RESULT} line.
 *
 * <p>Usage: {@code LincheckPeer bug|rate SCHEDULES}. {@code bug} runs the buggy variant with at most
 * SCHEDULES invocations and reports the 1-based index of the first failing one; {@code rate} runs
 * SCHEDULES invocations of the fixed variant and reports invocations/s. Lincheck takes no seed: its
 * model checker enumerates interleavings in its own deterministic order.
 */
public final class LincheckPeer {
  private LincheckPeer() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: LincheckPeer bug|rate SCHEDULES");
      System.exit(2);
    }
    boolean bug = args[0].equals("bug");
    int schedules = Integer.parseInt(args[1]);
    PrintStream out = System.out;
    // Lincheck restores static fields and plain objects after each invocation: count in atomics it leaves alone.
    AtomicInteger executed = new AtomicInteger();
    AtomicInteger firstFailing = new AtomicInteger();
    long start = System.nanoTime();
    Throwable failure = null;
    try {
      Lincheck.runConcurrentTest(schedules, () -> {
        int index = executed.incrementAndGet();
        try {
          SyncMapRace.runOnce(bug);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        } catch (AssertionError e) {
          firstFailing.compareAndSet(0, index);
          throw e;
        }
      });
    } catch (Throwable t) {
      failure = t;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    int run = firstFailing.get() > 0 ? firstFailing.get() : executed.get();
    String first = failure == null ? "-" : failure.toString().lines().findFirst().orElse("?").replace(' ', '_');
    out.println(String.format(Locale.ROOT,
        "RESULT tool=lincheck mode=%s strategy=model-checking seed=- schedules=%d invocations=%d found=%b seconds=%.3f schedulesPerSecond=%.1f failure=%s",
        args[0], run, executed.get(), failure != null, seconds, executed.get() / seconds, first));
    if (failure != null && !bug) {
      failure.printStackTrace();
    }
    out.flush();
    System.exit(0);
  }
}
