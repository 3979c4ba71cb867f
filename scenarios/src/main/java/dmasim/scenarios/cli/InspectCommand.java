package dmasim.scenarios.cli;

import dmasim.scenarios.Inspector;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.RunRecord;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.UserError;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** dmasim inspect RUN_ID --step N: actor states folded from the journal, and what was in flight. */
@Command(name = "inspect", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim inspect nvme-iova-missing-sync-s1-a9ae2333 --step 30 --actor iommu0"},
    description = "Show every actor's state after step N of a kept run, folded from its journal (no re-execution).")
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN_ID")
  String runId;

  @Option(names = "--step", required = true, paramLabel = "N", description = "the step to stop after (0 = before the first)")
  long step;

  @Option(names = "--actor", paramLabel = "NAME", description = "show only this actor, with its last events")
  String actor;

  @Mixin JournalOptions journal;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (step < 0) throw new UserError("--step must not be negative");
    try (Session session = new Session(journal, spec.commandLine().getErr(), true, true)) {
      Session.Kept kept = session.keptToExecute(runId, "inspect");
      RunRecord record = kept.record();
      Scenario s = kept.scenario();
      List<RecordedStep> recorded = session.journal.read(session.system, kept.stored());
      if (!kept.stored().complete()) out.printf(Locale.ROOT, "run %s is %s%n", runId, kept.stored().status());
      if (step > recorded.size()) throw new UserError("run " + runId + " has " + recorded.size() + " steps; --step " + step + " is beyond it");
      Inspector.Snapshot snap = Inspector.inspect(s.build().apply(record.options()), recorded, step, 8);
      if (actor != null && !snap.actors().containsKey(actor)) {
        throw new UserError("no actor '" + actor + "' in run " + runId + " (actors: " + String.join(", ", snap.actors().keySet()) + ")");
      }
      out.printf(Locale.ROOT, "run %s after step %d of %d (virtual time %s)%n", runId, step, recorded.size(), Output.time(snap.time()));
      for (Map.Entry<String, List<String>> a : snap.actors().entrySet()) {
        if (actor != null && !actor.equals(a.getKey())) continue;
        out.println("  " + a.getKey());
        for (String line : a.getValue()) out.println("    " + line);
        if (actor != null) {
          out.println("    last events:");
          for (String e : snap.lastEvents().getOrDefault(actor, List.of())) out.println("      " + e);
        }
      }
      out.printf(Locale.ROOT, "  in flight after step %d: %d envelope(s)%s%n", step, snap.inFlight().size(),
          step >= recorded.size() ? " (the journal holds handled envelopes only: what was still in flight when the run ended,"
              + " stopped or was interrupted is not listed)" : "");
      for (Inspector.InFlight f : snap.inFlight()) {
        if (actor == null || actor.equals(f.receiver())) {
          out.printf(Locale.ROOT, "    %s -> %s %s (delivered at step %d)%n", f.id(), f.receiver(), f.type(), f.deliveredAtStep());
        }
      }
      out.flush();
      return Main.CLEAN;
    }
  }
}
