package dmasim.actors.cpu;

import dmasim.protocol.DeviceId;
import dmasim.protocol.Direction;

/**
 * The built-in driver programs. Requests alternate between a write to the device (TO_DEVICE: the
 * CPU fills the buffer first) and a read from it (FROM_DEVICE: the CPU reads after unmapping).
 */
public final class Programs {
  /** Deliberate mistakes a program can make, each the buggy half of a catalogue pair. */
  public enum Bug {
    NONE,
    /** dma_iova_link without dma_iova_sync (harmful on a caching-mode IOMMU). */
    MISSING_SYNC,
    /** dma_iova_free instead of dma_iova_destroy: the ranges stay linked. */
    FREE_LIVE_LINKS
  }

  private Programs() {}

  /**
   * The NVMe request as block/blk-mq-dma.c maps it: dma_iova_try_alloc, one dma_iova_link per
   * segment, one dma_iova_sync, submit, completion, dma_iova_destroy; when try_alloc fails, the
   * fallback maps each segment with dma_map_phys (checked with dma_mapping_error) and unmaps each.
   */
  public static Program nvmeIova(DeviceId dev, int segments, long requests, Bug bug) {
    Program.Builder b = new Program.Builder("nvme-iova" + (bug == Bug.NONE ? "" : "/" + bug.name().toLowerCase(java.util.Locale.ROOT)));
    b.op(new Op.Label("top")).op(new Op.AllocBuffer("buf", segments)).op(new Op.JumpIfError("finish"));
    b.op(new Op.JumpIfOdd("req", "read"));
    b.op(new Op.Touch("buf", true));
    iovaRequest(b, "w-", dev, segments, Direction.TO_DEVICE, false, bug);
    b.op(new Op.Goto("release"));
    b.op(new Op.Label("read"));
    iovaRequest(b, "r-", dev, segments, Direction.FROM_DEVICE, true, bug);
    b.op(new Op.Touch("buf", false));
    b.op(new Op.Label("release")).op(new Op.FreeBuffer("buf"));
    return finish(b, dev, requests);
  }

  private static void iovaRequest(Program.Builder b, String p, DeviceId dev, int segments, Direction dir, boolean deviceWrites, Bug bug) {
    b.op(new Op.TryAlloc("state", "buf", dev, 0)).op(new Op.JumpIfNoIova("state", p + "fallback"));
    for (int i = 0; i < segments; i++) b.op(new Op.Link("state", "buf", i, dev, dir)).op(new Op.JumpIfError(p + "link-failed"));
    if (bug != Bug.MISSING_SYNC) b.op(new Op.Sync("state", dev)).op(new Op.JumpIfError(p + "link-failed"));
    b.op(new Op.Submit(dev, "state:state", deviceWrites)).op(new Op.Await());
    if (bug == Bug.FREE_LIVE_LINKS) b.op(new Op.Free("state", dev));
    else b.op(new Op.Destroy("state", -1, dev, dir));
    b.op(new Op.Goto(p + "done"));
    // A failed link: destroy what was linked so far (mapped_len 0 just frees the IOVA).
    b.op(new Op.Label(p + "link-failed")).op(new Op.Destroy("state", -2, dev, dir)).op(new Op.Goto(p + "done"));
    b.op(new Op.Label(p + "fallback"));
    for (int i = 0; i < segments; i++) {
      b.op(new Op.MapPhys("dma", "buf", i, dev, dir)).op(new Op.MappingError("dma", i, dev)).op(new Op.JumpIfError(p + "map-failed"));
    }
    b.op(new Op.Submit(dev, "handles:dma", deviceWrites)).op(new Op.Await());
    b.op(new Op.Label(p + "map-failed"));
    for (int i = 0; i < segments; i++) b.op(new Op.UnmapPhys("dma", i, dev, dir));
    b.op(new Op.Label(p + "done"));
  }

  /** The classic path: dma_map_sg, submit, completion, dma_sync_sg_for_cpu before the CPU reads, dma_unmap_sg. */
  public static Program nvmeClassic(DeviceId dev, int segments, long requests) {
    Program.Builder b = new Program.Builder("nvme-classic");
    b.op(new Op.Label("top")).op(new Op.AllocBuffer("buf", segments)).op(new Op.JumpIfError("finish"));
    b.op(new Op.JumpIfOdd("req", "read"));
    b.op(new Op.Touch("buf", true)).op(new Op.MapSg("sgt", "buf", dev, Direction.TO_DEVICE)).op(new Op.JumpIfError("release"));
    b.op(new Op.Submit(dev, "sg:sgt", false)).op(new Op.Await()).op(new Op.UnmapSg("sgt", -1, dev, Direction.TO_DEVICE));
    b.op(new Op.Goto("release"));
    b.op(new Op.Label("read")).op(new Op.MapSg("sgt", "buf", dev, Direction.FROM_DEVICE)).op(new Op.JumpIfError("release"));
    b.op(new Op.Submit(dev, "sg:sgt", true)).op(new Op.Await());
    b.op(new Op.SyncFor("sgt", 0, true, dev, Direction.FROM_DEVICE)).op(new Op.Touch("buf", false));
    b.op(new Op.UnmapSg("sgt", -1, dev, Direction.FROM_DEVICE));
    b.op(new Op.Label("release")).op(new Op.FreeBuffer("buf"));
    return finish(b, dev, requests);
  }

  private static Program finish(Program.Builder b, DeviceId dev, long requests) {
    b.op(new Op.RequestDone()).op(new Op.Loop("req", requests, "top"));
    b.op(new Op.Label("finish")).op(new Op.Unbind(dev)).op(new Op.End());
    return b.build();
  }
}
