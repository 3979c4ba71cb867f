package dmasim.actors.monitor;

import dmasim.protocol.Direction;
import dmasim.protocol.Event;
import dmasim.protocol.TraceEvent;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The checks a kernel trace can be held to ({@code dmasim import-trace}): what the {@code dma:},
 * {@code iommu:} and {@code swiotlb:} tracepoints show, judged with the rules of kernel/dma/debug.c
 * (the same invariant ids and meaning as {@link DmaApiDebugMonitor}, but keyed as dma-debug keys
 * its hash: device and DMA address, since IOVAs of different devices' domains coincide) and of the
 * IOMMU page table (T1-T8).
 *
 * <p>A trace is a window: a mapping made before it began is unknown, and a ring buffer that lost
 * events may have lost the unmap that explains what follows. Messages say so where it matters
 * (lost events before the line), and mappings still live at the end are leaks only when the user
 * says the trace covers the driver's whole life ({@code wholeLife}).
 */
public final class TraceMonitor extends AbstractMonitor {
  /** Ended mappings remembered for "after unmap" (oldest forgotten first), so memory stays bounded on long traces. */
  static final int ENDED_KEPT = 1 << 18;
  /** DMA_MAPPING_ERROR, (dma_addr_t)-1: what a failed map returns and traces. */
  static final long DMA_MAPPING_ERROR = -1L;
  /** ACTIVE_CACHELINE_MAX_OVERLAP = (1 << RADIX_TREE_MAX_TAGS) - 1 in kernel/dma/debug.c. */
  static final int ACTIVE_CACHELINE_MAX_OVERLAP = 7;
  /** L1_CACHE_SHIFT of x86-64 and arm64 (dma-debug's cacheline tracking). */
  static final int L1_CACHE_SHIFT = 6;

  /** A mapping a trace line made: one DMA API mapping (or one segment of an sg list), or one IOMMU map. */
  private static final class Mapping {
    final String key; // "dev@0xaddr" or "iommu:domain@0xiova": the object explanations follow
    final String type; // dma-debug's entry type: single, resource, coherent, sg; "iommu"
    final String api;
    final long start;
    final long size;
    final Direction dir;
    final long phys;
    final String attrs;
    final long line;
    final long step;
    final Sg sg; // the sg list this segment belongs to, or null
    long endLine = -1;
    long endStep = -1;
    String endedBy;
    /** The next live mapping of the device at the same DMA address (dma-direct maps a buffer twice legally; dma-debug's hash bucket holds both). */
    Mapping sameStart;

    Mapping(String key, String type, String api, long start, long size, Direction dir, long phys, String attrs, long line, long step, Sg sg) {
      this.key = key;
      this.type = type;
      this.api = api;
      this.start = start;
      this.size = size;
      this.dir = dir;
      this.phys = phys;
      this.attrs = attrs;
      this.line = line;
      this.step = step;
      this.sg = sg;
    }

    /** The device ("dev") or domain ("iommu:DOMAIN") the mapping belongs to: its key before the address. */
    String owner() {
      return key.substring(0, key.lastIndexOf('@'));
    }

    boolean covers(long addr) {
      return addr >= start && addr - start < size;
    }

    String what() {
      return call(api) + " of 0x" + Long.toHexString(start) + "+" + size + (dir == null ? "" : " " + dir) + " at line " + line;
    }
  }

  /** The kernel call that made a mapping: "dma_map_phys", "dma_alloc_pages", "dma_map_sg", "iommu_map". */
  static String call(String api) {
    if (api.equals("iommu_map") || api.equals("map_sg")) return api.equals("map_sg") ? "dma_map_sg" : api;
    return api.startsWith("alloc") ? "dma_" + api : "dma_map_" + api;
  }

  /** One dma_map_sg: its segments and its input entries. */
  private static final class Sg {
    final Direction dir;
    final int nents;
    final boolean truncated;
    final java.util.ArrayList<Mapping> segments = new java.util.ArrayList<>();

    Sg(Direction dir, int nents, boolean truncated) {
      this.dir = dir;
      this.nents = nents;
      this.truncated = truncated;
    }
  }

  /** Per device: live DMA API mappings by DMA address. */
  private final Map<String, TreeMap<Long, Mapping>> live = new HashMap<>();
  /** Per device: live sg lists by their first entry's physical address (dma_unmap_sg prints only those). */
  private final Map<String, Map<Long, List<Sg>>> liveSg = new HashMap<>();
  /** Per device: the first segment of the latest unmapped sg list starting with each physical address (a double dma_unmap_sg). */
  private final Map<String, Map<Long, Mapping>> endedSg = new HashMap<>();
  /** Per device (and "iommu:domain"): the latest ended mapping starting at each address. */
  private final Map<String, TreeMap<Long, Mapping>> ended = new HashMap<>();
  private final ArrayDeque<Mapping> endedOrder = new ArrayDeque<>();
  /** Per attributed domain ("?" when the importer could not tell): live IOMMU mappings by IOVA. */
  private final Map<String, TreeMap<Long, Mapping>> iommu = new HashMap<>();
  /** dma-debug's active cachelines: cacheline of a live non-TO_DEVICE mapping's first byte -> the live mappings holding it, oldest first. */
  private final Map<Long, ArrayDeque<Mapping>> cachelines = new HashMap<>();
  private boolean overlapWarned; // WARN_ONCE
  private final boolean wholeLife;
  private long lostEvents;
  private long lostAtLine = -1;
  private long unreadable;
  /** Unmaps and syncs of mappings the trace never saw made (made before it began): judged only with wholeLife. */
  private long unseen;
  private long unreadableAtLine = -1;

  public TraceMonitor(boolean wholeLife) {
    super("Trace", false);
    this.wholeLife = wholeLife;
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (!(event instanceof TraceEvent t)) return;
    if (t instanceof TraceEvent.DmaMapped m) {
      if (m.dmaAddr() == DMA_MAPPING_ERROR) return; // the kernel traces a failed map too (dma_map_phys returns DMA_MAPPING_ERROR): nothing to unmap
      mapped(at, m.dev(), typeOf(m.api(), m.attrs()), m.api(), m.dmaAddr(), m.size(), m.dir(), m.phys(), m.attrs(), m.line(), null);
    } else if (t instanceof TraceEvent.SgMapped m) {
      Sg sg = new Sg(m.dir(), m.nents(), m.truncated());
      for (int i = 0; i < m.dmaAddrs().size(); i++) {
        long phys = i < m.phys().size() ? m.phys().get(i) : -1;
        Mapping seg = mapped(at, m.dev(), "sg", "map_sg", m.dmaAddrs().get(i), i < m.sizes().size() ? m.sizes().get(i) : 0, m.dir(), phys,
            m.attrs(), m.line(), sg);
        sg.segments.add(seg);
      }
      // dma-direct may map one buffer twice: every live list starting with the page is kept
      if (!m.phys().isEmpty()) liveSg.computeIfAbsent(m.dev(), k -> new HashMap<>()).computeIfAbsent(m.phys().get(0), k -> new java.util.ArrayList<>()).add(sg);
    } else if (t instanceof TraceEvent.DmaUnmapped u) {
      unmapped(at, u);
    } else if (t instanceof TraceEvent.SgUnmapped u) {
      sgUnmapped(at, u);
    } else if (t instanceof TraceEvent.DmaSynced s) {
      synced(at, s);
    } else if (t instanceof TraceEvent.IommuMapped m) {
      iommuMapped(at, m);
    } else if (t instanceof TraceEvent.IommuUnmapped u) {
      iommuUnmapped(at, u);
    } else if (t instanceof TraceEvent.IoPageFault f) {
      fault(at, f);
    } else if (t instanceof TraceEvent.DeviceChanged d) {
      if (!d.what().equals("group-add")) detached(at, d);
    } else if (t instanceof TraceEvent.EventsLost l) {
      lostEvents += Math.max(l.count(), 1);
      lostAtLine = l.line();
    } else if (t instanceof TraceEvent.LinesUnreadable u) {
      unreadable += u.count();
      unreadableAtLine = u.line();
    }
    // MapFailed and Bounced: nothing to track (a refused mapping leaves nothing to unmap; a bounce is legal)
  }

  /** dma-debug's entry type of a mapping call ("alloc_pages" maps a single entry; a v6.18 MMIO map_phys is a resource). */
  private static String typeOf(String api, String attrs) {
    return switch (api) {
      case "alloc" -> "coherent";
      case "alloc_sgt", "map_sg" -> "sg";
      case "resource" -> "resource";
      default -> attrs.contains("MMIO") ? "resource" : "single";
    };
  }

  private static String key(String dev, long addr) {
    return dev + "@0x" + Long.toHexString(addr);
  }

  /** ", though the trace lost N events before line L (a missing unmap or map could explain it)", or "". */
  private String lost() {
    String lost = lostEvents == 0 ? "" : "; the trace lost " + lostEvents + " event(s), the last at line " + lostAtLine
        + ", and a line lost there could explain this";
    return lost + (unreadable == 0 ? "" : "; " + unreadable + " line(s) of the trace could not be read, the last at line " + unreadableAtLine
        + ", and one of them could explain this");
  }

  private Mapping mapped(StepInfo at, String dev, String type, String api, long dma, long size, Direction dir, long phys, String attrs, long line,
      Sg sg) {
    TreeMap<Long, Mapping> mine = live.computeIfAbsent(dev, k -> new TreeMap<>());
    Mapping m = new Mapping(key(dev, dma), type, api, dma, size, dir, phys, attrs, line, at.step(), sg);
    Mapping other = overlapping(mine, dma, size);
    if (other != null && !(sg != null && other.sg == sg)) {
      // dma-direct maps a buffer at its physical address (or at a fixed offset from it, the dma-ranges of many SoCs): the
      // same memory mapped twice gets the same DMA address, legally. An IOMMU never hands out a live IOVA again.
      boolean direct = phys >= 0 && other.phys >= 0 && dma - phys == other.start - other.phys;
      if (!direct) {
        violate("T5", at, dev + ": " + call(api) + " at line " + line + " got DMA address 0x" + Long.toHexString(dma) + "+" + size + ", which overlaps the live "
            + other.what() + ": the IOVA was handed out twice, or the trace misses its unmap" + lost(), List.of(other.key, m.key), other.step);
      }
    }
    put(mine, m);
    if (dir != Direction.TO_DEVICE && phys >= 0) {
      long cln = phys >>> L1_CACHE_SHIFT;
      ArrayDeque<Mapping> holders = cachelines.computeIfAbsent(cln, k -> new ArrayDeque<>());
      Mapping first = holders.peekFirst();
      if (first != null) {
        int overlap = holders.size(); // active_cacheline_inc_overlap: the count the new mapping raises it to
        if (overlap > ACTIVE_CACHELINE_MAX_OVERLAP && !overlapWarned && !attrs.contains("REQUIRE_COHERENT")) {
          overlapWarned = true;
          violate("DMA-debug 22", at, dev + ": " + call(api) + " at line " + line + ": \"DMA-API: exceeded " + ACTIVE_CACHELINE_MAX_OVERLAP
              + " overlapping mappings of cacheline 0x" + Long.toHexString(cln) + "\" (a leak of mappings of phys 0x" + Long.toHexString(cln << L1_CACHE_SHIFT)
              + "? the first is " + first.what() + ")", List.of(first.key, m.key), first.step);
        }
        if (!attrs.contains("SKIP_CPU_SYNC") && !(attrs.contains("REQUIRE_COHERENT") && first.attrs.contains("REQUIRE_COHERENT"))) {
          violate("DMA-debug 21", at, dev + ": " + call(api) + " at line " + line + " (" + dir + ") of phys 0x" + Long.toHexString(phys) + ", whose cacheline the "
              + "live " + first.what() + " also holds: \"cacheline tracking EEXIST, overlapping mappings aren't supported\"", List.of(first.key, m.key),
              first.step);
        }
      }
      holders.addLast(m);
    }
    return m;
  }

  /** Adds {@code m} to its device's live mappings, after any other live mapping at the same address. */
  private static void put(TreeMap<Long, Mapping> tree, Mapping m) {
    Mapping head = tree.get(m.start);
    if (head == null) {
      tree.put(m.start, m);
      return;
    }
    while (head.sameStart != null) head = head.sameStart;
    head.sameStart = m;
  }

  /** Of the live mappings at one address, the one an unmap of {@code size} and {@code dir} matches best (dma-debug's hash_bucket_find). */
  private static Mapping find(Mapping head, long size, Direction dir) {
    for (Mapping m = head; m != null; m = m.sameStart) if (m.size == size && (dir == null || m.dir == dir)) return m;
    return head;
  }

  private static void remove(TreeMap<Long, Mapping> tree, Mapping m) {
    Mapping head = tree.get(m.start);
    if (head == m) {
      if (m.sameStart == null) tree.remove(m.start);
      else tree.put(m.start, m.sameStart);
    } else {
      for (Mapping p = head; p != null; p = p.sameStart) {
        if (p.sameStart == m) {
          p.sameStart = m.sameStart;
          break;
        }
      }
    }
    m.sameStart = null;
  }

  private static long count(TreeMap<Long, Mapping> tree) {
    long n = 0;
    for (Mapping head : tree.values()) for (Mapping m = head; m != null; m = m.sameStart) n++;
    return n;
  }

  private static Mapping overlapping(TreeMap<Long, Mapping> tree, long start, long size) {
    Map.Entry<Long, Mapping> below = tree.floorEntry(start);
    if (below != null && below.getValue().covers(start)) return below.getValue();
    Map.Entry<Long, Mapping> above = tree.ceilingEntry(start);
    if (above != null && above.getKey() - start < Math.max(size, 1)) return above.getValue();
    return null;
  }

  private void end(Mapping m, String endedBy, StepInfo at, long line) {
    m.endLine = line;
    m.endStep = at.step();
    m.endedBy = endedBy;
    long cln = m.phys >>> L1_CACHE_SHIFT;
    if (m.phys >= 0 && !m.type.equals("iommu") && m.dir != Direction.TO_DEVICE) {
      // active_cacheline_remove: one overlap less, the entry goes with the last mapping
      ArrayDeque<Mapping> holders = cachelines.get(cln);
      if (holders != null && holders.remove(m) && holders.isEmpty()) cachelines.remove(cln);
    }
    ended.computeIfAbsent(m.owner(), k -> new TreeMap<>()).put(m.start, m);
    endedOrder.addLast(m);
    if (endedOrder.size() > ENDED_KEPT) {
      Mapping old = endedOrder.removeFirst();
      TreeMap<Long, Mapping> t = ended.get(old.owner());
      if (t != null && t.get(old.start) == old) t.remove(old.start);
    }
  }

  /** check_unmap() for one unmap or free line: not mapped (2), size (3), type (4), direction (7). */
  private void unmapped(StepInfo at, TraceEvent.DmaUnmapped u) {
    boolean free = u.api().startsWith("free");
    String call = free ? "dma_" + u.api() : "dma_unmap_" + u.api();
    if (u.dmaAddr() == DMA_MAPPING_ERROR) {
      violate("DMA-debug 1", at, u.dev() + ": " + call + " of DMA_MAPPING_ERROR at line " + u.line() + ": \"device driver tries to free an invalid DMA "
          + "memory address\" (the handle of a failed map, never checked with dma_mapping_error)");
      return;
    }
    TreeMap<Long, Mapping> mine = live.get(u.dev());
    Mapping m = mine == null ? null : find(mine.get(u.dmaAddr()), u.size(), u.dir());
    if (m == null) {
      TreeMap<Long, Mapping> gone = ended.get(u.dev());
      Mapping before = gone == null ? null : gone.get(u.dmaAddr());
      if (before == null && !wholeLife) { // a trace is a window: a mapping made before it began is unmapped in it
        unseen++;
        return;
      }
      String why = before != null ? "it was already " + (before.endedBy.startsWith("dma_free") ? "freed" : "unmapped") + " at line " + before.endLine
          + " (" + before.what() + "): a double " + (free ? "free" : "unmap")
          : "the trace never mapped it (mapped before the trace began?)" + lost();
      violate("DMA-debug 2", at, u.dev() + ": " + call + " of 0x" + Long.toHexString(u.dmaAddr()) + "+" + u.size() + " at line " + u.line()
          + ": \"device driver tries to free DMA memory it has not allocated\"; " + why, before == null ? List.of() : List.of(before.key),
          before == null ? new long[0] : new long[] {before.step, before.endStep});
      return;
    }
    String unmapType = typeOf(u.api().equals("free") ? "alloc" : u.api().equals("free_sgt") ? "alloc_sgt" : u.api(), u.attrs());
    if (m.sg != null) {
      for (Mapping seg : m.sg.segments) {
        remove(mine, seg);
        end(seg, call, at, u.line());
      }
      Map<Long, List<Sg>> lists = liveSg.get(u.dev());
      if (lists != null) lists.values().forEach(l -> l.remove(m.sg));
    } else {
      remove(mine, m);
      end(m, call, at, u.line());
    }
    List<String> about = List.of(m.key);
    if (m.sg == null && m.size != u.size()) {
      violate("DMA-debug 3", at, u.dev() + ": " + call + " of 0x" + Long.toHexString(u.dmaAddr()) + " at line " + u.line() + " with size " + u.size()
          + " but it was mapped with size " + m.size + " (" + m.what() + "): \"device driver frees DMA memory with different size\"", about, m.step);
    }
    if (!m.type.equals(unmapType)) {
      violate("DMA-debug 4", at, u.dev() + ": DMA memory 0x" + Long.toHexString(u.dmaAddr()) + " mapped as " + m.type + " (" + m.what() + "), "
          + (free ? "freed" : "unmapped") + " as " + unmapType + " with " + call + " at line " + u.line(), about, m.step);
    }
    if (u.dir() != null && m.dir != null && u.dir() != m.dir) {
      violate("DMA-debug 7", at, u.dev() + ": " + call + " of 0x" + Long.toHexString(u.dmaAddr()) + " at line " + u.line() + " with direction " + u.dir()
          + " but it was mapped " + m.dir + " (" + m.what() + ")", about, m.step);
    }
  }

  /** Of the live sg lists starting with {@code phys0}, the one an unmap of {@code nents} entries and {@code dir} matches best; removed. */
  private static Sg takeSg(Map<Long, List<Sg>> lists, long phys0, int nents, Direction dir) {
    List<Sg> same = lists.get(phys0);
    if (same == null || same.isEmpty()) return null;
    Sg pick = same.get(0);
    for (Sg sg : same) {
      if (sg.nents == nents && sg.dir == dir) {
        pick = sg;
        break;
      }
    }
    same.remove(pick);
    if (same.isEmpty()) lists.remove(phys0);
    return pick;
  }

  /** dma_unmap_sg: found by its first entry's physical address; nents (6) and direction (7) checked. */
  private void sgUnmapped(StepInfo at, TraceEvent.SgUnmapped u) {
    Map<Long, List<Sg>> mine = liveSg.get(u.dev());
    Sg sg = mine == null || u.phys().isEmpty() ? null : takeSg(mine, u.phys().get(0), u.phys().size(), u.dir());
    String first = u.phys().isEmpty() ? "an empty list" : "phys 0x" + Long.toHexString(u.phys().get(0));
    if (sg == null || sg.segments.isEmpty()) {
      Map<Long, Mapping> gone = endedSg.get(u.dev());
      Mapping before = gone == null || u.phys().isEmpty() ? null : gone.get(u.phys().get(0));
      if (before != null) {
        violate("DMA-debug 2", at, u.dev() + ": dma_unmap_sg of " + first + " at line " + u.line() + ": \"device driver tries to free DMA memory it has "
            + "not allocated\"; it was already unmapped at line " + before.endLine + " (" + before.what() + "): a double unmap", List.of(before.key),
            before.step, before.endStep);
        return;
      }
      if (!wholeLife) {
        unseen++;
        return;
      }
      violate("DMA-debug 2", at, u.dev() + ": dma_unmap_sg of " + first + " at line " + u.line()
          + ": \"device driver tries to free DMA memory it has not allocated\"; no live dma_map_sg of the device starts with that entry (mapped before "
          + "the trace began?)" + lost());
      return;
    }
    Mapping head = sg.segments.get(0);
    TreeMap<Long, Mapping> tree = live.get(u.dev());
    for (Mapping seg : sg.segments) {
      if (tree != null) remove(tree, seg);
      end(seg, "dma_unmap_sg", at, u.line());
    }
    endedSg.computeIfAbsent(u.dev(), k -> new java.util.LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Mapping> eldest) {
        return size() > ENDED_KEPT;
      }
    }).put(u.phys().get(0), head);
    if (!sg.truncated && u.phys().size() != sg.nents) {
      violate("DMA-debug 6", at, u.dev() + ": dma_unmap_sg at line " + u.line() + " with nents " + u.phys().size() + " but the list was mapped with nents "
          + sg.nents + " (" + head.what() + ")", List.of(head.key), head.step);
    }
    if (u.dir() != head.dir) {
      violate("DMA-debug 7", at, u.dev() + ": dma_unmap_sg at line " + u.line() + " with direction " + u.dir() + " but it was mapped " + head.dir + " ("
          + head.what() + ")", List.of(head.key), head.step);
    }
  }

  /**
   * check_sync(): the mapping must contain the whole range (13: an sg list not found is not reported,
   * as debug_dma_sync_sg_* stops at once), then unless BIDIRECTIONAL the direction rules 15, 16, 17.
   */
  private void synced(StepInfo at, TraceEvent.DmaSynced s) {
    String what = "dma_sync_" + (s.sg() ? "sg" : "single") + "_for_" + (s.forCpu() ? "cpu" : "device") + "(" + s.dir() + ") at line " + s.line();
    TreeMap<Long, Mapping> mine = live.get(s.dev());
    for (int i = 0; i < s.dmaAddrs().size(); i++) {
      long addr = s.dmaAddrs().get(i);
      long size = i < s.sizes().size() ? s.sizes().get(i) : 0;
      Mapping m = covering(mine, addr);
      if (m == null || addr + size > m.start + m.size) {
        if (s.sg()) return;
        if (m == null && !wholeLife && endedCovering(s.dev(), addr) == null) {
          unseen++; // a sync of a mapping made before the trace began
          return;
        }
        violate("DMA-debug 13", at, s.dev() + ": " + what + " of 0x" + Long.toHexString(addr) + "+" + size + ": \"device driver tries to sync DMA memory it "
            + "has not allocated\"" + (m != null ? "; it runs past the end of the live " + m.what() : afterEnd(s.dev(), addr)),
            m == null ? List.of() : List.of(m.key));
        return;
      }
      if (i == 0 && s.sg() && m.sg != null && !m.sg.truncated && s.dmaAddrs().size() != m.sg.nents) {
        violate("DMA-debug 18", at, s.dev() + ": " + what + " with nents " + s.dmaAddrs().size() + " but the sg list was mapped with nents " + m.sg.nents
            + " (" + m.what() + ")", List.of(m.key), m.step);
      }
      if (m.dir == Direction.BIDIRECTIONAL) continue;
      List<String> about = List.of(m.key);
      if (m.dir != s.dir()) violate("DMA-debug 15", at, s.dev() + ": " + what + " of 0x" + Long.toHexString(addr) + " on " + m.what() + ": different direction",
          about, m.step);
      if (s.forCpu() && m.dir != Direction.FROM_DEVICE && s.dir() != Direction.TO_DEVICE) {
        violate("DMA-debug 16", at, s.dev() + ": " + what + " of 0x" + Long.toHexString(addr) + ", " + m.what() + ": syncs device read-only DMA memory for the CPU",
            about, m.step);
      }
      if (!s.forCpu() && m.dir != Direction.TO_DEVICE && s.dir() != Direction.FROM_DEVICE) {
        violate("DMA-debug 17", at, s.dev() + ": " + what + " of 0x" + Long.toHexString(addr) + ", " + m.what()
            + ": syncs device write-only DMA memory to the device", about, m.step);
      }
    }
  }

  /** "; 0x... was unmapped at line L (...)" when an ended mapping of {@code owner} covered {@code addr}, else "". */
  private String afterEnd(String owner, long addr) {
    Mapping m = endedCovering(owner, addr);
    return m == null ? "; the trace never mapped it (mapped before the trace began?)" + lost()
        : "; its mapping " + m.what() + " ended at line " + m.endLine + " (" + m.endedBy + ")";
  }

  private Mapping endedCovering(String owner, long addr) {
    return covering(ended.get(owner), addr);
  }

  private void iommuMapped(StepInfo at, TraceEvent.IommuMapped m) {
    TreeMap<Long, Mapping> t = iommu.computeIfAbsent(m.domain(), k -> new TreeMap<>());
    Mapping mine = new Mapping("iommu:" + m.domain() + "@0x" + Long.toHexString(m.iova()), "iommu", "iommu_map", m.iova(), m.size(), null, m.paddr(), "",
        m.line(), at.step(), null);
    Mapping other = overlapping(t, m.iova(), m.size());
    // an IOVA mapped in the unknown domain "?" may belong to any device's domain: overlaps there prove nothing
    if (other != null && !m.domain().equals("?")) {
      violate("T7", at, "iommu_map of 0x" + Long.toHexString(m.iova()) + "+" + m.size() + " -> 0x" + Long.toHexString(m.paddr()) + " at line " + m.line()
          + " in " + domainOf(m.domain()) + " overlaps the live " + other.what() + " (paddr 0x" + Long.toHexString(other.phys)
          + "): an IOVA mapped twice" + lost(), List.of(other.key, mine.key), other.step);
    }
    t.put(m.iova(), mine);
  }

  /** iommu:unmap: every live IOMMU mapping inside the range ends; a range the domain did not (fully) map is T8. */
  private void iommuUnmapped(StepInfo at, TraceEvent.IommuUnmapped u) {
    // The domain whose mapping this unmaps: the attributed one if it maps the IOVA, else the unknown domain "?" if it does
    // (a map whose task migrated to another CPU before its DMA API call), else the one domain that maps it.
    String domain = u.domain();
    if (!coveredIn(iommu.get(domain), u.iova())) {
      if (coveredIn(iommu.get("?"), u.iova())) {
        domain = "?";
      } else {
        String only = null;
        int found = 0;
        for (Map.Entry<String, TreeMap<Long, Mapping>> d : new TreeMap<>(iommu).entrySet()) {
          if (coveredIn(d.getValue(), u.iova())) {
            only = d.getKey();
            found++;
          }
        }
        if (found == 1) domain = only;
      }
    }
    TreeMap<Long, Mapping> t = iommu.get(domain);
    Mapping first = null;
    if (t != null) {
      Map.Entry<Long, Mapping> e = t.floorEntry(u.iova());
      long from = e != null && e.getValue().covers(u.iova()) ? e.getKey() : u.iova();
      for (Map.Entry<Long, Mapping> in = t.ceilingEntry(from); in != null && in.getKey() < u.iova() + u.size(); in = t.ceilingEntry(from)) {
        Mapping m = in.getValue();
        if (first == null) first = m;
        t.remove(m.start);
        end(m, "iommu_unmap", at, u.line());
        from = m.start + 1;
      }
    }
    // The kernel says how much it unmapped: less than asked is its own evidence that the range was not (all) mapped. A
    // full unmap of a range the trace never saw mapped is a mapping made before the trace began (or one the importer
    // could not attribute): nothing to judge.
    if (u.unmapped() < u.size()) {
      Mapping gone = endedCovering("iommu:" + domain, u.iova());
      if (gone == null) gone = endedCovering("iommu:?", u.iova());
      String why = gone != null && gone.endLine != u.line() ? "it was already unmapped at line " + gone.endLine + " (" + gone.what() + ")"
          : u.unmapped() == 0 ? "nothing was mapped there" + lost() : "only " + u.unmapped() + " bytes of it were mapped" + lost();
      violate("T8", at, "iommu_unmap of 0x" + Long.toHexString(u.iova()) + "+" + u.size() + " at line " + u.line() + " in " + domainOf(domain)
          + " unmapped " + u.unmapped() + " bytes: " + why, first == null ? List.of() : List.of(first.key),
          gone == null ? new long[0] : new long[] {gone.step});
    }
  }

  private static String domainOf(String domain) {
    return domain.equals("?") ? "a domain the trace does not name (no DMA API call on the same CPU covered the line)" : "the domain of " + domain;
  }

  /** The mapping of {@code t} (null: none) that covers {@code addr}, or null. */
  private static Mapping covering(TreeMap<Long, Mapping> t, long addr) {
    Map.Entry<Long, Mapping> e = t == null ? null : t.floorEntry(addr);
    return e != null && e.getValue().covers(addr) ? e.getValue() : null;
  }

  private static boolean coveredIn(TreeMap<Long, Mapping> t, long addr) {
    return covering(t, addr) != null;
  }

  /**
   * An IO page fault: the device reached for {@code iova}. Judged first against the device's DMA API
   * mappings (live: a write through a read-only mapping, T3, else a fault on a live mapping, T4; ended:
   * access after unmap or free, T1), then against its domain's IOMMU mappings; nothing ever mapped: T2.
   */
  private void fault(StepInfo at, TraceEvent.IoPageFault f) {
    String access = (f.write() ? "write" : "read") + " by " + f.dev() + (f.driver().isEmpty() ? "" : " (" + f.driver() + ")") + " at IOVA 0x"
        + Long.toHexString(f.iova()) + " (io_page_fault at line " + f.line() + ", flags 0x" + Integer.toHexString(f.flags()) + ")";
    Mapping m = covering(live.get(f.dev()), f.iova());
    if (m == null) m = liveIommu(f.dev(), f.iova());
    if (m != null) {
      if (f.write() && m.dir == Direction.TO_DEVICE) {
        violate("T3", at, access + " through the live " + m.what() + ": the device wrote memory mapped TO_DEVICE (read-only for it)", List.of(m.key), m.step);
      } else {
        violate("T4", at, access + " inside the live " + m.what() + ": the IOMMU had no translation for a mapping the DMA API still holds "
            + "(its IOMMU part unmapped early, or a stale IOTLB)" + lost(), List.of(m.key), m.step);
      }
      return;
    }
    Mapping gone = endedCovering(f.dev(), f.iova());
    Mapping goneIommu = endedCovering("iommu:" + f.dev(), f.iova());
    if (goneIommu == null) goneIommu = endedCovering("iommu:?", f.iova());
    if (gone == null) gone = goneIommu;
    if (gone != null) {
      String verb = gone.endedBy.startsWith("dma_free") ? "freed" : "unmapped";
      String also = goneIommu != null && goneIommu != gone ? "; its IOMMU mapping (" + goneIommu.what() + ") was removed at line " + goneIommu.endLine : "";
      violate("T1", at, access + " after its mapping was " + verb + ": " + gone.what() + ", " + verb + " by " + gone.endedBy + " at line " + gone.endLine
          + also + ": the device still used the address (a device access after " + (verb.equals("freed") ? "free" : "unmap") + ")",
          goneIommu != null && goneIommu != gone ? List.of(gone.key, goneIommu.key) : List.of(gone.key),
          goneIommu != null && goneIommu != gone ? new long[] {gone.step, gone.endStep, goneIommu.step, goneIommu.endStep}
              : new long[] {gone.step, gone.endStep});
      return;
    }
    violate("T2", at, access + ": the trace never mapped this address for the device (mapped before the trace began, or a stray DMA address)" + lost());
  }

  private Mapping liveIommu(String dev, long iova) {
    Mapping m = covering(iommu.get(dev), iova);
    return m != null ? m : covering(iommu.get("?"), iova);
  }

  /** A device detached from its domain or removed from its group while DMA API mappings of it were live (dma-debug's unbind check, class 23). */
  private void detached(StepInfo at, TraceEvent.DeviceChanged d) {
    TreeMap<Long, Mapping> mine = live.get(d.dev());
    if (mine == null || mine.isEmpty()) return;
    Mapping first = mine.firstEntry().getValue();
    String what = switch (d.what()) {
      case "detach" -> "detached from its domain";
      case "attach" -> "attached to a new domain (its live mappings are in the old one)";
      default -> "removed from IOMMU group " + d.group();
    };
    violate("T6", at, d.dev() + " " + what + " at line "
        + d.line() + " with " + count(mine) + " DMA mapping(s) live, e.g. " + first.what() + lost(), List.of(first.key), first.step);
  }

  @Override
  public void onRunEnd(StepInfo at) {
    if (!wholeLife) return;
    int n = 0;
    Mapping first = null;
    for (TreeMap<Long, Mapping> t : new TreeMap<>(live).values()) {
      for (Mapping head : t.values()) {
        if (first == null) first = head;
        for (Mapping m = head; m != null; m = m.sameStart) n++;
      }
    }
    if (first != null) {
      violate("I12", at, n + " DMA mapping(s) never unmapped in a trace of the driver's whole life, e.g. " + first.owner()
          + " " + first.what() + lost(), List.of(first.key), first.step);
    }
  }

  /** DMA API mappings still live (for the import summary). */
  public long liveMappings() {
    long n = 0;
    for (TreeMap<Long, Mapping> t : live.values()) n += count(t);
    return n;
  }

  /** Unmaps and syncs of DMA API mappings made before the trace began (for the import summary; violations with wholeLife). */
  public long unseen() {
    return unseen;
  }

  /** IOMMU mappings still live (for the import summary). */
  public long liveIommuMappings() {
    long n = 0;
    for (TreeMap<Long, Mapping> t : iommu.values()) n += t.size();
    return n;
  }
}
