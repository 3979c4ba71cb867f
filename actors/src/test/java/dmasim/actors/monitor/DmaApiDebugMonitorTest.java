package dmasim.actors.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dmasim.actors.iommu.IommuSettings;
import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuEvent.ApiReturned;
import dmasim.protocol.IommuEvent.DebugHookCalled;
import dmasim.protocol.IommuEvent.DebugSegment;
import dmasim.protocol.MemoryEvent;
import dmasim.protocol.PageKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** dma-debug classes 9-12 and 24 (address checks), 19-20 (check_sg_segment), 21-22 (cacheline tracking) and 5 with 2, 3, 23 for coherent memory. */
class DmaApiDebugMonitorTest {
  static final DeviceId DEV = new DeviceId(0);

  static DmaApiDebugMonitor monitor(long maxSeg, long boundary) {
    return new DmaApiDebugMonitor(Map.of(DEV, new IommuSettings.DeviceSpec(64, false, false, true, maxSeg, boundary)));
  }

  /** The hook and the return of a dma_map_sg whose entries are {phys, length, dma address} (dma length = length). */
  static IommuEvent[] mapSg(String owner, Direction dir, long[]... segs) {
    List<DebugSegment> out = new ArrayList<>();
    long total = 0;
    for (long[] s : segs) {
      out.add(new DebugSegment(s[0], s[1], s[2], s[1]));
      total += s[1];
    }
    return new IommuEvent[] {new DebugHookCalled(DEV, owner, "map_sg", out, dir, DmaAttrs.NONE),
        new ApiReturned(DEV, owner, "map_sg", new Iova(segs[0][2]), segs[0][2] >>> 12, total >>> 12, total, dir, segs.length, false, 0)};
  }

  static ApiReturned unmapSg(String owner, Direction dir, long addr, long size, int nents) {
    return new ApiReturned(DEV, owner, "unmap_sg", new Iova(addr), addr >>> 12, size >>> 12, size, dir, nents, false, 0);
  }

  static IommuEvent[] mapPhys(String owner, long phys, long addr, Direction dir, int attrs) {
    return new IommuEvent[] {new DebugHookCalled(DEV, owner, "map_phys", List.of(new DebugSegment(phys, 4096, addr, 4096)), dir, new DmaAttrs(attrs)),
        new ApiReturned(DEV, owner, "map_phys", new Iova(addr), addr >>> 12, 1, 4096, dir, 1, false, 0)};
  }

  static CpuEvent.MappingChecked checked(String handle, long addr) {
    return new CpuEvent.MappingChecked(DEV, handle, new Iova(addr), false, 0);
  }

  static ApiReturned unmapPhys(String owner, long addr, Direction dir) {
    return new ApiReturned(DEV, owner, "unmap_phys", new Iova(addr), addr >>> 12, 1, 4096, dir, 1, false, 0);
  }

  static IommuEvent[] allocCoherent(String owner, long phys, long addr, long size) {
    return new IommuEvent[] {
        new DebugHookCalled(DEV, owner, "alloc_coherent", List.of(new DebugSegment(phys, size, addr, size)), Direction.BIDIRECTIONAL, DmaAttrs.NONE),
        new ApiReturned(DEV, owner, "alloc_coherent", new Iova(addr), addr >>> 12, size >>> 12, size, Direction.BIDIRECTIONAL, 1, false, 0)};
  }

  static DebugHookCalled freeCoherent(String owner, long phys, long addr, long size) {
    return new DebugHookCalled(DEV, owner, "free_coherent", List.of(new DebugSegment(phys, size, addr, size)), Direction.BIDIRECTIONAL, DmaAttrs.NONE);
  }

  // ---- classes 19, 20: check_sg_segment ------------------------------------------------------

  @Test
  void sgSegmentLongerThanTheMaxSegmentSizeIsClass19() {
    Probe p = new Probe(monitor(65536, 0xffffffffL)).on("iommu0", mapSg("cpu0/g", Direction.TO_DEVICE, new long[] {0x100000, 0x4000, 0x200000},
        new long[] {0x300000, 0x20000, 0x204000}));
    assertEquals(List.of("DmaApiDebug DMA-debug 19 @1"), p.verdict());
    assertTrue(p.message(0).contains("mapping sg segment longer than device claims to support [len=131072] [max=65536]"), p.message(0));
  }

  @Test
  void sgSegmentAcrossTheSegmentBoundaryIsClass20() {
    Probe p = new Probe(monitor(65536, 0xffff)).on("iommu0", mapSg("cpu0/g", Direction.FROM_DEVICE, new long[] {0x100000, 0x10000, 0x218000}));
    assertEquals(List.of("DmaApiDebug DMA-debug 20 @1"), p.verdict());
    assertTrue(p.message(0).contains(
        "mapping sg segment across boundary [start=0x0000000000218000] [end=0x0000000000227fff] [boundary=0x000000000000ffff]"), p.message(0));
  }

  @Test
  void oneSegmentTooLongAndAcrossReportsBothInKernelOrder() {
    Probe p = new Probe(monitor(16384, 0x3fff)).on("iommu0", mapSg("cpu0/g", Direction.TO_DEVICE, new long[] {0x100000, 0x8000, 0x200000}));
    assertEquals(List.of("DmaApiDebug DMA-debug 19 @1", "DmaApiDebug DMA-debug 20 @1"), p.verdict());
  }

  @Test
  void sgSegmentsWithinTheDeviceLimitsAreQuiet() {
    Probe p = new Probe(monitor(16384, 0x3fff)).on("iommu0", mapSg("cpu0/g", Direction.TO_DEVICE, new long[] {0x100000, 0x4000, 0x200000},
        new long[] {0x104000, 0x4000, 0x204000}, new long[] {0x300000, 0x1000, 0x208000}))
        .on("iommu0", unmapSg("cpu0/g", Direction.TO_DEVICE, 0x200000, 0x9000, 3)).on("cpu0", new CpuEvent.DriverUnbound(DEV, 0)).end();
    assertEquals(List.of(), p.verdict());
    // the defaults (65536, 0xffffffff) for a device the monitor was not told about
    Probe q = new Probe(new DmaApiDebugMonitor()).on("iommu0", mapSg("cpu0/g", Direction.TO_DEVICE, new long[] {0x100000, 0x10000, 0x210000}));
    assertEquals(List.of(), q.verdict());
  }

  // ---- classes 21, 22: cacheline tracking ----------------------------------------------------

  @Test
  void secondNonToDeviceMappingOfALiveCachelineIsClass21() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", mapPhys("cpu0/a.0", 0x5000, 0x8000, Direction.FROM_DEVICE, 0))
        .on("iommu0", mapPhys("cpu0/b.0", 0x5000, 0x9000, Direction.BIDIRECTIONAL, 0));
    assertEquals(List.of("DmaApiDebug DMA-debug 21 @2"), p.verdict());
    assertTrue(p.message(0).contains("\"cacheline tracking EEXIST, overlapping mappings aren't supported\""), p.message(0));
    assertTrue(p.message(0).contains("of phys 0x5000"), p.message(0));
  }

  @Test
  void coherentMemoryMappedAgainFromDeviceIsClass21() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", allocCoherent("cpu0/ring", 0x7000, 0x10000, 4096))
        .on("iommu0", mapPhys("cpu0/h.0", 0x7000, 0x20000, Direction.FROM_DEVICE, 0));
    assertEquals(List.of("DmaApiDebug DMA-debug 21 @2"), p.verdict());
  }

  @Test
  void toDeviceOverlapsSkipCpuSyncAndMappingsAfterTheUnmapAreQuiet() {
    Probe p = new Probe(new DmaApiDebugMonitor())
        // TO_DEVICE mappings are never tracked, either side
        .on("iommu0", mapPhys("cpu0/a.0", 0x5000, 0x8000, Direction.TO_DEVICE, 0))
        .on("iommu0", mapPhys("cpu0/b.0", 0x5000, 0x9000, Direction.TO_DEVICE, 0))
        .on("iommu0", mapPhys("cpu0/c.0", 0x5000, 0xa000, Direction.FROM_DEVICE, 0))
        // the new mapping has DMA_ATTR_SKIP_CPU_SYNC
        .on("iommu0", mapPhys("cpu0/d.0", 0x5000, 0xb000, Direction.FROM_DEVICE, DmaAttrs.SKIP_CPU_SYNC))
        // both entries cache-clean (DMA_ATTR_REQUIRE_COHERENT)
        .on("iommu0", mapPhys("cpu0/e.0", 0x6000, 0xc000, Direction.FROM_DEVICE, DmaAttrs.REQUIRE_COHERENT))
        .on("iommu0", mapPhys("cpu0/f.0", 0x6000, 0xd000, Direction.FROM_DEVICE, DmaAttrs.REQUIRE_COHERENT))
        // a different cacheline of the same page
        .on("iommu0", mapPhys("cpu0/g.0", 0x5040, 0xe040, Direction.FROM_DEVICE, 0));
    for (long a : new long[] {0xa000, 0xb000}) {
      p.on("cpu0", checked("x", a)).on("iommu0", unmapPhys("cpu0/x", a, Direction.FROM_DEVICE));
    }
    // once both FROM_DEVICE mappings of 0x5000 are gone, mapping it again is no overlap
    p.on("iommu0", mapPhys("cpu0/h.0", 0x5000, 0xf000, Direction.BIDIRECTIONAL, 0));
    assertEquals(List.of(), p.verdict());
  }

  @Test
  void moreThanSevenOverlapsOfOneCachelineIsClass22Once() {
    Probe p = new Probe(new DmaApiDebugMonitor());
    for (int i = 0; i < 10; i++) {
      p.on("iommu0", mapPhys("cpu0/h." + i, 0x5000, 0x10000 + i * 0x1000L, Direction.FROM_DEVICE, DmaAttrs.SKIP_CPU_SYNC));
    }
    // the 9th mapping is the 8th overlap; WARN_ONCE: the 10th does not warn again
    assertEquals(List.of("DmaApiDebug DMA-debug 22 @9"), p.verdict());
    assertTrue(p.message(0).contains("\"DMA-API: exceeded 7 overlapping mappings of cacheline 0x140\""), p.message(0));
  }

  @Test
  void withoutSkipCpuSyncEachOverlapIsClass21AndTheWarningComesFirst() {
    Probe p = new Probe(new DmaApiDebugMonitor());
    for (int i = 0; i < 9; i++) p.on("iommu0", mapPhys("cpu0/h." + i, 0x5000, 0x10000 + i * 0x1000L, Direction.FROM_DEVICE, 0));
    List<String> want = new ArrayList<>();
    for (int i = 2; i <= 8; i++) want.add("DmaApiDebug DMA-debug 21 @" + i);
    want.add("DmaApiDebug DMA-debug 22 @9");
    want.add("DmaApiDebug DMA-debug 21 @9");
    assertEquals(want, p.verdict());
  }

  @Test
  void sevenOverlapsAndRepeatedMapUnmapAreNoLeakHint() {
    Probe p = new Probe(new DmaApiDebugMonitor());
    for (int i = 0; i < 8; i++) p.on("iommu0", mapPhys("cpu0/h." + i, 0x5000, 0x10000 + i * 0x1000L, Direction.FROM_DEVICE, DmaAttrs.SKIP_CPU_SYNC));
    for (int i = 0; i < 20; i++) {
      p.on("iommu0", mapPhys("cpu0/r.0", 0x9000, 0x40000, Direction.FROM_DEVICE, 0)).on("cpu0", checked("r.0", 0x40000))
          .on("iommu0", unmapPhys("cpu0/r.0", 0x40000, Direction.FROM_DEVICE));
    }
    assertEquals(List.of(), p.verdict());
  }

  // ---- class 5 (and 2, 3, 23) for coherent memory ---------------------------------------------

  @Test
  void freeCoherentWithAnotherBuffersHandleIsClass5() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", allocCoherent("cpu0/a", 0x10000, 0x20000, 8192))
        .on("iommu0", allocCoherent("cpu0/b", 0x30000, 0x40000, 8192)).on("iommu0", freeCoherent("cpu0/a", 0x10000, 0x40000, 8192));
    assertEquals(List.of("DmaApiDebug DMA-debug 5 @3"), p.verdict());
    assertTrue(p.message(0).contains("\"device driver frees DMA memory with different CPU address [device address=0x0000000000040000] "
        + "[size=8192 bytes] [cpu alloc address=0x0000000000030000] [cpu free address=0x0000000000010000]\""), p.message(0));
  }

  @Test
  void freeCoherentWithAnotherSizeIsClass3AndBothAreReportedTogether() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", allocCoherent("cpu0/a", 0x10000, 0x20000, 8192))
        .on("iommu0", allocCoherent("cpu0/b", 0x30000, 0x40000, 8192)).on("iommu0", freeCoherent("cpu0/a", 0x10000, 0x20000, 4096))
        .on("iommu0", freeCoherent("cpu0/a", 0x10000, 0x40000, 4096));
    assertEquals(List.of("DmaApiDebug DMA-debug 3 @3", "DmaApiDebug DMA-debug 3 @4", "DmaApiDebug DMA-debug 5 @4"), p.verdict());
    assertTrue(p.message(0).contains("frees DMA memory with different size [map size=8192 bytes] [unmap size=4096 bytes]"), p.message(0));
  }

  @Test
  void freeCoherentOfAHandleFreedBeforeIsClass2AndOfAStreamingMappingClass4() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", allocCoherent("cpu0/a", 0x10000, 0x20000, 4096))
        .on("iommu0", freeCoherent("cpu0/a", 0x10000, 0x20000, 4096)).on("iommu0", freeCoherent("cpu0/a", 0x10000, 0x20000, 4096))
        .on("iommu0", mapPhys("cpu0/h.0", 0x50000, 0x60000, Direction.BIDIRECTIONAL, 0)).on("cpu0", checked("h.0", 0x60000))
        .on("iommu0", freeCoherent("cpu0/h", 0x50000, 0x60000, 4096));
    assertEquals(List.of("DmaApiDebug DMA-debug 2 @3", "DmaApiDebug DMA-debug 4 @6"), p.verdict());
    assertTrue(p.message(0).contains("device driver tries to free DMA memory it has not allocated [device address=0x0000000000020000]"), p.message(0));
  }

  @Test
  void coherentMemoryLeftAtUnbindIsClass23() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", allocCoherent("cpu0/ring", 0x10000, 0x20000, 8192))
        .on("cpu0", new CpuEvent.DriverUnbound(DEV, 0));
    assertEquals(List.of("DmaApiDebug DMA-debug 23 @2"), p.verdict());
    assertTrue(p.message(0).contains("cpu0/ring (coherent, 8192 bytes, BIDIRECTIONAL)"), p.message(0));
  }

  @Test
  void allocSubmitFreeCoherentIsQuiet() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", allocCoherent("cpu0/a", 0x10000, 0x20000, 8192))
        .on("cpu0", new CpuEvent.DescriptorSubmitted(0, "dev0", 1, List.of(new dmasim.protocol.DmaSegment(new Iova(0x20000), 8192)), false, "handles:h"))
        .on("iommu0", freeCoherent("cpu0/a", 0x10000, 0x20000, 8192))
        .on("iommu0", new ApiReturned(DEV, "cpu0/a", "free_coherent", new Iova(0x20000), 0x20, 2, 8192, Direction.BIDIRECTIONAL, 1, false, 0))
        // the cacheline went with the entry
        .on("iommu0", allocCoherent("cpu0/b", 0x10000, 0x30000, 4096)).on("iommu0", freeCoherent("cpu0/b", 0x10000, 0x30000, 4096))
        .on("cpu0", new CpuEvent.DriverUnbound(DEV, 0)).end();
    assertEquals(List.of(), p.verdict());
  }

  // ---- classes 9-12, 24: the address checks -----------------------------------------------------

  static MemoryEvent.PagesKind kind(String owner, PageKind kind, long... pfns) {
    List<Long> l = new ArrayList<>();
    for (long p : pfns) l.add(p);
    return new MemoryEvent.PagesKind(owner, l, kind);
  }

  static DebugHookCalled mapSingle(String owner, long phys) {
    return new DebugHookCalled(DEV, owner, "map_single", List.of(new DebugSegment(phys, 4096, -1, 0)), Direction.TO_DEVICE, DmaAttrs.NONE);
  }

  @Test
  void mappingAPageOfTheCurrentTasksStackIsClass9ForMapPhysAndMapSg() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("memory", kind("cpu0/s", PageKind.STACK, 0x1005))
        .on("iommu0", mapPhys("cpu0/h.0", 0x1005000, 0x8000, Direction.TO_DEVICE, 0))
        .on("iommu0", mapSg("cpu0/g", Direction.TO_DEVICE, new long[] {0x1009000, 0x1000, 0x20000}, new long[] {0x1005000, 0x1000, 0x21000}));
    assertEquals(List.of("DmaApiDebug DMA-debug 9 @2", "DmaApiDebug DMA-debug 9 @3"), p.verdict());
    assertTrue(p.message(0).contains("\"device driver maps memory from stack [probable addr=0x1005000]\""), p.message(0));
  }

  @Test
  void anotherTasksStackAFreedStackPageAndALaterPageOfTheRangeAreNotClass9() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("memory", kind("cpu1/s", PageKind.STACK, 0x1005))
        .on("iommu0", mapPhys("cpu0/h.0", 0x1005000, 0x8000, Direction.TO_DEVICE, 0))
        .on("memory", kind("cpu0/s", PageKind.STACK, 0x1007))
        // check_for_stack looks at the pfn of the start only
        .on("iommu0", mapSg("cpu0/g", Direction.TO_DEVICE, new long[] {0x1006000, 0x2000, 0x20000}))
        .on("memory", new MemoryEvent.PagesFreed("cpu0/s", List.of(0x1007L)))
        .on("iommu0", mapPhys("cpu0/k.0", 0x1007000, 0x30000, Direction.TO_DEVICE, 0));
    assertEquals(List.of(), p.verdict());
  }

  @Test
  void kernelTextOrRodataIsClass10ForMapPhysAndEveryMapSgInput() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("memory", kind("cpu0/t", PageKind.TEXT, 0x1010))
        .on("memory", kind("cpu0/r", PageKind.RODATA, 0x1020, 0x1021))
        .on("iommu0", mapPhys("cpu0/h.0", 0x1010000, 0x8000, Direction.TO_DEVICE, 0))
        .on("iommu0", mapSg("cpu0/g", Direction.TO_DEVICE, new long[] {0x1030000, 0x1000, 0x20000}, new long[] {0x1020000, 0x1000, 0x21000},
            new long[] {0x1021000, 0x1000, 0x22000}))
        // an entry that only runs into rodata intersects it too
        .on("iommu0", mapSg("cpu0/m", Direction.TO_DEVICE, new long[] {0x101f000, 0x2000, 0x40000}));
    assertEquals(List.of("DmaApiDebug DMA-debug 10 @3", "DmaApiDebug DMA-debug 10 @4", "DmaApiDebug DMA-debug 10 @4",
        "DmaApiDebug DMA-debug 10 @5"), p.verdict());
    assertTrue(p.message(0).contains("\"device driver maps memory from kernel text or rodata [addr=0x1010000] [len=4096]\""), p.message(0));
    assertTrue(p.message(3).contains("[addr=0x101f000] [len=8192]"), p.message(3));
  }

  @Test
  void mmioMappingsSkipClasses9And10AndReportRamAsClass24() {
    dmasim.actors.memory.Region bar = new dmasim.actors.memory.Region("bar", dmasim.actors.memory.Region.Kind.MMIO, 0x100000, 16,
        dmasim.actors.memory.Region.Path.NONE, 0);
    Probe p = new Probe(new DmaApiDebugMonitor(Map.of(), List.of(bar))).on("memory", kind("cpu0/s", PageKind.STACK, 0x1005))
        .on("memory", kind("cpu0/t", PageKind.TEXT, 0x1010))
        // a BAR: pfn_valid is false
        .on("iommu0", mapPhys("cpu0/a.0", 0x100000000L, 0x8000, Direction.TO_DEVICE, DmaAttrs.MMIO))
        // kernel text is PageReserved: neither 10 nor 24
        .on("iommu0", mapPhys("cpu0/b.0", 0x1010000, 0x9000, Direction.TO_DEVICE, DmaAttrs.MMIO))
        // the stack is ordinary RAM: 24, not 9
        .on("iommu0", mapPhys("cpu0/c.0", 0x1005000, 0xa000, Direction.TO_DEVICE, DmaAttrs.MMIO))
        .on("iommu0", mapPhys("cpu0/d.0", 0x1100000, 0xb000, Direction.TO_DEVICE, DmaAttrs.MMIO));
    assertEquals(List.of("DmaApiDebug DMA-debug 24 @5", "DmaApiDebug DMA-debug 24 @6"), p.verdict());
    assertTrue(p.message(1).contains("\"dma_map_resource called for RAM address 0x0000000001100000\""), p.message(1));
  }

  @Test
  void dmaMapSingleOutsideTheLinearMapIsClass11AndOfKernelRodataAlso10() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("memory", kind("cpu0/m", PageKind.MODULE, 0x1040))
        .on("memory", kind("cpu0/r", PageKind.RODATA, 0x1050))
        .on("iommu0", mapSingle("cpu0/h.0", 0x1040000)).on("iommu0", mapPhys("cpu0/h.0", 0x1040000, 0x8000, Direction.TO_DEVICE, 0))
        // the image lies in the linear map here: rodata is virt_addr_valid, only check_for_illegal_area fires
        .on("iommu0", mapSingle("cpu0/k.0", 0x1050000)).on("iommu0", mapPhys("cpu0/k.0", 0x1050000, 0x9000, Direction.TO_DEVICE, 0))
        // kmalloc memory
        .on("iommu0", mapSingle("cpu0/l.0", 0x1060000)).on("iommu0", mapPhys("cpu0/l.0", 0x1060000, 0xa000, Direction.TO_DEVICE, 0));
    assertEquals(List.of("DmaApiDebug DMA-debug 11 @3", "DmaApiDebug DMA-debug 10 @6"), p.verdict());
    assertTrue(p.message(0).contains("\"device driver maps memory from invalid area [addr=0x1040000] [len=4096]\""), p.message(0));
  }

  @Test
  void debugDmaMapSingleOfAVmallocAddressReportsBothChecks() {
    // dma_map_single_attrs refuses vmalloc addresses first, so the model never calls the hook with one; the hook itself is exact
    Probe p = new Probe(new DmaApiDebugMonitor()).on("memory", kind("cpu0/v", PageKind.VMALLOC, 0x1070)).on("iommu0", mapSingle("cpu0/h.0", 0x1070000));
    assertEquals(List.of("DmaApiDebug DMA-debug 11 @2", "DmaApiDebug DMA-debug 12 @2"), p.verdict());
    assertTrue(p.message(1).contains("\"device driver maps memory from vmalloc area [addr=0x1070000] [len=4096]\""), p.message(1));
  }

  @Test
  void dmaMapSingleRefusingVmallocMemoryIsClass12OnceAndVmallocPagesMappedWithMapPhysAreQuiet() {
    Probe p = new Probe(new DmaApiDebugMonitor()).on("memory", kind("cpu0/v", PageKind.VMALLOC, 0x1070, 0x1071))
        // dma_map_page(vmalloc_to_page(addr)) is legal
        .on("iommu0", mapPhys("cpu0/p.0", 0x1070000, 0x8000, Direction.TO_DEVICE, 0)).on("cpu0", checked("p.0", 0x8000))
        .on("iommu0", unmapPhys("cpu0/p", 0x8000, Direction.TO_DEVICE))
        .on("iommu0", new IommuEvent.MapSingleRejected(DEV, "cpu0/h.0", 0x1070000, 4096, PageKind.VMALLOC))
        .on("iommu0", new ApiReturned(DEV, "cpu0/h.0", "map_phys", Iova.MAPPING_ERROR, 0, 0, 4096, Direction.TO_DEVICE, 1, false, 12))
        // dev_WARN_ONCE
        .on("iommu0", new IommuEvent.MapSingleRejected(DEV, "cpu0/h.1", 0x1071000, 4096, PageKind.VMALLOC)).end();
    assertEquals(List.of("DmaApiDebug DMA-debug 12 @5"), p.verdict());
    assertTrue(p.message(0).contains("\"rejecting DMA map of vmalloc memory\""), p.message(0));
  }
}
