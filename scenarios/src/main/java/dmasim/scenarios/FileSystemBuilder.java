package dmasim.scenarios;

import dmasim.actors.cpu.Program;
import dmasim.actors.device.DeviceSettings;
import dmasim.chaos.MessageFaults;
import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.monitor.MonitorSettings;
import dmasim.protocol.DeviceId;
import dmasim.scenarios.StepLanguage.ParsedStep;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** Builds the system of a scenario file for the options of a run (seed, IOMMU mode, CPU queues, workload size). */
final class FileSystemBuilder implements Function<RunOptions, SystemSpec> {
  private final String name;
  private final String file;
  private final StepArgs args;
  private final IommuSettings iommu;
  private final DeviceSection devices;
  private final MemorySection memory;
  private final MmSection mm;
  private final FaultSection.Faults faults;
  private final MonitorSettings monitors;
  private final Map<String, List<ParsedStep>> programs;

  FileSystemBuilder(String name, String file, StepArgs args, IommuSettings iommu, DeviceSection devices, MemorySection memory, MmSection mm,
      FaultSection.Faults faults, MonitorSettings monitors, Map<String, List<ParsedStep>> programs) {
    this.mm = mm;
    this.name = name;
    this.file = file;
    this.args = args;
    this.iommu = iommu;
    this.devices = devices;
    this.memory = memory;
    this.faults = faults;
    this.monitors = monitors;
    this.programs = programs;
  }

  @Override
  public SystemSpec apply(RunOptions o) {
    IommuSettings io = iommu;
    if (o.mode() != null) io = io.withMode(o.mode());
    checkCoherentAllocations(io);
    if (io.strictRequired() != null) {
      throw new UserError("--iommu " + o.mode().name().toLowerCase(Locale.ROOT).replace('_', '-') + " is not possible for " + name + ": " + io.strictRequired());
    }
    io = io.withCpus(o.cpus()).withFaults(faults.calls(), o.seed());
    List<DeviceSettings> devs = new ArrayList<>();
    for (DeviceSettings d : devices.settings()) {
      devs.add(new DeviceSettings(d.id(), d.ats(), d.atcCapacity(), d.pageTime(), d.latePercent(), d.lateMaxDelay(), o.seed(), io.direct(d.id()),
          faults.device(dmasim.actors.model.Names.device(d.id()))));
    }
    List<Program> progs = new ArrayList<>();
    for (int i = 0; i < o.cpus(); i++) {
      List<ParsedStep> steps = programs.getOrDefault("cpu" + i, programs.get("all"));
      if (steps == null) throw new IllegalArgumentException("no program for cpu" + i + " (add programs.all or programs.cpu" + i + ")");
      progs.add(StepCompiler.compile(args, devices, memory, mm, file, name + "/cpu" + i, steps, o));
    }
    try {
      MmSection.checkReclaimSenders(faults.reclaims(), o.cpus());
      return new SystemSpec(io, devs, progs, new dmasim.actors.memory.MemorySettings(memory.pages(), memory.regions()), monitors, new MessageFaults(o.seed(), faults.messages()),
          new dmasim.scenarios.journal.JournalFaults(o.seed(), faults.journal()), mm.components(faults.reclaims(), o.seed()));
    } catch (UserError e) {
      throw new UserError(file + ": faults: " + e.getMessage()); // a rule names an actor this run does not have
    }
  }

  /** alloc-coherent is modelled on the IOMMU path only: no step may use it on a dma-direct device. */
  private void checkCoherentAllocations(IommuSettings io) {
    for (List<ParsedStep> program : programs.values()) {
      for (ParsedStep st : program) {
        if (!st.op().equals("alloc-coherent")) continue;
        DeviceId dev = devices.ids().get(st.args().getOrDefault("device", devices.ids().keySet().iterator().next()));
        if (io.direct(dev)) {
          throw args.error(st, "alloc-coherent is modelled on the IOMMU path only, and device dev" + dev.value()
              + " takes dma-direct here (iommu = false or mode passthrough): dma_direct_alloc is not modelled");
        }
      }
    }
  }
}
