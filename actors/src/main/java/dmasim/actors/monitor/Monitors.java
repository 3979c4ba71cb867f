package dmasim.actors.monitor;

import dmasim.actors.iommu.IommuSettings;
import java.util.ArrayList;
import java.util.List;

/** The standard monitor set for a system with the given IOMMU. */
public final class Monitors {
  private Monitors() {}

  public static MonitorSuite standard(IommuSettings iommu) {
    Shadow shadow = new Shadow();
    TranslationMonitor translation = new TranslationMonitor(shadow);
    List<Monitor> all = new ArrayList<>();
    all.add(new IovaSpaceMonitor());
    all.add(new FlushQueueMonitor(iommu.fqSize(), shadow));
    all.add(translation);
    all.add(new SyncBeforeUseMonitor(iommu.cachingMode(), shadow));
    all.add(new IovaApiMonitor());
    all.add(new DmaApiDebugMonitor());
    all.add(new CpuDeviceOwnershipMonitor(shadow));
    all.add(new MemorySafetyMonitor());
    all.add(new TerminationMonitor());
    return new MonitorSuite(shadow, all, new RunStats(translation));
  }
}
