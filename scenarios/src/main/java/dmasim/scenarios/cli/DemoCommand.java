package dmasim.scenarios.cli;

import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.monitor.Violation;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** dmasim demo: strict vs lazy nvme-iova, then a buggy driver caught, all journaled on the embedded journal. */
@Command(name = "demo", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim demo"},
    description = "A short tour: strict vs lazy invalidation on nvme-iova, and a driver bug caught.")
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin JournalOptions journal;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    RunOptions base = RunOptions.defaults(1);
    Scenario nvme = Catalog.find("nvme-iova").orElseThrow();
    Scenario buggy = Catalog.find("nvme-iova-free-live-links").orElseThrow();
    try (Session session = new Session(journal, spec.commandLine().getErr())) {
      out.printf(Locale.ROOT, "dmasim demo - journal: %s%n%n", session.journal.durable() ? session.journal.where() : "in memory");
      out.println("1. nvme-iova: 2 CPU queues x 50 NVMe requests of 4 segments on the two-step IOVA API, one NVMe device");
      out.println("   that touches 20% of its buffers again up to 5 ms after completing them (what lazy invalidation exposes).");
      RunReport strict = run(session, nvme, base.withMode(IommuSettings.Mode.STRICT));
      RunReport lazy = run(session, nvme, base.withMode(IommuSettings.Mode.LAZY));
      out.printf(Locale.ROOT, "%n   %-36s %14s %14s%n", "", "strict", "lazy");
      for (String k : new String[] {"requests", "iotlbInvalidations", "iotlbInvalidationsPerRequest", "flushQueueFlushes", "lateAccesses",
          "exposures", "maxExposureWindowNs", "strayAccessesBlocked", "dmaMetadataBytesPerRequest"}) {
        out.printf(Locale.ROOT, "   %-36s %14s %14s%n", Output.label(k), cell(k, strict), cell(k, lazy));
      }
      out.printf(Locale.ROOT, "   %-36s %14s %14s%n", "verdict", strict.verdict(), lazy.verdict());
      out.printf(Locale.ROOT, "%n   Lazy mode trades IOTLB invalidations for a window in which late device accesses still reach the old pages%n"
          + "   (bounded by the %d ms flush-queue timer); strict mode blocks them all.%n", IommuSettings.DEFAULT_FQ_TIMEOUT / 1_000_000);
      out.printf(Locale.ROOT, "%n2. %s: %s%n", buggy.name(), buggy.description());
      RunReport bug = run(session, buggy, base.withMode(IommuSettings.Mode.STRICT));
      if (!bug.violations().isEmpty()) {
        Violation v = bug.violations().get(0);
        out.printf(Locale.ROOT, "   caught by %s [%s] at step %d: %s%n", v.monitor(), v.invariant(), v.step(), v.message());
        out.printf(Locale.ROOT, "   run id %s, reproduce: %s%n", bug.runId(), bug.reproduceCommand());
      }
      boolean asExpected = strict.clean() && lazy.clean() && !bug.violations().isEmpty()
          && bug.violations().get(0).monitor().equals(buggy.expectedMonitor());
      out.printf(Locale.ROOT, "%nAll runs are journaled under their run ids: %s, %s, %s%n", strict.runId(), lazy.runId(), bug.runId());
      out.println(asExpected ? "Demo finished as expected." : "Demo did NOT behave as expected.");
      out.flush();
      return asExpected ? Main.CLEAN : Main.VIOLATION;
    }
  }

  private static String cell(String key, RunReport r) {
    Object v = r.stats().get(key);
    return key.endsWith("Ns") ? Output.time(((Number) v).longValue()) : String.valueOf(v);
  }

  private static RunReport run(Session session, Scenario s, RunOptions o) {
    return session.keep(s, o); // kept like run's, so replay and inspect find it
  }
}
