package dmasim.protocol;

import java.util.List;

/**
 * How model actors talk: they never tell each other directly. The controlled wire hands every
 * envelope to a scheduler that delivers one at a time; the live wire (later) delivers on real
 * threads; a faulting wire decorates either with a message-fault plan. Implementations live in the
 * chaos module.
 *
 * <p>Contract: an actor calls {@link #send} only while handling an envelope (the {@code cause})
 * and after its events are persisted, then calls {@link #handled} exactly once for that envelope.
 * Sends of one actor are ordered; sequence numbers are assigned per sender by the wire.
 */
public interface Wire {

  /** Sends {@code message} to {@code to}; it may not be delivered before {@code cause}'s delivery time plus {@code delay} (virtual ns). */
  void send(String to, Message message, long delay, Envelope cause);

  /**
   * Called by the receiver as it starts handling {@code envelope}: the envelope as handled. The
   * controlled wire delivers envelopes already stamped (step, delivery time); the live wire stamps
   * them here, and returns null once its run is over (the receiver then ignores the envelope).
   */
  default Envelope received(Envelope envelope) {
    return envelope;
  }

  /** One envelope an actor is about to send: to whom, what, and after how much virtual time at least. */
  record Outgoing(String to, Message message, long delay) {}

  /**
   * What this wire will do to the envelopes {@code sender} is about to send, in order, as events to
   * journal with the step (before any of them is sent): a faulting wire names each envelope its
   * fault plan delays, drops, duplicates or reorders. A pure function of the sender's own sends so
   * far, so it is the same on every wire and in every schedule; it changes nothing.
   */
  default java.util.List<Event> plan(String sender, java.util.List<Outgoing> sends) {
    return java.util.List.of();
  }

  /**
   * Like {@link #send}, but the envelope may overtake, or be overtaken by, the other envelopes of
   * its channel (a reordering the fault plan allows). A wire that keeps channels in order anyway
   * sends it normally.
   */
  default void sendUnordered(String to, Message message, long delay, Envelope cause) {
    send(to, message, delay, cause);
  }

  /** Reports that {@code envelope} was handled and {@code events} were persisted for it. */
  void handled(Envelope envelope, List<? extends Event> events);

  /** Reports that handling {@code envelope} failed inside the model (a model bug or an impossible program): the run cannot go on. */
  void crashed(Envelope envelope, String actor, String reason);
}
