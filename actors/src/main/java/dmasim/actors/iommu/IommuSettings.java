package dmasim.actors.iommu;

import dmasim.protocol.DeviceId;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How one IOMMU unit and its DMA domain are configured. Read once at the edge (scenario or
 * config) and passed down. Times are virtual nanoseconds.
 *
 * @param mode strict (DMA domain), lazy (DMA-FQ with per-CPU queues) or lazy-single (one large
 *     queue, the shadow_on_flush variant)
 * @param granuleShift log2 of the IOVA granule (12 = 4 KiB)
 * @param apertureEndPfn first IOVA pfn beyond the aperture
 * @param reserved reserved IOVA ranges as {pfn, pages} pairs (reserve_iova)
 * @param iotlbCapacity IOTLB entries
 * @param cachingMode IOTLB caches not-present entries (Intel caching mode, AMD NpCache): map needs a flush
 * @param fqSize entries per flush-queue ring (a power of two; size - 1 usable)
 * @param fqTimeout flush-queue timer, virtual ns
 * @param invalidationLatency time from posting an invalidation command to its completion
 * @param atcFirst the (wrong) order ATC-then-IOTLB instead of IOTLB-then-ATC (I10)
 * @param cpus CPU queues (one flush-queue ring each in lazy mode)
 * @param devices the devices behind this IOMMU with their DMA mask bits and ATS flag
 * @param faults injected failures of IOMMU-glue operations, drawn with {@code faultSeed}
 * @param teardownTimerSync teardown deletes the flush-queue timer synchronously (false: the B1 race,
 *     d7061627d701 "iommu/iova: Fix race between FQ timeout and teardown")
 * @param gatherEndBug the inclusive gather end used as exclusive when sizing natural-aligned
 *     invalidations (B10, 2212fc2acf3f "iommu/amd: Fix domain flush size when syncing iotlb")
 * @param fqBarrier queue_iova orders the PTE clear before reading fq_flush_start_cnt (smp_mb, B3 7a7c5badf858);
 *     false models the missing barrier (R1): the clear reaches the walker one invalidation latency later
 * @param syncMapFlagAtAttach the domain's flush-on-map flag is OR-ed in at attach, racing maps in
 *     flight (B6, 12724ce3fe1a); false: decided at allocation, such an attach is refused (cee686775f9c)
 * @param swiotlbZeroMiddleBug the swiotlb link helper maps an empty middle and unwinds from offset 0
 *     (B7, fixed by 6ec91df8aff7)
 * @param swiotlbInitSlot a bounce slot is filled from the original buffer at map time whatever the
 *     direction (aa6f8dcbab47); false: only for TO_DEVICE/BIDIRECTIONAL, the B9 info leak (ddbd89deb7d3)
 * @param initDomainUnlocked iommu_dma_init_domain checks start_pfn and runs init_iova_domain without
 *     the cookie mutex, so two devices attaching at once both initialise the shared IOVA domain (the
 *     race fixed by ac9a5d522bb8); false: the mutex is held across the check and the initialisation
 * @param initDomainLatency from the start_pfn check to init_iova_domain completing (a separate
 *     envelope; 0 = the same virtual time, only the interleaving opens the window)
 */
public record IommuSettings(
    Mode mode,
    int granuleShift,
    long apertureEndPfn,
    List<long[]> reserved,
    int iotlbCapacity,
    boolean cachingMode,
    int fqSize,
    long fqTimeout,
    long invalidationLatency,
    boolean atcFirst,
    int cpus,
    Map<DeviceId, DeviceSpec> devices,
    FaultPlan faults,
    long faultSeed,
    boolean teardownTimerSync,
    boolean gatherEndBug,
    boolean fqBarrier,
    boolean syncMapFlagAtAttach,
    boolean swiotlbZeroMiddleBug,
    boolean swiotlbInitSlot,
    boolean initDomainUnlocked,
    long initDomainLatency) {

  /** Domain type: IOMMU_DOMAIN_DMA, IOMMU_DOMAIN_DMA_FQ with per-CPU rings, or with the single queue. */
  public enum Mode {
    STRICT,
    LAZY,
    LAZY_SINGLE,
    /** IOMMU_DOMAIN_IDENTITY (iommu=pt): no DMA-API domain, every device uses dma-direct. */
    PASSTHROUGH
  }

  /**
   * A device as the IOMMU sees it. {@code maxSegmentSize} is dma_get_max_seg_size (65536 when the
   * driver sets no dma_parms) and {@code segmentBoundary} dma_get_seg_boundary (0xffffffff by default,
   * a mask 2^n - 1): iommu_dma_map_sg lays segments out so they do not cross it, and
   * check_sg_segment (kernel/dma/debug.c) reports mapped segments that break either. {@code direct}:
   * the device is not translated by this IOMMU, so the DMA API takes dma-direct for it
   * (use_dma_iommu() is false). {@code attachAtStart}: attached to the DMA domain before the run
   * (false: only once a program attaches it, until then its DMA API calls fail).
   */
  public record DeviceSpec(int dmaMaskBits, boolean ats, boolean untrusted, boolean coherent, long maxSegmentSize, long segmentBoundary,
      boolean direct, boolean attachAtStart) {
    public static final long DEFAULT_MAX_SEGMENT_SIZE = 65536;
    public static final long DEFAULT_SEGMENT_BOUNDARY = 0xffffffffL;

    public DeviceSpec {
      if (dmaMaskBits < 24 || dmaMaskBits > 64) throw new IllegalArgumentException("dma mask bits out of range: " + dmaMaskBits);
      if (maxSegmentSize < 1) throw new IllegalArgumentException("max segment size must be positive: " + maxSegmentSize);
      if (segmentBoundary < 0 || (segmentBoundary & (segmentBoundary + 1)) != 0) {
        throw new IllegalArgumentException("segment boundary must be a mask 2^n - 1: " + segmentBoundary);
      }
    }

    public DeviceSpec(int dmaMaskBits, boolean ats, boolean untrusted, boolean coherent) {
      this(dmaMaskBits, ats, untrusted, coherent, DEFAULT_MAX_SEGMENT_SIZE, DEFAULT_SEGMENT_BOUNDARY, false, true);
    }

    public DeviceSpec(int dmaMaskBits, boolean ats, boolean untrusted, boolean coherent, long maxSegmentSize, long segmentBoundary) {
      this(dmaMaskBits, ats, untrusted, coherent, maxSegmentSize, segmentBoundary, false, true);
    }

    public DeviceSpec(int dmaMaskBits, boolean ats, boolean untrusted, boolean coherent, boolean attachAtStart) {
      this(dmaMaskBits, ats, untrusted, coherent, DEFAULT_MAX_SEGMENT_SIZE, DEFAULT_SEGMENT_BOUNDARY, false, attachAtStart);
    }

    public DeviceSpec(int dmaMaskBits, boolean ats) {
      this(dmaMaskBits, ats, false, true);
    }

    public DeviceSpec(int dmaMaskBits, boolean ats, boolean untrusted) {
      this(dmaMaskBits, ats, untrusted, true);
    }
  }

  /**
   * Why this domain cannot be lazy, or null when it can. An untrusted device always gets
   * IOMMU_DOMAIN_DMA, never DMA_FQ (iommu_get_default_domain_type: "Device is not trusted"), and an
   * IOMMU that caches not-present entries forces strict invalidation for per-CPU flush queues:
   * Intel VT-d in caching mode with second-stage tables (intel_iommu_init: iommu_set_dma_strict,
   * "IOMMU batching disallowed due to virtualization") and AMD with NpCache (6664340cf1d5 "Do not
   * use flush-queue when NpCache is on"). The single large queue of shadow_on_flush IOMMUs (s390)
   * is meant for exactly that case and stays allowed.
   */
  public String strictRequired() {
    if (mode == Mode.PASSTHROUGH) {
      for (Map.Entry<DeviceId, DeviceSpec> d : devices.entrySet()) {
        if (d.getValue().untrusted()) {
          return "device " + dmasim.actors.model.Names.device(d.getKey()) + " is untrusted, and the kernel gives an untrusted device a"
              + " DMA domain (iommu_get_default_domain_type), never an identity domain";
        }
      }
      return null;
    }
    // Where a domain must be strict the kernel makes it so whatever the boot default; dmasim refuses
    // the request instead of changing it silently.
    if (mode == Mode.STRICT) return null;
    for (Map.Entry<DeviceId, DeviceSpec> d : devices.entrySet()) {
      if (d.getValue().untrusted()) {
        return "device " + dmasim.actors.model.Names.device(d.getKey()) + " is untrusted, and the kernel gives an untrusted device a strict DMA domain"
            + " (iommu_get_default_domain_type), never a flush queue";
      }
    }
    if (cachingMode && mode == Mode.LAZY) {
      return "an IOMMU in caching mode forces strict invalidation (intel_iommu_init: iommu_set_dma_strict, \"IOMMU batching"
          + " disallowed due to virtualization\"; AMD NpCache likewise); lazy-single (shadow_on_flush) is the flush queue for it";
    }
    return null;
  }

  /**
   * use_dma_iommu(dev) is false: the device sits in an identity (passthrough) domain or behind no
   * IOMMU at all, so dma_map_phys goes to dma_direct_map_phys and dma_iova_try_alloc returns false.
   */
  public boolean direct(DeviceId dev) {
    DeviceSpec spec = devices.get(dev);
    return mode == Mode.PASSTHROUGH || spec != null && spec.direct();
  }

  /** dma_info_to_prot: IOMMU_CACHE only for a coherent device, IOMMU_MMIO instead for MMIO. */
  public dmasim.protocol.Prot prot(DeviceId dev, dmasim.protocol.Direction dir, boolean mmio) {
    dmasim.protocol.Prot p = dir.prot(mmio);
    DeviceSpec spec = devices.get(dev);
    if (!mmio && spec != null && !spec.coherent()) p = new dmasim.protocol.Prot(p.bits() & ~dmasim.protocol.Prot.CACHE);
    return p;
  }

  /** The swiotlb pool: slots of one page from this pfn (below 4 GiB, away from RAM and regions). */
  public static final long SWIOTLB_PFN = 0x80000;
  public static final int SWIOTLB_SLOTS = 1024;

  /** IOVA_DEFAULT_FQ_SIZE / IOVA_DEFAULT_FQ_TIMEOUT (dma-iommu.c). */
  public static final int DEFAULT_FQ_SIZE = 256;
  public static final long DEFAULT_FQ_TIMEOUT = 10_000_000L;
  /** IOVA_SINGLE_FQ_SIZE / IOVA_SINGLE_FQ_TIMEOUT (dma-iommu.c, shadow_on_flush). */
  public static final int SINGLE_FQ_SIZE = 32768;
  public static final long SINGLE_FQ_TIMEOUT = 1_000_000_000L;

  public IommuSettings {
    if (granuleShift < 12 || granuleShift > 16) throw new IllegalArgumentException("granule must be 4-64 KiB");
    if (iotlbCapacity < 1) throw new IllegalArgumentException("iotlb capacity must be positive");
    if (Integer.bitCount(fqSize) != 1) throw new IllegalArgumentException("fq size must be a power of two: " + fqSize);
    if (fqTimeout <= 0 || invalidationLatency < 0) throw new IllegalArgumentException("bad flush-queue timing");
    if (initDomainLatency < 0) throw new IllegalArgumentException("init-domain latency must not be negative");
    if (cpus < 1) throw new IllegalArgumentException("at least one CPU");
    reserved = List.copyOf(reserved);
    devices = new TreeMap<>(devices);
    if (faults == null) faults = FaultPlan.NONE;
  }

  /** A copy with {@code f} applied to a builder of all fields. */
  private IommuSettings with(java.util.function.Consumer<Builder> f) {
    Builder b = new Builder(this);
    f.accept(b);
    return b.build();
  }

  /** Mutable copy of the fields, for the with* methods. */
  private static final class Builder {
    Mode mode; int granuleShift; long apertureEndPfn; List<long[]> reserved; int iotlbCapacity; boolean cachingMode; int fqSize;
    long fqTimeout; long invalidationLatency; boolean atcFirst; int cpus; Map<DeviceId, DeviceSpec> devices; FaultPlan faults;
    long faultSeed; boolean teardownTimerSync; boolean gatherEndBug; boolean fqBarrier; boolean syncMapFlagAtAttach; boolean swiotlbZeroMiddleBug; boolean swiotlbInitSlot;
    boolean initDomainUnlocked; long initDomainLatency;

    Builder(IommuSettings s) {
      mode = s.mode; granuleShift = s.granuleShift; apertureEndPfn = s.apertureEndPfn; reserved = s.reserved; iotlbCapacity = s.iotlbCapacity;
      cachingMode = s.cachingMode; fqSize = s.fqSize; fqTimeout = s.fqTimeout; invalidationLatency = s.invalidationLatency;
      atcFirst = s.atcFirst; cpus = s.cpus; devices = s.devices; faults = s.faults; faultSeed = s.faultSeed;
      teardownTimerSync = s.teardownTimerSync; gatherEndBug = s.gatherEndBug; fqBarrier = s.fqBarrier; syncMapFlagAtAttach = s.syncMapFlagAtAttach; swiotlbZeroMiddleBug = s.swiotlbZeroMiddleBug; swiotlbInitSlot = s.swiotlbInitSlot;
      initDomainUnlocked = s.initDomainUnlocked; initDomainLatency = s.initDomainLatency;
    }

    IommuSettings build() {
      return new IommuSettings(mode, granuleShift, apertureEndPfn, reserved, iotlbCapacity, cachingMode, fqSize, fqTimeout,
          invalidationLatency, atcFirst, cpus, devices, faults, faultSeed, teardownTimerSync, gatherEndBug, fqBarrier, syncMapFlagAtAttach, swiotlbZeroMiddleBug, swiotlbInitSlot,
          initDomainUnlocked, initDomainLatency);
    }
  }

  public IommuSettings withFaults(FaultPlan plan, long seed) {
    return with(b -> {
      b.faults = plan;
      b.faultSeed = seed;
    });
  }

  public IommuSettings withTeardownTimerSync(boolean sync) {
    return with(b -> b.teardownTimerSync = sync);
  }

  public IommuSettings withGatherEndBug(boolean bug) {
    return with(b -> b.gatherEndBug = bug);
  }

  public IommuSettings withSwiotlbInitSlot(boolean init) {
    return with(b -> b.swiotlbInitSlot = init);
  }

  public IommuSettings withCpus(int n) {
    return with(b -> b.cpus = n);
  }

  public IommuSettings withSwiotlbZeroMiddleBug(boolean bug) {
    return with(b -> b.swiotlbZeroMiddleBug = bug);
  }

  public IommuSettings withSyncMapFlagAtAttach(boolean atAttach) {
    return with(b -> b.syncMapFlagAtAttach = atAttach);
  }

  public IommuSettings withInitDomainUnlocked(boolean unlocked) {
    return with(b -> b.initDomainUnlocked = unlocked);
  }

  public IommuSettings withInitDomainLatency(long ns) {
    return with(b -> b.initDomainLatency = ns);
  }

  public IommuSettings withFqBarrier(boolean barrier) {
    return with(b -> b.fqBarrier = barrier);
  }

  public IommuSettings withInvalidationLatency(long ns) {
    return with(b -> b.invalidationLatency = ns);
  }

  public IommuSettings withMode(Mode m) {
    return with(b -> b.mode = m);
  }

  /** Sensible defaults: 48-bit aperture, 4 KiB granule, 64-entry IOTLB, 1 µs invalidations. */
  public static IommuSettings defaults(Mode mode, int cpus, Map<DeviceId, DeviceSpec> devices) {
    boolean single = mode == Mode.LAZY_SINGLE;
    return new IommuSettings(mode, 12, 1L << 36, List.of(), 64, false,
        single ? SINGLE_FQ_SIZE : DEFAULT_FQ_SIZE, single ? SINGLE_FQ_TIMEOUT : DEFAULT_FQ_TIMEOUT, 1_000L, false, cpus, devices,
        FaultPlan.NONE, 0, true, false, true, false, false, true, false, 0);
  }

  public IommuSettings withCachingMode(boolean on) {
    return with(b -> b.cachingMode = on);
  }

  public IommuSettings withAperture(long endPfn, List<long[]> reservedRanges) {
    return with(b -> {
      b.apertureEndPfn = endPfn;
      b.reserved = reservedRanges;
    });
  }

  public IommuSettings withIotlbCapacity(int entries) {
    return with(b -> b.iotlbCapacity = entries);
  }

  public IommuSettings withFlushQueue(int size, long timeout) {
    return with(b -> {
      b.fqSize = size;
      b.fqTimeout = timeout;
    });
  }

  public IommuSettings withAtcFirst(boolean wrongOrder) {
    return with(b -> b.atcFirst = wrongOrder);
  }

  public boolean lazy() {
    return mode == Mode.LAZY || mode == Mode.LAZY_SINGLE;
  }

  public long granule() {
    return 1L << granuleShift;
  }

  public int flushQueues() {
    return mode == Mode.LAZY_SINGLE ? 1 : cpus;
  }

  public List<DeviceId> atsDevices() {
    return devices.entrySet().stream().filter(e -> e.getValue().ats()).map(Map.Entry::getKey).toList();
  }
}
