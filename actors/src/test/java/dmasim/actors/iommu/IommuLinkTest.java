package dmasim.actors.iommu;

import static dmasim.actors.iommu.IommuHarness.DEV;
import static dmasim.actors.iommu.IommuHarness.returned;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dmasim.actors.model.Decision;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.Errno;
import dmasim.protocol.Event;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.Phys;
import dmasim.protocol.Prot;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** dma_iova_link's attribute checks and the swiotlb helper's failure path, each as the whole ordered list of events it emits. */
class IommuLinkTest {
  private static final long PAGE = 4096;

  static IommuHarness harness(IommuSettings.DeviceSpec spec) {
    return new IommuHarness(IommuSettings.defaults(IommuSettings.Mode.STRICT, 2, Map.of(DEV, spec)));
  }

  static long tryAlloc(IommuHarness h, long phys, long size) {
    return returned(h.deliver("cpu0", new IommuCommand.TryAlloc(DEV, "s", new Phys(phys), size))).value();
  }

  static Decision link(IommuHarness h, long addr, long stateSize, long phys, long size, int attrs) {
    return h.deliver("cpu0", new IommuCommand.Link(DEV, "s", new Iova(addr), stateSize, 0, new Phys(phys), size, Direction.TO_DEVICE,
        new DmaAttrs(attrs)));
  }

  @Test
  void mmioLinksMapWithIommuMmioInsteadOfCache() {
    IommuHarness h = harness(new IommuSettings.DeviceSpec(64, false));
    long addr = tryAlloc(h, 0x100000, PAGE);
    Decision d = link(h, addr, PAGE, 0x100000, PAGE, DmaAttrs.MMIO);
    long pfn = addr >>> 12;
    assertEquals(List.<Event>of(new IommuEvent.RangeLinked(DEV, "cpu0/s", "link", pfn, 0, PAGE, pfn, 0x100, 1, new Prot(Prot.READ | Prot.MMIO),
        Direction.TO_DEVICE)), d.events());
    assertEquals(Errno.OK, returned(d).errno());
  }

  @Test
  void requireCoherentOnANonCoherentDeviceFailsWithEopnotsupp() {
    IommuHarness h = harness(new IommuSettings.DeviceSpec(64, false, false, false));
    long addr = tryAlloc(h, 0x10000, PAGE);
    Decision d = link(h, addr, PAGE, 0x10000, PAGE, DmaAttrs.REQUIRE_COHERENT);
    assertEquals(List.<Event>of(new IommuEvent.MapFailed(DEV, "cpu0/s", "link", 0, PAGE, Errno.EOPNOTSUPP,
        "DMA_ATTR_REQUIRE_COHERENT on a non-coherent device")), d.events());
    assertEquals(Errno.EOPNOTSUPP, returned(d).errno());
  }

  @Test
  void mmioThatWouldNeedBouncingForAnUntrustedDeviceFailsWithEperm() {
    IommuHarness h = harness(new IommuSettings.DeviceSpec(64, false, true));
    long addr = tryAlloc(h, 0x100200, PAGE);
    Decision d = link(h, addr, PAGE, 0x100200, 1000, DmaAttrs.MMIO);
    assertEquals(List.<Event>of(new IommuEvent.MapFailed(DEV, "cpu0/s", "link", 0, 1000, Errno.EPERM,
        "swiotlb bouncing needed, but DMA_ATTR_MMIO memory cannot be bounced")), d.events());
  }

  @Test
  void requireCoherentAfterTheStateWentThroughSwiotlbFailsWithEopnotsupp() {
    IommuHarness h = harness(new IommuSettings.DeviceSpec(64, false, true));
    long addr = tryAlloc(h, 0x10200, 2 * PAGE);
    assertEquals(Errno.OK, returned(link(h, addr, 2 * PAGE, 0x10200, 3584, 0)).errno());
    Decision d = h.deliver("cpu0", new IommuCommand.Link(DEV, "s", new Iova(addr), 2 * PAGE, 3584, new Phys(0x20000), PAGE,
        Direction.TO_DEVICE, new DmaAttrs(DmaAttrs.REQUIRE_COHERENT)));
    assertEquals(List.<Event>of(new IommuEvent.MapFailed(DEV, "cpu0/s", "link", 3584, PAGE, Errno.EOPNOTSUPP,
        "DMA_ATTR_REQUIRE_COHERENT on a state that already used swiotlb (WARN_ON_ONCE)")), d.events());
  }

  @Test
  void aFailedMiddleUnlinksTheBouncedHeadFromThisLinksOffsetAndFreesItsSlot() {
    FaultPlan plan = new FaultPlan(List.of(new FaultPlan.Rule("link", 1, 0, 0, Errno.ENOMEM)));
    IommuHarness h = new IommuHarness(IommuSettings.defaults(IommuSettings.Mode.STRICT, 2, Map.of(DEV, new IommuSettings.DeviceSpec(64, false, true)))
        .withFaults(plan, 1));
    long addr = tryAlloc(h, 0x10200, 3 * PAGE);
    long base = addr >>> 12;
    long slot = IommuSettings.SWIOTLB_PFN;
    Decision d = link(h, addr, 3 * PAGE, 0x10200, 3 * PAGE, 0);
    Prot prot = new Prot(Prot.READ | Prot.CACHE);
    assertEquals(List.<Event>of(
        new IommuEvent.Bounced("cpu0/s", base, 0x10, slot, 3584, Direction.TO_DEVICE),
        new IommuEvent.BounceCopied("cpu0/s", slot, 0x10, true),
        new IommuEvent.RangeLinked(DEV, "cpu0/s", "link-part", base, 0, 3584, base, slot, 1, prot, Direction.TO_DEVICE),
        new IommuEvent.FaultDecided("link", "cpu0", "cpu0/s", 1, true, Errno.ENOMEM, plan.rules().get(0).describe()),
        new IommuEvent.PtesCleared(DEV, "cpu0/s", "unlink", base, 0, 3584, base, 1, 1),
        new IommuEvent.BounceReleased(base, slot),
        new IommuEvent.InvalidationPosted(1, "range", base, 1, 1, null),
        new IommuEvent.InvalidationCompleted(1, "range", base, 1, 0),
        new IommuEvent.MapFailed(DEV, "cpu0/s", "link", 0, 3 * PAGE, Errno.ENOMEM, "fault injected: iommu_map_nosync of the aligned middle fails")),
        d.events());
    assertEquals(Errno.ENOMEM, returned(d).errno());
    assertEquals(0, h.state.pageTable().size(), "nothing of the failed link stays mapped");
  }
}
