package dmasim.scenarios;

import dmasim.actors.cpu.Program;
import dmasim.actors.device.DeviceSettings;
import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.monitor.MonitorSettings;
import dmasim.chaos.MessageFaults;
import java.util.List;

/**
 * A concrete system to run: one IOMMU, its devices, one program per CPU queue, the physical memory
 * size, the monitors, and the message faults the wire injects (seeded for the run).
 */
public record SystemSpec(IommuSettings iommu, List<DeviceSettings> devices, List<Program> programs, dmasim.actors.memory.MemorySettings memory,
    MonitorSettings monitors, MessageFaults messageFaults, dmasim.scenarios.journal.JournalFaults journalFaults,
    List<dmasim.actors.model.Component> components) {
  public SystemSpec(IommuSettings iommu, List<DeviceSettings> devices, List<Program> programs, long memoryPages, MonitorSettings monitors,
      MessageFaults messageFaults, dmasim.scenarios.journal.JournalFaults journalFaults) {
    this(iommu, devices, programs, dmasim.actors.memory.MemorySettings.of(memoryPages), monitors, messageFaults, journalFaults, List.of());
  }

  public SystemSpec(IommuSettings iommu, List<DeviceSettings> devices, List<Program> programs, long memoryPages) {
    this(iommu, devices, programs, memoryPages, MonitorSettings.STANDARD, MessageFaults.NONE, dmasim.scenarios.journal.JournalFaults.NONE);
  }

  /** The pages of RAM. */
  public long memoryPages() {
    return memory.pages();
  }

  public SystemSpec(IommuSettings iommu, List<DeviceSettings> devices, List<Program> programs, long memoryPages, MonitorSettings monitors,
      MessageFaults messageFaults) {
    this(iommu, devices, programs, memoryPages, monitors, messageFaults, dmasim.scenarios.journal.JournalFaults.NONE);
  }

  public SystemSpec {
    devices = List.copyOf(devices);
    programs = List.copyOf(programs);
    components = components == null ? List.of() : List.copyOf(components);
    java.util.Set<String> others = new java.util.HashSet<>();
    for (dmasim.actors.model.Component c : components) for (dmasim.actors.model.ActorKind<?> k : c.kinds()) others.add(k.name());
    if (messageFaults == null) messageFaults = MessageFaults.NONE;
    if (journalFaults == null) journalFaults = dmasim.scenarios.journal.JournalFaults.NONE;
    List<String[]> named = new java.util.ArrayList<>();
    for (MessageFaults.Rule r : messageFaults.rules()) named.add(new String[] {r.describe(), r.from(), r.to()});
    for (DeviceSettings d : devices) for (dmasim.actors.device.DeviceFault f : d.faults()) named.add(new String[] {f.describe(), f.from()});
    for (String[] rule : named) {
      for (String actor : java.util.Arrays.copyOfRange(rule, 1, rule.length)) {
        if (actor == null || actor.equals(dmasim.actors.model.Names.IOMMU) || actor.equals(dmasim.actors.model.Names.MEMORY) || others.contains(actor)) {
          continue;
        }
        boolean exists = actor.startsWith("cpu") ? Integer.parseInt(actor.substring(3)) < programs.size()
            : devices.stream().anyMatch(d -> dmasim.actors.model.Names.device(d.id()).equals(actor));
        if (!exists) {
          throw new UserError("the fault rule '" + rule[0] + "' names " + actor + ", which this run does not have (CPU queues cpu0..cpu"
              + (programs.size() - 1) + ", devices " + devices.stream().map(d -> dmasim.actors.model.Names.device(d.id())).toList() + ")");
        }
      }
    }
    if (programs.size() != iommu.cpus()) throw new IllegalArgumentException("one program per CPU queue");
  }

  /** Every model actor of this system as an {@link dmasim.actors.model.ActorKind}: the IOMMU, memory, the devices, the CPU queues, then each component's. */
  public List<dmasim.actors.model.ActorKind<?>> kinds() {
    List<dmasim.actors.model.ActorKind<?>> out = new java.util.ArrayList<>();
    out.add(dmasim.actors.iommu.IommuUnit.kind(iommu, memory));
    out.add(dmasim.actors.memory.Memory.kind(memory.pages(), memory.regions(), iommu.faults(), iommu.faultSeed()));
    for (DeviceSettings d : devices) out.add(dmasim.actors.device.Device.kind(d));
    for (int c = 0; c < programs.size(); c++) out.add(dmasim.actors.cpu.CpuQueue.kind(c, programs.get(c)));
    for (dmasim.actors.model.Component c : components) out.addAll(c.kinds());
    return out;
  }

  /** The monitors this system's components bring, fresh for one run. */
  public List<dmasim.actors.monitor.Monitor> componentMonitors() {
    List<dmasim.actors.monitor.Monitor> out = new java.util.ArrayList<>();
    for (dmasim.actors.model.Component c : components) out.addAll(c.monitors());
    return out;
  }
}
