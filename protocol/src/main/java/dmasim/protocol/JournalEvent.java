package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** Bookkeeping every actor journals beside its domain events: the schedule it actually saw. */
@JsonSubTypes({@JsonSubTypes.Type(JournalEvent.EnvelopeHandled.class), @JsonSubTypes.Type(JournalEvent.ActorRestarted.class),
  @JsonSubTypes.Type(JournalEvent.StepsHandled.class)})
public sealed interface JournalEvent extends Event {

  /**
   * The actor handled envelope {@code id} (a {@code type} message sent while {@code cause} was
   * handled) at global step {@code step} and virtual time {@code at}, and decided {@code events}
   * (folded in order). One journal row per step: merging every actor's records by step gives the
   * run's schedule back, and a step is on disk whole or not at all.
   */
  record EnvelopeHandled(EnvelopeId id, long step, long at, EnvelopeId cause, String type, List<Event> events) implements JournalEvent {
    public EnvelopeHandled {
      events = List.copyOf(events);
    }
  }

  /**
   * The actor crashed as a {@code lostType} envelope arrived (fault rule {@code rule}) and
   * restarted: its state is what recovery gives, the fold of its journal less what a restart loses
   * (the shell folds this event as the actor's own restart), and the envelope is gone.
   */
  record ActorRestarted(String lostType, String rule) implements JournalEvent {}

  /**
   * Consecutive steps in one row, {@code actors.get(i)} handling {@code steps.get(i)}: how an
   * imported kernel trace is journaled (one stream, rows of up to a thousand steps in step order, so
   * that any durable prefix of its rows is a prefix of its steps, at a fraction of a row's cost per
   * step). Nothing recovers an actor from it; readers expand it into its steps.
   */
  record StepsHandled(List<String> actors, List<EnvelopeHandled> steps) implements JournalEvent {
    public StepsHandled {
      actors = List.copyOf(actors);
      steps = List.copyOf(steps);
      if (actors.size() != steps.size()) throw new IllegalArgumentException("one actor per step");
    }
  }
}
