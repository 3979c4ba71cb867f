package dmasim.actors.iommu;

import static dmasim.actors.iommu.IommuHarness.DEV;
import static dmasim.actors.iommu.IommuHarness.returned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dmasim.actors.model.Decision;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.Errno;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Phys;
import java.util.List;
import org.junit.jupiter.api.Test;

class IommuLogicTest {
  private static final long PAGE = 4096;

  private static long tryAlloc(IommuHarness h, String state, long phys, long size) {
    return returned(h.deliver("cpu0", new IommuCommand.TryAlloc(DEV, state, new Phys(phys), size))).value();
  }

  private static IommuReply.Returned link(IommuHarness h, long addr, long size, long offset, long phys, long len) {
    return returned(h.deliver("cpu0", new IommuCommand.Link(DEV, "s", new Iova(addr), size, offset, new Phys(phys), len,
        Direction.TO_DEVICE, DmaAttrs.NONE)));
  }

  @Test
  void tryAllocReservesIovaWithoutTouchingThePageTable() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    long addr = tryAlloc(h, "s", 0x10000 + 0x200, 3 * PAGE);
    assertEquals(0x200, addr & 0xfff, "state->addr = base + pad(phys)");
    assertTrue(addr < 1L << 32, "32-bit space is tried first");
    assertEquals(0, h.state.pageTable().size());
    assertEquals(4, h.state.allocator().allocatedPages(), "alignup(3 pages + pad) = 4 pages, a power of two");
  }

  @Test
  void tryAllocReturnsFalseForSizeZeroAndOnExhaustion() {
    IommuSettings small = IommuHarness.settings(IommuSettings.Mode.STRICT).withAperture(9, List.of());
    IommuHarness h = new IommuHarness(small);
    assertEquals(0, tryAlloc(h, "a", 0, 0));
    assertNotEquals(0, tryAlloc(h, "b", 0, 4 * PAGE));
    assertNotEquals(0, tryAlloc(h, "c", 0, 2 * PAGE));
    assertEquals(0, tryAlloc(h, "d", 0, 4 * PAGE), "no 4-page aligned block left: false means use the regular API");
    assertEquals("IOVA space exhausted", h.eventsOf(IommuEvent.IovaAllocFailed.class).get(1).reason());
  }

  @Test
  void unalignedNonFirstLinkFailsWithEio() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    long addr = tryAlloc(h, "s", 0, 4 * PAGE);
    assertEquals(Errno.EIO, link(h, addr, 4 * PAGE, PAGE, 0x5000 + 8, PAGE).errno());
    assertEquals(Errno.OK, link(h, addr, 4 * PAGE, 0, 0x5000, PAGE).errno());
    assertEquals(Errno.EEXIST, link(h, addr, 4 * PAGE, 0, 0x6000, PAGE).errno(), "the range is already linked");
  }

  @Test
  void linkWritesPtesWithProtFromDirectionAndNoFlush() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT).withCachingMode(true));
    long addr = tryAlloc(h, "s", 0, 2 * PAGE);
    link(h, addr, 2 * PAGE, 0, 0x7000, 2 * PAGE);
    assertEquals(2, h.state.pageTable().size());
    assertTrue(h.eventsOf(IommuEvent.InvalidationPosted.class).isEmpty(), "dma_iova_link never syncs; dma_iova_sync does");
    Decision sync = h.deliver("cpu0", new IommuCommand.Sync(DEV, "s", new Iova(addr), 0, 2 * PAGE));
    assertNull(returned(sync), "on a caching-mode IOMMU sync waits for the range invalidation");
    h.drainSelf();
    assertTrue(h.eventsOf(IommuEvent.RangeSynced.class).get(0).flushedIotlb());
  }

  @Test
  void unlinkAlwaysSyncsAndKeepsTheIova() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.LAZY));
    long addr = tryAlloc(h, "s", 0, 2 * PAGE);
    link(h, addr, 2 * PAGE, 0, 0x7000, PAGE);
    Decision d = h.deliver("cpu0", new IommuCommand.Unlink(DEV, "s", new Iova(addr), 0, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    assertNull(returned(d), "even in lazy mode dma_iova_unlink waits for the IOTLB sync");
    h.drainSelf();
    assertEquals(1, h.eventsOf(IommuEvent.ApiReturned.class).size());
    assertFalse(h.eventsOf(IommuEvent.ApiReturned.class).get(0).deferred());
    assertTrue(h.eventsOf(IommuEvent.FlushQueued.class).isEmpty());
    assertEquals(2, h.state.allocator().allocatedPages(), "the IOVA stays allocated until dma_iova_free");
  }

  @Test
  void strictDestroyFreesTheIovaOnlyAfterTheInvalidationCompletes() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    long addr = tryAlloc(h, "s", 0, PAGE);
    link(h, addr, PAGE, 0, 0x7000, PAGE);
    Decision d = h.deliver("cpu0", new IommuCommand.Destroy(DEV, "s", new Iova(addr), PAGE, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    assertNull(returned(d));
    assertEquals(1, h.state.allocator().allocatedPages());
    h.drainSelf();
    assertEquals(0, h.state.allocator().allocatedPages());
    assertEquals("strict", h.eventsOf(IommuEvent.IovaFreed.class).get(0).path());
  }

  @Test
  void lazyDestroyReturnsAtOnceAndTheTimerFlushFreesTheIova() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.LAZY));
    long addr = tryAlloc(h, "s", 0, PAGE);
    link(h, addr, PAGE, 0, 0x7000, PAGE);
    Decision d = h.deliver("cpu0", new IommuCommand.Destroy(DEV, "s", new Iova(addr), PAGE, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    assertEquals(Errno.OK, returned(d).errno(), "only dma_iova_destroy uses the flush queue: it returns before any flush");
    assertEquals(0, h.eventsOf(IommuEvent.FlushQueued.class).get(0).counter());
    assertEquals(1, h.state.allocator().allocatedPages(), "the IOVA waits in the flush queue");
    h.drainSelf();
    assertEquals(IommuSettings.DEFAULT_FQ_TIMEOUT + 1_000, h.now, "timer after 10 ms, then one invalidation");
    assertEquals(0, h.state.allocator().allocatedPages());
    assertEquals(1, h.state.finishCnt());
  }

  @Test
  void aFullRingFlushesSynchronouslyBeforeQueueing() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.LAZY).withFlushQueue(4, 1_000_000));
    for (int i = 0; i < 4; i++) {
      long addr = tryAlloc(h, "s" + i, 0, PAGE);
      link(h, addr, PAGE, 0, 0x7000 + i * PAGE, PAGE);
      h.deliver("cpu0", new IommuCommand.Destroy(DEV, "s" + i, new Iova(addr), PAGE, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    }
    assertEquals(3, h.state.rings().get(0).length(), "fq_size 4 holds 3");
    assertEquals("full", h.eventsOf(IommuEvent.FlushStarted.class).get(0).reason());
    assertEquals(3, h.eventsOf(IommuEvent.ApiReturned.class).size(), "the 4th destroy waits for the flush");
  }

  @Test
  void mapPhysFailsWithMappingErrorWhenSpaceIsExhausted() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT).withAperture(2, List.of()));
    Decision ok = h.deliver("cpu0", new IommuCommand.MapPhys(DEV, "h", new Phys(0x9000), PAGE, Direction.FROM_DEVICE, DmaAttrs.NONE));
    assertEquals(PAGE, returned(ok).value());
    Decision fail = h.deliver("cpu0", new IommuCommand.MapPhys(DEV, "h2", new Phys(0xa000), PAGE, Direction.FROM_DEVICE, DmaAttrs.NONE));
    assertEquals(Iova.MAPPING_ERROR.addr(), returned(fail).value());
  }

  @Test
  void unmapOfANeverMappedAddressOnlyWarns() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    Decision d = h.deliver("cpu0", new IommuCommand.UnmapPhys(DEV, "h", new Iova(0x5000), PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    assertEquals(Errno.EINVAL, returned(d).errno());
    assertTrue(h.eventsOf(IommuEvent.PtesCleared.class).isEmpty(), "WARN_ON(!phys) and return");
  }

  @Test
  void deviceTransactionsFillTheIotlbAndFaultOnProt() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    long addr = tryAlloc(h, "s", 0, PAGE);
    link(h, addr, PAGE, 0, 0x7000, PAGE);
    h.deliver("dev0", new IommuCommand.Translate(DEV, 1, new Iova(addr), false, false, false));
    h.deliver("dev0", new IommuCommand.Translate(DEV, 1, new Iova(addr), false, false, false));
    List<IommuEvent.DmaAccessed> acc = h.eventsOf(IommuEvent.DmaAccessed.class);
    assertEquals("walk", acc.get(0).via());
    assertEquals("iotlb", acc.get(1).via());
    h.deliver("dev0", new IommuCommand.Translate(DEV, 1, new Iova(addr), true, false, false));
    assertEquals("write to read-only mapping", h.eventsOf(IommuEvent.DmaFaulted.class).get(0).reason());
  }

  @Test
  void cachingModeCachesNotPresentEntriesUntilAFlush() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT).withCachingMode(true));
    long addr = tryAlloc(h, "s", 0, PAGE);
    h.deliver("dev0", new IommuCommand.Translate(DEV, 1, new Iova(addr), false, true, false));
    link(h, addr, PAGE, 0, 0x7000, PAGE);
    h.deliver("dev0", new IommuCommand.Translate(DEV, 2, new Iova(addr), false, false, false));
    assertTrue(h.eventsOf(IommuEvent.DmaFaulted.class).get(1).reason().startsWith("cached not-present"),
        "linked but not synced: the stale negative entry wins");
    h.deliver("cpu0", new IommuCommand.Sync(DEV, "s", new Iova(addr), 0, PAGE));
    h.drainSelf();
    h.deliver("dev0", new IommuCommand.Translate(DEV, 3, new Iova(addr), false, false, false));
    assertEquals(1, h.eventsOf(IommuEvent.DmaAccessed.class).size(), "after dma_iova_sync the access succeeds");
  }

  @Test
  void atsInvalidatesTheAtcOnlyAfterTheIotlb() {
    IommuSettings ats = IommuSettings.defaults(IommuSettings.Mode.STRICT, 1, java.util.Map.of(DEV, new IommuSettings.DeviceSpec(64, true)));
    IommuHarness h = new IommuHarness(ats);
    long addr = tryAlloc(h, "s", 0, PAGE);
    link(h, addr, PAGE, 0, 0x7000, PAGE);
    h.deliver("cpu0", new IommuCommand.Unlink(DEV, "s", new Iova(addr), 0, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    h.drainSelf();
    List<IommuEvent.InvalidationPosted> posted = h.eventsOf(IommuEvent.InvalidationPosted.class);
    assertEquals(List.of("range", "atc"), posted.stream().map(IommuEvent.InvalidationPosted::scope).toList());
    assertTrue(h.eventsOf(IommuEvent.ApiReturned.class).isEmpty(), "unlink returns only when the device acknowledged");
    h.deliver("dev0", new dmasim.protocol.DeviceReply.AtcInvalidated(posted.get(1).id()));
    assertEquals(1, h.eventsOf(IommuEvent.ApiReturned.class).size());
  }

  @Test
  void withoutTheBarrierTheWalkerSeesTheOldPteUntilTheClearLands() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.LAZY).withFqBarrier(false));
    long addr = tryAlloc(h, "s", 0, PAGE);
    link(h, addr, PAGE, 0, 0x7000, PAGE);
    h.deliver("cpu0", new IommuCommand.Destroy(DEV, "s", new Iova(addr), PAGE, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    assertEquals(0, h.state.pageTable().size(), "the CPU's view is cleared");
    h.deliver("dev0", new IommuCommand.Translate(DEV, 9, new Iova(addr), false, true, false));
    assertEquals(0x7, h.eventsOf(IommuEvent.DmaAccessed.class).get(0).physPfn(), "but the walker still translates to the old page");
    assertEquals(0x7, h.state.walk(addr >>> 12) >>> 8);
    h.deliver("iommu0", new IommuCommand.PteClearLands(addr >>> 12, 1));
    assertEquals(-1, h.state.walk(addr >>> 12), "after the clear lands the walker sees nothing");
    h.deliver("dev0", new IommuCommand.Translate(DEV, 9, new Iova(addr), false, true, false));
    assertEquals("iotlb", h.eventsOf(IommuEvent.DmaAccessed.class).get(1).via(),
        "but the window already refilled the IOTLB from the old PTE: the R1 hazard, until the next flush");
  }

  @Test
  void attachingACachingModeIommuIsRefusedWhenTheFlagIsStatic() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    assertEquals(Errno.EINVAL, returned(h.deliver("cpu1", new IommuCommand.Attach(true))).errno());
    assertTrue(h.eventsOf(IommuEvent.IommuAttached.class).isEmpty());
  }

  @Test
  void withTheFlagSetAtAttachMapsInTheWindowSkipTheFlush() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT).withSyncMapFlagAtAttach(true));
    assertEquals(Errno.OK, returned(h.deliver("cpu1", new IommuCommand.Attach(true))).errno());
    h.deliver("cpu0", new IommuCommand.MapPhys(DEV, "h", new Phys(0x9000), PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    assertTrue(h.eventsOf(IommuEvent.RangeSynced.class).isEmpty(), "the map read the flag before it landed: no flush");
    h.drainSelf();
    assertEquals(1, h.eventsOf(IommuEvent.SyncMapFlagSet.class).size());
    h.deliver("cpu0", new IommuCommand.MapPhys(DEV, "h2", new Phys(0xa000), PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    assertTrue(h.eventsOf(IommuEvent.RangeSynced.class).get(0).flushedIotlb(), "after it landed, maps flush");
  }

  @Test
  void anUnalignedLinkForAnUntrustedDeviceBouncesHeadAndTailAndSkipsAnEmptyMiddle() {
    for (boolean bug : new boolean[] {false, true}) {
      IommuSettings untrusted = IommuSettings.defaults(IommuSettings.Mode.STRICT, 1, java.util.Map.of(DEV, new IommuSettings.DeviceSpec(64, false, true)))
          .withSwiotlbZeroMiddleBug(bug);
      IommuHarness h = new IommuHarness(untrusted);
      long addr = tryAlloc(h, "s", 0x5000 + 512, 2 * PAGE - 512);
      assertEquals(Errno.OK, link(h, addr, 2 * PAGE - 512, 0, 0x5000 + 512, PAGE - 512).errno(), "the unaligned head bounces");
      assertEquals(1, h.eventsOf(IommuEvent.Bounced.class).size());
      IommuReply.Returned second = link(h, addr, 2 * PAGE - 512, PAGE - 512, 0x6000, 1000);
      if (!bug) {
        assertEquals(Errno.OK, second.errno(), "a short non-first link: no middle, the tail bounces");
        assertEquals(2, h.eventsOf(IommuEvent.Bounced.class).size());
        assertEquals(2, h.state.pageTable().size());
      } else {
        assertEquals(Errno.EINVAL, second.errno(), "iommu_map of 0 bytes fails");
        IommuEvent.PtesCleared unwind = h.eventsOf(IommuEvent.PtesCleared.class).get(0);
        assertEquals(0, unwind.offset(), "the old unwind starts at offset 0, not the link's offset");
        assertEquals(0, h.state.pageTable().size(), "and tears out the first link's bounced head");
        assertEquals(1, h.eventsOf(IommuEvent.BounceReleased.class).size());
      }
    }
  }

  @Test
  void noTimerFlushAfterTeardown() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.LAZY));
    long addr = tryAlloc(h, "s", 0, PAGE);
    link(h, addr, PAGE, 0, 0x7000, PAGE);
    h.deliver("cpu0", new IommuCommand.Destroy(DEV, "s", new Iova(addr), PAGE, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    h.deliver("cpu0", new IommuCommand.TearDown());
    h.drainSelf();
    assertTrue(h.eventsOf(IommuEvent.FlushTimerFired.class).isEmpty(), "timer_delete_sync in iommu_dma_free_fq");
    assertEquals(1, h.eventsOf(IommuEvent.DomainTornDown.class).get(0).droppedEntries());
  }
}
