package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dmasim.actors.monitor.Violation;
import dmasim.protocol.TraceEvent;
import dmasim.scenarios.trace.TraceImport;
import dmasim.scenarios.trace.TraceReader;
import java.io.BufferedReader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dmasim import-trace: ftrace text of the dma:, iommu: and swiotlb: events, parsed in every format
 * the kernel printed them (v6.12, v6.13-v6.17, v6.18+ with capped sg arrays; iommu before and after
 * v5.17), judged by the trace monitor, kept as a run. The fixtures are written from the TP_printk
 * format strings of include/trace/events/{dma,iommu,swiotlb}.h.
 */
class ImportTraceTest {
  static final Path TRACES = Path.of("src/test/resources/traces");

  /** An item as "LINE ACTOR EVENT cpuN: what it says", addresses in hex. */
  static String describe(TraceReader.Item i) {
    TraceEvent e = i.event();
    String what;
    if (e instanceof TraceEvent.DmaMapped m) {
      what = "map " + m.api() + " " + hex(m.dmaAddr()) + "+" + m.size() + " " + m.dir() + " phys=" + hex(m.phys()) + " attrs=" + m.attrs();
    } else if (e instanceof TraceEvent.SgMapped m) {
      what = "map_sg " + m.dir() + " dma=" + hexes(m.dmaAddrs()) + " sizes=" + m.sizes() + " phys=" + (m.phys().size() > 4 ? m.phys().size()
          + " entries from " + hex(m.phys().get(0)) : hexes(m.phys())) + " nents=" + m.nents() + " ents=" + m.ents() + " truncated=" + m.truncated()
          + " attrs=" + m.attrs();
    } else if (e instanceof TraceEvent.DmaUnmapped m) {
      what = "unmap " + m.api() + " " + hex(m.dmaAddr()) + "+" + m.size() + " " + m.dir() + " attrs=" + m.attrs();
    } else if (e instanceof TraceEvent.SgUnmapped m) {
      what = "unmap_sg " + m.dir() + " phys=" + hexes(m.phys()) + " attrs=" + m.attrs();
    } else if (e instanceof TraceEvent.DmaSynced m) {
      what = "sync for " + (m.forCpu() ? "cpu" : "device") + (m.sg() ? " sg " : " single ") + hexes(m.dmaAddrs()) + " " + m.sizes() + " " + m.dir();
    } else if (e instanceof TraceEvent.MapFailed m) {
      what = "failed " + m.api() + " err=" + m.err();
    } else if (e instanceof TraceEvent.IommuMapped m) {
      what = "iommu_map " + m.domain() + " " + hex(m.iova()) + "+" + m.size() + " -> " + hex(m.paddr());
    } else if (e instanceof TraceEvent.IommuUnmapped m) {
      what = "iommu_unmap " + m.domain() + " " + hex(m.iova()) + "+" + m.size() + " unmapped=" + m.unmapped();
    } else if (e instanceof TraceEvent.IoPageFault m) {
      what = "fault " + m.dev() + " (" + m.driver() + ") " + hex(m.iova()) + " flags=" + m.flags();
    } else if (e instanceof TraceEvent.DeviceChanged m) {
      what = m.what() + " " + m.dev() + " group=" + m.group();
    } else if (e instanceof TraceEvent.Bounced m) {
      what = "bounced " + m.dev() + " mask=" + hex(m.dmaMask()) + " addr=" + hex(m.devAddr()) + " size=" + m.size();
    } else {
      TraceEvent.EventsLost m = (TraceEvent.EventsLost) e;
      what = "lost cpu" + m.cpu() + " " + m.count();
    }
    return i.line() + " " + i.actor() + " " + i.type() + " cpu" + i.cpu() + " t=" + i.timeNs() + ": " + what;
  }

  static String hex(long v) {
    return v < 0 ? Long.toString(v) : "0x" + Long.toHexString(v);
  }

  static String hexes(List<Long> vs) {
    return vs.stream().map(ImportTraceTest::hex).collect(Collectors.joining(", ", "[", "]"));
  }

  static List<String> read(String text, TraceReader.Counts[] counts) throws Exception {
    List<String> out = new ArrayList<>();
    TraceReader r = new TraceReader(i -> out.add(describe(i)));
    r.read(new BufferedReader(new StringReader(text)));
    if (counts != null) counts[0] = r.counts();
    return out;
  }

  @Test
  void everyFormatAndPrefixVariantIsRead() throws Exception {
    TraceReader.Counts[] c = new TraceReader.Counts[1];
    List<String> events = read(Files.readString(TRACES.resolve("formats.txt")), c);
    String d = "dev:0000:01:00.0 ";
    assertEquals(List.of(
        "2 " + d + "dma_map_page cpu1 t=5000000001000: map page 0xffffe000+4096 TO_DEVICE phys=0x10a000 attrs=",
        "3 " + d + "dma_map_phys cpu0 t=5000000002000: map phys 0xffffd000+512 FROM_DEVICE phys=0x10b200 attrs=SKIP_CPU_SYNC",
        "4 " + d + "dma_unmap_page cpu1 t=5000000003000: unmap page 0xffffe000+4096 TO_DEVICE attrs=",
        "5 " + d + "dma_alloc cpu0 t=5000000004000: map alloc 0xffffa000+8192 BIDIRECTIONAL phys=-1 attrs=",
        "6 " + d + "dma_free cpu0 t=5000000005000: unmap free 0xffffa000+8192 null attrs=",
        "7 " + d + "dma_map_sg cpu1 t=5000000006000: map_sg TO_DEVICE dma=[0xffff0000, 0xffff1000] sizes=[4096, 2048] phys=[0x200000, 0x201000] nents=2 "
            + "ents=2 truncated=false attrs=",
        "8 " + d + "dma_map_sg cpu1 t=5000000007000: map_sg FROM_DEVICE dma=[0xfff00000] sizes=[524288] phys=128 entries from 0x700000 nents=130 ents=1 "
            + "truncated=true attrs=WEAK_ORDERING|SKIP_CPU_SYNC",
        "9 " + d + "dma_sync_sg_for_cpu cpu1 t=5000000008000: sync for cpu sg [0xfff00000] [524288] FROM_DEVICE",
        "10 " + d + "dma_unmap_sg cpu1 t=5000000009000: unmap_sg TO_DEVICE phys=[0x200000, 0x201000] attrs=",
        "11 " + d + "dma_sync_single_for_device cpu1 t=5000000010000: sync for device single [0xffffd000] [512] FROM_DEVICE",
        "12 " + d + "dma_map_resource cpu1 t=5000000011000: map resource 0xfe000000+4096 BIDIRECTIONAL phys=0xfe000000 attrs=",
        "13 " + d + "dma_map_sg_err cpu1 t=5000000012000: failed map_sg err=-12",
        "14 " + d + "dma_alloc_sgt cpu1 t=5000000013000: map alloc_sgt 0xfffa0000+8192 BIDIRECTIONAL phys=0x500000 attrs=",
        "15 " + d + "dma_free_sgt cpu1 t=5000000014000: unmap free_sgt 0xfffa0000+8192 BIDIRECTIONAL attrs=",
        "16 " + d + "dma_alloc_pages cpu1 t=5000000015000: map alloc_pages 0xfff90000+4096 FROM_DEVICE phys=-1 attrs=",
        "17 " + d + "add_device_to_group cpu0 t=5000000016000: group-add 0000:01:00.0 group=7",
        "18 " + d + "attach_device_to_domain cpu0 t=5000000017000: attach 0000:01:00.0 group=-1",
        // no DMA API call on CPU 0 covers them: attributed to no device
        "19 iommu map cpu0 t=5000000018000: iommu_map ? 0xffff8000+4096 -> 0x600000",
        "20 iommu unmap cpu0 t=5000000019000: iommu_unmap ? 0xffff8000+4096 unmapped=4096",
        "21 " + d + "io_page_fault cpu1 t=5000000020000: fault 0000:01:00.0 () 0xffff8000 flags=1",
        "22 " + d + "swiotlb_bounced cpu1 t=5000000021000: bounced 0000:01:00.0 mask=0xffffffff addr=0x12345000 size=4096",
        "23 " + d + "swiotlb_bounced cpu1 t=5000000022000: bounced 0000:01:00.0 mask=0xffffffff addr=0x12346000 size=4096",
        "24 trace lost_events cpu1 t=-1: lost cpu1 57",
        "25 trace lost_events cpu0 t=-1: lost cpu0 12",
        "26 " + d + "detach_device_from_domain cpu0 t=5000000023000: detach 0000:01:00.0 group=-1",
        "27 " + d + "remove_device_from_group cpu0 t=5000000024000: group-remove 0000:01:00.0 group=7",
        "29 " + d + "dma_unmap_phys cpu1 t=5000000026000: unmap phys 0xffffd000+512 FROM_DEVICE attrs=SKIP_CPU_SYNC",
        "30 iommu map cpu1 t=5000000027000: iommu_map ? 0xffff7000+4096 -> 0x601000",
        "31 iommu unmap cpu1 t=5000000028000: iommu_unmap ? 0xffff7000+4096 unmapped=4096"), events);
    assertEquals("lines 31, events 29, headers 1, other 1 {sched_switch=1}, unparsed 0, lost 2, attributed 0, unattributed 4, wrapped 0", counts(c[0]));
  }

  static String counts(TraceReader.Counts c) {
    return "lines " + c.lines + ", events " + c.events + ", headers " + c.headers + ", other " + c.otherLines + " " + c.otherEvents + ", unparsed "
        + c.unparsed + ", lost " + c.lostMarkers + ", attributed " + c.attributed + ", unattributed " + c.unattributed + ", wrapped " + c.wrapped;
  }

  static final String P = "  fio-900   [001] ..... 100.%06d: ";

  /** Trace lines from "EVENT: BODY" strings, one microsecond apart on CPU 1. */
  static String trace(String... events) {
    StringBuilder b = new StringBuilder("# tracer: nop\n");
    for (int i = 0; i < events.length; i++) b.append(events[i].startsWith("!") ? events[i].substring(1) : String.format(P, i + 1) + events[i]).append('\n');
    return b.toString();
  }

  @Test
  void wrappedLinesAreJoinedAndWhatCannotBeReadIsCountedWithItsLineNumbers() throws Exception {
    TraceReader.Counts[] c = new TraceReader.Counts[1];
    List<String> events = read(trace(
        // cut inside a token, as a terminal wraps
        "dma_map_phys: 0000:02:00.0 dir=TO_DEVICE dma_addr=ffffe000 size=4096 phys_a", "!ddr=10a000 attrs=",
        // cut at a space, as a mail client wraps
        "dma_unmap_phys: 0000:02:00.0 dir=TO_DEVICE dma_addr=ffffe000", "!size=4096 attrs=",
        "dma_map_phys: 0000:02:00.0 dir=SIDEWAYS dma_addr=1000 size=4096 phys_addr=1000 attrs=",
        "!this line means nothing",
        "dma_sync_sg_for_cpu: 0000:02:00.0 dir=TO_DEVICE dma_addrs={0x1000,0x2000} sizes={4096}",
        "map: IOMMU: iova=0x1000"), c);
    assertEquals(List.of("2 dev:0000:02:00.0 dma_map_phys cpu1 t=100000001000: map phys 0xffffe000+4096 TO_DEVICE phys=0x10a000 attrs=",
        "4 dev:0000:02:00.0 dma_unmap_phys cpu1 t=100000003000: unmap phys 0xffffe000+4096 TO_DEVICE attrs="), events);
    assertEquals("lines 9, events 2, headers 1, other 0 {}, unparsed 4, lost 0, attributed 0, unattributed 0, wrapped 2", counts(c[0]));
    assertEquals("6-9", c[0].ranges());
    assertEquals(List.of(
        "line 6: " + String.format(P, 5) + "dma_map_phys: 0000:02:00.0 dir=SIDEWAYS dma_addr=1000 size=4096 phys_addr=1000 attrs="
            + "  (dma_map_phys: dir=SIDEWAYS is not a DMA direction)",
        "line 7: (continuation of line 6)",
        "line 8: " + String.format(P, 7) + "dma_sync_sg_for_cpu: 0000:02:00.0 dir=TO_DEVICE dma_addrs={0x1000,0x2000} sizes={4096}  (dma_sync_sg_for_cpu: "
            + "dma_addrs has 2 entries but sizes has 1)",
        "line 9: " + String.format(P, 8) + "map: IOMMU: iova=0x1000  (map: no paddr=)"), c[0].samples);
  }

  /** The trace monitor's verdict on {@code text}: "INVARIANT step N: message" for every violation. */
  static List<String> verdict(Path dir, String text, boolean wholeLife) throws Exception {
    Path f = dir.resolve("t.txt");
    Files.writeString(f, text);
    TraceImport.Result r = TraceImport.judge(f, wholeLife, st -> {});
    return r.violations().stream().map(v -> v.monitor() + " " + v.invariant() + " step " + v.step() + ": " + v.message()).toList();
  }

  @Test
  void theFormatsTraceIsJudgedWhole(@TempDir Path dir) throws Exception {
    Files.copy(TRACES.resolve("formats.txt"), dir.resolve("formats.txt"));
    TraceImport.Result r = TraceImport.judge(dir.resolve("formats.txt"), false, st -> {});
    String lost = "; the trace lost 69 event(s), the last at line 25, and a line lost there could explain this";
    assertEquals(List.of(
        "Trace T1 step 20: write by 0000:01:00.0 at IOVA 0xffff8000 (io_page_fault at line 21, flags 0x1) after its mapping was unmapped: iommu_map of "
            + "0xffff8000+4096 at line 19, unmapped by iommu_unmap at line 20: the device still used the address (a device access after unmap)",
        "Trace T6 step 25: 0000:01:00.0 detached from its domain at line 26 with 4 DMA mapping(s) live, e.g. resource of 0xfe000000+4096 BIDIRECTIONAL "
            + "at line 12" + lost,
        "Trace T6 step 26: 0000:01:00.0 removed from IOMMU group 7 at line 27 with 4 DMA mapping(s) live, e.g. resource of 0xfe000000+4096 "
            + "BIDIRECTIONAL at line 12" + lost),
        r.violations().stream().map(v -> v.monitor() + " " + v.invariant() + " step " + v.step() + ": " + v.message()).toList());
    assertEquals(29, r.steps());
    assertEquals(List.of("dev:0000:01:00.0", "iommu", "trace"), List.copyOf(r.actors()));
    assertEquals(3, r.liveMappings()); // the map_sg of line 8, the resource of line 12, the dma_alloc_pages of line 16
    assertEquals(0, r.liveIommuMappings());
  }
}
