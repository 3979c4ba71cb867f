package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hand-broken scenario files: each has one mistake, and `dmasim run FILE` must exit 2 with one line
 * that names the file, the line of the mistake and the key - never a stack trace.
 */
class BrokenScenarioFilesTest {
  static final String BASE = """
      name = broken-base
      description = "a valid scenario the broken cases start from"
      iommu { mode = strict, caching-mode = false }
      cpus = 2
      devices = [ { name = nvme, dma-mask-bits = 64 } ]
      memory { pages = 4096 }
      workload { requests = 2, segments = 2 }
      faults = [ { op = try_alloc, every = 3 } ]
      programs {
        all = [
          "repeat times=$requests"
          "alloc buf=buf pages=$segments"
          "try-alloc state=s buf=buf"
          "if-no-iova state=s goto=skip"
          "link state=s buf=buf seg=all dir=to-device"
          "sync state=s"
          "submit source=state:s"
          "await"
          "destroy state=s dir=to-device"
          "label skip"
          "free-pages buf=buf"
          "end-repeat"
        ]
      }
      expect { verdict = clean, strategy = random, schedules = 2 }
      """;

  /** One broken file: a replacement in BASE, the key the error must name, and the text on the line it must point at (null: any line). */
  record Case(String what, String from, String to, String key, String lineMarker, String from2, String to2) {
    Case(String what, String from, String to, String key, String lineMarker) {
      this(what, from, to, key, lineMarker, null, null);
    }

    /** The same case with a second replacement. */
    Case with(String from2, String to2) {
      return new Case(what, from, to, key, lineMarker, from2, to2);
    }
  }

  static List<Case> cases() {
    List<Case> c = new ArrayList<>();
    c.add(new Case("unknown top-level key", "cpus = 2", "cpus = 2\ncolour = blue", "colour", "colour"));
    // Scenario files are data: no includes of any kind, no environment substitution.
    c.add(new Case("include of a local file", "cpus = 2", "include file(\"/etc/hostname\")\ncpus = 2", "include", "include"));
    c.add(new Case("include of a URL", "cpus = 2", "include url(\"http://127.0.0.1:9/x.conf\")\ncpus = 2", "include", "include"));
    c.add(new Case("include of a neighbour", "cpus = 2", "include \"neighbour.conf\"\ncpus = 2", "include", "include"));
    c.add(new Case("a CPU queue number out of any range", "programs {\n  all = [", "programs {\n  cpu99999999999 = [", "programs.cpu99999999999",
        "cpu99999999999"));
    c.add(new Case("objects nested too deeply to read", "cpus = 2", "cpus = 2\ndeep = " + "{ a = ".repeat(5000) + "1" + " }".repeat(5000), "syntax",
        null));
    c.add(new Case("reserved ranges not a list", "mode = strict,", "mode = strict, reserved = 5,", "iommu.reserved", "reserved = 5"));
    c.add(new Case("environment substitution", "name = broken-base", "name = ${HOME}", "${HOME}", "${HOME}"));
    c.add(new Case("unknown iommu key", "caching-mode = false", "cachingmode = true", "iommu.cachingmode", "cachingmode"));
    c.add(new Case("bad IOMMU mode", "mode = strict", "mode = relaxed", "iommu.mode", "relaxed"));
    c.add(new Case("lazy domain for an untrusted device", "mode = strict, caching-mode = false }\ncpus = 2\ndevices = [ { name = nvme,",
        "mode = lazy, caching-mode = false }\ncpus = 2\ndevices = [ { name = nvme, untrusted = true,", "iommu.mode", "mode = lazy"));
    c.add(new Case("per-CPU flush queues on a caching-mode IOMMU", "mode = strict, caching-mode = false", "mode = lazy, caching-mode = true",
        "iommu.mode", "mode = lazy"));
    c.add(new Case("wrong type for caching-mode", "caching-mode = false", "caching-mode = maybe", "iommu.caching-mode", "maybe"));
    c.add(new Case("unsupported granule", "mode = strict,", "mode = strict, granule = 8192,", "iommu.granule", "8192"));
    c.add(new Case("aperture too wide", "mode = strict,", "mode = strict, aperture-bits = 70,", "iommu.aperture-bits", "aperture-bits"));
    c.add(new Case("empty IOTLB", "mode = strict,", "mode = strict, iotlb-entries = 0,", "iommu.iotlb-entries", "iotlb-entries"));
    c.add(new Case("flush queue not a power of two", "mode = strict,", "mode = strict, flush-queue { size = 100 },", "iommu.flush-queue.size", "size = 100"));
    c.add(new Case("flush queue timeout not a duration", "mode = strict,", "mode = strict, flush-queue { timeout = soon },", "iommu.flush-queue.timeout", "soon"));
    c.add(new Case("negative invalidation latency", "mode = strict,", "mode = strict, invalidation-latency = -1ms,", "iommu.invalidation-latency", "-1ms"));
    c.add(new Case("bad invalidation order", "mode = strict,", "mode = strict, invalidation-order = sideways,", "iommu.invalidation-order", "sideways"));
    c.add(new Case("zero CPU queues", "cpus = 2", "cpus = 0", "cpus", "cpus = 0"));
    c.add(new Case("CPU count not a number", "cpus = 2", "cpus = two", "cpus", "cpus = two"));
    // Typesafe Config alone would read 1.5 as 1, NaN as 0 and 1e20 as the largest long.
    c.add(new Case("a fractional count", "requests = 2,", "requests = 1.5,", "workload.requests", "requests = 1.5"));
    c.add(new Case("NaN as a count", "requests = 2,", "requests = NaN,", "workload.requests", "requests = NaN"));
    c.add(new Case("a count past any long", "requests = 2,", "requests = 99999999999999999999,", "workload.requests", "99999999999999999999"));
    c.add(new Case("missing devices", "devices = [ { name = nvme, dma-mask-bits = 64 } ]", "", "devices", null));
    c.add(new Case("empty device list", "devices = [ { name = nvme, dma-mask-bits = 64 } ]", "devices = []", "devices", "devices = []"));
    c.add(new Case("unknown device key", "dma-mask-bits = 64", "dma-mask-bits = 64, speed = 9", "devices[0].speed", "speed"));
    c.add(new Case("DMA mask too small", "dma-mask-bits = 64", "dma-mask-bits = 16", "devices[0].dma-mask-bits", "dma-mask-bits = 16"));
    c.add(new Case("untrusted not a boolean", "dma-mask-bits = 64", "dma-mask-bits = 64, untrusted = sometimes", "devices[0].untrusted", "sometimes"));
    c.add(new Case("unknown device kind", "name = nvme,", "name = nvme, kind = toaster,", "devices[0].kind", "toaster"));
    c.add(new Case("duplicate device name", "devices = [ { name = nvme, dma-mask-bits = 64 } ]",
        "devices = [ { name = nvme, dma-mask-bits = 64 }, { name = nvme } ]", "devices[1].name", "devices = ["));
    c.add(new Case("negative memory size", "pages = 4096", "pages = -5", "memory.pages", "pages = -5"));
    c.add(new Case("memory types (not modelled)", "memory { pages = 4096 }", "memory { pages = 4096, types = [ p2p ] }", "memory.types", "types"));
    c.add(new Case("zero requests", "requests = 2", "requests = 0", "workload.requests", "requests = 0"));
    c.add(new Case("too many segments", "segments = 2", "segments = 999", "workload.segments", "segments = 999"));
    c.add(new Case("unknown fault operation", "op = try_alloc", "op = teleport", "faults[0].op", "teleport"));
    c.add(new Case("fault with two triggers", "every = 3", "every = 3, nth = 2", "faults[0]", "every = 3, nth = 2"));
    c.add(new Case("fault probability above 1", "every = 3", "probability = 2", "faults[0].probability", "probability = 2"));
    c.add(new Case("unknown errno", "every = 3", "every = 3, errno = EWHATEVER", "faults[0].errno", "EWHATEVER"));
    String calls = "faults = [ { op = try_alloc, every = 3 } ]";
    c.add(new Case("rule that is neither a call nor a message fault", calls, "faults = [\n { every = 3 } ]", "faults[0]", "every = 3"));
    c.add(new Case("rule that is both", calls, "faults = [\n { op = link, message = drop, every = 3 } ]", "faults[0]", "op = link"));
    c.add(new Case("unknown message action", calls, "faults = [\n { message = mangle, every = 3 } ]", "faults[0].message", "mangle"));
    c.add(new Case("unknown message type", calls, "faults = [\n { message = drop, type = Telegram, every = 3 } ]", "faults[0].type", "Telegram"));
    c.add(new Case("a synchronous call duplicated", calls, "faults = [\n { message = duplicate, type = MapPhys, nth = 1 } ]", "faults[0].type",
        "MapPhys"));
    c.add(new Case("a reorder without a type", calls, "faults = [\n { message = reorder, every = 2 } ]", "faults[0].type", "reorder"));
    c.add(new Case("an actor that does not exist", calls, "faults = [\n { message = drop, to = gpu7, nth = 1 } ]", "faults[0].to", "gpu7"));
    c.add(new Case("a delay rule without a delay", calls, "faults = [\n { message = delay, type = Completed, every = 1 } ]", "faults[0].delay",
        "message = delay"));
    c.add(new Case("a delay that is not a duration", calls, "faults = [\n { message = delay, every = 1, delay = later } ]", "faults[0].delay",
        "later"));
    c.add(new Case("a uniform delay with one bound", calls, "faults = [\n { message = delay, every = 1,\n delay = { uniform = [ 1us ] } } ]",
        "faults[0].delay.uniform", "uniform"));
    c.add(new Case("a uniform delay upside down", calls, "faults = [\n { message = delay, every = 1,\n delay = { uniform = [ 9us, 1us ] } } ]",
        "faults[0].delay.uniform", "uniform"));
    c.add(new Case("a delay on a drop", calls, "faults = [\n { message = drop, every = 1, delay = 5us } ]", "faults[0].delay", "5us"));
    c.add(new Case("an invalidation timeout with a delay", calls, "faults = [\n { invalidation = timeout, nth = 1, delay = 5us } ]",
        "faults[0].delay", "5us"));
    c.add(new Case("a device fault on a device that does not exist", calls, "faults = [\n { device = gpu, fault = reset, nth = 1 } ]",
        "faults[0].device", "gpu"));
    c.add(new Case("a device fault on a CPU queue", calls, "faults = [\n { device = cpu0, fault = reset, nth = 1 } ]", "faults[0].device",
        "cpu0"));
    c.add(new Case("an unknown device fault", calls, "faults = [\n { device = nvme, fault = explode, nth = 1 } ]", "faults[0].fault", "explode"));
    c.add(new Case("a device fault on a message no device receives", calls, "faults = [\n { device = nvme, fault = reset, on = MapPhys, nth = 1 } ]",
        "faults[0].on", "MapPhys"));
    c.add(new Case("an errno on a page allocation fault", calls, "faults = [\n { op = alloc_pages, nth = 1, errno = EIO } ]", "faults[0].errno",
        "EIO"));
    c.add(new Case("a crash of an actor that does not exist", calls, "faults = [\n { crash = gpu0, nth = 1 } ]", "faults[0].crash", "gpu0"));
    c.add(new Case("a crash on an unknown message", calls, "faults = [\n { crash = iommu0, on = Lunch, nth = 1 } ]", "faults[0].on", "Lunch"));
    c.add(new Case("an unknown invalidation fault", calls, "faults = [\n { invalidation = lost, nth = 1 } ]", "faults[0].invalidation", "lost"));
    c.add(new Case("missing programs", "programs {", "progs {", "progs", "progs {"));
    c.add(new Case("program for a CPU that does not exist", "  all = [", "  cpu5 = [ \"end\" ]\n  all = [", "programs.cpu5", "cpu5"));
    c.add(new Case("bad program name", "  all = [", "  main = [ \"end\" ]\n  all = [", "programs.main", "main = ["));
    c.add(new Case("step that is not a string", "\"repeat times=$requests\"", "42\n\"repeat times=$requests\"", "programs.all[0]", "42"));
    c.add(new Case("unknown step", "\"await\"", "\"teleport\"", "programs.all[7]", "teleport"));
    c.add(new Case("unknown argument", "seg=all dir=to-device", "sge=all dir=to-device", "programs.all[4]", "sge=all"));
    c.add(new Case("missing argument", "seg=all dir=to-device", "seg=all", "programs.all[4]", "\"link state=s buf=buf seg=all\""));
    c.add(new Case("undefined state object", "link state=s", "link state=t", "programs.all[4]", "state=t"));
    c.add(new Case("undefined buffer", "try-alloc state=s buf=buf", "try-alloc state=s buf=nope", "programs.all[2]", "buf=nope"));
    c.add(new Case("undefined label", "goto=skip", "goto=nowhere", "programs.all[3]", "nowhere"));
    c.add(new Case("bad direction", "dir=to-device\"\n    \"sync", "dir=sideways\"\n    \"sync", "programs.all[4]", "sideways"));
    c.add(new Case("negative size", "pages=$segments", "pages=-4", "programs.all[1]", "pages=-4"));
    c.add(new Case("size not a number", "pages=$segments", "pages=lots", "programs.all[1]", "pages=lots"));
    c.add(new Case("segment beyond the buffer", "seg=all dir=to-device", "seg=9 dir=to-device", "programs.all[4]", "seg=9"));
    c.add(new Case("bad descriptor source", "source=state:s", "source=queue:s", "programs.all[6]", "queue:s"));
    c.add(new Case("undefined handle group", "source=state:s", "source=handles:h", "programs.all[6]", "handles:h"));
    c.add(new Case("end-repeat without repeat", "\"repeat times=$requests\"\n", "", "programs.all", "end-repeat"));
    c.add(new Case("repeat without end-repeat", "\"end-repeat\"\n", "", "programs.all", "free-pages"));
    c.add(new Case("duplicate label", "\"label skip\"", "\"label skip\"\n\"label  skip \"", "programs.all[10]", "label  skip"));
    c.add(new Case("bad verdict", "verdict = clean", "verdict = maybe", "expect.verdict", "maybe"));
    c.add(new Case("unknown expected monitor", "verdict = clean", "verdict = violation, monitor = Clairvoyance", "expect.monitor", "Clairvoyance"));
    c.add(new Case("strategy without depth", "strategy = random", "strategy = pct", "expect.strategy", "strategy = pct"));
    c.add(new Case("zero schedules", "schedules = 2", "schedules = 0", "expect.schedules", "schedules = 0"));
    c.add(new Case("unknown monitor in list", "cpus = 2", "cpus = 2\nmonitors = [ Nope ]", "monitors[0]", "Nope"));
    c.add(new Case("syntax error", "memory { pages = 4096 }", "memory { pages = 4096", "syntax", null));
    c.add(new Case("name with spaces", "name = broken-base", "name = \"broken base\"", "name", "broken base"));
    c.add(new Case("missing description", "description = \"a valid scenario the broken cases start from\"", "", "description", null));
    c.add(new Case("lock without a name", "\"await\"", "\"lock\"\n\"await\"", "programs.all[7]", "\"lock\""));
    c.add(new Case("unknown expect key", "schedules = 2", "schedules = 2, budget = 3", "expect.budget", "budget"));
    c.add(new Case("bad attach mode", "dma-mask-bits = 64", "dma-mask-bits = 64, attach = later", "devices[0].attach", "later"));
    c.add(new Case("attach step for a device attached at start", "\"repeat times=$requests\"", "\"attach device=nvme\"\n\"repeat times=$requests\"",
        "programs.all[0]", "attach device=nvme"));
    c.add(new Case("attach step without a device", "\"repeat times=$requests\"", "\"attach\"\n\"repeat times=$requests\"", "programs.all[0]",
        "\"attach\""));
    c.add(new Case("init-domain-unlocked not a boolean", "mode = strict,", "mode = strict, init-domain-unlocked = racy,", "iommu.init-domain-unlocked",
        "racy"));
    // The mm section (HMM): the address space, its mirrors and their callbacks.
    String mm = "memory { pages = 4096 }\nmm {\n  vmas = [ { start = 0x10000000, pages = 2 } ]\n  mirrors = [ { name = m0, start = 0x10000000, pages = 2,"
        + " lock = mlock\n    callback = [ \"lock mlock\", \"set-seq mirror=m0\", \"dev-zap mirror=m0\", \"unlock mlock\" ] } ]\n}";
    c.add(new Case("a mirror without its lock", "memory { pages = 4096 }", mm.replace(" lock = mlock", ""), "mm.mirrors[0].lock", "name = m0"));
    c.add(new Case("a mirror with an empty lock name", "memory { pages = 4096 }", mm.replace("lock = mlock", "lock = \"\""), "mm.mirrors[0].lock",
        "name = m0"));
    c.add(new Case("overlapping VMAs", "memory { pages = 4096 }", mm.replace("vmas = [ { start = 0x10000000, pages = 2 } ]",
        "vmas = [ { start = 0x10000000, pages = 2 }, { start = 0x10001000, pages = 2 } ]"), "mm.vmas[1]", "vmas"));
    c.add(new Case("an unaligned VMA", "memory { pages = 4096 }", mm.replace("vmas = [ { start = 0x10000000,", "vmas = [ { start = 0x10000010,"),
        "start", "vmas"));
    c.add(new Case("set-seq outside a callback", "memory { pages = 4096 }", mm, "programs.all[0]", "set-seq  mirror")
        .with("\"repeat times=$requests\"", "\"set-seq  mirror=m0\"\n\"repeat times=$requests\""));
    c.add(new Case("an unknown mirror in a step", "memory { pages = 4096 }", mm, "programs.all[0]", "read-begin")
        .with("\"repeat times=$requests\"", "\"read-begin mirror=m9\"\n\"repeat times=$requests\""));
    c.add(new Case("an undefined label in a callback", "memory { pages = 4096 }", mm.replace("\"unlock mlock\" ]", "\"goto nowhere\" ]"),
        "mm.mirrors[0].callback[3]", "callback"));
    c.add(new Case("a reclaim rule from a queue the run does not have", "memory { pages = 4096 }", mm + "\nfaults = [ { reclaim = 0x10000000, pages = 1,"
        + " on = Touch, from = cpu7, nth = 1 } ]", "faults", null).with("faults = [ { op = try_alloc, every = 3 } ]", ""));
    c.add(new Case("a device access outside the mirror", "memory { pages = 4096 }", mm, "programs.all[0]", "dev-access")
        .with("\"repeat times=$requests\"", "\"dev-access mirror=m0 va=0x30000000\"\n\"repeat times=$requests\""));
    // The rdma section (RDMA on-demand paging, page-list mkeys).
    String child = mm.replace("mirrors = [ { name = m0, start = 0x10000000, pages = 2,", "mirrors = [ { name = m0, start = 0x10000000, pages = 2,"
        + " inserted = false, dma = true,");
    String imr = "\nrdma { mrs = [ { name = imr, lock = imr_mutex, children = [ m0 ] } ] }";
    c.add(new Case("an explicit MR without an mm section", "memory { pages = 4096 }", "memory { pages = 4096 }\nrdma { mrs = [ { mirror = m0 } ] }",
        "rdma.mrs[0]", "mirror = m0"));
    c.add(new Case("an MR over an unknown mirror", "memory { pages = 4096 }", mm + "\nrdma { mrs = [ { mirror = m7 } ] }", "rdma.mrs[0].mirror",
        "mirror = m7"));
    c.add(new Case("a child mirror inserted before the run", "memory { pages = 4096 }", mm.replace(" lock = mlock", " lock = mlock, dma = true") + imr,
        "rdma.mrs[0].children[0]", "children"));
    c.add(new Case("an unknown MR in a step", "memory { pages = 4096 }", child + imr, "programs.all[0]", "mkey-get mr=nope")
        .with("\"repeat times=$requests\"", "\"mkey-get mr=nope\"\n\"repeat times=$requests\""));
    c.add(new Case("a child step on an implicit parent", "memory { pages = 4096 }", child + imr, "programs.all[0]", "child-get mr=imr")
        .with("\"repeat times=$requests\"", "\"child-get mr=imr\"\n\"repeat times=$requests\""));
    c.add(new Case("a destroy without its work handler", "memory { pages = 4096 }", child + imr, "programs.all[0]", "child-destroy mr=m0")
        .with("\"repeat times=$requests\"", "\"child-destroy mr=m0\"\n\"repeat times=$requests\""));
    c.add(new Case("page faults on the workqueue without a pagefault handler", "memory { pages = 4096 }", mm.replace(" lock = mlock",
        " lock = mlock, dma = true") + "\nrdma {\n  mrs = [ { mirror = m0 } ]\n  page-faults = workqueue\n}", "rdma.page-faults", "page-faults"));
    c.add(new Case("if-work outside a work handler", "memory { pages = 4096 }", child + imr, "programs.all[0]", "if-work mr=m0")
        .with("\"repeat times=$requests\"", "\"if-work mr=m0 goto=x\"\n\"label x\"\n\"repeat times=$requests\""));
    c.add(new Case("mkey-create over an ODP MR", "memory { pages = 4096 }", "memory { pages = 4096 }\nrdma { mrs = [ { name = save } ] }",
        "programs.all[0]", "mkey-create mr=nope").with("\"repeat times=$requests\"", "\"mkey-create mr=nope source=state:s buf=b\"\n\"repeat times=$requests\""));
    return c;
  }

  @Test
  void everyBrokenFileExitsTwoNamingFileLineAndKey(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("base.conf"), BASE);
    assertEquals(0, CliTest.dmasim("run", dir.resolve("base.conf").toString(), "--journal", "memory").code(), "the base file is valid");
    List<Case> cases = cases();
    assertTrue(cases.size() >= 50, "cases: " + cases.size());
    List<String> failures = new ArrayList<>();
    int n = 0;
    for (Case k : cases) {
      String text = BASE.replace(k.from(), k.to());
      if (k.from2() != null) text = text.replace(k.from2(), k.to2());
      assertFalse(text.equals(BASE), "case '" + k.what() + "' changes nothing");
      Path file = dir.resolve("broken-" + (n++) + ".conf");
      Files.writeString(file, text);
      CliTest.Result r = CliTest.dmasim("run", file.toString(), "--journal", "memory");
      String err = r.err().strip();
      String expectLine = k.lineMarker() == null ? null : ":" + lineOf(text, k.lineMarker()) + ": ";
      boolean ok = r.code() == 2 && err.lines().count() == 1 && err.contains(file.toString()) && err.contains(k.key())
          && (expectLine == null || err.contains(file + expectLine)) && !err.contains("Exception") && !err.contains("\tat ");
      if (!ok) failures.add(k.what() + " -> exit " + r.code() + ": " + err + (expectLine == null ? "" : " (wanted line" + expectLine + ")"));
    }
    assertTrue(failures.isEmpty(), failures.size() + " broken file(s) not reported right:\n" + String.join("\n", failures));
  }

  static int lineOf(String text, String marker) {
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) if (lines[i].contains(marker)) return i + 1;
    throw new IllegalArgumentException("marker not found: " + marker);
  }
}
