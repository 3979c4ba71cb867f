package dmasim.scenarios;

import java.util.function.Function;

/**
 * A scenario = a system, its workload (driver programs), and what it is expected to show:
 * {@code expectedMonitor} null means clean, else the monitor that must fire. {@code defaults}
 * gives the workload size used when the user does not choose one; {@code expect} how the
 * catalogue checks it; {@code source} the file it came from (null for built-ins); {@code devices}
 * the file's device names and their ids (empty for built-ins), which a faults file may use.
 */
public record Scenario(String name, String description, String expectedMonitor, Function<RunOptions, SystemSpec> build, RunOptions defaults,
    Expectation expect, String source, java.util.Map<String, dmasim.protocol.DeviceId> devices) {

  public Scenario {
    devices = devices == null ? java.util.Map.of() : java.util.Map.copyOf(devices);
  }

  /** A scenario without device names (built in Java). */
  public Scenario(String name, String description, String expectedMonitor, Function<RunOptions, SystemSpec> build, RunOptions defaults,
      Expectation expect, String source) {
    this(name, description, expectedMonitor, build, defaults, expect, source, java.util.Map.of());
  }

  /** How the catalogue checks a scenario: strategy, schedule budget and seed. */
  public record Expectation(String strategy, long schedules, long seed) {
    public static final Expectation DEFAULT = new Expectation("random", 20, 1);
  }

  /** A built-in scenario with the usual sizes (2 CPU queues, 50 requests, 4 segments). */
  public Scenario(String name, String description, String expectedMonitor, Function<RunOptions, SystemSpec> build) {
    this(name, description, expectedMonitor, build, RunOptions.defaults(1), Expectation.DEFAULT, null);
  }

  /** As {@code expectedMonitor}: a violation of any monitor meets the expectation ({@code expect.monitor} left out). */
  public static final String ANY_VIOLATION = "any violation";

  public boolean expectsViolation() {
    return expectedMonitor != null;
  }
}
