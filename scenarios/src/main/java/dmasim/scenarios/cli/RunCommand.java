package dmasim.scenarios.cli;

import dmasim.scenarios.Catalog;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.UserError;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** dmasim run SCENARIO: one schedule, seeded, journaled. */
@Command(name = "run", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim run nvme-iova --seed 1 --iommu lazy"},
    description = "Run one scenario on the controlled wire and judge it.")
final class RunCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SCENARIO", description = "a scenario name (see 'dmasim scenarios')")
  String scenario;

  @Mixin WorkloadOptions workload;

  @Option(names = "--json", description = "print one JSON object instead of text")
  boolean json;

  @Mixin JournalOptions journal;

  @Mixin LiveOptions live;

  @Override
  public Integer call() {
    Scenario s = workload.scenario(scenario);
    RunOptions options = workload.options(s);
    dmasim.scenarios.Runner.Live l = live.live();
    try (Session session = new Session(journal, spec.commandLine().getErr(), false, false, live.config())) {
      RunReport r = l == null ? session.keep(s, options) : session.keepLive(s, options, l);
      PrintWriter out = spec.commandLine().getOut();
      if (json) out.println(Output.json(r));
      else Output.text(out, r, journal.dataDirOption());
      out.flush();
      return r.clean() ? Main.CLEAN : r.outcome().crashed() ? Main.INFRASTRUCTURE : Main.VIOLATION;
    }
  }
}
