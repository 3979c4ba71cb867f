package dmasim.actors.monitor;

import static dmasim.actors.monitor.MonitorsTest.DEV;
import static dmasim.actors.monitor.MonitorsTest.access;
import static dmasim.actors.monitor.MonitorsTest.cleared;
import static dmasim.actors.monitor.MonitorsTest.link;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceEvent;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/** DeviceAccessAfterUnmap: I19 (a descriptor's DMA after its mapping was torn down) and I20 (a descriptor over unmapped addresses). */
class DeviceAccessMonitorTest {
  static final long TAG = 1;

  static CpuEvent.DescriptorSubmitted submit(long iovaPfn, long bytes) {
    return new CpuEvent.DescriptorSubmitted(7, "dev0", TAG, List.of(new DmaSegment(new Iova(iovaPfn << 12), bytes)), false, "state:s");
  }

  static IommuEvent.DmaFaulted fault(long pfn, boolean stray) {
    return new IommuEvent.DmaFaulted(DEV, TAG, new Iova(pfn << 12), false, "not present", stray);
  }

  Probe linkedAndSubmitted() {
    return new Probe(new DeviceAccessMonitor()).on("iommu0", link("cpu0/s", 8, 0, 16384, 8, 100, 4)).on("cpu0", submit(8, 16384))
        .on("iommu0", access(8, 100, false, "walk", false));
  }

  @Test
  void aFaultAfterTheDriverDestroyedTheMappingOfAnInFlightDescriptorFires() {
    Probe p = linkedAndSubmitted().on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 16384, 8, 4)).on("iommu0", fault(9, false))
        .on("iommu0", fault(10, false)).end();
    assertEquals(List.of("DeviceAccessAfterUnmap I19 @5"), p.verdict());
    assertEquals("dev0 faulted (not present) on DMA address 0x9000 for descriptor cpu0/tag1 that cpu0 submitted at step 2, after cpu0/s unmapped it"
        + " with destroy at step 4 while the descriptor was still in flight: quiesce or reset the device (and wait for it) before unmapping",
        p.message(0));
  }

  @Test
  void anAccessThroughAStaleTranslationAfterTheUnmapFiresToo() {
    Probe p = linkedAndSubmitted().on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 16384, 8, 4))
        .on("iommu0", access(8, 100, true, "iotlb", false)).end();
    assertEquals(List.of("DeviceAccessAfterUnmap I19 @5"), p.verdict());
  }

  @Test
  void unmappingAfterCompletionOrAResetIsQuietAndLateStrayAccessesAreNotJudgedHere() {
    Probe completed = linkedAndSubmitted().on("dev0", new DeviceEvent.DescriptorCompleted(TAG, 0))
        .on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 16384, 8, 4)).on("iommu0", fault(9, true)).end();
    assertEquals(List.of(), completed.verdict());
    Probe reset = linkedAndSubmitted().on("dev0", new DeviceEvent.DeviceWasReset(1, 0))
        .on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 16384, 8, 4)).end();
    assertEquals(List.of(), reset.verdict());
  }

  @Test
  void aDescriptorOverAddressesAlreadyUnmappedFiresAtSubmit() {
    Probe p = new Probe(new DeviceAccessMonitor()).on("iommu0", link("cpu0/h.0", 8, 0, 4096, 8, 100, 1))
        .on("iommu0", cleared("cpu0/h.0", "unmap_phys", 8, 0, 4096, 8, 1)).on("cpu0", submit(8, 4096)).on("iommu0", fault(8, false)).end();
    assertEquals(List.of("DeviceAccessAfterUnmap I20 @3"), p.verdict());
    assertEquals("cpu0 handed dev0 descriptor cpu0/tag1 over DMA address 0x8000 that is not mapped: cpu0/h.0 unmapped it with unmap_phys at step 2"
        + " - the device will DMA to whatever that address translates to", p.message(0));
  }

  @Test
  void aDescriptorOverNeverMappedAddressesSaysSo() {
    Probe p = new Probe(new DeviceAccessMonitor()).on("cpu0", submit(8, 8192));
    assertEquals(List.of("DeviceAccessAfterUnmap I20 @1"), p.verdict());
    assertEquals("cpu0 handed dev0 descriptor cpu0/tag1 over DMA address 0x8000 (and 1 more page(s)) that is not mapped (never mapped)"
        + " - the device will DMA to whatever that address translates to", p.message(0));
  }

  @Test
  void aStaleDescriptorWhoseAddressWasReusedByAnotherMappingFiresAtSubmit() {
    Probe p = new Probe(new DeviceAccessMonitor()).on("iommu0", link("cpu0/s", 8, 0, 4096, 8, 100, 1))
        .on("iommu0", cleared("cpu0/s", "destroy", 8, 0, 4096, 8, 1)).on("iommu0", link("cpu0/s2", 8, 0, 4096, 8, 200, 1))
        .on("cpu0", submit(8, 4096)).on("iommu0", access(8, 200, false, "walk", false)).end();
    assertEquals(List.of("DeviceAccessAfterUnmap I20 @4"), p.verdict());
    assertEquals("cpu0 handed dev0 descriptor cpu0/tag1 built from state:s over DMA address 0x8000, which now maps cpu0/s2's buffer (phys pfn 200):"
        + " cpu0/s unmapped it with destroy at step 2 and the address was reused - the device will DMA into another buffer, and nothing faults",
        p.message(0));
  }

  @Test
  void aDescriptorOverTheHandlesOfItsOwnGroupIsQuiet() {
    Probe p = new Probe(new DeviceAccessMonitor()).on("iommu0", link("cpu0/h.0", 8, 0, 4096, 8, 100, 1), link("cpu0/h.1", 9, 0, 4096, 9, 101, 1))
        .on("cpu0", new CpuEvent.DescriptorSubmitted(7, "dev0", TAG, List.of(new DmaSegment(new Iova(8L << 12), 4096),
            new DmaSegment(new Iova(9L << 12), 4096)), false, "handles:h"))
        .on("dev0", new DeviceEvent.DescriptorCompleted(TAG, 0)).end();
    assertEquals(List.of(), p.verdict());
  }

  @Test
  void aDescriptorCarryingDmaMappingErrorFiresAtSubmit() {
    Probe p = new Probe(new DeviceAccessMonitor()).on("iommu0", link("cpu0/h.0", 8, 0, 4096, 8, 100, 1))
        .on("cpu0", new CpuEvent.DescriptorSubmitted(7, "dev0", TAG, List.of(new DmaSegment(new Iova(8L << 12), 4096),
            new DmaSegment(Iova.MAPPING_ERROR, 4096)), false, "handles:h"))
        .on("dev0", new DeviceEvent.DescriptorCompleted(TAG, 0)).end();
    assertEquals(List.of("DeviceAccessAfterUnmap I20 @2"), p.verdict());
    assertEquals("cpu0 handed dev0 descriptor cpu0/tag1 built from handles:h with DMA_MAPPING_ERROR in it: a mapping failed and the driver did"
        + " not check dma_mapping_error before using the handle", p.message(0));
  }
}
