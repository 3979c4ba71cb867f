package dmasim.scenarios;

import dmasim.actors.cpu.Program;
import dmasim.actors.cpu.Programs;
import dmasim.actors.device.DeviceSettings;
import dmasim.actors.iommu.IommuSettings;
import dmasim.protocol.DeviceId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The built-in scenarios. */
public final class Catalog {
  /** One NVMe-like device at id 0, 64-bit DMA mask. */
  static final DeviceId NVME = new DeviceId(0);
  /** Late device accesses: 20 % of descriptors, up to 5 ms after completion (half the default flush-queue timeout). */
  static final int LATE_PERCENT = 20;
  static final long LATE_MAX_DELAY = 5_000_000L;

  private static final Map<String, Scenario> SCENARIOS = new LinkedHashMap<>();

  static {
    add(new Scenario("nvme-iova", "NVMe requests on the two-step IOVA API (try_alloc, link per segment, one sync, destroy); "
        + "map_phys fallback when try_alloc fails", null, o -> nvme(o, IommuSettings.Mode.STRICT, false, Programs.Bug.NONE, false)));
    add(new Scenario("nvme-classic", "NVMe requests on the classic API (dma_map_sg, dma_sync_sg_for_cpu, dma_unmap_sg)", null,
        o -> nvme(o, IommuSettings.Mode.STRICT, false, Programs.Bug.NONE, true)));
    add(new Scenario("nvme-iova-missing-sync", "BUG: dma_iova_link without dma_iova_sync on a caching-mode IOMMU (I9)", "SyncBeforeUse",
        o -> nvme(o, IommuSettings.Mode.STRICT, true, Programs.Bug.MISSING_SYNC, false)));
    add(new Scenario("nvme-iova-free-live-links", "BUG: dma_iova_free while the ranges are still linked (I14)", "IovaApiUsage",
        o -> nvme(o, IommuSettings.Mode.STRICT, false, Programs.Bug.FREE_LIVE_LINKS, false)));
  }

  private Catalog() {}

  private static void add(Scenario s) {
    SCENARIOS.put(s.name(), s);
  }

  /** The built-in Java scenarios and the catalogue files, in that order. */
  public static List<Scenario> all() {
    List<Scenario> out = new ArrayList<>(SCENARIOS.values());
    out.addAll(catalogue().values());
    return out;
  }

  /** The catalogue: scenario files shipped under catalog/ (listed in catalog/index.txt), by name. */
  public static synchronized Map<String, Scenario> catalogue() {
    if (catalogue == null) {
      Map<String, Scenario> c = new LinkedHashMap<>();
      for (String file : resource("catalog/index.txt").lines().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList()) {
        Scenario sc = ScenarioFile.parse("catalog/" + file, resource("catalog/" + file));
        if (c.put(sc.name(), sc) != null || SCENARIOS.containsKey(sc.name())) throw new IllegalStateException("duplicate scenario " + sc.name());
      }
      catalogue = c;
    }
    return catalogue;
  }

  private static Map<String, Scenario> catalogue;

  private static String resource(String name) {
    try (java.io.InputStream in = Catalog.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) throw new IllegalStateException("missing resource " + name);
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot read " + name, e);
    }
  }

  public static Optional<Scenario> find(String name) {
    Scenario s = SCENARIOS.get(name);
    return s != null ? Optional.of(s) : Optional.ofNullable(catalogue().get(name));
  }

  /** How a recorded scenario reference adds a faults file: "nvme-iova+faults=/abs/path/slow.conf". */
  static final String WITH_FAULTS = "+faults=";

  /**
   * A scenario by name, or a scenario file by path (anything ending in .conf or containing a '/'),
   * or either plus a faults file as recorded by {@link ScenarioFile#withFaults} ("REF+faults=PATH").
   */
  public static Scenario resolve(String nameOrPath) {
    int plus = nameOrPath.lastIndexOf(WITH_FAULTS);
    if (plus > 0) {
      java.nio.file.Path faults = java.nio.file.Path.of(nameOrPath.substring(plus + WITH_FAULTS.length()));
      if (!java.nio.file.Files.isRegularFile(faults)) throw new UserError("no faults file " + faults + " (the run was recorded with it)");
      return ScenarioFile.withFaults(resolve(nameOrPath.substring(0, plus)), faults);
    }
    if (nameOrPath.endsWith(".conf") || nameOrPath.contains("/")) {
      java.nio.file.Path p = java.nio.file.Path.of(nameOrPath);
      if (!java.nio.file.Files.isRegularFile(p)) throw new UserError("no scenario file " + nameOrPath);
      Scenario s = ScenarioFile.load(p);
      return new Scenario(s.name(), s.description(), s.expectedMonitor(), s.build(), s.defaults(), s.expect(), p.toAbsolutePath().toString(),
          s.devices());
    }
    return find(nameOrPath).orElseThrow(() -> new UserError("unknown scenario '" + nameOrPath + "' (see 'dmasim scenarios', or give a .conf file)"));
  }

  /** What a kept run records to find its scenario again: the name, or the path of a user's file. */
  public static String ref(Scenario s) {
    return s.source() == null || s.source().startsWith("catalog/") ? s.name() : s.source();
  }

  private static SystemSpec nvme(RunOptions o, IommuSettings.Mode defaultMode, boolean cachingMode, Programs.Bug bug, boolean classic) {
    IommuSettings.Mode mode = o.mode() == null ? defaultMode : o.mode();
    IommuSettings iommu = IommuSettings.defaults(mode, o.cpus(), Map.of(NVME, new IommuSettings.DeviceSpec(64, false)))
        .withCachingMode(cachingMode);
    if (iommu.strictRequired() != null) throw new UserError("--iommu " + mode.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + " is not possible: " + iommu.strictRequired());
    DeviceSettings dev = DeviceSettings.nvme(NVME, o.seed()).withLateAccesses(LATE_PERCENT, LATE_MAX_DELAY).withDirect(iommu.direct(NVME));
    List<Program> programs = new ArrayList<>();
    for (int c = 0; c < o.cpus(); c++) {
      programs.add(classic ? Programs.nvmeClassic(NVME, o.segments(), o.requests()) : Programs.nvmeIova(NVME, o.segments(), o.requests(), bug));
    }
    long pages = Math.max(4096, 4L * o.cpus() * o.segments());
    return new SystemSpec(iommu, List.of(dev), programs, pages);
  }
}
