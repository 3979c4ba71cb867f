package dmasim.protocol;

/** The identity of an envelope: its sender and the sender's sequence number (from 1). */
public record EnvelopeId(String sender, long seq) implements CborSerializable {
  public EnvelopeId {
    if (sender == null || sender.isEmpty()) throw new IllegalArgumentException("sender required");
    if (seq < 1) throw new IllegalArgumentException("sequence numbers start at 1: " + seq);
  }

  @Override
  public String toString() {
    return sender + "#" + seq;
  }
}
