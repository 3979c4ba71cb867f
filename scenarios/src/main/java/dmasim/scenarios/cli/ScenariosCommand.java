package dmasim.scenarios.cli;

import dmasim.scenarios.Catalog;
import dmasim.scenarios.Scenario;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** dmasim scenarios: one line per scenario. */
@Command(name = "scenarios", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim scenarios"},
    description = "List the built-in scenarios.")
final class ScenariosCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    for (Scenario s : Catalog.all()) {
      String expect = s.expectsViolation() ? "expects " + s.expectedMonitor() : "expects clean";
      spec.commandLine().getOut().printf(Locale.ROOT, "%-28s %-26s %s%n", s.name(), expect, s.description());
    }
    return Main.CLEAN;
  }
}
