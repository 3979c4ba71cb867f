package dmasim.scenarios;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import dmasim.actors.mm.MirrorSettings;
import dmasim.actors.mm.MmSettings;
import dmasim.protocol.DeviceId;
import dmasim.scenarios.StepLanguage.ParsedStep;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code mm} section: a process address space (its VMAs, the kernel behaviours that changed
 * across versions) and the mirrors of it, each with its lock, device and invalidate callback
 * program. Absent: the system has no HMM side.
 */
record MmSection(MmSettings settings, List<Mirror> mirrors, RdmaSection rdma) {
  /** A mirror as the file gives it: settings, its callback's steps, and whether its device sits behind an IOMMU. */
  record Mirror(MirrorSettings settings, List<ParsedStep> callback) {}

  static final MmSection NONE = new MmSection(null, List.of(), RdmaSection.NONE);

  /** The highest user address (47 bits, x86-64 4-level paging). */
  static final long TASK_SIZE = 1L << 47;

  boolean present() {
    return settings != null;
  }

  Mirror mirror(String name) {
    for (Mirror m : mirrors) if (m.settings().name().equals(name)) return m;
    return null;
  }

  static MmSection read(HoconReader r, DeviceSection devices, Map<DeviceId, Boolean> bounces, MemorySection memory) {
    if (!r.has("mm")) return NONE;
    r.onlyKeys("mm", Set.of("vmas", "hmm-write-check", "foreign-device-private", "mirrors"));
    List<MmSettings.Vma> vmas = new ArrayList<>();
    if (r.has("mm.vmas")) {
      ConfigList list = r.list("mm.vmas", "must be a list of { start, pages, access = r | rw, populate }");
      for (int i = 0; i < list.size(); i++) {
        String key = "mm.vmas[" + i + "]";
        if (!(list.get(i) instanceof ConfigObject o)) throw r.error(list.get(i), key, "must be an object");
        r.onlyKeys(o, key + ".", Set.of("start", "pages", "access", "populate", "io", "memory"));
        HoconReader v = r.sub(o, key);
        long start = address(v, o, key, "start");
        long pages = v.number("pages", 1, 1, 1L << 24);
        if (start + pages * 4096 > TASK_SIZE) throw r.error(o, key, "the VMA ends above the user address space (2^47)");
        for (MmSettings.Vma x : vmas) {
          if (start < x.start() + x.pages() * 4096 && x.start() < start + pages * 4096) throw r.error(o, key, "overlaps an earlier VMA");
        }
        boolean write = v.choice("access", "rw", Map.of("r", false, "rw", true));
        long p2p = 0;
        if (o.containsKey("memory")) {
          String region = v.string("memory", null);
          dmasim.actors.memory.Region reg = memory.regions().stream().filter(x -> x.name().equals(region)).findFirst().orElse(null);
          if (reg == null || reg.kind() != dmasim.actors.memory.Region.Kind.P2P) {
            throw r.error(o.get("memory"), key + ".memory", "'" + region + "' is not a P2P region of memory.types (a process maps a peer's BAR)");
          }
          if (reg.pages() < pages) throw r.error(o.get("memory"), key + ".memory", "region '" + region + "' has " + reg.pages() + " pages, the VMA " + pages);
          p2p = reg.startPfn();
        }
        vmas.add(new MmSettings.Vma(start, pages, write, v.bool("populate", true), v.bool("io", false), p2p));
      }
    }
    boolean writeCheck = r.bool("mm.hmm-write-check", true);
    boolean foreign = r.choice("mm.foreign-device-private", "fault", Map.of("fault", true, "efault", false));
    List<Mirror> mirrors = new ArrayList<>();
    List<MmSettings.Sub> subs = new ArrayList<>();
    if (r.has("mm.mirrors")) {
      ConfigList list = r.list("mm.mirrors", "must be a list of { name, start, pages, lock, device, dma, owner, callback }");
      for (int i = 0; i < list.size(); i++) {
        String key = "mm.mirrors[" + i + "]";
        if (!(list.get(i) instanceof ConfigObject o)) throw r.error(list.get(i), key, "must be an object");
        r.onlyKeys(o, key + ".", Set.of("name", "start", "pages", "lock", "device", "dma", "owner", "callback", "inserted", "shared-pfns"));
        HoconReader v = r.sub(o, key);
        String name = v.string("name", null);
        if (!name.matches("[a-z][a-z0-9-]{0,31}")) throw r.error(o.get("name"), key + ".name", "use lower-case letters, digits and '-', got '" + name + "'");
        if (mirrors.stream().anyMatch(m -> m.settings().name().equals(name))) throw r.error(o.get("name"), key + ".name", "mirror '" + name + "' defined twice");
        long start = address(v, o, key, "start");
        long pages = v.number("pages", 1, 1, 1L << 20);
        String lock = v.string("lock", null);
        if (!lock.matches("[A-Za-z_][A-Za-z0-9_.-]{0,63}")) throw r.error(o.get("lock"), key + ".lock", "the name of the driver's lock (as its lock steps "
            + "name it), got '" + lock + "'");
        String devName = v.string("device", devices.ids().keySet().iterator().next());
        DeviceId dev = devices.ids().get(devName);
        if (dev == null) throw r.error(o.get("device"), key + ".device", "unknown device '" + devName + "' (devices: " + devices.ids().keySet() + ")");
        boolean dma = v.bool("dma", false);
        String owner = v.string("owner", "");
        if (!o.containsKey("callback")) throw r.error(o, key + ".callback", "required: the invalidate callback's steps, e.g. [\"lock " + lock + "\", "
            + "\"set-seq mirror=" + name + "\", \"dev-zap mirror=" + name + "\", \"unlock " + lock + "\"]");
        if (!(o.get("callback") instanceof ConfigList steps) || steps.isEmpty()) throw r.error(o.get("callback"), key + ".callback",
            "must be a non-empty list of steps");
        List<ParsedStep> callback = new ArrayList<>();
        for (int k = 0; k < steps.size(); k++) callback.add(StepLanguage.step(r, steps.get(k), key + ".callback[" + k + "]"));
        List<dmasim.actors.memory.Region> peers = memory.regions().stream().filter(x -> x.kind() == dmasim.actors.memory.Region.Kind.P2P).toList();
        boolean shared = v.bool("shared-pfns", false);
        if (shared && !dma) throw r.error(o.get("shared-pfns"), key + ".shared-pfns", "a shared pfn list is the hmm_dma_map's: it needs dma = true");
        MirrorSettings ms = new MirrorSettings(i, name, 0, start, pages, dev, lock, dma, dma && bounces.getOrDefault(dev, false), owner, peers, shared);
        mirrors.add(new Mirror(ms, callback));
        subs.add(new MmSettings.Sub(name, start, pages, v.bool("inserted", true), shared));
      }
    }
    return new MmSection(new MmSettings(vmas, subs, writeCheck, foreign), mirrors, RdmaSection.NONE);
  }

  /** A page-aligned user address at {@code field} of {@code o}. */
  private static long address(HoconReader v, ConfigObject o, String key, String field) {
    long a = v.number(field, -1, 0, TASK_SIZE - 4096);
    if (a == -1) throw v.error(field, "required: a user virtual address such as 0x7f0000000000");
    if ((a & 0xfff) != 0) throw v.error(field, "must be page aligned (a multiple of 4096), got 0x" + Long.toHexString(a));
    return a;
  }

  /** With the rdma section; with page-faults = workqueue, the ODP MRs' mirrors post their device faults to the RDMA device. */
  MmSection withRdma(RdmaSection r) {
    if (!r.present() || !r.faultsToWorkqueue()) return new MmSection(settings, mirrors, r);
    String hca = dmasim.actors.model.Names.hca(r.settings().deviceIndex());
    List<Mirror> out = new ArrayList<>();
    for (Mirror m : mirrors) {
      dmasim.actors.odp.HcaSettings.Mr mr = r.settings().mr(m.settings().name());
      boolean odp = mr != null && (mr.kind() == dmasim.actors.odp.HcaSettings.Kind.EXPLICIT || mr.kind() == dmasim.actors.odp.HcaSettings.Kind.CHILD);
      out.add(odp ? new Mirror(m.settings().withFaultQueue(hca), m.callback()) : m);
    }
    return new MmSection(settings, out, r);
  }

  /** The components of a run: the HMM side (with the reclaim rules of the faults section, seeded with the run's seed) and the RDMA device. */
  List<dmasim.actors.model.Component> components(List<dmasim.actors.mm.ReclaimRule> reclaims, long seed) {
    List<dmasim.actors.model.Component> out = new ArrayList<>();
    if (present()) out.add(component(reclaims, seed));
    if (rdma.present()) out.add(new dmasim.actors.odp.OdpComponent(rdma.settings(), mirrors.stream().map(Mirror::settings).toList()));
    return out;
  }

  /** The HMM component for a run: with the reclaim rules of the faults section, seeded with the run's seed. */
  dmasim.actors.mm.HmmComponent component(List<dmasim.actors.mm.ReclaimRule> reclaims, long seed) {
    List<MirrorSettings> ms = new ArrayList<>();
    for (Mirror m : mirrors) ms.add(m.settings());
    return new dmasim.actors.mm.HmmComponent(settings.withReclaims(reclaims, seed), ms);
  }

  /** A reclaim rule's {@code from} must be one of the run's CPU queues (direct reclaim runs in the thread that allocates). */
  static void checkReclaimSenders(List<dmasim.actors.mm.ReclaimRule> rules, int cpus) {
    for (dmasim.actors.mm.ReclaimRule r : rules) {
      if (r.from() == null) continue;
      boolean ok = r.from().matches("cpu\\d+") && Integer.parseInt(r.from().substring(3)) < cpus;
      if (!ok) {
        throw new UserError("the fault rule '" + r.describe() + "' names " + r.from() + ", which is not a CPU queue of this run (cpu0..cpu" + (cpus - 1)
            + "): direct reclaim runs in the thread that allocates");
      }
    }
  }

  static Map<String, Mirror> byName(MmSection s) {
    Map<String, Mirror> out = new LinkedHashMap<>();
    for (Mirror m : s.mirrors()) out.put(m.settings().name(), m);
    return out;
  }
}
