package dmasim.scenarios;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import dmasim.actors.iommu.FaultPlan;
import dmasim.protocol.Errno;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The {@code faults} list: what the IOMMU glue fails, and when. */
final class FaultSection {
  /** The errnos a rule may fail with, by name, in FaultPlan's order. */
  private static final Map<String, Errno.Name> ERRNOS = new LinkedHashMap<>();

  static {
    for (Errno.Name n : FaultPlan.ERRNOS) ERRNOS.put(n.name(), n);
  }

  private FaultSection() {}

  static FaultPlan read(HoconReader r) {
    if (!r.has("faults")) return FaultPlan.NONE;
    ConfigList list = r.list("faults", "must be a list of { op = ..., nth | every | probability = ..., errno = ... }");
    List<FaultPlan.Rule> rules = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String key = "faults[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject o)) throw r.error(list.get(i), key, "must be an object");
      r.onlyKeys(o, key + ".", Set.of("op", "nth", "every", "probability", "errno"));
      rules.add(rule(r, o, key));
    }
    return new FaultPlan(rules);
  }

  /** The rule {@code o} at {@code key}. */
  private static FaultPlan.Rule rule(HoconReader r, ConfigObject o, String key) {
    HoconReader sub = r.sub(o, key);
    String op = sub.string("op", null);
    if (!FaultPlan.OPERATIONS.contains(op)) throw r.error(o.get("op"), key + ".op", "'" + op + "' is not one of " + new TreeSet<>(FaultPlan.OPERATIONS));
    long nth = sub.number("nth", 0, 1, Long.MAX_VALUE);
    long every = sub.number("every", 0, 1, Long.MAX_VALUE);
    double p = probability(r, o, key);
    int set = (nth > 0 ? 1 : 0) + (every > 0 ? 1 : 0) + (p > 0 ? 1 : 0);
    if (set != 1) throw r.error(o, key, "needs exactly one of nth, every, probability");
    Errno.Name errno = sub.choice("errno", Errno.Name.ENOMEM.name(), ERRNOS);
    return new FaultPlan.Rule(op, nth, every, p, errno.code());
  }

  /** The rule's probability in (0, 1], or 0 when it has none. */
  private static double probability(HoconReader r, ConfigObject o, String key) {
    if (!o.containsKey("probability")) return 0;
    double p;
    try {
      p = o.toConfig().getDouble("probability");
    } catch (ConfigException e) {
      throw r.error(o.get("probability"), key + ".probability", "must be a number");
    }
    if (p <= 0 || p > 1) throw r.error(o.get("probability"), key + ".probability", "must be in (0, 1], got " + p);
    return p;
  }
}
