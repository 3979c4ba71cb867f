package dmasim.scenarios.cli;

import dmasim.scenarios.InfrastructureError;
import dmasim.scenarios.UserError;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The dmasim command line. Exit codes: 0 no violation, 1 violation found, 2 bad input (one line,
 * no stack trace), 3 infrastructure failure, 4 replay diverged (later).
 */
@Command(name = "dmasim", mixinStandardHelpOptions = true, version = "dmasim 0.1.0",
    description = "Explore races in Linux DMA / IOMMU code with a deterministic actor model.",
    subcommands = {ScenariosCommand.class, RunCommand.class, ExploreCommand.class, ReplayCommand.class, InspectCommand.class,
        ShrinkCommand.class, CatalogCommand.class, RunsCommand.class, CheckCommand.class, ReportCommand.class, ImportTraceCommand.class, GcCommand.class, DemoCommand.class, CommandLine.HelpCommand.class},
    footer = {"", "Example:", "  dmasim run nvme-iova-missing-sync --seed 1", "", "'dmasim help COMMAND' or 'dmasim COMMAND --help' prints a command's usage."})
public final class Main implements Runnable {
  public static final int CLEAN = 0;
  public static final int VIOLATION = 1;
  public static final int BAD_INPUT = 2;
  public static final int INFRASTRUCTURE = 3;
  public static final int DIVERGED = 4;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (scenarios, run, explore, replay, inspect, shrink, catalog, runs, gc, demo, help)");
  }

  public static void main(String[] args) {
    PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, java.nio.charset.StandardCharsets.UTF_8), true);
    onSignal("INT", 130, err);
    onSignal("TERM", 143, err);
    int code = execute(args, new PrintWriter(new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8), true), err);
    awaitHaltIfInterrupted();
    System.exit(code);
  }

  /**
   * Ctrl-C or a kill: the run under way is flushed as far as the writer gets within three
   * seconds, marked failed in the registry ("interrupted by SIGINT"), one line says how far it
   * came, and the process exits 128 + the signal number without a trace.
   */
  @SuppressWarnings("sunapi")
  private static void onSignal(String name, int code, PrintWriter err) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
        interrupting = true;
        String[] line = {null};
        Thread t = new Thread(() -> line[0] = Session.interrupted("interrupted by SIG" + name), "dmasim-interrupted");
        t.setDaemon(true);
        t.start();
        try {
          t.join(10_000); // the writer's last batch (at most 3 s) and the registry's transaction, on a loaded machine too
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        err.print("dmasim: interrupted (SIG" + name + ")" + (line[0] == null ? "" : ": " + line[0] + "; 'dmasim gc' removes it") + "\n");
        err.flush();
        Runtime.getRuntime().halt(code);
      });
    } catch (IllegalArgumentException e) {
      // this platform does not deliver the signal: the JVM's default applies
    }
  }

  /** Set when SIGINT/SIGTERM arrived: the handler reports and halts; the command's own failure (its journal was shut) stays silent. */
  private static volatile boolean interrupting;

  /** Once a signal is being handled, the main thread waits for the handler to halt the process. */
  private static void awaitHaltIfInterrupted() {
    while (interrupting) {
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Runs the command line with the given streams; returns the exit code. */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(out);
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler((ex, a) -> {
      err.println("dmasim: " + ex.getMessage() + " (see 'dmasim --help')");
      return BAD_INPUT;
    });
    cl.setExecutionExceptionHandler((ex, line, parsed) -> {
      awaitHaltIfInterrupted();
      if (ex instanceof UserError) {
        err.println("dmasim: " + ex.getMessage());
        return BAD_INPUT;
      }
      if (ex instanceof dmasim.scenarios.RecordedByAnotherModel) {
        err.println("dmasim: DIVERGED: " + ex.getMessage());
        return DIVERGED;
      }
      if (ex instanceof InfrastructureError) {
        err.println("dmasim: infrastructure failure: " + ex.getMessage());
        return INFRASTRUCTURE;
      }
      err.println("dmasim: internal failure: " + ex);
      if (System.getenv("DMASIM_DEBUG") != null) ex.printStackTrace(err);
      return INFRASTRUCTURE;
    });
    return cl.execute(args);
  }
}
