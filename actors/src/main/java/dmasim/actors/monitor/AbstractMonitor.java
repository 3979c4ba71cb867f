package dmasim.actors.monitor;

/** Monitor base: a name and a way to report. */
public abstract class AbstractMonitor implements Monitor {
  private final String name;
  private Reporter reporter = (m, inv, at, msg) -> {};

  /** Where violations go (the suite). */
  public interface Reporter {
    void report(String monitor, String invariant, StepInfo at, String message);
  }

  protected AbstractMonitor(String name) {
    this.name = name;
  }

  @Override
  public final String name() {
    return name;
  }

  void attach(Reporter r) {
    this.reporter = r;
  }

  protected final void violate(String invariant, StepInfo at, String message) {
    reporter.report(name, invariant, at, message);
  }
}
