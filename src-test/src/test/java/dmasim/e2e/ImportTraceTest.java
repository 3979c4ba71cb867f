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
        // the fixture attaches the device to a domain while mappings of its old one are live
        "Trace T6 step 17: 0000:01:00.0 attached to a new domain (its live mappings are in the old one) at line 18 with 4 DMA mapping(s) live, e.g. "
            + "dma_map_resource of 0xfe000000+4096 BIDIRECTIONAL at line 12",
        "Trace T1 step 20: write by 0000:01:00.0 at IOVA 0xffff8000 (io_page_fault at line 21, flags 0x1) after its mapping was unmapped: iommu_map of "
            + "0xffff8000+4096 at line 19, unmapped by iommu_unmap at line 20: the device still used the address (a device access after unmap)",
        "Trace T6 step 25: 0000:01:00.0 detached from its domain at line 26 with 4 DMA mapping(s) live, e.g. dma_map_resource of 0xfe000000+4096 BIDIRECTIONAL "
            + "at line 12" + lost,
        "Trace T6 step 26: 0000:01:00.0 removed from IOMMU group 7 at line 27 with 4 DMA mapping(s) live, e.g. dma_map_resource of 0xfe000000+4096 "
            + "BIDIRECTIONAL at line 12" + lost),
        r.violations().stream().map(v -> v.monitor() + " " + v.invariant() + " step " + v.step() + ": " + v.message()).toList());
    assertEquals(29, r.steps());
    assertEquals(List.of("dev:0000:01:00.0", "iommu", "trace"), List.copyOf(r.actors()));
    assertEquals(3, r.liveMappings()); // the map_sg of line 8, the resource of line 12, the dma_alloc_pages of line 16
    assertEquals(0, r.liveIommuMappings());
  }
  static final String D = "0000:02:00.0";

  @Test
  void unmapChecksAreDmaDebugsKeyedPerDevice(@TempDir Path dir) throws Exception {
    String text = trace(
        "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 phys_addr=10a000 attrs=",
        "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 attrs=",
        "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 attrs=",
        "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=ffff0000 size=4096 attrs=",
        "dma_map_page: " + D + " dir=TO_DEVICE dma_addr=ffffd000 size=4096 phys_addr=20a000 attrs=",
        "dma_unmap_resource: " + D + " dir=FROM_DEVICE dma_addr=ffffd000 size=2048 attrs=",
        // the same IOVA in another device's domain is another mapping
        "dma_map_phys: 0000:03:00.0 dir=TO_DEVICE dma_addr=ffffe000 size=4096 phys_addr=30a000 attrs=",
        "dma_unmap_phys: 0000:03:00.0 dir=TO_DEVICE dma_addr=ffffe000 size=4096 attrs=");
    List<String> whole = verdict(dir, text, true);
    // in a window, the unmap of 0xffff0000 (line 5) is of a mapping made before the trace began: only the whole life judges it
    List<String> window = new ArrayList<>(whole);
    window.remove(1);
    assertEquals(window, verdict(dir, text, false));
    assertEquals(List.of(
        "Trace DMA-debug 2 step 3: 0000:02:00.0: dma_unmap_phys of 0xffffe000+4096 at line 4: \"device driver tries to free DMA memory it has not "
            + "allocated\"; it was already unmapped at line 3 (dma_map_phys of 0xffffe000+4096 TO_DEVICE at line 2): a double unmap",
        "Trace DMA-debug 2 step 4: 0000:02:00.0: dma_unmap_phys of 0xffff0000+4096 at line 5: \"device driver tries to free DMA memory it has not "
            + "allocated\"; the trace never mapped it (mapped before the trace began?)",
        "Trace DMA-debug 3 step 6: 0000:02:00.0: dma_unmap_resource of 0xffffd000 at line 7 with size 2048 but it was mapped with size 4096 (dma_map_page of "
            + "0xffffd000+4096 TO_DEVICE at line 6): \"device driver frees DMA memory with different size\"",
        "Trace DMA-debug 4 step 6: 0000:02:00.0: DMA memory 0xffffd000 mapped as single (dma_map_page of 0xffffd000+4096 TO_DEVICE at line 6), unmapped as "
            + "resource with dma_unmap_resource at line 7",
        "Trace DMA-debug 7 step 6: 0000:02:00.0: dma_unmap_resource of 0xffffd000 at line 7 with direction FROM_DEVICE but it was mapped TO_DEVICE "
            + "(dma_map_page of 0xffffd000+4096 TO_DEVICE at line 6)"), whole);
  }

  @Test
  void syncChecksFollowCheckSync(@TempDir Path dir) throws Exception {
    assertEquals(List.of(
        "Trace DMA-debug 15 step 2: 0000:02:00.0: dma_sync_single_for_cpu(FROM_DEVICE) at line 3 of 0xffffe000 on dma_map_phys of 0xffffe000+4096 TO_DEVICE at "
            + "line 2: different direction",
        "Trace DMA-debug 16 step 2: 0000:02:00.0: dma_sync_single_for_cpu(FROM_DEVICE) at line 3 of 0xffffe000, dma_map_phys of 0xffffe000+4096 TO_DEVICE at "
            + "line 2: syncs device read-only DMA memory for the CPU",
        "Trace DMA-debug 13 step 3: 0000:02:00.0: dma_sync_single_for_device(TO_DEVICE) at line 4 of 0xffffe800+4096: \"device driver tries to sync DMA "
            + "memory it has not allocated\"; it runs past the end of the live dma_map_phys of 0xffffe000+4096 TO_DEVICE at line 2",
        "Trace DMA-debug 15 step 5: 0000:02:00.0: dma_sync_single_for_device(TO_DEVICE) at line 6 of 0xffff0000 on dma_map_phys of 0xffff0000+4096 FROM_DEVICE "
            + "at line 5: different direction",
        "Trace DMA-debug 17 step 5: 0000:02:00.0: dma_sync_single_for_device(TO_DEVICE) at line 6 of 0xffff0000, dma_map_phys of 0xffff0000+4096 FROM_DEVICE at "
            + "line 5: syncs device write-only DMA memory to the device",
        "Trace DMA-debug 13 step 8: 0000:02:00.0: dma_sync_single_for_cpu(FROM_DEVICE) at line 9 of 0xffff0000+4096: \"device driver tries to sync DMA "
            + "memory it has not allocated\"; its mapping dma_map_phys of 0xffff0000+4096 FROM_DEVICE at line 5 ended at line 8 (dma_unmap_phys)"),
        verdict(dir, trace(
            "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 phys_addr=10a000 attrs=",
            "dma_sync_single_for_cpu: " + D + " dir=FROM_DEVICE dma_addr=ffffe000 size=4096",
            "dma_sync_single_for_device: " + D + " dir=TO_DEVICE dma_addr=ffffe800 size=4096",
            "dma_map_phys: " + D + " dir=FROM_DEVICE dma_addr=ffff0000 size=4096 phys_addr=20a000 attrs=",
            "dma_sync_single_for_device: " + D + " dir=TO_DEVICE dma_addr=ffff0000 size=4096",
            // page_pool's RX recycling: legal
            "dma_sync_single_for_device: " + D + " dir=FROM_DEVICE dma_addr=ffff0000 size=4096",
            "dma_unmap_phys: " + D + " dir=FROM_DEVICE dma_addr=ffff0000 size=4096 attrs=",
            "dma_sync_single_for_cpu: " + D + " dir=FROM_DEVICE dma_addr=ffff0000 size=4096",
            // an sg list dma-debug does not find is not reported (debug_dma_sync_sg_* stops at once)
            "dma_sync_sg_for_cpu: " + D + " dir=TO_DEVICE dma_addrs={0xabc000} sizes={0x1000}"), false));
  }

  @Test
  void overlappingMappingsAreAnIovaHandedOutTwiceOrACachelineSharedUnlessDirect(@TempDir Path dir) throws Exception {
    assertEquals(List.of(
        "Trace T5 step 2: 0000:02:00.0: dma_map_phys at line 3 got DMA address 0xfffff000+4096, which overlaps the live dma_map_phys of 0xffffe000+8192 TO_DEVICE at "
            + "line 2: the IOVA was handed out twice, or the trace misses its unmap",
        "Trace DMA-debug 21 step 6: 0000:02:00.0: dma_map_phys at line 7 (FROM_DEVICE) of phys 0x40a020, whose cacheline the live dma_map_phys of 0x40a000+64 "
            + "FROM_DEVICE at line 6 also holds: \"cacheline tracking EEXIST, overlapping mappings aren't supported\""),
        verdict(dir, trace(
            "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=8192 phys_addr=10a000 attrs=",
            "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=fffff000 size=4096 phys_addr=20a000 attrs=",
            // dma-direct: the same buffer mapped twice for the device to read is legal, and both mappings are unmapped
            "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=30a000 size=4096 phys_addr=30a000 attrs=",
            "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=30a000 size=4096 phys_addr=30a000 attrs=",
            "dma_map_phys: " + D + " dir=FROM_DEVICE dma_addr=40a000 size=64 phys_addr=40a000 attrs=",
            "dma_map_phys: " + D + " dir=FROM_DEVICE dma_addr=40a020 size=32 phys_addr=40a020 attrs=",
            "dma_map_phys: " + D + " dir=FROM_DEVICE dma_addr=40a000 size=64 phys_addr=40a000 attrs=SKIP_CPU_SYNC",
            "dma_unmap_phys: " + D + " dir=FROM_DEVICE dma_addr=40a000 size=64 attrs=SKIP_CPU_SYNC",
            "dma_unmap_phys: " + D + " dir=FROM_DEVICE dma_addr=40a000 size=64 attrs=",
            "dma_unmap_phys: " + D + " dir=FROM_DEVICE dma_addr=40a020 size=32 attrs=",
            "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=30a000 size=4096 attrs=",
            "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=30a000 size=4096 attrs="), false));
  }

  @Test
  void faultsAreJudgedAgainstTheDevicesMappingsAndIommuLinesAgainstTheirDomain(@TempDir Path dir) throws Exception {
    assertEquals(List.of(
        "Trace T3 step 5: write by 0000:02:00.0 (drv) at IOVA 0xffffe010 (io_page_fault at line 6, flags 0x1) through the live dma_map_phys of 0xffffe000+4096 "
            + "TO_DEVICE at line 3: the device wrote memory mapped TO_DEVICE (read-only for it)",
        "Trace T4 step 6: read by 0000:03:00.0 (drv) at IOVA 0xffffe010 (io_page_fault at line 7, flags 0x0) inside the live dma_map_phys of 0xffffe000+4096 "
            + "FROM_DEVICE at line 5: the IOMMU had no translation for a mapping the DMA API still holds (its IOMMU part unmapped early, or a stale IOTLB)",
        "Trace T2 step 7: read by 0000:02:00.0 (drv) at IOVA 0x12345000 (io_page_fault at line 8, flags 0x0): the trace never mapped this address for "
            + "the device (mapped before the trace began, or a stray DMA address)",
        "Trace T7 step 8: iommu_map of 0xffffe000+4096 -> 0x40a000 at line 9 in the domain of 0000:02:00.0 overlaps the live iommu_map of "
            + "0xffffe000+4096 at line 2 (paddr 0x10a000): an IOVA mapped twice",
        "Trace T5 step 9: 0000:02:00.0: dma_map_page at line 10 got DMA address 0xffffe000+4096, which overlaps the live dma_map_phys of 0xffffe000+4096 TO_DEVICE at "
            + "line 3: the IOVA was handed out twice, or the trace misses its unmap",
        "Trace T8 step 10: iommu_unmap of 0xabc000+4096 at line 11 in a domain the trace does not name (no DMA API call on the same CPU covered the line) "
            + "unmapped 0 bytes: nothing was mapped there"),
        verdict(dir, trace(
            "map: IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 paddr=0x000000000010a000 size=4096",
            "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 phys_addr=10a000 attrs=",
            // the same IOVA in the other device's domain: no overlap
            "map: IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 paddr=0x000000000020a000 size=4096",
            "dma_map_phys: 0000:03:00.0 dir=FROM_DEVICE dma_addr=ffffe000 size=4096 phys_addr=20a000 attrs=",
            "io_page_fault: IOMMU:drv " + D + " iova=0x00000000ffffe010 flags=0x0001",
            "io_page_fault: IOMMU:drv 0000:03:00.0 iova=0x00000000ffffe010 flags=0x0000",
            "io_page_fault: IOMMU:drv " + D + " iova=0x0000000012345000 flags=0x0000",
            "map: IOMMU: iova=0x00000000ffffe000 paddr=0x000000000040a000 size=4096",
            "dma_map_page: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 phys_addr=40a000 attrs=",
            "unmap: IOMMU: iova=0x0000000000abc000 size=4096 unmapped_size=0"), false));
  }

  @Test
  void sgListsAreFoundByTheirFirstEntryAndWholeLifeTracesJudgeLeftovers(@TempDir Path dir) throws Exception {
    String text = trace(
        "dma_map_sg: " + D + " dir=TO_DEVICE dma_addrs={0xffff0000} sizes={0x2000} phys_addrs={0x200000,0x201000} attrs=",
        "dma_unmap_sg: " + D + " dir=TO_DEVICE phys_addrs={0x200000} attrs=",
        "dma_unmap_sg: " + D + " dir=TO_DEVICE phys_addrs={0x200000} attrs=",
        "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 phys_addr=10a000 attrs=");
    List<String> window = List.of(
        "Trace DMA-debug 6 step 2: 0000:02:00.0: dma_unmap_sg at line 3 with nents 1 but the list was mapped with nents 2 (dma_map_sg of 0xffff0000+8192 "
            + "TO_DEVICE at line 2)",
        "Trace DMA-debug 2 step 3: 0000:02:00.0: dma_unmap_sg of phys 0x200000 at line 4: \"device driver tries to free DMA memory it has not "
            + "allocated\"; it was already unmapped at line 3 (dma_map_sg of 0xffff0000+8192 TO_DEVICE at line 2): a double unmap");
    assertEquals(window, verdict(dir, text, false));
    List<String> whole = new ArrayList<>(window);
    whole.add("Trace I12 step 4: 1 DMA mapping(s) never unmapped in a trace of the driver's whole life, e.g. 0000:02:00.0 dma_map_phys of 0xffffe000+4096 "
        + "TO_DEVICE at line 5");
    assertEquals(whole, verdict(dir, text, true));
  }
  /**
   * The case: an IOMMU mapping, dma_alloc, dma_free, the IOMMU unmap, then an IO page fault
   * on the same IOVA is a device access after free; the same trace without the fault is clean. Kept
   * runs that runs, check and report read, and that replay refuses to re-execute.
   */
  @Test
  void aFaultOnAFreedAllocationIsFlaggedAndTheTraceWithoutItIsClean(@TempDir Path dir) throws Exception {
    String data = dir.resolve("data").toString();
    Path fault = TRACES.resolve("alloc-free-fault.txt");
    CliTest.Result r = CliTest.dmasim("import-trace", fault.toString(), "--check", "--data-dir", data);
    assertEquals(1, r.code(), r.err());
    String run = "trace-alloc-free-fault-78a8fa23";
    assertEquals(List.of(
        "dmasim import-trace " + fault + " (sha256 78a8fa233fbf4a98)",
        "  verdict                            violation (1)",
        "  run id                             " + run,
        "  lines                              17: 5 events read, 0 lines of other events, 12 header lines, 0 unparsed",
        "  actors                             dev:0000:03:00.0, iommu",
        "  iommu map/unmap lines              2 attributed to a device's DMA API call, 0 to no device (\"?\")",
        "  live at the end                    0 DMA API mapping(s), 0 IOMMU mapping(s) (a trace is a window: not judged; --whole-life judges them)",
        "",
        "VIOLATION 1: Trace [T1] at step 5 (t=1000000.900 ms), actors dev:0000:03:00.0, line",
        "  read by 0000:03:00.0 (nvme) at IOVA 0xfffff000 (io_page_fault at line 17, flags 0x0) after its mapping was freed: dma_alloc of 0xfffff000+4096 "
            + "BIDIRECTIONAL at line 14, freed by dma_free at line 15; its IOMMU mapping (iommu_map of 0xfffff000+4096 at line 13) was removed at line 16: "
            + "the device still used the address (a device access after free)",
        "  how 0000:03:00.0@0xfffff000, iommu:0000:03:00.0@0xfffff000 got here (oldest first):",
        "    step 1 @1000000100000ns line#13 -> iommu map",
        "    step 2 @1000000110000ns line#14 -> dev:0000:03:00.0 dma_alloc",
        "    step 3 @1000000500000ns line#15 -> dev:0000:03:00.0 dma_free",
        "    step 4 @1000000510000ns line#16 -> iommu unmap",
        "    step 5 @1000000900000ns line#17 -> dev:0000:03:00.0 io_page_fault",
        "  causal chain (oldest first):",
        "    step 5 @1000000900000ns line#17 -> dev:0000:03:00.0 io_page_fault",
        "",
        "kept as " + run + ": 'dmasim report " + run + " --perfetto trace.json' draws it, 'dmasim check " + run + "' judges it again"),
        r.out().lines().toList());
    Path clean = TRACES.resolve("alloc-free-clean.txt");
    CliTest.Result ok = CliTest.dmasim("import-trace", clean.toString(), "--check", "--data-dir", data);
    assertEquals(0, ok.code(), ok.err());
    assertEquals("  verdict                            clean", ok.out().lines().toList().get(1));
    // without --check a trace with violations is still a successful import
    assertEquals(0, CliTest.dmasim("import-trace", fault.toString(), "--data-dir", data).code());
    CliTest.Result runs = CliTest.dmasim("runs", "--json", "--data-dir", data);
    assertEquals(List.of("trace-alloc-free-fault-78a8fa23|trace:alloc-free-fault.txt#78a8fa233fbf|trace|violation|Trace|5",
        "trace-alloc-free-clean-ea47d80e|trace:alloc-free-clean.txt#ea47d80eb887|trace|clean|null|4"),
        runs.out().lines().map(l -> {
          try {
            var j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(l);
            return j.get("runId").asText() + "|" + j.get("scenario").asText() + "|" + j.get("strategy").asText() + "|" + j.get("verdict").asText() + "|"
                + j.get("firstMonitor").asText() + "|" + j.get("steps").asLong();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }).toList());
    CliTest.Result check = CliTest.dmasim("check", "--all", "--data-dir", data);
    assertEquals(0, check.code(), check.err());
    assertEquals(List.of(run + " stored violation (Trace), now violation (Trace)", "trace-alloc-free-clean-ea47d80e stored clean, now clean",
        "2 run(s) judged again, 0 verdict(s) changed"), check.out().lines().map(l -> l.replaceAll(" +", " ")).toList());
    Path json = dir.resolve("t.json");
    CliTest.Result report = CliTest.dmasim("report", run, "--perfetto", json.toString(), "--data-dir", data);
    assertEquals(0, report.code(), report.err());
    assertEquals("wrote " + json + ": 5 steps on 2 tracks, 1 violation(s) marked; open it in https://ui.perfetto.dev or chrome://tracing",
        report.out().strip());
    Path html = dir.resolve("t.html");
    CliTest.Result page = CliTest.dmasim("report", run, "--html", html.toString(), "--data-dir", data);
    assertEquals(0, page.code(), page.err());
    assertEquals("wrote " + html + ": 5 steps on 2 lanes, 1 violation(s) marked, the trace's events (an imported trace has no model states); open it in "
        + "a browser", page.out().strip());
    String text = Files.readString(html);
    // events as the trace printed them (hex addresses), escaped as data
    assertEquals(true, text.contains("io_page_fault 0000:03:00.0 (nvme) at 0xfffff000 flags 0x0 (line 17)"), "the fault's event in the page");
    for (String command : List.of("replay", "inspect", "shrink")) {
      CliTest.Result refused = CliTest.dmasim(command, run, "--data-dir", data, command.equals("inspect") ? "--step=1" : "--journal=h2");
      assertEquals(2, refused.code(), command + ": " + refused.out());
      assertEquals("dmasim: run " + run + " is an imported kernel trace: " + command + " needs a model run to re-execute; 'dmasim check " + run
          + "' judges the trace again and 'dmasim report " + run + " --perfetto FILE' draws it", refused.err().strip());
    }
  }

  @Test
  void whatIsNotATraceIsRefusedInOneLineAndNothingIsKept(@TempDir Path dir) throws Exception {
    String data = dir.resolve("data").toString();
    Path binary = dir.resolve("trace.dat");
    Files.write(binary, new byte[] {0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g', 0, 0, 6});
    Path empty = dir.resolve("empty.txt");
    Files.writeString(empty, "");
    Path prose = dir.resolve("notes.txt");
    Files.writeString(prose, "Remember to capture the dma events\nwith trace-cmd [1] next time.\n");
    Path sched = dir.resolve("sched.txt");
    Files.writeString(sched, "# tracer: nop\n  bash-1 [000] ..... 1.000001: sched_switch: prev_comm=bash prev_pid=1\n");
    java.util.Map<Path, String> cases = new java.util.LinkedHashMap<>();
    cases.put(binary, binary + " is a binary file, not ftrace text (a trace-cmd trace.dat? convert it: trace-cmd report -i " + binary + " > trace.txt)");
    cases.put(empty, empty + " is empty: not a trace");
    cases.put(prose, prose + " is not an ftrace text trace: no line has the shape 'TASK-PID [CPU] SECONDS: EVENT: ...' (line 1: Remember to capture "
        + "the dma events)");
    cases.put(sched, sched + " has no dma:, iommu: or swiotlb: events (1 event line(s) of other kinds, e.g. sched_switch); record them with: "
        + "trace-cmd record -e dma -e iommu -e swiotlb");
    cases.put(dir.resolve("missing.txt"), "no trace file " + dir.resolve("missing.txt"));
    cases.put(dir, dir + " is a directory, not a trace file");
    for (java.util.Map.Entry<Path, String> c : cases.entrySet()) {
      CliTest.Result r = CliTest.dmasim("import-trace", c.getKey().toString(), "--data-dir", data);
      assertEquals(2, r.code(), c.getKey() + ": " + r.out());
      assertEquals("dmasim: " + c.getValue(), r.err().strip());
      assertEquals("", r.out());
    }
    assertEquals(false, Files.exists(dir.resolve("data")), "a refused file opened no journal");
  }
  /** What the new-user trial found: patterns of real captures that must not be violations, and bugs it must catch. */
  @Test
  void windowsFailedMapsMigratedTasksAndOffsetDirectMappingsAreNotViolations(@TempDir Path dir) throws Exception {
    StringBuilder sg = new StringBuilder();
    List<String> lines = new ArrayList<>(List.of(
        // a capture that starts on a busy machine: completions of mappings made before it began
        "unmap: IOMMU: iova=0x00000000ffff0000 - 0x00000000ffff1000 size=4096 unmapped_size=4096",
        "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=ffff0000 size=4096 attrs=",
        // a failed map traces DMA_MAPPING_ERROR, twice: no mapping, no overlap, no leak
        "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=ffffffffffffffff size=4096 phys_addr=10a000 attrs=",
        "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=ffffffffffffffff size=4096 phys_addr=10a000 attrs=",
        // the task migrated between its IOMMU map (CPU 0) and its dma_map_phys (CPU 1)
        "!  fio-900   [000] ..... 100.000005: map: IOMMU: iova=0x00000000fffe0000 - 0x00000000fffe1000 paddr=0x000000000020a000 size=4096",
        "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=fffe0000 size=4096 phys_addr=20a000 attrs=",
        "unmap: IOMMU: iova=0x00000000fffe0000 - 0x00000000fffe1000 size=4096 unmapped_size=4096",
        "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=fffe0000 size=4096 attrs=",
        // dma-direct behind a dma-ranges offset: one buffer mapped twice at the same bus address
        "dma_map_phys: 0000:05:00.0 dir=TO_DEVICE dma_addr=c2000000 size=4096 phys_addr=2000000 attrs=",
        "dma_map_phys: 0000:05:00.0 dir=TO_DEVICE dma_addr=c2000000 size=4096 phys_addr=2000000 attrs=",
        "dma_unmap_phys: 0000:05:00.0 dir=TO_DEVICE dma_addr=c2000000 size=4096 attrs=",
        "dma_unmap_phys: 0000:05:00.0 dir=TO_DEVICE dma_addr=c2000000 size=4096 attrs="));
    // an sg list of 5,000 pages: its IOMMU maps come long before its dma_map_sg
    for (int i = 0; i < 5000; i++) lines.add(String.format("map: IOMMU: iova=0x%016x - 0x%016x paddr=0x%016x size=4096", 0x100000000L + i * 4096L,
        0x100000000L + (i + 1) * 4096L, 0x40000000L + i * 4096L));
    lines.add("dma_map_sg: " + D + " dir=FROM_DEVICE dma_addrs={0x100000000} sizes={0x1388000} phys_addrs={0x40000000} attrs=");
    lines.add("unmap: IOMMU: iova=0x0000000100000000 - 0x0000000101388000 size=20480000 unmapped_size=20480000");
    lines.add("dma_unmap_sg: " + D + " dir=FROM_DEVICE phys_addrs={0x40000000} attrs=");
    assertEquals(List.of(), verdict(dir, trace(lines.toArray(new String[0])), false));
    // a trace of the driver's whole life: the failed maps are no leaks
    assertEquals(List.of(), verdict(dir, trace(lines.subList(2, 4).toArray(new String[0])), true));
    // the migrated task's later fault is after its unmap (T1), not inside a live mapping (T4)
    assertEquals(List.of("T1"), verdict(dir, trace(
        "!  fio-900   [000] ..... 100.000001: map: IOMMU: iova=0x00000000fffe0000 - 0x00000000fffe1000 paddr=0x000000000020a000 size=4096",
        "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=fffe0000 size=4096 phys_addr=20a000 attrs=",
        "unmap: IOMMU: iova=0x00000000fffe0000 - 0x00000000fffe1000 size=4096 unmapped_size=4096",
        "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=fffe0000 size=4096 attrs=",
        "io_page_fault: IOMMU:drv " + D + " iova=0x00000000fffe0000 flags=0x0000"), false).stream().map(v -> v.split(" ")[1]).toList());
  }

  @Test
  void theRarerDmaDebugClassesAndAReattachAreCaught(@TempDir Path dir) throws Exception {
    List<String> lines = new ArrayList<>(List.of(
        "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=ffffffffffffffff size=4096 attrs=",
        "dma_map_sg: " + D + " dir=FROM_DEVICE dma_addrs={0xffff0000} sizes={0x4000} phys_addrs={0x200000,0x201000,0x202000,0x203000} attrs=",
        "dma_sync_sg_for_cpu: " + D + " dir=FROM_DEVICE dma_addrs={0xffff0000} sizes={0x4000}"));
    for (int i = 0; i < 9; i++) {
      lines.add(String.format("dma_map_phys: " + D + " dir=FROM_DEVICE dma_addr=%x size=64 phys_addr=40a000 attrs=SKIP_CPU_SYNC", 0xfff00000L + i * 4096L));
    }
    lines.add("attach_device_to_domain: IOMMU: device=" + D);
    assertEquals(List.of(
        "Trace DMA-debug 1 step 1: 0000:02:00.0: dma_unmap_phys of DMA_MAPPING_ERROR at line 2: \"device driver tries to free an invalid DMA memory "
            + "address\" (the handle of a failed map, never checked with dma_mapping_error)",
        "Trace DMA-debug 18 step 3: 0000:02:00.0: dma_sync_sg_for_cpu(FROM_DEVICE) at line 4 with nents 1 but the sg list was mapped with nents 4 "
            + "(dma_map_sg of 0xffff0000+16384 FROM_DEVICE at line 3)",
        "Trace DMA-debug 22 step 12: 0000:02:00.0: dma_map_phys at line 13: \"DMA-API: exceeded 7 overlapping mappings of cacheline 0x10280\" (a leak of "
            + "mappings of phys 0x40a000? the first is dma_map_phys of 0xfff00000+64 FROM_DEVICE at line 5)",
        "Trace T6 step 13: 0000:02:00.0 attached to a new domain (its live mappings are in the old one) at line 14 with 10 DMA mapping(s) live, e.g. "
            + "dma_map_phys of 0xfff00000+64 FROM_DEVICE at line 5"),
        verdict(dir, trace(lines.toArray(new String[0])), false));
  }

  @Test
  void linesCutAtATerminalsWidthAreJoinedEvenInsideAValueOrThePrefix() throws Exception {
    String whole1 = String.format(P, 1) + "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 attrs=";
    String whole2 = String.format(P, 2) + "dma_map_sg: " + D + " dir=FROM_DEVICE dma_addrs={0xffff0000,0xffff1000} sizes={0x1000,0x1000} "
        + "phys_addrs={0x200000,0x201000} attrs=SKIP_CPU_SYNC|WEAK_ORDERING";
    // whole1 padded (ftrace pads task names) so that it is cut at column 120 right after "size=409": "size=409" + "6 attrs=" would
    // parse as size 409 if a cut line were joined with a space
    int idx = whole1.indexOf("size=409") + 8;
    String padded = whole1.replace("  fio-900", "  fio-900" + " ".repeat(120 - idx));
    String cutAt80 = padded.substring(0, 120); // a 120-column terminal
    String rest80 = padded.substring(120);
    TraceReader.Counts[] c = new TraceReader.Counts[1];
    String sg = whole2;
    List<String> events = read("# tracer: nop\n" + cutAt80 + "\n" + rest80 + "\n" + sg.substring(0, 80) + "\n" + sg.substring(80, 160) + "\n"
        + sg.substring(160) + "\n" + whole1.substring(0, 14) + "\n" + whole1.substring(14) + "\n", c);
    assertEquals(List.of(
        "2 dev:0000:02:00.0 dma_unmap_phys cpu1 t=100000001000: unmap phys 0xffffe000+4096 TO_DEVICE attrs=",
        "4 dev:0000:02:00.0 dma_map_sg cpu1 t=100000002000: map_sg FROM_DEVICE dma=[0xffff0000, 0xffff1000] sizes=[4096, 4096] phys=[0x200000, "
            + "0x201000] nents=2 ents=2 truncated=false attrs=SKIP_CPU_SYNC|WEAK_ORDERING",
        "7 dev:0000:02:00.0 dma_unmap_phys cpu1 t=100000001000: unmap phys 0xffffe000+4096 TO_DEVICE attrs="), events);
    assertEquals("lines 8, events 3, headers 1, other 0 {}, unparsed 0, lost 0, attributed 0, unattributed 0, wrapped 4", counts(c[0]));
  }

  @Test
  void oddButHonestInputIsReadAndUnreadableLinesFailCheck(@TempDir Path dir) throws Exception {
    TraceReader.Counts[] c = new TraceReader.Counts[1];
    List<String> events = read("\uFEFF# tracer: function\n"
        + "          <idle>-0       [000] d.h1. 100.000001: do_IRQ <-ret_from_intr\n"
        + "  fio-900   [001] ..... 8812345678901: dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 attrs=\n"
        + "x".repeat(2 << 20) + "\n", c);
    assertEquals(List.of("3 dev:0000:02:00.0 dma_unmap_phys cpu1 t=8812345678901: unmap phys 0xffffe000+4096 TO_DEVICE attrs="), events);
    assertEquals("lines 4, events 1, headers 1, other 1 {(function)=1}, unparsed 1, lost 0, attributed 0, unattributed 0, wrapped 0", counts(c[0]));
    assertEquals(List.of("line 4: (a line of more than 1 MiB)  (too long to be a trace line)"), c[0].samples);
    String data = dir.resolve("data").toString();
    Path messy = dir.resolve("messy.txt");
    Files.writeString(messy, trace("dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 phys_addr=10a000 attrs=", "!garbage in the middle",
        "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 attrs="));
    CliTest.Result r = CliTest.dmasim("import-trace", messy.toString(), "--check", "--data-dir", data);
    assertEquals(2, r.code(), r.out());
    assertEquals("dmasim: 1 line(s) of " + messy + " could not be read (line 3): --check cannot call it clean", r.err().strip());
    assertEquals("  verdict                            clean, of the lines that could be read", r.out().lines().toList().get(1));
    Path unreadable = dir.resolve("unreadable.txt");
    Files.writeString(unreadable, trace("dma_map_phys: " + D + " dir=SIDEWAYS dma_addr=1000 size=4096 phys_addr=1000 attrs="));
    CliTest.Result none = CliTest.dmasim("import-trace", unreadable.toString(), "--data-dir", data);
    assertEquals(2, none.code(), none.out());
    assertEquals("dmasim: " + unreadable + ": none of its dma/iommu/swiotlb lines could be read, e.g. line 2: " + String.format(P, 1)
        + "dma_map_phys: " + D + " dir=SIDEWAYS dma_addr=1000 size=4096 phys_addr=1000 attrs=  (dma_map_phys: dir=SIDEWAYS is not a DMA direction)",
        none.err().strip());
    Path gz = dir.resolve("trace.txt.gz");
    Files.write(gz, new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0});
    assertEquals("dmasim: " + gz + " is gzip-compressed: decompress it first (gunzip)", CliTest.dmasim("import-trace", gz.toString(), "--data-dir", data)
        .err().strip());
    Path header = dir.resolve("header.txt");
    Files.writeString(header, "# tracer: nop\n#\n#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n");
    assertEquals("dmasim: " + header + " is a trace with no events at all (only its header); record them with: trace-cmd record -e dma -e iommu -e swiotlb",
        CliTest.dmasim("import-trace", header.toString(), "--data-dir", data).err().strip());
  }

  @Test
  void aPipedTraceIsReadWhole(@TempDir Path dir) throws Exception {
    Path fifo = dir.resolve("pipe");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    Thread writer = new Thread(() -> {
      try {
        Files.write(fifo, Files.readAllBytes(TRACES.resolve("alloc-free-fault.txt")));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    writer.start();
    CliTest.Result r = CliTest.dmasim("import-trace", fifo.toString(), "--check", "--data-dir", dir.resolve("data").toString());
    writer.join();
    assertEquals(1, r.code(), r.out() + r.err());
    assertEquals(List.of("dmasim import-trace " + fifo + " (sha256 78a8fa233fbf4a98)", "  verdict                            violation (1)",
        "  run id                             trace-pipe-78a8fa23"), r.out().lines().limit(3).toList());
  }
  /** What the code review found: a sync above a live mapping, an interrupt's call between a task's IOMMU line and its own, one buffer in two sg lists. */
  @Test
  void reviewFindingsAreNotViolations(@TempDir Path dir) throws Exception {
    String cpu0 = "!  fio-900   [000] ..... 100.%06d: ";
    String cpu2 = "!  fio-902   [002] ..... 100.%06d: ";
    String e = "0000:03:00.0";
    assertEquals(List.of(), verdict(dir, trace(
        // a sync of a mapping made before the trace began, above a live one of the device: not judged in a window
        "dma_map_phys: " + D + " dir=FROM_DEVICE dma_addr=ffff0000 size=4096 phys_addr=10a000 attrs=",
        "dma_sync_single_for_cpu: " + D + " dir=FROM_DEVICE dma_addr=ffff8000 size=4096",
        // the same IOVA live in two devices' domains; D's unmap on CPU 1 is followed by a softirq's map for E before D's dma_unmap_phys
        String.format(cpu0, 3) + "map: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x0000000000200000 size=4096",
        String.format(cpu0, 4) + "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=fffff000 size=4096 phys_addr=200000 attrs=",
        String.format(cpu2, 5) + "map: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x0000000000300000 size=4096",
        String.format(cpu2, 6) + "dma_map_phys: " + e + " dir=TO_DEVICE dma_addr=fffff000 size=4096 phys_addr=300000 attrs=",
        "unmap: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 size=4096 unmapped_size=4096",
        "map: IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 paddr=0x0000000000400000 size=4096",
        "dma_map_phys: " + e + " dir=TO_DEVICE dma_addr=ffffe000 size=4096 phys_addr=400000 attrs=",
        "dma_unmap_phys: " + D + " dir=TO_DEVICE dma_addr=fffff000 size=4096 attrs=",
        String.format(cpu0, 11) + "map: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x0000000000500000 size=4096",
        String.format(cpu0, 12) + "dma_map_phys: " + D + " dir=TO_DEVICE dma_addr=fffff000 size=4096 phys_addr=500000 attrs=",
        // dma-direct maps one buffer in two sg lists; each is unmapped by its own dma_unmap_sg
        "dma_map_sg: " + e + " dir=TO_DEVICE dma_addrs={0x600000} sizes={0x1000} phys_addrs={0x600000} attrs=",
        "dma_map_sg: " + e + " dir=TO_DEVICE dma_addrs={0x600000,0x900000} sizes={0x1000,0x1000} phys_addrs={0x600000,0x900000} attrs=",
        "dma_unmap_sg: " + e + " dir=TO_DEVICE phys_addrs={0x600000} attrs=",
        "dma_unmap_sg: " + e + " dir=TO_DEVICE phys_addrs={0x600000,0x900000} attrs="), false));
  }
}
