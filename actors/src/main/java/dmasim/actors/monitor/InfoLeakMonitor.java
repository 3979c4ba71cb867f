package dmasim.actors.monitor;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.DmaAccess;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.MemoryEvent;
import java.util.HashMap;
import java.util.Map;

/**
 * Where data came from, page by page, through swiotlb: a page's contents are labelled with the
 * allocation that produced them (a CPU write into a buffer, or a device write for a mapping of
 * that buffer), copies to and from bounce slots carry the label along, and a copy back that
 * brings another allocation's data into a buffer is an information leak (B9, ddbd89deb7d3 and
 * aa6f8dcbab47: a FROM_DEVICE slot not filled from the buffer at map time, a short transfer, and
 * the unmap copies the slot's stale tail over the caller's buffer).
 */
public final class InfoLeakMonitor extends AbstractMonitor {
  private final Map<String, Integer> generations = new HashMap<>();
  private final Map<Long, String> allocation = new HashMap<>(); // page -> the allocation owning it now ("cpu0/buf#3")
  private final Map<Long, String> data = new HashMap<>(); // page -> the allocation whose data it holds
  private final Map<Long, Long> slotOrigin = new HashMap<>(); // bounce slot -> the original page it stands for

  public InfoLeakMonitor() {
    super("InfoLeak", false);
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof MemoryEvent.PagesAllocated a) {
      String label = a.owner() + "#" + generations.merge(a.owner(), 1, Integer::sum);
      for (long p : a.pfns()) allocation.put(p, label);
    } else if (event instanceof CpuEvent.BufferTouched t && t.write()) {
      for (long p : t.pfns()) data.put(p, allocation.get(p));
    } else if (event instanceof IommuEvent.Bounced b) {
      slotOrigin.put(b.slotPfn(), b.origPfn());
    } else if (event instanceof DmaAccess a && a.write()) {
      Long orig = slotOrigin.get(a.physPfn());
      data.put(a.physPfn(), allocation.get(orig != null ? orig : a.physPfn()));
    } else if (event instanceof IommuEvent.BounceCopied c) {
      if (c.toSlot()) {
        copy(c.origPfn(), c.slotPfn());
        return;
      }
      String incoming = data.get(c.slotPfn());
      String mine = allocation.get(c.origPfn());
      if (incoming != null && !incoming.equals(mine) && !incoming.equals(data.get(c.origPfn()))) {
        violate("B9", at, "swiotlb copied data of " + incoming + " back into " + mine + " (phys pfn " + c.origPfn() + "): the FROM_DEVICE bounce slot"
            + " was not filled from the buffer at map time and the device wrote only part of it - an information leak");
      }
      copy(c.slotPfn(), c.origPfn());
    } else if (event instanceof IommuEvent.BounceReleased r) {
      slotOrigin.remove(r.slotPfn());
    }
  }

  private void copy(long from, long to) {
    String label = data.get(from);
    if (label == null) data.remove(to);
    else data.put(to, label);
  }
}
