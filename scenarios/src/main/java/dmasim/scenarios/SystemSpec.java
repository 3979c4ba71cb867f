package dmasim.scenarios;

import dmasim.actors.cpu.Program;
import dmasim.actors.device.DeviceSettings;
import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.monitor.MonitorSettings;
import java.util.List;

/** A concrete system to run: one IOMMU, its devices, one program per CPU queue, and the physical memory size. */
public record SystemSpec(IommuSettings iommu, List<DeviceSettings> devices, List<Program> programs, long memoryPages, MonitorSettings monitors) {
  public SystemSpec(IommuSettings iommu, List<DeviceSettings> devices, List<Program> programs, long memoryPages) {
    this(iommu, devices, programs, memoryPages, MonitorSettings.STANDARD);
  }

  public SystemSpec {
    devices = List.copyOf(devices);
    programs = List.copyOf(programs);
    if (programs.size() != iommu.cpus()) throw new IllegalArgumentException("one program per CPU queue");
  }
}
