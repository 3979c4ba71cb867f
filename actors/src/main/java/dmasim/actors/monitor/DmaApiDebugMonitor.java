package dmasim.actors.monitor;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import java.util.Map;
import java.util.TreeMap;

/**
 * The checks of kernel/dma/debug.c for the classic API (dma-debug classes 1-4, 6-8, 13, 15-18, 23;
 * 14 is unreachable in check_sync; class 5 needs coherent allocations, not modelled yet), plus I13 at the point of use:
 * a handle given to a device before dma_mapping_error was called on it. Entries are keyed by DMA
 * address like dma-debug's hash.
 */
public final class DmaApiDebugMonitor extends AbstractMonitor {
  private static final class Entry {
    final String owner;
    final String type;
    final long size;
    final Direction dir;
    final int nents;
    final String dev;
    boolean checked;

    Entry(String owner, String type, long size, Direction dir, int nents, String dev, boolean checked) {
      this.owner = owner;
      this.type = type;
      this.size = size;
      this.dir = dir;
      this.nents = nents;
      this.dev = dev;
      this.checked = checked;
    }
  }

  private final TreeMap<Long, Entry> entries = new TreeMap<>();

  public DmaApiDebugMonitor() {
    super("DmaApiDebug");
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof IommuEvent.ApiReturned r) onReturned(at, r);
    else if (event instanceof CpuEvent.MappingChecked m && !m.error()) {
      Entry e = entries.get(m.addr().addr());
      if (e != null) e.checked = true;
    } else if (event instanceof CpuEvent.DescriptorSubmitted s) {
      for (DmaSegment seg : s.segments()) {
        Entry e = entries.get(seg.addr().addr());
        if (e != null && !e.checked) {
          violate("I13", at, "handle " + seg.addr() + " of " + e.owner + " given to " + s.device() + " without checking dma_mapping_error");
          e.checked = true;
        }
      }
    } else if (event instanceof IommuEvent.SyncPerformed s) {
      onSync(at, s);
    } else if (event instanceof CpuEvent.DriverUnbound u) {
      int n = 0;
      Entry leaked = null;
      for (Entry e : entries.values()) {
        if (e.dev.equals(u.dev().toString()) && e.owner.startsWith(at.actor() + "/")) {
          n++;
          leaked = e;
        }
      }
      if (leaked != null) {
        violate("DMA-debug 23", at, "driver unbind of " + u.dev() + " with " + n + " DMA mapping(s) pending, e.g. " + leaked.owner + " ("
            + leaked.type + ", " + leaked.size + " bytes, " + leaked.dir + ")");
      }
    }
  }

  private void onReturned(StepInfo at, IommuEvent.ApiReturned r) {
    switch (r.api()) {
      case "map_phys" -> {
        if (r.errno() == 0) entries.put(r.addr().addr(), new Entry(r.owner(), "phys", r.size(), r.dir(), 1, r.dev().toString(), false));
      }
      case "map_sg" -> {
        if (r.errno() == 0) entries.put(r.addr().addr(), new Entry(r.owner(), "sg", r.size(), r.dir(), r.nents(), r.dev().toString(), true));
      }
      case "unmap_phys" -> onUnmap(at, r, "phys");
      case "unmap_sg" -> onUnmap(at, r, "sg");
      default -> {}
    }
  }

  private void onUnmap(StepInfo at, IommuEvent.ApiReturned r, String type) {
    if (r.addr().isError()) {
      violate("DMA-debug 1", at, r.owner() + " tries to free an invalid DMA memory address (DMA_MAPPING_ERROR)");
      return;
    }
    Entry e = entries.remove(r.addr().addr());
    if (e == null) {
      violate("DMA-debug 2", at, r.owner() + " tries to free DMA memory it has not allocated: " + r.addr() + " (double unmap?)");
      return;
    }
    // check_unmap(): independent checks, each reported on its own, in the kernel's order.
    if (type.equals("phys") && e.size != r.size()) {
      violate("DMA-debug 3", at, "unmap of " + r.addr() + " with size " + r.size() + " but it was mapped with size " + e.size);
    }
    if (!e.type.equals(type)) violate("DMA-debug 4", at, "DMA memory " + r.addr() + " mapped as " + e.type + ", unmapped as " + type);
    if (type.equals("sg") && e.type.equals("sg") && e.nents != r.nents()) {
      violate("DMA-debug 6", at, "dma_unmap_sg of " + r.addr() + " with nents " + r.nents() + " but it was mapped with nents " + e.nents);
    }
    if (e.dir != r.dir()) violate("DMA-debug 7", at, "unmap of " + r.addr() + " with direction " + r.dir() + " but it was mapped " + e.dir);
    if (!e.checked) {
      violate("DMA-debug 8", at, "DMA address " + r.addr() + " of " + e.owner + " unmapped without ever being checked with dma_mapping_error");
    }
  }

  /**
   * check_sync() in kernel/dma/debug.c: the entry must contain the whole synced range
   * (bucket_find_contain / containing_match), else "sync DMA memory it has not allocated"; then,
   * unless the mapping is DMA_BIDIRECTIONAL, independent checks, each reported on its own: a
   * different direction (15), for the CPU a direction that is neither the mapping's FROM_DEVICE nor
   * TO_DEVICE (16), for the device neither TO_DEVICE nor FROM_DEVICE (17), a different sg entry
   * count (18). So sync_for_device(FROM_DEVICE) of a FROM_DEVICE buffer, the RX recycling of every
   * page_pool driver, is legal; so is sync_for_cpu(TO_DEVICE) of a TO_DEVICE buffer.
   */
  private void onSync(StepInfo at, IommuEvent.SyncPerformed s) {
    Map.Entry<Long, Entry> found = s.addr().isError() ? null : entries.floorEntry(s.addr().addr());
    Entry e = found == null ? null : found.getValue();
    if (e == null || s.addr().addr() + s.size() > found.getKey() + e.size) {
      // debug_dma_sync_sg_*: mapped_ents comes from an exact lookup of the first element, and the
      // loop stops at once when it is not found, so an unknown sg list is not reported at all.
      if (s.api().equals("sync_sg")) return;
      // "outside allocated range" (class 14) is unreachable: containing_match already requires the
      // whole range inside the entry, so a sync running past the end is "not allocated".
      boolean starts = e != null && s.addr().addr() < found.getKey() + e.size;
      violate("DMA-debug 13", at, s.owner() + " syncs DMA memory " + s.addr() + "+" + s.size()
          + (starts ? ", which runs past the end of its mapping (" + e.size + " bytes at 0x" + Long.toHexString(found.getKey()) + ")" : "")
          + ": \"device driver tries to sync DMA memory it has not allocated\"");
      return;
    }
    if (e.dir == Direction.BIDIRECTIONAL) return;
    String what = s.api() + "_for_" + (s.forCpu() ? "cpu" : "device") + "(" + s.dir() + ")";
    if (e.dir != s.dir()) violate("DMA-debug 15", at, what + " of " + s.addr() + " on a mapping made " + e.dir + ": different direction");
    if (s.forCpu() && e.dir != Direction.FROM_DEVICE && s.dir() != Direction.TO_DEVICE) {
      violate("DMA-debug 16", at, what + " of " + s.addr() + ", mapped " + e.dir + ": syncs device read-only DMA memory for the CPU");
    }
    if (!s.forCpu() && e.dir != Direction.TO_DEVICE && s.dir() != Direction.FROM_DEVICE) {
      violate("DMA-debug 17", at, what + " of " + s.addr() + ", mapped " + e.dir + ": syncs device write-only DMA memory to the device");
    }
    if (s.api().equals("sync_sg") && s.nents() != e.nents) {
      violate("DMA-debug 18", at, what + " with nents " + s.nents() + " but the sg list was mapped with nents " + e.nents);
    }
  }

  @Override
  public void onRunEnd(StepInfo at) {
    if (!entries.isEmpty()) {
      Map.Entry<Long, Entry> first = entries.firstEntry();
      violate("I12", at, entries.size() + " DMA mapping(s) never unmapped, e.g. " + first.getValue().owner + " at 0x" + Long.toHexString(first.getKey()));
    }
  }
}
