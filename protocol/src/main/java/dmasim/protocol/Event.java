package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** A persisted fact, in the past tense. Each actor's state is the fold of its own events. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
@JsonSubTypes({
  @JsonSubTypes.Type(JournalEvent.class),
  @JsonSubTypes.Type(IommuEvent.class),
  @JsonSubTypes.Type(DeviceEvent.class),
  @JsonSubTypes.Type(CpuEvent.class),
  @JsonSubTypes.Type(MemoryEvent.class),
  @JsonSubTypes.Type(WireEvent.class),
  @JsonSubTypes.Type(MmEvent.class),
  @JsonSubTypes.Type(MirrorEvent.class),
  @JsonSubTypes.Type(HcaEvent.class),
  @JsonSubTypes.Type(TraceEvent.class)
})
public interface Event extends CborSerializable {}
