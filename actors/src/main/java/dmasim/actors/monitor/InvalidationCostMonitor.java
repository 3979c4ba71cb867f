package dmasim.actors.monitor;

import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;

/**
 * A cost budget, not a safety invariant: an unmap should cost at most {@code max} IOTLB
 * invalidation commands (each is a VM exit on a virtualised IOMMU). Catches B10, where the
 * inclusive gather end used as exclusive turned one page into several power-of-two flushes
 * (2212fc2acf3f). Enabled by a scenario's {@code expect.max-invalidations-per-unmap}.
 */
public final class InvalidationCostMonitor extends AbstractMonitor {
  private final int max;
  private long unmapStep = -1;
  private long commands;
  private boolean reported;

  public InvalidationCostMonitor(int max) {
    super("InvalidationCost", false);
    if (max < 1) throw new IllegalArgumentException("max invalidations per unmap must be at least 1");
    this.max = max;
  }

  @Override
  protected void handle(StepInfo at, Event event) {
    if (event instanceof IommuEvent.PtesCleared) {
      if (unmapStep != at.step()) {
        unmapStep = at.step();
        commands = 0;
        reported = false;
      }
    } else if (event instanceof IommuEvent.InvalidationPosted p && p.scope().equals("range") && at.step() == unmapStep) {
      commands++;
      if (commands > max && !reported) {
        reported = true;
        violate("COST", at, "one unmap issued " + commands + " IOTLB invalidation commands, more than the budget of " + max
            + " (each is a VM exit on a virtualised IOMMU)");
      }
    }
  }
}
