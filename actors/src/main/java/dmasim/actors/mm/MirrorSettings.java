package dmasim.actors.mm;

import dmasim.protocol.DeviceId;

/**
 * A mirror (number {@code id} of the run): the interval subscription {@code name} over [start, start + pages * 4096) of address
 * space {@code mm}, kept in step with the device page table of {@code device} by a driver whose
 * user lock is {@code lock} (the lock its invalidate callback takes).
 *
 * @param dma true: the device reaches pages through the DMA API (hmm_dma_map_alloc / map_pfn, the
 *     IOMMU translates); false: it uses the pfns themselves (lib/test_hmm.c dmirror keeps struct
 *     page pointers)
 * @param bounces the device would bounce through swiotlb or needs CPU cache syncs, so
 *     hmm_dma_map_alloc refuses it (-EOPNOTSUPP)
 * @param owner the driver's dev_private_owner ("" for none): its device-private pages
 * @param p2p the PCI P2P regions a DMA mirror's pages may be in, with the path to each from this device
 * @param sharedPfns hmm_range_fault writes straight into the driver's hmm_dma_map pfn list (the RDMA ODP
 *     way: range.hmm_pfns = &map.pfn_list[i]), one load and one store per page, without the driver's
 *     lock; the DMA_MAPPED bits the helpers keep live in those words
 * @param faultQueue "" : a device fault is answered to the accessing queue (EFAULT); else the actor
 *     (an RDMA device) the fault is posted to: the access stalls until a handler resumes its token
 */
public record MirrorSettings(int id, String name, int mm, long start, long pages, DeviceId device, String lock, boolean dma, boolean bounces, String owner,
    java.util.List<dmasim.actors.memory.Region> p2p, boolean sharedPfns, String faultQueue) {
  public MirrorSettings(int id, String name, int mm, long start, long pages, DeviceId device, String lock, boolean dma, boolean bounces, String owner) {
    this(id, name, mm, start, pages, device, lock, dma, bounces, owner, java.util.List.of(), false, "");
  }

  public MirrorSettings(int id, String name, int mm, long start, long pages, DeviceId device, String lock, boolean dma, boolean bounces, String owner,
      java.util.List<dmasim.actors.memory.Region> p2p) {
    this(id, name, mm, start, pages, device, lock, dma, bounces, owner, p2p, false, "");
  }

  public MirrorSettings(int id, String name, int mm, long start, long pages, DeviceId device, String lock, boolean dma, boolean bounces, String owner,
      java.util.List<dmasim.actors.memory.Region> p2p, boolean sharedPfns) {
    this(id, name, mm, start, pages, device, lock, dma, bounces, owner, p2p, sharedPfns, "");
  }

  /** The same mirror, its device faults posted to {@code queue} (an RDMA device's page-fault event queue). */
  public MirrorSettings withFaultQueue(String queue) {
    return new MirrorSettings(id, name, mm, start, pages, device, lock, dma, bounces, owner, p2p, sharedPfns, queue);
  }

  /** The P2P region holding {@code pfn} (pci_p2pdma_state asks the page's pgmap), or null for RAM. */
  public dmasim.actors.memory.Region p2pRegion(long pfn) {
    for (dmasim.actors.memory.Region r : p2p) if (r.contains(pfn)) return r;
    return null;
  }

  public long vpn(int index) {
    return (start >>> 12) + index;
  }

  /** The page index of {@code va} in the range, or -1. */
  public int index(long va) {
    long i = (va >>> 12) - (start >>> 12);
    return i < 0 || i >= pages ? -1 : (int) i;
  }
}
