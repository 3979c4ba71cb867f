package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** Any message carried in an envelope: the union of the per-component families. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
@JsonSubTypes({
  @JsonSubTypes.Type(IommuCommand.class),
  @JsonSubTypes.Type(IommuReply.class),
  @JsonSubTypes.Type(DeviceCommand.class),
  @JsonSubTypes.Type(DeviceReply.class),
  @JsonSubTypes.Type(CpuCommand.class),
  @JsonSubTypes.Type(MemoryCommand.class),
  @JsonSubTypes.Type(MemoryReply.class),
  @JsonSubTypes.Type(Crash.class),
  @JsonSubTypes.Type(MmCommand.class),
  @JsonSubTypes.Type(MmReply.class),
  @JsonSubTypes.Type(MirrorCommand.class),
  @JsonSubTypes.Type(MirrorReply.class),
  @JsonSubTypes.Type(HcaCommand.class),
  @JsonSubTypes.Type(HcaReply.class)
})
public interface Message extends CborSerializable {}
