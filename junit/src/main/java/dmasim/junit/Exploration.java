package dmasim.junit;

import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.monitor.Violation;
import dmasim.chaos.StrategySpec;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Explorer;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.ScenarioFile;
import dmasim.scenarios.Shell;
import dmasim.scenarios.UserError;
import dmasim.scenarios.Workbench;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.opentest4j.AssertionFailedError;

/**
 * One exploration, configured fluently and run by {@link #run()}: the scenario's schedules under a
 * strategy, with an optional fault plan, exactly as {@code dmasim explore} runs them (violating
 * schedules are journaled and kept, at most {@link #keep} of them).
 */
public final class Exploration {
  private final Workbench bench;
  private final Path dataDir;
  private final String scenario;
  /** A scenario built in Java (null: {@link #scenario} names one). */
  private final Scenario built;
  private long seed = 1;
  private String strategy = "random";
  private long schedules = 100;
  private IommuSettings.Mode mode;
  private Integer cpus;
  private Long requests;
  private Integer segments;
  private long maxSteps = RunOptions.DEFAULT_MAX_STEPS;
  private Faults faults = Faults.none();
  private boolean stopAtFirst;
  private int keep = 2;

  Exploration(Workbench bench, Path dataDir, String scenario) {
    this.bench = bench;
    this.dataDir = dataDir;
    this.scenario = scenario;
    this.built = null;
  }

  Exploration(Workbench bench, Path dataDir, Scenario built) {
    this.bench = bench;
    this.dataDir = dataDir;
    this.scenario = built.name();
    this.built = built;
  }

  /** The master seed (default 1): schedules, fault draws and the scenario's seeded choices follow from it. */
  public Exploration seed(long s) {
    seed = s;
    return this;
  }

  /** random (default), fifo, pct:D or delay:K. */
  public Exploration strategy(String spec) {
    strategy = spec;
    return this;
  }

  /** How many schedules (default 100). */
  public Exploration schedules(long n) {
    schedules = n;
    return this;
  }

  /** strict, lazy, lazy-single or passthrough (default: the scenario's). */
  public Exploration iommu(String m) {
    try {
      mode = IommuSettings.Mode.valueOf(m.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + m + "' is not an IOMMU mode (strict, lazy, lazy-single, passthrough)");
    }
    return this;
  }

  public Exploration cpus(int n) {
    cpus = n;
    return this;
  }

  public Exploration requests(long n) {
    requests = n;
    return this;
  }

  public Exploration segments(int n) {
    segments = n;
    return this;
  }

  public Exploration maxSteps(long n) {
    maxSteps = n;
    return this;
  }

  /** Adds a fault plan to the scenario's own. */
  public Exploration faults(Faults f) {
    faults = f;
    return this;
  }

  /** Stop at the first violating schedule. */
  public Exploration stopAtFirst() {
    stopAtFirst = true;
    return this;
  }

  /** Keep (journal) at most this many violating schedules (default 2). */
  public Exploration keep(int k) {
    keep = k;
    return this;
  }

  /** Runs the exploration. Bad input (an unknown scenario, a bad fault rule) throws IllegalArgumentException naming it. */
  public Result run() {
    Scenario s;
    Path faultsFile = null;
    RunOptions o;
    Explorer.Plan plan;
    try {
      s = built != null ? built : Catalog.resolve(scenario);
      if (!faults.isEmpty()) {
        faultsFile = writeFaults();
        s = ScenarioFile.withFaults(s, faultsFile);
      }
      RunOptions d = s.defaults();
      o = new RunOptions(seed, mode, cpus == null ? d.cpus() : cpus, requests == null ? d.requests() : requests,
          segments == null ? d.segments() : segments, maxSteps);
      plan = new Explorer.Plan(StrategySpec.parse(strategy), schedules, stopAtFirst, 1, keep, null, 0);
    } catch (UserError e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    Explorer.Summary sum = new Explorer(bench.runner, bench.journal).explore(s, o, plan, List.of(), null);
    String again = built != null ? "(a scenario built in Java: explore it again from the test)" : exploreCommand(Catalog.ref(Catalog.resolve(scenario)),
        faultsFile);
    return new Result(sum, again, dataDir);
  }

  /** The plan as a faults file in the data directory, named by its content (the same plan is the same file). */
  private Path writeFaults() {
    String text = faults.toHocon();
    String hash = HexFormat.of().toHexDigits(text.hashCode());
    Path file = dataDir.resolve("faults-" + hash + ".conf");
    try {
      Files.createDirectories(dataDir);
      if (!Files.isRegularFile(file) || !Files.readString(file, StandardCharsets.UTF_8).equals(text)) {
        Files.writeString(file, text, StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the fault plan to " + file, e);
    }
    return file;
  }

  /** The CLI command that explores the same schedules: the scenario by name, or by the absolute path of its file. */
  private String exploreCommand(String scenarioRef, Path faultsFile) {
    StringBuilder b = new StringBuilder("./dmasim explore ").append(Shell.quote(scenarioRef)).append(" --seed ").append(seed).append(" --strategy ")
        .append(Shell.quote(strategy)).append(" --schedules ").append(schedules);
    if (mode != null) b.append(" --iommu ").append(mode.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    if (cpus != null) b.append(" --cpus ").append(cpus);
    if (requests != null) b.append(" --requests ").append(requests);
    if (segments != null) b.append(" --segments ").append(segments);
    if (faultsFile != null) b.append(" --faults ").append(Shell.quote(faultsFile.toString()));
    if (stopAtFirst) b.append(" --stop-at-first");
    return b.append(" --data-dir ").append(Shell.quote(dataDir.toString())).toString();
  }

  /** What an exploration found, with assertions that fail with the violation, its seed, the replay command and the journal. */
  public static final class Result {
    private final Explorer.Summary summary;
    private final String command;
    private final Path dataDir;

    Result(Explorer.Summary summary, String command, Path dataDir) {
      this.summary = summary;
      this.command = command;
      this.dataDir = dataDir;
    }

    public Explorer.Summary summary() {
      return summary;
    }

    public long schedulesRun() {
      return summary.schedulesRun();
    }

    public long violatingSchedules() {
      return summary.violatingSchedules();
    }

    /** Violating schedules by monitor. */
    public Map<String, Long> violationsByMonitor() {
      return summary.violationsByMonitor();
    }

    /** Run ids of the violating schedules that were journaled and kept. */
    public List<String> keptRuns() {
      return summary.kept().stream().map(RunReport::runId).toList();
    }

    /** Fails unless no schedule broke an invariant. */
    public Result assertClean() {
      if (summary.violatingSchedules() > 0) throw new AssertionFailedError(describe("expected no violation"));
      return this;
    }

    /** Fails unless some schedule broke {@code monitor} (SyncBeforeUse, Termination, ...). */
    public Result assertViolation(String monitor) {
      if (!summary.violationsByMonitor().containsKey(monitor)) throw new AssertionFailedError(describe("expected a " + monitor + " violation"));
      return this;
    }

    /** The failure text: what was explored, what broke first, and how to replay and re-explore it. */
    public String describe(String expectation) {
      List<String> lines = new ArrayList<>();
      lines.add(summary.scenario() + " (seed " + summary.options().seed() + ", " + summary.plan().spec() + ", " + summary.schedulesRun()
          + " schedule(s)): " + expectation + ", got " + summary.violatingSchedules() + " violating schedule(s) " + summary.violationsByMonitor());
      if (!summary.kept().isEmpty()) {
        RunReport first = summary.kept().get(0);
        Violation v = first.violations().get(0);
        lines.add("first violation: " + v.monitor() + " [" + v.invariant() + "] at step " + v.step() + (v.where() == null ? "" : " at " + v.where())
            + ": " + v.message() + (first.devices().isEmpty() ? "" : " (devices: " + first.deviceLegend() + ")"));
        for (String c : v.causes()) lines.add("    " + c);
        for (RunReport k : summary.kept()) lines.add("replay: ./dmasim replay " + Shell.quote(k.runId()) + " --data-dir " + Shell.quote(dataDir.toString()));
      } else if (summary.firstViolation() != null) {
        Explorer.ScheduleResult f = summary.firstViolation();
        lines.add("first violation: schedule " + f.index() + ": " + f.firstMonitor() + " [" + f.firstInvariant() + "]: " + f.message());
        if (summary.keepFailure() != null) lines.add(summary.keepFailure());
      }
      lines.add("journal: " + dataDir.resolve("journal.mv.db"));
      lines.add("explore again: " + command);
      return String.join("\n", lines);
    }
  }
}
