package dmasim.scenarios;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValueType;
import dmasim.actors.device.DeviceFault;
import dmasim.actors.iommu.FaultPlan;
import dmasim.actors.model.Names;
import dmasim.chaos.MessageFaults;
import dmasim.scenarios.journal.JournalFaults;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Errno;
import dmasim.protocol.Trigger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code faults} list: calls the IOMMU glue fails ({@code op}), envelopes the wire delays,
 * drops, duplicates or reorders ({@code message}), and the invalidation shorthands
 * ({@code invalidation = slow | timeout}).
 */
final class FaultSection {
  /** The errnos a rule may fail with, by name, in FaultPlan's order. */
  private static final Map<String, Errno.Name> ERRNOS = new LinkedHashMap<>();

  static {
    for (Errno.Name n : FaultPlan.ERRNOS) ERRNOS.put(n.name(), n);
  }

  /** Every message type of the model, by simple name. */
  static final Set<String> MESSAGE_TYPES = messageTypes();

  /**
   * The messages that stand for asynchronous hardware traffic (descriptors, completions, ATS
   * translations, invalidation commands and their completions): only these may be reordered. The
   * others are synchronous kernel calls and their returns, timers and locks: a call can be slow or
   * never return, but the kernel never runs it twice or returns out of order.
   */
  static final Set<String> ASYNCHRONOUS = Set.of("Submit", "Completed", "Translate", "Translated", "InvalidationDone", "InvalidateAtc",
      "AtcInvalidated");

  /**
   * The asynchronous messages hardware can deliver twice: a spurious second completion interrupt, a
   * repeated translation request or answer, a repeated invalidation-wait completion. A descriptor is
   * not (a ring's head/tail makes a second doorbell harmless), nor a device-TLB invalidation or its
   * ack (the ITag of a PCIe invalidation completion names the request it answers).
   */
  static final Set<String> DUPLICABLE = Set.of("Completed", "Translate", "Translated", "InvalidationDone");

  private static final Map<String, MessageFaults.Action> ACTIONS = new LinkedHashMap<>();

  static {
    for (MessageFaults.Action a : MessageFaults.Action.values()) if (a != MessageFaults.Action.CRASH) ACTIONS.put(a.label(), a);
  }

  /** The messages a device receives: what a device fault rule may be triggered on. */
  static final Set<String> DEVICE_RECEIVES = Set.of("Submit", "NextAccess", "LateAccess", "Translated", "InvalidateAtc", "Reset", "Remove",
      "Drained");

  /** The calls of CPU queues to the address space that allocate pages: what a reclaim rule may be triggered on. */
  static final Set<String> MM_RECEIVES = dmasim.actors.mm.ReclaimRule.ALLOCATING;

  /**
   * What the section holds: the glue's call faults, the wire's message faults (seeded per run), each
   * device's faults by actor name, the journal's faults, and page reclaim injected into the address space.
   */
  record Faults(FaultPlan calls, List<MessageFaults.Rule> messages, Map<String, List<DeviceFault>> devices, List<JournalFaults.Rule> journal,
      List<dmasim.actors.mm.ReclaimRule> reclaims) {
    static final Faults NONE = new Faults(FaultPlan.NONE, List.of(), Map.of(), List.of(), List.of());

    Faults {
      messages = List.copyOf(messages);
      devices = Map.copyOf(devices);
      journal = List.copyOf(journal);
      reclaims = List.copyOf(reclaims);
    }

    List<DeviceFault> device(String actor) {
      return devices.getOrDefault(actor, List.of());
    }
  }

  private FaultSection() {}

  private static Set<String> messageTypes() {
    Set<String> out = new TreeSet<>();
    for (Class<?> family : List.of(dmasim.protocol.CpuCommand.class, dmasim.protocol.DeviceCommand.class, dmasim.protocol.DeviceReply.class,
        dmasim.protocol.IommuCommand.class, dmasim.protocol.IommuReply.class, dmasim.protocol.MemoryCommand.class, dmasim.protocol.MemoryReply.class,
        dmasim.protocol.MmCommand.class, dmasim.protocol.MmReply.class, dmasim.protocol.MirrorCommand.class, dmasim.protocol.MirrorReply.class)) {
      for (Class<?> c : family.getPermittedSubclasses()) if (c.isRecord()) out.add(c.getSimpleName());
    }
    return out;
  }

  static Faults read(HoconReader r, Map<String, DeviceId> devices) {
    if (!r.has("faults")) return Faults.NONE;
    ConfigList list = r.list("faults", "must be a list of rules: { op = ... } fails a call, { message = delay | drop | duplicate | reorder, ... }"
        + " faults envelopes, { invalidation = slow | timeout, ... }, { device = NAME, fault = reset | remove, ... }, { crash = ACTOR, ... },"
        + " { journal = fail | reject | slow, ... }, { reclaim = ADDRESS, pages, ... }");
    List<FaultPlan.Rule> calls = new ArrayList<>();
    List<MessageFaults.Rule> messages = new ArrayList<>();
    Map<String, List<DeviceFault>> deviceFaults = new LinkedHashMap<>();
    List<JournalFaults.Rule> journal = new ArrayList<>();
    List<dmasim.actors.mm.ReclaimRule> reclaims = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String key = "faults[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject o)) throw r.error(list.get(i), key, "must be an object");
      int kinds = (o.containsKey("op") ? 1 : 0) + (o.containsKey("message") ? 1 : 0) + (o.containsKey("invalidation") ? 1 : 0)
          + (o.containsKey("device") ? 1 : 0) + (o.containsKey("crash") ? 1 : 0) + (o.containsKey("journal") ? 1 : 0)
          + (o.containsKey("reclaim") ? 1 : 0);
      if (kinds != 1) {
        throw r.error(o, key, "needs exactly one of op (a failing call), message (a faulted envelope), invalidation (slow | timeout),"
            + " device (a device that resets or disappears), crash (an actor that crashes and restarts), journal (fail | reject | slow),"
            + " reclaim (page reclaim of an address range)");
      }
      if (o.containsKey("reclaim")) {
        r.onlyKeys(o, key + ".", Set.of("reclaim", "pages", "blockable", "on", "from", "nth", "every", "probability"));
        HoconReader sub = r.sub(o, key);
        long start = sub.number("reclaim", 0, 0, MmSection.TASK_SIZE - 4096);
        if ((start & 0xfff) != 0) throw r.error(o.get("reclaim"), key + ".reclaim", "must be a page-aligned user address, got 0x" + Long.toHexString(start));
        long pages = sub.number("pages", 1, 1, 1L << 24);
        String on = o.containsKey("on") ? sub.string("on", null) : null;
        if (on != null && !MM_RECEIVES.contains(on)) {
          throw r.error(o.get("on"), key + ".on", "'" + on + "' is not a call that allocates pages (and so may reclaim): one of " + new TreeSet<>(MM_RECEIVES));
        }
        if (reclaims.size() == 64) throw r.error(o, key, "at most 64 reclaim rules");
        reclaims.add(new dmasim.actors.mm.ReclaimRule(on, actor(r, o, key, "from", devices), trigger(r, o, key), start, pages, sub.bool("blockable",
            true)));
        continue;
      }
      if (o.containsKey("journal")) {
        r.onlyKeys(o, key + ".", Set.of("journal", "actor", "nth", "every", "probability", "delay"));
        JournalFaults.Kind kind = r.sub(o, key).choice("journal", null, Map.of("fail", JournalFaults.Kind.FAIL, "reject", JournalFaults.Kind.REJECT,
            "slow", JournalFaults.Kind.SLOW));
        MessageFaults.Delay d = delay(r, o, key, kind == JournalFaults.Kind.SLOW);
        if (kind == JournalFaults.Kind.SLOW && !d.shape().equals("fixed")) throw r.error(o.get("delay"), key + ".delay", "a slow write takes a fixed delay (5ms)");
        journal.add(new JournalFaults.Rule(kind, actor(r, o, key, "actor", devices), trigger(r, o, key), d.a()));
      } else if (o.containsKey("crash")) {
        r.onlyKeys(o, key + ".", Set.of("crash", "on", "from", "nth", "every", "probability"));
        String who = actor(r, o, key, "crash", devices);
        String on = o.containsKey("on") ? r.sub(o, key).string("on", null) : null;
        if (on != null && !MESSAGE_TYPES.contains(on)) throw r.error(o.get("on"), key + ".on", "'" + on + "' is not a message type: one of " + MESSAGE_TYPES);
        messages.add(new MessageFaults.Rule(MessageFaults.Action.CRASH, actor(r, o, key, "from", devices), who, on, trigger(r, o, key),
            MessageFaults.Delay.NONE));
      } else if (o.containsKey("device")) {
        r.onlyKeys(o, key + ".", Set.of("device", "fault", "on", "from", "nth", "every", "probability"));
        String dev = actor(r, o, key, "device", devices);
        if (!dev.startsWith("dev")) throw r.error(o.get("device"), key + ".device", "'" + dev + "' is not a device");
        deviceFaults.computeIfAbsent(dev, k -> new ArrayList<>()).add(deviceRule(r, o, key, devices));
      } else if (o.containsKey("op")) {
        r.onlyKeys(o, key + ".", Set.of("op", "nth", "every", "probability", "errno"));
        calls.add(callRule(r, o, key));
      } else if (o.containsKey("message")) {
        r.onlyKeys(o, key + ".", Set.of("message", "type", "from", "to", "nth", "every", "probability", "delay"));
        messages.add(messageRule(r, o, key, devices));
      } else {
        r.onlyKeys(o, key + ".", Set.of("invalidation", "nth", "every", "probability", "delay"));
        messages.add(invalidationRule(r, o, key));
      }
    }
    return new Faults(new FaultPlan(calls), messages, deviceFaults, journal, reclaims);
  }

  /** A device rule: {@code fault = reset | remove} as the device receives the selected envelope ({@code on} a type, {@code from} a sender). */
  private static DeviceFault deviceRule(HoconReader r, ConfigObject o, String key, Map<String, DeviceId> devices) {
    HoconReader sub = r.sub(o, key);
    String fault = sub.choice("fault", null, Map.of("reset", "reset", "remove", "remove"));
    String on = o.containsKey("on") ? sub.string("on", null) : null;
    if (on != null && !DEVICE_RECEIVES.contains(on)) {
      throw r.error(o.get("on"), key + ".on", "'" + on + "' is not a message a device receives: one of " + new TreeSet<>(DEVICE_RECEIVES));
    }
    return new DeviceFault(fault, on, actor(r, o, key, "from", devices), trigger(r, o, key));
  }

  /** The call rule {@code o} at {@code key}. */
  private static FaultPlan.Rule callRule(HoconReader r, ConfigObject o, String key) {
    HoconReader sub = r.sub(o, key);
    String op = sub.string("op", null);
    if (!FaultPlan.OPERATIONS.contains(op)) throw r.error(o.get("op"), key + ".op", "'" + op + "' is not one of " + new TreeSet<>(FaultPlan.OPERATIONS));
    Trigger trigger = trigger(r, o, key);
    if ((op.equals(FaultPlan.ALLOC_PAGES) || op.equals(FaultPlan.SWIOTLB)) && o.containsKey("errno")) {
      throw r.error(o.get("errno"), key + ".errno", op + " fails as exhaustion does (no pages, no slot): it takes no errno");
    }
    Errno.Name errno = sub.choice("errno", Errno.Name.ENOMEM.name(), ERRNOS);
    return new FaultPlan.Rule(op, trigger, errno.code());
  }

  /** The message rule {@code o} at {@code key}. */
  private static MessageFaults.Rule messageRule(HoconReader r, ConfigObject o, String key, Map<String, DeviceId> devices) {
    HoconReader sub = r.sub(o, key);
    MessageFaults.Action action = sub.choice("message", null, ACTIONS);
    String type = o.containsKey("type") ? sub.string("type", null) : null;
    if (type != null && !MESSAGE_TYPES.contains(type)) throw r.error(o.get("type"), key + ".type", "'" + type + "' is not a message type: one of " + MESSAGE_TYPES);
    Set<String> allowed = action == MessageFaults.Action.DUPLICATE ? DUPLICABLE : ASYNCHRONOUS;
    if ((action == MessageFaults.Action.DUPLICATE || action == MessageFaults.Action.REORDER) && (type == null || !allowed.contains(type))) {
      String why = type == null ? "" : ASYNCHRONOUS.contains(type) ? ": hardware does not deliver " + type + " twice (it can be delayed, dropped or reordered)"
          : ": " + type + " is a synchronous call, return or timer; it can be delayed or dropped, not " + action.done;
      throw r.error(o.containsKey("type") ? o.get("type") : o, key + ".type", action.label() + " needs the type of "
          + (action == MessageFaults.Action.DUPLICATE ? "a message hardware can deliver twice" : "an asynchronous message") + ", one of "
          + new TreeSet<>(allowed) + why);
    }
    String from = actor(r, o, key, "from", devices);
    String to = actor(r, o, key, "to", devices);
    Trigger trigger = trigger(r, o, key);
    MessageFaults.Delay delay = delay(r, o, key, action == MessageFaults.Action.DELAY);
    return new MessageFaults.Rule(action, from, to, type, trigger, delay);
  }

  /** {@code invalidation = slow} delays the IOMMU's invalidation completions; {@code timeout} drops them (the wait never completes). */
  private static MessageFaults.Rule invalidationRule(HoconReader r, ConfigObject o, String key) {
    HoconReader sub = r.sub(o, key);
    boolean slow = sub.choice("invalidation", null, Map.of("slow", true, "timeout", false));
    if (!slow && o.containsKey("delay")) throw r.error(o.get("delay"), key + ".delay", "invalidation = timeout never completes: it takes no delay");
    Trigger trigger = trigger(r, o, key);
    MessageFaults.Delay delay = slow ? delay(r, o, key, true) : MessageFaults.Delay.NONE;
    return new MessageFaults.Rule(slow ? MessageFaults.Action.DELAY : MessageFaults.Action.DROP, Names.IOMMU, Names.IOMMU, "InvalidationDone",
        trigger, delay);
  }

  /** An actor name: cpuN, iommu0, mem, a device of the scenario by name, or devN ({@code devices} null: a built-in scenario's faults file, actor names only). */
  private static String actor(HoconReader r, ConfigObject o, String key, String field, Map<String, DeviceId> devices) {
    if (!o.containsKey(field)) return null;
    String v = r.sub(o, key).string(field, null);
    DeviceId dev = devices == null ? null : devices.get(v);
    if (dev != null) return Names.device(dev);
    if (v.equals(Names.IOMMU) || v.equals(Names.MEMORY) || v.matches("cpu([0-9]|[1-5][0-9]|6[0-3])")) return v;
    if (v.equals(Names.mm(0)) || v.matches("dpt-[a-z][a-z0-9-]{0,31}")) return v; // the HMM side's actors (the run checks they exist)
    if (v.matches("dev[0-9]{1,4}") && (devices == null || devices.containsValue(new DeviceId(Integer.parseInt(v.substring(3)))))) return v;
    throw r.error(o.get(field), key + "." + field, "'" + v + "' is not an actor: cpuN, " + Names.IOMMU + ", " + Names.MEMORY + ", "
        + (devices == null ? "devN" : "or a device " + new TreeSet<>(devices.keySet()) + " (or its actor name devN)"));
  }

  /** The rule's trigger: exactly one of nth, every, probability. */
  private static Trigger trigger(HoconReader r, ConfigObject o, String key) {
    HoconReader sub = r.sub(o, key);
    long nth = sub.number("nth", 0, 1, Long.MAX_VALUE);
    long every = sub.number("every", 0, 1, Long.MAX_VALUE);
    double p = probability(r, o, key);
    int set = (nth > 0 ? 1 : 0) + (every > 0 ? 1 : 0) + (p > 0 ? 1 : 0);
    if (set != 1) throw r.error(o, key, "needs exactly one of nth, every, probability");
    return new Trigger(nth, every, p);
  }

  /** {@code delay = 5us}, {@code delay = { uniform = [1us, 10us] }} or {@code delay = { exponential = 5us }} (the mean). */
  private static MessageFaults.Delay delay(HoconReader r, ConfigObject o, String key, boolean required) {
    if (!o.containsKey("delay")) {
      if (required) throw r.error(o, key + ".delay", "is required: 5us, { uniform = [1us, 10us] } or { exponential = 5us }");
      return MessageFaults.Delay.NONE;
    }
    if (!required) throw r.error(o.get("delay"), key + ".delay", "only a delay rule takes a delay");
    String k = key + ".delay";
    long max = 10_000_000_000L;
    if (o.get("delay").valueType() != ConfigValueType.OBJECT) {
      long d = r.sub(o, key).nanos("delay", 0, max);
      if (d == 0) throw r.error(o.get("delay"), k, "must be above 0 (at most 10s)");
      return new MessageFaults.Delay("fixed", d, 0);
    }
    ConfigObject d = (ConfigObject) o.get("delay");
    r.onlyKeys(d, k + ".", Set.of("uniform", "exponential"));
    if (d.size() != 1) throw r.error(d, k, "needs exactly one of uniform = [min, max], exponential = mean");
    HoconReader sub = r.sub(d, k);
    if (d.containsKey("exponential")) {
      long mean = sub.nanos("exponential", 0, max);
      if (mean == 0) throw r.error(d.get("exponential"), k + ".exponential", "must be above 0");
      return new MessageFaults.Delay("exponential", mean, 0);
    }
    if (!(d.get("uniform") instanceof ConfigList range) || range.size() != 2) {
      throw r.error(d.get("uniform"), k + ".uniform", "must be [min, max], two durations such as [1us, 10us]");
    }
    long lo = nanosOf(r, range.get(0), k + ".uniform[0]", max);
    long hi = nanosOf(r, range.get(1), k + ".uniform[1]", max);
    if (hi < lo || hi == 0) throw r.error(range, k + ".uniform", "needs 0 <= min <= max and max above 0");
    return new MessageFaults.Delay("uniform", lo, hi);
  }

  private static long nanosOf(HoconReader r, com.typesafe.config.ConfigValue v, String key, long max) {
    if (v.valueType() == ConfigValueType.NUMBER) {
      throw r.error(v, key, "needs a unit: 500ns, 1us, 10ms (a bare number would be read as milliseconds), got " + v.render());
    }
    try {
      long n = com.typesafe.config.ConfigFactory.empty().withValue("d", v).getDuration("d").toNanos();
      if (n < 0 || n > max) throw r.error(v, key, "must be between 0 and " + max + " ns");
      return n;
    } catch (ConfigException e) {
      throw r.error(v, key, "must be a duration such as 500ns, 1us, 10ms, got '" + v.unwrapped() + "'");
    }
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
    if (p <= 0 || p > 1 || Double.isNaN(p)) throw r.error(o.get("probability"), key + ".probability", "must be in (0, 1], got " + p);
    return p;
  }
}
