package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** What a Device answers: completions to the submitting CPU queue, ATC invalidation completions to the IOMMU. */
@JsonSubTypes({
  @JsonSubTypes.Type(DeviceReply.Completed.class),
  @JsonSubTypes.Type(DeviceReply.AtcInvalidated.class),
  @JsonSubTypes.Type(DeviceReply.ResetDone.class),
  @JsonSubTypes.Type(DeviceReply.Presence.class)
})
public sealed interface DeviceReply extends Message {

  /** Descriptor {@code tag} finished; {@code faults} counts pages whose translation faulted. */
  record Completed(long tag, int faults) implements DeviceReply {}

  /** The ATS invalidation {@code id} completed on the device. */
  record AtcInvalidated(long id) implements DeviceReply {}

  /**
   * The function-level reset finished: the device dropped its descriptors and every transaction it
   * had issued before the reset has completed (pci_reset_function returns only then).
   */
  record ResetDone() implements DeviceReply {}

  /** The answer to a {@link DeviceCommand.Probe}: false once the device was surprise-removed (the config read returned all ones). */
  record Presence(boolean present) implements DeviceReply {}
}
