package dmasim.actors.device;

import dmasim.actors.state.Iotlb;
import dmasim.protocol.DeviceEvent;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Event;
import dmasim.protocol.JournalEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * What a Device holds. Volatile (lost on reset or restart): the descriptors in flight with their
 * progress, and the ATC. The device persists nothing that survives a reset in this model (ODP
 * device page tables arrive with the HMM/ODP work).
 */
public final class DeviceState {
  /** A descriptor being executed: its pages (IOVA of each), direction, progress. */
  public record Descriptor(long tag, String cpu, List<Long> pages, boolean write, int next, int faults) {
    Descriptor advance(boolean ok) {
      return new Descriptor(tag, cpu, pages, write, next + 1, faults + (ok ? 0 : 1));
    }
  }

  final DeviceSettings settings;
  final TreeMap<Long, Descriptor> inFlight = new TreeMap<>();
  boolean removed;
  Iotlb atc;
  /** Per sender, how many envelopes each device fault rule selected so far (survives a reset: the rule's count, not the device's). */
  final java.util.Map<String, long[]> faultMatches = new java.util.HashMap<>();

  public DeviceState(DeviceSettings settings) {
    this.settings = settings;
    this.atc = new Iotlb(settings.atcCapacity());
  }

  public DeviceSettings settings() {
    return settings;
  }

  public int inFlight() {
    return inFlight.size();
  }

  public Iotlb atc() {
    return atc;
  }

  /** How many envelopes from {@code sender} fault rule {@code rule} selected so far. */
  long faultMatches(String sender, int rule) {
    long[] m = faultMatches.get(sender);
    return m == null ? 0 : m[rule];
  }

  public DeviceState lostVolatileState() {
    inFlight.clear();
    atc = new Iotlb(settings.atcCapacity());
    return this;
  }

  /** Marks a page address as a PCI bus address (P2P, no IOMMU): the top bit, never set in a real address here. */
  static final long BUS = Long.MIN_VALUE;

  /** The address of every 4 KiB page the segments touch, in order; bus-address pages carry {@link #BUS}. */
  static List<Long> pagesOf(List<DmaSegment> segments) {
    List<Long> pages = new ArrayList<>();
    for (DmaSegment s : segments) {
      if (s.addr().isError()) continue; // DMA_MAPPING_ERROR: no transaction is modelled for ~0 (the monitors judge the descriptor)
      long first = s.addr().addr() & ~0xfffL;
      for (long a = first; a < s.addr().addr() + s.length(); a += 4096) pages.add(s.busAddress() ? a | BUS : a);
    }
    return pages;
  }

  public DeviceState apply(Event event) {
    if (event instanceof JournalEvent) return this;
    DeviceEvent e = (DeviceEvent) event;
    if (e instanceof DeviceEvent.DescriptorAccepted a) {
      inFlight.put(a.tag(), new Descriptor(a.tag(), a.cpu(), pagesOf(a.segments()), a.write(), 0, 0));
    } else if (e instanceof DeviceEvent.PageTransferred p) {
      inFlight.computeIfPresent(p.tag(), (k, d) -> d.advance(p.ok()));
    } else if (e instanceof DeviceEvent.DescriptorCompleted c) {
      inFlight.remove(c.tag());
    } else if (e instanceof DeviceEvent.AtcFilled f) {
      atc.fill(f.iovaPfn(), (f.physPfn() << 8) | f.prot().bits());
    } else if (e instanceof DeviceEvent.AtcInvalidated i) {
      atc.invalidate(i.startPfn(), i.pages());
    } else if (e instanceof DeviceEvent.DeviceWasReset) {
      lostVolatileState();
    } else if (e instanceof DeviceEvent.FaultDecided f) {
      faultMatches.computeIfAbsent(f.from(), k -> new long[settings.faults().size()])[f.rule()] = f.match();
    } else if (e instanceof DeviceEvent.DeviceRemoved) {
      lostVolatileState();
      removed = true;
    }
    return this;
  }
}
