package dmasim.actors.monitor;

import java.util.List;

/** Monitor base: a name and a way to report. */
public abstract class AbstractMonitor implements Monitor {
  private final String name;
  /** The page-table shadow this monitor reads: the suite's shared one, its own, or null for a monitor that reads none. */
  protected final Shadow shadow;
  private final boolean ownsShadow;
  private Reporter reporter = (m, inv, at, msg, about, cited) -> {};

  /** Where violations go (the suite). */
  public interface Reporter {
    /** {@code cited}: steps the message names ("unmapped it at step 64"), which the explanation must show however old. */
    void report(String monitor, String invariant, StepInfo at, String message, List<String> about, long[] cited);
  }

  /** A monitor with its own shadow, which it keeps up to date itself (standalone use and tests). */
  protected AbstractMonitor(String name) {
    this(name, new Shadow(), true);
  }

  /**
   * A monitor that never reads {@link #shadow} ({@code readsShadow} false) keeps none: a shadow holds
   * two entries per mapped page, which is most of what a monitor costs at 10^6 live pages. With
   * {@code readsShadow} true this is {@link #AbstractMonitor(String)}.
   */
  protected AbstractMonitor(String name, boolean readsShadow) {
    this(name, readsShadow ? new Shadow() : null, readsShadow);
  }

  /** A monitor reading the suite's shared shadow, which the suite keeps up to date. */
  protected AbstractMonitor(String name, Shadow shared) {
    this(name, shared, false);
  }

  private AbstractMonitor(String name, Shadow shadow, boolean owns) {
    this.name = name;
    this.shadow = shadow;
    this.ownsShadow = owns;
  }

  @Override
  public final void onEvent(StepInfo at, dmasim.protocol.Event event) {
    handle(at, event);
    if (ownsShadow) shadow.apply(event);
  }

  /** One event; {@link #shadow} still shows the state before it. */
  protected abstract void handle(StepInfo at, dmasim.protocol.Event event);

  @Override
  public final String name() {
    return name;
  }

  void attach(Reporter r) {
    this.reporter = r;
  }

  protected final void violate(String invariant, StepInfo at, String message) {
    reporter.report(name, invariant, at, message, List.of(), new long[0]);
  }

  /**
   * A violation about the driver objects {@code about} ("cpu0/s", "cpu1/h"): its explanation lists
   * the steps that created, changed or freed them, besides the object of the event being judged.
   */
  protected final void violate(String invariant, StepInfo at, String message, List<String> about) {
    reporter.report(name, invariant, at, message, about, new long[0]);
  }

  /** ... whose message names the steps {@code cited}: the explanation lists them even when they are older than its latest steps. */
  protected final void violate(String invariant, StepInfo at, String message, List<String> about, long... cited) {
    reporter.report(name, invariant, at, message, about, cited);
  }
}
