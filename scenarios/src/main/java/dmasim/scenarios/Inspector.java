package dmasim.scenarios;

import dmasim.actors.model.ActorKind;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state of every actor after step N, obtained by folding the journaled events with the same
 * state classes the actors use (nothing is re-executed), and the envelopes in flight at that point.
 */
public final class Inspector {
  /** An envelope sent at or before step N and delivered after it. */
  public record InFlight(EnvelopeId id, String receiver, String type, long deliveredAtStep) {}

  /** What step N looked like. */
  public record Snapshot(long step, long time, Map<String, List<String>> actors, List<InFlight> inFlight, Map<String, List<String>> lastEvents) {}

  private Inspector() {}

  /**
   * The states of every actor kind of a system, folded one recorded step at a time by each kind's own
   * fold (the one recovery uses): {@link #inspect} stops after one step, a report describes the state
   * after each step without folding from the start every time.
   */
  public static final class Fold {
    private final Map<String, ActorKind.Inspection<?>> states = new LinkedHashMap<>();

    public Fold(SystemSpec spec) {
      for (ActorKind<?> kind : spec.kinds()) states.put(kind.name(), kind.inspection());
    }

    /** Folds step {@code r} into the state of the actor that handled it (a step of an actor the system does not have changes nothing). */
    public void apply(RecordedStep r) {
      ActorKind.Inspection<?> state = states.get(r.actor());
      if (state != null) state.fold(r.events());
    }

    /** The state of {@code actor} as inspect prints it, or null when the system has no such actor. */
    public List<String> describe(String actor) {
      ActorKind.Inspection<?> state = states.get(actor);
      return state == null ? null : state.describe();
    }

    /** The actors, in the order of the system's kinds. */
    public java.util.Set<String> actors() {
      return java.util.Collections.unmodifiableSet(states.keySet());
    }
  }

  public static Snapshot inspect(SystemSpec spec, List<RecordedStep> recorded, long step, int lastEvents) {
    Fold states = new Fold(spec);
    Map<String, List<String>> recent = new LinkedHashMap<>();
    Map<EnvelopeId, Long> handledAt = new HashMap<>();
    long time = 0;
    for (RecordedStep r : recorded) {
      if (r.step() > step) break;
      handledAt.put(r.envelope(), r.step());
      time = r.at();
      states.apply(r);
      List<String> log = recent.computeIfAbsent(r.actor(), k -> new ArrayList<>());
      for (Event e : r.events()) {
        log.add("step " + r.step() + ": " + e);
        if (log.size() > lastEvents) log.remove(0);
      }
    }
    List<InFlight> inFlight = new ArrayList<>();
    for (RecordedStep r : recorded) {
      if (r.step() <= step) continue;
      boolean sentByThen = r.cause() == null || (handledAt.containsKey(r.cause()));
      if (sentByThen) inFlight.add(new InFlight(r.envelope(), r.actor(), r.type(), r.step()));
    }
    Map<String, List<String>> actors = new LinkedHashMap<>();
    for (String name : states.actors()) actors.put(name, states.describe(name));
    return new Snapshot(step, time, actors, inFlight, recent);
  }
}
