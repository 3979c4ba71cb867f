package dmasim.actors.state;

import java.util.Map;
import java.util.TreeMap;

/**
 * The IOVA allocator of one domain (drivers/iommu/iova.c), in pages of the domain granule.
 * Allocation is top-down and size-aligned ({@code alloc_iova(..., size_aligned=true)}), sizes
 * below 32 pages are rounded up to a power of two ({@code alloc_iova_fast}), pfn 0 is never
 * handed out ({@code start_pfn >= 1}), reserved ranges are never handed out, and a search starts
 * below the last allocation (the cached node) before retrying from the limit.
 *
 * <p>Invariants: I1 (allocated ranges never overlap each other or a reserved range).
 * Queries ({@link #find}) never mutate; {@link #insert} and {@link #remove} are called only from
 * the owning actor's event handler. Not modelled: the per-CPU rcache magazines and the depot.
 */
public final class IovaAllocator {
  /** Sizes below this many pages are rounded to a power of two (IOVA_RANGE_CACHE_MAX_SIZE - 1 = 5). */
  static final long RCACHE_LIMIT_PAGES = 1L << 5;

  private final long startPfn;
  private final long endPfn; // exclusive
  private final TreeMap<Long, Long> ranges = new TreeMap<>(); // lo -> exclusive hi, allocated or reserved
  private final TreeMap<Long, Long> reserved = new TreeMap<>();
  private long cachedPfn; // allocations search below this first (cached_node)
  private long allocatedPages;

  public IovaAllocator(long startPfn, long endPfn) {
    if (startPfn < 1) throw new IllegalArgumentException("start_pfn must be >= 1 so IOVA 0 is never handed out");
    if (endPfn <= startPfn) throw new IllegalArgumentException("empty IOVA aperture");
    this.startPfn = startPfn;
    this.endPfn = endPfn;
    this.cachedPfn = endPfn;
  }

  /** reserve_iova: the range is never allocated (host-bridge windows, firmware regions). */
  public void reserve(long lo, long pages) {
    if (overlapsAny(lo, lo + pages)) throw new IllegalArgumentException("reserved range overlaps " + lo);
    ranges.put(lo, lo + pages);
    reserved.put(lo, lo + pages);
  }

  /** The number of pages an allocation of {@code pages} really takes (alloc_iova_fast rounding). */
  public static long roundedSize(long pages) {
    if (pages <= 0) throw new IllegalArgumentException("size must be positive");
    return pages < RCACHE_LIMIT_PAGES ? roundUpPow2(pages) : pages;
  }

  static long roundUpPow2(long v) {
    return v <= 1 ? 1 : Long.highestOneBit(v - 1) << 1;
  }

  /**
   * Finds the base pfn for {@code pages} (already rounded) below {@code limitPfn} (exclusive),
   * or -1 when the space below the limit is exhausted. Tries below the cached node first, then
   * once from the limit (the retry in __alloc_and_insert_iova_range).
   */
  public long find(long pages, long limitPfn) {
    long limit = Math.min(limitPfn, endPfn);
    long align = roundUpPow2(pages);
    long base = -1;
    if (cachedPfn < limit) base = search(pages, align, cachedPfn);
    if (base < 0) base = search(pages, align, limit);
    return base;
  }

  private long search(long pages, long align, long limit) {
    long candidate = alignDown(limit - pages, align);
    while (candidate >= startPfn) {
      Map.Entry<Long, Long> below = ranges.lowerEntry(candidate + pages);
      if (below == null || below.getValue() <= candidate) return candidate;
      candidate = alignDown(below.getKey() - pages, align);
    }
    return -1;
  }

  private static long alignDown(long v, long align) {
    return v < 0 ? -1 : v & -align;
  }

  /** Records an allocation chosen by {@link #find}. */
  public void insert(long base, long pages) {
    if (base < startPfn || base + pages > endPfn || overlapsAny(base, base + pages)) {
      throw new IllegalStateException("allocation [" + base + "+" + pages + ") overlaps or leaves the aperture");
    }
    ranges.put(base, base + pages);
    allocatedPages += pages;
    cachedPfn = base;
  }

  /** The pages of the allocation starting at {@code base}, or -1 when none starts there. */
  public long pagesAt(long base) {
    Long hi = ranges.get(base);
    return hi == null || reserved.containsKey(base) ? -1 : hi - base;
  }

  /** The base of the live allocation containing {@code pfn}, or -1. */
  public long baseContaining(long pfn) {
    Map.Entry<Long, Long> e = ranges.floorEntry(pfn);
    return e != null && e.getValue() > pfn && !reserved.containsKey(e.getKey()) ? e.getKey() : -1;
  }

  /** free_iova: returns the range; a later search restarts above it (__cached_rbnode_delete_update). */
  public void remove(long base) {
    Long hi = ranges.get(base);
    if (hi == null || reserved.containsKey(base)) throw new IllegalStateException("no allocation at pfn " + base);
    ranges.remove(base);
    allocatedPages -= hi - base;
    if (base >= cachedPfn) cachedPfn = hi;
  }

  public long allocatedPages() {
    return allocatedPages;
  }

  public int allocations() {
    return ranges.size() - reserved.size();
  }

  public long endPfn() {
    return endPfn;
  }

  private boolean overlapsAny(long lo, long hi) {
    Map.Entry<Long, Long> e = ranges.lowerEntry(hi);
    return e != null && e.getValue() > lo;
  }
}
