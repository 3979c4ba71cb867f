package dmasim.actors.monitor;

import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;

/**
 * The monitors' one shadow of the I/O page table: IOVA pfn -> (phys pfn, prot), and the number of
 * live mappings of each physical page. Shared by the monitors of a suite and updated by the suite
 * after every monitor has seen the event, so a monitor reads the state from before the event.
 * Both are paged arrays: about 8 + 4 bytes per mapped page when IOVAs and frames come in runs.
 */
public final class Shadow {
  private final PagedArray.Longs pte = new PagedArray.Longs();
  private final PagedArray.Ints physMappings = new PagedArray.Ints();

  /** The packed entry (phys << 8 | prot) of {@code iovaPfn}, or -1. */
  public long entry(long iovaPfn) {
    return pte.get(iovaPfn, -1);
  }

  public long physOf(long iovaPfn) {
    long e = entry(iovaPfn);
    return e < 0 ? -1 : e >>> 8;
  }

  public boolean isMapped(long physPfn) {
    return physMappings.containsKey(physPfn);
  }

  public void apply(Event event) {
    if (event instanceof IommuEvent.RangeLinked l) {
      for (long i = 0; i < l.pages(); i++) {
        if (pte.containsKey(l.iovaPfn() + i)) unmap(l.iovaPfn() + i);
        pte.put(l.iovaPfn() + i, ((l.physPfn() + i) << 8) | l.prot().bits());
        physMappings.add(l.physPfn() + i, 1);
      }
    } else if (event instanceof IommuEvent.PtesCleared c) {
      for (long p = c.iovaPfn(); p < c.iovaPfn() + c.pages(); p++) unmap(p);
    }
  }

  private void unmap(long iovaPfn) {
    long e = pte.get(iovaPfn, -1);
    if (e < 0) return;
    pte.remove(iovaPfn);
    physMappings.add(e >>> 8, -1);
  }
}
