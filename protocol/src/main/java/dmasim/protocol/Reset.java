package dmasim.protocol;

/**
 * What the controlled scheduler tells each volatile model actor before it reuses the actors for
 * another schedule of the same system: start again from the empty state. Never part of a
 * schedule: it is not a step, is not judged and is never journaled.
 */
public enum Reset implements Message {
  INSTANCE;

  /** The envelope that carries it (an actor only looks at its message). */
  public static final Envelope ENVELOPE = Envelope.sent(new EnvelopeId("harness", Long.MAX_VALUE), "-", INSTANCE, 0, 0, null);
}
