package dmasim.actors.iommu;

import static dmasim.actors.iommu.IommuHarness.DEV;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dmasim.actors.model.Decision;
import dmasim.actors.monitor.MonitorSuite;
import dmasim.actors.monitor.Monitors;
import dmasim.protocol.CpuCommand;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Phys;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The model holds 10^6 live mapped pages (250,000 four-page requests, linked and synced, none
 * unmapped) with the IommuUnit state and every monitor. Checks it works; measures heap bytes per
 * mapped page and writes the figure to target/measurements/ (measured, not asserted).
 */
class MillionPagesTest {
  static final int REQUESTS = 250_000;
  static final int SEGMENTS = 4;

  @Test
  void aMillionLiveMappedPages() throws IOException {
    String model = measure(false, true);
    String all = measure(true, true);
    String verdicts = measure(true, false);
    System.out.print(model + all + verdicts);
    Path out = Path.of("target", "measurements");
    Files.createDirectories(out);
    Files.writeString(out.resolve("per-page-memory.txt"), model + all + verdicts);
  }

  /** {@code explain} false: the suite judges without the bookkeeping that explains violations (what exploration runs). */
  private String measure(boolean withMonitors, boolean explain) throws IOException {
    long before = usedHeap();
    IommuState state = new IommuState(IommuSettings.defaults(IommuSettings.Mode.STRICT, 1,
        java.util.Map.of(DEV, new IommuSettings.DeviceSpec(64, false))));
    MonitorSuite monitors = withMonitors ? Monitors.standard(state.settings()) : null;
    if (monitors != null) monitors.explain(explain);
    long seq = 0;
    for (int r = 0; r < REQUESTS; r++) {
      String st = "s" + r;
      java.util.List<Long> pages = new java.util.ArrayList<>();
      for (int s = 0; s < SEGMENTS; s++) pages.add(0x100000L + (long) r * SEGMENTS + s);
      if (withMonitors) monitors.observe(++seq, new Envelope(new EnvelopeId("mem", seq), "mem", new CpuCommand.Start(), 0, 0, null, 0, 0),
          java.util.List.of(new dmasim.protocol.MemoryEvent.PagesAllocated("cpu0/buf" + r, pages)));
      long addr = ((IommuReply.Returned) step(state, monitors, ++seq,
          new IommuCommand.TryAlloc(DEV, st, new Phys(0), SEGMENTS * 4096L)).sends().get(0).message()).value();
      for (int s = 0; s < SEGMENTS; s++) {
        long phys = (0x100000L + (long) r * SEGMENTS + s) << 12;
        step(state, monitors, ++seq, new IommuCommand.Link(DEV, st, new Iova(addr), SEGMENTS * 4096L, s * 4096L, new Phys(phys), 4096,
            Direction.BIDIRECTIONAL, DmaAttrs.NONE));
      }
      step(state, monitors, ++seq, new IommuCommand.Sync(DEV, st, new Iova(addr), 0, SEGMENTS * 4096L));
    }
    assertEquals(REQUESTS * SEGMENTS, state.pageTable().size());
    if (withMonitors) assertEquals(0, monitors.violations().size(), () -> monitors.violations().get(0).toString());
    long after = usedHeap();
    double perPage = (after - before) / (double) (REQUESTS * SEGMENTS);
    String line = String.format(Locale.ROOT, "live mapped pages %d: heap %.1f MiB, %.1f bytes per page (%s), page table alone %.1f bytes per page%n",
        REQUESTS * SEGMENTS, (after - before) / 1048576.0, perPage, !withMonitors ? "IommuUnit state" : explain ? "IommuUnit state + all monitors" : "IommuUnit state + all monitors, verdicts only (exploration)",
        state.pageTable().footprintBytes() / (double) state.pageTable().size());
    // Keep both alive until measured.
    assertEquals(REQUESTS, state.allocator().allocations());
    if (withMonitors) assertEquals(0, monitors.violations().size());
    return line;
  }

  private static Decision step(IommuState state, MonitorSuite monitors, long seq, IommuCommand m) {
    Envelope env = new Envelope(new EnvelopeId("cpu0", seq), "iommu0", m, 0, 0, null, 0, 0);
    Decision d = IommuLogic.decide(state, env);
    for (Event e : d.events()) state.apply(e);
    if (monitors != null) monitors.observe(seq, new Envelope(env.id(), "iommu0", new CpuCommand.Start(), 0, 0, null, 0, 0), d.events());
    return d;
  }

  private static long usedHeap() {
    for (int i = 0; i < 3; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

}
