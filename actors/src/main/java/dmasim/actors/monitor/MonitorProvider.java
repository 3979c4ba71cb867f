package dmasim.actors.monitor;

import dmasim.actors.iommu.IommuSettings;

/**
 * The plug-in point for monitors written by users: put a jar with an implementation and a
 * {@code META-INF/services/dmasim.actors.monitor.MonitorProvider} entry on the classpath, and name
 * the monitor in a scenario's {@code monitors} list. Monitors extend {@link AbstractMonitor}
 * (which gives them {@code violate}) and must be pure functions of the events they see.
 */
public interface MonitorProvider {
  /** The name scenarios use to enable it (also the name its violations carry). */
  String name();

  /** A fresh monitor for one run. */
  Monitor create(IommuSettings iommu);
}
