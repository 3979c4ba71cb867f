package dmasim.actors.iommu;

import static dmasim.actors.iommu.IommuHarness.DEV;
import static dmasim.actors.iommu.IommuHarness.expect;
import static dmasim.actors.iommu.IommuHarness.nothingLeft;
import static dmasim.actors.iommu.IommuHarness.returned;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dmasim.actors.model.Decision;
import dmasim.protocol.DeviceCommand;
import dmasim.protocol.DeviceReply;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.Errno;
import dmasim.protocol.Event;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuEvent.ApiReturned;
import dmasim.protocol.IommuEvent.Continuation;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Message;
import dmasim.protocol.Phys;
import dmasim.protocol.Prot;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each decision of IommuLogic as a whole: every event it emits, in order, and every envelope it
 * sends, then that nothing else was emitted, sent or left pending. IOVAs are allocated top-down
 * below 4 GiB first (iommu_dma_alloc_iova), size-aligned: the first page-sized allocation is pfn
 * 0xfffff, the first two-page one 0xffffe, the first four-page one 0xffffc. All of them live in
 * page-table leaf 0xfffff >>> 9 = 2047.
 */
class IommuLogicTest {
  private static final long PAGE = 4096;
  private static final List<Long> LEAF = List.of(2047L);
  private static final Prot READ = Direction.TO_DEVICE.prot(false); // dma_info_to_prot: IOMMU_READ | IOMMU_CACHE
  private static final Prot WRITE = Direction.FROM_DEVICE.prot(false); // IOMMU_WRITE | IOMMU_CACHE
  private static final long LATENCY = 1_000; // the default invalidation latency

  private static long tryAlloc(IommuHarness h, String state, long phys, long size) {
    return returned(h.deliver("cpu0", new IommuCommand.TryAlloc(DEV, state, new Phys(phys), size))).value();
  }

  private static IommuReply.Returned link(IommuHarness h, long addr, long size, long offset, long phys, long len) {
    return returned(h.deliver("cpu0", new IommuCommand.Link(DEV, "s", new Iova(addr), size, offset, new Phys(phys), len,
        Direction.TO_DEVICE, DmaAttrs.NONE)));
  }

  private static IommuEvent.IovaAllocated allocated(String owner, String api, long base, long pages, long size, long addr) {
    return new IommuEvent.IovaAllocated(DEV, owner, api, base, pages, size, new Iova(addr));
  }

  private static IommuEvent.RangeLinked linked(String owner, long allocBase, long offset, long size, long iovaPfn, long physPfn, long pages) {
    return new IommuEvent.RangeLinked(DEV, owner, "link", allocBase, offset, size, iovaPfn, physPfn, pages, READ, Direction.TO_DEVICE);
  }

  /** A piece of a link that went through the swiotlb helper. */
  private static IommuEvent.RangeLinked part(String owner, long allocBase, long offset, long size, long iovaPfn, long physPfn, long pages) {
    return new IommuEvent.RangeLinked(DEV, owner, "link-part", allocBase, offset, size, iovaPfn, physPfn, pages, READ, Direction.TO_DEVICE);
  }

  /** A reply to cpu0. */
  private static Decision.Send toCpu0(String call, String object, int errno, long value) {
    return new Decision.Send("cpu0", new IommuReply.Returned(call, object, errno, value, List.of()), 0);
  }

  private static Decision.Send self(Message m, long delay) {
    return new Decision.Send("iommu0", m, delay);
  }

  /** What cpu0's waiting call does once its invalidation completes. */
  private static Continuation.Reply replyToCpu0(String api, String owner, long addr, long pfn, long pages, long size, Direction dir, int nents,
      long freeBase, long freePages, List<Long> tables) {
    return new Continuation.Reply("cpu0", api, DEV, owner, api, new Iova(addr), pfn, pages, size, dir, nents, freeBase, freePages, tables);
  }

  private static Continuation fqFlush(boolean allRings, int queue, Continuation.Reply waiting) {
    return new Continuation.FqFlush(allRings, queue, waiting);
  }

  private static Continuation next(IommuEvent.Scope scope, Continuation then) {
    return new Continuation.Next(scope, then);
  }




  /** dma_iova_try_alloc of one page and dma_iova_link of phys pfn 7 for it, checked whole. */
  private static long allocAndLinkOnePage(IommuHarness h) {
    long addr = tryAlloc(h, "s", 0, PAGE);
    assertEquals(0xfffff000L, addr);
    expect(h, List.of(allocated("cpu0/s", "try_alloc", 0xfffff, 1, PAGE, addr)), List.of(toCpu0("try_alloc", "s", Errno.OK, addr)));
    link(h, addr, PAGE, 0, 0x7000, PAGE);
    expect(h, List.of(linked("cpu0/s", 0xfffff, 0, PAGE, 0xfffff, 7, 1)), List.of(toCpu0("link", "s", Errno.OK, 0)));
    return addr;
  }

  @Test
  void tryAllocReservesIovaWithoutTouchingThePageTable() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    long addr = tryAlloc(h, "s", 0x10000 + 0x200, 3 * PAGE);
    assertEquals(0xffffc200L, addr, "state->addr = base + pad(phys), below 4 GiB first");
    expect(h, List.of(allocated("cpu0/s", "try_alloc", 0xffffc, 4, 3 * PAGE, 0xffffc200L)),
        List.of(toCpu0("try_alloc", "s", Errno.OK, 0xffffc200L)));
    assertEquals(0, h.state.pageTable().size());
    assertEquals(4, h.state.allocator().allocatedPages(), "alignup(3 pages + pad) = 4 pages, a power of two");
    nothingLeft(h);
  }

  @Test
  void tryAllocReturnsFalseForSizeZeroAndOnExhaustion() {
    IommuSettings small = IommuHarness.settings(IommuSettings.Mode.STRICT).withAperture(9, List.of());
    IommuHarness h = new IommuHarness(small);
    assertEquals(0, tryAlloc(h, "a", 0, 0));
    expect(h, List.of(new IommuEvent.IovaAllocFailed(DEV, "cpu0/a", "try_alloc", 0, "size is 0 or has bit 63 set (WARN)")),
        List.of(toCpu0("try_alloc", "a", Errno.OK, 0)));
    assertEquals(0x4000, tryAlloc(h, "b", 0, 4 * PAGE), "top-down and size-aligned in [1, 9): pfn 4");
    expect(h, List.of(allocated("cpu0/b", "try_alloc", 4, 4, 4 * PAGE, 0x4000)), List.of(toCpu0("try_alloc", "b", Errno.OK, 0x4000)));
    assertEquals(0x2000, tryAlloc(h, "c", 0, 2 * PAGE), "below the cached node: pfn 2");
    expect(h, List.of(allocated("cpu0/c", "try_alloc", 2, 2, 2 * PAGE, 0x2000)), List.of(toCpu0("try_alloc", "c", Errno.OK, 0x2000)));
    assertEquals(0, tryAlloc(h, "d", 0, 4 * PAGE), "no 4-page aligned block left: false means use the regular API");
    expect(h, List.of(new IommuEvent.IovaAllocFailed(DEV, "cpu0/d", "try_alloc", 4 * PAGE, "IOVA space exhausted")),
        List.of(toCpu0("try_alloc", "d", Errno.OK, 0)));
    assertEquals(6, h.state.allocator().allocatedPages());
    nothingLeft(h);
  }

  @Test
  void unalignedNonFirstLinkFailsWithEio() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    long addr = tryAlloc(h, "s", 0, 4 * PAGE);
    assertEquals(0xffffc000L, addr);
    expect(h, List.of(allocated("cpu0/s", "try_alloc", 0xffffc, 4, 4 * PAGE, addr)), List.of(toCpu0("try_alloc", "s", Errno.OK, addr)));
    assertEquals(Errno.EIO, link(h, addr, 4 * PAGE, PAGE, 0x5000 + 8, PAGE).errno());
    expect(h, List.of(new IommuEvent.MapFailed(DEV, "cpu0/s", "link", PAGE, PAGE, Errno.EIO,
        "unaligned phys with offset > 0 (WARN_ON in dma_iova_link)")), List.of(toCpu0("link", "s", Errno.EIO, 0)));
    assertEquals(Errno.OK, link(h, addr, 4 * PAGE, 0, 0x5000, PAGE).errno());
    expect(h, List.of(linked("cpu0/s", 0xffffc, 0, PAGE, 0xffffc, 5, 1)), List.of(toCpu0("link", "s", Errno.OK, 0)));
    assertEquals(Errno.EEXIST, link(h, addr, 4 * PAGE, 0, 0x6000, PAGE).errno(), "the range is already linked");
    expect(h, List.of(new IommuEvent.MapFailed(DEV, "cpu0/s", "link", 0, PAGE, Errno.EEXIST, "PTE already present in [1048572+1)")),
        List.of(toCpu0("link", "s", Errno.EEXIST, 0)));
    assertEquals(1, h.state.pageTable().size());
    nothingLeft(h);
  }

  @Test
  void linkWritesPtesWithProtFromDirectionAndNoFlush() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT).withCachingMode(true));
    long addr = tryAlloc(h, "s", 0, 2 * PAGE);
    assertEquals(0xffffe000L, addr);
    expect(h, List.of(allocated("cpu0/s", "try_alloc", 0xffffe, 2, 2 * PAGE, addr)), List.of(toCpu0("try_alloc", "s", Errno.OK, addr)));
    link(h, addr, 2 * PAGE, 0, 0x7000, 2 * PAGE);
    expect(h, List.of(linked("cpu0/s", 0xffffe, 0, 2 * PAGE, 0xffffe, 7, 2)), List.of(toCpu0("link", "s", Errno.OK, 0)));
    assertEquals(2, h.state.pageTable().size(), "dma_iova_link never syncs; dma_iova_sync does");

    h.deliver("cpu0", new IommuCommand.Sync(DEV, "s", new Iova(addr), 0, 2 * PAGE));
    Continuation.Reply synced = replyToCpu0("sync", "cpu0/s", addr, 0xffffe, 2, 2 * PAGE, null, 0, -1, 0, List.of());
    expect(h, List.of(new IommuEvent.InvalidationPosted(1, "range", 0xffffe, 2, 1, synced)),
        List.of(self(new IommuCommand.InvalidationDone(1), LATENCY)));
    h.drainSelf();
    expect(h, List.of(new IommuEvent.InvalidationCompleted(1, "range", 0xffffe, 2, 0),
        new IommuEvent.RangeSynced(DEV, "cpu0/s", "sync", 0xffffe, 2, true, Errno.OK)), List.of(toCpu0("sync", "s", Errno.OK, 0)));
    nothingLeft(h);
  }

  @Test
  void unlinkAlwaysSyncsAndKeepsTheIova() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.LAZY));
    long addr = tryAlloc(h, "s", 0, 2 * PAGE);
    assertEquals(0xffffe000L, addr);
    expect(h, List.of(allocated("cpu0/s", "try_alloc", 0xffffe, 2, 2 * PAGE, addr)), List.of(toCpu0("try_alloc", "s", Errno.OK, addr)));
    link(h, addr, 2 * PAGE, 0, 0x7000, PAGE);
    expect(h, List.of(linked("cpu0/s", 0xffffe, 0, PAGE, 0xffffe, 7, 1)), List.of(toCpu0("link", "s", Errno.OK, 0)));

    h.deliver("cpu0", new IommuCommand.Unlink(DEV, "s", new Iova(addr), 0, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    Continuation.Reply unlinked = replyToCpu0("unlink", "cpu0/s", addr, 0xffffe, 1, PAGE, Direction.TO_DEVICE, 1, -1, 0, LEAF);
    expect(h, List.of(new IommuEvent.PtesCleared(DEV, "cpu0/s", "unlink", 0xffffe, 0, PAGE, 0xffffe, 1, 1),
        new IommuEvent.InvalidationPosted(1, "range", 0xffffe, 1, 1, unlinked)),
        List.of(self(new IommuCommand.InvalidationDone(1), LATENCY)));
    h.drainSelf();
    expect(h, List.of(new IommuEvent.InvalidationCompleted(1, "range", 0xffffe, 1, 0), new IommuEvent.PageTablesFreed(LEAF, "invalidation"),
        new ApiReturned(DEV, "cpu0/s", "unlink", new Iova(addr), 0xffffe, 1, PAGE, Direction.TO_DEVICE, 1, false, Errno.OK)),
        List.of(toCpu0("unlink", "s", Errno.OK, 0)));
    assertEquals(2, h.state.allocator().allocatedPages(), "the IOVA stays allocated until dma_iova_free");
    nothingLeft(h);
  }

  @Test
  void strictDestroyFreesTheIovaOnlyAfterTheInvalidationCompletes() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    long addr = allocAndLinkOnePage(h);
    h.deliver("cpu0", new IommuCommand.Destroy(DEV, "s", new Iova(addr), PAGE, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    Continuation.Reply destroyed = replyToCpu0("destroy", "cpu0/s", addr, 0xfffff, 1, PAGE, Direction.TO_DEVICE, 1, 0xfffff, 1, LEAF);
    expect(h, List.of(new IommuEvent.PtesCleared(DEV, "cpu0/s", "destroy", 0xfffff, 0, PAGE, 0xfffff, 1, 1),
        new IommuEvent.InvalidationPosted(1, "range", 0xfffff, 1, 1, destroyed)),
        List.of(self(new IommuCommand.InvalidationDone(1), LATENCY)));
    assertEquals(1, h.state.allocator().allocatedPages());
    h.drainSelf();
    expect(h, List.of(new IommuEvent.InvalidationCompleted(1, "range", 0xfffff, 1, 0), new IommuEvent.PageTablesFreed(LEAF, "invalidation"),
        new IommuEvent.IovaFreed(DEV, "cpu0/s", 0xfffff, 1, "strict"),
        new ApiReturned(DEV, "cpu0/s", "destroy", new Iova(addr), 0xfffff, 1, PAGE, Direction.TO_DEVICE, 1, false, Errno.OK)),
        List.of(toCpu0("destroy", "s", Errno.OK, 0)));
    assertEquals(0, h.state.allocator().allocatedPages());
    nothingLeft(h);
  }

  @Test
  void lazyDestroyReturnsAtOnceAndTheTimerFlushFreesTheIova() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.LAZY));
    long addr = allocAndLinkOnePage(h);
    h.deliver("cpu0", new IommuCommand.Destroy(DEV, "s", new Iova(addr), PAGE, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    // Only dma_iova_destroy uses the flush queue: it returns before any flush, with counter = fq_flush_start_cnt = 0.
    expect(h, List.of(new IommuEvent.PtesCleared(DEV, "cpu0/s", "destroy", 0xfffff, 0, PAGE, 0xfffff, 1, 1),
        new IommuEvent.FlushQueued(0, "cpu0/s", 0xfffff, 1, 0, LEAF), new IommuEvent.FlushTimerArmed(IommuSettings.DEFAULT_FQ_TIMEOUT),
        new ApiReturned(DEV, "cpu0/s", "destroy", new Iova(addr), 0xfffff, 1, PAGE, Direction.TO_DEVICE, 1, true, Errno.OK)),
        List.of(self(new IommuCommand.FlushQueueTimeout(), IommuSettings.DEFAULT_FQ_TIMEOUT), toCpu0("destroy", "s", Errno.OK, 0)));
    assertEquals(1, h.state.allocator().allocatedPages(), "the IOVA waits in the flush queue");

    assertEquals(true, h.deliverNextSelf());
    expect(h, List.of(new IommuEvent.FlushTimerFired(), new IommuEvent.FlushStarted(1, "timer"),
        new IommuEvent.InvalidationPosted(1, "all", 0, 0, 1, fqFlush(true, -1, null))),
        List.of(self(new IommuCommand.InvalidationDone(1), LATENCY)));
    assertEquals(true, h.deliverNextSelf());
    expect(h, List.of(new IommuEvent.InvalidationCompleted(1, "all", 0, 0, 0), new IommuEvent.FlushFinished(1),
        new IommuEvent.FlushQueueEntryFreed(0, "cpu0/s", 0xfffff, 1, 0, 1), new IommuEvent.PageTablesFreed(LEAF, "flush-queue finish_cnt 1"),
        new IommuEvent.IovaFreed(null, "cpu0/s", 0xfffff, 1, "flush-queue")), List.of());
    assertEquals(IommuSettings.DEFAULT_FQ_TIMEOUT + 1_000, h.now, "timer after 10 ms, then one invalidation");
    assertEquals(0, h.state.allocator().allocatedPages());
    assertEquals(1, h.state.finishCnt());
    nothingLeft(h);
  }

  @Test
  void aFullRingFlushesSynchronouslyBeforeQueueing() {
    long timeout = 1_000_000;
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.LAZY).withFlushQueue(4, timeout));
    long[] bases = {0xfffff, 0xffffe, 0xffffd, 0xffffc}; // the queued IOVAs stay allocated: each allocation goes below the last
    Continuation.Reply[] done = new Continuation.Reply[4];
    for (int i = 0; i < 4; i++) {
      String owner = "cpu0/s" + i;
      long addr = tryAlloc(h, "s" + i, 0, PAGE);
      assertEquals(bases[i] << 12, addr);
      expect(h, List.of(allocated(owner, "try_alloc", bases[i], 1, PAGE, addr)), List.of(toCpu0("try_alloc", "s" + i, Errno.OK, addr)));
      returned(h.deliver("cpu0", new IommuCommand.Link(DEV, "s" + i, new Iova(addr), PAGE, 0, new Phys(0x7000 + i * PAGE), PAGE,
          Direction.TO_DEVICE, DmaAttrs.NONE)));
      expect(h, List.of(linked(owner, bases[i], 0, PAGE, bases[i], 7 + i, 1)), List.of(toCpu0("link", "s" + i, Errno.OK, 0)));
      h.deliver("cpu0", new IommuCommand.Destroy(DEV, "s" + i, new Iova(addr), PAGE, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
      done[i] = replyToCpu0("destroy", owner, addr, bases[i], 1, PAGE, Direction.TO_DEVICE, 1, bases[i], 1, LEAF);
      IommuEvent.PtesCleared cleared = new IommuEvent.PtesCleared(DEV, owner, "destroy", bases[i], 0, PAGE, bases[i], 1, 1);
      ApiReturned ret = new ApiReturned(DEV, owner, "destroy", new Iova(addr), bases[i], 1, PAGE, Direction.TO_DEVICE, 1, true, Errno.OK);
      if (i == 0) {
        expect(h, List.of(cleared, new IommuEvent.FlushQueued(0, owner, bases[i], 1, 0, LEAF), new IommuEvent.FlushTimerArmed(timeout), ret),
            List.of(self(new IommuCommand.FlushQueueTimeout(), timeout), toCpu0("destroy", "s0", Errno.OK, 0)));
      } else if (i < 3) {
        expect(h, List.of(cleared, new IommuEvent.FlushQueued(0, owner, bases[i], 1, 0, LEAF), ret),
            List.of(toCpu0("destroy", "s" + i, Errno.OK, 0)));
      } else {
        // fq_size 4 holds 3: the 4th destroy runs fq_flush_iotlb first and waits for it.
        expect(h, List.of(cleared, new IommuEvent.FlushStarted(1, "full"), new IommuEvent.InvalidationPosted(1, "all", 0, 0, 1,
            fqFlush(false, 0, done[3]))), List.of(self(new IommuCommand.InvalidationDone(1), LATENCY)));
      }
    }
    assertEquals(3, h.state.rings().get(0).length(), "fq_size 4 holds 3");

    assertEquals(true, h.deliverNextSelf()); // the flush completes: finish_cnt 1 frees the three, then the 4th is queued with counter 1
    List<Event> freed = new java.util.ArrayList<>(List.of(new IommuEvent.InvalidationCompleted(1, "all", 0, 0, 0), new IommuEvent.FlushFinished(1)));
    for (int i = 0; i < 3; i++) {
      freed.add(new IommuEvent.FlushQueueEntryFreed(0, "cpu0/s" + i, bases[i], 1, 0, 1));
      freed.add(new IommuEvent.PageTablesFreed(LEAF, "flush-queue finish_cnt 1"));
      freed.add(new IommuEvent.IovaFreed(null, "cpu0/s" + i, bases[i], 1, "flush-queue"));
    }
    freed.add(new IommuEvent.FlushQueued(0, "cpu0/s3", 0xffffc, 1, 1, LEAF));
    freed.add(new ApiReturned(DEV, "cpu0/s3", "destroy", new Iova(0xffffc000L), 0xffffc, 1, PAGE, Direction.TO_DEVICE, 1, true, Errno.OK));
    expect(h, freed, List.of(toCpu0("destroy", "s3", Errno.OK, 0)));

    assertEquals(true, h.deliverNextSelf()); // the timer armed by the first destroy
    expect(h, List.of(new IommuEvent.FlushTimerFired(), new IommuEvent.FlushStarted(2, "timer"),
        new IommuEvent.InvalidationPosted(2, "all", 0, 0, 1, fqFlush(true, -1, null))),
        List.of(self(new IommuCommand.InvalidationDone(2), LATENCY)));
    assertEquals(true, h.deliverNextSelf());
    expect(h, List.of(new IommuEvent.InvalidationCompleted(2, "all", 0, 0, 0), new IommuEvent.FlushFinished(2),
        new IommuEvent.FlushQueueEntryFreed(0, "cpu0/s3", 0xffffc, 1, 1, 2), new IommuEvent.PageTablesFreed(LEAF, "flush-queue finish_cnt 2"),
        new IommuEvent.IovaFreed(null, "cpu0/s3", 0xffffc, 1, "flush-queue")), List.of());
    assertEquals(0, h.state.allocator().allocatedPages());
    nothingLeft(h);
  }

  @Test
  void mapPhysFailsWithMappingErrorWhenSpaceIsExhausted() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT).withAperture(2, List.of()));
    Decision ok = h.deliver("cpu0", new IommuCommand.MapPhys(DEV, "h", new Phys(0x9000), PAGE, Direction.FROM_DEVICE, DmaAttrs.NONE));
    assertEquals(PAGE, returned(ok).value(), "the only IOVA page of [1, 2)");
    expect(h, List.of(allocated("cpu0/h", "map_phys", 1, 1, PAGE, PAGE),
        new IommuEvent.RangeLinked(DEV, "cpu0/h", "map_phys", 1, 0, PAGE, 1, 9, 1, WRITE, Direction.FROM_DEVICE),
        new IommuEvent.DebugHookCalled(DEV, "cpu0/h", "map_phys", List.of(new IommuEvent.DebugSegment(9 * PAGE, PAGE, PAGE, PAGE)),
            Direction.FROM_DEVICE, DmaAttrs.NONE),
        new ApiReturned(DEV, "cpu0/h", "map_phys", new Iova(PAGE), 1, 1, PAGE, Direction.FROM_DEVICE, 1, false, Errno.OK)),
        List.of(toCpu0("map_phys", "h", Errno.OK, PAGE)));
    h.deliver("cpu0", new IommuCommand.MapPhys(DEV, "h2", new Phys(0xa000), PAGE, Direction.FROM_DEVICE, DmaAttrs.NONE));
    expect(h, List.of(new IommuEvent.IovaAllocFailed(DEV, "cpu0/h2", "map_phys", PAGE, "IOVA space exhausted"),
        new ApiReturned(DEV, "cpu0/h2", "map_phys", Iova.MAPPING_ERROR, 0, 0, PAGE, Direction.FROM_DEVICE, 1, false, Errno.ENOMEM)),
        List.of(toCpu0("map_phys", "h2", Errno.ENOMEM, Iova.MAPPING_ERROR.addr())));
    nothingLeft(h);
  }

  @Test
  void unmapOfANeverMappedAddressOnlyWarns() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    h.deliver("cpu0", new IommuCommand.UnmapPhys(DEV, "h", new Iova(0x5000), PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    // WARN_ON(!phys) and return: no PTE cleared, no invalidation, no IOVA freed.
    expect(h, List.of(new ApiReturned(DEV, "cpu0/h", "unmap_phys", new Iova(0x5000), 5, 0, PAGE, Direction.TO_DEVICE, 1, false, Errno.EINVAL)),
        List.of(toCpu0("unmap_phys", "h", Errno.EINVAL, 0)));
    nothingLeft(h);
  }

  @Test
  void deviceTransactionsFillTheIotlbAndFaultOnProt() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    long addr = allocAndLinkOnePage(h);
    Iova iova = new Iova(addr);
    Decision.Send read = new Decision.Send("dev0", new IommuReply.Translated(1, iova, false, false, true, 7, READ, null), 0);
    h.deliver("dev0", new IommuCommand.Translate(DEV, 1, iova, false, false, false));
    expect(h, List.of(new IommuEvent.IotlbFilled(0xfffff, 7, READ, true), new IommuEvent.DmaAccessed(DEV, 1, iova, 7, false, "walk", false)),
        List.of(read));
    h.deliver("dev0", new IommuCommand.Translate(DEV, 1, iova, false, false, false));
    expect(h, List.of(new IommuEvent.DmaAccessed(DEV, 1, iova, 7, false, "iotlb", false)), List.of(read));
    h.deliver("dev0", new IommuCommand.Translate(DEV, 1, iova, true, false, false));
    expect(h, List.of(new IommuEvent.DmaFaulted(DEV, 1, iova, true, "write to read-only mapping", false)),
        List.of(new Decision.Send("dev0", new IommuReply.Translated(1, iova, true, false, false, 7, READ, "write to read-only mapping"), 0)));
    nothingLeft(h);
  }

  @Test
  void cachingModeCachesNotPresentEntriesUntilAFlush() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT).withCachingMode(true));
    long addr = tryAlloc(h, "s", 0, PAGE);
    assertEquals(0xfffff000L, addr);
    expect(h, List.of(allocated("cpu0/s", "try_alloc", 0xfffff, 1, PAGE, addr)), List.of(toCpu0("try_alloc", "s", Errno.OK, addr)));
    Iova iova = new Iova(addr);
    Prot none = new Prot(0);
    h.deliver("dev0", new IommuCommand.Translate(DEV, 1, iova, false, true, false));
    expect(h, List.of(new IommuEvent.IotlbFilled(0xfffff, 0, none, false), new IommuEvent.DmaFaulted(DEV, 1, iova, false, "not present", true)),
        List.of(new Decision.Send("dev0", new IommuReply.Translated(1, iova, false, true, false, 0, none, "not present"), 0)));
    link(h, addr, PAGE, 0, 0x7000, PAGE);
    expect(h, List.of(linked("cpu0/s", 0xfffff, 0, PAGE, 0xfffff, 7, 1)), List.of(toCpu0("link", "s", Errno.OK, 0)));
    h.deliver("dev0", new IommuCommand.Translate(DEV, 2, iova, false, false, false));
    // Linked but not synced: the stale negative entry wins.
    String cached = "cached not-present IOTLB entry (caching mode)";
    expect(h, List.of(new IommuEvent.DmaFaulted(DEV, 2, iova, false, cached, false)),
        List.of(new Decision.Send("dev0", new IommuReply.Translated(2, iova, false, false, false, 0, none, cached), 0)));

    h.deliver("cpu0", new IommuCommand.Sync(DEV, "s", iova, 0, PAGE));
    expect(h, List.of(new IommuEvent.InvalidationPosted(1, "range", 0xfffff, 1, 1,
        replyToCpu0("sync", "cpu0/s", addr, 0xfffff, 1, PAGE, null, 0, -1, 0, List.of()))),
        List.of(self(new IommuCommand.InvalidationDone(1), LATENCY)));
    h.drainSelf();
    expect(h, List.of(new IommuEvent.InvalidationCompleted(1, "range", 0xfffff, 1, 1), new IommuEvent.RangeSynced(DEV, "cpu0/s", "sync", 0xfffff, 1,
        true, Errno.OK)), List.of(toCpu0("sync", "s", Errno.OK, 0)));
    h.deliver("dev0", new IommuCommand.Translate(DEV, 3, iova, false, false, false));
    // After dma_iova_sync the access succeeds.
    expect(h, List.of(new IommuEvent.IotlbFilled(0xfffff, 7, READ, true), new IommuEvent.DmaAccessed(DEV, 3, iova, 7, false, "walk", false)),
        List.of(new Decision.Send("dev0", new IommuReply.Translated(3, iova, false, false, true, 7, READ, null), 0)));
    nothingLeft(h);
  }

  @Test
  void atsInvalidatesTheAtcOnlyAfterTheIotlb() {
    IommuSettings ats = IommuSettings.defaults(IommuSettings.Mode.STRICT, 1, java.util.Map.of(DEV, new IommuSettings.DeviceSpec(64, true)));
    IommuHarness h = new IommuHarness(ats);
    long addr = allocAndLinkOnePage(h);
    h.deliver("cpu0", new IommuCommand.Unlink(DEV, "s", new Iova(addr), 0, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    Continuation.Reply unlinked = replyToCpu0("unlink", "cpu0/s", addr, 0xfffff, 1, PAGE, Direction.TO_DEVICE, 1, -1, 0, LEAF);
    expect(h, List.of(new IommuEvent.PtesCleared(DEV, "cpu0/s", "unlink", 0xfffff, 0, PAGE, 0xfffff, 1, 1),
        new IommuEvent.InvalidationPosted(1, "range", 0xfffff, 1, 1, next(IommuEvent.Scope.ATC, unlinked))),
        List.of(self(new IommuCommand.InvalidationDone(1), LATENCY)));
    h.drainSelf();
    // The IOTLB invalidation completed: only now is the ATC invalidation posted to the device.
    expect(h, List.of(new IommuEvent.InvalidationCompleted(1, "range", 0xfffff, 1, 0),
        new IommuEvent.InvalidationPosted(2, "atc", 0xfffff, 1, 1, unlinked)),
        List.of(new Decision.Send("dev0", new DeviceCommand.InvalidateAtc(2, 0xfffff, 1), 0)));
    nothingLeft(h); // unlink returns only when the device acknowledged

    h.deliver("dev0", new DeviceReply.AtcInvalidated(2));
    expect(h, List.of(new IommuEvent.AtcInvalidationAcked(2, DEV), new IommuEvent.InvalidationCompleted(2, "atc", 0xfffff, 1, 0),
        new IommuEvent.PageTablesFreed(LEAF, "invalidation"),
        new ApiReturned(DEV, "cpu0/s", "unlink", new Iova(addr), 0xfffff, 1, PAGE, Direction.TO_DEVICE, 1, false, Errno.OK)),
        List.of(toCpu0("unlink", "s", Errno.OK, 0)));
    nothingLeft(h);
  }

  @Test
  void withoutTheBarrierTheWalkerSeesTheOldPteUntilTheClearLands() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.LAZY).withFqBarrier(false));
    long addr = allocAndLinkOnePage(h);
    Iova iova = new Iova(addr);
    h.deliver("cpu0", new IommuCommand.Destroy(DEV, "s", iova, PAGE, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    expect(h, List.of(new IommuEvent.PteClearPending(0xfffff, 1),
        new IommuEvent.PtesCleared(DEV, "cpu0/s", "destroy", 0xfffff, 0, PAGE, 0xfffff, 1, 1),
        new IommuEvent.FlushQueued(0, "cpu0/s", 0xfffff, 1, 0, LEAF), new IommuEvent.FlushTimerArmed(IommuSettings.DEFAULT_FQ_TIMEOUT),
        new ApiReturned(DEV, "cpu0/s", "destroy", iova, 0xfffff, 1, PAGE, Direction.TO_DEVICE, 1, true, Errno.OK)),
        List.of(self(new IommuCommand.PteClearLands(0xfffff, 1), LATENCY),
            self(new IommuCommand.FlushQueueTimeout(), IommuSettings.DEFAULT_FQ_TIMEOUT), toCpu0("destroy", "s", Errno.OK, 0)));
    assertEquals(0, h.state.pageTable().size(), "the CPU's view is cleared");

    Decision.Send reached = new Decision.Send("dev0", new IommuReply.Translated(9, iova, false, true, true, 7, READ, null), 0);
    h.deliver("dev0", new IommuCommand.Translate(DEV, 9, iova, false, true, false));
    // But the walker still translates to the old page.
    expect(h, List.of(new IommuEvent.IotlbFilled(0xfffff, 7, READ, true), new IommuEvent.DmaAccessed(DEV, 9, iova, 7, false, "walk", true)),
        List.of(reached));
    assertEquals(0x7, h.state.walk(addr >>> 12) >>> 8);

    assertEquals(true, h.deliverNextSelf()); // the clear lands, before any flush started
    expect(h, List.of(new IommuEvent.PteClearVisible(0xfffff, 1, 0)), List.of());
    assertEquals(-1, h.state.walk(addr >>> 12), "after the clear lands the walker sees nothing");
    h.deliver("dev0", new IommuCommand.Translate(DEV, 9, iova, false, true, false));
    // But the window already refilled the IOTLB from the old PTE: the R1 hazard, until the next flush.
    expect(h, List.of(new IommuEvent.DmaAccessed(DEV, 9, iova, 7, false, "iotlb", true)), List.of(reached));

    h.drainSelf(); // the timer flush drops that IOTLB entry and frees the IOVA
    expect(h, List.of(new IommuEvent.FlushTimerFired(), new IommuEvent.FlushStarted(1, "timer"),
        new IommuEvent.InvalidationPosted(1, "all", 0, 0, 1, fqFlush(true, -1, null)), new IommuEvent.InvalidationCompleted(1, "all", 0, 0, 1),
        new IommuEvent.FlushFinished(1), new IommuEvent.FlushQueueEntryFreed(0, "cpu0/s", 0xfffff, 1, 0, 1),
        new IommuEvent.PageTablesFreed(LEAF, "flush-queue finish_cnt 1"), new IommuEvent.IovaFreed(null, "cpu0/s", 0xfffff, 1, "flush-queue")),
        List.of(self(new IommuCommand.InvalidationDone(1), LATENCY)));
    assertEquals(0, h.state.iotlb().size());
    nothingLeft(h);
  }

  @Test
  void attachingACachingModeIommuIsRefusedWhenTheFlagIsStatic() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT));
    assertEquals(Errno.EINVAL, returned(h.deliver("cpu1", new IommuCommand.Attach(true))).errno());
    expect(h, List.of(new IommuEvent.AttachRefused(
        "the domain was allocated without iotlb_sync_map and this IOMMU caches not-present entries")),
        List.of(new Decision.Send("cpu1", new IommuReply.Returned("attach", "domain", Errno.EINVAL, 0, List.of()), 0)));
    nothingLeft(h);
  }

  @Test
  void withTheFlagSetAtAttachMapsInTheWindowSkipTheFlush() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.STRICT).withSyncMapFlagAtAttach(true));
    assertEquals(Errno.OK, returned(h.deliver("cpu1", new IommuCommand.Attach(true))).errno());
    expect(h, List.of(new IommuEvent.IommuAttached(true)), List.of(self(new IommuCommand.SyncMapFlagLands(), LATENCY),
        new Decision.Send("cpu1", new IommuReply.Returned("attach", "domain", Errno.OK, 0, List.of()), 0)));

    h.deliver("cpu0", new IommuCommand.MapPhys(DEV, "h", new Phys(0x9000), PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    // The map read the flag before it landed: no flush.
    expect(h, List.of(allocated("cpu0/h", "map_phys", 0xfffff, 1, PAGE, 0xfffff000L),
        new IommuEvent.RangeLinked(DEV, "cpu0/h", "map_phys", 0xfffff, 0, PAGE, 0xfffff, 9, 1, READ, Direction.TO_DEVICE),
        new IommuEvent.DebugHookCalled(DEV, "cpu0/h", "map_phys", List.of(new IommuEvent.DebugSegment(9 * PAGE, PAGE, 0xfffff000L, PAGE)),
            Direction.TO_DEVICE, DmaAttrs.NONE),
        new ApiReturned(DEV, "cpu0/h", "map_phys", new Iova(0xfffff000L), 0xfffff, 1, PAGE, Direction.TO_DEVICE, 1, false, Errno.OK)),
        List.of(toCpu0("map_phys", "h", Errno.OK, 0xfffff000L)));
    h.drainSelf();
    expect(h, List.of(new IommuEvent.SyncMapFlagSet()), List.of());

    h.deliver("cpu0", new IommuCommand.MapPhys(DEV, "h2", new Phys(0xa000), PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    // After it landed, iommu_map flushes inside the call (iotlb_sync_map).
    expect(h, List.of(allocated("cpu0/h2", "map_phys", 0xffffe, 1, PAGE, 0xffffe000L),
        new IommuEvent.RangeLinked(DEV, "cpu0/h2", "map_phys", 0xffffe, 0, PAGE, 0xffffe, 0xa, 1, READ, Direction.TO_DEVICE),
        new IommuEvent.InvalidationPosted(1, "range", 0xffffe, 1, 1, null), new IommuEvent.InvalidationCompleted(1, "range", 0xffffe, 1, 0),
        new IommuEvent.RangeSynced(DEV, "cpu0/h2", "map_phys", 0xffffe, 1, true, Errno.OK),
        new IommuEvent.DebugHookCalled(DEV, "cpu0/h2", "map_phys", List.of(new IommuEvent.DebugSegment(10 * PAGE, PAGE, 0xffffe000L, PAGE)),
            Direction.TO_DEVICE, DmaAttrs.NONE),
        new ApiReturned(DEV, "cpu0/h2", "map_phys", new Iova(0xffffe000L), 0xffffe, 1, PAGE, Direction.TO_DEVICE, 1, false, Errno.OK)),
        List.of(toCpu0("map_phys", "h2", Errno.OK, 0xffffe000L)));
    nothingLeft(h);
  }

  @Test
  void anUnalignedLinkForAnUntrustedDeviceBouncesHeadAndTailAndSkipsAnEmptyMiddle() {
    for (boolean bug : new boolean[] {false, true}) {
      IommuSettings untrusted = IommuSettings.defaults(IommuSettings.Mode.STRICT, 1, java.util.Map.of(DEV, new IommuSettings.DeviceSpec(64, false, true)))
          .withSwiotlbZeroMiddleBug(bug);
      IommuHarness h = new IommuHarness(untrusted);
      long size = 2 * PAGE - 512;
      long addr = tryAlloc(h, "s", 0x5000 + 512, size);
      assertEquals(0xffffe200L, addr, "two pages for 512 bytes of pad and 7680 of data");
      expect(h, List.of(allocated("cpu0/s", "try_alloc", 0xffffe, 2, size, addr)), List.of(toCpu0("try_alloc", "s", Errno.OK, addr)));

      assertEquals(Errno.OK, link(h, addr, size, 0, 0x5000 + 512, PAGE - 512).errno(), "the unaligned head bounces");
      // The head [0x5200, 0x6000) fills the first granule: bounced to the first slot, filled for TO_DEVICE, nothing else to map.
      long slot = IommuSettings.SWIOTLB_PFN;
      // Each piece is a "link-part"; the whole call is declared as one "link" without pages of its own once it succeeded.
      expect(h, List.of(new IommuEvent.Bounced("cpu0/s", 0xffffe, 5, slot, PAGE - 512, Direction.TO_DEVICE),
          new IommuEvent.BounceCopied("cpu0/s", slot, 5, true), part("cpu0/s", 0xffffe, 0, PAGE - 512, 0xffffe, slot, 1),
          linked("cpu0/s", 0xffffe, 0, PAGE - 512, 0xffffe, 5, 0)),
          List.of(toCpu0("link", "s", Errno.OK, 0)));

      IommuReply.Returned second = link(h, addr, size, PAGE - 512, 0x6000, 1000);
      if (!bug) {
        assertEquals(Errno.OK, second.errno(), "a short non-first link: no middle, the tail bounces");
        expect(h, List.of(new IommuEvent.Bounced("cpu0/s", 0xfffff, 6, slot + 1, 1000, Direction.TO_DEVICE),
            new IommuEvent.BounceCopied("cpu0/s", slot + 1, 6, true), part("cpu0/s", 0xffffe, PAGE - 512, 1000, 0xfffff, slot + 1, 1),
            linked("cpu0/s", 0xffffe, PAGE - 512, 1000, 0xfffff, 6, 0)),
            List.of(toCpu0("link", "s", Errno.OK, 0)));
        assertEquals(2, h.state.pageTable().size());
      } else {
        assertEquals(Errno.EINVAL, second.errno(), "iommu_map of 0 bytes fails");
        // The old unwind, dma_iova_unlink(state, 0, 0): from offset 0, not the link's offset, it clears the first
        // link's granule, releases its bounce slot (TO_DEVICE: no copy back) and syncs the IOTLB.
        expect(h, List.of(new IommuEvent.PtesCleared(DEV, "cpu0/s", "unlink", 0xffffe, 0, 0, 0xffffe, 1, 1),
            new IommuEvent.BounceReleased(0xffffe, slot),
            new IommuEvent.InvalidationPosted(1, "range", 0xffffe, 1, 1, null), new IommuEvent.InvalidationCompleted(1, "range", 0xffffe, 1, 0),
            new IommuEvent.MapFailed(DEV, "cpu0/s", "link", PAGE - 512, 1000, Errno.EINVAL,
                "iommu_map of an empty aligned middle (0 bytes) in the swiotlb link helper")),
            List.of(toCpu0("link", "s", Errno.EINVAL, 0)));
        assertEquals(0, h.state.pageTable().size(), "and tears out the first link's bounced head");
      }
      nothingLeft(h);
    }
  }

  @Test
  void noTimerFlushAfterTeardown() {
    IommuHarness h = new IommuHarness(IommuHarness.settings(IommuSettings.Mode.LAZY));
    long addr = allocAndLinkOnePage(h);
    h.deliver("cpu0", new IommuCommand.Destroy(DEV, "s", new Iova(addr), PAGE, PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    expect(h, List.of(new IommuEvent.PtesCleared(DEV, "cpu0/s", "destroy", 0xfffff, 0, PAGE, 0xfffff, 1, 1),
        new IommuEvent.FlushQueued(0, "cpu0/s", 0xfffff, 1, 0, LEAF), new IommuEvent.FlushTimerArmed(IommuSettings.DEFAULT_FQ_TIMEOUT),
        new ApiReturned(DEV, "cpu0/s", "destroy", new Iova(addr), 0xfffff, 1, PAGE, Direction.TO_DEVICE, 1, true, Errno.OK)),
        List.of(self(new IommuCommand.FlushQueueTimeout(), IommuSettings.DEFAULT_FQ_TIMEOUT), toCpu0("destroy", "s", Errno.OK, 0)));
    h.deliver("cpu0", new IommuCommand.TearDown());
    expect(h, List.of(new IommuEvent.DomainTornDown(true, 1)), List.of());
    h.drainSelf();
    // timer_delete_sync in iommu_dma_free_fq: the callback never runs, nothing is flushed or freed.
    expect(h, List.of(), List.of());
    nothingLeft(h);
  }
}
