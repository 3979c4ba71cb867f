package dmasim.actors.iommu;

import static dmasim.actors.iommu.IommuHarness.expect;
import static dmasim.actors.iommu.IommuHarness.nothingLeft;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dmasim.actors.model.Decision;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.Errno;
import dmasim.protocol.Event;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuEvent.ApiReturned;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Phys;
import dmasim.protocol.Segment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Devices attached by a program step (iommu_setup_dma_ops -> iommu_dma_init_domain): each decision
 * whole, its events and sends in order, then nothing left. Two devices share the domain, neither is
 * attached at start, so the IOVA domain starts uninitialised (start_pfn == 0).
 */
class IommuAttachTest {
  private static final DeviceId NVME = new DeviceId(0);
  private static final DeviceId NIC = new DeviceId(1);
  private static final long PAGE = 4096;

  private static IommuSettings settings(boolean unlocked, long latency) {
    return IommuSettings.defaults(IommuSettings.Mode.STRICT, 2, Map.of(NVME, new IommuSettings.DeviceSpec(64, false, false, true, false),
        NIC, new IommuSettings.DeviceSpec(64, false, false, true, false))).withInitDomainUnlocked(unlocked).withInitDomainLatency(latency);
  }

  private static Decision.Send attachedReply(String cpu, String dev) {
    return new Decision.Send(cpu, new IommuReply.Returned("attach_device", dev, Errno.OK, 0, List.of()), 0);
  }

  private static Decision.Send lands(long id, long delay) {
    return new Decision.Send("iommu0", new IommuCommand.DomainInitLands(id), delay);
  }



  @Test
  void withTheMutexASecondAttachSleepsUntilTheFirstInitialisationIsDone() {
    IommuHarness h = new IommuHarness(settings(false, 2_000));
    assertFalse(h.state.iovaDomainReady());
    h.deliver("cpu0", new IommuCommand.AttachDevice(NVME));
    expect(h, List.of(new IommuEvent.DomainInitStarted(1, NVME, "cpu0/attach:dev0", true)), List.of(lands(1, 2_000)));
    h.deliver("cpu1", new IommuCommand.AttachDevice(NIC));
    // mutex_lock(&cookie->mutex) sleeps: no check of start_pfn, no answer yet.
    expect(h, List.of(new IommuEvent.AttachWaiting(NIC, "cpu1/attach:dev1", "cpu0/attach:dev0")), List.of());
    assertFalse(h.state.attached(NVME));
    h.drainSelf();
    expect(h, List.of(new IommuEvent.DomainInitialised(1, NVME, "cpu0/attach:dev0"),
        new IommuEvent.DeviceAttached(NVME, "cpu0/attach:dev0", "initialised the IOVA domain (init_iova_domain)"),
        new IommuEvent.DeviceAttached(NIC, "cpu1/attach:dev1", "start_pfn already set once cookie->mutex was released")),
        List.of(attachedReply("cpu0", "dev0"), attachedReply("cpu1", "dev1")));
    assertTrue(h.state.iovaDomainReady());
    assertTrue(h.state.attached(NVME));
    assertTrue(h.state.attached(NIC));
    assertEquals(null, h.state.initMutexHolder);
    assertEquals(List.of(), h.state.initWaiters);
    nothingLeft(h);
  }

  @Test
  void anAttachAfterTheInitialisationFindsStartPfnSet() {
    IommuHarness h = new IommuHarness(settings(false, 0));
    h.deliver("cpu0", new IommuCommand.AttachDevice(NVME));
    h.drainSelf();
    h.takeEvents();
    h.takeSends();
    h.deliver("cpu1", new IommuCommand.AttachDevice(NIC));
    expect(h, List.of(new IommuEvent.DeviceAttached(NIC, "cpu1/attach:dev1", "start_pfn already set: the IOVA domain is initialised")),
        List.of(attachedReply("cpu1", "dev1")));
    nothingLeft(h);
  }

  @Test
  void withoutTheMutexBothAttachesSeeStartPfnZeroAndInitialise() {
    IommuHarness h = new IommuHarness(settings(true, 2_000));
    h.deliver("cpu0", new IommuCommand.AttachDevice(NVME));
    expect(h, List.of(new IommuEvent.DomainInitStarted(1, NVME, "cpu0/attach:dev0", false)), List.of(lands(1, 2_000)));
    h.deliver("cpu1", new IommuCommand.AttachDevice(NIC));
    expect(h, List.of(new IommuEvent.DomainInitStarted(2, NIC, "cpu1/attach:dev1", false)), List.of(lands(2, 2_000)));
    assertTrue(h.deliverNextSelf());
    expect(h, List.of(new IommuEvent.DomainInitialised(1, NVME, "cpu0/attach:dev0"),
        new IommuEvent.DeviceAttached(NVME, "cpu0/attach:dev0", "initialised the IOVA domain (init_iova_domain)")),
        List.of(attachedReply("cpu0", "dev0")));
    assertTrue(h.deliverNextSelf());
    expect(h, List.of(new IommuEvent.DomainInitialised(2, NIC, "cpu1/attach:dev1"),
        new IommuEvent.DeviceAttached(NIC, "cpu1/attach:dev1", "initialised the IOVA domain (init_iova_domain)")),
        List.of(attachedReply("cpu1", "dev1")));
    nothingLeft(h);
  }

  @Test
  void callsOfADeviceNotYetAttachedFailAsAFailedDeferredAttach() {
    IommuHarness h = new IommuHarness(settings(false, 0));
    h.deliver("cpu0", new IommuCommand.TryAlloc(NVME, "s", new Phys(0x7000), PAGE));
    expect(h, List.of(new IommuEvent.IovaAllocFailed(NVME, "cpu0/s", "try_alloc", PAGE, IommuLogic.NOT_ATTACHED)),
        List.of(new Decision.Send("cpu0", new IommuReply.Returned("try_alloc", "s", Errno.OK, 0, List.of()), 0)));
    h.deliver("cpu0", new IommuCommand.MapPhys(NVME, "h.0", new Phys(0x7000), PAGE, Direction.TO_DEVICE, DmaAttrs.NONE));
    expect(h, List.of(new ApiReturned(NVME, "cpu0/h.0", "map_phys", Iova.MAPPING_ERROR, 0, 0, PAGE, Direction.TO_DEVICE, 1, false,
        Errno.EINVAL)), List.of(new Decision.Send("cpu0", new IommuReply.Returned("map_phys", "h.0", Errno.EINVAL, Iova.MAPPING_ERROR.addr(),
        List.of()), 0)));
    h.deliver("cpu0", new IommuCommand.MapSg(NVME, "sg", List.of(new Segment(new Phys(0x7000), 4096)), Direction.TO_DEVICE, DmaAttrs.NONE));
    expect(h, List.of(new ApiReturned(NVME, "cpu0/sg", "map_sg", Iova.MAPPING_ERROR, 0, 0, 0, Direction.TO_DEVICE, 1, false, Errno.EINVAL)),
        List.of(new Decision.Send("cpu0", new IommuReply.Returned("map_sg", "sg", Errno.EINVAL, 0, List.of()), 0)));
    assertEquals(0, h.state.allocator().allocations());
    nothingLeft(h);

    // Once attached the same call maps.
    h.deliver("cpu0", new IommuCommand.AttachDevice(NVME));
    h.drainSelf();
    h.takeEvents();
    h.takeSends();
    IommuReply.Returned mapped = IommuHarness.returned(h.deliver("cpu0", new IommuCommand.MapPhys(NVME, "h.0", new Phys(0x7000), PAGE,
        Direction.TO_DEVICE, DmaAttrs.NONE)));
    assertEquals(Errno.OK, mapped.errno());
    assertEquals(0xfffff000L, mapped.value());
  }
}
