package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/**
 * One event of a kernel trace (ftrace text of the {@code dma:}, {@code iommu:} and {@code swiotlb:}
 * tracepoints), as {@code dmasim import-trace} journals it: what the kernel printed, parsed, with
 * the trace file's line number. Events about a mapping name it as "dev@0xADDR" (or
 * "iommu:DOMAIN@0xIOVA"): the object a violation's explanation follows back. A device's DMA API calls, IO page faults and attach/detach are
 * journaled by the device's actor ("dev:NAME"); IOMMU map/unmap lines, which name no device, by the
 * "iommu" actor with the domain the importer attributed them to (the device whose DMA API call on
 * the same CPU they belong to, or "?"). Addresses are as printed; -1 where the format has none.
 */
@JsonSubTypes({
  @JsonSubTypes.Type(TraceEvent.DmaMapped.class),
  @JsonSubTypes.Type(TraceEvent.SgMapped.class),
  @JsonSubTypes.Type(TraceEvent.DmaUnmapped.class),
  @JsonSubTypes.Type(TraceEvent.SgUnmapped.class),
  @JsonSubTypes.Type(TraceEvent.DmaSynced.class),
  @JsonSubTypes.Type(TraceEvent.MapFailed.class),
  @JsonSubTypes.Type(TraceEvent.IommuMapped.class),
  @JsonSubTypes.Type(TraceEvent.IommuUnmapped.class),
  @JsonSubTypes.Type(TraceEvent.IoPageFault.class),
  @JsonSubTypes.Type(TraceEvent.DeviceChanged.class),
  @JsonSubTypes.Type(TraceEvent.Bounced.class),
  @JsonSubTypes.Type(TraceEvent.EventsLost.class),
  @JsonSubTypes.Type(TraceEvent.LinesUnreadable.class)
})
public sealed interface TraceEvent extends Event {
  /** The line of the trace file the event was printed on (its first line, when wrapped). */
  long line();

  /**
   * dma_map_phys / dma_map_page / dma_map_resource ({@code api} "phys", "page", "resource"), or an
   * allocation: dma_alloc, dma_alloc_pages, dma_alloc_sgt ("alloc", "alloc_pages", "alloc_sgt";
   * {@code phys} -1, dir BIDIRECTIONAL in v6.12 which printed none).
   */
  record DmaMapped(String dev, String api, long dmaAddr, long size, Direction dir, long phys, String attrs, long line) implements TraceEvent, Owned {
    @Override
    public String toString() {
      return dev + " dma_" + (api.startsWith("alloc") ? "" : "map_") + api + " " + hex(dmaAddr) + "+" + size + " " + dir + " phys " + hex(phys) + withAttrs(attrs) + at(line);
    }

    @Override
    public String owner() {
      return dev + "@0x" + Long.toHexString(dmaAddr);
    }
  }

  /**
   * dma_map_sg: the mapped DMA segments and the input entries' physical addresses (each at most 128
   * in v6.18+, {@code truncated} when the kernel capped them; {@code nents}/{@code ents} the full counts).
   */
  record SgMapped(String dev, Direction dir, List<Long> dmaAddrs, List<Long> sizes, List<Long> phys, int nents, int ents, boolean truncated,
      String attrs, long line) implements TraceEvent, Owned {
    @Override
    public String toString() {
      return dev + " dma_map_sg " + dir + " dma " + hexes(dmaAddrs) + " sizes " + sizes + " phys " + hexes(phys) + " nents " + nents + " ents " + ents + (truncated ? " [TRUNCATED]" : "") + withAttrs(attrs) + at(line);
    }

    @Override
    public String owner() {
      return dmaAddrs.isEmpty() ? null : dev + "@0x" + Long.toHexString(dmaAddrs.get(0));
    }

    public SgMapped {
      dmaAddrs = List.copyOf(dmaAddrs);
      sizes = List.copyOf(sizes);
      phys = List.copyOf(phys);
    }
  }

  /** dma_unmap_phys / _page / _resource, or a free: dma_free, dma_free_pages, dma_free_sgt ({@code api} as in DmaMapped). */
  record DmaUnmapped(String dev, String api, long dmaAddr, long size, Direction dir, String attrs, long line) implements TraceEvent, Owned {
    @Override
    public String toString() {
      return dev + " dma_" + (api.startsWith("free") ? "" : "unmap_") + api + " " + hex(dmaAddr) + "+" + size + (dir == null ? "" : " " + dir) + withAttrs(attrs) + at(line);
    }

    @Override
    public String owner() {
      return dev + "@0x" + Long.toHexString(dmaAddr);
    }
  }

  /** dma_unmap_sg: the kernel prints the entries' physical addresses only. */
  record SgUnmapped(String dev, Direction dir, List<Long> phys, String attrs, long line) implements TraceEvent {
    @Override
    public String toString() {
      return dev + " dma_unmap_sg " + dir + " phys " + hexes(phys) + withAttrs(attrs) + at(line);
    }

    public SgUnmapped {
      phys = List.copyOf(phys);
    }
  }

  /** dma_sync_single_for_cpu/_device (one range) or dma_sync_sg_for_cpu/_device (the list). */
  record DmaSynced(String dev, boolean forCpu, boolean sg, List<Long> dmaAddrs, List<Long> sizes, Direction dir, long line) implements TraceEvent, Owned {
    @Override
    public String toString() {
      return dev + " dma_sync_" + (sg ? "sg" : "single") + "_for_" + (forCpu ? "cpu " : "device ") + hexes(dmaAddrs) + " sizes " + sizes + " " + dir + at(line);
    }

    @Override
    public String owner() {
      return dmaAddrs.isEmpty() ? null : dev + "@0x" + Long.toHexString(dmaAddrs.get(0));
    }

    public DmaSynced {
      dmaAddrs = List.copyOf(dmaAddrs);
      sizes = List.copyOf(sizes);
    }
  }

  /** dma_map_sg_err or dma_alloc_sgt_err: a mapping the kernel refused (nothing to unmap). */
  record MapFailed(String dev, String api, int err, long line) implements TraceEvent {
    @Override
    public String toString() {
      return dev + " " + api + " failed, error " + err + at(line);
    }
  }

  /** iommu:map of [iova, iova + size) to paddr. */
  record IommuMapped(String domain, long iova, long paddr, long size, long line) implements TraceEvent, Owned {
    @Override
    public String toString() {
      return "iommu_map " + hex(iova) + "+" + size + " -> " + hex(paddr) + " (domain of " + domain + ")" + at(line);
    }

    @Override
    public String owner() {
      return "iommu:" + domain + "@0x" + Long.toHexString(iova);
    }
  }

  /** iommu:unmap of [iova, iova + size), of which {@code unmapped} bytes were mapped. */
  record IommuUnmapped(String domain, long iova, long size, long unmapped, long line) implements TraceEvent, Owned {
    @Override
    public String toString() {
      return "iommu_unmap " + hex(iova) + "+" + size + " unmapped " + unmapped + " (domain of " + domain + ")" + at(line);
    }

    @Override
    public String owner() {
      return "iommu:" + domain + "@0x" + Long.toHexString(iova);
    }
  }

  /** iommu:io_page_fault: the device accessed {@code iova} and the IOMMU had no (or no permitted) translation. */
  record IoPageFault(String dev, String driver, long iova, int flags, long line) implements TraceEvent {
    @Override
    public String toString() {
      return "io_page_fault " + dev + (driver.isEmpty() ? "" : " (" + driver + ")") + " at " + hex(iova) + " flags " + hex(flags) + at(line);
    }

    /** IOMMU_FAULT_WRITE. */
    public boolean write() {
      return (flags & 1) != 0;
    }
  }

  /** iommu:attach_device_to_domain, detach_device_from_domain, add_device_to_group, remove_device_from_group ({@code group} -1 for the first two). */
  record DeviceChanged(String dev, String what, int group, long line) implements TraceEvent {
    @Override
    public String toString() {
      return what + " " + dev + (group < 0 ? "" : " group " + group) + at(line);
    }
  }

  /** swiotlb:swiotlb_bounced: the mapping of {@code devAddr} goes through a bounce buffer. */
  record Bounced(String dev, long dmaMask, long devAddr, long size, long line) implements TraceEvent {
    @Override
    public String toString() {
      return "swiotlb_bounced " + dev + " " + hex(devAddr) + "+" + size + " mask " + hex(dmaMask) + at(line);
    }
  }

  /** "CPU:N [LOST M EVENTS]": the ring buffer overwrote events here; {@code count} -1 when the marker gives no number. */
  record EventsLost(int cpu, long count, long line) implements TraceEvent {
    @Override
    public String toString() {
      return "CPU " + cpu + " lost " + (count < 0 ? "some" : Long.toString(count)) + " events" + at(line);
    }
  }

  /** {@code count} lines of the trace up to {@code line} could not be read (listed by the import): a verdict after them says so. */
  record LinesUnreadable(long count, long line) implements TraceEvent {
    @Override
    public String toString() {
      return count + " unreadable line(s)" + at(line);
    }
  }

  /** As the trace printed it: 0x-prefixed hexadecimal (-1: the format has no such field). */
  static String hex(long v) {
    return v < 0 ? "-1" : "0x" + Long.toHexString(v);
  }

  static String hexes(List<Long> vs) {
    StringBuilder b = new StringBuilder("{");
    for (int i = 0; i < vs.size(); i++) b.append(i == 0 ? "" : ",").append(hex(vs.get(i)));
    return b.append('}').toString();
  }

  static String withAttrs(String attrs) {
    return attrs == null || attrs.isEmpty() ? "" : " attrs " + attrs;
  }

  static String at(long line) {
    return " (line " + line + ")";
  }
}
