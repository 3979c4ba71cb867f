package dmasim.actors.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
  static final DeviceId DEV1 = new DeviceId(1);
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
      assertEquals(List.of("IovaSpace I1 @2"), p.verdict());
      assertEquals("IOVA pages [12+4) handed to cpu1/b overlap a range still live for cpu0/a", p.message(0));
    }

    @Test
    void doubleFreeFires() {
      Probe p = new Probe(new IovaSpaceMonitor()).on("iommu0", alloc("cpu0/a", 8, 8, 4096),
          new IommuEvent.IovaFreed(DEV, "cpu0/a", 8, 8, "free"), new IommuEvent.IovaFreed(DEV, "cpu0/a", 8, 8, "free"));
      assertEquals(List.of("IovaSpace I1 @1"), p.verdict());
      assertEquals("IOVA pfn 8 freed (free) but it is not allocated: double free", p.message(0));
    }

    @Test
    void twoAttachesInitialisingTheDomainAtOnceFire() {
      Probe p = new Probe(new IovaSpaceMonitor()).on("iommu0", new IommuEvent.DomainInitStarted(1, DEV, "cpu0/attach:dev0", false))
          .on("iommu0", new IommuEvent.DomainInitStarted(2, DEV1, "cpu1/attach:dev1", false));
      assertEquals(List.of("IovaSpace I21 @2"), p.verdict());
      assertEquals("the IOVA domain is initialised twice concurrently: cpu1/attach:dev1 runs init_iova_domain while cpu0/attach:dev0 is still"
          + " initialising it; both saw start_pfn == 0 in iommu_dma_init_domain (no cookie->mutex: the race fixed by ac9a5d522bb8), so the"
          + " rbtree is reinitialised under the other insertion and corrupted (the crash in rb_insert_color from init_iova_domain)", p.message(0));
    }

    @Test
    void theSecondInitialisationLandingOverLiveRangesFiresAgain() {
      Probe p = new Probe(new IovaSpaceMonitor()).on("iommu0", new IommuEvent.DomainInitStarted(1, DEV, "cpu0/attach:dev0", false))
          .on("iommu0", new IommuEvent.DomainInitStarted(2, DEV1, "cpu1/attach:dev1", false))
          .on("iommu0", new IommuEvent.DomainInitialised(1, DEV, "cpu0/attach:dev0"),
              new IommuEvent.DeviceAttached(DEV, "cpu0/attach:dev0", "initialised the IOVA domain (init_iova_domain)"))
          .on("iommu0", alloc("cpu0/h.0", 0xfffff, 1, 4096))
          .on("iommu0", new IommuEvent.DomainInitialised(2, DEV1, "cpu1/attach:dev1"));
      assertEquals(List.of("IovaSpace I21 @2", "IovaSpace I21 @5"), p.verdict());
      assertEquals("the IOVA domain is re-initialised while in use: cpu1/attach:dev1 completes init_iova_domain over the domain"
          + " cpu0/attach:dev0 already initialised, with 1 range(s) still allocated (first: pfn 1048575 of cpu0/h.0): the rbtree is reset to"
          + " its anchor node under them and corrupted (the crash in rb_insert_color from init_iova_domain; iommu_dma_init_domain without"
          + " cookie->mutex, fixed by ac9a5d522bb8)", p.message(1));
    }

    @Test
    void aSecondAttachThatWaitedForTheMutexIsQuiet() {
      Probe p = new Probe(new IovaSpaceMonitor()).on("iommu0", new IommuEvent.DomainInitStarted(1, DEV, "cpu0/attach:dev0", true))
          .on("iommu0", new IommuEvent.AttachWaiting(DEV1, "cpu1/attach:dev1", "cpu0/attach:dev0"))
          .on("iommu0", new IommuEvent.DomainInitialised(1, DEV, "cpu0/attach:dev0"),
              new IommuEvent.DeviceAttached(DEV, "cpu0/attach:dev0", "initialised the IOVA domain (init_iova_domain)"),
              new IommuEvent.DeviceAttached(DEV1, "cpu1/attach:dev1", "start_pfn already set once cookie->mutex was released"))
          .on("iommu0", alloc("cpu0/h.0", 0xfffff, 1, 4096)).on("iommu0", alloc("cpu1/h.0", 0xffffe, 1, 4096)).end();
      assertEquals(List.of(), p.verdict());
    }

    @Test
    void allocateQueueFreeReuseIsQuiet() {
      Probe p = new Probe(new IovaSpaceMonitor()).on("iommu0", alloc("cpu0/a", 8, 8, 4096))
          .on("iommu0", new IommuEvent.FlushQueued(0, "cpu0/a", 8, 8, 0, List.of()))
          .on("iommu0", new IommuEvent.IovaFreed(null, "cpu0/a", 8, 8, "flush-queue")).on("iommu0", alloc("cpu1/b", 8, 8, 4096));
      assertEquals(List.of(), p.verdict());
    }
  }

  @Nested
  class FlushQueue {
    @Test
    void entryFreedBeforeItsFlushCompletedFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.FlushQueued(0, "cpu0/a", 8, 1, 0, List.of()))
          .on("iommu0", new IommuEvent.FlushStarted(1, "timer"))
          .on("iommu0", new IommuEvent.FlushQueueEntryFreed(0, "cpu0/a", 8, 1, 0, 0));
      assertEquals(List.of("FlushQueue I2 @3"), p.verdict());
      assertEquals("IOVA pfn 8 of cpu0/a left flush queue 0 with counter 0 but only 0 flushes completed: the device may still hold its translation",
          p.message(0));
    }

    @Test
    void entryFreedByAFlushThatStartedBeforeItsClearLandedFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.FlushQueued(0, "cpu0/a", 8, 1, 0, List.of()))
          .on("iommu0", new IommuEvent.FlushStarted(1, "timer"))
          .on("iommu0", new IommuEvent.PteClearVisible(8, 1, 1))
          .on("iommu0", new IommuEvent.FlushFinished(1), new IommuEvent.FlushQueueEntryFreed(0, "cpu0/a", 8, 1, 0, 1));
      assertEquals(List.of("FlushQueue I2 @4"), p.verdict());
      assertEquals("IOVA pfn 8 of cpu0/a left the flush queue after 1 flushes, but its PTE clear reached the IOMMU only after flush 1 had started:"
          + " no flush started after the clear has completed (missing smp_mb in queue_iova, R1)", p.message(0));
    }

    @Test
    void entryFreedByAFlushThatStartedAfterItsClearLandedIsQuiet() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.PteClearVisible(8, 1, 0))
          .on("iommu0", new IommuEvent.FlushQueued(0, "cpu0/a", 8, 1, 0, List.of()))
          .on("iommu0", new IommuEvent.FlushStarted(1, "timer"))
          .on("iommu0", new IommuEvent.FlushFinished(1), new IommuEvent.FlushQueueEntryFreed(0, "cpu0/a", 8, 1, 0, 1));
      assertEquals(List.of(), p.verdict());
    }

    @Test
    void staleCounterReadFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.FlushStarted(1, "timer"))
          .on("iommu0", new IommuEvent.FlushQueued(0, "cpu0/a", 8, 1, 0, List.of()));
      assertEquals(List.of("FlushQueue I2 @2"), p.verdict());
      assertEquals("IOVA pfn 8 queued with counter 0 but fq_flush_start_cnt is 1: the counter was read before the PTE clear was visible"
          + " (missing smp_mb in queue_iova)", p.message(0));
    }

    @Test
    void finishBeyondStartFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.FlushFinished(1));
      assertEquals(List.of("FlushQueue I4 @1"), p.verdict());
      assertEquals("fq_flush_finish_cnt became 1 with start_cnt 0 (was 0)", p.message(0));
    }

    @Test
    void overfullRingFires() {
      Probe p = new Probe(new FlushQueueMonitor(2)).on("iommu0", new IommuEvent.FlushQueued(0, "a", 8, 1, 0, List.of()))
          .on("iommu0", new IommuEvent.FlushQueued(0, "b", 16, 1, 0, List.of()));
      assertEquals(List.of("FlushQueue I5 @2"), p.verdict());
      assertEquals("flush queue 0 holds more than fq_size - 1 = 1 entries", p.message(0));
    }

    @Test
    void pageTableFreedBeforeInvalidationFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1)).on("iommu0", new IommuEvent.PageTablesFreed(List.of(0L), "x"));
      assertEquals(List.of("FlushQueue I3 @3"), p.verdict());
      assertEquals("page-table page for IOVA leaf 0 freed before an invalidation covering it completed: the IOMMU walk cache may still point into it",
          p.message(0));
    }

    @Test
    void timerAfterTeardownFires() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", new IommuEvent.DomainTornDown(false, 1))
          .on("iommu0", new IommuEvent.FlushTimerFired());
      assertEquals(List.of("FlushQueue I6 @2"), p.verdict());
      assertEquals("flush-queue timer ran after the domain was torn down (fq_flush_timeout on freed rings: use after free)", p.message(0));
    }

    @Test
    void queueFlushFreeInOrderIsQuiet() {
      Probe p = new Probe(new FlushQueueMonitor(256)).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1), new IommuEvent.FlushQueued(0, "a", 8, 1, 0, List.of(0L)))
          .on("iommu0", new IommuEvent.FlushStarted(1, "timer"), new IommuEvent.InvalidationPosted(1, "all", 0, 0, 1, null))
          .on("iommu0", new IommuEvent.InvalidationCompleted(1, "all", 0, 0, 1), new IommuEvent.FlushFinished(1),
              new IommuEvent.FlushQueueEntryFreed(0, "a", 8, 1, 0, 1), new IommuEvent.PageTablesFreed(List.of(0L), "fq"));
      assertEquals(List.of(), p.verdict());
    }
  }

  @Nested
  class Translation {
    @Test
    void strictUnmapReturningWithIotlbEntryFires() {
      Probe p = new Probe(new TranslationMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", new IommuEvent.IotlbFilled(8, 100, RW, true)).on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1))
          .on("iommu0", returned("destroy", 8, 1, false));
      assertEquals(List.of("Translation I7 @4"), p.verdict());
      assertEquals("destroy of cpu0/s returned while the IOTLB still holds IOVA pfn 8", p.message(0));
    }

    @Test
    void staleTranslationAliasingANewMappingFires() {
      Probe p = new Probe(new TranslationMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1)).on("iommu0", returned("destroy", 8, 1, true))
          .on("iommu0", link("b", 8, 0, 4096, 8, 200, 1)).on("iommu0", access(8, 100, false, "iotlb", true));
      assertEquals(List.of("Translation I8 @5"), p.verdict());
      assertEquals("device0 reached phys pfn 100 through a stale iotlb translation of 0x8000, which now maps phys pfn 200:"
          + " the IOVA was reused before the flush", p.message(0));
    }

    @Test
    void lazyWindowAccessIsAnExposureNotAViolation() {
      TranslationMonitor t = new TranslationMonitor();
      Probe p = new Probe(t).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1)).on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1))
          .at(1000).on("iommu0", returned("destroy", 8, 1, true)).at(5000).on("iommu0", access(8, 100, false, "iotlb", true));
      assertEquals(List.of(), p.verdict());
      assertEquals(1, t.exposures());
      assertEquals(4000, t.maxExposureWindow());
    }

    @Test
    void atcInvalidationBeforeIotlbCompletionFires() {
      Probe p = new Probe(new TranslationMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", cleared("a", "unlink", 8, 0, 4096, 8, 1)).on("iommu0", new IommuEvent.InvalidationPosted(1, "atc", 8, 1, 1, null));
      assertEquals(List.of("Translation I10 @3"), p.verdict());
      assertEquals("ATC invalidation posted for IOVA pfn 8 before the IOTLB invalidation of that range completed:"
          + " the device can refill its ATC from the stale IOTLB entry", p.message(0));
    }

    @Test
    void wrongDirectionFaultFires() {
      Probe p = new Probe(new TranslationMonitor())
          .on("iommu0", new IommuEvent.DmaFaulted(DEV, 1, new Iova(0x8000), true, "write to read-only mapping", false));
      assertEquals(List.of("Translation I11 @1"), p.verdict());
      assertEquals("device0 faulted on 0x8000: write to read-only mapping - the driver mapped the buffer with the wrong DMA direction", p.message(0));
    }

    @Test
    void accessesThroughLiveMappingsAreQuiet() {
      Probe p = new Probe(new TranslationMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", access(8, 100, true, "walk", false)).on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1))
          .on("iommu0", new IommuEvent.InvalidationCompleted(1, "range", 8, 1, 1)).on("iommu0", returned("destroy", 8, 1, false));
      assertEquals(List.of(), p.verdict());
    }
  }

  @Nested
  class SyncBeforeUse {
    @Test
    void accessBeforeSyncFires() {
      Probe p = new Probe(new SyncBeforeUseMonitor(true)).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", access(8, 100, false, "walk", false));
      assertEquals(List.of("SyncBeforeUse I9 @2"), p.verdict());
      assertEquals("device0 accessed IOVA pfn 8 mapped at step 1 but never made visible (dma_iova_sync / iotlb_sync_map):"
          + " this caching-mode IOMMU may still hold a not-present entry for it", p.message(0));
    }

    @Test
    void aClassicMapWithoutFlushAfterAttachingACachingIommuFires() {
      RangeLinked map = new RangeLinked(DEV, "cpu0/h.0", "map_phys", 8, 0, 4096, 8, 100, 1, RW, Direction.TO_DEVICE);
      Probe p = new Probe(new SyncBeforeUseMonitor(false)).on("iommu0", new IommuEvent.IommuAttached(true)).on("iommu0", map)
          .on("iommu0", access(8, 100, false, "walk", false));
      assertEquals(List.of("SyncBeforeUse I9 @3"), p.verdict());
      assertEquals("device0 accessed IOVA pfn 8 mapped at step 2 but never made visible (dma_iova_sync / iotlb_sync_map):"
          + " this caching-mode IOMMU may still hold a not-present entry for it", p.message(0));
    }

    @Test
    void aClassicMapWithoutCachingIsQuiet() {
      RangeLinked map = new RangeLinked(DEV, "cpu0/h.0", "map_phys", 8, 0, 4096, 8, 100, 1, RW, Direction.TO_DEVICE);
      Probe p = new Probe(new SyncBeforeUseMonitor(false)).on("iommu0", map).on("iommu0", access(8, 100, false, "walk", false));
      assertEquals(List.of(), p.verdict());
    }

    @Test
    void accessAfterSyncIsQuiet() {
      Probe p = new Probe(new SyncBeforeUseMonitor(true)).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", new IommuEvent.RangeSynced(DEV, "a", "sync", 8, 1, true, Errno.OK)).on("iommu0", access(8, 100, false, "walk", false));
      assertEquals(List.of(), p.verdict());
    }
  }

  @Nested
  class IovaApi {
    @Test
    void freeWithLiveLinksFires() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 16384)).on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", new IommuEvent.IovaFreed(DEV, "cpu0/s", 8, 4, "free")).end();
      assertEquals(List.of("IovaApiUsage I14 @3"), p.verdict());
      assertEquals("dma_iova_free on cpu0/s with 1 range(s) still linked: the IOVA can be handed out again while its PTEs still point at the old pages",
          p.message(0));
    }

    @Test
    void doubleUnlinkFires() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 16384)).on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", cleared("cpu0/s", "unlink", 8, 0, 4096, 8, 1)).on("iommu0", cleared("cpu0/s", "unlink", 8, 0, 4096, 8, 1));
      assertEquals(List.of("IovaApiUsage I14 @4"), p.verdict());
      assertEquals("dma_iova_unlink of cpu0/s [0, 4096) that is not linked (double unlink or never linked): linked are {}", p.message(0));
    }

    @Test
    void destroyLengthMismatchFires() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 16384))
          .on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1), link("cpu0/s", 8, 4096, 4096, 9, 101, 1))
          .on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 4096, 8, 1));
      assertEquals(List.of("IovaApiUsage I14 @3"), p.verdict());
      assertEquals("dma_iova_destroy(mapped_len=4096) on cpu0/s but the linked ranges are {[0, 8192)}: destroy must cover exactly [0, mapped_len); [4096, 8192) is not unmapped (the unmap stops at mapped_len or at the first hole) and stays mapped in the freed IOVA",
          p.message(0));
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
      assertEquals("dma_iova_unlink of cpu0/s [8192, 16384) that is not linked (double unlink or never linked):"
          + " linked are {[0, 4096), [12288, 16384)}", p.message(0));
    }

    @Test
    void anUnlinkWhoseGranulesHoldAnotherLinksBytesFires() {
      // B7's old unwind: dma_iova_unlink(state, 0, 0) on a state whose data starts 512 bytes into
      // the granule clears that whole granule, which holds the first link's [0, 3584).
      Probe p = new Probe(new IovaApiMonitor())
          .on("iommu0", new IommuEvent.IovaAllocated(DEV, "cpu0/s", "try_alloc", 8, 2, 7680, new Iova((8L << 12) + 512)))
          .on("iommu0", link("cpu0/s", 8, 0, 3584, 8, 100, 1)).on("iommu0", cleared("cpu0/s", "unlink", 8, 0, 0, 8, 1));
      assertEquals(List.of("IovaApiUsage I14 @3"), p.verdict());
      assertEquals("dma_iova_unlink of cpu0/s [0, 0) clears IOVA pfn 8+1, which also maps [0, 3584), linked and not part of"
          + " this unlink: its PTEs are torn out while the driver still counts it as linked (unlink whole granules only)", p.message(0));
    }

    @Test
    void destroyAfterUnlinkingTheMiddleFires() {
      Probe p = fourLinks().on("iommu0", cleared("cpu0/s", "unlink", 8, 4096, 8192, 9, 2))
          .on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 16384, 8, 4));
      assertEquals(List.of("IovaApiUsage I14 @7"), p.verdict());
      assertEquals("dma_iova_destroy(mapped_len=16384) on cpu0/s but the linked ranges are {[0, 4096), [12288, 16384)}:"
          + " destroy must cover exactly [0, mapped_len)", p.message(0));
    }

    @Test
    void staleStateLinkFires() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", link("cpu0/s", -1, 0, 4096, 8, 100, 1)).end();
      assertEquals(List.of("IovaApiUsage I15 @1"), p.verdict());
      assertEquals("dma_iova_link through cpu0/s into IOVA pfn 8 that is not allocated: stale or failed dma_iova_state", p.message(0));
    }

    @Test
    void leakAtRunEndFires() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 16384)).end();
      assertEquals(List.of("IovaApiUsage I12 @1"), p.verdict());
      assertEquals("the IOVA of cpu0/s (pfn 8) was never destroyed or freed", p.message(0));
    }

    @Test
    void allocLinkDestroyIsQuiet() {
      Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 4, 8192))
          .on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1), link("cpu0/s", 8, 4096, 4096, 9, 101, 1))
          .on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 8192, 8, 2)).on("iommu0", new IommuEvent.IovaFreed(DEV, "cpu0/s", 8, 4, "strict"))
          .end();
      assertEquals(List.of(), p.verdict());
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
          .on("iommu0", unmap(0x8000, 4096, Direction.TO_DEVICE)).on("iommu0", unmap(0x8000, 4096, Direction.TO_DEVICE)).end();
      assertEquals(List.of("DmaApiDebug DMA-debug 2 @4"), p.verdict());
      assertEquals("cpu0/h.0 tries to free DMA memory it has not allocated: 0x8000 (double unmap?)", p.message(0));
    }

    @Test
    void sizeDirectionAndUncheckedMistakesFire() {
      // Checked first, so that the wrong size is the unmap's only mistake.
      Probe size = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE)).on("cpu0", checked(0x8000))
          .on("iommu0", unmap(0x8000, 512, Direction.TO_DEVICE)).end();
      assertEquals(List.of("DmaApiDebug DMA-debug 3 @3"), size.verdict());
      assertEquals("unmap of 0x8000 with size 512 but it was mapped with size 4096", size.message(0));
      Probe direction = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("cpu0", checked(0x8000)).on("iommu0", unmap(0x8000, 4096, Direction.FROM_DEVICE)).end();
      assertEquals(List.of("DmaApiDebug DMA-debug 7 @3"), direction.verdict());
      assertEquals("unmap of 0x8000 with direction FROM_DEVICE but it was mapped TO_DEVICE", direction.message(0));
      Probe unchecked = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("iommu0", unmap(0x8000, 4096, Direction.TO_DEVICE)).end();
      assertEquals(List.of("DmaApiDebug DMA-debug 8 @2"), unchecked.verdict());
      assertEquals("DMA address 0x8000 of cpu0/h.0 unmapped without ever being checked with dma_mapping_error", unchecked.message(0));
      // check_unmap reports every mistake of one unmap, not just the first.
      Probe several = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("iommu0", unmap(0x8000, 512, Direction.FROM_DEVICE)).end();
      assertEquals(List.of("DmaApiDebug DMA-debug 3 @2", "DmaApiDebug DMA-debug 7 @2", "DmaApiDebug DMA-debug 8 @2"), several.verdict());
      Probe invalid = new Probe(new DmaApiDebugMonitor()).on("iommu0", unmap(-1, 4096, Direction.TO_DEVICE)).end();
      assertEquals(List.of("DmaApiDebug DMA-debug 1 @1"), invalid.verdict());
      assertEquals("cpu0/h.0 tries to free an invalid DMA memory address (DMA_MAPPING_ERROR)", invalid.message(0));
    }

    @Test
    void useBeforeMappingErrorCheckFires() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("cpu0", new CpuEvent.DescriptorSubmitted(0, "dev0", 1, List.of(new DmaSegment(new Iova(0x8000), 4096)), false, "handles:h"));
      assertEquals(List.of("DmaApiDebug I13 @2"), p.verdict());
      assertEquals("handle 0x8000 of cpu0/h.0 given to dev0 without checking dma_mapping_error", p.message(0));
    }

    static IommuEvent.SyncPerformed sync(long addr, long size, Direction dir, boolean forCpu) {
      return new IommuEvent.SyncPerformed(DEV, "cpu0/h.0", "sync_single", new Iova(addr), size, dir, forCpu, 1, true);
    }

    @Test
    void syncOutsideEveryMappingOrPastItsEndIsNotAllocated() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("iommu0", sync(0x9000, 4096, Direction.TO_DEVICE, false)).on("iommu0", sync(0x8800, 4096, Direction.TO_DEVICE, false));
      assertEquals(List.of("DmaApiDebug DMA-debug 13 @2", "DmaApiDebug DMA-debug 13 @3"), p.verdict());
      assertEquals("cpu0/h.0 syncs DMA memory 0x9000+4096: \"device driver tries to sync DMA memory it has not allocated\"", p.message(0));
      assertEquals("cpu0/h.0 syncs DMA memory 0x8800+4096, which runs past the end of its mapping (4096 bytes at 0x8000):"
          + " \"device driver tries to sync DMA memory it has not allocated\"", p.message(1));
    }

    @Test
    void syncForCpuInTheOppositeDirectionOfAToDeviceMappingReportsDirectionAndReadOnly() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.TO_DEVICE))
          .on("iommu0", sync(0x8000, 4096, Direction.FROM_DEVICE, true));
      assertEquals(List.of("DmaApiDebug DMA-debug 15 @2", "DmaApiDebug DMA-debug 16 @2"), p.verdict());
      assertEquals("sync_single_for_cpu(FROM_DEVICE) of 0x8000 on a mapping made TO_DEVICE: different direction", p.message(0));
      assertEquals("sync_single_for_cpu(FROM_DEVICE) of 0x8000, mapped TO_DEVICE: syncs device read-only DMA memory for the CPU", p.message(1));
    }

    @Test
    void syncForDeviceToDeviceOfAFromDeviceMappingReportsDirectionAndWriteOnly() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.FROM_DEVICE))
          .on("iommu0", sync(0x8000, 4096, Direction.TO_DEVICE, false));
      assertEquals(List.of("DmaApiDebug DMA-debug 15 @2", "DmaApiDebug DMA-debug 17 @2"), p.verdict());
      assertEquals("sync_single_for_device(TO_DEVICE) of 0x8000 on a mapping made FROM_DEVICE: different direction", p.message(0));
      assertEquals("sync_single_for_device(TO_DEVICE) of 0x8000, mapped FROM_DEVICE: syncs device write-only DMA memory to the device", p.message(1));
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
      assertEquals(List.of("DmaApiDebug DMA-debug 23 @2"), p.verdict());
      assertEquals("driver unbind of device0 with 1 DMA mapping(s) pending, e.g. cpu0/h.0 (phys, 4096 bytes, TO_DEVICE)", p.message(0));
    }

    @Test
    void mapCheckSyncUnmapIsQuiet() {
      Probe p = new Probe(new DmaApiDebugMonitor()).on("iommu0", map(0x8000, 4096, Direction.FROM_DEVICE)).on("cpu0", checked(0x8000))
          .on("iommu0", new IommuEvent.SyncPerformed(DEV, "cpu0/h", "sync_single", new Iova(0x8000), 4096, Direction.FROM_DEVICE, true, 1, true))
          .on("iommu0", unmap(0x8000, 4096, Direction.FROM_DEVICE)).on("cpu0", new CpuEvent.DriverUnbound(DEV, 0)).end();
      assertEquals(List.of(), p.verdict());
    }
  }

  @Nested
  class CpuDeviceOwnership {
    @Test
    void cpuReadOfDeviceDataWithoutSyncFires() {
      Probe p = new Probe(new CpuDeviceOwnershipMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("iommu0", access(8, 100, true, "walk", false)).on("cpu0", new CpuEvent.BufferTouched("buf", List.of(100L), false, 0));
      assertEquals(List.of("CpuDeviceOwnership I16 @3"), p.verdict());
      assertEquals("cpu0 read buffer buf (phys pfn 100) the device wrote at step 2 while it is still mapped and without dma_sync_*_for_cpu",
          p.message(0));
    }

    @Test
    void deviceReadOfCpuDataWrittenAfterMapFires() {
      Probe p = new Probe(new CpuDeviceOwnershipMonitor()).on("iommu0", link("a", 8, 0, 4096, 8, 100, 1))
          .on("cpu0", new CpuEvent.BufferTouched("buf", List.of(100L), true, 0)).on("iommu0", access(8, 100, false, "walk", false));
      assertEquals(List.of("CpuDeviceOwnership I16 @3"), p.verdict());
      assertEquals("device0 read phys pfn 100 that the CPU wrote at step 2 after mapping, without dma_sync_*_for_device", p.message(0));
    }

    @Test
    void writeMapDeviceReadAndUnmapThenCpuReadIsQuiet() {
      Probe p = new Probe(new CpuDeviceOwnershipMonitor()).on("cpu0", new CpuEvent.BufferTouched("buf", List.of(100L), true, 0))
          .on("iommu0", link("a", 8, 0, 4096, 8, 100, 1)).on("iommu0", access(8, 100, true, "walk", false))
          .on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1)).on("cpu0", new CpuEvent.BufferTouched("buf", List.of(100L), false, 0));
      assertEquals(List.of(), p.verdict());
    }
  }

  @Nested
  class MemorySafety {
    @Test
    void dmaIntoAFreedPageFires() {
      Probe p = new Probe(new MemorySafetyMonitor()).on("mem", new MemoryEvent.PagesAllocated("cpu0/buf", List.of(100L)))
          .on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1)).on("mem", new MemoryEvent.PagesFreed("cpu0/buf", List.of(100L)))
          .on("iommu0", access(8, 100, true, "iotlb", false));
      assertEquals(List.of("MemorySafety MEM @3", "MemorySafety MEM @4"), p.verdict());
      assertEquals("cpu0/buf freed phys pfn 100 while a DMA mapping still points at it: unmap (or free the coherent buffer) before freeing"
          + " the pages, or the device writes into their next owner", p.message(0));
      assertEquals("device0 DMA wrote freed phys pfn 100 through 0x8000 (use after free)", p.message(1));
    }

    @Test
    void dmaIntoAnOwnedPageIsQuiet() {
      Probe p = new Probe(new MemorySafetyMonitor()).on("mem", new MemoryEvent.PagesAllocated("cpu0/buf", List.of(100L)))
          .on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1)).on("iommu0", access(8, 100, true, "walk", false))
          .on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 4096, 8, 1)).on("mem", new MemoryEvent.PagesFreed("cpu0/buf", List.of(100L)));
      assertEquals(List.of(), p.verdict());
    }
  }

  @Nested
  class Termination {
    @Test
    void aProgramStillWaitingAtTheEndFires() {
      Probe p = new Probe(new TerminationMonitor()).on("cpu0", new CpuEvent.ProgramStarted("p"))
          .on("cpu0", new CpuEvent.CallIssued(3, "await", "tag 1", "device")).end();
      assertEquals(List.of("Termination LIVENESS @2"), p.verdict());
      assertEquals("cpu0 never finished its program: it still waits for await of tag 1 (pc 3)", p.message(0));
    }

    @Test
    void aFinishedProgramIsQuiet() {
      Probe p = new Probe(new TerminationMonitor()).on("cpu0", new CpuEvent.ProgramStarted("p")).on("cpu0", new CpuEvent.ProgramEnded(1)).end();
      assertEquals(List.of(), p.verdict());
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
      Probe p = new Probe(new MemoryTypeMonitor(regions)).on("iommu0", linkOf(0x100000, Prot.READ | Prot.CACHE));
      assertEquals(List.of("MemoryType MEMTYPE @1"), p.verdict());
      assertEquals("cpu0/h.0 mapped MMIO region bar (no struct page) without DMA_ATTR_MMIO: the DMA API would do CPU cache maintenance"
          + " and swiotlb bouncing on a BAR", p.message(0));
    }

    @Test
    void aBusAddressPeerReachedThroughTheIommuFires() {
      Probe p = new Probe(new MemoryTypeMonitor(regions)).on("iommu0", access(8, 0x200001, true, "walk", false));
      assertEquals(List.of("MemoryType P2P @1"), p.verdict());
      assertEquals("device0 reached P2P region peer through the IOMMU at 0x8000, but the path is a PCIe switch without ACS redirect:"
          + " the switch routes that IOVA as a bus address (map with pci_p2pdma_bus_addr_map)", p.message(0));
    }

    @Test
    void mmioWithTheAttributeAndPeerAccessesByBusAddressAreQuiet() {
      Probe p = new Probe(new MemoryTypeMonitor(regions)).on("iommu0", linkOf(0x100000, Prot.READ | Prot.MMIO))
          .on("dev0", new DeviceEvent.PeerAccessed(DEV, 1, new Iova((0x200001L + 0x100) << 12), true))
          .on("iommu0", access(8, 0x100000, false, "walk", false));
      assertEquals(List.of(), p.verdict());
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
      Probe p = leakOrNot(false);
      assertEquals(List.of("InfoLeak B9 @7"), p.verdict());
      assertEquals("swiotlb copied data of cpu0/buf#1 back into cpu1/rbuf#1 (phys pfn 200): the FROM_DEVICE bounce slot was not filled from"
          + " the buffer at map time and the device wrote only part of it - an information leak", p.message(0));
    }

    @Test
    void aSlotFilledFromTheBufferIsQuiet() {
      assertEquals(List.of(), leakOrNot(true).verdict());
    }
  }

  @Nested
  class InvalidationCost {
    @Test
    void moreCommandsThanTheBudgetForOneUnmapFires() {
      Probe p = new Probe(new InvalidationCostMonitor(1)).on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1),
          new IommuEvent.InvalidationPosted(1, "range", 8, 1, 1, null), new IommuEvent.InvalidationPosted(2, "range", 9, 1, 1, null));
      assertEquals(List.of("InvalidationCost COST @1"), p.verdict());
      assertEquals("one unmap issued 2 IOTLB invalidation commands, more than the budget of 1 (each is a VM exit on a virtualised IOMMU)",
          p.message(0));
    }

    @Test
    void oneCommandPerUnmapIsQuiet() {
      Probe p = new Probe(new InvalidationCostMonitor(1)).on("iommu0", cleared("a", "destroy", 8, 0, 4096, 8, 1),
          new IommuEvent.InvalidationPosted(1, "range", 8, 1, 1, null)).on("iommu0", cleared("b", "destroy", 16, 0, 4096, 16, 1),
          new IommuEvent.InvalidationPosted(2, "range", 16, 1, 1, null));
      assertEquals(List.of(), p.verdict());
    }
  }

  @Test
  void aViolationExplainsItselfByTheStepsThatTouchedItsObjects() {
    Probe p = new Probe(new IovaApiMonitor()).on("iommu0", alloc("cpu0/s", 8, 1, 4096)).on("iommu0", alloc("cpu1/t", 16, 1, 4096))
        .on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1)).on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 4096, 8, 1),
            new IommuEvent.IovaFreed(DEV, "cpu0/s", 8, 1, "strict"))
        .on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 101, 1));
    assertEquals(List.of("IovaApiUsage I15 @5"), p.verdict());
    Violation v = p.violations().get(0);
    assertEquals(List.of("cpu0/s"), v.about());
    assertEquals(List.of("step 1 @0ns x#1 -> iommu0 Start", "step 3 @0ns x#3 -> iommu0 Start", "step 4 @0ns x#4 -> iommu0 Start",
        "step 5 @0ns x#5 -> iommu0 Start"), v.causes(), "cpu1/t's allocation at step 2 is not a cause");
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
    assertEquals(List.of(new Violation("SyncBeforeUse", "I9", 2, 5, List.of("iommu0", "dev0"),
        List.of("step 1 @0ns cpu0#1 -> iommu0 Start", "step 2 @5ns dev0#1 -> iommu0 Start"),
        "device0 accessed IOVA pfn 8 mapped at step 1 but never made visible (dma_iova_sync / iotlb_sync_map):"
            + " this caching-mode IOMMU may still hold a not-present entry for it")), suite.violations());
  }
}
