package dmasim.actors.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceEvent;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Errno;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuEvent.ApiReturned;
import dmasim.protocol.IommuEvent.RangeLinked;
import dmasim.protocol.MemoryEvent;
import dmasim.protocol.Prot;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Every monitor: a sequence that makes it fire, one that keeps it quiet. */
class MonitorsTest {
  static final DeviceId DEV = new DeviceId(0);
  static final Prot RW = new Prot(Prot.READ | Prot.WRITE);

  static IommuEvent.IovaAllocated alloc(String owner, long base, long pages, long size) {
    return new IommuEvent.IovaAllocated(DEV, owner, "try_alloc", base, pages, size, new Iova(base << 12));
  }

  static RangeLinked link(String owner, long base, long offset, long size, long iovaPfn, long physPfn, long pages) {
    return new RangeLinked(DEV, owner, "link", base, offset, size, iovaPfn, physPfn, pages, RW, Direction.BIDIRECTIONAL);
  }

  static IommuEvent.PtesCleared cleared(String owner, String api, long base, long offset, long size, long pfn, long pages) {
    return new IommuEvent.PtesCleared(DEV, owner, api, base, offset, size, pfn, pages, pages);
  }

  static ApiReturned returned(String api, long pfn, long pages, boolean deferred) {
    return new ApiReturned(DEV, "cpu0/s", api, new Iova(pfn << 12), pfn, pages, pages * 4096, Direction.TO_DEVICE, 1, deferred, 0);
  }

  static IommuEvent.DmaAccessed access(long pfn, long phys, boolean write, String via, boolean stray) {
    return new IommuEvent.DmaAccessed(DEV, 1, new Iova(pfn << 12), phys, write, via, stray);
  }

  @Nested
  class IovaSpace {
    @Test
    void overlappingAllocationsFire() {
      Probe p = new Probe(new IovaSpaceMonitor()).on("iommu0", alloc("cpu0/a", 8, 8, 4096)).on("iommu0", alloc("cpu1/b", 12, 4, 4096));
      assertEquals("I1", p.invariant());
    }

    @Test
    void doubleFreeFires() {
      Probe p = new Probe(new IovaSpaceMonitor()).on("iommu0", alloc("cpu0/a", 8, 8, 4096),
          new IommuEvent.IovaFreed(DEV, "cpu0/a", 8, 8, "free"), new IommuEvent.IovaFreed(DEV, "cpu0/a", 8, 8, "free"));
      assertEquals("I1", p.invariant());
    }

    @Test
    void allocateQueueFreeReuseIsQuiet() {
      Probe p = new Probe(new IovaSpaceMonitor()).on("iommu0", alloc("cpu0/a", 8, 8, 4096))
          .on("iommu0", new IommuEvent.FlushQueued(0, "cpu0/a", 8, 8, 0, List.of()))
          .on("iommu0", new IommuEvent.IovaFreed(null, "cpu0/a", 8, 8, "flush-queue")).on("iommu0", alloc("cpu1/b", 8, 8, 4096));
      assertTrue(p.violations().isEmpty());
    }
  }

  @Nested
  class FlushQueue {
    @Test
    void entryFreedBeforeItsFlushCompletedFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.FlushQueued(0, "cpu0/a", 8, 1, 0, List.of()))
          .on("iommu0", new IommuEvent.FlushStarted(1, "timer"))
          .on("iommu0", new IommuEvent.FlushQueueEntryFreed(0, "cpu0/a", 8, 1, 0, 0));
      assertEquals("I2", p.invariant());
    }

    @Test
    void entryFreedByAFlushThatStartedBeforeItsClearLandedFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.FlushQueued(0, "cpu0/a", 8, 1, 0, List.of()))
          .on("iommu0", new IommuEvent.FlushStarted(1, "timer"))
          .on("iommu0", new IommuEvent.PteClearVisible(8, 1, 1))
          .on("iommu0", new IommuEvent.FlushFinished(1), new IommuEvent.FlushQueueEntryFreed(0, "cpu0/a", 8, 1, 0, 1));
      assertEquals("I2", p.invariant());
    }

    @Test
    void entryFreedByAFlushThatStartedAfterItsClearLandedIsQuiet() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.PteClearVisible(8, 1, 0))
          .on("iommu0", new IommuEvent.FlushQueued(0, "cpu0/a", 8, 1, 0, List.of()))
          .on("iommu0", new IommuEvent.FlushStarted(1, "timer"))
          .on("iommu0", new IommuEvent.FlushFinished(1), new IommuEvent.FlushQueueEntryFreed(0, "cpu0/a", 8, 1, 0, 1));
      assertTrue(p.violations().isEmpty(), p.violations().toString());
    }

    @Test
    void staleCounterReadFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.FlushStarted(1, "timer"))
          .on("iommu0", new IommuEvent.FlushQueued(0, "cpu0/a", 8, 1, 0, List.of()));
      assertEquals("I2", p.invariant());
    }

    @Test
    void finishBeyondStartFires() {
      assertEquals("I4", new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.FlushFinished(1)).invariant());
    }

    @Test
    void overfullRingFires() {
      Probe p = new Probe(new FlushQueueMonitor(2)).on("iommu0", new IommuEvent.FlushQueued(0, "a", 8, 1, 0, List.of()))
          .on("iommu0", new IommuEvent.FlushQueued(0, "b", 16, 1, 0, List.of()));
      assertEquals("I5", p.invariant());
    }

    @Test
    void pageTableFreedBeforeInvalidationFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1)).on("iommu0", new IommuEvent.PageTablesFreed(List.of(0L), "x"));
      assertEquals("I3", p.invariant());
    }

    @Test
    void timerAfterTeardownFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.DomainTornDown(false, 1))
          .on("iommu0", new IommuEvent.FlushTimerFired());
      assertEquals("I6", p.invariant());
    }

    @Test
    void queueFlushFreeInOrderIsQuiet() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1), new IommuEvent.FlushQueued(0, "a", 8, 1, 0, List.of(0L)))
          .on("iommu0", new IommuEvent.FlushStarted(1, "timer"), new IommuEvent.InvalidationPosted(1, "all", 0, 0, 1, null))
          .on("iommu0", new IommuEvent.InvalidationCompleted(1, "all", 0, 0, 1), new IommuEvent.FlushFinished(1),
              new IommuEvent.FlushQueueEntryFreed(0, "a", 8, 1, 0, 1), new IommuEvent.PageTablesFreed(List.of(0L), "fq"));
      assertTrue(p.violations().isEmpty(), p.violations().toString());
    }
  }

  @Nested
  class Translation {
    @Test
    void strictUnmapReturningWithIotlbEntryFires() {
      Probe p = new Probe(new TranslationMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", new IommuEvent.IotlbFilled(8, 100, RW, true)).on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1))
          .on("iommu0", returned("destroy", 8, 1, false));
      assertEquals("I7", p.invariant());
    }

    @Test
    void staleTranslationAliasingANewMappingFires() {
      Probe p = new Probe(new TranslationMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1)).on("iommu0", returned("destroy", 8, 1, true))
          .on("iommu0", link("b", 8, 0, 4096, 8, 200, 1)).on("iommu0", access(8, 100, false, "iotlb", true));
      assertEquals("I8", p.invariant());
    }

    @Test
    void lazyWindowAccessIsAnExposureNotAViolation() {
      TranslationMonitor t = new TranslationMonitor();
      Probe p = new Probe(t).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1)).on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1))
          .at(1000).on("iommu0", returned("destroy", 8, 1, true)).at(5000).on("iommu0", access(8, 100, false, "iotlb", true));
      assertTrue(p.violations().isEmpty());
      assertEquals(1, t.exposures());
      assertEquals(4000, t.maxExposureWindow());
    }

    @Test
    void atcInvalidationBeforeIotlbCompletionFires() {
      Probe p = new Probe(new TranslationMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", cleared("a", "unlink", 8, 0, 4096, 8, 1)).on("iommu0", new IommuEvent.InvalidationPosted(1, "atc", 8, 1, 1, null));
      assertEquals("I10", p.invariant());
    }

    @Test
    void wrongDirectionFaultFires() {
      Probe p = new Probe(new TranslationMonitor())
          .on("iommu0", new IommuEvent.DmaFaulted(DEV, 1, new Iova(0x8000), true, "write to read-only mapping", false));
      assertEquals("I11", p.invariant());
    }

    @Test
    void accessesThroughLiveMappingsAreQuiet() {
      Probe p = new Probe(new TranslationMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", access(8, 100, true, "walk", false)).on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1))
          .on("iommu0", new IommuEvent.InvalidationCompleted(1, "range", 8, 1, 1)).on("iommu0", returned("destroy", 8, 1, false));
      assertTrue(p.violations().isEmpty());
    }
  }

  @Nested
  class SyncBeforeUse {
    @Test
    void accessBeforeSyncFires() {
      Probe p = new Probe(new SyncBeforeUseMonitor(true)).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", access(8, 100, false, "walk", false));
      assertEquals("I9", p.invariant());
    }

    @Test
    void aClassicMapWithoutFlushAfterAttachingACachingIommuFires() {
      RangeLinked map = new RangeLinked(DEV, "cpu0/h.0", "map_phys", 8, 0, 4096, 8, 100, 1, RW, Direction.TO_DEVICE);
      Probe p = new Probe(new SyncBeforeUseMonitor(false)).on("iommu0", new IommuEvent.IommuAttached(true)).on("iommu0", map)
          .on("iommu0", access(8, 100, false, "walk", false));
      assertEquals("I9", p.invariant());
    }

    @Test
    void aClassicMapWithoutCachingIsQuiet() {
      RangeLinked map = new RangeLinked(DEV, "cpu0/h.0", "map_phys", 8, 0, 4096, 8, 100, 1, RW, Direction.TO_DEVICE);
      assertTrue(new Probe(new SyncBeforeUseMonitor(false)).on("iommu0", map).on("iommu0", access(8, 100, false, "walk", false)).violations().isEmpty());
    }

    @Test
    void accessAfterSyncIsQuiet() {
      Probe p = new Probe(new SyncBeforeUseMonitor(true)).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", new IommuEvent.RangeSynced(DEV, "a", "sync", 8, 1, true, Errno.OK)).on("iommu0", access(8, 100, false, "walk", false));
      assertTrue(p.violations().isEmpty());
    }
  }

  @Nested
  class IovaApi {
    @Test
    void freeWithLiveLinksFires() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 16384)).on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", new IommuEvent.IovaFreed(DEV, "cpu0/s", 8, 4, "free"));
      assertEquals("I14", p.invariant());
    }

    @Test
    void doubleUnlinkFires() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 16384)).on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", cleared("cpu0/s", "unlink", 8, 0, 4096, 8, 1)).on("iommu0", cleared("cpu0/s", "unlink", 8, 0, 4096, 8, 1));
      assertEquals("I14", p.invariant());
    }

    @Test
    void destroyLengthMismatchFires() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 16384))
          .on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1), link("cpu0/s", 8, 4096, 4096, 9, 101, 1))
          .on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 4096, 8, 1));
      assertEquals("I14", p.invariant());
    }

    Probe fourLinks() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 16384));
      for (int i = 0; i < 4; i++) p.on("iommu0", link("cpu0/s", 8, i * 4096L, 4096, 8 + i, 100 + i, 1));
      return p;
    }

    @Test
    void oneUnlinkOverAdjacentLinksAndPartialUnlinksAreQuiet() {
      Probe p = fourLinks().on("iommu0", cleared("cpu0/s", "unlink", 8, 4096, 8192, 9, 2))
          .on("iommu0", cleared("cpu0/s", "unlink", 8, 0, 4096, 8, 1)).on("iommu0", cleared("cpu0/s", "unlink", 8, 12288, 4096, 11, 1))
          .on("iommu0", new IommuEvent.IovaFreed(DEV, "cpu0/s", 8, 4, "free")).end();
      assertEquals(List.of(), p.verdict());
    }

    @Test
    void unlinkReachingBytesThatAreNotLinkedFires() {
      Probe p = fourLinks().on("iommu0", cleared("cpu0/s", "unlink", 8, 4096, 8192, 9, 2))
          .on("iommu0", cleared("cpu0/s", "unlink", 8, 8192, 8192, 10, 2));
      assertEquals(List.of("IovaApiUsage I14 @7"), p.verdict());
      assertTrue(p.message(0).contains("[8192, 16384) that is not linked") && p.message(0).contains("{[0, 4096), [12288, 16384)}"),
          p.message(0));
    }

    @Test
    void anUnlinkWhoseGranulesHoldAnotherLinksBytesFires() {
      // B7's old unwind: dma_iova_unlink(state, 0, 0) on a state whose data starts 512 bytes into
      // the granule clears that whole granule, which holds the first link's [0, 3584).
      Probe p = new Probe(new IovaApiMonitor())
          .on("iommu0", new IommuEvent.IovaAllocated(DEV, "cpu0/s", "try_alloc", 8, 2, 7680, new Iova((8L << 12) + 512)))
          .on("iommu0", link("cpu0/s", 8, 0, 3584, 8, 100, 1)).on("iommu0", cleared("cpu0/s", "unlink", 8, 0, 0, 8, 1));
      assertEquals(List.of("IovaApiUsage I14 @3"), p.verdict());
      assertTrue(p.message(0).contains("also maps [0, 3584) that is still linked"), p.message(0));
    }

    @Test
    void destroyAfterUnlinkingTheMiddleFires() {
      Probe p = fourLinks().on("iommu0", cleared("cpu0/s", "unlink", 8, 4096, 8192, 9, 2))
          .on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 16384, 8, 4));
      assertEquals(List.of("IovaApiUsage I14 @7"), p.verdict());
      assertTrue(p.message(0).contains("{[0, 4096), [12288, 16384)}"), p.message(0));
    }

    @Test
    void staleStateLinkFires() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", link("cpu0/s", -1, 0, 4096, 8, 100, 1));
      assertEquals("I15", p.invariant());
    }

    @Test
    void leakAtRunEndFires() {
      assertEquals("I12", new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 16384)).end().invariant());
    }

    @Test
    void allocLinkDestroyIsQuiet() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 8192))
          .on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1), link("cpu0/s", 8, 4096, 4096, 9, 101, 1))
          .on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 8192, 8, 2)).on("iommu0", new IommuEvent.IovaFreed(DEV, "cpu0/s", 8, 4, "strict"))
          .end();
      assertTrue(p.violations().isEmpty(), p.violations().toString());
    }
  }

  @Nested
  class DmaApiDebug {
    static ApiReturned map(long addr, long size, Direction dir) {
      return new ApiReturned(DEV, "cpu0/h.0", "map_phys", new Iova(addr), addr >>> 12, 1, size, dir, 1, false, 0);
    }

    static ApiReturned unmap(long addr, long size, Direction dir) {
      return new ApiReturned(DEV, "cpu0/h.0", "unmap_phys", new Iova(addr), addr >>> 12, 1, size, dir, 1, false, 0);
    }

    static CpuEvent.MappingChecked checked(long addr) {
      return new CpuEvent.MappingChecked(DEV, "h.0", new Iova(addr), false, 0);
    }

    @Test
    void doubleUnmapFires() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE)).on("cpu0", checked(0x8000))
          .on("iommu0", unmap(0x8000, 4096, Direction.TO_DEVICE)).on("iommu0", unmap(0x8000, 4096, Direction.TO_DEVICE));
      assertEquals("DMA-debug 2", p.invariant());
    }

    @Test
    void sizeDirectionAndUncheckedMistakesFire() {
      assertEquals("DMA-debug 3", new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("iommu0", unmap(0x8000, 512, Direction.TO_DEVICE)).invariant());
      assertEquals("DMA-debug 7", new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("cpu0", checked(0x8000)).on("iommu0", unmap(0x8000, 4096, Direction.FROM_DEVICE)).invariant());
      assertEquals("DMA-debug 8", new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("iommu0", unmap(0x8000, 4096, Direction.TO_DEVICE)).invariant());
      assertEquals("DMA-debug 1", new Probe(new DmaApiDebugMonitor()).on("iommu0", unmap(-1, 4096, Direction.TO_DEVICE)).invariant());
    }

    @Test
    void useBeforeMappingErrorCheckFires() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("cpu0", new CpuEvent.DescriptorSubmitted(0, "dev0", 1, List.of(new DmaSegment(new Iova(0x8000), 4096)), false));
      assertEquals("I13", p.invariant());
    }

    static IommuEvent.SyncPerformed sync(long addr, long size, Direction dir, boolean forCpu) {
      return new IommuEvent.SyncPerformed(DEV, "cpu0/h.0", "sync_single", new Iova(addr), size, dir, forCpu, 1, true);
    }

    @Test
    void syncOutsideEveryMappingOrPastItsEndIsNotAllocated() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("iommu0", sync(0x9000, 4096, Direction.TO_DEVICE, false)).on("iommu0", sync(0x8800, 4096, Direction.TO_DEVICE, false));
      assertEquals(List.of("DmaApiDebug DMA-debug 13 @2", "DmaApiDebug DMA-debug 13 @3"), p.verdict());
      assertTrue(p.message(1).contains("runs past the end of its mapping (4096 bytes at 0x8000)"), p.message(1));
    }

    @Test
    void syncForCpuInTheOppositeDirectionOfAToDeviceMappingReportsDirectionAndReadOnly() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("iommu0", sync(0x8000, 4096, Direction.FROM_DEVICE, true));
      assertEquals(List.of("DmaApiDebug DMA-debug 15 @2", "DmaApiDebug DMA-debug 16 @2"), p.verdict());
    }

    @Test
    void syncForDeviceToDeviceOfAFromDeviceMappingReportsDirectionAndWriteOnly() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.FROM_DEVICE))
          .on("iommu0", sync(0x8000, 4096, Direction.TO_DEVICE, false));
      assertEquals(List.of("DmaApiDebug DMA-debug 15 @2", "DmaApiDebug DMA-debug 17 @2"), p.verdict());
    }

    @Test
    void rxRecyclingAndSyncsMatchingTheMappingAreQuiet() {
      // page_pool: dma_sync_single_for_device(FROM_DEVICE) before giving the RX buffer back, for_cpu after.
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.FROM_DEVICE)).on("cpu0", checked(0x8000));
      for (int i = 0; i < 3; i++) {
        p.on("iommu0", sync(0x8000, 4096, Direction.FROM_DEVICE, false)).on("iommu0", sync(0x8000, 2048, Direction.FROM_DEVICE, true));
      }
      p.on("iommu0", map(0x20000, 4096, Direction.TO_DEVICE)).on("cpu0", checked(0x20000))
          .on("iommu0", sync(0x20000, 4096, Direction.TO_DEVICE, true), sync(0x20800, 2048, Direction.TO_DEVICE, false))
          .on("iommu0", map(0x40000, 4096, Direction.BIDIRECTIONAL)).on("cpu0", checked(0x40000))
          .on("iommu0", sync(0x40000, 4096, Direction.TO_DEVICE, true), sync(0x40000, 4096, Direction.FROM_DEVICE, false))
          .on("iommu0", unmap(0x8000, 4096, Direction.FROM_DEVICE), unmap(0x20000, 4096, Direction.TO_DEVICE),
              unmap(0x40000, 4096, Direction.BIDIRECTIONAL))
          .end();
      assertEquals(List.of(), p.verdict());
    }

    @Test
    void pendingMappingAtUnbindFires() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("cpu0", new CpuEvent.DriverUnbound(DEV, 0));
      assertEquals("DMA-debug 23", p.invariant());
    }

    @Test
    void mapCheckSyncUnmapIsQuiet() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.FROM_DEVICE)).on("cpu0", checked(0x8000))
          .on("iommu0", new IommuEvent.SyncPerformed(DEV, "cpu0/h", "sync_single", new Iova(0x8000), 4096, Direction.FROM_DEVICE, true, 1, true))
          .on("iommu0", unmap(0x8000, 4096, Direction.FROM_DEVICE)).on("cpu0", new CpuEvent.DriverUnbound(DEV, 0)).end();
      assertTrue(p.violations().isEmpty(), p.violations().toString());
    }
  }

  @Nested
  class CpuDeviceOwnership {
    @Test
    void cpuReadOfDeviceDataWithoutSyncFires() {
      Probe p = new Probe(new CpuDeviceOwnershipMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", access(8, 100, true, "walk", false)).on("cpu0", new CpuEvent.BufferTouched("buf", List.of(100L), false, 0));
      assertEquals("I16", p.invariant());
    }

    @Test
    void deviceReadOfCpuDataWrittenAfterMapFires() {
      Probe p = new Probe(new CpuDeviceOwnershipMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("cpu0", new CpuEvent.BufferTouched("buf", List.of(100L), true, 0)).on("iommu0", access(8, 100, false, "walk", false));
      assertEquals("I16", p.invariant());
    }

    @Test
    void writeMapDeviceReadAndUnmapThenCpuReadIsQuiet() {
      Probe p = new Probe(new CpuDeviceOwnershipMonitor()).on("cpu0", new CpuEvent.BufferTouched("buf", List.of(100L), true, 0))
          .on("iommu0", link("a", 8, 0, 4096, 8, 100, 1)).on("iommu0", access(8, 100, true, "walk", false))
          .on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1)).on("cpu0", new CpuEvent.BufferTouched("buf", List.of(100L), false, 0));
      assertTrue(p.violations().isEmpty());
    }
  }

  @Nested
  class MemorySafety {
    @Test
    void dmaIntoAFreedPageFires() {
      Probe p = new Probe(new MemorySafetyMonitor()).on("mem", new MemoryEvent.PagesAllocated("cpu0/buf", List.of(100L)))
          .on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1)).on("mem", new MemoryEvent.PagesFreed("cpu0/buf", List.of(100L)))
          .on("iommu0", access(8, 100, true, "iotlb", false));
      assertEquals("MEM", p.invariant());
    }

    @Test
    void dmaIntoAnOwnedPageIsQuiet() {
      Probe p = new Probe(new MemorySafetyMonitor()).on("mem", new MemoryEvent.PagesAllocated("cpu0/buf", List.of(100L)))
          .on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1)).on("iommu0", access(8, 100, true, "walk", false))
          .on("mem", new MemoryEvent.PagesFreed("cpu0/buf", List.of(100L)));
      assertTrue(p.violations().isEmpty());
    }
  }

  @Nested
  class Termination {
    @Test
    void aProgramStillWaitingAtTheEndFires() {
      Probe p = new Probe(new TerminationMonitor()).on("cpu0", new CpuEvent.ProgramStarted("p"))
          .on("cpu0", new CpuEvent.CallIssued(3, "await", "tag 1", "device")).end();
      assertEquals("LIVENESS", p.invariant());
      assertTrue(p.violations().get(0).message().contains("await"));
    }

    @Test
    void aFinishedProgramIsQuiet() {
      Probe p = new Probe(new TerminationMonitor()).on("cpu0", new CpuEvent.ProgramStarted("p")).on("cpu0", new CpuEvent.ProgramEnded(1)).end();
      assertTrue(p.violations().isEmpty());
    }
  }

  @Nested
  class MemoryType {
    final List<dmasim.actors.memory.Region> regions = List.of(
        new dmasim.actors.memory.Region("bar", dmasim.actors.memory.Region.Kind.MMIO, 0x100000, 16, dmasim.actors.memory.Region.Path.NONE, 0),
        new dmasim.actors.memory.Region("peer", dmasim.actors.memory.Region.Kind.P2P, 0x200000, 16,
            dmasim.actors.memory.Region.Path.BUS_ADDRESS, 0x100));

    RangeLinked linkOf(long phys, int protBits) {
      return new RangeLinked(DEV, "cpu0/h.0", "map_phys", 8, 0, 4096, 8, phys, 1, new Prot(protBits), Direction.TO_DEVICE);
    }

    @Test
    void mmioMappedWithoutTheAttributeFires() {
      assertEquals("MEMTYPE", new Probe(new MemoryTypeMonitor(regions)).on("iommu0", linkOf(0x100000, Prot.READ | Prot.CACHE)).invariant());
    }

    @Test
    void aBusAddressPeerReachedThroughTheIommuFires() {
      assertEquals("P2P", new Probe(new MemoryTypeMonitor(regions)).on("iommu0", access(8, 0x200001, true, "walk", false)).invariant());
    }

    @Test
    void mmioWithTheAttributeAndPeerAccessesByBusAddressAreQuiet() {
      Probe p = new Probe(new MemoryTypeMonitor(regions)).on("iommu0", linkOf(0x100000, Prot.READ | Prot.MMIO))
          .on("dev0", new DeviceEvent.PeerAccessed(DEV, 1, new Iova((0x200001L + 0x100) << 12), true))
          .on("iommu0", access(8, 0x100000, false, "walk", false));
      assertTrue(p.violations().isEmpty(), p.violations().toString());
    }
  }

  @Nested
  class InfoLeak {
    Probe leakOrNot(boolean initSlot) {
      Probe p = new Probe(new InfoLeakMonitor())
          .on("mem", new MemoryEvent.PagesAllocated("cpu0/buf", List.of(100L)))
          .on("cpu0", new CpuEvent.BufferTouched("buf", List.of(100L), true, 0))
          .on("iommu0", new IommuEvent.Bounced("cpu0/s", 8, 100, 0x80000, 4096, Direction.TO_DEVICE),
              new IommuEvent.BounceCopied("cpu0/s", 0x80000, 100, true))
          .on("iommu0", new IommuEvent.BounceReleased(8, 0x80000))
          .on("mem", new MemoryEvent.PagesAllocated("cpu1/rbuf", List.of(200L)))
          .on("iommu0", new IommuEvent.Bounced("cpu1/r", 9, 200, 0x80000, 4096, Direction.FROM_DEVICE));
      if (initSlot) p.on("iommu0", new IommuEvent.BounceCopied("cpu1/r", 0x80000, 200, true));
      return p.on("iommu0", new IommuEvent.BounceCopied("cpu1/r", 0x80000, 200, false));
    }

    @Test
    void staleSlotDataCopiedIntoAnotherBufferFires() {
      assertEquals("B9", leakOrNot(false).invariant());
    }

    @Test
    void aSlotFilledFromTheBufferIsQuiet() {
      assertTrue(leakOrNot(true).violations().isEmpty());
    }
  }

  @Nested
  class InvalidationCost {
    @Test
    void moreCommandsThanTheBudgetForOneUnmapFires() {
      Probe p = new Probe(new InvalidationCostMonitor(1)).on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1),
          new IommuEvent.InvalidationPosted(1, "range", 8, 1, 1, null), new IommuEvent.InvalidationPosted(2, "range", 9, 1, 1, null));
      assertEquals("COST", p.invariant());
    }

    @Test
    void oneCommandPerUnmapIsQuiet() {
      Probe p = new Probe(new InvalidationCostMonitor(1)).on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1),
          new IommuEvent.InvalidationPosted(1, "range", 8, 1, 1, null)).on("iommu0", cleared("b", "destroy", 16, 0, 4096, 16, 1),
          new IommuEvent.InvalidationPosted(2, "range", 16, 1, 1, null));
      assertTrue(p.violations().isEmpty());
    }
  }

  @Test
  void violationsNameTheStepActorsAndCausalChain() {
    MonitorSuite suite = new MonitorSuite(List.of(new SyncBeforeUseMonitor(true)), new RunStats(new TranslationMonitor()));
    dmasim.protocol.EnvelopeId first = new dmasim.protocol.EnvelopeId("cpu0", 1);
    suite.observe(1, new dmasim.protocol.Envelope(first, "iommu0", new dmasim.protocol.CpuCommand.Start(), 0, 0, null, 0, 0),
        List.of(link("cpu0/s", 8, 0, 4096, 8, 100, 1)));
    dmasim.protocol.EnvelopeId second = new dmasim.protocol.EnvelopeId("dev0", 1);
    suite.observe(2, new dmasim.protocol.Envelope(second, "iommu0", new dmasim.protocol.CpuCommand.Start(), 5, 5, first, 5, 0),
        List.of(access(8, 100, false, "walk", false)));
    Violation v = suite.violations().get(0);
    assertEquals("SyncBeforeUse", v.monitor());
    assertEquals(2, v.step());
    assertEquals(List.of("iommu0", "dev0"), v.actors());
    assertEquals(2, v.chain().size());
    assertTrue(v.chain().get(0).contains("cpu0#1") && v.chain().get(1).contains("dev0#1"), v.chain().toString());
  }
}
