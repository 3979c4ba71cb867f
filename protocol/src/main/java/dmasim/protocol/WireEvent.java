package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/**
 * What the wire did to an envelope on a fault plan's orders. Journaled with the step of the actor
 * that sent the envelope (the decision is made when it sends), never folded into any actor's
 * state: the wire, not the actor, carries it out.
 */
@JsonSubTypes({@JsonSubTypes.Type(WireEvent.MessageFaulted.class)})
public sealed interface WireEvent extends Event {

  /**
   * The {@code match}-th envelope {@code sender} sent that rule {@code rule} selects (a
   * {@code type} message to {@code to}) was {@code action}: "delayed" (by {@code delay} virtual
   * ns), "dropped", "duplicated" or "reordered" (may overtake, or be overtaken by, the other
   * envelopes of its channel).
   */
  record MessageFaulted(String sender, long match, String to, String type, String action, long delay, String rule) implements WireEvent {}
}
