package dmasim.actors.iommu;

import dmasim.actors.model.Decision;
import dmasim.actors.model.Names;
import dmasim.actors.state.FlushQueue;
import dmasim.actors.state.Iotlb;
import dmasim.actors.state.IovaAllocator;
import dmasim.actors.state.PageTable;
import dmasim.protocol.DeviceCommand;
import dmasim.protocol.DeviceId;
import dmasim.protocol.DeviceReply;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Envelope;
import dmasim.protocol.Errno;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuEvent.ApiReturned;
import dmasim.protocol.IommuEvent.Continuation;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Message;
import dmasim.protocol.Prot;
import dmasim.protocol.Segment;
import java.util.ArrayList;
import java.util.List;

/** iommu_dma_iova_link_swiotlb and its unwind: the swiotlb branch of dma_iova_link for devices that must bounce. */
final class SwiotlbLink extends IommuCall {
  SwiotlbLink(IommuLogic k) {
    super(k);
  }

  /**
   * iommu_dma_iova_link_swiotlb: an unaligned buffer for a device that must not see its neighbours
   * is linked in three parts: the partial head granule and the partial tail bounced through swiotlb
   * slots, the aligned middle mapped directly. Each piece is a "link-part"; the call's whole range
   * is declared as one "link" (no pages of its own) only once every piece is in. On a failure the
   * fixed helper (6ec91df8aff7) unlinks what it mapped, from this link's offset, which also frees the
   * slots (out_unmap: if (mapped) dma_iova_unlink(state, offset, mapped)). With
   * {@code swiotlbZeroMiddleBug} (before that fix) an empty middle is still mapped - iommu_map of 0
   * bytes fails - and the unwind unlinks from offset 0 of the state instead of this link's offset.
   */
  void linkSwiotlb(IommuCommand.Link c, String owner) {
    long granule = cfg.granule();
    long addr = c.addr().addr() + c.offset();
    long phys = c.phys().addr();
    long startPad = pad(phys);
    long endPad = pad(phys + c.size());
    long size = c.size();
    long mapped = 0;
    long allocBase = s.allocator.baseContaining((addr - startPad) >>> cfg.granuleShift());
    Prot prot = cfg.prot(c.dev(), c.dir(), false);
    java.util.Iterator<Long> slots = s.slots.free();
    if (startPad != 0) {
      long len = Math.min(size, granule - startPad);
      if (!slotFor(slots, owner)) { // nothing is linked yet: the error is returned directly
        k.iovaApi.failLink(c, owner, Errno.ENOMEM, "swiotlb slots exhausted");
        return;
      }
      bounceAndLink(c, owner, allocBase, c.offset(), (addr - startPad) >>> cfg.granuleShift(), phys >>> cfg.granuleShift(), slots.next(), len,
          prot);
      mapped += len;
      size -= len;
      if (size == 0) {
        k.iovaApi.linked(c, owner, allocBase, prot);
        return;
      }
    }
    size -= endPad;
    if (size > 0 || cfg.swiotlbZeroMiddleBug()) {
      int err = size == 0 ? Errno.EINVAL : fault("link", owner);
      if (err != Errno.OK) {
        unwindSwiotlb(c, owner, mapped, err, size == 0 ? "iommu_map of an empty aligned middle (0 bytes) in the swiotlb link helper"
            : "fault injected: iommu_map_nosync of the aligned middle fails");
        return;
      }
      long pfn = (addr + mapped) >>> cfg.granuleShift();
      for (long q = pfn; q < pfn + (size >>> cfg.granuleShift()); q++) k.linkedNow.add(q);
      d.emit(new IommuEvent.RangeLinked(c.dev(), owner, "link-part", allocBase, c.offset() + mapped, size, pfn,
          (phys + mapped) >>> cfg.granuleShift(), size >>> cfg.granuleShift(), prot, c.dir()));
      mapped += size;
    }
    if (endPad != 0) {
      if (!slotFor(slots, owner)) {
        unwindSwiotlb(c, owner, mapped, Errno.ENOMEM, "swiotlb slots exhausted");
        return;
      }
      bounceAndLink(c, owner, allocBase, c.offset() + mapped, (addr + mapped) >>> cfg.granuleShift(), (phys + mapped) >>> cfg.granuleShift(),
          slots.next(), endPad, prot);
    }
    k.iovaApi.linked(c, owner, allocBase, prot);
  }

  /** Whether a bounce slot is free for {@code owner}: one is left and the fault plan does not fail this slot allocation. */
  private boolean slotFor(java.util.Iterator<Long> slots, String owner) {
    return slots.hasNext() && fault(FaultPlan.SWIOTLB, owner) == 0;
  }

  /** out_unmap of the swiotlb helper: undo what this call mapped (fixed: from its offset; buggy: from 0), then fail. */
  void unwindSwiotlb(IommuCommand.Link c, String owner, long mapped, int errno, String why) {
    if (cfg.swiotlbZeroMiddleBug()) unwindUnlink(c, owner, 0, mapped);
    else if (mapped > 0) unwindUnlink(c, owner, c.offset(), mapped);
    k.iovaApi.failLink(c, owner, errno, why);
  }

  void bounceAndLink(IommuCommand.Link c, String owner, long allocBase, long offset, long iovaPfn, long origPfn, long slot, long len,
      Prot prot) {
    IommuEvent.Bounced bounced = new IommuEvent.Bounced(owner, iovaPfn, origPfn, slot, len, c.dir());
    d.emit(bounced);
    k.bouncedNow.put(iovaPfn, bounced);
    k.linkedNow.add(iovaPfn);
    // swiotlb_tbl_map_single: the slot is filled from the original for TO_DEVICE; since aa6f8dcbab47
    // for every direction, so a short FROM_DEVICE transfer cannot leave stale slot data behind.
    if (c.dir() != Direction.FROM_DEVICE || cfg.swiotlbInitSlot()) d.emit(new IommuEvent.BounceCopied(owner, slot, origPfn, true));
    d.emit(new IommuEvent.RangeLinked(c.dev(), owner, "link-part", allocBase, offset, len, iovaPfn, slot, 1, prot, c.dir()));
  }

  /** dma_iova_unlink(state, offset, len) done synchronously inside the failing link call. */
  void unwindUnlink(IommuCommand.Link c, String owner, long offset, long len) {
    long a = c.addr().addr() + offset;
    long pad = pad(a);
    long pfn = (a - pad) >>> cfg.granuleShift();
    long pages = 0;
    while (pages < pagesFor(len + pad) && (s.pageTable.lookup(pfn + pages) >= 0 || k.linkedNow.contains(pfn + pages))) pages++;
    if (pages == 0) return;
    d.emit(new IommuEvent.PtesCleared(c.dev(), owner, "unlink", s.allocator.baseContaining(pfn), offset, len, pfn, pages, pages));
    releaseBounces(pfn, pages);
    long id = k.nextId++;
    d.emit(new IommuEvent.InvalidationPosted(id, "range", pfn, pages, 1, null));
    d.emit(new IommuEvent.InvalidationCompleted(id, "range", pfn, pages, countCached(pfn, pages)));
  }
}
