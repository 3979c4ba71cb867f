package dmasim.scenarios.cli;

import dmasim.actors.iommu.IommuSettings;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.UserError;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** The workload options shared by run and explore. */
final class WorkloadOptions {
  @Option(names = "--seed", defaultValue = "1", description = "master seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--iommu", converter = ModeConverter.class, description = "strict, lazy, lazy-single or passthrough (default: the scenario's)")
  IommuSettings.Mode mode;

  @Option(names = "--cpus", description = "CPU queues (default: the scenario's, 2 for built-ins)")
  Integer cpus;

  @Option(names = "--requests", description = "requests per CPU queue (default: the scenario's, 50 for built-ins)")
  Long requests;

  @Option(names = "--segments", description = "4 KiB segments per request (default: the scenario's, 4 for built-ins)")
  Integer segments;

  @Option(names = "--max-steps", defaultValue = "5000000", description = "stop a schedule after this many steps (default ${DEFAULT-VALUE})")
  long maxSteps;

  @Option(names = "--faults", paramLabel = "FILE", description = "add the fault rules of FILE (faults = [ ... ], docs/scenario-format.md) to the scenario's")
  java.nio.file.Path faults;

  /** The scenario {@code nameOrPath}, with the rules of --faults added. */
  dmasim.scenarios.Scenario scenario(String nameOrPath) {
    dmasim.scenarios.Scenario s = dmasim.scenarios.Catalog.resolve(nameOrPath);
    if (faults == null) return s;
    if (!java.nio.file.Files.isRegularFile(faults)) throw new UserError("no faults file " + faults);
    return dmasim.scenarios.ScenarioFile.withFaults(s, faults);
  }

  RunOptions options(dmasim.scenarios.Scenario scenario) {
    RunOptions d = scenario.defaults();
    try {
      return new RunOptions(seed, mode, cpus == null ? d.cpus() : cpus, requests == null ? d.requests() : requests,
          segments == null ? d.segments() : segments, maxSteps);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }

  /** Accepts strict, lazy, lazy-single, passthrough (any case, - or _). */
  static final class ModeConverter implements ITypeConverter<IommuSettings.Mode> {
    @Override
    public IommuSettings.Mode convert(String value) {
      try {
        return IommuSettings.Mode.valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException("'" + value + "' is not an IOMMU mode (strict, lazy, lazy-single, passthrough)");
      }
    }
  }
}
