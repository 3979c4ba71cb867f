package dmasim.protocol;

/** enum dma_data_direction; the IOMMU prot follows dma_info_to_prot(). */
public enum Direction {
  BIDIRECTIONAL,
  TO_DEVICE,
  FROM_DEVICE,
  NONE;

  /** TO_DEVICE -> READ, FROM_DEVICE -> WRITE, BIDIRECTIONAL -> READ|WRITE (dma_info_to_prot). */
  public Prot prot(boolean mmio) {
    int bits = switch (this) {
      case BIDIRECTIONAL -> Prot.READ | Prot.WRITE;
      case TO_DEVICE -> Prot.READ;
      case FROM_DEVICE -> Prot.WRITE;
      case NONE -> 0;
    };
    return new Prot(bits | (mmio ? Prot.MMIO : Prot.CACHE));
  }

  /** May the device write memory through a mapping of this direction. */
  public boolean deviceMayWrite() {
    return this == BIDIRECTIONAL || this == FROM_DEVICE;
  }

  /** May the device read memory through a mapping of this direction. */
  public boolean deviceMayRead() {
    return this == BIDIRECTIONAL || this == TO_DEVICE;
  }
}
