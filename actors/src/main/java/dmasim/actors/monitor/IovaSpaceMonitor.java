package dmasim.actors.monitor;

import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
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
  /** IOVA ranges by base pfn: the value is end << 1 | queued, the reference the owner. */
  private final SortedTable<String> ranges = new SortedTable<>();
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
        long live = ranges.firstKey();
        violate("I21", at, "the IOVA domain is re-initialised while in use: " + i.attacher() + " completes init_iova_domain over the domain "
            + initialisedBy + " already initialised, with " + ranges.size() + " range(s) still allocated (first: pfn " + live
            + " of " + ranges.get(live) + "): the rbtree is reset to its anchor node under them and corrupted (the crash in"
            + " rb_insert_color from init_iova_domain; iommu_dma_init_domain without cookie->mutex, fixed by ac9a5d522bb8)");
      }
      if (initialisedBy == null) initialisedBy = i.attacher();
    } else if (event instanceof IommuEvent.IovaAllocated a) {
      long below = ranges.lowerKey(a.basePfn() + a.pages());
      long range = below == SortedTable.NONE ? 0 : ranges.value(below, 0);
      if (below != SortedTable.NONE && end(range) > a.basePfn()) {
        violate("I1", at, "IOVA pages [" + a.basePfn() + "+" + a.pages() + ") handed to " + a.owner() + " overlap a range still "
            + (queued(range) ? "queued for flush" : "live") + " for " + ranges.get(below));
      }
      ranges.put(a.basePfn(), (a.basePfn() + a.pages()) << 1, a.owner());
    } else if (event instanceof IommuEvent.FlushQueued q) {
      if (!ranges.containsKey(q.basePfn())) violate("I1", at, "flush queue took IOVA pfn " + q.basePfn() + " that is not allocated");
      else ranges.put(q.basePfn(), ranges.value(q.basePfn(), 0) | 1, ranges.get(q.basePfn()));
    } else if (event instanceof IommuEvent.IovaFreed f) {
      boolean allocated = ranges.containsKey(f.basePfn());
      long range = ranges.value(f.basePfn(), 0);
      ranges.remove(f.basePfn());
      if (!allocated) violate("I1", at, "IOVA pfn " + f.basePfn() + " freed (" + f.path() + ") but it is not allocated: double free");
      else if (f.path().equals("flush-queue") && !queued(range)) violate("I1", at, "IOVA pfn " + f.basePfn() + " freed by the flush queue but never queued");
    }
  }

  private static long end(long range) {
    return range >> 1;
  }

  private static boolean queued(long range) {
    return (range & 1) != 0;
  }
}
