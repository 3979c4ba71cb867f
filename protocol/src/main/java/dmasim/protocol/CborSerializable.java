package dmasim.protocol;

/** Marker bound to Akka's jackson-cbor serializer: every message, event and envelope implements it. */
public interface CborSerializable {}
