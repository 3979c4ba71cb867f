package dmasim.actors.monitor;

import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import java.util.Map;
import java.util.TreeMap;

/**
 * I1: an IOVA range is in exactly one state (free, allocated-live, queued in a flush queue), and a
 * live range never overlaps another live or queued one. States: free -> live -> (queued ->) free.
 */
public final class IovaSpaceMonitor extends AbstractMonitor {
  private record Range(long end, String owner, boolean queued) {}

  private final TreeMap<Long, Range> ranges = new TreeMap<>();

  public IovaSpaceMonitor() {
    super("IovaSpace");
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof IommuEvent.IovaAllocated a) {
      Map.Entry<Long, Range> below = ranges.lowerEntry(a.basePfn() + a.pages());
      if (below != null && below.getValue().end() > a.basePfn()) {
        violate("I1", at, "IOVA pages [" + a.basePfn() + "+" + a.pages() + ") handed to " + a.owner() + " overlap a range still "
            + (below.getValue().queued() ? "queued for flush" : "live") + " for " + below.getValue().owner());
      }
      ranges.put(a.basePfn(), new Range(a.basePfn() + a.pages(), a.owner(), false));
    } else if (event instanceof IommuEvent.FlushQueued q) {
      Range r = ranges.get(q.basePfn());
      if (r == null) violate("I1", at, "flush queue took IOVA pfn " + q.basePfn() + " that is not allocated");
      else ranges.put(q.basePfn(), new Range(r.end(), r.owner(), true));
    } else if (event instanceof IommuEvent.IovaFreed f) {
      Range r = ranges.remove(f.basePfn());
      if (r == null) violate("I1", at, "IOVA pfn " + f.basePfn() + " freed (" + f.path() + ") but it is not allocated: double free");
      else if (f.path().equals("flush-queue") && !r.queued()) violate("I1", at, "IOVA pfn " + f.basePfn() + " freed by the flush queue but never queued");
    }
  }
}
