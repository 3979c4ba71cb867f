package dmasim.actors.monitor;

import dmasim.protocol.DmaAccess;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.MemoryEvent;
import java.util.HashMap;
import java.util.Map;

/**
 * The consequence every DMA bug ends in: a descriptor's DMA reaching a page its buffer no longer
 * owns (freed, or handed to someone else), a page mapped for DMA that was never allocated, or a
 * page freed twice. Stray accesses (late or malicious device accesses) are judged by the
 * Translation monitor instead.
 */
public final class MemorySafetyMonitor extends AbstractMonitor {
  /** Phys pfn -> the id of its owner in {@link #names}: 4 bytes per allocated page. */
  private final PagedArray.Ints owners = new PagedArray.Ints();
  /** Owner names by id, each id held as long as a page of the owner is. */
  private final Names names = new Names();
  private final Map<Long, String> descriptorOwner = new HashMap<>();

  public MemorySafetyMonitor() {
    super("MemorySafety");
  }

  public MemorySafetyMonitor(Shadow shared) {
    super("MemorySafety", shared);
  }

  /** Gives phys page {@code pfn} to {@code owner}. */
  private void own(long pfn, String owner) {
    int old = owners.get(pfn, -1);
    owners.put(pfn, names.hold(owner));
    if (old >= 0) names.release(old);
  }

  /** Takes phys page {@code pfn} from its owner; false when it had none. */
  private boolean disown(long pfn) {
    int old = owners.remove(pfn, -1);
    if (old < 0) return false;
    names.release(old);
    return true;
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof dmasim.protocol.CpuEvent.NullBufferUsed n) {
      violate("NULL", at, n.owner() + " was used after its allocation failed (the driver did not check alloc_pages / kmalloc for NULL):"
          + " a NULL pointer dereference, the kernel oopses", java.util.List.of(n.owner()));
      return;
    }
    if (event instanceof MemoryEvent.PagesAllocated a) {
      for (long p : a.pfns()) own(p, a.owner());
    } else if (event instanceof MemoryEvent.PagesFreed f) {
      boolean reported = false;
      for (long p : f.pfns()) {
        if (!disown(p)) violate("MEM", at, f.owner() + " freed phys pfn " + p + " that is not allocated (double free)");
        else if (!reported && shadow.isMapped(p)) {
          // The page goes back to the allocator while a DMA mapping still points at it: the device can
          // write whatever owns the page next. Reported once per free.
          reported = true;
          violate("MEM", at, f.owner() + " freed phys pfn " + p + " while a DMA mapping still points at it: unmap (or free the coherent"
              + " buffer) before freeing the pages, or the device writes into their next owner");
        }
      }
    } else if (event instanceof IommuEvent.Bounced b) {
      own(b.slotPfn(), b.owner());
    } else if (event instanceof IommuEvent.BounceReleased r) {
      disown(r.slotPfn());
    } else if (event instanceof IommuEvent.RangeLinked l && (l.physPfn() >= dmasim.actors.mm.MmState.FIRST_USER_PFN || l.owner().startsWith("dpt-"))) {
      return; // a process's page, or a peer's BAR a process mapped (HMM): the Hmm monitor follows those frames
    } else if (event instanceof IommuEvent.RangeLinked l) {
      for (long i = 0; i < l.pages(); i++) {
        if (!owners.containsKey(l.physPfn() + i)) {
          violate("MEM", at, l.owner() + " mapped phys pfn " + (l.physPfn() + i) + " for DMA but that page is not allocated");
          return;
        }
      }
    } else if (event instanceof dmasim.protocol.CpuEvent.DescriptorSubmitted s) {
      descriptorOwner.put(s.tag(), at.actor());
    } else if (event instanceof DmaAccess a && !a.stray() && a.physPfn() < dmasim.actors.mm.MmState.FIRST_USER_PFN && (a.tag() & (1L << 62)) == 0) {
      int ownerId = owners.get(a.physPfn(), -1);
      String owner = ownerId < 0 ? null : names.name(ownerId);
      if (owner == null) {
        violate("MEM", at, a.dev() + " DMA " + (a.write() ? "wrote" : "read") + " freed phys pfn " + a.physPfn() + " through " + a.iova()
            + " (use after free)");
      } else {
        String cpu = descriptorOwner.get(a.tag());
        if (cpu != null && !owner.startsWith(cpu + "/")) {
          violate("MEM", at, a.dev() + " DMA for a descriptor of " + cpu + " reached phys pfn " + a.physPfn() + " owned by " + owner);
        }
      }
    }
  }
}
