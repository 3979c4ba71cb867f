package dmasim.actors.monitor;

import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import java.util.Map;
import java.util.TreeMap;

/**
 * I1: an IOVA range is in exactly one state (free, allocated-live, queued in a flush queue), and a
 * live range never overlaps another live or queued one. States: free -> live -> (queued ->) free.
 *
 * <p>I21: the IOVA domain all these ranges live in is initialised once, by one attach at a time
 * (iommu_dma_init_domain under cookie->mutex, ac9a5d522bb8): an init_iova_domain that starts while
 * another attach's is still running corrupts the rbtree, and one that completes over a domain
 * another attach already initialised and allocated from forgets the live ranges.
 */
public final class IovaSpaceMonitor extends AbstractMonitor {
  private record Range(long end, String owner, boolean queued) {}

  private final TreeMap<Long, Range> ranges = new TreeMap<>();
  /** Initialisations of the IOVA domain in progress: id -> attacher. */
  private final TreeMap<Long, String> initialising = new TreeMap<>();
  /** The attach whose initialisation completed first, or null while the domain was never initialised by an attach. */
  private String initialisedBy;

  public IovaSpaceMonitor() {
    super("IovaSpace", false);
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof IommuEvent.DomainInitStarted st) {
      if (!initialising.isEmpty()) {
        String other = initialising.firstEntry().getValue();
        violate("I21", at, "the IOVA domain is initialised twice concurrently: " + st.attacher() + " runs init_iova_domain while "
            + other + " is still initialising it; both saw start_pfn == 0 in iommu_dma_init_domain (no cookie->mutex: the race fixed"
            + " by ac9a5d522bb8), so the rbtree is reinitialised under the other insertion and corrupted (the crash in rb_insert_color"
            + " from init_iova_domain)");
      }
      initialising.put(st.id(), st.attacher());
    } else if (event instanceof IommuEvent.DomainInitialised i) {
      initialising.remove(i.id());
      if (initialisedBy != null && !ranges.isEmpty()) {
        Map.Entry<Long, Range> live = ranges.firstEntry();
        violate("I21", at, "the IOVA domain is re-initialised while in use: " + i.attacher() + " completes init_iova_domain over the domain "
            + initialisedBy + " already initialised, with " + ranges.size() + " range(s) still allocated (first: pfn " + live.getKey()
            + " of " + live.getValue().owner() + "): the rbtree is reset to its anchor node under them and corrupted (the crash in"
            + " rb_insert_color from init_iova_domain; iommu_dma_init_domain without cookie->mutex, fixed by ac9a5d522bb8)");
      }
      if (initialisedBy == null) initialisedBy = i.attacher();
    } else if (event instanceof IommuEvent.IovaAllocated a) {
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
