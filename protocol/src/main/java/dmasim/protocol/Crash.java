package dmasim.protocol;

/**
 * What the wire delivers instead of {@code lost} when a fault plan crashes the receiver as that
 * envelope arrives: the receiver restarts (keeps what it persisted, loses what the hardware would:
 * an IOTLB, an ATC, descriptors in flight) and the envelope is lost with the crash.
 */
public record Crash(Message lost, String rule) implements Message {}
