package dmasim.scenarios.cli;

import akka.actor.typed.ActorSystem;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.Workbench;
import dmasim.scenarios.journal.JournalFailure;
import dmasim.scenarios.journal.JournalWriter;
import dmasim.scenarios.journal.Recordings;
import java.io.PrintWriter;

/**
 * One actor system with its journal for the length of a command. The journal is opened first, so
 * a journal that cannot be used (locked by another process, corrupt, read-only) is reported in
 * one line before anything runs; while a run is under way the session watches the journal writer
 * (its failure stops the run) and shows progress when the run lasts.
 */
final class Session implements AutoCloseable {
  /** The session of this process, for the signal handler (one command per process). */
  private static volatile Session active;

  private final Workbench bench;
  final Journal journal;
  final ActorSystem<Void> system;
  final Runner runner;
  private final RunProgress progress;
  private final PrintWriter progressErr;

  Session(JournalOptions options, PrintWriter err) {
    this(options, err, false);
  }

  /** {@code readsKeptRuns}: the command only reads kept runs, so a data directory without a journal is a user error (nothing is created). */
  Session(JournalOptions options, PrintWriter err, boolean readsKeptRuns) {
    this(options, err, readsKeptRuns, false);
  }

  /** {@code readOnly}: the command never writes the journal (replay, inspect, runs): the file is opened read-only. */
  Session(JournalOptions options, PrintWriter err, boolean readsKeptRuns, boolean readOnly) {
    this(options, err, readsKeptRuns, readOnly, null);
  }

  /** ... with {@code overlay} over the actor system's configuration (the live wire's threads), or null. */
  Session(JournalOptions options, PrintWriter err, boolean readsKeptRuns, boolean readOnly, com.typesafe.config.Config overlay) {
    this.bench = new Workbench(options.journal(), "dmasim", readsKeptRuns, readOnly, overlay);
    this.journal = bench.journal;
    this.system = bench.system;
    this.runner = bench.runner;
    this.progressErr = err;
    if (journal.durable()) {
      progress = new RunProgress(err, runner, JournalWriter.get(system), journal.kind().equals("h2"));
      runner.watch(progress::tick);
    } else {
      progress = null;
    }
    active = this;
  }

  /** A kept run (its recording) and the scenario it ran (null for an imported kernel trace). */
  record Kept(Recordings.Stored stored, Scenario scenario) {
    dmasim.scenarios.RunRecord record() {
      return stored.record();
    }

    /** The run's steps among those its recording holds: a live run's end where it stopped (as replay takes them). */
    java.util.List<dmasim.scenarios.RecordedStep> schedule(java.util.List<dmasim.scenarios.RecordedStep> recorded) {
      return record().spec().isLive() ? dmasim.scenarios.Replayer.liveSchedule(record(), recorded) : recorded;
    }

    /** An imported kernel trace (dmasim import-trace): judged and drawn, never re-executed. */
    boolean trace() {
      return scenario == null;
    }

    /** Today's monitors over the recorded steps (the trace monitor for an imported trace). */
    java.util.List<dmasim.actors.monitor.Violation> judge(java.util.List<dmasim.scenarios.RecordedStep> steps) {
      return recheck(steps).violations();
    }

    /** The verdict today's monitors give the recorded steps, beside the stored one. */
    dmasim.scenarios.Recheck recheck(java.util.List<dmasim.scenarios.RecordedStep> steps) {
      if (!trace()) return dmasim.scenarios.Recheck.of(scenario, record(), steps);
      var violations = dmasim.scenarios.trace.TraceImport.recheck(steps, record().spec().parameter() == 1);
      return dmasim.scenarios.Recheck.of(record(), violations);
    }
  }

  /** Looks up a kept run in the registry and resolves its scenario (by name, or the file it came from). */
  Kept kept(String runId) {
    Recordings.Stored stored = journal.lookup(runId);
    if (stored.record().scenario().startsWith(dmasim.scenarios.trace.TraceImport.SCENARIO_PREFIX)) return new Kept(stored, null);
    return new Kept(stored, Catalog.resolve(stored.record().scenario()));
  }

  /** {@link #kept}, for a command that re-executes the run's scenario ({@code command}): an imported trace has none. */
  Kept keptToExecute(String runId, String command) {
    Kept k = kept(runId);
    if (k.trace()) {
      throw new dmasim.scenarios.UserError("run " + runId + " is an imported kernel trace: " + command + " needs a model run to re-execute; 'dmasim check "
          + runId + "' judges the trace again and 'dmasim report " + runId + " --perfetto FILE' draws it");
    }
    return k;
  }

  /** Runs {@code s} as `run` does and keeps it (a fresh recording replaces the run's earlier one only when complete). */
  RunReport keep(Scenario s, RunOptions o) {
    String runId = Runner.runId(s, o);
    try {
      return journal.keep(Runner.plan(s, o, runId), journalId -> {
        RunReport r = runner.run(s, o, runId, journalId);
        if (progress != null) progress.drain(r.outcome().steps());
        return r;
      });
    } finally {
      if (progress != null) progress.done();
    }
  }

  /** Runs {@code s} on the live wire, journaled, and keeps it (run id RUN-live: replayed on the controlled wire by its recorded schedule). */
  RunReport keepLive(Scenario s, RunOptions o, Runner.Live live) {
    String runId = journal.unusedRunId(Runner.runId(s, o) + "-live");
    try {
      return journal.keep(dmasim.scenarios.RunRecord.planned(runId, Catalog.ref(s), o, dmasim.chaos.StrategySpec.live(live.threads()), 0, 0, null, 0),
          journalId -> {
            RunReport r = runner.runLive(s, o, runId, live, journal.kind().equals("memory") ? null : journalId, null).report();
            if (progress != null) progress.drain(r.outcome().steps());
            return r;
          });
    } finally {
      if (progress != null) progress.done();
    }
  }

  /**
   * For SIGINT/SIGTERM: flushes what the writer holds, marks the recording under way as failed
   * with {@code why}, and returns one line saying how far it came (null when nothing was recording).
   */
  static String interrupted(String why) {
    Session s = active;
    if (s == null) return null;
    String recording = s.journal.current();
    if (recording == null) return null;
    String progress = s.journal.interrupt(recording, why);
    String run = recording.substring(0, recording.lastIndexOf('~'));
    if (progress.equals("recorded to step 0")) return "recording " + recording + " of run " + run + " was stopped before any step was recorded";
    return "recording " + recording + " of run " + run + " is incomplete (" + progress + (replayable(s) ? "; 'dmasim replay " + recording + "' replays it)" : ")");
  }

  /** An interrupted recording of a model run replays; one of an imported trace has nothing to re-execute (the caller says gc removes it). */
  private static boolean replayable(Session s) {
    dmasim.scenarios.RunRecord plan = s.journal.currentPlan();
    return plan == null || !plan.spec().isTrace();
  }

  @Override
  public void close() {
    if (active == this) active = null;
    bench.close(mb -> {
      progressErr.println("  compacting the journal file (" + mb + " MB) ...");
      progressErr.flush();
    });
  }

  /** Progress of a durable run on stderr after two seconds: a line redrawn on a terminal, else a line then one every ten seconds. */
  @dmasim.protocol.WallClockAllowed
  static final class RunProgress {
    private final PrintWriter err;
    private final Runner runner;
    private final JournalWriter writer;
    /** Whether the journal is a file whose size is worth showing (h2). */
    private final boolean sized;
    private final boolean tty = System.console() != null;
    private long started;
    private long lastLine;
    private long lastStep = -1;

    RunProgress(PrintWriter err, Runner runner, JournalWriter writer, boolean sized) {
      this.err = err;
      this.runner = runner;
      this.writer = writer;
      this.sized = sized;
    }

    /** After the run: waits for the writer, showing how far it is when that takes over two seconds. */
    void drain(long steps) {
      long from = System.nanoTime();
      while (!writer.awaitDurable(250)) {
        long now = System.nanoTime();
        if (now - from < 2_000_000_000L || (!tty && now - lastLine < 10_000_000_000L)) continue;
        lastLine = now;
        String line = String.format(java.util.Locale.ROOT, "  run ended at step %,d; writing the journal: %,d of %,d steps on disk", steps,
            writer.durableSteps(), writer.appendedSteps()) + (sized ? String.format(java.util.Locale.ROOT, ", %,d MB", writer.fileBytes() >> 20) : "");
        show(line);
      }
    }

    /** A progress line: redrawn in place on a terminal, appended elsewhere. */
    private void show(String line) {
      if (tty) err.print("\r" + line + "   ");
      else err.println(line);
      err.flush();
    }

    /** Clears the progress line of a terminal. */
    void done() {
      if (tty && lastStep >= 0 && System.nanoTime() - started >= 2_000_000_000L) {
        err.print("\r" + " ".repeat(78) + "\r");
        err.flush();
      }
      lastStep = -1;
      started = 0;
    }

    void tick() {
      String failure = writer.failure();
      if (failure != null) throw new JournalFailure(failure);
      long now = System.nanoTime();
      long step = runner.liveStep();
      if (step < lastStep || started == 0) {
        started = now;
        lastLine = now;
      }
      lastStep = step;
      if (now - started < 2_000_000_000L || (!tty && lastLine != started && now - lastLine < 10_000_000_000L)) return;
      lastLine = now;
      // A run that writes nothing (a replay, an inspection) has no journal figures to show.
      String line = writer.appendedSteps() == 0
          ? String.format(java.util.Locale.ROOT, "  step %,d, %.0f s", step, (now - started) / 1e9)
          : sized
          ? String.format(java.util.Locale.ROOT, "  step %,d, %,d steps on disk, journal %,d MB, %.0f s", step, writer.durableSteps(),
              writer.fileBytes() >> 20, (now - started) / 1e9)
          : String.format(java.util.Locale.ROOT, "  step %,d, %,d steps on disk, %.0f s", step, writer.durableSteps(), (now - started) / 1e9);
      show(line);
    }
  }
}
