package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** Facts of a Device: descriptors, ATC contents, accesses through the ATC, resets. */
@JsonSubTypes({
  @JsonSubTypes.Type(DeviceEvent.DescriptorAccepted.class),
  @JsonSubTypes.Type(DeviceEvent.PageTransferred.class),
  @JsonSubTypes.Type(DeviceEvent.DescriptorCompleted.class),
  @JsonSubTypes.Type(DeviceEvent.AtcFilled.class),
  @JsonSubTypes.Type(DeviceEvent.AtcInvalidated.class),
  @JsonSubTypes.Type(DeviceEvent.AtcAccessed.class),
  @JsonSubTypes.Type(DeviceEvent.PeerAccessed.class),
  @JsonSubTypes.Type(DeviceEvent.DirectAccessed.class),
  @JsonSubTypes.Type(DeviceEvent.LateAccessScheduled.class),
  @JsonSubTypes.Type(DeviceEvent.DeviceWasReset.class),
  @JsonSubTypes.Type(DeviceEvent.DeviceRemoved.class),
  @JsonSubTypes.Type(DeviceEvent.MessageToRemovedDevice.class),
  @JsonSubTypes.Type(DeviceEvent.FaultDecided.class),
  @JsonSubTypes.Type(DeviceEvent.TranslationIgnored.class)
})
public sealed interface DeviceEvent extends Event {

  /** A descriptor from {@code cpu} entered the device's queue. */
  record DescriptorAccepted(long tag, String cpu, List<DmaSegment> segments, boolean write) implements DeviceEvent {
    public DescriptorAccepted {
      segments = List.copyOf(segments);
    }
  }

  /** Page {@code index} of descriptor {@code tag} finished ({@code ok} false on a fault). */
  record PageTransferred(long tag, int index, boolean ok) implements DeviceEvent {}

  /** Descriptor {@code tag} completed with {@code faults} faulted pages. */
  record DescriptorCompleted(long tag, int faults) implements DeviceEvent {}

  /** The ATC cached a translation. */
  record AtcFilled(long iovaPfn, long physPfn, Prot prot) implements DeviceEvent {}

  /** The ATC dropped {@code dropped} entries for invalidation {@code id}. */
  record AtcInvalidated(long id, long startPfn, long pages, int dropped) implements DeviceEvent {}

  /** A transaction used a translation cached in the ATC (no IOMMU involvement). */
  record AtcAccessed(DeviceId dev, long tag, Iova iova, long physPfn, boolean write, String via, boolean stray)
      implements DeviceEvent, DmaAccess {}

  /**
   * A transaction of a device no IOMMU translates (dma-direct, identity domain): the DMA address is
   * the physical address ({@code via} "direct"), nothing can fault or be blocked.
   */
  record DirectAccessed(DeviceId dev, long tag, Iova iova, long physPfn, boolean write, String via, boolean stray)
      implements DeviceEvent, DmaAccess {}

  /** A transaction to a PCI bus address went straight to the P2P peer (no IOMMU on the path). */
  record PeerAccessed(DeviceId dev, long tag, Iova busAddress, boolean write) implements DeviceEvent {}

  /** The device will access {@code iova} again {@code delay} ns after completing {@code tag}. */
  record LateAccessScheduled(long tag, Iova iova, boolean write, long delay) implements DeviceEvent {}

  /** The device was surprise-removed; {@code droppedDescriptors} in flight will never complete. */
  record DeviceRemoved(int droppedDescriptors) implements DeviceEvent {}

  /** A {@code type} message reached the removed device and went nowhere. */
  record MessageToRemovedDevice(String type) implements DeviceEvent {}

  /** Reset: in-flight descriptors and the ATC were lost. */
  record DeviceWasReset(int droppedDescriptors, int droppedAtcEntries) implements DeviceEvent {}

  /**
   * Device fault rule {@code rule} (its index) selected the {@code match}-th {@code type} envelope
   * from {@code from}; {@code injected}: the device then {@code fault}s ("reset", "remove") instead
   * of handling it. {@code describe} is the rule in words.
   */
  record FaultDecided(int rule, String from, String type, long match, boolean injected, String fault, String describe) implements DeviceEvent {}

  /** A translation answer for descriptor {@code tag} that its DMA engine is not waiting for (a duplicate, or for a page already done): ignored. */
  record TranslationIgnored(long tag, Iova iova) implements DeviceEvent {}
}
