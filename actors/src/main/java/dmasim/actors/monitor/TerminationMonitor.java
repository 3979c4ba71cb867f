package dmasim.actors.monitor;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.Event;
import dmasim.protocol.WireEvent;
import java.util.Map;
import java.util.TreeMap;

/**
 * Liveness: every CPU queue that started its program finishes it. Hot while a program runs; a run
 * that ends hot names what the CPU waits for, and the envelopes the fault plan dropped (a lost
 * completion is the usual reason a wait never ends).
 */
public final class TerminationMonitor extends AbstractMonitor {
  /** How many dropped envelopes the message names at most. */
  private static final int NAMED_DROPS = 5;
  private final TreeMap<String, String> running = new TreeMap<>();
  /** Invalidation commands posted and not yet completed, by id: "range invalidation of 4 page(s) at IOVA pfn 0x..." */
  private final TreeMap<Long, String> invalidations = new TreeMap<>();
  private final java.util.List<String> drops = new java.util.ArrayList<>();
  private long dropCount;
  /** Devices the fault plan reset or removed, actors it crashed: what they held (a descriptor, a pending invalidation) never completes. */
  private final java.util.List<String> deviceFaults = new java.util.ArrayList<>();

  public TerminationMonitor() {
    super("Termination", false);
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof CpuEvent.ProgramStarted) running.put(at.actor(), "nothing yet");
    else if (event instanceof CpuEvent.CallIssued c && c.call().equals("workrun")) running.remove(at.actor()); // an idle worker is not stuck
    else if (event instanceof CpuEvent.CallIssued c) running.put(at.actor(), c.call() + " of " + c.object() + " (pc " + c.pc() + ")");
    else if (event instanceof CpuEvent.ProgramEnded) running.remove(at.actor());
    else if (event instanceof dmasim.protocol.IommuEvent.InvalidationPosted p) {
      invalidations.put(p.id(), (p.pages() == 0 ? "domain-wide" : p.scope()) + " invalidation " + p.id() + (p.pages() == 0 ? "" : " of " + p.pages()
          + " page(s) at IOVA pfn 0x" + Long.toHexString(p.startPfn())) + " (posted at step " + at.step() + ")");
    } else if (event instanceof dmasim.protocol.IommuEvent.InvalidationCompleted c) invalidations.remove(c.id());
    else if (event instanceof WireEvent.MessageFaulted m && m.action().equals("crashed its receiver") && deviceFaults.size() < NAMED_DROPS) {
      deviceFaults.add("step " + at.step() + " " + at.actor() + ": " + MonitorSuite.describeFault(m));
    } else if (event instanceof WireEvent.MessageFaulted m && m.action().equals("dropped")) {
      if (++dropCount <= NAMED_DROPS) drops.add("step " + at.step() + " " + MonitorSuite.describeFault(m));
    } else if (event instanceof dmasim.protocol.DeviceEvent.FaultDecided d && d.injected() && deviceFaults.size() < NAMED_DROPS) {
      deviceFaults.add("step " + at.step() + " " + at.actor() + ": " + MonitorSuite.describeFault(d));
    }
  }

  @Override
  public void onRunEnd(StepInfo at) {
    String lost = dropCount == 0 ? "" : "; the fault plan dropped " + dropCount + " envelope(s): " + String.join(", ", drops)
        + (dropCount > drops.size() ? ", ..." : "");
    if (running.isEmpty() && !invalidations.isEmpty()) {
      // Nothing waits in a driver (a lazy unmap returns at once), but the invalidation queue hung: qi_submit_sync would spin to
      // an Invalidation Time-out Error, and the flush-queue entries waiting for this flush are never freed.
      Map.Entry<Long, String> first = invalidations.firstEntry();
      violate("LIVENESS", at, "the IOMMU's " + first.getValue() + " never completed" + (invalidations.size() > 1 ? " (and "
          + (invalidations.size() - 1) + " more)" : "") + ": the invalidation queue hung (an invalidation time-out), and what waited for it"
          + " (a flush-queue flush, a strict unmap) never finished" + lost);
      return;
    }
    for (Map.Entry<String, String> e : running.entrySet()) {
      StringBuilder others = new StringBuilder();
      for (Map.Entry<String, String> o : running.entrySet()) {
        if (o != e) others.append(others.length() == 0 ? "; also " : ", ").append(o.getKey()).append(" (waiting for ").append(o.getValue()).append(')');
      }
      String devices = deviceFaults.isEmpty() ? "" : "; faults the plan injected: " + String.join(", ", deviceFaults);
      violate("LIVENESS", at, e.getKey() + " never finished its program: it still waits for " + e.getValue() + others + lost + devices);
      return;
    }
  }
}
