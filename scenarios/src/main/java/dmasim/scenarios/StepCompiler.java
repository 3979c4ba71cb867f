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
  private final MmSection mm;
  /** Prefix of the labels of the code being compiled: "" for the program, "__cb:NAME:" for a mirror's callback (its labels are its own). */
  private String scope = "";
  private final String fileName;
  private final RunOptions o;
  private final Program.Builder b;
  private final Map<String, Integer> bufferPages = new HashMap<>();
  // How many handles each group holds (seg=all on mapping-error, unmap-phys and sync-for-* walks them, not $segments).
  private final Map<String, Integer> handleSegs = new HashMap<>();
  private final Deque<Repeat> repeats = new ArrayDeque<>();
  private int generated;

  private StepCompiler(StepArgs args, DeviceSection devices, MemorySection memory, MmSection mm, String file, String name, RunOptions o) {
    this.args = args;
    this.devices = devices;
    this.memory = memory;
    this.mm = mm;
    this.fileName = String.valueOf(Path.of(file).getFileName());
    this.o = o;
    this.b = new Program.Builder(name);
  }

  /** The program {@code name} of the scenario file {@code file}. */
  static Program compile(StepArgs args, DeviceSection devices, MemorySection memory, MmSection mm, String file, String name, List<ParsedStep> steps,
      RunOptions o) {
    StepCompiler c = new StepCompiler(args, devices, memory, mm, file, name, o);
    for (ParsedStep s : steps) c.step(s);
    // Every mirror's invalidate callback, after the program: the notifier runs it on whichever queue caused the invalidation.
    c.b.op(new Op.End());
    for (MmSection.Mirror m : mm.mirrors()) {
      c.scope = "__cb:" + m.settings().name() + ":";
      c.b.op(new Op.Label(dmasim.actors.cpu.CpuLogic.callbackLabel(m.settings().name())));
      for (ParsedStep s : m.callback()) c.step(s);
      c.b.op(new Op.Return(true)); // falling off the end returns true
    }
    // The driver's work handlers: a work-run queue runs them.
    for (Map.Entry<String, List<ParsedStep>> w : mm.rdma().work().entrySet()) {
      c.scope = "__wk:" + w.getKey() + ":";
      c.b.op(new Op.Label(dmasim.actors.cpu.CpuLogic.workLabel(w.getKey())));
      for (ParsedStep s : w.getValue()) c.step(s);
      c.b.op(new Op.Return(true));
    }
    try {
      return c.b.build();
    } catch (IllegalArgumentException e) {
      throw args.error(steps.get(0), "programs", e.getMessage());
    }
  }

  private void step(ParsedStep s) {
    DeviceId dev = devices.ids().get(s.args().getOrDefault("device", devices.ids().keySet().iterator().next()));
    b.at(fileName + ":" + (s.at() == null || s.at().origin() == null ? 0 : s.at().origin().lineNumber()) + " " + s.key());
    if (!control(s) && !memoryStep(s) && !iovaApi(s, dev) && !classicApi(s, dev) && !hmm(s) && !rdma(s)) device(s, dev);
  }

  /** Labels, jumps and repeats. */
  private boolean control(ParsedStep s) {
    Map<String, String> a = s.args();
    switch (s.op()) {
      case "label" -> b.op(new Op.Label(scope + s.positional().get(0)));
      case "goto" -> b.op(new Op.Goto(scope + s.positional().get(0)));
      case "if-error" -> b.op(new Op.JumpIfError(scope + a.get("goto")));
      case "if-no-iova" -> b.op(new Op.JumpIfNoIova(a.get("state"), scope + a.get("goto")));
      case "if-errno" -> b.op(new Op.JumpIfErrno(args.errno(s), scope + a.get("goto")));
      case "if-odd" -> b.op(new Op.JumpIfOdd(a.get("counter"), scope + a.get("goto")));
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
      if (a.containsKey("goto")) b.op(new Op.JumpIfError(scope + a.get("goto")));
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
          if (a.containsKey("goto")) b.op(new Op.JumpIfError(scope + a.get("goto")));
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

  /** The address space of the process and the mirroring driver's steps (mm section). */
  private boolean hmm(ParsedStep s) {
    Map<String, String> a = s.args();
    boolean isProcess = java.util.Set.of("mmap", "munmap", "mprotect", "madvise-dontneed", "touch", "migrate", "fork", "reclaim", "exit")
        .contains(s.op());
    boolean isDriver = a.containsKey("mirror") || java.util.Set.of("return", "if-nonblockable", "trylock").contains(s.op());
    if (!isProcess && !isDriver) return false;
    if (!mm.present() && !s.op().equals("trylock")) throw args.error(s, s.op() + " needs an mm section (the process address space and its mirrors)");
    MmSection.Mirror mirror = null;
    if (a.containsKey("mirror")) {
      mirror = mm.mirror(a.get("mirror"));
      if (mirror == null) throw args.error(s, "unknown mirror '" + a.get("mirror") + "' (mm.mirrors: " + MmSection.byName(mm).keySet() + ")");
    }
    boolean inCallback = scope.startsWith("__cb:");
    switch (s.op()) {
      case "mmap" -> b.op(new Op.MmCall(new dmasim.protocol.MmCommand.Mmap(start(s), pages(s), access(s, true), !a.containsKey("populate")
          || args.flag(s, "populate"))));
      case "munmap" -> b.op(new Op.MmCall(new dmasim.protocol.MmCommand.Munmap(start(s), pages(s))));
      case "mprotect" -> b.op(new Op.MmCall(new dmasim.protocol.MmCommand.Mprotect(start(s), pages(s), access(s, false))));
      case "madvise-dontneed" -> b.op(new Op.MmCall(new dmasim.protocol.MmCommand.MadviseDontneed(start(s), pages(s))));
      case "touch" -> b.op(new Op.MmCall(new dmasim.protocol.MmCommand.Touch(address(s, "va"), args.flag(s, "write"))));
      case "migrate" -> {
        String to = a.get("to");
        if (!to.equals("device") && !to.equals("ram")) throw args.error(s, "to must be device or ram, got '" + to + "'");
        String owner = a.getOrDefault("owner", mm.mirrors().isEmpty() ? "" : mm.mirrors().get(0).settings().owner());
        if (to.equals("device") && owner.isEmpty()) throw args.error(s, "migrate to=device needs owner= (the device-private memory's pgmap owner)");
        b.op(new Op.MmCall(new dmasim.protocol.MmCommand.Migrate(start(s), pages(s), to.equals("device"), owner)));
      }
      case "fork" -> b.op(new Op.MmCall(new dmasim.protocol.MmCommand.Fork()));
      case "reclaim" -> b.op(new Op.MmCall(new dmasim.protocol.MmCommand.Reclaim(start(s), pages(s), !a.containsKey("blockable")
          || args.flag(s, "blockable"))));
      case "exit" -> b.op(new Op.MmCall(new dmasim.protocol.MmCommand.Exit()));
      case "mirror-insert" -> b.op(new Op.MmCall(new dmasim.protocol.MmCommand.Insert(mirror.settings().name())));
      case "mirror-remove" -> b.op(new Op.MmCall(new dmasim.protocol.MmCommand.Remove(mirror.settings().name())));
      case "read-begin" -> b.op(new Op.ReadBegin(mirror.settings().name()));
      case "range-fault" -> {
        dmasim.actors.mm.MirrorSettings m = mirror.settings();
        long start = a.containsKey("start") ? start(s) : m.start();
        long pages = a.containsKey("pages") ? pages(s) : m.pages();
        if (start < m.start() || start + pages * 4096 > m.start() + m.pages() * 4096) {
          throw args.error(s, "range-fault [0x" + Long.toHexString(start) + ", +" + pages + " pages) is outside mirror " + m.name() + "'s range");
        }
        b.op(new Op.RangeFault(m.name(), start, pages, args.flag(s, "write"), args.flag(s, "snapshot"), a.getOrDefault("owner", m.owner())));
      }
      case "read-retry" -> b.op(new Op.ReadRetry(mirror.settings().name(), scope + a.get("goto")));
      case "set-seq" -> {
        if (!inCallback) throw args.error(s, "set-seq is for a mirror's invalidate callback (mmu_interval_set_seq takes the cur_seq the notifier "
            + "passes it)");
        b.op(new Op.SetSeq(mirror.settings().name()));
      }
      case "dev-pte-set" -> b.op(new Op.DevPteSet(mirror.settings().name(), mirror.settings().start(), args.flag(s, "downgrade")));
      case "dev-zap" -> b.op(new Op.DevZap(mirror.settings().name(), mirror.settings().start(), mirror.settings().pages(), !a.containsKey("wait")
          || args.flag(s, "wait")));
      case "dev-access" -> {
        long va = address(s, "va");
        if (mirror.settings().index(va) < 0) {
          throw args.error(s, String.format(java.util.Locale.ROOT, "va 0x%x is outside mirror %s [0x%x, 0x%x)", va, mirror.settings().name(),
              mirror.settings().start(), mirror.settings().start() + mirror.settings().pages() * 4096));
        }
        b.op(new Op.DevAccess(mirror.settings().name(), va, args.flag(s, "write")));
      }
      case "hmm-dma-alloc", "hmm-dma-unmap", "hmm-dma-free" -> {
        if (!mirror.settings().dma()) throw args.error(s, s.op() + " needs a mirror with dma = true (" + mirror.settings().name() + " uses pfns)");
        b.op(new Op.HmmDma(mirror.settings().name(), s.op().substring("hmm-dma-".length()), mirror.settings().start(), mirror.settings().pages()));
      }
      case "set-page-dirty" -> b.op(new Op.DirtyPages(mirror.settings().name()));
      case "npages" -> b.op(new Op.MirrorCall(mirror.settings().name(), new dmasim.protocol.MirrorCommand.Npages()));
      case "fault-done" -> b.op(new Op.FaultDone(mirror.settings().name(), args.flag(s, "error")));
      case "trylock" -> b.op(new Op.TryLock(s.positional().get(0)));
      case "return" -> {
        if (scope.startsWith("__wk:")) {
          if (a.containsKey("ok")) throw args.error(s, "a work handler returns nothing: write return without ok=");
          b.op(new Op.Return(true));
          return true;
        }
        if (!inCallback) throw args.error(s, "return is for a mirror's invalidate callback (mm.mirrors[].callback) or a work handler (rdma.work)");
        b.op(new Op.Return(!a.containsKey("ok") || args.flag(s, "ok")));
      }
      case "if-nonblockable" -> {
        if (!inCallback) throw args.error(s, "if-nonblockable is for a mirror's invalidate callback");
        b.op(new Op.JumpIfNonBlockable(scope + a.get("goto")));
      }
      case "if-own-migrate" -> {
        if (!inCallback) throw args.error(s, "if-own-migrate is for a mirror's invalidate callback");
        b.op(new Op.JumpIfOwnMigrate(mirror.settings().owner(), scope + a.get("goto")));
      }
      default -> {
        return false;
      }
    }
    if (inCallback && s.op().equals("set-seq") == false && java.util.Set.of("read-begin", "range-fault", "read-retry").contains(s.op())) {
      throw args.error(s, s.op() + " inside an invalidate callback: the callback runs with the mm's invalidation in progress and must not fault");
    }
    return true;
  }

  /** The RDMA device's steps (rdma section): mkeys, implicit children, KSM updates, the workqueue. */
  private boolean rdma(ParsedStep s) {
    Map<String, String> a = s.args();
    if (!a.containsKey("mr") && !s.op().equals("work-run") && !s.op().equals("wq-flush")) return false;
    if (s.op().equals("mkey-create")) return mkeyCreate(s);
    if (s.op().equals("if-work")) {
      if (!scope.startsWith("__wk:")) throw args.error(s, "if-work is for a work handler (rdma.work): it asks which MR the item being run is for");
      if (!mm.rdma().present() || mm.rdma().settings().mr(a.get("mr")) == null) throw args.error(s, "unknown memory region '" + a.get("mr") + "'");
      b.op(new Op.JumpIfWorkFor(a.get("mr"), scope + a.get("goto")));
      return true;
    }
    if (!mm.rdma().present()) throw args.error(s, s.op() + " needs an rdma section (the RDMA device and its memory regions)");
    dmasim.actors.odp.HcaSettings hca = mm.rdma().settings();
    String hcaName = dmasim.actors.model.Names.hca(hca.deviceIndex());
    String mr = a.get("mr");
    dmasim.actors.odp.HcaSettings.Mr region = mr == null ? null : hca.mr(mr);
    if (mr != null && region == null) {
      throw args.error(s, "unknown memory region '" + mr + "' (rdma.mrs: " + hca.mrs().stream().map(dmasim.actors.odp.HcaSettings.Mr::name).toList() + ")");
    }
    if (region != null && region.kind() == dmasim.actors.odp.HcaSettings.Kind.PLAIN && !s.op().equals("mkey-free")) {
      throw args.error(s, s.op() + " is for ODP memory regions; page-list mkey " + mr + " takes mkey-create and mkey-free");
    }
    if (s.op().startsWith("child-")) {
      if (region.kind() != dmasim.actors.odp.HcaSettings.Kind.CHILD) throw args.error(s, s.op() + " names a child of an implicit MR (mr=" + mr
          + " is " + region.kind().name().toLowerCase(java.util.Locale.ROOT) + ")");
    }
    dmasim.protocol.HcaCommand c = switch (s.op()) {
      case "mkey-get" -> new dmasim.protocol.HcaCommand.MkeyGet(mr);
      case "mkey-put" -> new dmasim.protocol.HcaCommand.MkeyPut(mr);
      case "mkey-unpublish" -> new dmasim.protocol.HcaCommand.MkeyUnpublish(mr);
      case "mkey-wait" -> new dmasim.protocol.HcaCommand.MkeyWait(mr);
      case "mkey-revoke" -> new dmasim.protocol.HcaCommand.MkeyRevoke(mr);
      case "mkey-free" -> new dmasim.protocol.HcaCommand.MkeyFree(mr);
      case "mkey-check" -> new dmasim.protocol.HcaCommand.MkeyCheck(mr);
      case "child-get" -> new dmasim.protocol.HcaCommand.ChildGet(mr);
      case "child-create" -> new dmasim.protocol.HcaCommand.ChildCreate(mr);
      case "child-destroy" -> {
        String work = a.getOrDefault("work", "free-child");
        if (!hca.work().contains(work)) throw args.error(s, "no work handler '" + work + "' (rdma.work: " + hca.work() + ")");
        yield new dmasim.protocol.HcaCommand.ChildDestroy(mr, work, args.flag(s, "erase"), !a.containsKey("put-on-lost") || args.flag(s, "put-on-lost"),
            args.flag(s, "srcu"));
      }
      case "child-erase" -> new dmasim.protocol.HcaCommand.ChildDestroy(mr, "", true, false, false);
      case "ksm-update" -> {
        if (region.kind() == dmasim.actors.odp.HcaSettings.Kind.CHILD) yield new dmasim.protocol.HcaCommand.KsmUpdate(region.parent(), region.slot(), 1);
        if (region.kind() == dmasim.actors.odp.HcaSettings.Kind.IMPLICIT) yield new dmasim.protocol.HcaCommand.KsmUpdate(mr, 0, hca.slots(mr));
        throw args.error(s, "ksm-update names an implicit MR (all its slots) or one of its children (its slot); " + mr + " is an explicit MR");
      }
      case "work-run" -> {
        if (scope.startsWith("__wk:")) throw args.error(s, "work-run inside a work handler: a worker takes the next item after the handler returns");
        yield new dmasim.protocol.HcaCommand.WorkRun();
      }
      case "wq-flush" -> new dmasim.protocol.HcaCommand.WqFlush(args.flag(s, "deferred"));
      default -> throw args.error(s, "unknown step " + s.op());
    };
    b.op(new Op.HcaCall(hcaName, c));
    return true;
  }

  /** create_mkey over a page list (VFIO mlx5): the MTT from an IOVA state or a handle group, for the pages of a buffer. */
  private boolean mkeyCreate(ParsedStep s) {
    Map<String, String> a = s.args();
    if (!mm.rdma().present()) throw args.error(s, "mkey-create needs an rdma section naming the mkey ({ name = " + a.get("mr") + " })");
    dmasim.actors.odp.HcaSettings hca = mm.rdma().settings();
    dmasim.actors.odp.HcaSettings.Mr region = hca.mr(a.get("mr"));
    if (region == null || region.kind() != dmasim.actors.odp.HcaSettings.Kind.PLAIN) {
      throw args.error(s, "mkey-create names a page-list mkey of rdma.mrs ({ name = " + a.get("mr") + " }), got '" + a.get("mr") + "'");
    }
    String src = a.get("source");
    if (!src.startsWith("state:") && !src.startsWith("handles:")) throw args.error(s, "source must be state:NAME or handles:NAME, got '" + src + "'");
    b.op(new Op.MkeyCreate(dmasim.actors.model.Names.hca(hca.deviceIndex()), region.name(), src, a.get("buf")));
    return true;
  }

  /** A user virtual address argument (decimal or 0x hex), below the top of the user address space. */
  private long address(ParsedStep s, String arg) {
    String v = s.args().get(arg);
    long a;
    try {
      a = Long.decode(v);
    } catch (NumberFormatException e) {
      throw args.error(s, arg + " must be an address such as 0x10000000, got '" + v + "'");
    }
    if (a < 0 || a >= MmSection.TASK_SIZE) throw args.error(s, String.format(java.util.Locale.ROOT, "%s 0x%x is not a user address (0 to 0x%x)", arg, a,
        MmSection.TASK_SIZE - 1));
    return a;
  }

  private long start(ParsedStep s) {
    long v = address(s, "start");
    if ((v & 0xfff) != 0) throw args.error(s, "start must be page aligned, got 0x" + Long.toHexString(v));
    return v;
  }

  private long pages(ParsedStep s) {
    return args.count(s, "pages", o, 1, 1L << 24);
  }

  private boolean access(ParsedStep s, boolean dflt) {
    String v = s.args().get("access");
    if (v == null) return dflt;
    if (!v.equals("r") && !v.equals("rw")) throw args.error(s, "access must be r or rw, got '" + v + "'");
    return v.equals("rw");
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
