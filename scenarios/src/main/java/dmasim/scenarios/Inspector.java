package dmasim.scenarios;

import dmasim.actors.cpu.CpuState;
import dmasim.actors.device.DeviceSettings;
import dmasim.actors.device.DeviceState;
import dmasim.actors.iommu.IommuState;
import dmasim.actors.memory.Memory;
import dmasim.actors.memory.MemoryState;
import dmasim.actors.model.Names;
import dmasim.actors.state.FlushQueue;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The state of every actor after step N, obtained by folding the journaled events with the same
 * state classes the actors use (nothing is re-executed), and the envelopes in flight at that point.
 */
public final class Inspector {
  /** An envelope sent at or before step N and delivered after it. */
  public record InFlight(EnvelopeId id, String receiver, String type, long deliveredAtStep) {}

  /** What step N looked like. */
  public record Snapshot(long step, long time, Map<String, List<String>> actors, List<InFlight> inFlight, Map<String, List<String>> lastEvents) {}

  private Inspector() {}

  public static Snapshot inspect(SystemSpec spec, List<RecordedStep> recorded, long step, int lastEvents) {
    IommuState iommu = new IommuState(spec.iommu());
    Map<String, DeviceState> devices = new LinkedHashMap<>();
    for (DeviceSettings d : spec.devices()) devices.put(Names.device(d.id()), new DeviceState(d));
    MemoryState memory = new MemoryState(Memory.FIRST_PFN, spec.memoryPages(), spec.iommu().regions());
    Map<String, CpuState> cpus = new LinkedHashMap<>();
    for (int c = 0; c < spec.programs().size(); c++) cpus.put(Names.cpu(c), new CpuState(spec.programs().get(c), c));
    Map<String, List<String>> recent = new LinkedHashMap<>();
    Map<EnvelopeId, Long> handledAt = new HashMap<>();
    long time = 0;
    for (RecordedStep r : recorded) {
      if (r.step() > step) break;
      handledAt.put(r.envelope(), r.step());
      time = r.at();
      List<String> log = recent.computeIfAbsent(r.actor(), k -> new ArrayList<>());
      for (Event e : r.events()) {
        if (e instanceof dmasim.protocol.WireEvent) {
          // what the wire did to an envelope: listed, not folded (no actor's state holds it)
        } else if (e instanceof dmasim.protocol.JournalEvent.ActorRestarted) {
          // a crash and restart: what recovery gives, less what the hardware loses
          if (r.actor().equals(Names.IOMMU)) iommu.lostVolatileState();
          else if (devices.containsKey(r.actor())) devices.get(r.actor()).lostVolatileState();
        } else if (r.actor().equals(Names.IOMMU)) iommu.apply(e);
        else if (r.actor().equals(Names.MEMORY)) memory.apply(e);
        else if (devices.containsKey(r.actor())) devices.get(r.actor()).apply(e);
        else if (cpus.containsKey(r.actor())) cpus.get(r.actor()).apply(e);
        log.add("step " + r.step() + ": " + e);
        if (log.size() > lastEvents) log.remove(0);
      }
    }
    List<InFlight> inFlight = new ArrayList<>();
    for (RecordedStep r : recorded) {
      if (r.step() <= step) continue;
      boolean sentByThen = r.cause() == null || (handledAt.containsKey(r.cause()));
      if (sentByThen) inFlight.add(new InFlight(r.envelope(), r.actor(), r.type(), r.step()));
    }
    Map<String, List<String>> actors = new LinkedHashMap<>();
    actors.put(Names.IOMMU, describe(iommu));
    actors.put(Names.MEMORY, List.of(String.format(Locale.ROOT, "free pages %d", memory.available())));
    devices.forEach((n, d) -> actors.put(n, List.of("descriptors in flight " + d.inFlight(), "ATC entries " + d.atc().size())));
    cpus.forEach((n, c) -> actors.put(n, describe(c)));
    return new Snapshot(step, time, actors, inFlight, recent);
  }

  private static List<String> describe(IommuState s) {
    List<String> out = new ArrayList<>();
    out.add("mode " + s.settings().mode() + (s.settings().cachingMode() ? ", caching mode" : ""));
    out.add("IOVA allocations " + s.allocator().allocations() + " (" + s.allocator().allocatedPages() + " pages)");
    out.add("mapped pages (PTEs) " + s.pageTable().size());
    out.add("IOTLB entries " + s.iotlb().size() + " of " + s.iotlb().capacity());
    out.add("invalidations in flight " + s.pendingInvalidations());
    if (s.settings().lazy()) {
      StringBuilder rings = new StringBuilder();
      for (FlushQueue q : s.rings()) rings.append(rings.length() == 0 ? "" : ", ").append(q.length());
      out.add("flush queues [" + rings + "], fq_flush_start_cnt " + s.startCnt() + ", fq_flush_finish_cnt " + s.finishCnt());
    }
    return out;
  }

  private static List<String> describe(CpuState c) {
    List<String> out = new ArrayList<>();
    out.add(c.ended() ? "program ended" : "pc " + c.pc() + (c.origin() == null ? "" : " (" + c.origin() + ")")
        + (c.waiting() == null ? "" : ", waiting for " + c.waiting()));
    out.add("requests completed " + c.requests());
    out.addAll(c.objects());
    return out;
  }
}
