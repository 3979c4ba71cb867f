package dmasim.scenarios;

import java.util.function.Function;

/**
 * A scenario = a system, its workload (driver programs), and what it is expected to show:
 * {@code expectedMonitor} null means clean, else the monitor that must fire.
 */
public record Scenario(String name, String description, String expectedMonitor, Function<RunOptions, SystemSpec> build) {
  public boolean expectsViolation() {
    return expectedMonitor != null;
  }
}
