package dmasim.protocol;

/**
 * One message in flight between two model actors, with everything the scheduler, replay and the
 * monitors need: identity, receiver, virtual send time, the earliest virtual delivery time, the
 * envelope being handled when it was sent (causal parent; null for harness envelopes) and, once
 * delivered, the virtual delivery time and the global step that delivered it.
 */
public record Envelope(
    EnvelopeId id,
    String receiver,
    Message message,
    long sentAt,
    long notBefore,
    EnvelopeId cause,
    long deliveredAt,
    long step)
    implements CborSerializable {

  public static final long NOT_DELIVERED = -1;

  public Envelope {
    if (id == null || receiver == null || message == null) throw new IllegalArgumentException("incomplete envelope");
    if (notBefore < sentAt) throw new IllegalArgumentException("delivery before send: " + notBefore + " < " + sentAt);
  }

  public String sender() {
    return id.sender();
  }

  /** An envelope not yet delivered. */
  public static Envelope sent(EnvelopeId id, String receiver, Message message, long sentAt, long notBefore, EnvelopeId cause) {
    return new Envelope(id, receiver, message, sentAt, notBefore, cause, NOT_DELIVERED, 0);
  }

  public Envelope deliveredAt(long now, long atStep) {
    return new Envelope(id, receiver, message, sentAt, notBefore, cause, now, atStep);
  }

  @Override
  public String toString() {
    return id + "->" + receiver + " " + message.getClass().getSimpleName() + "@" + notBefore;
  }
}
