package dmasim.actors.memory;

/**
 * Physical memory that is not ordinary RAM: an MMIO range, or a P2P provider's BAR as seen from the
 * client device, with the path between them (include/linux/pci-p2pdma.h PCI_P2PDMA_MAP_*):
 * BUS_ADDRESS (a common switch, no ACS redirect: use the bus address, nothing is mapped),
 * HOST_BRIDGE (through an allow-listed host bridge: map normally), NOT_SUPPORTED (-EREMOTEIO).
 * Neither has struct pages: mapping them needs DMA_ATTR_MMIO.
 *
 * @param busOffsetPages provider->bus_offset in pages (bus address = phys + offset)
 */
public record Region(String name, Kind kind, long startPfn, long pages, Path path, long busOffsetPages) {
  /** What the region is. */
  public enum Kind {
    MMIO,
    P2P
  }

  /** The P2P mapping type between provider and client. */
  public enum Path {
    NONE,
    BUS_ADDRESS,
    HOST_BRIDGE,
    NOT_SUPPORTED
  }

  public Region {
    if (pages < 1 || startPfn < 1) throw new IllegalArgumentException("bad region " + name);
    if (kind == Kind.P2P && path == Path.NONE) throw new IllegalArgumentException("a P2P region needs a path");
  }

  public boolean contains(long pfn) {
    return pfn >= startPfn && pfn < startPfn + pages;
  }
}
