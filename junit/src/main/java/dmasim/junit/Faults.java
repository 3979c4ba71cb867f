package dmasim.junit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A fault plan built in Java: the rules of a scenario file's {@code faults} section (see
 * docs/scenario-format.md), one factory per kind, refined by trigger and selectors.
 *
 * <pre>{@code
 * Faults.of(
 *     Faults.failCall("map_phys").nth(3).errno("EIO"),
 *     Faults.slowInvalidation("20us").every(1),
 *     Faults.drop("Completed").from("dev0").nth(2),
 *     Faults.delay("Returned", "1us", "5us").to("cpu1").probability(0.2),
 *     Faults.deviceReset("dev0").on("NextAccess").nth(2))
 * }</pre>
 *
 * The plan is written as a faults file beside the class's journal and checked exactly like one
 * given to {@code dmasim run --faults}: a mistake names the rule ({@code faults[i]}) and the key.
 */
public final class Faults {
  private final List<Rule> rules;

  private Faults(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  public static Faults of(Rule... rules) {
    return new Faults(List.of(rules));
  }

  public static Faults none() {
    return new Faults(List.of());
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** The plan as a faults file: {@code faults = [ ... ]}, one rule per line. */
  public String toHocon() {
    return rules.stream().map(r -> "  " + r.hocon()).collect(Collectors.joining("\n", "faults = [\n", "\n]\n"));
  }

  @Override
  public String toString() {
    return toHocon();
  }

  /** The IOMMU glue fails each CPU queue's calls of {@code op} (try_alloc, link, sync, map_phys, map_sg). */
  public static Rule failCall(String op) {
    return new Rule().put("op", op);
  }

  /** Envelopes of {@code type} are delivered at least {@code delay} (a duration: "20us") later. */
  public static Rule delay(String type, String delay) {
    return new Rule().put("message", "delay").put("type", type).put("delay", delay);
  }

  /** Envelopes of {@code type} are delivered later by a delay drawn uniformly from [min, max]. */
  public static Rule delay(String type, String min, String max) {
    return new Rule().put("message", "delay").put("type", type).putRaw("delay", "{ uniform = [" + quote(min) + ", " + quote(max) + "] }");
  }

  /** Envelopes of {@code type} are delivered later by an exponentially distributed delay of mean {@code mean}. */
  public static Rule delayExponential(String type, String mean) {
    return new Rule().put("message", "delay").put("type", type).putRaw("delay", "{ exponential = " + quote(mean) + " }");
  }

  /** Envelopes of {@code type} are never delivered (a lost completion; a call that never returns). */
  public static Rule drop(String type) {
    return new Rule().put("message", "drop").put("type", type);
  }

  /** Envelopes of {@code type} (asynchronous hardware traffic only) are delivered twice. */
  public static Rule duplicate(String type) {
    return new Rule().put("message", "duplicate").put("type", type);
  }

  /** Envelopes of {@code type} (asynchronous hardware traffic only) may overtake, or be overtaken by, the others of their channel. */
  public static Rule reorder(String type) {
    return new Rule().put("message", "reorder").put("type", type);
  }

  /** The IOMMU's invalidation commands complete {@code delay} late. */
  public static Rule slowInvalidation(String delay) {
    return new Rule().put("invalidation", "slow").put("delay", delay);
  }

  /** The IOMMU's invalidation commands never complete (an invalidation timeout). */
  public static Rule invalidationTimeout() {
    return new Rule().put("invalidation", "timeout");
  }

  /** {@code device} (its name in the scenario, or devN) resets on its own as it receives a selected envelope, losing what it holds. */
  public static Rule deviceReset(String device) {
    return new Rule().put("device", device).put("fault", "reset");
  }

  /** {@code device} disappears (surprise removal) as it receives a selected envelope. */
  public static Rule deviceRemoval(String device) {
    return new Rule().put("device", device).put("fault", "remove");
  }

  /** {@code actor} (cpuN, iommu0, mem, a device) crashes and restarts as it receives a selected envelope, losing what the hardware would. */
  public static Rule crash(String actor) {
    return new Rule().put("crash", actor);
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** One rule: its kind, then a trigger (nth, every or probability) and, for message rules, selectors. */
  public static final class Rule {
    private final Map<String, String> keys = new LinkedHashMap<>();

    private Rule() {}

    private Rule put(String key, String value) {
      keys.put(key, quote(value));
      return this;
    }

    private Rule putRaw(String key, String value) {
      keys.put(key, value);
      return this;
    }

    /** Fault the nth call (per CPU queue) or the nth selected envelope (per sender). */
    public Rule nth(long n) {
      return putRaw("nth", Long.toString(n));
    }

    /** Fault every nth call or selected envelope. */
    public Rule every(long n) {
      return putRaw("every", Long.toString(n));
    }

    /** Fault each call or selected envelope with probability {@code p}, drawn from the run's seed. */
    public Rule probability(double p) {
      return putRaw("probability", String.format(Locale.ROOT, "%s", p));
    }

    /** The errno a failed call returns (ENOMEM, EIO, EINVAL, EREMOTEIO). */
    public Rule errno(String errno) {
      return put("errno", errno);
    }

    /** Only envelopes sent by this actor (cpuN, iommu0, mem, devN). */
    public Rule from(String actor) {
      return put("from", actor);
    }

    /** For a device rule: only as the device receives this message type (Submit, NextAccess, ...). */
    public Rule on(String type) {
      return put("on", type);
    }

    /** Only envelopes sent to this actor. */
    public Rule to(String actor) {
      return put("to", actor);
    }

    String hocon() {
      List<String> parts = new ArrayList<>();
      keys.forEach((k, v) -> parts.add(k + " = " + v));
      return "{ " + String.join(", ", parts) + " }";
    }
  }
}
