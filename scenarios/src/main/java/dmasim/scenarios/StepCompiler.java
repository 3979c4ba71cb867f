package dmasim.scenarios;

import dmasim.actors.cpu.Op;
import dmasim.actors.cpu.Program;
import dmasim.protocol.DeviceId;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.PageKind;
import dmasim.scenarios.StepLanguage.ParsedStep;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Turns the parsed steps of one program into driver instructions for a workload size ($requests, $segments). */
final class StepCompiler {
  /** An open repeat: its label, counter and count. */
  private record Repeat(String label, String counter, long times) {}

  private final StepArgs args;
  private final DeviceSection devices;
  private final MemorySection memory;
  private final String fileName;
  private final RunOptions o;
  private final Program.Builder b;
  private final Map<String, Integer> bufferPages = new HashMap<>();
  // How many handles each group holds (seg=all on mapping-error, unmap-phys and sync-for-* walks them, not $segments).
  private final Map<String, Integer> handleSegs = new HashMap<>();
  private final Deque<Repeat> repeats = new ArrayDeque<>();
  private int generated;

  private StepCompiler(StepArgs args, DeviceSection devices, MemorySection memory, String file, String name, RunOptions o) {
    this.args = args;
    this.devices = devices;
    this.memory = memory;
    this.fileName = String.valueOf(Path.of(file).getFileName());
    this.o = o;
    this.b = new Program.Builder(name);
  }

  /** The program {@code name} of the scenario file {@code file}. */
  static Program compile(StepArgs args, DeviceSection devices, MemorySection memory, String file, String name, List<ParsedStep> steps,
      RunOptions o) {
    StepCompiler c = new StepCompiler(args, devices, memory, file, name, o);
    for (ParsedStep s : steps) c.step(s);
    try {
      return c.b.build();
    } catch (IllegalArgumentException e) {
      throw args.error(steps.get(0), "programs", e.getMessage());
    }
  }

  private void step(ParsedStep s) {
    DeviceId dev = devices.ids().get(s.args().getOrDefault("device", devices.ids().keySet().iterator().next()));
    b.at(fileName + ":" + (s.at() == null || s.at().origin() == null ? 0 : s.at().origin().lineNumber()) + " " + s.key());
    if (!control(s) && !memoryStep(s) && !iovaApi(s, dev) && !classicApi(s, dev)) device(s, dev);
  }

  /** Labels, jumps and repeats. */
  private boolean control(ParsedStep s) {
    Map<String, String> a = s.args();
    switch (s.op()) {
      case "label" -> b.op(new Op.Label(s.positional().get(0)));
      case "goto" -> b.op(new Op.Goto(s.positional().get(0)));
      case "if-error" -> b.op(new Op.JumpIfError(a.get("goto")));
      case "if-no-iova" -> b.op(new Op.JumpIfNoIova(a.get("state"), a.get("goto")));
      case "if-errno" -> b.op(new Op.JumpIfErrno(args.errno(s), a.get("goto")));
      case "if-odd" -> b.op(new Op.JumpIfOdd(a.get("counter"), a.get("goto")));
      case "repeat" -> {
        String label = "__repeat" + generated++;
        repeats.push(new Repeat(label, a.getOrDefault("counter", label), args.count(s, "times", o, 1, 10_000_000)));
        b.op(new Op.Label(label));
      }
      case "end-repeat" -> {
        Repeat r = repeats.pop();
        b.op(new Op.Loop(r.counter(), r.times(), r.label()));
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  /** Pages of memory the CPU allocates, frees and touches. */
  private boolean memoryStep(ParsedStep s) {
    Map<String, String> a = s.args();
    switch (s.op()) {
      case "alloc" -> alloc(s);
      case "free-pages" -> b.op(new Op.FreeBuffer(a.get("buf")));
      case "write" -> b.op(new Op.Touch(a.get("buf"), true));
      case "read" -> b.op(new Op.Touch(a.get("buf"), false));
      default -> {
        return false;
      }
    }
    return true;
  }

  private void alloc(ParsedStep s) {
    Map<String, String> a = s.args();
    int pages = (int) args.count(s, "pages", o, 1, 4096);
    bufferPages.merge(a.get("buf"), pages, Math::max);
    String region = a.getOrDefault("region", "");
    if (!region.isEmpty() && !memory.hasRegion(region)) throw args.error(s, "undefined memory region '" + region + "' (define it in memory.types)");
    PageKind kind = PageKind.LINEAR;
    if (a.containsKey("kind")) {
      kind = Arrays.stream(PageKind.values()).filter(k -> k.key().equals(a.get("kind"))).findFirst()
          .orElseThrow(() -> args.error(s, "kind must be linear, stack, text, rodata, vmalloc or module, got '" + a.get("kind") + "'"));
      if (!region.isEmpty()) throw args.error(s, "kind= is for RAM; a memory.types region is not RAM");
    }
    b.op(new Op.AllocBuffer(a.get("buf"), pages, region, kind));
  }

  /** The dma_iova_* calls. */
  private boolean iovaApi(ParsedStep s, DeviceId dev) {
    Map<String, String> a = s.args();
    switch (s.op()) {
      case "try-alloc" -> b.op(new Op.TryAlloc(a.get("state"), a.get("buf"), dev, args.count(s, "offset", o, 0, 4095)));
      case "link" -> link(s, dev);
      case "sync" -> b.op(new Op.Sync(a.get("state"), dev));
      case "unlink" -> unlink(s, dev);
      case "destroy" -> {
        String segsArg = a.getOrDefault("segs", "all");
        int segs = segsArg.equals("all") ? -1 : segsArg.equals("linked") ? -2 : (int) args.count(s, "segs", o, 0, 4096);
        b.op(new Op.Destroy(a.get("state"), segs, dev, args.direction(s)));
      }
      case "free" -> b.op(new Op.Free(a.get("state"), dev));
      case "reset-state" -> b.op(new Op.ResetState(a.get("state")));
      default -> {
        return false;
      }
    }
    return true;
  }

  private void link(ParsedStep s, DeviceId dev) {
    Map<String, String> a = s.args();
    int attrs = (args.flag(s, "mmio") ? DmaAttrs.MMIO : 0) | (args.flag(s, "require-coherent") ? DmaAttrs.REQUIRE_COHERENT : 0);
    for (int seg : args.segs(s, bufferPages.getOrDefault(a.get("buf"), 0), o)) {
      b.op(new Op.Link(a.get("state"), a.get("buf"), seg, dev, args.direction(s), a.containsKey("size") ? args.count(s, "size", o, 1, 4096) : 0,
          attrs));
      if (a.containsKey("goto")) b.op(new Op.JumpIfError(a.get("goto")));
    }
  }

  private void unlink(ParsedStep s, DeviceId dev) {
    Map<String, String> a = s.args();
    boolean range = a.containsKey("offset") || a.containsKey("size");
    if (range && a.containsKey("seg")) throw args.error(s, "unlink takes seg= or offset= and size=, not both");
    if (!range && !a.containsKey("seg")) throw args.error(s, "unlink needs seg= or both offset= and size= (bytes of the state)");
    if (range && !(a.containsKey("offset") && a.containsKey("size"))) {
      throw args.error(s, "unlink with offset= needs size= too, and size= needs offset= (bytes of the state)");
    }
    if (range) {
      b.op(new Op.Unlink(a.get("state"), 0, dev, args.direction(s), args.count(s, "offset", o, 0, 1L << 32), args.count(s, "size", o, 1, 1L << 32)));
    } else {
      for (int seg : args.segs(s, Integer.MAX_VALUE, o)) b.op(new Op.Unlink(a.get("state"), seg, dev, args.direction(s)));
    }
  }

  /** The classic dma_map_* / dma_alloc_* calls. */
  private boolean classicApi(ParsedStep s, DeviceId dev) {
    Map<String, String> a = s.args();
    switch (s.op()) {
      case "map-phys" -> mapPhys(s, dev);
      case "alloc-coherent" -> {
        int pages = (int) args.count(s, "pages", o, 1, 4096);
        bufferPages.merge(a.get("buf"), pages, Math::max);
        b.op(new Op.AllocBuffer(a.get("buf"), pages, ""));
        b.op(new Op.AllocCoherent(a.get("buf"), dev));
      }
      case "free-coherent" -> {
        long size = a.containsKey("pages") ? args.count(s, "pages", o, 1, 4096) * 4096 : 0;
        b.op(new Op.FreeCoherent(a.get("buf"), a.getOrDefault("handle-of", a.get("buf")), size, dev));
        b.op(new Op.FreeBuffer(a.get("buf")));
      }
      case "mapping-error" -> {
        for (int seg : handleSegs(s)) {
          b.op(new Op.MappingError(a.get("handle"), seg, dev));
          if (a.containsKey("goto")) b.op(new Op.JumpIfError(a.get("goto")));
        }
      }
      case "unmap-phys" -> {
        for (int seg : handleSegs(s)) b.op(new Op.UnmapPhys(a.get("handle"), seg, dev, args.direction(s)));
      }
      case "map-sg" -> mapSg(s, dev);
      case "unmap-sg" -> b.op(new Op.UnmapSg(a.get("sg"), a.containsKey("nents") ? (int) args.count(s, "nents", o, 0, 4096) : -1, dev, args.direction(s)));
      case "sync-for-cpu", "sync-for-device" -> syncFor(s, dev);
      default -> {
        return false;
      }
    }
    return true;
  }

  private void mapPhys(ParsedStep s, DeviceId dev) {
    Map<String, String> a = s.args();
    boolean mmio = args.flag(s, "mmio");
    boolean skip = args.flag(s, "skip-cpu-sync");
    boolean single = args.flag(s, "single");
    for (int seg : args.segs(s, bufferPages.getOrDefault(a.get("buf"), 0), o)) {
      b.op(new Op.MapPhys(a.get("handle"), a.get("buf"), seg, dev, args.direction(s), mmio, skip, single));
      handleSegs.merge(a.get("handle"), seg + 1, Math::max);
    }
  }

  /** seg=N, or seg=all: every handle of the group handle=. */
  private List<Integer> handleSegs(ParsedStep s) {
    return args.segs(s, handleSegs.getOrDefault(s.args().get("handle"), Integer.MAX_VALUE), o);
  }

  private void mapSg(ParsedStep s, DeviceId dev) {
    Map<String, String> a = s.args();
    boolean merge = args.flag(s, "merge");
    if (a.containsKey("max-segment") && !merge) throw args.error(s, "max-segment= only with merge=true");
    // sg_alloc_table_from_pages passes UINT_MAX, rounded down to a page by sg_alloc_table_from_pages_segment
    long max = a.containsKey("max-segment") ? args.count(s, "max-segment", o, 4096, 0xffffffffL) & ~0xfffL : merge ? 0xfffff000L : 0;
    b.op(new Op.MapSg(a.get("sg"), a.get("buf"), dev, args.direction(s), max));
  }

  private void syncFor(ParsedStep s, DeviceId dev) {
    Map<String, String> a = s.args();
    // seg=all syncs every handle of a group, one dma_sync_single_* each; an sg table is synced whole anyway.
    List<Integer> segs = "all".equals(a.get("seg")) ? args.segs(s, handleSegs.getOrDefault(a.get("object"), Integer.MAX_VALUE), o)
        : List.of((int) args.count(s, "seg", o, 0, 4095));
    for (int seg : segs) b.op(new Op.SyncFor(a.get("object"), seg, s.op().equals("sync-for-cpu"), dev, args.direction(s)));
  }

  /** The device, the domain, locks, time and the request loop. */
  private void device(ParsedStep s, DeviceId dev) {
    Map<String, String> a = s.args();
    switch (s.op()) {
      case "submit" -> b.op(new Op.Submit(dev, a.get("source"), args.flag(s, "device-writes"), a.containsKey("length") ? args.count(s, "length", o, 1, 1 << 24) : 0));
      case "await" -> b.op(new Op.Await(a.containsKey("timeout") ? args.duration(s, "timeout") : 0));
      case "lock" -> b.op(new Op.Lock(s.positional().get(0)));
      case "unlock" -> b.op(new Op.Unlock(s.positional().get(0)));
      case "reset-device" -> b.op(new Op.ResetDevice(dev));
      case "probe-device" -> b.op(new Op.ProbeDevice(dev));
      case "teardown-domain" -> b.op(new Op.TearDownDomain());
      case "surprise-removal" -> b.op(new Op.SurpriseRemoval(dev));
      case "attach" -> b.op(new Op.AttachDevice(dev));
      case "attach-iommu" -> b.op(new Op.AttachIommu(!s.args().containsKey("caching-mode") || args.flag(s, "caching-mode")));
      case "sleep" -> b.op(new Op.Sleep(args.duration(s, "duration")));
      case "request-done" -> b.op(new Op.RequestDone());
      case "unbind" -> b.op(new Op.Unbind(dev));
      case "end" -> b.op(new Op.End());
      default -> throw args.error(s, "unknown step " + s.op());
    }
  }
}
