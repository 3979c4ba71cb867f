package dmasim.scenarios;

import com.typesafe.config.ConfigList;
import dmasim.actors.monitor.MonitorSettings;
import dmasim.actors.monitor.Monitors;
import dmasim.chaos.StrategySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code monitors} list and the {@code expect} section: which monitors watch, and what the
 * catalogue expects ({@code monitor} null for a clean run) with which strategy, budget and seed.
 */
record ExpectSection(MonitorSettings monitors, String monitor, Scenario.Expectation expectation) {
  static final Set<String> KEYS = Set.of("verdict", "monitor", "invariant", "strategy", "schedules", "seed", "max-invalidations-per-unmap");

  /** Every monitor a scenario may name: the core ones, user monitors, and the monitors the components a file can declare bring (the mm section's Hmm, the rdma section's Odp). */
  static Set<String> known() {
    Set<String> known = new TreeSet<>(Monitors.known());
    known.add(dmasim.actors.mm.HmmComponent.MONITOR);
    known.add(dmasim.actors.odp.OdpComponent.MONITOR);
    return known;
  }

  /** The {@code monitors} list (the standard set when absent). */
  static MonitorSettings monitors(HoconReader r) {
    if (!r.has("monitors")) return MonitorSettings.STANDARD;
    List<String> names = new ArrayList<>();
    ConfigList list = r.list("monitors", "must be a list of monitor names");
    Set<String> known = known();
    for (int i = 0; i < list.size(); i++) {
      Object v = list.get(i).unwrapped();
      if (!(v instanceof String n) || !known.contains(n)) throw r.error(list.get(i), "monitors[" + i + "]", "unknown monitor '" + v + "' (known: " + known + ")");
      names.add(n);
    }
    return new MonitorSettings(names, 0);
  }

  /** The {@code expect} section, for the {@code monitors} read before it. */
  static ExpectSection read(HoconReader r, MonitorSettings monitors) {
    r.onlyKeys("expect", KEYS);
    String verdict = r.choice("expect.verdict", "clean", Map.of("clean", "clean", "violation", "violation"));
    String monitor = monitor(r, verdict);
    String strategy = r.string("expect.strategy", "random");
    try {
      StrategySpec.parse(strategy);
    } catch (IllegalArgumentException e) {
      throw r.error("expect.strategy", e.getMessage());
    }
    long schedules = r.number("expect.schedules", 20, 1, 1_000_000);
    long seed = r.number("expect.seed", 1, Long.MIN_VALUE, Long.MAX_VALUE);
    int maxInv = (int) r.number("expect.max-invalidations-per-unmap", 0, 0, 1_000_000);
    return new ExpectSection(new MonitorSettings(monitors.enabled(), maxInv), monitor, new Scenario.Expectation(strategy, schedules, seed));
  }

  /** The monitor a violation verdict expects (any, when left out), or null for a clean one. */
  private static String monitor(HoconReader r, String verdict) {
    if (verdict.equals("violation") && !r.has("expect.monitor")) return Scenario.ANY_VIOLATION;
    if (verdict.equals("violation")) {
      String monitor = r.string("expect.monitor", null);
      Set<String> known = known();
      known.add("InvalidationCost");
      if (!known.contains(monitor)) throw r.error("expect.monitor", "unknown monitor '" + monitor + "' (known: " + known + ")");
      if (r.has("expect.invariant")) {
        String id = r.string("expect.invariant", null);
        if (!id.matches("[A-Z][A-Z0-9-]{0,15}")) throw r.error("expect.invariant", "an invariant id such as M1 or I19, got '" + id + "'");
        return monitor + " [" + id + "]"; // the monitor and the id it must report, as violations print them
      }
      return monitor;
    }
    if (r.has("expect.monitor")) throw r.error("expect.monitor", "only with verdict = violation");
    if (r.has("expect.invariant")) throw r.error("expect.invariant", "only with verdict = violation and a monitor");
    return null;
  }
}
