package dmasim.actors.monitor;

import dmasim.actors.state.LongLongMap;
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
  private final LongLongMap owners = new LongLongMap(1024); // phys pfn -> owner index
  private final Map<String, Long> ownerIds = new HashMap<>();
  private final java.util.List<String> ownerNames = new java.util.ArrayList<>();
  private final Map<Long, String> descriptorOwner = new HashMap<>();

  public MemorySafetyMonitor() {
    super("MemorySafety");
  }

  public MemorySafetyMonitor(Shadow shared) {
    super("MemorySafety", shared);
  }

  private long ownerId(String owner) {
    return ownerIds.computeIfAbsent(owner, k -> {
      ownerNames.add(k);
      return (long) ownerNames.size() - 1;
    });
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof dmasim.protocol.CpuEvent.NullBufferUsed n) {
      violate("NULL", at, n.owner() + " was used after its allocation failed (the driver did not check alloc_pages / kmalloc for NULL):"
          + " a NULL pointer dereference, the kernel oopses", java.util.List.of(n.owner()));
      return;
    }
    if (event instanceof MemoryEvent.PagesAllocated a) {
      long id = ownerId(a.owner());
      for (long p : a.pfns()) owners.put(p, id);
    } else if (event instanceof MemoryEvent.PagesFreed f) {
      boolean reported = false;
      for (long p : f.pfns()) {
        if (!owners.remove(p)) violate("MEM", at, f.owner() + " freed phys pfn " + p + " that is not allocated (double free)");
        else if (!reported && shadow.isMapped(p)) {
          // The page goes back to the allocator while a DMA mapping still points at it: the device can
          // write whatever owns the page next. Reported once per free.
          reported = true;
          violate("MEM", at, f.owner() + " freed phys pfn " + p + " while a DMA mapping still points at it: unmap (or free the coherent"
              + " buffer) before freeing the pages, or the device writes into their next owner");
        }
      }
    } else if (event instanceof IommuEvent.Bounced b) {
      owners.put(b.slotPfn(), ownerId(b.owner()));
    } else if (event instanceof IommuEvent.BounceReleased r) {
      owners.remove(r.slotPfn());
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
      long ownerId = owners.get(a.physPfn(), -1);
      String owner = ownerId < 0 ? null : ownerNames.get((int) ownerId);
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
