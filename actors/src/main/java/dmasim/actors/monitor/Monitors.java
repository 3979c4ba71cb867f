package dmasim.actors.monitor;

import dmasim.actors.iommu.IommuSettings;
import java.util.ArrayList;
import java.util.List;

/** The standard monitor set for a system with the given IOMMU, and monitors chosen by name. */
public final class Monitors {
  /** Names of the standard monitors, in the order they run. */
  public static final List<String> STANDARD = List.of("Termination", "IovaSpace", "FlushQueue", "Translation", "SyncBeforeUse", "IovaApiUsage",
      "DmaApiDebug", "DeviceAccessAfterUnmap", "CpuDeviceOwnership", "MemorySafety", "MemoryType", "InfoLeak");

  private Monitors() {}

  /**
   * An event of the dma-direct path (a device no IOMMU translates): its identity mappings and its
   * untranslated accesses. Monitors of IOMMU state (IOTLB, flush queues, flush-on-map) skip them;
   * monitors of what the driver hands the device judge them like any other mapping.
   */
  public static boolean dmaDirect(dmasim.protocol.Event event) {
    if (event instanceof dmasim.protocol.IommuEvent.RangeLinked l) return l.api().startsWith("dma_direct");
    if (event instanceof dmasim.protocol.IommuEvent.PtesCleared c) return c.api().startsWith("dma_direct");
    return event instanceof dmasim.protocol.DeviceEvent.DirectAccessed;
  }

  /** Monitors users added through {@link MonitorProvider} (ServiceLoader), by name, in name order. */
  public static java.util.Map<String, MonitorProvider> providers() {
    java.util.Map<String, MonitorProvider> out = new java.util.TreeMap<>();
    for (MonitorProvider p : java.util.ServiceLoader.load(MonitorProvider.class)) out.put(p.name(), p);
    return out;
  }

  /** Every name a scenario may list. */
  public static java.util.Set<String> known() {
    java.util.Set<String> names = new java.util.TreeSet<>(STANDARD);
    names.addAll(providers().keySet());
    return names;
  }

  /**
   * The suite for {@code settings} and the monitors the system's other components bring
   * ({@code components}: all of them with the standard set, the named ones otherwise).
   */
  public static MonitorSuite suite(IommuSettings iommu, dmasim.actors.memory.MemorySettings memory, MonitorSettings settings,
      List<Monitor> components) {
    // A scenario may name the components' monitors beside the core ones: the core set is built without them.
    java.util.Set<String> theirs = new java.util.HashSet<>();
    for (Monitor m : components) theirs.add(m.name());
    MonitorSettings core0 = settings.enabled().isEmpty() ? settings : new MonitorSettings(settings.enabled().stream().filter(n -> !theirs.contains(n))
        .toList(), settings.maxInvalidationsPerUnmap());
    MonitorSuite core;
    if (!settings.enabled().isEmpty() && core0.enabled().isEmpty()) { // only the components' monitors were named
      Shadow shadow = new Shadow();
      List<Monitor> none = settings.maxInvalidationsPerUnmap() > 0 ? List.of(new InvalidationCostMonitor(settings.maxInvalidationsPerUnmap())) : List.of();
      core = new MonitorSuite(shadow, none, new RunStats(new TranslationMonitor(shadow)));
    } else {
      core = suite(iommu, memory, core0);
    }
    if (components.isEmpty()) return core;
    List<Monitor> all = new ArrayList<>(core.monitors());
    for (Monitor m : components) if (settings.enabled().isEmpty() || settings.enabled().contains(m.name())) all.add(m);
    return new MonitorSuite(core.shadow(), all, core.stats());
  }

  /** The suite for {@code settings}: the standard set or the named monitors, plus the cost budget if set. */
  public static MonitorSuite suite(IommuSettings iommu, dmasim.actors.memory.MemorySettings memory, MonitorSettings settings) {
    if (settings.enabled().isEmpty() && settings.maxInvalidationsPerUnmap() == 0) return standard(iommu, memory);
    Shadow shadow = new Shadow();
    TranslationMonitor translation = new TranslationMonitor(shadow);
    List<String> names = settings.enabled().isEmpty() ? STANDARD : settings.enabled();
    java.util.Map<String, MonitorProvider> providers = providers();
    List<Monitor> all = new ArrayList<>();
    for (String n : names) {
      Monitor m = switch (n) {
        case "IovaSpace" -> new IovaSpaceMonitor();
        case "FlushQueue" -> new FlushQueueMonitor(iommu.fqSize(), shadow);
        case "Translation" -> translation;
        case "SyncBeforeUse" -> new SyncBeforeUseMonitor(iommu.cachingMode(), shadow);
        case "IovaApiUsage" -> new IovaApiMonitor();
        case "DmaApiDebug" -> new DmaApiDebugMonitor(iommu.devices(), memory.regions());
        case "DeviceAccessAfterUnmap" -> new DeviceAccessMonitor(shadow);
        case "CpuDeviceOwnership" -> new CpuDeviceOwnershipMonitor(shadow);
        case "MemorySafety" -> new MemorySafetyMonitor(shadow);
        case "MemoryType" -> new MemoryTypeMonitor(memory.regions());
        case "InfoLeak" -> new InfoLeakMonitor();
        case "Termination" -> new TerminationMonitor();
        default -> {
          MonitorProvider p = providers.get(n);
          if (p == null) throw new IllegalArgumentException("unknown monitor '" + n + "' (known: " + known() + ")");
          yield p.create(iommu);
        }
      };
      all.add(m);
    }
    if (settings.maxInvalidationsPerUnmap() > 0) all.add(new InvalidationCostMonitor(settings.maxInvalidationsPerUnmap()));
    return new MonitorSuite(shadow, all, new RunStats(translation));
  }

  /** The standard set for a system of RAM only. */
  public static MonitorSuite standard(IommuSettings iommu) {
    return standard(iommu, dmasim.actors.memory.MemorySettings.of(0));
  }

  public static MonitorSuite standard(IommuSettings iommu, dmasim.actors.memory.MemorySettings memory) {
    Shadow shadow = new Shadow();
    TranslationMonitor translation = new TranslationMonitor(shadow);
    List<Monitor> all = new ArrayList<>();
    // Liveness first: at the end of a run a hang explains the leaks the other monitors then see.
    all.add(new TerminationMonitor());
    all.add(new IovaSpaceMonitor());
    all.add(new FlushQueueMonitor(iommu.fqSize(), shadow));
    all.add(translation);
    all.add(new SyncBeforeUseMonitor(iommu.cachingMode(), shadow));
    all.add(new IovaApiMonitor());
    all.add(new DmaApiDebugMonitor(iommu.devices(), memory.regions()));
    all.add(new DeviceAccessMonitor(shadow));
    all.add(new CpuDeviceOwnershipMonitor(shadow));
    all.add(new MemorySafetyMonitor(shadow));
    if (!memory.regions().isEmpty()) all.add(new MemoryTypeMonitor(memory.regions()));
    // Data provenance costs a label per page; it only matters where swiotlb bounces (untrusted devices).
    if (iommu.devices().values().stream().anyMatch(IommuSettings.DeviceSpec::untrusted)) all.add(new InfoLeakMonitor());
    return new MonitorSuite(shadow, all, new RunStats(translation));
  }
}
