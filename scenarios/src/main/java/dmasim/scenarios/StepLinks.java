package dmasim.scenarios;

import dmasim.actors.monitor.MonitorSuite;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import dmasim.protocol.JournalEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How the recorded steps of a run hang together, for the reports of a kept run: each step handled an
 * envelope sent while an earlier step was handled (the envelope's cause), so following causes links
 * each step to the step that sent its envelope, and following them back from a step gives its causal
 * chain, the walk {@code MonitorSuite} makes for a violation's chain, here over the whole recording
 * and unbounded. An envelope the harness sent (the first of each CPU queue) has no sending step.
 * Steps are addressed by their index in the list given.
 */
public final class StepLinks {
  private final List<RecordedStep> steps;
  private final int[] sender;
  private final Map<Long, Integer> byNumber = new HashMap<>();

  private StepLinks(List<RecordedStep> steps) {
    this.steps = steps;
    this.sender = new int[steps.size()];
    Map<EnvelopeId, Integer> byEnvelope = new HashMap<>();
    for (int i = 0; i < steps.size(); i++) {
      byEnvelope.put(steps.get(i).envelope(), i);
      byNumber.put(steps.get(i).step(), i);
    }
    for (int i = 0; i < steps.size(); i++) {
      EnvelopeId cause = steps.get(i).cause();
      Integer from = cause == null ? null : byEnvelope.get(cause);
      // a cause is handled before what it sends; anything else is not a link (a damaged or foreign trace must not loop)
      sender[i] = from == null || from >= i ? -1 : from;
    }
  }

  public static StepLinks of(List<RecordedStep> steps) {
    return new StepLinks(List.copyOf(steps));
  }

  /** The index of the step that sent step {@code i}'s envelope, or -1 (the harness sent it, or its step is not recorded). */
  public int sender(int i) {
    return sender[i];
  }

  /** The index of the step numbered {@code step}, or -1. */
  public int indexOf(long step) {
    return byNumber.getOrDefault(step, -1);
  }

  /** The causal chain of step {@code i}: the indices of the steps that led to it, oldest first, ending with {@code i}. */
  public List<Integer> chain(int i) {
    List<Integer> out = new ArrayList<>();
    for (int at = i; at >= 0; at = sender[at]) out.add(0, at);
    return out;
  }

  /**
   * The faults in step {@code st}'s events, in words: what the fault plan injected (a failed call, a
   * faulted envelope, a device reset or removal, as a violation's explanation names them) and an
   * actor's crash and restart. Empty when none.
   */
  public static List<String> faults(RecordedStep st) {
    List<String> out = new ArrayList<>();
    for (Event e : st.events()) {
      String fault = MonitorSuite.describeFault(e);
      if (fault == null && e instanceof JournalEvent.ActorRestarted r) {
        fault = st.actor() + " crashes as a " + r.lostType() + " arrives and restarts (rule: " + r.rule() + ")";
      }
      if (fault != null) out.add(fault);
    }
    return out;
  }

  public List<RecordedStep> steps() {
    return steps;
  }
}
