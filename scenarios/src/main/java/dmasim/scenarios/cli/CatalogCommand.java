package dmasim.scenarios.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dmasim.protocol.WallClockAllowed;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.CatalogCheck;
import dmasim.scenarios.Explorer;
import dmasim.scenarios.Scenario;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** dmasim catalog: every scenario against its expectation. */
@Command(name = "catalog", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim catalog --json",
    "  dmasim catalog mydriver.conf mydriver-fixed.conf"},
    description = "Run every catalogue scenario (or the given scenario files) against its expectation and tabulate the results.")
@WallClockAllowed
final class CatalogCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "print one JSON object instead of the table")
  boolean json;

  @picocli.CommandLine.Parameters(paramLabel = "FILE", arity = "0..*",
      description = "scenario files (or names) to check against their own expect block instead of the whole catalogue")
  List<String> files = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    List<Map<String, Object>> rows = new ArrayList<>();
    int failed = 0;
    try (Session session = new Session(JournalOptions.memory(), spec.commandLine().getErr())) {
      Explorer explorer = new Explorer(session.runner, session.journal);
      if (!json) {
        out.printf(Locale.ROOT, "%-34s %-6s %-20s %-20s %10s %8s%n", "scenario", "variant", "expected", "got", "to first", "time");
      }
      List<Scenario> scenarios = new ArrayList<>();
      if (files.isEmpty()) scenarios.addAll(Catalog.all());
      else for (String f : files) scenarios.add(Catalog.resolve(f));
      for (Scenario s : scenarios) {
        long start = System.nanoTime();
        CatalogCheck.Row r = CatalogCheck.check(explorer, s);
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (!r.ok()) failed++;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scenario", r.scenario());
        m.put("variant", r.variant());
        m.put("expected", r.expected());
        m.put("got", r.got());
        m.put("schedulesToFirstViolation", r.schedulesToFirstViolation());
        m.put("schedulesRun", r.schedulesRun());
        m.put("ok", r.ok());
        m.put("timeMs", ms);
        rows.add(m);
        if (!json) {
          out.printf(Locale.ROOT, "%-34s %-6s %-20s %-20s %10s %6d ms%s%n", r.scenario(), r.variant(), r.expected(), r.got(),
              r.schedulesToFirstViolation() < 0 ? "-" : Long.toString(r.schedulesToFirstViolation()), ms, r.ok() ? "" : "  <-- MISMATCH");
          out.flush();
        }
      }
    }
    if (json) out.println(new ObjectMapper().writeValueAsString(Map.of("scenarios", rows, "mismatches", failed)));
    else out.printf(Locale.ROOT, "%n%d scenario(s), %d mismatch(es)%n", rows.size(), failed);
    out.flush();
    return failed == 0 ? Main.CLEAN : Main.VIOLATION;
  }
}
