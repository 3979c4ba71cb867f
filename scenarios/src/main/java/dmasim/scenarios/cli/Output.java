package dmasim.scenarios.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dmasim.actors.monitor.Violation;
import dmasim.scenarios.RunReport;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** How runs are shown: plain text for people, one JSON object for tools. Deterministic: no wall-clock figures. */
final class Output {
  /** How many violations the text output spells out (JSON has them all). */
  static final int SHOWN_VIOLATIONS = 5;

  private Output() {}

  static void text(PrintWriter out, RunReport r) {
    text(out, r, "");
  }

  /** ... a live run's reproduce line (its replay) with {@code dataDirOption} (" --data-dir DIR", or ""). */
  static void text(PrintWriter out, RunReport r, String dataDirOption) {
    out.printf(Locale.ROOT, "dmasim run %s (seed %d, iommu %s, %d CPU queue(s) x %d requests x %d segments, strategy %s)%n", r.scenario(), r.seed(),
        r.iommuMode(), r.options().cpus(), r.options().requests(), r.options().segments(), r.strategy());
    row(out, "verdict", r.verdict() + (r.outcome().crashed() ? ": " + r.outcome().detail() : ""));
    row(out, "run id", r.runId());
    row(out, "seed", Long.toString(r.seed()));
    row(out, "ended", r.outcome().reason() + " after " + r.outcome().steps() + " steps, virtual time " + time(r.outcome().virtualTime()));
    if (r.spec() != null && r.spec().isLive() && r.outcome().reason().equals("max-steps")) {
      row(out, "hint", "a live run that reaches --max-steps often loops on timeouts that fire before device work (raise --time-scale, README)");
    }
    for (Map.Entry<String, Object> e : r.stats().entrySet()) {
      if (e.getKey().equals("steps") || e.getKey().equals("virtualTimeNs")) continue;
      Object v = e.getValue();
      row(out, label(e.getKey()), e.getKey().endsWith("Ns") ? time(((Number) v).longValue()) : String.valueOf(v));
    }
    row(out, "metadata per request", "dma_iova_state 16 B; scatterlist 32 B per entry + 16 B sg_table");
    violations(out, r);
    if (!r.clean()) {
      out.printf(Locale.ROOT, "%nreproduce: %s%s%n", r.reproduceCommand(), r.spec() != null && r.spec().isLive() ? dataDirOption : "");
    }
  }

  /** Each violation of {@code r} explained: where, how its objects got there, the causal chain, the faults before it. */
  static void violations(PrintWriter out, RunReport r) {
    List<Violation> vs = r.violations();
    if (!vs.isEmpty() && !r.devices().isEmpty()) out.printf(Locale.ROOT, "%n(devices: %s)%n", r.deviceLegend());
    for (int i = 0; i < Math.min(vs.size(), SHOWN_VIOLATIONS); i++) {
      Violation v = vs.get(i);
      // an end-of-run check (a hang, a leak) belongs to no step's actors
      out.printf(Locale.ROOT, "%nVIOLATION %d: %s [%s] at step %d (t=%s)%s%n  %s%n", i + 1, v.monitor(), v.invariant(), v.step(),
          time(v.time()), v.actors().isEmpty() ? "" : ", actors " + String.join(", ", v.actors()), v.message());
      if (v.where() != null) out.println("  at " + v.where());
      if (!v.causes().isEmpty()) {
        out.println("  how " + String.join(", ", v.about()) + " got here (oldest first):");
        for (String c : v.causes()) out.println("    " + c);
      }
      if (!v.chain().isEmpty()) {
        out.println("  causal chain (oldest first):");
        for (String c : v.chain()) out.println("    " + c);
      }
      if (!v.faults().isEmpty()) {
        out.println("  faults injected before it (latest last):");
        for (String f : v.faults()) out.println("    " + f);
      }
    }
    if (vs.size() > SHOWN_VIOLATIONS) out.printf(Locale.ROOT, "%n... and %d more violation(s) (--json lists all)%n", vs.size() - SHOWN_VIOLATIONS);
  }

  static String json(RunReport r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("scenario", r.scenario());
    m.put("verdict", r.verdict());
    List<Map<String, Object>> vs = new ArrayList<>();
    for (Violation v : r.violations()) {
      Map<String, Object> j = new LinkedHashMap<>();
      j.put("monitor", v.monitor());
      j.put("invariant", v.invariant());
      j.put("step", v.step());
      j.put("timeNs", v.time());
      j.put("actors", v.actors());
      j.put("message", v.message());
      if (v.where() != null) j.put("where", v.where());
      j.put("about", v.about());
      j.put("causes", v.causes());
      j.put("chain", v.chain());
      j.put("faults", v.faults());
      vs.add(j);
    }
    m.put("violations", vs);
    if (!r.devices().isEmpty()) m.put("devices", r.devices());
    m.put("stats", r.stats());
    m.put("seed", r.seed());
    m.put("runId", r.runId());
    m.put("iommu", r.iommuMode());
    m.put("strategy", r.strategy());
    m.put("ended", r.outcome().reason());
    if (r.outcome().crashed()) m.put("crash", r.outcome().detail());
    if (!r.clean()) m.put("reproduce", r.reproduceCommand());
    try {
      return new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static void row(PrintWriter out, String label, String value) {
    out.printf(Locale.ROOT, "  %-34s %s%n", label, value);
  }

  static String time(long ns) {
    if (ns < 10_000) return ns + " ns";
    if (ns < 10_000_000) return String.format(Locale.ROOT, "%.3f us", ns / 1e3);
    return String.format(Locale.ROOT, "%.3f ms", ns / 1e6);
  }

  /** "iotlbInvalidationsPerRequest" -> "iotlb invalidations per request". */
  static String label(String key) {
    StringBuilder b = new StringBuilder();
    for (char c : key.toCharArray()) {
      if (Character.isUpperCase(c)) b.append(' ').append(Character.toLowerCase(c));
      else b.append(c);
    }
    return b.toString().replace(" ns", "").replace("iotlb", "IOTLB").replace("atc", "ATC").replace("dma", "DMA").replace("iova", "IOVA");
  }
}
