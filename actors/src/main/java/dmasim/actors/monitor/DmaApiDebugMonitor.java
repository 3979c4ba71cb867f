package dmasim.actors.monitor;

import dmasim.actors.iommu.IommuSettings;
import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceId;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.MemoryEvent;
import dmasim.protocol.PageKind;
import java.util.Map;
import java.util.TreeMap;

/**
 * The checks of kernel/dma/debug.c for the classic API (dma-debug classes 1-13, 15-24; 14 is
 * unreachable in check_sync), plus I13 at the point of use: a handle given to a device before
 * dma_mapping_error was called on it. Entries are keyed by DMA address like dma-debug's hash.
 *
 * <p>The address checks follow the page kinds the memory side records (MemoryEvent.PagesKind):
 * check_for_stack (9) and check_for_illegal_area (10) in debug_dma_map_phys and for every input
 * entry of debug_dma_map_sg; debug_dma_map_single (11: !virt_addr_valid, 12: is_vmalloc_addr) and,
 * as the newest kernel reaches it, the WARN of dma_map_single_attrs that refuses a vmalloc address
 * first (12); and for DMA_ATTR_MMIO mappings, instead of 9 and 10, "dma_map_resource called for RAM
 * address" (24) when pfn_valid && !PageReserved. The platform for these is one whose kernel image
 * lies in the linear map (32-bit ARM) with CONFIG_VMAP_STACK and no highmem; see PageKind.
 *
 * <p>check_sg_segment (19, 20) uses each device's max segment size and segment boundary. The
 * cacheline tracking of add_dma_entry / active_cacheline_insert (21, 22) keys the first cacheline
 * of each entry (paddr >> L1_CACHE_SHIFT) and follows the newest add_dma_entry on a platform where
 * dma_get_cache_alignment() >= L1_CACHE_BYTES and kmalloc buffers are not bounced (arm64 with
 * ARCH_DMA_MINALIGN 128 and without CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC); of the attribute
 * exemptions, DMA_ATTR_SKIP_CPU_SYNC and DMA_ATTR_REQUIRE_COHERENT are modelled.
 */
public final class DmaApiDebugMonitor extends AbstractMonitor {
  /** L1_CACHE_SHIFT of x86-64 and arm64. */
  static final int L1_CACHE_SHIFT = 6;
  /** ACTIVE_CACHELINE_MAX_OVERLAP = (1 << RADIX_TREE_MAX_TAGS) - 1. */
  static final int ACTIVE_CACHELINE_MAX_OVERLAP = 7;

  private static final class Entry {
    final String owner;
    final String type;
    final long size;
    final Direction dir;
    final int nents;
    final String dev;
    boolean checked;
    long phys = -1; // the CPU address (paddr) of a coherent entry, -1 when unknown
    long[] cachelines = new long[0]; // the cacheline numbers this entry inserted (none for TO_DEVICE)

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

  /** What the map hook of an owner recorded, for the entry its ApiReturned creates. */
  private record Pending(long phys, long[] cachelines) {}

  private final TreeMap<Long, Entry> entries = new TreeMap<>();
  private final Map<DeviceId, IommuSettings.DeviceSpec> devices;
  /** dma_active_cacheline: cacheline number -> {overlap count (tag bits, 0-7), attrs of the entry inserted first}. */
  private final TreeMap<Long, int[]> activeCachelines = new TreeMap<>();
  private final TreeMap<String, Pending> pending = new TreeMap<>();
  private boolean overlapWarned; // WARN_ONCE in active_cacheline_inc_overlap
  private boolean vmallocMapWarned; // dev_WARN_ONCE in dma_map_single_attrs
  /** Pages that are not ordinary linear RAM: pfn -> {kind, owner "cpuN/buf"}; until they are freed. */
  private final TreeMap<Long, Object[]> pageKinds = new TreeMap<>();
  private final java.util.List<dmasim.actors.memory.Region> regions;

  public DmaApiDebugMonitor() {
    this(Map.of());
  }

  /** With the devices' max segment size and segment boundary (the defaults for a device not listed). */
  public DmaApiDebugMonitor(Map<DeviceId, IommuSettings.DeviceSpec> devices) {
    this(devices, java.util.List.of());
  }

  /** With the devices and the memory that is not RAM (MMIO, P2P BARs: no struct page, pfn_valid is false). */
  public DmaApiDebugMonitor(Map<DeviceId, IommuSettings.DeviceSpec> devices, java.util.List<dmasim.actors.memory.Region> regions) {
    super("DmaApiDebug", false);
    this.devices = new TreeMap<>(devices);
    this.regions = java.util.List.copyOf(regions);
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof MemoryEvent.PagesKind k) {
      for (long pfn : k.pfns()) pageKinds.put(pfn, new Object[] {k.kind(), k.owner()});
    } else if (event instanceof MemoryEvent.PagesFreed f) {
      for (long pfn : f.pfns()) pageKinds.remove(pfn);
    } else if (event instanceof IommuEvent.MapSingleRejected r) {
      if (!vmallocMapWarned) {
        vmallocMapWarned = true;
        violate("DMA-debug 12", at, "dma_map_single by " + r.owner() + " on " + r.dev() + " of " + r.kind().key() + " memory (phys " + hex(r.phys())
            + "): \"rejecting DMA map of vmalloc memory\" (dma_map_single_attrs: dev_WARN_ONCE, DMA_MAPPING_ERROR; debug_dma_map_single's "
            + "\"device driver maps memory from vmalloc area\" is not reached)");
      }
    } else if (event instanceof IommuEvent.ApiReturned r) onReturned(at, r);
    else if (event instanceof IommuEvent.DebugHookCalled h) onHook(at, h);
    else if (event instanceof CpuEvent.MappingChecked m && !m.error()) {
      Entry e = entries.get(m.addr().addr());
      if (e != null) e.checked = true;
    } else if (event instanceof dmasim.protocol.MirrorEvent.SlotMapped m) {
      Entry e = entries.get(m.addr()); // hmm_dma_map_pfn checks dma_mapping_error before it marks the entry DMA_MAPPED
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
        if (r.errno() == 0) add(r, new Entry(r.owner(), "phys", r.size(), r.dir(), 1, r.dev().toString(), false));
      }
      case "map_sg" -> {
        if (r.errno() == 0) add(r, new Entry(r.owner(), "sg", r.size(), r.dir(), r.nents(), r.dev().toString(), true));
      }
      case "alloc_coherent" -> {
        // debug_dma_alloc_coherent: map_err_type stays MAP_ERR_CHECK_NOT_APPLICABLE
        if (r.errno() == 0) add(r, new Entry(r.owner(), "coherent", r.size(), Direction.BIDIRECTIONAL, 1, r.dev().toString(), true));
      }
      case "unmap_phys" -> onUnmap(at, r, "phys");
      case "unmap_sg" -> onUnmap(at, r, "sg");
      default -> {}
    }
  }

  private void add(IommuEvent.ApiReturned r, Entry e) {
    Pending p = pending.remove(r.owner());
    if (p != null) {
      e.phys = p.phys();
      e.cachelines = p.cachelines();
    }
    entries.put(r.addr().addr(), e);
  }

  /**
   * The hooks: debug_dma_map_phys / debug_dma_map_sg / debug_dma_alloc_coherent (check_sg_segment
   * for each mapped sg entry, then add_dma_entry with its cacheline), and debug_dma_free_coherent
   * (check_unmap with the CPU address), which runs before the memory is unmapped and freed.
   */
  private void onHook(StepInfo at, IommuEvent.DebugHookCalled h) {
    if (h.api().equals("free_coherent")) {
      onFreeCoherent(at, h);
      return;
    }
    if (h.api().equals("map_single")) {
      debugDmaMapSingle(at, h, h.segments().get(0));
      return;
    }
    if (h.api().equals("map_phys")) {
      IommuEvent.DebugSegment seg = h.segments().get(0);
      if (h.attrs().has(DmaAttrs.MMIO)) {
        long pfn = seg.phys() >>> 12;
        if (pfnValid(pfn) && !kindOf(pfn).reserved()) {
          violate("DMA-debug 24", at, h.owner() + " on " + h.dev() + " maps RAM with DMA_ATTR_MMIO: \"dma_map_resource called for RAM address "
              + hex16(seg.phys()) + "\"");
        }
      } else {
        checkForStack(at, h, seg.phys());
        checkForIllegalArea(at, h, seg.phys(), seg.length());
      }
    } else if (h.api().equals("map_sg")) {
      for (IommuEvent.DebugSegment seg : h.segments()) { // every input entry (the nents loop), before any entry is added
        checkForStack(at, h, seg.phys());
        checkForIllegalArea(at, h, seg.phys(), seg.length());
      }
    }
    long[] lines = new long[h.segments().size()];
    int n = 0;
    for (IommuEvent.DebugSegment seg : h.segments()) {
      if (h.api().equals("map_sg")) checkSgSegment(at, h, seg);
      long cln = seg.phys() >>> L1_CACHE_SHIFT; // to_cacheline_number
      if (activeCachelineInsert(at, h, cln)) lines[n++] = cln;
    }
    pending.put(h.owner(), new Pending(h.segments().isEmpty() ? -1 : h.segments().get(0).phys(), java.util.Arrays.copyOf(lines, n)));
  }

  private PageKind kindOf(long pfn) {
    Object[] k = pageKinds.get(pfn);
    return k == null ? PageKind.LINEAR : (PageKind) k[0];
  }

  /** pfn_valid: RAM has struct pages; the memory.types regions (MMIO, P2P BARs) have none in the model. */
  private boolean pfnValid(long pfn) {
    for (dmasim.actors.memory.Region r : regions) if (r.contains(pfn)) return false;
    return true;
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }

  /**
   * check_for_stack with a vmapped stack (CONFIG_VMAP_STACK): the pfn of {@code phys} is one of
   * current's stack_vm_area pages. Only the calling task's stack counts, and only the first page of
   * the range is looked at. %p is shown as the physical address (the kernel prints a hashed pointer).
   */
  private void checkForStack(StepInfo at, IommuEvent.DebugHookCalled h, long phys) {
    Object[] k = pageKinds.get(phys >>> 12);
    if (k == null || k[0] != PageKind.STACK) return;
    String task = h.owner().substring(0, h.owner().indexOf('/') + 1);
    if (!((String) k[1]).startsWith(task)) return;
    violate("DMA-debug 9", at, h.api() + " by " + h.owner() + " on " + h.dev() + ": \"device driver maps memory from stack [probable addr="
        + hex(phys) + "]\" (a page of " + k[1] + ", the task's stack)");
  }

  /**
   * check_for_illegal_area(dev, phys_to_virt(phys), len): memory_intersects with [_stext, _etext) or
   * [__start_rodata, __end_rodata). The kernel image lies in the linear map here, so that is any page
   * of [phys, phys + len) being kernel text or rodata.
   */
  private void checkForIllegalArea(StepInfo at, IommuEvent.DebugHookCalled h, long phys, long len) {
    for (long pfn = phys >>> 12; pfn <= (phys + len - 1) >>> 12; pfn++) {
      PageKind k = kindOf(pfn);
      if (k == PageKind.TEXT || k == PageKind.RODATA) {
        violate("DMA-debug 10", at, h.api() + " by " + h.owner() + " on " + h.dev() + ": \"device driver maps memory from kernel text or rodata [addr="
            + hex(phys) + "] [len=" + len + "]\" (kernel " + k.key() + " at phys " + hex(pfn << 12) + ")");
        return;
      }
    }
  }

  /** debug_dma_map_single: two independent checks of the virtual address, no entry (the map hook adds it). */
  private void debugDmaMapSingle(StepInfo at, IommuEvent.DebugHookCalled h, IommuEvent.DebugSegment seg) {
    PageKind k = kindOf(seg.phys() >>> 12);
    if (!k.virtAddrValid()) {
      violate("DMA-debug 11", at, "dma_map_single by " + h.owner() + " on " + h.dev() + " of " + k.key() + " memory: \"device driver maps memory "
          + "from invalid area [addr=" + hex(seg.phys()) + "] [len=" + seg.length() + "]\"");
    }
    if (k.vmallocAddr()) {
      violate("DMA-debug 12", at, "dma_map_single by " + h.owner() + " on " + h.dev() + " of " + k.key() + " memory: \"device driver maps memory "
          + "from vmalloc area [addr=" + hex(seg.phys()) + "] [len=" + seg.length() + "]\"");
    }
  }

  /** check_sg_segment: sg->length against dma_get_max_seg_size, the DMA segment against dma_get_seg_boundary. */
  private void checkSgSegment(StepInfo at, IommuEvent.DebugHookCalled h, IommuEvent.DebugSegment seg) {
    IommuSettings.DeviceSpec spec = devices.get(h.dev());
    long maxSeg = spec == null ? IommuSettings.DeviceSpec.DEFAULT_MAX_SEGMENT_SIZE : spec.maxSegmentSize();
    long boundary = spec == null ? IommuSettings.DeviceSpec.DEFAULT_SEGMENT_BOUNDARY : spec.segmentBoundary();
    if (seg.length() > maxSeg) {
      violate("DMA-debug 19", at, h.owner() + " on " + h.dev() + ": \"mapping sg segment longer than device claims to support [len=" + seg.length()
          + "] [max=" + maxSeg + "]\"");
    }
    long start = seg.dmaAddr();
    long end = start + seg.dmaLength() - 1;
    if (((start ^ end) & ~boundary) != 0) {
      violate("DMA-debug 20", at, h.owner() + " on " + h.dev() + ": \"mapping sg segment across boundary [start=" + hex16(start) + "] [end="
          + hex16(end) + "] [boundary=" + hex16(boundary) + "]\"");
    }
  }

  private static String hex16(long v) {
    return String.format(java.util.Locale.ROOT, "0x%016x", v);
  }

  /**
   * active_cacheline_insert and the EEXIST report of add_dma_entry. TO_DEVICE entries are not
   * tracked. The first entry of a cacheline stays in the tree; each further one raises the overlap
   * count, which set_overlap stores only up to 7 (the WARN_ONCE beyond it is class 22), and is
   * reported as class 21 unless it has DMA_ATTR_SKIP_CPU_SYNC or both it and the first entry are
   * cache-clean (DMA_ATTR_REQUIRE_COHERENT). Returns whether the cacheline was inserted or counted.
   */
  private boolean activeCachelineInsert(StepInfo at, IommuEvent.DebugHookCalled h, long cln) {
    if (h.dir() == Direction.TO_DEVICE) return false;
    boolean cacheClean = h.attrs().has(DmaAttrs.REQUIRE_COHERENT);
    int[] line = activeCachelines.get(cln);
    if (line == null) {
      activeCachelines.put(cln, new int[] {0, h.attrs().bits()});
      return true;
    }
    int overlap = line[0] + 1; // active_cacheline_inc_overlap
    if (overlap <= ACTIVE_CACHELINE_MAX_OVERLAP) line[0] = overlap;
    if (!cacheClean && overlap > ACTIVE_CACHELINE_MAX_OVERLAP && !overlapWarned) {
      overlapWarned = true;
      violate("DMA-debug 22", at, h.owner() + ": \"DMA-API: exceeded " + ACTIVE_CACHELINE_MAX_OVERLAP + " overlapping mappings of cacheline 0x"
          + Long.toHexString(cln) + "\" (a leak of mappings of phys 0x" + Long.toHexString(cln << L1_CACHE_SHIFT) + "?)");
    }
    boolean overlapCacheClean = new DmaAttrs(line[1]).has(DmaAttrs.REQUIRE_COHERENT);
    if (!h.attrs().has(DmaAttrs.SKIP_CPU_SYNC) && !(cacheClean && overlapCacheClean)) {
      violate("DMA-debug 21", at, h.api() + " by " + h.owner() + " (" + h.dir() + ") of phys 0x" + Long.toHexString(cln << L1_CACHE_SHIFT)
          + ", whose cacheline another live non-TO_DEVICE mapping holds: \"cacheline tracking EEXIST, overlapping mappings aren't supported\"");
    }
    return true;
  }

  /** active_cacheline_remove: dec_overlap, and the radix entry goes when the count drops below 0. */
  private void activeCachelineRemove(Entry e) {
    for (long cln : e.cachelines) {
      int[] line = activeCachelines.get(cln);
      if (line == null) continue;
      if (--line[0] < 0) activeCachelines.remove(cln);
    }
  }

  /**
   * debug_dma_free_coherent -> check_unmap with a coherent, BIDIRECTIONAL ref whose paddr is the CPU
   * address being freed: the size (3), the type (4) or else, for a coherent entry, the CPU address (5),
   * the direction (7) and an unchecked mapping (8) are independent checks; the entry goes in any case.
   */
  private void onFreeCoherent(StepInfo at, IommuEvent.DebugHookCalled h) {
    IommuEvent.DebugSegment ref = h.segments().get(0);
    String addr = "0x" + Long.toHexString(ref.dmaAddr());
    if (ref.dmaAddr() == -1L) {
      violate("DMA-debug 1", at, h.owner() + " tries to free an invalid DMA memory address (DMA_MAPPING_ERROR) with dma_free_coherent");
      return;
    }
    Entry e = entries.remove(ref.dmaAddr());
    if (e == null) {
      violate("DMA-debug 2", at, h.owner() + ": \"device driver tries to free DMA memory it has not allocated [device address=" + hex16(ref.dmaAddr())
          + "] [size=" + ref.length() + " bytes]\" (dma_free_coherent of a handle freed before or never allocated)");
      return;
    }
    if (e.size != ref.length()) {
      violate("DMA-debug 3", at, "dma_free_coherent of " + addr + " by " + h.owner() + ": \"device driver frees DMA memory with different size [map size="
          + e.size + " bytes] [unmap size=" + ref.length() + " bytes]\"");
    }
    if (!e.type.equals("coherent")) {
      violate("DMA-debug 4", at, "DMA memory " + addr + " mapped as " + e.type + ", freed with dma_free_coherent");
    } else if (e.phys != -1 && e.phys != ref.phys()) {
      violate("DMA-debug 5", at, "dma_free_coherent by " + h.owner() + ": \"device driver frees DMA memory with different CPU address [device address="
          + hex16(ref.dmaAddr()) + "] [size=" + ref.length() + " bytes] [cpu alloc address=" + hex16(e.phys) + "] [cpu free address="
          + hex16(ref.phys()) + "]\" (the handle belongs to " + e.owner + ")");
    }
    if (e.dir != Direction.BIDIRECTIONAL) {
      violate("DMA-debug 7", at, "dma_free_coherent of " + addr + " but it was mapped " + e.dir);
    }
    if (!e.checked) {
      violate("DMA-debug 8", at, "DMA address " + addr + " of " + e.owner + " freed without ever being checked with dma_mapping_error");
    }
    activeCachelineRemove(e);
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
    activeCachelineRemove(e);
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
