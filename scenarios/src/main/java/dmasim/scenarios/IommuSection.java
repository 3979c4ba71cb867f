package dmasim.scenarios;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import dmasim.actors.iommu.FaultPlan;
import dmasim.actors.iommu.IommuSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The {@code iommu} section: the IOMMU's mode, aperture, caches, flush queue and the modelled bugs. */
final class IommuSection {
  static final Set<String> KEYS = Set.of("mode", "granule", "aperture-bits", "reserved", "iotlb-entries", "caching-mode", "flush-queue",
      "invalidation-latency", "invalidation-order", "teardown-deletes-timer-sync", "gather-end-bug", "sync-map-flag-at-attach", "swiotlb-zero-middle-bug", "swiotlb-init-slot",
      "init-domain-unlocked", "init-domain-latency");
  private static final Map<String, IommuSettings.Mode> MODES = Map.of("strict", IommuSettings.Mode.STRICT, "lazy", IommuSettings.Mode.LAZY,
      "lazy-single", IommuSettings.Mode.LAZY_SINGLE, "passthrough", IommuSettings.Mode.PASSTHROUGH);

  private IommuSection() {}

  /** The IOMMU of a system with {@code cpus} CPU queues, the devices and the memory regions (no faults yet). */
  static IommuSettings read(HoconReader r, int cpus, DeviceSection devices, MemorySection memory) {
    r.onlyKeys("iommu", KEYS);
    IommuSettings.Mode mode = r.choice("iommu.mode", "strict", MODES);
    if (r.number("iommu.granule", 4096, 1, 1 << 20) != 4096) throw r.error("iommu.granule", "only a 4096-byte granule is modelled");
    int bits = (int) r.number("iommu.aperture-bits", 48, 13, 57);
    List<long[]> reserved = reserved(r, bits);
    int iotlb = (int) r.number("iommu.iotlb-entries", 64, 1, 1 << 20);
    boolean caching = r.bool("iommu.caching-mode", false);
    boolean single = mode == IommuSettings.Mode.LAZY_SINGLE;
    r.onlyKeys("iommu.flush-queue", Set.of("size", "timeout", "barrier"));
    boolean barrier = r.bool("iommu.flush-queue.barrier", true);
    int fqSize = (int) r.number("iommu.flush-queue.size", single ? IommuSettings.SINGLE_FQ_SIZE : IommuSettings.DEFAULT_FQ_SIZE, 2, 1 << 20);
    if (Integer.bitCount(fqSize) != 1) throw r.error("iommu.flush-queue.size", "must be a power of two, got " + fqSize);
    long fqTimeout = r.nanos("iommu.flush-queue.timeout", single ? IommuSettings.SINGLE_FQ_TIMEOUT : IommuSettings.DEFAULT_FQ_TIMEOUT,
        100_000_000_000L);
    if (fqTimeout == 0) throw r.error("iommu.flush-queue.timeout", "must be positive");
    long latency = r.nanos("iommu.invalidation-latency", 1_000, 1_000_000_000L);
    boolean atcFirst = r.choice("iommu.invalidation-order", "iotlb-then-atc", Map.of("iotlb-then-atc", false, "atc-then-iotlb", true));
    boolean timerSync = r.bool("iommu.teardown-deletes-timer-sync", true);
    boolean gatherBug = r.bool("iommu.gather-end-bug", false);
    boolean flagAtAttach = r.bool("iommu.sync-map-flag-at-attach", false);
    boolean zeroMiddleBug = r.bool("iommu.swiotlb-zero-middle-bug", false);
    boolean initSlot = r.bool("iommu.swiotlb-init-slot", true);
    boolean initUnlocked = r.bool("iommu.init-domain-unlocked", false);
    long initLatency = r.nanos("iommu.init-domain-latency", 0, 1_000_000_000L);
    return new IommuSettings(mode, 12, 1L << (bits - 12), reserved, iotlb, caching, fqSize, fqTimeout, latency, atcFirst, cpus, devices.specs(),
        FaultPlan.NONE, 0, timerSync, gatherBug, barrier, flagAtAttach, zeroMiddleBug, initSlot,
        initUnlocked, initLatency);
  }

  /** iommu.reserved: { start = PFN, pages = N } ranges inside an aperture of {@code bits} bits. */
  private static List<long[]> reserved(HoconReader r, int bits) {
    List<long[]> reserved = new ArrayList<>();
    if (!r.has("iommu.reserved")) return reserved;
    ConfigList list;
    try {
      list = r.config().getList("iommu.reserved");
    } catch (com.typesafe.config.ConfigException.WrongType e) {
      throw r.error("iommu.reserved", "must be a list of { start = PFN, pages = N }");
    }
    for (int i = 0; i < list.size(); i++) {
      String key = "iommu.reserved[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject o)) throw r.error(list.get(i), key, "must be { start = PFN, pages = N }");
      r.onlyKeys(o, key + ".", Set.of("start", "pages"));
      HoconReader sub = r.sub(o, key);
      long start = sub.number("start", -1, 1, (1L << (bits - 12)) - 1);
      long pages = sub.number("pages", -1, 1, 1L << (bits - 12));
      if (start < 0 || pages < 0) throw r.error(o, key, "needs start and pages");
      reserved.add(new long[] {start, pages});
    }
    return reserved;
  }
}
