package dmasim.e2e;

import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.monitor.AbstractMonitor;
import dmasim.actors.monitor.Monitor;
import dmasim.actors.monitor.MonitorProvider;
import dmasim.actors.monitor.StepInfo;
import dmasim.protocol.DmaAccess;
import dmasim.protocol.Event;

/** A user's monitor, loaded through the ServiceLoader SPI from the test classpath: flags any device read. */
public final class NoDeviceReadsProvider implements MonitorProvider {
  @Override
  public String name() {
    return "NoDeviceReads";
  }

  @Override
  public Monitor create(IommuSettings iommu) {
    return new AbstractMonitor("NoDeviceReads") {
      @Override
      protected void handle(StepInfo at, Event event) {
        if (event instanceof DmaAccess a && !a.write()) violate("USER", at, a.dev() + " read " + a.iova() + " (this team forbids device reads)");
      }
    };
  }
}
