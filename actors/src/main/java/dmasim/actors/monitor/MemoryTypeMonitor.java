package dmasim.actors.monitor;

import dmasim.actors.memory.Region;
import dmasim.protocol.DeviceEvent;
import dmasim.protocol.DmaAccess;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.Prot;
import java.util.List;

/**
 * Memory that is not RAM: MMIO and P2P BARs have no struct page, so they
 * are mapped only with DMA_ATTR_MMIO (IOMMU_MMIO prot, no CPU cache maintenance, no swiotlb); a
 * P2P peer behind a common switch (PCI_P2PDMA_MAP_BUS_ADDR) is reached by its bus address, never
 * through the IOMMU - an IOVA sent there is routed by the switch as a bus address.
 */
public final class MemoryTypeMonitor extends AbstractMonitor {
  private final List<Region> regions;

  public MemoryTypeMonitor(List<Region> regions) {
    super("MemoryType", false);
    this.regions = List.copyOf(regions);
  }

  private Region regionOf(long pfn) {
    for (Region r : regions) if (r.contains(pfn)) return r;
    return null;
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (regions.isEmpty()) return;
    if (event instanceof IommuEvent.RangeLinked l) {
      Region r = regionOf(l.physPfn());
      if (r != null && (l.prot().bits() & Prot.MMIO) == 0) {
        violate("MEMTYPE", at, l.owner() + " mapped " + r.kind() + " region " + r.name() + " (no struct page) without DMA_ATTR_MMIO: the DMA"
            + " API would do CPU cache maintenance and swiotlb bouncing on a BAR");
      }
    } else if (event instanceof DmaAccess a) {
      Region r = regionOf(a.physPfn());
      if (r != null && r.path() == Region.Path.BUS_ADDRESS) {
        violate("P2P", at, a.dev() + " reached P2P region " + r.name() + " through the IOMMU at " + a.iova() + ", but the path is a PCIe switch"
            + " without ACS redirect: the switch routes that IOVA as a bus address (map with pci_p2pdma_bus_addr_map)");
      }
    } else if (event instanceof DeviceEvent.PeerAccessed p) {
      long pfn = p.busAddress().addr() >>> 12;
      boolean hit = regions.stream().anyMatch(r -> r.path() == Region.Path.BUS_ADDRESS && r.contains(pfn - r.busOffsetPages()));
      if (!hit) violate("P2P", at, p.dev() + " sent bus address " + p.busAddress() + " that belongs to no P2P provider reachable over a switch");
    }
  }
}
