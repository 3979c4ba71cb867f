package dmasim.chaos;

import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import java.util.List;

/**
 * Delivers a recorded schedule, envelope by envelope (the first {@code schedule.size()} steps),
 * then hands over to {@code then} (replay-a-prefix-then-explore), or reports a divergence when
 * the recorded envelope is not enabled at its step.
 */
public final class ReplayStrategy implements Strategy {
  private final List<EnvelopeId> schedule;
  private final Strategy then;
  private String divergence;

  public ReplayStrategy(List<EnvelopeId> schedule, Strategy then) {
    this.schedule = List.copyOf(schedule);
    this.then = then;
  }

  @Override
  public int choose(List<Envelope> enabled, long step) {
    if (step >= schedule.size()) {
      if (then != null) return then.choose(enabled, step);
      divergence = "the recorded schedule ended at step " + schedule.size() + " but envelopes are still in flight";
      return -1;
    }
    EnvelopeId expected = schedule.get((int) step);
    for (int i = 0; i < enabled.size(); i++) if (enabled.get(i).id().equals(expected)) return i;
    divergence = "recorded envelope " + expected + " is not deliverable at step " + (step + 1) + "; enabled: "
        + enabled.stream().map(e -> e.id().toString()).toList();
    return -1;
  }

  /** Why the last choice failed, or null. */
  @Override
  public String divergence() {
    return divergence;
  }

  @Override
  public String name() {
    return then == null ? "replay" : "replay+" + then.name();
  }
}
