package dmasim.actors.monitor;

import dmasim.actors.state.LongLongMap;
import dmasim.protocol.CpuEvent;
import dmasim.protocol.DmaAccess;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;

/**
 * I16, the data half: while a buffer is mapped, the CPU reads what the device wrote only after
 * dma_sync_*_for_cpu (or the unmap), and the device reads what the CPU wrote after mapping only
 * after dma_sync_*_for_device. Mapping cleans the CPU cache and unmapping syncs for the CPU, so
 * both reset the page's state. Tracked per physical page. Coherent memory (dma_alloc_coherent) is
 * shared by both sides without syncs and is not judged, until its pages are freed.
 */
public final class CpuDeviceOwnershipMonitor extends AbstractMonitor {
  private final LongLongMap cpuDirty = new LongLongMap(256);
  private final LongLongMap deviceWrote = new LongLongMap(256);
  private final LongLongMap coherent = new LongLongMap(64);

  public CpuDeviceOwnershipMonitor() {
    super("CpuDeviceOwnership");
  }

  public CpuDeviceOwnershipMonitor(Shadow shared) {
    super("CpuDeviceOwnership", shared);
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof IommuEvent.RangeLinked l && l.api().equals("alloc_coherent")) {
      for (long i = 0; i < l.pages(); i++) coherent.put(l.physPfn() + i, at.step());
    } else if (event instanceof dmasim.protocol.MemoryEvent.PagesFreed f) {
      for (long p : f.pfns()) coherent.remove(p);
    } else if (event instanceof IommuEvent.RangeLinked l) {
      for (long i = 0; i < l.pages(); i++) {
        cpuDirty.remove(l.physPfn() + i);
        deviceWrote.remove(l.physPfn() + i);
      }
    } else if (event instanceof IommuEvent.PtesCleared c) {
      for (long p = c.iovaPfn(); p < c.iovaPfn() + c.pages(); p++) {
        long phys = shadow.physOf(p);
        if (phys < 0) continue;
        // The last mapping of the page goes: unmap synced it for the CPU.
        cpuDirty.remove(phys);
        deviceWrote.remove(phys);
      }
    } else if (event instanceof IommuEvent.SyncPerformed s && s.mapped()) {
      for (long a = s.addr().addr() & ~0xfffL; a < s.addr().addr() + s.size(); a += 4096) {
        long phys = shadow.physOf(a >>> 12);
        if (phys < 0) continue;
        if (s.forCpu()) deviceWrote.remove(phys);
        else cpuDirty.remove(phys);
      }
    } else if (event instanceof CpuEvent.BufferTouched t) {
      for (long phys : t.pfns()) {
        if (!shadow.isMapped(phys) || coherent.containsKey(phys)) continue;
        if (t.write()) cpuDirty.put(phys, at.step());
        else if (deviceWrote.containsKey(phys)) {
          violate("I16", at, at.actor() + " read buffer " + t.buffer() + " (phys pfn " + phys + ") the device wrote at step "
              + deviceWrote.get(phys, 0) + " while it is still mapped and without dma_sync_*_for_cpu");
          deviceWrote.remove(phys);
        }
      }
    } else if (event instanceof DmaAccess a && !a.stray()) {
      long phys = a.physPfn();
      if (coherent.containsKey(phys)) return;
      if (a.write()) deviceWrote.put(phys, at.step());
      else if (cpuDirty.containsKey(phys)) {
        violate("I16", at, a.dev() + " read phys pfn " + phys + " that the CPU wrote at step " + cpuDirty.get(phys, 0)
            + " after mapping, without dma_sync_*_for_device");
        cpuDirty.remove(phys);
      }
    }
  }

}
