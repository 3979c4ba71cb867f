package dmasim.scenarios.cli;

import dmasim.scenarios.Explorer;
import dmasim.scenarios.RunRecord;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.Shrinker;
import dmasim.scenarios.UserError;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** dmasim shrink RUN_ID: a smaller run that breaks the same monitor, kept as a new run. */
@Command(name = "shrink", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim shrink nvme-iova-missing-sync-s1-a9ae2333 --schedules 200"},
    description = "Find a smaller run that breaks the same monitor and keep it.")
final class ShrinkCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN_ID")
  String runId;

  @Option(names = "--schedules", defaultValue = "200", description = "schedules explored per candidate (default ${DEFAULT-VALUE})")
  long schedules;

  @Mixin JournalOptions journal;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (schedules < 1) throw new UserError("--schedules must be at least 1");
    try (Session session = new Session(journal, spec.commandLine().getErr(), true)) {
      Session.Kept kept = session.keptToExecute(runId, "shrink");
      RunRecord record = kept.record();
      if (!kept.stored().complete()) throw new UserError("run " + runId + " is " + kept.stored().status() + "; shrink needs a complete run");
      session.journal.read(session.system, kept.stored()); // a damaged journal is reported before anything is shrunk
      if (record.monitor() == null) throw new UserError("run " + runId + " is " + record.verdict() + ": there is nothing to shrink");
      Scenario s = kept.scenario();
      Shrinker.Result r = new Shrinker(new Explorer(session.runner, session.journal), schedules).shrink(s, record);
      out.printf(Locale.ROOT, "shrink %s (%s, breaks %s): %d candidates tried%n", runId, record.scenario(), record.monitor(), r.candidatesTried());
      out.printf(Locale.ROOT, "  %-14s %10s %10s%n", "", "before", "after");
      out.printf(Locale.ROOT, "  %-14s %10d %10d%n", "CPU queues", r.before().cpus(), r.after().cpus());
      out.printf(Locale.ROOT, "  %-14s %10d %10d%n", "requests/CPU", r.before().requests(), r.after().requests());
      out.printf(Locale.ROOT, "  %-14s %10d %10d%n", "segments", r.before().segments(), r.after().segments());
      out.printf(Locale.ROOT, "  %-14s %10d %10d%n", "steps", r.before().steps(), r.after().steps());
      out.printf(Locale.ROOT, "  %-14s %10d %10d%n", "preemptions", r.before().preemptions(), r.after().preemptions());
      if (r.kept() == null) {
        out.println("  no smaller failing run found; the original is minimal for these measures");
      } else {
        out.printf(Locale.ROOT, "  kept as %s (%s at step %d)%n  replay: ./dmasim replay %s%s%n", r.kept().runId(), r.kept().firstMonitor(),
            r.kept().outcome().steps(), r.kept().runId(), journal.dataDirOption());
      }
      out.flush();
      return Main.VIOLATION;
    }
  }
}
