package dmasim.actors.monitor;

import dmasim.actors.state.LongLongMap;
import dmasim.protocol.CpuEvent;
import dmasim.protocol.DeviceEvent;
import dmasim.protocol.DmaAccess;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.Iova;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The most common DMA bug in real drivers, judged from the descriptors a driver hands its device:
 *
 * <ul>
 *   <li>I19: a device transaction of a descriptor still in flight (submitted, not yet completed,
 *       reset or removed) reaches an IOVA page whose mapping the driver tore down after it
 *       submitted the descriptor: a timeout or error handler that unmaps (and frees) a buffer
 *       before the device is quiesced. On real hardware this is the IO page fault logged a few
 *       milliseconds after the unmap (AMD-Vi io_page_fault, DMAR fault "PTE Read access is not
 *       set"), or, if the IOVA was reused, silent DMA into someone else's buffer. Reported for a
 *       fault as much as for a completed access: the fault is the symptom.</li>
 *   <li>I20: a descriptor handed to the device names DMA addresses that are not mapped at that
 *       moment (never mapped, or already unmapped: a stale handle, a destroyed dma_iova_state, an
 *       unmapped sg table), or that are mapped now by another object than the one the descriptor
 *       was built from - the stale address was reused, the nastiest form: no fault, DMA into
 *       another buffer. The device would DMA to whatever those addresses translate to.</li>
 * </ul>
 *
 * <p>Late (stray) accesses after a descriptor completed are not judged here: they belong to the
 * Translation monitor's exposure accounting.
 */
public final class DeviceAccessMonitor extends AbstractMonitor {
  /** The last teardown of an IOVA page: when and by which call. */
  private record Unmap(long step, String owner, String api) {}

  private static final class Descriptor {
    final String cpu;
    final String device;
    final long submitStep;
    /** The driver object the descriptor was built from ("cpu0/s"). */
    final String object;
    final java.util.TreeSet<Long> pages = new java.util.TreeSet<>();
    /** Pages of this descriptor torn down while it was in flight. */
    final TreeMap<Long, Unmap> unmapped = new TreeMap<>();
    boolean reported;

    Descriptor(String cpu, String device, long submitStep, String object) {
      this.cpu = cpu;
      this.device = device;
      this.submitStep = submitStep;
      this.object = object;
    }
  }

  private final TreeMap<Long, Descriptor> inFlight = new TreeMap<>();
  /** How many in-flight descriptors use each IOVA page: the cheap test on every PTE clear. */
  private final LongLongMap pageUsers = new LongLongMap(256);
  /** The last teardown of each IOVA page (one record per PTE clear, shared by its pages). */
  private final PagedArray.Refs<Unmap> lastUnmap = new PagedArray.Refs<>();
  /** The latest failed map or link of each object ("cpu0/s"): "link failed at step 54 (-ENOMEM: swiotlb slots exhausted)". */
  private final java.util.HashMap<String, Long> failedAt = new java.util.HashMap<>();
  private final java.util.HashMap<String, String> failure = new java.util.HashMap<>();
  /** Who mapped each IOVA page (or dma-direct page) now: the owner of the live mapping. */
  private final PagedArray.Ints mappedBy = new PagedArray.Ints();
  /** The owners {@link #mappedBy} names, by id (each a string of its own per link event). */
  private final Names owners = new Names();
  /** Page-list mkeys ("cpu0/save") and the driver object whose mapping their MTT holds ("cpu0/s"): a descriptor built from the mkey is that object's. */
  private final TreeMap<String, String> mkeyOwners = new TreeMap<>();

  public DeviceAccessMonitor() {
    super("DeviceAccessAfterUnmap");
  }

  public DeviceAccessMonitor(Shadow shared) {
    super("DeviceAccessAfterUnmap", shared);
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof IommuEvent.RangeLinked l) {
      for (long p = l.iovaPfn(); p < l.iovaPfn() + l.pages(); p++) {
        int old = mappedBy.get(p, -1);
        mappedBy.put(p, owners.hold(l.owner()));
        if (old >= 0) owners.release(old);
      }
    } else if (event instanceof CpuEvent.DescriptorSubmitted s) onSubmitted(at, s);
    else if (event instanceof IommuEvent.PtesCleared c) onCleared(at, c);
    else if (event instanceof IommuEvent.MapFailed f) {
      failedAt.put(f.owner(), at.step());
      failure.put(f.owner(), f.api() + " failed at step " + at.step() + " (" + dmasim.protocol.Errno.name(f.errno()) + ": " + f.reason() + ")");
    }
    else if (event instanceof dmasim.protocol.HcaEvent.MkeyCreated c && !c.addrs().isEmpty()) {
      String owner = mappedBy(c.addrs().get(0) >>> 12);
      // a handle group's pages are mapped one handle each ("cpu0/h.0", "cpu0/h.1"): the mkey is the group's
      if (owner != null) mkeyOwners.put(c.cpu() + "/" + c.mr(), owner.replaceFirst("\\.\\d+$", ""));
    } else if (event instanceof DeviceEvent.DescriptorCompleted c) retire(c.tag());
    else if (event instanceof DeviceEvent.DeviceWasReset || event instanceof DeviceEvent.DeviceRemoved) retireAll(at.actor());
    else if (event instanceof DmaAccess a && !a.stray()) onTransaction(at, a.tag(), a.iova(), (a.write() ? "wrote" : "read") + " phys pfn " + a.physPfn() + " through");
    else if (event instanceof IommuEvent.DmaFaulted f && !f.stray()) onTransaction(at, f.tag(), f.iova(), "faulted (" + f.reason() + ") on");
  }

  private void onSubmitted(StepInfo at, CpuEvent.DescriptorSubmitted s) {
    String object = at.actor() + "/" + s.source().substring(s.source().indexOf(':') + 1);
    if (s.source().startsWith("mkey:")) object = mkeyOwners.getOrDefault(object, object); // the object whose mapping the mkey's MTT holds
    Descriptor d = new Descriptor(at.actor(), s.device(), at.step(), object);
    List<Long> bad = new ArrayList<>();
    long reused = -1;
    if (s.segments().stream().anyMatch(seg -> seg.addr().isError())) {
      violate("I20", at, at.actor() + " handed " + s.device() + " descriptor " + tag(s.tag()) + " built from " + s.source()
          + " with DMA_MAPPING_ERROR in it: a mapping failed and the driver did not check dma_mapping_error before using the handle",
          List.of(object));
      d.reported = true;
    }
    for (DmaSegment seg : s.segments()) {
      if (seg.busAddress() || seg.addr().isError()) continue; // a P2P bus address: the IOMMU neither maps nor translates it
      long first = seg.addr().addr() >>> 12;
      long last = (seg.addr().addr() + seg.length() - 1) >>> 12;
      for (long p = first; p <= last; p++) {
        if (!d.pages.add(p)) continue;
        pageUsers.add(p, 1);
        if (shadow.entry(p) < 0) bad.add(p);
        else if (reused < 0 && !ownedBy(mappedBy(p), object)) reused = p;
      }
    }
    inFlight.put(s.tag(), d);
    if (d.reported) return;
    if (!bad.isEmpty()) {
      long p = bad.get(0);
      Unmap u = lastUnmap.get(p);
      Long failed = failedAt.get(object);
      if (failed != null && (u == null || failed > u.step())) {
        // The object's own mapping of the address failed (an error the driver did not check), whoever held the address before.
        violate("I20", at, at.actor() + " handed " + s.device() + " descriptor " + tag(s.tag()) + " over DMA address " + new Iova(p << 12)
            + (bad.size() > 1 ? " (and " + (bad.size() - 1) + " more page(s))" : "") + " that is not mapped: " + object + "'s "
            + failure.get(object) + " and the driver submitted anyway - the device will DMA to whatever that address translates to",
            List.of(object));
        d.reported = true;
        return;
      }
      violate("I20", at, at.actor() + " handed " + s.device() + " descriptor " + tag(s.tag()) + " over DMA address " + new Iova(p << 12)
          + (bad.size() > 1 ? " (and " + (bad.size() - 1) + " more page(s))" : "") + " that is not mapped"
          + (u == null ? " (never mapped)" : ": " + u.owner() + " unmapped it with " + u.api() + " at step " + u.step())
          + " - the device will DMA to whatever that address translates to", u == null ? List.of(object) : List.of(object, u.owner()),
          u == null ? new long[0] : new long[] {u.step()});
      d.reported = true;
    } else if (reused >= 0) {
      Unmap u = lastUnmap.get(reused);
      violate("I20", at, at.actor() + " handed " + s.device() + " descriptor " + tag(s.tag()) + " built from " + s.source() + " over DMA address "
          + new Iova(reused << 12) + ", which now maps " + mappedBy(reused) + "'s buffer (phys pfn " + shadow.physOf(reused) + ")"
          + (u == null ? "" : ": " + u.owner() + " unmapped it with " + u.api() + " at step " + u.step() + " and the address was reused")
          + " - the device will DMA into another buffer, and nothing faults",
          u == null ? List.of(object, mappedBy(reused)) : List.of(object, u.owner(), mappedBy(reused)));
      d.reported = true;
    }
  }

  /** The owner of the live mapping of IOVA page {@code p}, or null. */
  private String mappedBy(long p) {
    int id = mappedBy.get(p, -1);
    return id < 0 ? null : owners.name(id);
  }

  /** Whether a mapping owned by {@code owner} belongs to {@code object} (a state, an sg table, or a member "h.N" of a handle group). */
  private static boolean ownedBy(String owner, String object) {
    return owner == null || owner.equals(object) || owner.startsWith(object + ".");
  }

  private void onCleared(StepInfo at, IommuEvent.PtesCleared c) {
    Unmap u = new Unmap(at.step(), c.owner(), c.api());
    for (long p = c.iovaPfn(); p < c.iovaPfn() + c.pages(); p++) {
      lastUnmap.put(p, u);
      int old = mappedBy.remove(p, -1);
      if (old >= 0) owners.release(old);
      if (pageUsers.get(p, 0) == 0) continue;
      for (Descriptor d : inFlight.values()) if (d.pages.contains(p)) d.unmapped.putIfAbsent(p, u);
    }
  }

  private void onTransaction(StepInfo at, long tag, Iova iova, String what) {
    Descriptor d = inFlight.get(tag);
    if (d == null || d.reported) return;
    Unmap u = d.unmapped.get(iova.addr() >>> 12);
    if (u == null) return;
    d.reported = true;
    violate("I19", at, d.device + " " + what + " DMA address " + iova + " for descriptor " + tag(tag) + " that " + d.cpu + " submitted at step "
        + d.submitStep + ", after " + u.owner() + " unmapped it with " + u.api() + " at step " + u.step()
        + " while the descriptor was still in flight: quiesce or reset the device (and wait for it) before unmapping",
        List.of(d.object, u.owner()), d.submitStep, u.step());
  }

  private void retire(long tag) {
    Descriptor d = inFlight.remove(tag);
    if (d == null) return;
    d.pages.forEach(p -> pageUsers.add(p, -1));
  }

  private void retireAll(String device) {
    List<Long> tags = new ArrayList<>();
    inFlight.forEach((t, d) -> {
      if (d.device.equals(device)) tags.add(t);
    });
    tags.forEach(this::retire);
  }

  private static String tag(long tag) {
    return "cpu" + (tag >>> 32) + "/tag" + (tag & 0xffffffffL);
  }
}
