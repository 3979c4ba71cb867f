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

  public static List<Scenario> all() {
    return new ArrayList<>(SCENARIOS.values());
  }

  public static Optional<Scenario> find(String name) {
    return Optional.ofNullable(SCENARIOS.get(name));
  }

  private static SystemSpec nvme(RunOptions o, IommuSettings.Mode defaultMode, boolean cachingMode, Programs.Bug bug, boolean classic) {
    IommuSettings.Mode mode = o.mode() == null ? defaultMode : o.mode();
    IommuSettings iommu = IommuSettings.defaults(mode, o.cpus(), Map.of(NVME, new IommuSettings.DeviceSpec(64, false)))
        .withCachingMode(cachingMode);
    DeviceSettings dev = DeviceSettings.nvme(NVME, o.seed()).withLateAccesses(LATE_PERCENT, LATE_MAX_DELAY);
    List<Program> programs = new ArrayList<>();
    for (int c = 0; c < o.cpus(); c++) {
      programs.add(classic ? Programs.nvmeClassic(NVME, o.segments(), o.requests()) : Programs.nvmeIova(NVME, o.segments(), o.requests(), bug));
    }
    long pages = Math.max(4096, 4L * o.cpus() * o.segments());
    return new SystemSpec(iommu, List.of(dev), programs, pages);
  }
}
