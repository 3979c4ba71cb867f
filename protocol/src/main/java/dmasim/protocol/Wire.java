package dmasim.protocol;

import java.util.List;

/**
 * How model actors talk: they never tell each other directly. The controlled wire hands every
 * envelope to a scheduler that delivers one at a time; the live wire (later) delivers on real
 * threads. Implementations live in the chaos module.
 *
 * <p>Contract: an actor calls {@link #send} only while handling an envelope (the {@code cause})
 * and after its events are persisted, then calls {@link #handled} exactly once for that envelope.
 * Sends of one actor are ordered; sequence numbers are assigned per sender by the wire.
 */
public interface Wire {

  /** Sends {@code message} to {@code to}; it may not be delivered before {@code cause}'s delivery time plus {@code delay} (virtual ns). */
  void send(String to, Message message, long delay, Envelope cause);

  /** Reports that {@code envelope} was handled and {@code events} were persisted for it. */
  void handled(Envelope envelope, List<? extends Event> events);

  /** Reports that handling {@code envelope} failed inside the model (a model bug or an impossible program): the run cannot go on. */
  void crashed(Envelope envelope, String actor, String reason);
}
