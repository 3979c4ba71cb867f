package dmasim.scenarios.cli;

import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.Replayer;
import dmasim.scenarios.RunRecord;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.UserError;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** dmasim replay RUN_ID: re-drive a kept run from its journal and compare every step. */
@Command(name = "replay", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim replay nvme-iova-missing-sync-s1-a9ae2333 --step-through"},
    description = "Replay a kept run exactly from its journal; exit 4 at the first divergence.")
final class ReplayCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN_ID")
  String runId;

  @Option(names = "--step-through", description = "print every step with its events")
  boolean stepThrough;

  @Mixin JournalOptions journal;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (Session session = new Session(journal, spec.commandLine().getErr(), true, true)) {
      Session.Kept kept = session.keptToExecute(runId, "replay");
      RunRecord record = kept.record();
      Scenario s = kept.scenario();
      List<RecordedStep> recorded = session.journal.read(session.system, kept.stored());
      if (recorded.isEmpty()) throw new UserError("run " + runId + " is " + kept.stored().status() + " and has no step to replay");
      Replayer.Result r = Replayer.replay(session.runner, s, record, recorded, stepThrough ? out::println : null);
      out.printf(Locale.ROOT, "replay %s (%s, seed %d, %d recorded steps)%n", runId, record.scenario(), record.options().seed(), recorded.size());
      if (!kept.stored().complete()) out.printf(Locale.ROOT, "  %s: replayed up to its last recorded step%n", kept.stored().status());
      if (kept.stored().note() != null) out.printf(Locale.ROOT, "  note: %s%n", kept.stored().note());
      if (!r.identical()) {
        Replayer.Divergence d = r.divergence();
        out.printf(Locale.ROOT, "  DIVERGED at step %d (%s)%n    recorded: %s%n    replayed: %s%n", d.step(), d.actor(), d.expected(), d.got());
        out.flush();
        return Main.DIVERGED;
      }
      out.printf(Locale.ROOT, "  identical: %d steps, same events, verdict %s%n", r.report().outcome().steps(), r.report().verdict());
      if (!r.report().violations().isEmpty()) {
        var v = r.report().violations().get(0);
        // explained as run explains it; after a step-through, which has shown every step, the verdict's line
        if (stepThrough) out.printf(Locale.ROOT, "  %s [%s] at step %d: %s%n", v.monitor(), v.invariant(), v.step(), v.message());
        else Output.violations(out, r.report());
      }
      out.flush();
      return r.report().clean() ? Main.CLEAN : Main.VIOLATION;
    }
  }
}
