package dmasim.scenarios.cli;

import dmasim.actors.iommu.IommuSettings;
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
@Command(name = "run", description = "Run one scenario on the controlled wire and judge it.")
final class RunCommand implements Callable<Integer> {
  /** The IOMMU modes as users write them. */
  enum Mode {
    strict(IommuSettings.Mode.STRICT), lazy(IommuSettings.Mode.LAZY), lazy_single(IommuSettings.Mode.LAZY_SINGLE);

    final IommuSettings.Mode mode;

    Mode(IommuSettings.Mode m) {
      this.mode = m;
    }
  }

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SCENARIO", description = "a scenario name (see 'dmasim scenarios')")
  String scenario;

  @Option(names = "--seed", defaultValue = "1", description = "master seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--iommu", converter = ModeConverter.class, description = "strict, lazy or lazy-single (default: the scenario's)")
  Mode mode;

  @Option(names = "--cpus", defaultValue = "2", description = "CPU queues (default ${DEFAULT-VALUE})")
  int cpus;

  @Option(names = "--requests", defaultValue = "50", description = "requests per CPU queue (default ${DEFAULT-VALUE})")
  long requests;

  @Option(names = "--segments", defaultValue = "4", description = "4 KiB segments per request (default ${DEFAULT-VALUE})")
  int segments;

  @Option(names = "--max-steps", defaultValue = "5000000", description = "stop after this many steps (default ${DEFAULT-VALUE})")
  long maxSteps;

  @Option(names = "--json", description = "print one JSON object instead of text")
  boolean json;

  @Mixin JournalOptions journal;

  /** Accepts "lazy-single" as well as "lazy_single". */
  static final class ModeConverter implements picocli.CommandLine.ITypeConverter<Mode> {
    @Override
    public Mode convert(String value) {
      try {
        return Mode.valueOf(value.toLowerCase(java.util.Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not an IOMMU mode (strict, lazy, lazy-single)");
      }
    }
  }

  @Override
  public Integer call() {
    Scenario s = Catalog.find(scenario).orElseThrow(() -> new UserError("unknown scenario '" + scenario + "' (see 'dmasim scenarios')"));
    RunOptions options;
    try {
      options = new RunOptions(seed, mode == null ? null : mode.mode, cpus, requests, segments, maxSteps);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    try (Session session = new Session(journal.kind, journal.dataDir)) {
      String runId = dmasim.scenarios.Runner.runId(s, options);
      session.journal.forget(runId);
      RunReport r = session.runner.run(s, options, runId);
      PrintWriter out = spec.commandLine().getOut();
      if (json) out.println(Output.json(r));
      else Output.text(out, r);
      out.flush();
      return r.clean() ? Main.CLEAN : r.outcome().crashed() ? Main.INFRASTRUCTURE : Main.VIOLATION;
    }
  }
}
