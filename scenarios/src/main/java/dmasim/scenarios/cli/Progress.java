package dmasim.scenarios.cli;

import dmasim.protocol.WallClockAllowed;
import java.io.PrintWriter;
import java.util.Locale;

/** A progress bar on the terminal (a line every ten seconds elsewhere) and the wall-clock rates of long work. Display only: nothing in the model reads it. */
@WallClockAllowed
final class Progress {
  private final PrintWriter err;
  private final long total;
  private final boolean tty;
  private final long started = System.nanoTime();
  private long lastDraw;

  private final String unit;
  private final String bad;

  Progress(PrintWriter err, long total) {
    this(err, total, "schedules", "violating");
  }

  /** Progress over {@code total} {@code unit} ("recoveries"), counting the {@code bad} ones ("differing"). */
  Progress(PrintWriter err, long total, String unit, String bad) {
    this.err = err;
    this.total = total;
    this.tty = System.console() != null;
    this.unit = unit;
    this.bad = bad;
  }

  synchronized void update(long done, long violating) {
    long now = System.nanoTime();
    if (!tty) {
      // Not a terminal (CI logs, pipes): a plain line after two seconds, then every ten.
      if (done >= total || now - started < 2_000_000_000L || (lastDraw != 0 && now - lastDraw < 10_000_000_000L)) return;
      lastDraw = now;
      err.printf(Locale.ROOT, "  %d/%d %s, %d %s, %.0f s%n", done, total, unit, violating, bad, (now - started) / 1e9);
      err.flush();
      return;
    }
    if (now - lastDraw < 200_000_000L && done < total) return;
    lastDraw = now;
    int width = 30;
    int filled = (int) (width * done / Math.max(1, total));
    err.printf(Locale.ROOT, "\r[%s%s] %d/%d %s, %d %s", "#".repeat(filled), " ".repeat(width - filled), done, total, unit, violating, bad);
    if (done >= total) err.println();
    err.flush();
  }

  void finish() {
    if (tty) {
      err.print("\r" + " ".repeat(78) + "\r");
      err.flush();
    }
  }

  double seconds() {
    return (System.nanoTime() - started) / 1e9;
  }
}
