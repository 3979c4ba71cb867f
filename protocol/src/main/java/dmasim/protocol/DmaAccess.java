package dmasim.protocol;

/** A device memory access that went through a translation, whoever performed it (IOMMU or the device's ATC). */
public interface DmaAccess {
  DeviceId dev();

  long tag();

  Iova iova();

  long physPfn();

  boolean write();

  /** "iotlb", "walk" or "atc". */
  String via();

  boolean stray();
}
