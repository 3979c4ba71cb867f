package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** What a Device is asked to do: run a descriptor, reset, drop ATC entries. */
@JsonSubTypes({
  @JsonSubTypes.Type(DeviceCommand.Submit.class),
  @JsonSubTypes.Type(DeviceCommand.Reset.class),
  @JsonSubTypes.Type(DeviceCommand.Remove.class),
  @JsonSubTypes.Type(DeviceCommand.InvalidateAtc.class),
  @JsonSubTypes.Type(DeviceCommand.NextAccess.class),
  @JsonSubTypes.Type(DeviceCommand.LateAccess.class),
  @JsonSubTypes.Type(DeviceCommand.Probe.class)
})
public sealed interface DeviceCommand extends Message {

  /** A descriptor: DMA over {@code segments}; {@code write} means the device writes memory (FROM_DEVICE). */
  record Submit(long tag, List<DmaSegment> segments, boolean write) implements DeviceCommand {
    public Submit {
      segments = List.copyOf(segments);
    }
  }

  /**
   * A modelled function-level reset: in-flight DMA and the ATC are lost; the requester gets
   * {@link DeviceReply.ResetDone} once the transactions already issued have drained.
   */
  record Reset() implements DeviceCommand {}

  /** Surprise removal: the device is gone; nothing in flight completes and nothing later is answered. */
  record Remove() implements DeviceCommand {}

  /** ATS invalidation request for {@code pages} pages from {@code startPfn} (all pages when {@code pages} is 0). */
  record InvalidateAtc(long id, long startPfn, long pages) implements DeviceCommand {}

  /** The device's DMA engine moves on to the next page of descriptor {@code tag} (the per-page transfer time). */
  record NextAccess(long tag) implements DeviceCommand {}

  /** A late access the device makes after it reported completion (what lazy invalidation exposes). */
  record LateAccess(long tag, Iova iova, boolean write) implements DeviceCommand {}

  /**
   * A config-space read to see whether the device is still there (pci_device_is_present): answered
   * {@link DeviceReply.Presence} even after a surprise removal, when the read completes with all
   * ones.
   */
  record Probe() implements DeviceCommand {}
}
