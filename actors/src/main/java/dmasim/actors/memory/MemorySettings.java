package dmasim.actors.memory;

import java.util.List;

/**
 * Physical memory: {@code pages} pages of RAM, and the regions that are not RAM (MMIO ranges, P2P
 * BARs) with the path to each. The memory side's own settings; the DMA layer asks it what a
 * physical address is (as the kernel asks the page's pgmap), so the IOMMU settings hold none of it.
 */
public record MemorySettings(long pages, List<Region> regions) {
  public MemorySettings {
    regions = List.copyOf(regions);
  }

  /** RAM only. */
  public static MemorySettings of(long pages) {
    return new MemorySettings(pages, List.of());
  }

  /** The region holding physical page {@code pfn}, or null for RAM. */
  public Region regionOf(long pfn) {
    for (Region r : regions) if (r.contains(pfn)) return r;
    return null;
  }
}
