package dmasim.actors.monitor;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Errno;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import java.util.List;

/**
 * The two-step IOVA API as dma-debug would check it if it covered it (the kernel has no debug
 * hooks for link/unlink/destroy): I14 (links of one state are disjoint, inside the allocation,
 * only the first may start unaligned; dma_iova_free only with zero links; destroy(mapped_len)
 * only when exactly [0, mapped_len) is linked; unlink only of linked bytes),
 * I15 (a state is used only for the IOVA it allocated: no link, destroy or free through a stale
 * or failed state), and leaks (a state re-allocated while its IOVA is live; IOVA alive at driver
 * unbind or at the end of the run).
 *
 * <p>Links are judged by ranges, as the kernel keeps them: dma_iova_unlink (__iommu_dma_iova_unlink)
 * may tear down any linked sub-range, and one call may cover several adjacent links. What it may
 * not do is unlink bytes that are not linked, or clear whole granules that still hold bytes the
 * driver did not ask to unlink (another link's pages torn out, as the B7 unwind did).
 */
public final class IovaApiMonitor extends AbstractMonitor {
  /** One live IOVA allocation of a state: who, how large, and its linked ranges (it is its own {@link Links}: one object per allocation). */
  private static final class Alloc extends Links {
    final String owner;
    final DeviceId dev;
    final long size;
    final long basePfn;
    /** The state's byte offset 0 sits this far into the first IOVA granule: pad(phys) at try_alloc, below the granule size. */
    final int pad;
    boolean tornDown;

    Alloc(String owner, DeviceId dev, long size, long basePfn, int pad) {
      this.owner = owner;
      this.dev = dev;
      this.size = size;
      this.basePfn = basePfn;
      this.pad = pad;
    }

    /** The state offset of the start of IOVA page {@code pfn}. */
    long offsetOf(long pfn) {
      return ((pfn - basePfn) << 12) - pad;
    }
  }

  /** Live allocations by base IOVA pfn. */
  private final SortedTable<Alloc> allocs = new SortedTable<>();
  /** The base pfn of each state's latest allocation. */
  private final StringLongMap stateAlloc = new StringLongMap();

  public IovaApiMonitor() {
    super("IovaApiUsage", false);
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof IommuEvent.IovaAllocated a && a.api().equals("try_alloc")) {
      long old = stateAlloc.get(a.owner(), SortedTable.NONE);
      if (old != SortedTable.NONE && allocs.containsKey(old) && !allocs.get(old).tornDown) {
        violate("I15", at, "dma_iova_try_alloc on " + a.owner() + " while its previous IOVA (pfn " + old + ") was never destroyed or freed: leaked");
      }
      allocs.put(a.basePfn(), 0, new Alloc(a.owner(), a.dev(), a.size(), a.basePfn(), (int) (a.addr().addr() & 0xfff)));
      stateAlloc.put(a.owner(), a.basePfn());
    } else if (event instanceof IommuEvent.IovaAllocFailed f && f.api().equals("try_alloc") && !f.reason().startsWith("32-bit")) {
      stateAlloc.remove(f.owner());
    } else if (event instanceof IommuEvent.RangeLinked l && l.api().equals("link")) {
      onLinked(at, l);
    } else if (event instanceof IommuEvent.MapFailed f && f.api().equals("link") && misuse(f)) {
      String rule = switch (f.errno()) {
        case Errno.EIO -> "only the first dma_iova_link of a state may start at an unaligned address";
        case Errno.EEXIST -> "range linked twice";
        default -> "dma_iova_link outside the rules";
      };
      violate("I14", at, rule + " (" + f.owner() + " offset " + f.offset() + " size " + f.size() + ": " + Errno.name(f.errno()) + ", " + f.reason() + ")"
          + (f.errno() == Errno.EEXIST && f.owner().startsWith("dpt-") ? ": hmm_dma_map_pfn linked a slot that is still linked, so the entry's "
          + "HMM_PFN_DMA_MAPPED bit was lost (a walker stored the entry back from a load older than the set; docs/findings.md)" : ""));
    } else if (event instanceof IommuEvent.PtesCleared c && c.api().equals("unlink")) {
      onUnlinked(at, c);
    } else if (event instanceof IommuEvent.PtesCleared c && c.api().equals("destroy")) {
      onDestroyed(at, c);
    } else if (event instanceof IommuEvent.IovaFreed f) {
      onFreed(at, f);
    } else if (event instanceof IommuEvent.ApiReturned r && (r.api().equals("free") || r.api().equals("destroy")) && r.errno() == Errno.EINVAL) {
      violate("I15", at, "dma_iova_" + r.api() + " on " + r.owner() + " whose IOVA " + r.addr() + " is not allocated: stale dma_iova_state");
    } else if (event instanceof CpuEvent.DriverUnbound u) {
      allocs.forEach((base, unused, a) -> {
        if (a.dev.equals(u.dev()) && a.owner.startsWith(at.actor() + "/") && !a.tornDown) {
          violate("I18", at, "driver unbind of " + u.dev() + " with the IOVA of " + a.owner + " (pfn " + base + ") still allocated");
          return false;
        }
        return true;
      });
    }
  }

  /**
   * A failed link the driver caused (unaligned non-first link, double link, zero length, unaligned
   * IOVA), as opposed to a runtime failure it must handle (-ENOMEM, injected faults) or a kernel
   * failure (the B7 empty middle, whose damage the unwind's unlink shows).
   */
  private static boolean misuse(IommuEvent.MapFailed f) {
    return f.errno() == Errno.EIO || f.errno() == Errno.EEXIST
        || (f.errno() == Errno.EINVAL && (f.reason().startsWith("IOVA not aligned") || f.reason().startsWith("zero-length")));
  }

  private void onLinked(StepInfo at, IommuEvent.RangeLinked l) {
    Alloc a = allocs.get(l.allocBasePfn());
    if (a == null || a.tornDown) {
      violate("I15", at, "dma_iova_link through " + l.owner() + " into IOVA pfn " + l.iovaPfn()
          + (l.allocBasePfn() < 0 ? " that is not allocated" : " whose state was already destroyed") + ": stale or failed dma_iova_state");
      return;
    }
    if (!a.owner.equals(l.owner())) {
      violate("I15", at, "dma_iova_link through " + l.owner() + " into IOVA allocated to " + a.owner + ": stale dma_iova_state reused");
    }
    if (l.offset() + l.size() > a.size) {
      violate("I14", at, "dma_iova_link of " + l.owner() + " [" + l.offset() + ", " + (l.offset() + l.size()) + ") beyond the allocation of " + a.size + " bytes");
    }
    a.add(l.offset(), l.offset() + l.size());
  }

  private void onUnlinked(StepInfo at, IommuEvent.PtesCleared c) {
    Alloc a = allocs.get(c.allocBasePfn());
    long start = c.offset();
    long end = c.offset() + c.size();
    if (a == null || !a.covers(start, end)) {
      violate("I14", at, "dma_iova_unlink of " + c.owner() + " [" + start + ", " + end + ") that is not linked (double unlink or never linked)"
          + (a == null ? "" : ": linked are " + a));
      if (a != null) a.remove(start, end);
      return;
    }
    // __iommu_dma_iova_unlink clears whole granules: [iova_align_down(addr+offset), iova_align(addr+offset+size)).
    long clearedFrom = a.offsetOf(c.iovaPfn());
    long clearedTo = a.offsetOf(c.iovaPfn() + c.pages());
    long[] torn = a.linkedOutside(clearedFrom, clearedTo, start, end);
    if (torn != null) {
      violate("I14", at, "dma_iova_unlink of " + c.owner() + " [" + start + ", " + end + ") clears IOVA pfn " + c.iovaPfn() + "+" + c.pages()
          + ", which also maps [" + torn[0] + ", " + torn[1] + "), linked and not part of this unlink: its PTEs are torn out while the driver"
          + " still counts it as linked (unlink whole granules only)");
    }
    a.remove(clearedFrom, clearedTo);
  }

  private void onDestroyed(StepInfo at, IommuEvent.PtesCleared c) {
    Alloc a = allocs.get(c.allocBasePfn());
    if (a == null) {
      violate("I15", at, "dma_iova_destroy through " + c.owner() + " of IOVA that is not allocated: stale dma_iova_state");
      return;
    }
    if (a.contiguousEnd() != c.size()) {
      long[] left = a.linkedOutside(a.offsetOf(c.iovaPfn() + c.pages()), Long.MAX_VALUE, Long.MIN_VALUE, a.offsetOf(c.iovaPfn() + c.pages()));
      violate("I14", at, "dma_iova_destroy(mapped_len=" + c.size() + ") on " + c.owner() + " but the linked ranges are " + a
          + ": destroy must cover exactly [0, mapped_len)"
          + (left == null ? "" : "; [" + left[0] + ", " + left[1] + ") is not unmapped (the unmap stops at mapped_len or at the first hole) and"
              + " stays mapped in the freed IOVA"));
    }
    a.clear();
    a.tornDown = true;
  }

  private void onFreed(StepInfo at, IommuEvent.IovaFreed f) {
    Alloc a = allocs.remove(f.basePfn());
    if (a == null) return;
    if (f.path().equals("free") && !a.isEmpty()) {
      violate("I14", at, "dma_iova_free on " + a.owner + " with " + a.size() + " range(s) still linked: the IOVA can be handed out again"
          + " while its PTEs still point at the old pages");
    }
    stateAlloc.remove(a.owner, f.basePfn());
  }

  @Override
  public void onRunEnd(StepInfo at) {
    allocs.forEach((base, unused, a) -> {
      if (a.tornDown) return true;
      violate("I12", at, "the IOVA of " + a.owner + " (pfn " + base + ") was never destroyed or freed", List.of(a.owner));
      return false;
    });
  }
}
