package dmasim.scenarios.cli;

import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.Recheck;
import dmasim.scenarios.UserError;
import dmasim.scenarios.journal.Recordings;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** dmasim check RUN_ID | --all: today's monitors over stored journals, without re-executing. */
@Command(name = "check", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim check --all"},
    description = "Judge kept runs again with today's monitors, from their journals (no re-execution); exit 1 when a verdict changed.")
final class CheckCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "RUN_ID", description = "a kept run (or use --all)")
  String runId;

  @Option(names = "--all", description = "every kept run of the journal")
  boolean all;

  @Mixin JournalOptions journal;

  @Override
  public Integer call() {
    if ((runId == null) == !all) throw new UserError("give a RUN_ID or --all (not both)");
    PrintWriter out = spec.commandLine().getOut();
    try (Session session = new Session(journal, spec.commandLine().getErr(), true, true)) {
      List<String> ids = new ArrayList<>();
      if (all) {
        for (Recordings.Stored s : session.journal.list()) if (s.complete()) ids.add(s.record().runId());
      } else {
        ids.add(runId);
      }
      int changed = 0;
      int skipped = 0;
      for (String id : ids) {
        Session.Kept kept;
        try {
          kept = session.kept(id);
        } catch (UserError e) {
          if (!all) throw e;
          out.printf(Locale.ROOT, "%-56s skipped: %s%n", id, e.getMessage()); // a scenario file that moved or changed shape
          skipped++;
          continue;
        }
        if (!kept.stored().complete()) throw new UserError("run " + id + " is " + kept.stored().status() + ": only a kept run can be judged again");
        if (!dmasim.scenarios.Journal.VERSION.equals(kept.stored().version())) {
          String why = "kept by " + kept.stored().version() + ", whose model's events this " + dmasim.scenarios.Journal.VERSION + " does not judge; run "
              + "its command again to record it with this model";
          if (!all) throw new UserError("run " + id + " was " + why);
          out.printf(Locale.ROOT, "%-56s skipped: %s%n", id, why);
          skipped++;
          continue;
        }
        List<RecordedStep> steps = kept.schedule(session.journal.read(session.system, kept.stored()));
        Recheck r;
        try {
          r = kept.recheck(steps);
        } catch (RuntimeException e) {
          if (e instanceof UserError) throw e;
          throw new dmasim.scenarios.InfrastructureError("run " + id + " could not be judged again: " + e, e);
        }
        if (r.changed()) changed++;
        out.printf(Locale.ROOT, "%-56s stored %s, now %s%s%n", id, verdict(r.storedVerdict(), r.storedMonitor()), verdict(r.verdict(), r.monitor()),
            r.changed() ? "   CHANGED" : "");
        if (r.changed() && !r.violations().isEmpty()) {
          var v = r.violations().get(0);
          out.printf(Locale.ROOT, "    %s [%s] at step %d: %s%n", v.monitor(), v.invariant(), v.step(), v.message());
        }
      }
      out.printf(Locale.ROOT, "%d run(s) judged again, %d verdict(s) changed%s%n", ids.size() - skipped, changed, skipped == 0 ? "" : ", " + skipped
          + " skipped");
      out.flush();
      return changed == 0 ? Main.CLEAN : Main.VIOLATION;
    }
  }

  private static String verdict(String verdict, String monitor) {
    return verdict + (monitor == null ? "" : " (" + monitor + ")");
  }
}
