package dmasim.scenarios;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dmasim.actors.cpu.Op;
import dmasim.actors.cpu.Program;
import dmasim.actors.device.DeviceSettings;
import dmasim.actors.iommu.FaultPlan;
import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.monitor.MonitorSettings;
import dmasim.actors.monitor.Monitors;
import dmasim.chaos.StrategySpec;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.Errno;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Loads a scenario from a HOCON file (documented in docs/scenario-format.md). Everything is checked
 * once, here, at the edge: unknown keys, wrong types, impossible values, undefined names (buffers,
 * state objects, handles, sg tables, labels, devices, monitors) are {@link UserError}s naming the
 * file, the line and the key. The result runs through the same runner as the built-in scenarios.
 */
public final class ScenarioFile {
  static final Set<String> TOP = Set.of("name", "description", "variant", "pair", "iommu", "cpus", "devices", "memory", "workload", "programs",
      "faults", "monitors", "expect");
  static final Set<String> IOMMU = Set.of("mode", "granule", "aperture-bits", "reserved", "iotlb-entries", "caching-mode", "flush-queue",
      "invalidation-latency", "invalidation-order", "teardown-deletes-timer-sync", "gather-end-bug", "sync-map-flag-at-attach", "swiotlb-zero-middle-bug", "swiotlb-init-slot",
      "init-domain-unlocked", "init-domain-latency");
  static final Set<String> DEVICE = Set.of("name", "kind", "coherent", "untrusted", "iommu", "ats", "atc-entries", "dma-mask-bits", "page-time",
      "late-access-percent", "late-access-max-delay", "p2p", "max-segment-size", "segment-boundary", "attach");
  static final Set<String> EXPECT = Set.of("verdict", "monitor", "strategy", "schedules", "seed", "max-invalidations-per-unmap");

  private final String file;
  private final Config c;
  private final String prefix; // the path of c within the file, for error messages ("devices[0].")

  private ScenarioFile(String file, Config c) {
    this(file, c, "");
  }

  private ScenarioFile(String file, Config c, String prefix) {
    this.file = file;
    this.c = c;
    this.prefix = prefix;
  }

  /** Loads {@code path}; every mistake is a UserError "FILE:LINE: KEY: what is wrong". */
  public static Scenario load(Path path) {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UserError("cannot read scenario file " + path + ": " + e.getMessage());
    }
    return parse(path.toString(), text);
  }

  /** Parses scenario text; {@code file} names it in errors. */
  public static Scenario parse(String file, String text) {
    Config c;
    try (Reader r = new StringReader(text)) {
      c = ConfigFactory.parseReader(r, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setOriginDescription(file)).resolve();
    } catch (ConfigException e) {
      int line = e.origin() == null ? 0 : e.origin().lineNumber();
      String msg = e.getMessage().replaceFirst("^.*?: \\d+: ", "");
      throw new UserError(file + ":" + line + ": syntax: " + msg);
    } catch (IOException e) {
      throw new UserError("cannot read scenario " + file + ": " + e.getMessage());
    }
    return new ScenarioFile(file, c).build();
  }

  // ---- errors ---------------------------------------------------------------------------------

  private UserError error(ConfigValue at, String key, String message) {
    int line = at == null || at.origin() == null ? 0 : at.origin().lineNumber();
    String full = key.startsWith(prefix) ? key : prefix + key;
    return new UserError(file + ":" + line + ": " + full + ": " + message);
  }

  private UserError error(String key, String message) {
    ConfigValue v = c.hasPathOrNull(key) ? c.getValue(key) : null;
    if (v == null) {
      int dot = key.lastIndexOf('.');
      String parent = dot < 0 ? null : key.substring(0, dot);
      v = parent != null && c.hasPath(parent) ? c.getValue(parent) : c.root();
    }
    return error(v, key, message);
  }

  private void onlyKeys(ConfigObject o, String prefix, Set<String> allowed) {
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      if (!allowed.contains(e.getKey())) {
        throw error(e.getValue(), prefix + e.getKey(), "unknown key (expected one of " + new TreeSet<>(allowed) + ")");
      }
    }
  }

  private String string(String key, String dflt) {
    if (!c.hasPath(key)) {
      if (dflt == null) throw error(key, "required");
      return dflt;
    }
    ConfigValue v = c.getValue(key);
    if (v.valueType() != ConfigValueType.STRING) throw error(key, "must be a string, got " + v.valueType().name().toLowerCase(Locale.ROOT));
    return c.getString(key);
  }

  private long number(String key, long dflt, long min, long max) {
    if (!c.hasPath(key)) return dflt;
    ConfigValue v = c.getValue(key);
    long n;
    try {
      n = v.valueType() == ConfigValueType.STRING && ((String) v.unwrapped()).startsWith("0x") ? Long.decode((String) v.unwrapped())
          : c.getLong(key);
    } catch (ConfigException | NumberFormatException e) {
      throw error(key, "must be a whole number (decimal or 0x hex), got '" + v.unwrapped() + "'");
    }
    if (n < min || n > max) throw error(key, "must be between " + min + " and " + max + ", got " + n);
    return n;
  }

  private boolean bool(String key, boolean dflt) {
    if (!c.hasPath(key)) return dflt;
    try {
      return c.getBoolean(key);
    } catch (ConfigException e) {
      throw error(key, "must be true or false, got '" + c.getValue(key).unwrapped() + "'");
    }
  }

  private long nanos(String key, long dflt, long max) {
    if (!c.hasPath(key)) return dflt;
    Duration d;
    try {
      d = c.getDuration(key);
    } catch (ConfigException e) {
      throw error(key, "must be a duration such as 500ns, 1us, 10ms, got '" + c.getValue(key).unwrapped() + "'");
    }
    if (d.isNegative() || d.toNanos() > max) throw error(key, "must be between 0 and " + max + " ns");
    return d.toNanos();
  }

  private <T> T choice(String key, String dflt, Map<String, T> values) {
    String v = string(key, dflt);
    T t = values.get(v);
    if (t == null) throw error(key, "'" + v + "' is not one of " + values.keySet());
    return t;
  }

  // ---- the scenario ---------------------------------------------------------------------------

  private Scenario build() {
    onlyKeys(c.root(), "", TOP);
    String name = string("name", null);
    if (!name.matches("[a-z0-9][a-z0-9-]{0,63}")) throw error("name", "use lower-case letters, digits and '-' (at most 64), got '" + name + "'");
    String description = string("description", null);
    choice("variant", "none", Map.of("fixed", 1, "buggy", 2, "none", 0));
    if (c.hasPath("pair")) string("pair", null);
    int cpus = (int) number("cpus", 1, 1, 64);
    List<DeviceSettings> devices = devices();
    Map<String, DeviceId> deviceIds = new LinkedHashMap<>();
    for (DeviceSettings d : devices) deviceIds.put(names.get(d.id().value()), d.id());
    long memoryPages = memory();
    IommuSettings iommu = iommu(cpus, devices);
    if (iommu.strictRequired() != null) throw error("iommu.mode", "mode " + c.getString("iommu.mode") + " is not possible: " + iommu.strictRequired());
    FaultPlan faults = faults();
    if (c.hasPath("workload")) onlyKeys(c.getObject("workload"), "workload.", Set.of("requests", "segments"));
    long requests = number("workload.requests", 1, 1, 1_000_000);
    int segments = (int) number("workload.segments", 1, 1, 128);
    MonitorSettings monitors = monitors();
    if (c.hasPath("expect")) onlyKeys(c.getObject("expect"), "expect.", EXPECT);
    String verdict = choice("expect.verdict", "clean", Map.of("clean", "clean", "violation", "violation"));
    String monitor = null;
    if (verdict.equals("violation") && !c.hasPath("expect.monitor")) {
      monitor = Scenario.ANY_VIOLATION;
    } else if (verdict.equals("violation")) {
      monitor = string("expect.monitor", null);
      Set<String> known = new TreeSet<>(Monitors.known());
      known.add("InvalidationCost");
      if (!known.contains(monitor)) throw error("expect.monitor", "unknown monitor '" + monitor + "' (known: " + known + ")");
    } else if (c.hasPath("expect.monitor")) {
      throw error("expect.monitor", "only with verdict = violation");
    }
    String strategy = string("expect.strategy", "random");
    try {
      StrategySpec.parse(strategy);
    } catch (IllegalArgumentException e) {
      throw error("expect.strategy", e.getMessage());
    }
    long schedules = number("expect.schedules", 20, 1, 1_000_000);
    long seed = number("expect.seed", 1, Long.MIN_VALUE, Long.MAX_VALUE);
    int maxInv = (int) number("expect.max-invalidations-per-unmap", 0, 0, 1_000_000);
    MonitorSettings ms = new MonitorSettings(monitors.enabled(), maxInv);
    Map<String, List<ParsedStep>> programs = programs(cpus, deviceIds);
    RunOptions defaults = new RunOptions(1, null, cpus, requests, segments, RunOptions.DEFAULT_MAX_STEPS);
    Function<RunOptions, SystemSpec> builder = o -> {
      IommuSettings io = iommu;
      if (o.mode() != null) io = io.withMode(o.mode());
      for (Map.Entry<String, List<ParsedStep>> prog : programs.entrySet()) {
        for (ParsedStep st : prog.getValue()) {
          if (!st.op().equals("alloc-coherent")) continue;
          DeviceId dev = deviceIds.get(st.args().getOrDefault("device", deviceIds.keySet().iterator().next()));
          if (io.direct(dev)) {
            throw error(st.at(), st.key(), "alloc-coherent is modelled on the IOMMU path only, and device dev" + dev.value()
                + " takes dma-direct here (iommu = false or mode passthrough): dma_direct_alloc is not modelled");
          }
        }
      }
      if (io.strictRequired() != null) throw new UserError("--iommu " + o.mode().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + " is not possible for " + name + ": " + io.strictRequired());
      io = resized(io, o.cpus()).withFaults(faults, o.seed());
      List<DeviceSettings> devs = new ArrayList<>();
      for (DeviceSettings d : devices) {
        devs.add(new DeviceSettings(d.id(), d.ats(), d.atcCapacity(), d.pageTime(), d.latePercent(), d.lateMaxDelay(), o.seed(), io.direct(d.id())));
      }
      List<Program> progs = new ArrayList<>();
      for (int i = 0; i < o.cpus(); i++) {
        List<ParsedStep> steps = programs.getOrDefault("cpu" + i, programs.get("all"));
        if (steps == null) throw new IllegalArgumentException("no program for cpu" + i + " (add programs.all or programs.cpu" + i + ")");
        progs.add(compile(name + "/cpu" + i, steps, o));
      }
      return new SystemSpec(io, devs, progs, memoryPages, ms);
    };
    // Compile once with the defaults so that every program error surfaces at load time.
    builder.apply(defaults);
    return new Scenario(name, description, monitor, builder, defaults, new Scenario.Expectation(strategy, schedules, seed), file);
  }

  private static IommuSettings resized(IommuSettings s, int cpus) {
    return s.withCpus(cpus);
  }

  private final List<String> names = new ArrayList<>();

  private List<DeviceSettings> devices() {
    if (!c.hasPath("devices")) throw error("devices", "required: a list with at least one device");
    ConfigList list;
    try {
      list = c.getList("devices");
    } catch (ConfigException e) {
      throw error("devices", "must be a list of device objects");
    }
    if (list.isEmpty()) throw error(list, "devices", "at least one device");
    List<DeviceSettings> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String key = "devices[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject o)) throw error(list.get(i), key, "must be an object");
      onlyKeys(o, key + ".", DEVICE);
      Config d = o.toConfig();
      ScenarioFile sub = new ScenarioFile(file, d, key + ".");
      String name = sub.string("name", "dev" + i);
      if (names.contains(name)) throw error(o, key + ".name", "device '" + name + "' defined twice");
      names.add(name);
      sub.choice("kind", "nvme", Map.of("nvme", 1, "nic", 2, "gpu", 3, "rdma", 4));
      deviceCoherent.put(i, sub.bool("coherent", true));
      deviceUntrusted.put(i, sub.bool("untrusted", false));
      deviceDirect.put(i, !sub.bool("iommu", true));
      deviceAttachAtStart.put(i, sub.choice("attach", "at-start", Map.of("at-start", true, "step", false)));
      if (d.hasPath("p2p")) throw error(o.get("p2p"), key + ".p2p", "P2P providers and paths are not modelled yet");
      boolean ats = sub.bool("ats", false);
      if (deviceDirect.get(i) && ats) throw error(o.get("ats"), key + ".ats", "ATS needs an IOMMU: a device with iommu = false has no ATC to fill");
      if (deviceDirect.get(i) && !deviceAttachAtStart.get(i)) {
        throw error(o.get("attach"), key + ".attach", "a device with iommu = false has no DMA domain to attach to: leave attach = at-start");
      }
      int atc = (int) sub.number("atc-entries", 32, 1, 1 << 20);
      int mask = (int) sub.number("dma-mask-bits", 64, 24, 64);
      long pageTime = sub.nanos("page-time", 500, 1_000_000_000L);
      int late = (int) sub.number("late-access-percent", 0, 0, 100);
      long lateMax = sub.nanos("late-access-max-delay", 5_000_000L, 10_000_000_000L);
      if (late > 0 && lateMax == 0) throw error(o, key + ".late-access-max-delay", "must be positive when late-access-percent is set");
      long maxSeg = sub.number("max-segment-size", IommuSettings.DeviceSpec.DEFAULT_MAX_SEGMENT_SIZE, 4096, 0xffffffffL);
      long boundary = sub.number("segment-boundary", IommuSettings.DeviceSpec.DEFAULT_SEGMENT_BOUNDARY, 0xfff, Long.MAX_VALUE);
      if ((boundary & (boundary + 1)) != 0) {
        throw error(o.get("segment-boundary"), key + ".segment-boundary", "must be a mask 2^n - 1 such as 0xffff, got 0x" + Long.toHexString(boundary));
      }
      out.add(new DeviceSettings(new DeviceId(i), ats, atc, pageTime, late, lateMax, 0));
      deviceMasks.put(i, mask);
      deviceSegments.put(i, new long[] {maxSeg, boundary});
    }
    return out;
  }

  private final Map<Integer, Integer> deviceMasks = new HashMap<>();
  private final Map<Integer, Boolean> deviceUntrusted = new HashMap<>();
  private final Map<Integer, Boolean> deviceCoherent = new HashMap<>();
  private final Map<Integer, Boolean> deviceDirect = new HashMap<>();
  private final Map<Integer, long[]> deviceSegments = new HashMap<>(); // {max-segment-size, segment-boundary}
  private final Map<Integer, Boolean> deviceAttachAtStart = new HashMap<>();

  private final List<dmasim.actors.memory.Region> regions = new ArrayList<>();

  /** RAM size, and the non-RAM regions (MMIO ranges, P2P BARs) placed above 4 GiB. */
  private long memory() {
    if (c.hasPath("memory")) onlyKeys(c.getObject("memory"), "memory.", Set.of("pages", "types"));
    long pages = number("memory.pages", 4096, 16, 1L << 24);
    if (!c.hasPath("memory.types")) return pages;
    ConfigList list;
    try {
      list = c.getList("memory.types");
    } catch (ConfigException e) {
      throw error("memory.types", "must be a list of { name, kind = mmio | p2p, pages, path, bus-offset-pages }");
    }
    long next = 1L << 20; // pfn of 4 GiB
    for (int i = 0; i < list.size(); i++) {
      String key = "memory.types[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject o)) throw error(list.get(i), key, "must be an object");
      onlyKeys(o, key + ".", Set.of("name", "kind", "pages", "path", "bus-offset-pages"));
      ScenarioFile sub = new ScenarioFile(file, o.toConfig(), key + ".");
      String name = sub.string("name", null);
      if (regions.stream().anyMatch(r -> r.name().equals(name))) throw error(o.get("name"), key + ".name", "region '" + name + "' defined twice");
      var kind = sub.choice("kind", null, Map.of("mmio", dmasim.actors.memory.Region.Kind.MMIO, "p2p", dmasim.actors.memory.Region.Kind.P2P));
      long n = sub.number("pages", 16, 1, 1L << 20);
      var path = sub.choice("path", kind == dmasim.actors.memory.Region.Kind.P2P ? null : "none", Map.of("none",
          dmasim.actors.memory.Region.Path.NONE, "bus-address", dmasim.actors.memory.Region.Path.BUS_ADDRESS, "host-bridge",
          dmasim.actors.memory.Region.Path.HOST_BRIDGE, "not-supported", dmasim.actors.memory.Region.Path.NOT_SUPPORTED));
      if (kind == dmasim.actors.memory.Region.Kind.MMIO && path != dmasim.actors.memory.Region.Path.NONE) {
        throw error(o.get("path"), key + ".path", "only P2P regions have a path");
      }
      long offset = sub.number("bus-offset-pages", 0, 0, 1L << 30);
      regions.add(new dmasim.actors.memory.Region(name, kind, next, n, path, offset));
      next += Math.max(n, 1L << 8);
    }
    return pages;
  }

  private IommuSettings iommu(int cpus, List<DeviceSettings> devices) {
    if (c.hasPath("iommu")) onlyKeys(c.getObject("iommu"), "iommu.", IOMMU);
    IommuSettings.Mode mode = choice("iommu.mode", "strict", Map.of("strict", IommuSettings.Mode.STRICT, "lazy", IommuSettings.Mode.LAZY,
        "lazy-single", IommuSettings.Mode.LAZY_SINGLE, "passthrough", IommuSettings.Mode.PASSTHROUGH));
    if (number("iommu.granule", 4096, 1, 1 << 20) != 4096) throw error("iommu.granule", "only a 4096-byte granule is modelled");
    int bits = (int) number("iommu.aperture-bits", 48, 13, 57);
    List<long[]> reserved = new ArrayList<>();
    if (c.hasPath("iommu.reserved")) {
      ConfigList list = c.getList("iommu.reserved");
      for (int i = 0; i < list.size(); i++) {
        String key = "iommu.reserved[" + i + "]";
        if (!(list.get(i) instanceof ConfigObject o)) throw error(list.get(i), key, "must be { start = PFN, pages = N }");
        onlyKeys(o, key + ".", Set.of("start", "pages"));
        ScenarioFile sub = new ScenarioFile(file, o.toConfig(), key + ".");
        long start = sub.number("start", -1, 1, (1L << (bits - 12)) - 1);
        long pages = sub.number("pages", -1, 1, 1L << (bits - 12));
        if (start < 0 || pages < 0) throw error(o, key, "needs start and pages");
        reserved.add(new long[] {start, pages});
      }
    }
    int iotlb = (int) number("iommu.iotlb-entries", 64, 1, 1 << 20);
    boolean caching = bool("iommu.caching-mode", false);
    boolean single = mode == IommuSettings.Mode.LAZY_SINGLE;
    if (c.hasPath("iommu.flush-queue")) onlyKeys(c.getObject("iommu.flush-queue"), "iommu.flush-queue.", Set.of("size", "timeout", "barrier"));
    boolean barrier = bool("iommu.flush-queue.barrier", true);
    int fqSize = (int) number("iommu.flush-queue.size", single ? IommuSettings.SINGLE_FQ_SIZE : IommuSettings.DEFAULT_FQ_SIZE, 2, 1 << 20);
    if (Integer.bitCount(fqSize) != 1) throw error("iommu.flush-queue.size", "must be a power of two, got " + fqSize);
    long fqTimeout = nanos("iommu.flush-queue.timeout", single ? IommuSettings.SINGLE_FQ_TIMEOUT : IommuSettings.DEFAULT_FQ_TIMEOUT,
        100_000_000_000L);
    if (fqTimeout == 0) throw error("iommu.flush-queue.timeout", "must be positive");
    long latency = nanos("iommu.invalidation-latency", 1_000, 1_000_000_000L);
    boolean atcFirst = choice("iommu.invalidation-order", "iotlb-then-atc", Map.of("iotlb-then-atc", false, "atc-then-iotlb", true));
    boolean timerSync = bool("iommu.teardown-deletes-timer-sync", true);
    boolean gatherBug = bool("iommu.gather-end-bug", false);
    boolean flagAtAttach = bool("iommu.sync-map-flag-at-attach", false);
    boolean zeroMiddleBug = bool("iommu.swiotlb-zero-middle-bug", false);
    boolean initSlot = bool("iommu.swiotlb-init-slot", true);
    boolean initUnlocked = bool("iommu.init-domain-unlocked", false);
    long initLatency = nanos("iommu.init-domain-latency", 0, 1_000_000_000L);
    Map<DeviceId, IommuSettings.DeviceSpec> specs = new LinkedHashMap<>();
    for (DeviceSettings d : devices) {
      long[] seg = deviceSegments.get(d.id().value());
      specs.put(d.id(), new IommuSettings.DeviceSpec(deviceMasks.get(d.id().value()), d.ats(), deviceUntrusted.get(d.id().value()),
          deviceCoherent.get(d.id().value()), seg[0], seg[1], deviceDirect.get(d.id().value()), deviceAttachAtStart.get(d.id().value())));
    }
    return new IommuSettings(mode, 12, 1L << (bits - 12), reserved, iotlb, caching, fqSize, fqTimeout, latency, atcFirst, cpus, specs,
        FaultPlan.NONE, 0, timerSync, gatherBug, barrier, regions, flagAtAttach, zeroMiddleBug, initSlot,
        initUnlocked, initLatency);
  }

  private FaultPlan faults() {
    if (!c.hasPath("faults")) return FaultPlan.NONE;
    ConfigList list;
    try {
      list = c.getList("faults");
    } catch (ConfigException e) {
      throw error("faults", "must be a list of { op = ..., nth | every | probability = ..., errno = ... }");
    }
    List<FaultPlan.Rule> rules = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String key = "faults[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject o)) throw error(list.get(i), key, "must be an object");
      onlyKeys(o, key + ".", Set.of("op", "nth", "every", "probability", "errno"));
      ScenarioFile sub = new ScenarioFile(file, o.toConfig(), key + ".");
      String op = sub.string("op", null);
      if (!FaultPlan.OPERATIONS.contains(op)) throw error(o.get("op"), key + ".op", "'" + op + "' is not one of " + new TreeSet<>(FaultPlan.OPERATIONS));
      long nth = sub.number("nth", 0, 1, Long.MAX_VALUE);
      long every = sub.number("every", 0, 1, Long.MAX_VALUE);
      double p = 0;
      if (o.containsKey("probability")) {
        try {
          p = o.toConfig().getDouble("probability");
        } catch (ConfigException e) {
          throw error(o.get("probability"), key + ".probability", "must be a number");
        }
        if (p <= 0 || p > 1) throw error(o.get("probability"), key + ".probability", "must be in (0, 1], got " + p);
      }
      int set = (nth > 0 ? 1 : 0) + (every > 0 ? 1 : 0) + (p > 0 ? 1 : 0);
      if (set != 1) throw error(o, key, "needs exactly one of nth, every, probability");
      int errno = sub.choice("errno", "ENOMEM", Map.of("ENOMEM", Errno.ENOMEM, "EIO", Errno.EIO, "EINVAL", Errno.EINVAL, "EREMOTEIO",
          Errno.EREMOTEIO));
      rules.add(new FaultPlan.Rule(op, nth, every, p, errno));
    }
    return new FaultPlan(rules);
  }

  private MonitorSettings monitors() {
    if (!c.hasPath("monitors")) return MonitorSettings.STANDARD;
    List<String> names = new ArrayList<>();
    ConfigList list;
    try {
      list = c.getList("monitors");
    } catch (ConfigException e) {
      throw error("monitors", "must be a list of monitor names");
    }
    Set<String> known = Monitors.known();
    for (int i = 0; i < list.size(); i++) {
      Object v = list.get(i).unwrapped();
      if (!(v instanceof String n) || !known.contains(n)) throw error(list.get(i), "monitors[" + i + "]", "unknown monitor '" + v + "' (known: " + known + ")");
      names.add(n);
    }
    return new MonitorSettings(names, 0);
  }

  // ---- programs -------------------------------------------------------------------------------

  /** One step as written: its operation, arguments, and where it stands. */
  record ParsedStep(String op, Map<String, String> args, List<String> positional, ConfigValue at, String key) {}

  private Map<String, List<ParsedStep>> programs(int cpus, Map<String, DeviceId> devices) {
    if (!c.hasPath("programs")) throw error("programs", "required: programs.all (every CPU queue) or programs.cpuN");
    ConfigObject o;
    try {
      o = c.getObject("programs");
    } catch (ConfigException e) {
      throw error("programs", "must be an object of step lists");
    }
    Map<String, List<ParsedStep>> out = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      String key = "programs." + e.getKey();
      if (!e.getKey().equals("all") && !e.getKey().matches("cpu\\d+")) throw error(e.getValue(), key, "program names are 'all' or cpuN");
      if (e.getKey().startsWith("cpu") && Integer.parseInt(e.getKey().substring(3)) >= cpus) {
        throw error(e.getValue(), key, "there are only " + cpus + " CPU queue(s) (cpus = " + cpus + ")");
      }
      if (!(e.getValue() instanceof ConfigList list)) throw error(e.getValue(), key, "must be a list of steps");
      if (list.isEmpty()) throw error(e.getValue(), key, "a program needs at least one step");
      List<ParsedStep> steps = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) steps.add(step(list.get(i), key + "[" + i + "]"));
      out.put(e.getKey(), steps);
    }
    for (int i = 0; i < cpus; i++) {
      if (!out.containsKey("all") && !out.containsKey("cpu" + i)) {
        throw error(o, "programs", "missing program for cpu" + i + " (add programs.all or programs.cpu" + i + ")");
      }
    }
    this.deviceIds = devices;
    for (Map.Entry<String, List<ParsedStep>> p : out.entrySet()) checkNames(p.getValue());
    return out;
  }

  private Map<String, DeviceId> deviceIds;

  private ParsedStep step(ConfigValue v, String key) {
    if (v.valueType() != ConfigValueType.STRING) throw error(v, key, "a step is a string such as \"link state=s buf=b seg=0 dir=to-device\"");
    String text = ((String) v.unwrapped()).trim();
    if (text.isEmpty()) throw error(v, key, "empty step");
    String[] words = text.split("\\s+");
    Map<String, String> args = new LinkedHashMap<>();
    List<String> positional = new ArrayList<>();
    for (int i = 1; i < words.length; i++) {
      int eq = words[i].indexOf('=');
      if (eq < 0) positional.add(words[i]);
      else if (args.put(words[i].substring(0, eq), words[i].substring(eq + 1)) != null) {
        throw error(v, key, "argument '" + words[i].substring(0, eq) + "' given twice");
      }
    }
    ParsedStep s = new ParsedStep(words[0], args, positional, v, key);
    StepSpec spec = STEPS.get(s.op());
    if (spec == null) throw error(v, key, "unknown step '" + s.op() + "' (steps: " + new TreeSet<>(STEPS.keySet()) + ")");
    if (positional.size() != spec.positional()) {
      throw error(v, key, s.op() + (spec.positional() == 0 ? " takes no bare words, got " + positional : " takes " + spec.positional()
          + " name(s), e.g. \"" + s.op() + " NAME\""));
    }
    for (String a : args.keySet()) {
      if (!spec.required().contains(a) && !spec.optional().contains(a)) {
        throw error(v, key, "unknown argument '" + a + "' for " + s.op() + " (expected " + spec.describe() + ")");
      }
    }
    for (String a : spec.required()) if (!args.containsKey(a)) throw error(v, key, s.op() + " needs " + a + "= (" + spec.describe() + ")");
    return s;
  }

  /** What a step takes. */
  record StepSpec(int positional, List<String> required, List<String> optional) {
    String describe() {
      List<String> all = new ArrayList<>(required);
      for (String o : optional) all.add("[" + o + "]");
      return all.isEmpty() ? "no arguments" : String.join(" ", all);
    }
  }

  static final Map<String, StepSpec> STEPS = new LinkedHashMap<>();

  /** Every step name the language has (the documentation test checks each is documented). */
  public static Set<String> stepNames() {
    return new TreeSet<>(STEPS.keySet());
  }

  static {
    STEPS.put("label", new StepSpec(1, List.of(), List.of()));
    STEPS.put("goto", new StepSpec(1, List.of(), List.of()));
    STEPS.put("if-error", new StepSpec(0, List.of("goto"), List.of()));
    STEPS.put("if-no-iova", new StepSpec(0, List.of("state", "goto"), List.of()));
    STEPS.put("if-errno", new StepSpec(0, List.of("errno", "goto"), List.of()));
    STEPS.put("if-odd", new StepSpec(0, List.of("counter", "goto"), List.of()));
    STEPS.put("repeat", new StepSpec(0, List.of("times"), List.of("counter")));
    STEPS.put("end-repeat", new StepSpec(0, List.of(), List.of()));
    STEPS.put("alloc", new StepSpec(0, List.of("buf", "pages"), List.of("region", "kind")));
    STEPS.put("free-pages", new StepSpec(0, List.of("buf"), List.of()));
    STEPS.put("write", new StepSpec(0, List.of("buf"), List.of()));
    STEPS.put("read", new StepSpec(0, List.of("buf"), List.of()));
    STEPS.put("try-alloc", new StepSpec(0, List.of("state", "buf"), List.of("offset", "device")));
    STEPS.put("link", new StepSpec(0, List.of("state", "buf", "seg", "dir"), List.of("device", "goto", "size", "mmio", "require-coherent")));
    STEPS.put("sync", new StepSpec(0, List.of("state"), List.of("device")));
    STEPS.put("unlink", new StepSpec(0, List.of("state", "dir"), List.of("seg", "offset", "size", "device")));
    STEPS.put("destroy", new StepSpec(0, List.of("state", "dir"), List.of("segs", "device")));
    STEPS.put("free", new StepSpec(0, List.of("state"), List.of("device")));
    STEPS.put("map-phys", new StepSpec(0, List.of("handle", "buf", "seg", "dir"), List.of("device", "mmio", "skip-cpu-sync", "single")));
    STEPS.put("mapping-error", new StepSpec(0, List.of("handle", "seg"), List.of("device", "goto")));
    STEPS.put("unmap-phys", new StepSpec(0, List.of("handle", "seg", "dir"), List.of("device")));
    STEPS.put("map-sg", new StepSpec(0, List.of("sg", "buf", "dir"), List.of("device", "merge", "max-segment")));
    STEPS.put("alloc-coherent", new StepSpec(0, List.of("buf", "pages"), List.of("device")));
    STEPS.put("free-coherent", new StepSpec(0, List.of("buf"), List.of("device", "pages", "handle-of")));
    STEPS.put("unmap-sg", new StepSpec(0, List.of("sg", "dir"), List.of("nents", "device")));
    STEPS.put("sync-for-cpu", new StepSpec(0, List.of("object", "dir"), List.of("seg", "device")));
    STEPS.put("sync-for-device", new StepSpec(0, List.of("object", "dir"), List.of("seg", "device")));
    STEPS.put("submit", new StepSpec(0, List.of("source"), List.of("device-writes", "device", "length")));
    STEPS.put("await", new StepSpec(0, List.of(), List.of("timeout")));
    STEPS.put("lock", new StepSpec(1, List.of(), List.of()));
    STEPS.put("unlock", new StepSpec(1, List.of(), List.of()));
    STEPS.put("reset-device", new StepSpec(0, List.of(), List.of("device")));
    STEPS.put("teardown-domain", new StepSpec(0, List.of(), List.of()));
    STEPS.put("attach-iommu", new StepSpec(0, List.of(), List.of("caching-mode")));
    STEPS.put("attach", new StepSpec(0, List.of("device"), List.of()));
    STEPS.put("surprise-removal", new StepSpec(0, List.of(), List.of("device")));
    STEPS.put("reset-state", new StepSpec(0, List.of("state"), List.of()));
    STEPS.put("sleep", new StepSpec(0, List.of("duration"), List.of()));
    STEPS.put("request-done", new StepSpec(0, List.of(), List.of()));
    STEPS.put("unbind", new StepSpec(0, List.of(), List.of("device")));
    STEPS.put("end", new StepSpec(0, List.of(), List.of()));
  }

  /** Undefined names: buffers, states, handles, sg tables, labels, devices; repeat balance. */
  private void checkNames(List<ParsedStep> steps) {
    Set<String> buffers = new TreeSet<>();
    Set<String> states = new TreeSet<>();
    Set<String> handles = new TreeSet<>();
    Set<String> sgs = new TreeSet<>();
    Set<String> labels = new TreeSet<>();
    Set<String> coherent = new TreeSet<>();
    for (ParsedStep s : steps) {
      switch (s.op()) {
        case "alloc" -> buffers.add(s.args().get("buf"));
        case "alloc-coherent" -> {
          buffers.add(s.args().get("buf"));
          coherent.add(s.args().get("buf"));
        }
        case "try-alloc" -> states.add(s.args().get("state"));
        case "map-phys" -> handles.add(s.args().get("handle"));
        case "map-sg" -> sgs.add(s.args().get("sg"));
        case "label" -> {
          if (!labels.add(s.positional().get(0))) throw error(s.at(), s.key(), "label '" + s.positional().get(0) + "' defined twice");
        }
        default -> {}
      }
    }
    int depth = 0;
    for (ParsedStep s : steps) {
      need(s, "buf", buffers, "buffer", "alloc buf=");
      need(s, "state", states, "dma_iova_state", "try-alloc state=");
      need(s, "handle", handles, "handle group", "map-phys handle=");
      need(s, "sg", sgs, "sg table", "map-sg sg=");
      need(s, "goto", labels, "label", "label ");
      if (s.op().equals("free-coherent")) {
        need(s, "buf", coherent, "coherent allocation", "alloc-coherent buf=");
        need(s, "handle-of", coherent, "coherent allocation", "alloc-coherent buf=");
      }
      if (s.op().equals("goto") && !labels.contains(s.positional().get(0))) {
        throw error(s.at(), s.key(), "undefined label '" + s.positional().get(0) + "'");
      }
      if (s.args().containsKey("device") && !deviceIds.containsKey(s.args().get("device"))) {
        throw error(s.at(), s.key(), "undefined device '" + s.args().get("device") + "' (devices: " + deviceIds.keySet() + ")");
      }
      if (s.op().equals("submit")) {
        String src = s.args().get("source");
        int colon = src.indexOf(':');
        String kind = colon < 0 ? "" : src.substring(0, colon);
        String name = colon < 0 ? "" : src.substring(colon + 1);
        Set<String> set = switch (kind) {
          case "state" -> states;
          case "handles" -> handles;
          case "sg" -> sgs;
          case "coherent" -> coherent;
          default -> throw error(s.at(), s.key(), "source must be state:NAME, handles:NAME, sg:NAME or coherent:NAME, got '" + src + "'");
        };
        if (!set.contains(name)) throw error(s.at(), s.key(), "undefined " + kind + " '" + name + "'");
      }
      if (s.op().equals("sync-for-cpu") || s.op().equals("sync-for-device")) {
        String obj = s.args().get("object");
        if (!handles.contains(obj) && !sgs.contains(obj)) throw error(s.at(), s.key(), "undefined handle group or sg table '" + obj + "'");
      }
      if (s.op().equals("attach") && deviceAttachAtStart.get(deviceIds.get(s.args().get("device")).value())) {
        throw error(s.at(), s.key(), "device '" + s.args().get("device") + "' is attached at start; only a device with attach = step is attached by a program");
      }
      if (s.op().equals("repeat")) depth++;
      if (s.op().equals("end-repeat") && --depth < 0) throw error(s.at(), s.key(), "end-repeat without repeat");
      if (s.args().containsKey("dir")) direction(s);
    }
    if (depth != 0) throw error(steps.get(steps.size() - 1).at(), steps.get(steps.size() - 1).key(), "repeat without end-repeat");
  }

  private void need(ParsedStep s, String arg, Set<String> defined, String what, String how) {
    String v = s.args().get(arg);
    if (v != null && !defined.contains(v)) throw error(s.at(), s.key(), "undefined " + what + " '" + v + "' (define it with " + how + v + ")");
  }

  private Direction direction(ParsedStep s) {
    String d = s.args().get("dir");
    return switch (d) {
      case "to-device" -> Direction.TO_DEVICE;
      case "from-device" -> Direction.FROM_DEVICE;
      case "bidirectional" -> Direction.BIDIRECTIONAL;
      default -> throw error(s.at(), s.key(), "dir must be to-device, from-device or bidirectional, got '" + d + "'");
    };
  }

  /** Turns parsed steps into instructions for the given workload size ($requests, $segments). */
  private Program compile(String name, List<ParsedStep> steps, RunOptions o) {
    Program.Builder b = new Program.Builder(name);
    Map<String, Integer> bufferPages = new HashMap<>();
    // How many handles each group holds (seg=all on mapping-error, unmap-phys and sync-for-* walks them, not $segments).
    Map<String, Integer> handleSegs = new HashMap<>();
    List<String> repeatLabels = new ArrayList<>();
    int generated = 0;
    for (ParsedStep s : steps) {
      Map<String, String> a = s.args();
      DeviceId dev = deviceIds.get(a.getOrDefault("device", deviceIds.keySet().iterator().next()));
      b.at(Path.of(file).getFileName() + ":" + (s.at() == null || s.at().origin() == null ? 0 : s.at().origin().lineNumber()) + " " + s.key());
      switch (s.op()) {
        case "label" -> b.op(new Op.Label(s.positional().get(0)));
        case "goto" -> b.op(new Op.Goto(s.positional().get(0)));
        case "if-error" -> b.op(new Op.JumpIfError(a.get("goto")));
        case "if-no-iova" -> b.op(new Op.JumpIfNoIova(a.get("state"), a.get("goto")));
        case "if-errno" -> b.op(new Op.JumpIfErrno(errno(s), a.get("goto")));
        case "if-odd" -> b.op(new Op.JumpIfOdd(a.get("counter"), a.get("goto")));
        case "repeat" -> {
          String label = "__repeat" + generated++;
          String counter = a.getOrDefault("counter", label);
          long times = count(s, "times", o, 1, 10_000_000);
          repeatLabels.add(label + "|" + counter + "|" + times);
          b.op(new Op.Label(label));
        }
        case "end-repeat" -> {
          String[] r = repeatLabels.remove(repeatLabels.size() - 1).split("\\|");
          b.op(new Op.Loop(r[1], Long.parseLong(r[2]), r[0]));
        }
        case "alloc" -> {
          int pages = (int) count(s, "pages", o, 1, 4096);
          bufferPages.merge(a.get("buf"), pages, Math::max);
          String region = a.getOrDefault("region", "");
          if (!region.isEmpty() && regions.stream().noneMatch(r -> r.name().equals(region))) {
            throw error(s.at(), s.key(), "undefined memory region '" + region + "' (define it in memory.types)");
          }
          dmasim.protocol.PageKind kind = dmasim.protocol.PageKind.LINEAR;
          if (a.containsKey("kind")) {
            kind = java.util.Arrays.stream(dmasim.protocol.PageKind.values()).filter(k -> k.key().equals(a.get("kind"))).findFirst()
                .orElseThrow(() -> error(s.at(), s.key(), "kind must be linear, stack, text, rodata, vmalloc or module, got '" + a.get("kind") + "'"));
            if (!region.isEmpty()) throw error(s.at(), s.key(), "kind= is for RAM; a memory.types region is not RAM");
          }
          b.op(new Op.AllocBuffer(a.get("buf"), pages, region, kind));
        }
        case "free-pages" -> b.op(new Op.FreeBuffer(a.get("buf")));
        case "write" -> b.op(new Op.Touch(a.get("buf"), true));
        case "read" -> b.op(new Op.Touch(a.get("buf"), false));
        case "try-alloc" -> b.op(new Op.TryAlloc(a.get("state"), a.get("buf"), dev, count(s, "offset", o, 0, 4095)));
        case "link" -> {
          int attrs = (flag(s, "mmio") ? DmaAttrs.MMIO : 0) | (flag(s, "require-coherent") ? DmaAttrs.REQUIRE_COHERENT : 0);
          for (int seg : segs(s, bufferPages.getOrDefault(a.get("buf"), 0), o)) {
            b.op(new Op.Link(a.get("state"), a.get("buf"), seg, dev, direction(s), a.containsKey("size") ? count(s, "size", o, 1, 4096) : 0, attrs));
            if (a.containsKey("goto")) b.op(new Op.JumpIfError(a.get("goto")));
          }
        }
        case "sync" -> b.op(new Op.Sync(a.get("state"), dev));
        case "unlink" -> {
          boolean range = a.containsKey("offset") || a.containsKey("size");
          if (range && a.containsKey("seg")) throw error(s.at(), s.key(), "unlink takes seg= or offset= and size=, not both");
          if (!range && !a.containsKey("seg")) throw error(s.at(), s.key(), "unlink needs seg= or both offset= and size= (bytes of the state)");
          if (range && !(a.containsKey("offset") && a.containsKey("size"))) {
            throw error(s.at(), s.key(), "unlink with offset= needs size= too, and size= needs offset= (bytes of the state)");
          }
          if (range) {
            b.op(new Op.Unlink(a.get("state"), 0, dev, direction(s), count(s, "offset", o, 0, 1L << 32), count(s, "size", o, 1, 1L << 32)));
          } else {
            for (int seg : segs(s, Integer.MAX_VALUE, o)) b.op(new Op.Unlink(a.get("state"), seg, dev, direction(s)));
          }
        }
        case "destroy" -> {
          String segsArg = a.getOrDefault("segs", "all");
          int segs = segsArg.equals("all") ? -1 : segsArg.equals("linked") ? -2 : (int) count(s, "segs", o, 0, 4096);
          b.op(new Op.Destroy(a.get("state"), segs, dev, direction(s)));
        }
        case "free" -> b.op(new Op.Free(a.get("state"), dev));
        case "map-phys" -> {
          boolean mmio = flag(s, "mmio");
          boolean skip = flag(s, "skip-cpu-sync");
          boolean single = flag(s, "single");
          for (int seg : segs(s, bufferPages.getOrDefault(a.get("buf"), 0), o)) {
            b.op(new Op.MapPhys(a.get("handle"), a.get("buf"), seg, dev, direction(s), mmio, skip, single));
            handleSegs.merge(a.get("handle"), seg + 1, Math::max);
          }
        }
        case "alloc-coherent" -> {
          int pages = (int) count(s, "pages", o, 1, 4096);
          bufferPages.merge(a.get("buf"), pages, Math::max);
          b.op(new Op.AllocBuffer(a.get("buf"), pages, ""));
          b.op(new Op.AllocCoherent(a.get("buf"), dev));
        }
        case "free-coherent" -> {
          long size = a.containsKey("pages") ? count(s, "pages", o, 1, 4096) * 4096 : 0;
          b.op(new Op.FreeCoherent(a.get("buf"), a.getOrDefault("handle-of", a.get("buf")), size, dev));
          b.op(new Op.FreeBuffer(a.get("buf")));
        }
        case "mapping-error" -> {
          for (int seg : segs(s, handleSegs.getOrDefault(a.get("handle"), Integer.MAX_VALUE), o)) {
            b.op(new Op.MappingError(a.get("handle"), seg, dev));
            if (a.containsKey("goto")) b.op(new Op.JumpIfError(a.get("goto")));
          }
        }
        case "unmap-phys" -> {
          for (int seg : segs(s, handleSegs.getOrDefault(a.get("handle"), Integer.MAX_VALUE), o)) {
            b.op(new Op.UnmapPhys(a.get("handle"), seg, dev, direction(s)));
          }
        }
        case "map-sg" -> {
          boolean merge = flag(s, "merge");
          if (a.containsKey("max-segment") && !merge) throw error(s.at(), s.key(), "max-segment= only with merge=true");
          // sg_alloc_table_from_pages passes UINT_MAX, rounded down to a page by sg_alloc_table_from_pages_segment
          long max = a.containsKey("max-segment") ? count(s, "max-segment", o, 4096, 0xffffffffL) & ~0xfffL : merge ? 0xfffff000L : 0;
          b.op(new Op.MapSg(a.get("sg"), a.get("buf"), dev, direction(s), max));
        }
        case "unmap-sg" -> b.op(new Op.UnmapSg(a.get("sg"), a.containsKey("nents") ? (int) count(s, "nents", o, 0, 4096) : -1, dev, direction(s)));
        case "sync-for-cpu", "sync-for-device" -> {
          // seg=all syncs every handle of a group, one dma_sync_single_* each; an sg table is synced whole anyway.
          List<Integer> segs = "all".equals(a.get("seg")) ? segs(s, handleSegs.getOrDefault(a.get("object"), Integer.MAX_VALUE), o)
              : List.of((int) count(s, "seg", o, 0, 4095));
          for (int seg : segs) b.op(new Op.SyncFor(a.get("object"), seg, s.op().equals("sync-for-cpu"), dev, direction(s)));
        }
        case "submit" -> b.op(new Op.Submit(dev, a.get("source"), flag(s, "device-writes"), a.containsKey("length") ? count(s, "length", o, 1, 1 << 24) : 0));
        case "await" -> b.op(new Op.Await(a.containsKey("timeout") ? stepDuration(s, "timeout") : 0));
        case "lock" -> b.op(new Op.Lock(s.positional().get(0)));
        case "unlock" -> b.op(new Op.Unlock(s.positional().get(0)));
        case "reset-device" -> b.op(new Op.ResetDevice(dev));
        case "teardown-domain" -> b.op(new Op.TearDownDomain());
        case "surprise-removal" -> b.op(new Op.SurpriseRemoval(dev));
        case "attach" -> b.op(new Op.AttachDevice(dev));
        case "attach-iommu" -> b.op(new Op.AttachIommu(!a.containsKey("caching-mode") || flag(s, "caching-mode")));
        case "reset-state" -> b.op(new Op.ResetState(a.get("state")));
        case "sleep" -> b.op(new Op.Sleep(stepDuration(s, "duration")));
        case "request-done" -> b.op(new Op.RequestDone());
        case "unbind" -> b.op(new Op.Unbind(dev));
        case "end" -> b.op(new Op.End());
        default -> throw error(s.at(), s.key(), "unknown step " + s.op());
      }
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw error(steps.get(0).at(), "programs", e.getMessage());
    }
  }

  /** A count argument: a whole number or $requests / $segments, within [min, max]. */
  private long count(ParsedStep s, String arg, RunOptions o, long min, long max) {
    String v = s.args().get(arg);
    if (v == null) return min;
    long n;
    if (v.equals("$requests")) n = o.requests();
    else if (v.equals("$segments")) n = o.segments();
    else {
      try {
        n = Long.decode(v);
      } catch (NumberFormatException e) {
        throw error(s.at(), s.key(), arg + " must be a whole number, $requests or $segments, got '" + v + "'");
      }
    }
    if (n < min || n > max) throw error(s.at(), s.key(), arg + " must be between " + min + " and " + max + ", got " + n);
    return n;
  }

  /** A duration argument of a step: a whole number with ns, us, ms or s (virtual time). */
  private long stepDuration(ParsedStep s, String arg) {
    String v = s.args().get(arg);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,12})(ns|us|ms|s)").matcher(v);
    if (!m.matches()) throw error(s.at(), s.key(), arg + " must be a duration such as 500ns, 20us, 5ms, got '" + v + "'");
    long n = Long.parseLong(m.group(1));
    long unit = switch (m.group(2)) {
      case "ns" -> 1;
      case "us" -> 1_000;
      case "ms" -> 1_000_000;
      default -> 1_000_000_000;
    };
    if (n == 0 || n > 100_000_000_000L / unit) throw error(s.at(), s.key(), arg + " must be between 1ns and 100s, got '" + v + "'");
    return n * unit;
  }

  private int errno(ParsedStep s) {
    String v = s.args().get("errno");
    return switch (v) {
      case "ENOMEM" -> Errno.ENOMEM;
      case "EIO" -> Errno.EIO;
      case "EINVAL" -> Errno.EINVAL;
      case "EEXIST" -> Errno.EEXIST;
      case "EPERM" -> Errno.EPERM;
      case "EOPNOTSUPP" -> Errno.EOPNOTSUPP;
      case "EREMOTEIO" -> Errno.EREMOTEIO;
      case "ETIMEDOUT" -> Errno.ETIMEDOUT;
      default -> throw error(s.at(), s.key(), "errno must be one of ENOMEM, EIO, EINVAL, EEXIST, EPERM, EOPNOTSUPP, EREMOTEIO, ETIMEDOUT, got '" + v + "'");
    };
  }

  /** seg=N or seg=all (every page of the buffer). */
  private List<Integer> segs(ParsedStep s, int bufferPages, RunOptions o) {
    String v = s.args().get("seg");
    List<Integer> out = new ArrayList<>();
    if ("all".equals(v)) {
      int n = bufferPages == Integer.MAX_VALUE ? o.segments() : bufferPages;
      if (n == 0) throw error(s.at(), s.key(), "seg=all needs the buffer allocated earlier in the program");
      for (int i = 0; i < n; i++) out.add(i);
      return out;
    }
    int seg = (int) count(s, "seg", o, 0, 4095);
    if (bufferPages != Integer.MAX_VALUE && bufferPages > 0 && seg >= bufferPages) {
      throw error(s.at(), s.key(), "seg " + seg + " is beyond the buffer's " + bufferPages + " page(s)");
    }
    out.add(seg);
    return out;
  }

  private boolean flag(ParsedStep s, String arg) {
    String v = s.args().getOrDefault(arg, "false");
    if (!v.equals("true") && !v.equals("false")) throw error(s.at(), s.key(), arg + " must be true or false, got '" + v + "'");
    return v.equals("true");
  }
}
