package dmasim.junit;

import dmasim.scenarios.Scenario;
import dmasim.scenarios.Workbench;
import java.nio.file.Path;

/**
 * A test's handle on dmasim: {@code chaos.explore("nvme-iova")...run().assertClean()}. Given to
 * test methods of a {@link DmasimChaos} class; all tests of the class share its journal.
 */
public final class Chaos {
  private final Workbench bench;
  private final Path dataDir;

  Chaos(Workbench bench, Path dataDir) {
    this.bench = bench;
    this.dataDir = dataDir;
  }

  /** An exploration of a scenario given by name (see {@code dmasim scenarios}) or by the path of a scenario file. */
  public Exploration explore(String scenario) {
    return new Exploration(bench, dataDir, scenario);
  }

  /**
   * An exploration of a scenario built in Java: a {@link Scenario} whose build function gives the
   * system (IOMMU settings, devices, one driver program per CPU queue) for each run's options, as
   * the built-in scenarios of {@code dmasim.scenarios.Catalog} are built. Its kept runs replay from
   * this JVM (the CLI cannot rebuild a Java scenario), so failures name the run and the journal.
   */
  public Exploration explore(Scenario scenario) {
    return new Exploration(bench, dataDir, scenario);
  }

  /** The directory of this class's journal: {@code dmasim replay RUN_ID --data-dir DIR} replays the runs kept there. */
  public Path dataDir() {
    return dataDir;
  }

  /** Looks a scenario up as explore does: a catalogue name or a scenario file. */
  public static Scenario scenario(String nameOrPath) {
    return dmasim.scenarios.Catalog.resolve(nameOrPath);
  }
}
