package dmasim.actors.odp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dmasim.actors.mm.MirrorSettings;
import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Event;
import dmasim.protocol.HcaEvent;
import dmasim.protocol.MemoryEvent;
import dmasim.protocol.MirrorEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each invariant of the Odp monitor, made to fire by a hand-written history and kept quiet by the
 * correct one beside it: the whole verdict (every violation, its id and step, nothing else) and the
 * message of the one that fires.
 */
class OdpMonitorTest {
  static final long VA = 0x10000000L;
  /** An explicit MR mr, an implicit MR imr with children c0 (slot 0) and c1 (slot 1). */
  static final HcaSettings HCA = new HcaSettings("nic", 0, List.of(new HcaSettings.Mr("mr", HcaSettings.Kind.EXPLICIT, "umem_mutex", "", -1),
      new HcaSettings.Mr("imr", HcaSettings.Kind.IMPLICIT, "imr_mutex", "", -1), new HcaSettings.Mr("c0", HcaSettings.Kind.CHILD, "c0_mutex", "imr", 0),
      new HcaSettings.Mr("c1", HcaSettings.Kind.CHILD, "c1_mutex", "imr", 1), new HcaSettings.Mr("save", HcaSettings.Kind.PLAIN, "", "", -1)),
      List.of("free-child"));
  static final List<MirrorSettings> MIRRORS = List.of(mirror(0, "mr", VA, "umem_mutex"), mirror(1, "c0", VA + 0x100000, "c0_mutex"),
      mirror(2, "c1", VA + 0x200000, "c1_mutex"));

  static MirrorSettings mirror(int id, String name, long start, String lock) {
    return new MirrorSettings(id, name, 0, start, 2, new DeviceId(0), lock, true, false, "");
  }

  /** Feeds events to a fresh Odp monitor, each call one step by {@code actor}. */
  static final class H extends dmasim.actors.monitor.MonitorHistory<H> {
    H() {
      super(new OdpMonitor(HCA, MIRRORS));
    }
  }

  static Event created(String child, int slot, String cpu) {
    return new HcaEvent.ChildCreated(child, "imr", slot, cpu, true);
  }

  static Event posted(long id, String cpu, List<String> values) {
    return new HcaEvent.UmrPosted(id, cpu, "imr", 0, values);
  }

  static Event completed(long id, String cpu, List<String> values) {
    return new HcaEvent.UmrCompleted(id, cpu, "imr", 0, values, true);
  }

  static Event lock(String name, String cpu) {
    return new MemoryEvent.LockAcquired(name, cpu);
  }

  static Event unlock(String name, String cpu) {
    return new MemoryEvent.LockReleased(name, cpu);
  }

  @Test
  void o1OneKsmUpdateAtATime() {
    H unlocked = new H().on("hca0", created("c0", 0, "cpu0")).on("hca0", posted(1, "cpu1", List.of("c0", "")));
    assertEquals(List.of("O1 @2"), unlocked.verdict());
    assertEquals("cpu1 posts a UMR of implicit MR imr's KSM without holding its umem_mutex 'imr_mutex' (held by nobody): every update of the parent "
        + "must run under it (populate_klm asserts it with lockdep), or an older snapshot of the xarray can land after a newer one", unlocked.message());
    // cpu0 posts without the lock; cpu1, holding it, posts while cpu0's is still in flight
    H overlap = new H().on("hca0", created("c0", 0, "cpu0")).on("hca0", posted(1, "cpu0", List.of("c0", ""))).on("mem", lock("imr_mutex", "cpu1"))
        .on("hca0", posted(2, "cpu1", List.of("c0", "")));
    assertEquals(List.of("O1 @2", "O1 @4"), overlap.verdict());
    assertEquals("cpu1 posts a UMR of implicit MR imr's KSM while cpu0's (posted at step 2) is in flight: two updates of one mkey's translation at "
        + "once, each built from its own snapshot of the xarray", overlap.suite.violations().get(1).message());
    H good = new H().on("hca0", created("c0", 0, "cpu0")).on("mem", lock("imr_mutex", "cpu0")).on("hca0", posted(1, "cpu0", List.of("c0", "")))
        .on("hca0", completed(1, "cpu0", List.of("c0", ""))).on("mem", unlock("imr_mutex", "cpu0")).on("mem", lock("imr_mutex", "cpu1"))
        .on("hca0", posted(2, "cpu1", List.of("c0", ""))).on("hca0", completed(2, "cpu1", List.of("c0", ""))).end();
    assertEquals(List.of(), good.verdict());
  }

  @Test
  void o2NoOlderSnapshotOverwritesANewerKsmEntry() {
    // cpu0 builds [null, c1] before c0 exists; cpu1 creates c0 and its UMR settles slot 0; cpu0's older UMR lands last: c0 is lost
    H bad = new H().on("hca0", created("c1", 1, "cpu0")).on("hca0", posted(1, "cpu0", List.of("", "c1"))).on("hca0", created("c0", 0, "cpu1"))
        .on("hca0", posted(2, "cpu1", List.of("c0", "c1"))).on("hca0", completed(2, "cpu1", List.of("c0", "c1")))
        .on("hca0", completed(1, "cpu0", List.of("", "c1")));
    assertEquals(List.of("O1 @2", "O1 @4", "O2 @6"), bad.verdict()); // both post without the parent's lock

    assertEquals("cpu0's UMR (built at step 2) writes imr's KSM slot 0 := the null mkey after a newer update had already made it c0: a lost update, "
        + "the KSM no longer matches the xarray and nothing will write it again (the parent's updates must be serialised by its umem_mutex)",
        bad.suite.violations().get(2).message());
    // an update built before a change is fine while the change's own update is still to come; at the end both agree
    H lags = new H().on("hca0", created("c1", 1, "cpu0")).on("mem", lock("imr_mutex", "cpu0")).on("hca0", posted(1, "cpu0", List.of("", "c1")))
        .on("hca0", created("c0", 0, "cpu1")).on("hca0", completed(1, "cpu0", List.of("", "c1"))).on("mem", unlock("imr_mutex", "cpu0"))
        .on("mem", lock("imr_mutex", "cpu1")).on("hca0", posted(2, "cpu1", List.of("c0", "c1"))).on("hca0", completed(2, "cpu1", List.of("c0", "c1")))
        .end();
    assertEquals(List.of(), lags.verdict());
    H never = new H().on("hca0", created("c0", 0, "cpu0")).end();
    assertEquals(List.of("O2 @1"), never.verdict());
    assertEquals("imr's KSM slot 0 still points at the null mkey while its xarray holds c0 at the end: the locked KSM update that must follow every "
        + "xarray change never came", never.message());
  }

  @Test
  void o3NoUmrOnADeadMkey() {
    H bad = new H().on("hca0", new HcaEvent.Revoked("mr", "cpu1")).on("cpu0", new CpuEvent.CallIssued(7, "dev_zap", "mr", "dpt-mr"));
    assertEquals(List.of("O3 @2"), bad.verdict());
    assertEquals("cpu0 zaps the MTT of MR mr, whose mkey was revoked at step 1 (odp->private = NULL): a UMR on a dead mkey (whoever programs it must "
        + "hold an mkey reference that dereg waits for, and an invalidation must see odp->private == NULL under umem_mutex and skip it)", bad.message());
    H parent = new H().on("hca0", new HcaEvent.Freed("imr", "cpu0")).on("mem", lock("imr_mutex", "cpu2")).on("hca0", posted(1, "cpu2", List.of("")));
    assertEquals(List.of("O3 @3"), parent.verdict());
    H good = new H().on("cpu0", new CpuEvent.CallIssued(7, "dev_zap", "mr", "dpt-mr")).on("hca0", new HcaEvent.Revoked("mr", "cpu1"))
        .on("cpu0", new CpuEvent.CallIssued(9, "mkey_check", "mr", "hca0"));
    assertEquals(List.of(), good.verdict());
  }

  @Test
  void o4ReferencesBalanceAndDeregistrationEnds() {
    H leak = new H().on("hca0", new HcaEvent.RefTaken("imr", "cpu2", 2, "parent"))
        .on("hca0", new HcaEvent.RefMissed("c0", "cpu2", "lost the cmpxchg: another queue took it out of the xarray; the parent reference kept"))
        .on("hca0", new HcaEvent.RefDropped("imr", "cpu1", 1), new HcaEvent.WaitStarted("imr", "cpu1", 1)).end();
    assertEquals(List.of("O4 @3"), leak.verdict());
    assertEquals("cpu1 waits forever (since step 3) for implicit MR imr's usecount to drain: a reference was never dropped (cpu2 lost the cmpxchg "
        + "for c0 at step 2 and kept the parent reference it took); held by: cpu2 (taken at step 1)", leak.message());
    H underflow = new H().on("hca0", new HcaEvent.RefDropped("mr", "cpu0", 0)).on("hca0", new HcaEvent.RefDropped("mr", "cpu0", -1));
    assertEquals(List.of("O4 @2"), underflow.verdict());
    H good = new H().on("hca0", new HcaEvent.RefTaken("imr", "cpu2", 2, "parent")).on("hca0", new HcaEvent.RefDropped("imr", "cpu1", 1),
        new HcaEvent.WaitStarted("imr", "cpu1", 1)).on("hca0", new HcaEvent.RefDropped("imr", "cpu2", 0), new HcaEvent.WaitEnded("imr", "cpu1")).end();
    assertEquals(List.of(), good.verdict());
  }

  @Test
  void o5DestroyedOnceAndNeverTouchedAfterFree() {
    H twice = new H().on("hca0", created("c0", 0, "cpu0"), completed(0, "cpu0", List.of("c0", "")))
        .on("hca0", new HcaEvent.WorkQueued(1, "free-child", "c0", "cpu1", false, 0)).on("hca0", new HcaEvent.WorkQueued(2, "free-child", "c0", "cpu1", false, 0));
    assertEquals(List.of("O5 @3"), twice.verdict());
    assertEquals("cpu1 queues a second free-child work item for child c0 (slot 0 of imr) (cpu1 queued one at step 2): the child will be destroyed "
        + "twice, the second work frees freed memory (use after free, CVE-2025-21714)", twice.message());
    H uaf = new H().on("hca0", new HcaEvent.Freed("c0", "cpu2")).on("hca0", new HcaEvent.RefDropped("c0", "cpu2", -1));
    assertEquals(List.of("O5 @2", "O4 @2"), uaf.verdict());
    // a child destroyed, freed, created again and destroyed again: one destruction per incarnation
    H again = new H().on("hca0", created("c0", 0, "cpu0")).on("hca0", new HcaEvent.WorkQueued(1, "free-child", "c0", "cpu1", false, 0))
        .on("hca0", new HcaEvent.Freed("c0", "cpu2")).on("hca0", created("c0", 0, "cpu0"))
        .on("hca0", new HcaEvent.WorkQueued(2, "free-child", "c0", "cpu1", false, 0));
    assertEquals(List.of(), again.verdict());
  }

  @Test
  void o7OnlyAnEmptyChildIsDestroyed() {
    H mapped = new H().on("dpt-c0", new MirrorEvent.SlotMapped("c0", 0, 0x10000000L, 0xffffe000L, 0))
        .on("hca0", new HcaEvent.WorkQueued(1, "free-child", "c0", "cpu1", false, 0));
    assertEquals(List.of("O7 @2"), mapped.verdict());
    assertEquals("cpu1 queues the destruction of child c0 (slot 0 of imr) while it still has 0 device PTE(s) and 1 DMA-mapped page(s): npages is not "
        + "0, the child is not empty (only a child whose last page was unmapped may be destroyed)", mapped.message());
    H empty = new H().on("dpt-c0", new MirrorEvent.SlotMapped("c0", 0, 0x10000000L, 0xffffe000L, 0))
        .on("dpt-c0", new MirrorEvent.SlotUnmapped("c0", 0, 0x10000000L, 0xffffe000L)).on("hca0", new HcaEvent.WorkQueued(1, "free-child", "c0", "cpu1", false, 0));
    assertEquals(List.of(), empty.verdict());
  }

  static final long IOVA_PFN = 0xfffc0L;

  static Event linked(long page, long pfn) {
    return new dmasim.protocol.IommuEvent.RangeLinked(new DeviceId(0), "cpu0/s", "link", IOVA_PFN, page * 4096, 4096, IOVA_PFN + page, pfn, 1,
        new dmasim.protocol.Prot(dmasim.protocol.Prot.READ | dmasim.protocol.Prot.WRITE), dmasim.protocol.Direction.BIDIRECTIONAL);
  }

  static Event synced() {
    return new dmasim.protocol.IommuEvent.RangeSynced(new DeviceId(0), "cpu0/s", "sync", IOVA_PFN, 2, true, 0);
  }

  static Event mkey(long... pfns) {
    return new HcaEvent.MkeyCreated("save", "cpu0", List.of(IOVA_PFN << 12, (IOVA_PFN + 1) << 12), java.util.Arrays.stream(pfns).boxed().toList());
  }

  @Test
  void v1ThePageListMkeyComesAfterTheMappingAndItsSync() {
    H early = new H().on("iommu0", linked(0, 0x1000), linked(1, 0x1001)).on("hca0", mkey(0x1000, 0x1001));
    assertEquals(List.of("V1 @2"), early.verdict());
    assertEquals("cpu0 creates mkey save while its MTT entry 0 (0xfffc0000) is linked but not yet made visible by dma_iova_sync: the device may use "
        + "the mkey at once (register_dma_pages links every page, syncs once, and only then is the mkey created)", early.message());
    H unmapped = new H().on("iommu0", linked(0, 0x1000), synced()).on("hca0", mkey(0x1000, 0x1001));
    assertEquals(List.of("V1 @2"), unmapped.verdict());
    H good = new H().on("iommu0", linked(0, 0x1000), linked(1, 0x1001)).on("iommu0", synced()).on("hca0", mkey(0x1000, 0x1001));
    assertEquals(List.of(), good.verdict());
  }

  @Test
  void v3MttEntryIIsTheAddressOfPageI() {
    H swapped = new H().on("iommu0", linked(0, 0x1000), linked(1, 0x1001)).on("iommu0", synced()).on("hca0", mkey(0x1001, 0x1000));
    assertEquals(List.of("V3 @3"), swapped.verdict());
    assertEquals("cpu0 creates mkey save whose MTT entry 0 (0xfffc0000) leads to pfn 0x1000, not to page 0 of its buffer (pfn 0x1001): MTT[i] must "
        + "be state.addr + i * 4 KiB of the linked list, or the dma_map_page address of page i", swapped.message());
  }

  @Test
  void v2TheMkeyGoesBeforeTheMappingAndTheMappingBeforeThePages() {
    Event cleared = new dmasim.protocol.IommuEvent.PtesCleared(new DeviceId(0), "cpu0/s", "destroy", IOVA_PFN, 0, 8192, IOVA_PFN, 2, 2);
    H unmapFirst = new H().on("iommu0", linked(0, 0x1000), linked(1, 0x1001)).on("iommu0", synced()).on("hca0", mkey(0x1000, 0x1001))
        .on("iommu0", cleared);
    assertEquals(List.of("V2 @4"), unmapFirst.verdict());
    assertEquals("MTT entry 0 (0xfffc0000) of mkey save is unmapped from the IOMMU while the mkey still exists: a SAVE or LOAD through it reaches an "
        + "unmapped IOVA (destroy the mkey first, then unregister the DMA, then free)", unmapFirst.message());
    H freeFirst = new H().on("iommu0", linked(0, 0x1000), linked(1, 0x1001)).on("iommu0", synced()).on("hca0", mkey(0x1000, 0x1001))
        .on("mem", new MemoryEvent.PagesFreed("cpu0/pages", List.of(0x1000L, 0x1001L)));
    assertEquals(List.of("V2 @4"), freeFirst.verdict());
    H good = new H().on("iommu0", linked(0, 0x1000), linked(1, 0x1001)).on("iommu0", synced()).on("hca0", mkey(0x1000, 0x1001))
        .on("hca0", new HcaEvent.Freed("save", "cpu0")).on("iommu0", cleared).on("mem", new MemoryEvent.PagesFreed("cpu0/pages", List.of(0x1000L, 0x1001L)));
    assertEquals(List.of(), good.verdict());
  }
}
