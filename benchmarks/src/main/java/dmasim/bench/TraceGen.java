package dmasim.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A synthetic ftrace text trace for the import-trace benchmark: four devices on four CPUs, each
 * request an IOMMU map, dma_map_phys, dma_sync_single_for_device, a scheduler event (other
 * subsystems' lines are part of any real trace), the IOMMU unmap and dma_unmap_phys, with IOVAs
 * recycled from a small ring per device (so the trace is clean and the live set stays small).
 * Usage: TraceGen FILE LINES.
 */
public final class TraceGen {
  private TraceGen() {}

  public static void main(String[] args) throws IOException {
    write(Path.of(args[0]), Long.parseLong(args[1]));
  }

  /** Writes about {@code lines} lines (whole requests of six lines) to {@code file}. */
  public static void write(Path file, long lines) throws IOException {
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write("# tracer: nop\n#\n#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n");
      long written = 3;
      long ts = 1_000_000_000L; // 1000 s, in microseconds
      for (long r = 0; written < lines; r++) {
        int cpu = (int) (r & 3);
        String dev = String.format(Locale.ROOT, "0000:0%d:00.0", cpu + 1);
        long iova = 0xffff0000L - ((r >> 2) & 255) * 0x1000L;
        long phys = 0x100000000L + r % 100_000 * 0x1000L;
        String p = String.format(Locale.ROOT, "     kworker/%d:1-%d    [%03d] .....", cpu, 100 + cpu, cpu);
        w.write(String.format(Locale.ROOT, "%s %d.%06d: map: IOMMU: iova=0x%016x - 0x%016x paddr=0x%016x size=4096%n", p, ts / 1_000_000, ts++ % 1_000_000,
            iova, iova + 4096, phys));
        w.write(String.format(Locale.ROOT, "%s %d.%06d: dma_map_phys: %s dir=TO_DEVICE dma_addr=%x size=4096 phys_addr=%x attrs=%n", p, ts / 1_000_000,
            ts++ % 1_000_000, dev, iova, phys));
        w.write(String.format(Locale.ROOT, "%s %d.%06d: dma_sync_single_for_device: %s dir=TO_DEVICE dma_addr=%x size=4096%n", p, ts / 1_000_000,
            ts++ % 1_000_000, dev, iova));
        w.write(String.format(Locale.ROOT, "%s %d.%06d: sched_switch: prev_comm=kworker/%d:1 prev_pid=%d prev_prio=120 prev_state=I ==> next_comm=swapper "
            + "next_pid=0 next_prio=120%n", p, ts / 1_000_000, ts++ % 1_000_000, cpu, 100 + cpu));
        w.write(String.format(Locale.ROOT, "%s %d.%06d: unmap: IOMMU: iova=0x%016x - 0x%016x size=4096 unmapped_size=4096%n", p, ts / 1_000_000,
            ts++ % 1_000_000, iova, iova + 4096));
        w.write(String.format(Locale.ROOT, "%s %d.%06d: dma_unmap_phys: %s dir=TO_DEVICE dma_addr=%x size=4096 attrs=%n", p, ts / 1_000_000,
            ts++ % 1_000_000, dev, iova));
        written += 6;
      }
    }
  }
}
