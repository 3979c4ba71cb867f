package dmasim.scenarios;

import java.util.function.Function;

/**
 * A scenario = a system, its workload (driver programs), and what it is expected to show:
 * {@code expectedMonitor} null means clean, else the monitor that must fire. {@code defaults}
 * gives the workload size used when the user does not choose one; {@code expect} how the
 * catalogue checks it; {@code source} the file it came from (null for built-ins).
 */
public record Scenario(String name, String description, String expectedMonitor, Function<RunOptions, SystemSpec> build, RunOptions defaults,
    Expectation expect, String source) {

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
