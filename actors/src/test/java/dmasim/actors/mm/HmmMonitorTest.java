package dmasim.actors.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Errno;
import dmasim.protocol.Event;
import dmasim.protocol.HmmPfn;
import dmasim.protocol.MemoryEvent;
import dmasim.protocol.MirrorEvent;
import dmasim.protocol.MmEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each invariant of the Hmm monitor, made to fire by a hand-written history and kept quiet by the
 * correct one next to it: the whole verdict (every violation, its id and step, nothing else) and the
 * message of the one that fires.
 */
class HmmMonitorTest {
  static final long VA = 0x10000000L;
  static final long PFN = MmState.FIRST_USER_PFN; // the first populated page's frame
  static final MmSettings MM = new MmSettings(List.of(new MmSettings.Vma(VA, 2, true, true)), List.of(new MmSettings.Sub("m0", VA, 2)), true, true);
  static final MirrorSettings M0 = new MirrorSettings(0, "m0", 0, VA, 2, new DeviceId(0), "mlock", false, false, "gpu");

  /** Feeds events to a fresh Hmm monitor, each call one step by {@code actor}. */
  static final class H extends dmasim.actors.monitor.MonitorHistory<H> {
    H() {
      super(new HmmMonitor(MM, List.of(M0)));
    }
  }

  static Event lock(String cpu) {
    return new MemoryEvent.LockAcquired("mlock", cpu);
  }

  static Event unlock(String cpu) {
    return new MemoryEvent.LockReleased("mlock", cpu);
  }

  static Event invalidation(long id, String event, boolean blockable) {
    return new MmEvent.InvalidationStarted(id, "cpu1", event, VA, 2, blockable, "", 3, List.of("m0"), "munmap", false, 0);
  }

  static Event enter(long id, boolean blockable) {
    return new CpuEvent.CallbackEntered(id, "m0", 3, VA, 2, "UNMAP", blockable, "", 0);
  }

  static Event written(long pfn, long seq, boolean writable) {
    return new MirrorEvent.DevicePteWritten("m0", 0, VA, pfn, writable, false, 0, "cpu0", seq, HmmPfn.VALID | (writable ? HmmPfn.WRITE : 0) | pfn);
  }

  static Event zapped() {
    return new MirrorEvent.DevicePteZapped("m0", 0, VA, PFN);
  }

  /** cpu0's fault path up to holding the lock with its read section begun at seq 1. */
  static H faulted() {
    return new H().on("mm0", new MmEvent.ReadBegun("m0", "cpu0", 1, false)).on("mem", lock("cpu0"));
  }

  /** The callback of invalidation 1 on cpu1, set_seq under the lock, zap, unlock: the correct one. */
  static H callback(H h, boolean setSeq, boolean zap) {
    h.on("mm0", invalidation(1, "UNMAP", true)).on("cpu1", enter(1, true)).on("mem", lock("cpu1"));
    if (setSeq) h.on("mm0", new MmEvent.SeqSet("m0", 3, "cpu1", 1));
    if (zap) h.on("dpt-m0", zapped(), new MirrorEvent.CallFinished("m0", "zap", "cpu1", 0));
    return h.on("mem", unlock("cpu1")).on("cpu1", new CpuEvent.CallbackLeft(1, "m0", true));
  }

  @Test
  void n1TheCoreSeqIsEvenWhenIdle() {
    H bad = new H().on("mm0", invalidation(1, "CLEAR", true)).on("mm0", new MmEvent.InvalidationEnded(1, 3, false));
    assertEquals(List.of("N1 @2"), bad.verdict());
    assertEquals("invalidation 1 ended with invalidate_seq 3 and nothing else active: it must be even when idle and never go back", bad.message());
    H good = new H().on("mm0", invalidation(1, "CLEAR", true)).on("mm0", new MmEvent.InvalidationEnded(1, 4, false));
    assertEquals(List.of(), good.verdict());
  }

  @Test
  void n2TheCallbackSetsTheSeqUnderTheLock() {
    H bad = callback(new H(), false, false);
    assertEquals(List.of("N2 @5"), bad.verdict());
    assertEquals("cpu1's invalidate callback of m0 (cur_seq 3) returns without mmu_interval_set_seq: a fault path's read_retry cannot see the "
        + "collision", bad.message());
    H unlocked = new H().on("mm0", invalidation(1, "UNMAP", true)).on("cpu1", enter(1, true)).on("mm0", new MmEvent.SeqSet("m0", 3, "cpu1", 1));
    assertEquals(List.of("N2 @3"), unlocked.verdict());
    assertEquals(List.of(), callback(new H(), true, true).verdict());
  }

  @Test
  void n2AcceptsTheOwnMigrationSkipButNotAForeignOne() {
    Event own = new CpuEvent.CallbackEntered(1, "m0", 3, VA, 2, "MIGRATE", true, "gpu", 0);
    Event foreign = new CpuEvent.CallbackEntered(1, "m0", 3, VA, 2, "MIGRATE", true, "other", 0);
    Event started = new MmEvent.InvalidationStarted(1, "cpu1", "MIGRATE", VA, 2, true, "gpu", 3, List.of("m0"), "migrate", true, 0);
    H skip = new H().on("mm0", started).on("cpu1", own).on("mem", lock("cpu1")).on("dpt-m0", new MirrorEvent.CallFinished("m0", "zap", "cpu1", 0))
        .on("mem", unlock("cpu1")).on("cpu1", new CpuEvent.CallbackLeft(1, "m0", true));
    assertEquals(List.of(), skip.verdict());
    H other = new H().on("mm0", started).on("cpu1", foreign).on("cpu1", new CpuEvent.CallbackLeft(1, "m0", true));
    assertEquals(List.of("N2 @3"), other.verdict());
  }

  @Test
  void n3ReadRetryRunsUnderTheLock() {
    H bad = new H().on("mm0", new MmEvent.ReadBegun("m0", "cpu0", 1, false)).on("mm0", new MmEvent.ReadRetried("m0", "cpu0", 1, false));
    assertEquals(List.of("N3 @2"), bad.verdict());
    assertEquals("cpu0 calls mmu_interval_read_retry on m0 without holding 'mlock' (held by nobody): an invalidation can run its callback between "
        + "the check and the device update", bad.message());
    assertEquals(List.of(), faulted().on("mm0", new MmEvent.ReadRetried("m0", "cpu0", 1, false)).verdict());
  }

  @Test
  void n6ANonBlockableCallbackNeitherSleepsNorKeepsALockWhenItRefuses() {
    H sleeps = new H().on("mem", lock("cpu0")).on("mm0", invalidation(1, "CLEAR", false)).on("cpu1", enter(1, false))
        .on("mem", new MemoryEvent.LockWaited("mlock", "cpu1"));
    assertEquals(List.of("N6 @4"), sleeps.verdict());
    H leaks = new H().on("mm0", invalidation(1, "CLEAR", false)).on("cpu1", enter(1, false)).on("mem", new MemoryEvent.LockAcquired("outer", "cpu1"))
        .on("cpu1", new CpuEvent.CallbackLeft(1, "m0", false));
    assertEquals(List.of("N6 @4"), leaks.verdict());
    assertEquals("cpu1's invalidate callback of m0 returns false (non-blockable UNMAP) still holding [outer]: the core calls no end after a failed "
        + "start, so the lock is never released", leaks.message());
    H releases = new H().on("mm0", invalidation(1, "CLEAR", false)).on("cpu1", enter(1, false)).on("mem", new MemoryEvent.LockAcquired("outer", "cpu1"))
        .on("mem", new MemoryEvent.LockReleased("outer", "cpu1")).on("cpu1", new CpuEvent.CallbackLeft(1, "m0", false));
    assertEquals(List.of(), releases.verdict());
  }

  @Test
  void m1NoDevicePteFromAnAttemptAnInvalidationOvertook() {
    H bad = callback(new H().on("mm0", new MmEvent.ReadBegun("m0", "cpu0", 1, false)), true, true).on("mem", lock("cpu0"))
        .on("dpt-m0", written(PFN, 1, true)); // no read_retry: the callback ran between the walk and the lock
    assertEquals(List.of("M1 @10"), bad.verdict());
    assertEquals("cpu0 writes m0's device PTE 0x10000000 -> pfn 0x10000000 from its attempt of read_begin seq 1 (step 1), but an invalidation "
        + "(started at step 2) has set the subscription's seq to 3: a stale pfn in the device (read_retry missing, or not under the lock the "
        + "callback takes)", bad.message());
    H good = faulted().on("mm0", invalidation(1, "UNMAP", true)).on("dpt-m0", written(PFN, 1, true)); // before set_seq: the callback zaps it
    assertEquals(List.of(), good.verdict());
  }

  @Test
  void m2TheCallbackLeavesNothingValid() {
    H h = faulted().on("dpt-m0", written(PFN, 1, true)).on("mem", unlock("cpu0"));
    callback(h, true, false);
    assertEquals(List.of("M2 @10"), h.verdict());
    assertEquals("cpu1's invalidate callback of m0 returns while the device PTE 0x10000000 -> pfn 0x10000000 is still valid: the CPU page table "
        + "changes next and the page may be freed", h.message());
    H good = faulted().on("dpt-m0", written(PFN, 1, true)).on("mem", unlock("cpu0"));
    assertEquals(List.of(), callback(good, true, true).verdict());
  }

  @Test
  void m3AndM9NoFrameDroppedOrFreedWhileTheDeviceMapsIt() {
    H dropped = faulted().on("dpt-m0", written(PFN, 1, true)).on("mm0", new MmEvent.PteCleared(VA, PFN, "UNMAP"));
    assertEquals(List.of("M9 @4"), dropped.verdict());
    H freed = faulted().on("dpt-m0", written(PFN, 1, true)).on("mm0", new MmEvent.FrameFreed(PFN, "anon"));
    assertEquals(List.of("M3 @4"), freed.verdict());
    assertEquals("frame 0x10000000 is freed while m0's device PTE for 0x10000000 still maps it", freed.message());
    H zappedFirst = faulted().on("dpt-m0", written(PFN, 1, true)).on("dpt-m0", zapped()).on("mm0", new MmEvent.PteCleared(VA, PFN, "UNMAP"),
        new MmEvent.FrameFreed(PFN, "anon"));
    assertEquals(List.of(), zappedFirst.verdict());
  }

  @Test
  void m4NoIommuMappingOfAPageTheCpuDropped() {
    H bad = new H().on("dpt-m0", new MirrorEvent.SlotMapped("m0", 0, PFN, 0xffffe000L)).on("mm0", new MmEvent.PteCleared(VA, PFN, "UNMAP"));
    assertEquals(List.of("M4 @2"), bad.verdict());
    H good = new H().on("dpt-m0", new MirrorEvent.SlotMapped("m0", 0, PFN, 0xffffe000L)).on("dpt-m0", new MirrorEvent.SlotUnmapped("m0", 0, PFN,
        0xffffe000L)).on("mm0", new MmEvent.PteCleared(VA, PFN, "UNMAP"), new MmEvent.FrameFreed(PFN, "anon"));
    assertEquals(List.of(), good.verdict());
  }

  @Test
  void m5StructPagesOnlyInsideTheReadSection() {
    H bad = new H().on("mm0", new MmEvent.ReadBegun("m0", "cpu0", 1, false)).on("mm0", new MmEvent.FrameDirtied(PFN, "cpu0", "m0", false));
    assertEquals(List.of("M5 @2"), bad.verdict());
    assertEquals("cpu0 calls set_page_dirty on frame 0x10000000 from m0's pfns without holding 'mlock': struct pages from hmm pfns may be touched "
        + "only inside the read section", bad.message());
    H good = faulted().on("mm0", new MmEvent.ReadRetried("m0", "cpu0", 1, false)).on("mm0", new MmEvent.FrameDirtied(PFN, "cpu0", "m0", false));
    assertEquals(List.of(), good.verdict());
  }

  @Test
  void m7AndM8WritableAndOwnedEntriesOnly() {
    H writable = faulted().on("mm0", new MmEvent.PteSet(VA, PFN, false, "present", "")).on("dpt-m0", written(PFN, 1, true));
    assertEquals(List.of("M7 @4"), writable.verdict());
    long dev = MmState.FIRST_DEVICE_PFN;
    H foreign = faulted().on("mm0", new MmEvent.FrameAllocated(dev, "device-private", "other"), new MmEvent.PteSet(VA, dev, true, "device-private",
        "other")).on("dpt-m0", written(dev, 1, true));
    assertEquals(List.of("M8 @4"), foreign.verdict());
    H own = faulted().on("mm0", new MmEvent.FrameAllocated(dev, "device-private", "gpu"), new MmEvent.PteSet(VA, dev, true, "device-private", "gpu"))
        .on("dpt-m0", written(dev, 1, true));
    assertEquals(List.of(), own.verdict());
  }

  @Test
  void l1AndL2RetriesBeginAfreshAndMakeProgress() {
    H stale = new H().on("mm0", new MmEvent.ReadBegun("m0", "cpu0", 1, false))
        .on("mm0", new MmEvent.WalkStarted(1, "cpu0", "m0", 1, VA, 1, HmmPfn.REQ_FAULT, 0, "", List.of(0L)), new MmEvent.WalkEnded(1, Errno.EBUSY))
        .on("mm0", new MmEvent.WalkStarted(2, "cpu0", "m0", 1, VA, 1, HmmPfn.REQ_FAULT, 0, "", List.of(0L)));
    assertEquals(List.of("L1 @3"), stale.verdict());
    H loop = new H();
    for (int i = 1; i <= 3; i++) {
      loop.on("mm0", new MmEvent.ReadBegun("m0", "cpu0", 1, false)).on("mm0", new MmEvent.WalkStarted(i, "cpu0", "m0", 1, VA, 1, HmmPfn.REQ_FAULT,
          0, "", List.of(0L)), new MmEvent.WalkEnded(i, Errno.EBUSY));
    }
    assertEquals(List.of("L2 @6"), loop.verdict());
    H progress = new H();
    for (int i = 1; i <= 3; i++) {
      progress.on("mm0", new MmEvent.ReadBegun("m0", "cpu0", 1, false)).on("mm0", new MmEvent.WalkStarted(i, "cpu0", "m0", 1, VA, 1, HmmPfn.REQ_FAULT,
          0, "", List.of(0L)), new MmEvent.WalkEnded(i, Errno.EBUSY)).on("mm0", new MmEvent.PteSet(VA, PFN, true, "present", ""));
    }
    assertEquals(List.of(), progress.verdict());
  }

  @Test
  void o6OnlyAnIllegalAccessFailsADeviceFault() {
    H bad = new H().on("dpt-m0", new MirrorEvent.FaultResolved("m0", 1, VA, true, true));
    assertEquals(List.of("O6 @1"), bad.verdict());
    H illegal = new H().on("dpt-m0", new MirrorEvent.FaultResolved("m0", 1, VA + 0x10000, true, true)); // no VMA there
    assertEquals(List.of(), illegal.verdict());
  }

  @Test
  void n4ASubscriptionInsertedDuringAnInvalidationWaitsForIt() {
    H early = new H().on("mm0", invalidation(1, "CLEAR", true)).on("mm0", new MmEvent.SubInserted("m0", "cpu0", 3, 3, true))
        .on("mm0", new MmEvent.ReadBegun("m0", "cpu0", 3, false));
    assertEquals(List.of("N4 @3"), early.verdict());
    assertEquals("cpu0's read_begin on m0 returns seq 3 while invalidation 1, running when it was inserted, has not ended: the read section may "
        + "miss it", early.message());
    H after = new H().on("mm0", invalidation(1, "CLEAR", true)).on("mm0", new MmEvent.SubInserted("m0", "cpu0", 3, 3, true))
        .on("mm0", new MmEvent.InvalidationEnded(1, 4, false), new MmEvent.DeferredApplied(List.of("m0"), List.of()),
            new MmEvent.ReadBegun("m0", "cpu0", 3, true));
    assertEquals(List.of(), after.verdict());
  }

  @Test
  void n5RemoveNeitherUnderTheCallbacksLockNorFromACallbackAndNoCallbackAfterIt() {
    H locked = new H().on("mem", lock("cpu0")).on("mm0", new MmEvent.SubRemoved("m0", "cpu0"));
    assertEquals(List.of("N5 @2"), locked.verdict());
    assertEquals("cpu0 calls mmu_interval_notifier_remove on m0 holding 'mlock', the lock its callback takes: the remove waits for the running "
        + "invalidation, whose callback waits for the lock", locked.message());
    H late = new H().on("mm0", new MmEvent.SubRemoved("m0", "cpu0")).on("mm0", invalidation(1, "CLEAR", true), new MmEvent.CallbackCalled(1, "m0",
        3, "cpu1"));
    assertEquals(List.of("N5 @2"), late.verdict());
    H fine = new H().on("mem", lock("cpu0")).on("mem", unlock("cpu0")).on("mm0", new MmEvent.SubRemoved("m0", "cpu0"));
    assertEquals(List.of(), fine.verdict());
  }

  @Test
  void l2ADeviceThatFaultsOnAPageOverAndOverWithoutItGettingMappedIsALoop() {
    H loop = new H();
    for (int i = 1; i <= 4; i++) {
      loop.on("dpt-m0", new MirrorEvent.DeviceFaulted("m0", "cpu0", i, VA, true)).on("dpt-m0", new MirrorEvent.FaultResolved("m0", i, VA, true, false));
    }
    assertEquals(List.of("L2 @7"), loop.verdict());
    assertEquals("the device's write of 0x10000000 through m0 (cpu0) faulted 4 times in a row, each fault resumed with no device PTE written for the "
        + "page and nothing changed in the address space: a fault loop that cannot make progress (a handler that resumes without mapping, e.g. its "
        + "mkey lookup failing because the MR is being deregistered while the device still uses it)", loop.message());
    // a device PTE written in between, or an invalidation (the benign refault after -EBUSY), is progress
    H mapped = new H();
    for (int i = 1; i <= 4; i++) {
      mapped.on("dpt-m0", new MirrorEvent.DeviceFaulted("m0", "cpu0", i, VA, true)).on("dpt-m0", new MirrorEvent.DevicePteWritten("m0", 0, VA, PFN, true,
          false, 0, "cpu1", 1, 0)).on("dpt-m0", new MirrorEvent.DevicePteZapped("m0", 0, VA, PFN));
    }
    assertEquals(List.of("M1 @2", "M1 @5", "M1 @8", "M1 @11"), mapped.verdict()); // the bare writes belong to no attempt (M1), but no L2
    H invalidated = new H();
    for (int i = 1; i <= 4; i++) {
      invalidated.on("dpt-m0", new MirrorEvent.DeviceFaulted("m0", "cpu0", i, VA, true)).on("mm0", invalidation(i, "CLEAR", true));
    }
    assertEquals(List.of(), invalidated.verdict());
  }

  @Test
  void l3ARemoveThatNeverReturnsIsReportedAtTheEnd() {
    H stuck = new H().on("mm0", invalidation(1, "CLEAR", true)).on("mm0", new MmEvent.SubRemoveWaits("m0", "cpu0", 3)).end();
    assertEquals(List.of("L3 @2"), stuck.verdict());
    assertEquals("cpu0's mmu_interval_notifier_remove of m0 never returned: the invalidation it waits for never ended", stuck.message());
    H done = new H().on("mm0", invalidation(1, "CLEAR", true)).on("mm0", new MmEvent.SubRemoveWaits("m0", "cpu0", 3))
        .on("mm0", new MmEvent.InvalidationEnded(1, 4, false), new MmEvent.DeferredApplied(List.of(), List.of("m0")), new MmEvent.SubRemoved("m0",
            "cpu0")).end();
    assertEquals(List.of(), done.verdict());
  }

  @Test
  void m6ADeviceEntryUsesOnlyASlotThatMapsItsPage() {
    Event dmaWrite = new MirrorEvent.DevicePteWritten("m0", 0, VA, PFN + 5, true, true, 0xffffe000L, "cpu0", 1, HmmPfn.VALID | HmmPfn.WRITE | (PFN + 5));
    H stale = faulted().on("dpt-m0", new MirrorEvent.SlotMapped("m0", 0, PFN, 0xffffe000L)).on("mm0", new MmEvent.PteSet(VA, PFN + 5, true,
        "present", "")).on("dpt-m0", dmaWrite);
    assertEquals(List.of("M4 @4", "M6 @5"), stale.verdict()); // the CPU dropped the page the slot still maps (M4), then the entry reused it (M6)
    assertEquals("cpu0 writes m0's device PTE 0x10000000 -> pfn 0x10000005 through DMA address 0xffffe000, which still maps the old pfn 0x10000000: the "
        + "slot stayed DMA_MAPPED across an invalidation, so hmm_dma_map_pfn returned the old mapping", stale.suite.violations().get(1).message());
    H unlinked = faulted().on("mm0", new MmEvent.PteSet(VA, PFN + 5, true, "present", "")).on("dpt-m0", dmaWrite);
    assertEquals(List.of("M6 @4"), unlinked.verdict());
    H fresh = faulted().on("mm0", new MmEvent.PteSet(VA, PFN + 5, true, "present", "")).on("dpt-m0", new MirrorEvent.SlotMapped("m0", 0, PFN + 5,
        0xffffe000L)).on("dpt-m0", dmaWrite);
    assertEquals(List.of(), fresh.verdict());
  }

  @Test
  void insertingTwiceRemovingWhatIsNotInsertedAndReadingItAreViolations() {
    assertEquals(List.of("N4 @1"), new H().on("mm0", new MmEvent.MmCallFinished("insert", "cpu0", Errno.EINVAL)).verdict());
    assertEquals(List.of("N5 @1"), new H().on("mm0", new MmEvent.MmCallFinished("remove", "cpu0", Errno.EINVAL)).verdict());
    H removed = new H().on("mm0", new MmEvent.SubRemoved("m0", "cpu0")).on("mm0", new MmEvent.ReadBegun("m0", "cpu0", 1, false));
    assertEquals(List.of("N4 @2"), removed.verdict());
    assertEquals("cpu0 calls mmu_interval_read_begin on m0, which is not inserted (never, or removed): no invalidation will ever be reported to it",
        removed.message());
  }

  @Test
  void o1OneWriterOfTheDeviceTableAtATimeUnderTheLock() {
    H unlocked = new H().on("dpt-m0", new MirrorEvent.CallFinished("m0", "zap", "cpu1", 0));
    assertEquals(List.of("O1 @1"), unlocked.verdict());
    assertEquals("cpu1 starts a zap of m0's device table without holding 'mlock' (held by nobody): two writers of the table can interleave",
        unlocked.message());
    MirrorEvent.CallStarted update = new MirrorEvent.CallStarted("m0", "pte_set", "cpu0", List.of(new MirrorEvent.IoOp("link", 0, PFN, 0)), 0,
        List.of(HmmPfn.VALID | PFN), 1, false);
    H racing = faulted().on("dpt-m0", update).on("mem", unlock("cpu0")).on("mem", lock("cpu1"))
        .on("dpt-m0", new MirrorEvent.CallFinished("m0", "zap", "cpu1", 0));
    assertEquals(List.of("O1 @6"), racing.verdict());
    assertEquals("cpu1 starts a zap of m0's device table while cpu0's update of it is in progress: an older update can land last", racing.message());
    H serial = faulted().on("dpt-m0", update).on("dpt-m0", new MirrorEvent.CallFinished("m0", "pte_set", "cpu0", 0)).on("mem", unlock("cpu0"))
        .on("mem", lock("cpu1")).on("dpt-m0", new MirrorEvent.CallFinished("m0", "zap", "cpu1", 0));
    assertEquals(List.of(), serial.verdict());
  }
}
