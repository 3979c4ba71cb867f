package dmasim.actors.device;

import dmasim.protocol.DeviceId;

/**
 * One device: ATS and its ATC size, the time its DMA engine takes per page, and how often it
 * touches a buffer again after reporting completion (a late or malicious access: exactly what
 * lazy IOTLB invalidation leaves exposed, and what strict invalidation blocks).
 *
 * @param latePercent percentage of descriptors followed by one late access
 * @param lateMaxDelay the late access happens up to this many virtual ns after completion
 * @param faults the resets and removals a fault plan injects ({@link DeviceFault})
 */
public record DeviceSettings(DeviceId id, boolean ats, int atcCapacity, long pageTime, int latePercent, long lateMaxDelay, long seed,
    boolean direct, java.util.List<DeviceFault> faults) {
  public DeviceSettings {
    if (atcCapacity < 1 || pageTime < 0 || latePercent < 0 || latePercent > 100 || lateMaxDelay < 0) {
      throw new IllegalArgumentException("bad device settings for " + id);
    }
    faults = faults == null ? java.util.List.of() : java.util.List.copyOf(faults);
  }

  /** A device without component faults. */
  public DeviceSettings(DeviceId id, boolean ats, int atcCapacity, long pageTime, int latePercent, long lateMaxDelay, long seed, boolean direct) {
    this(id, ats, atcCapacity, pageTime, latePercent, lateMaxDelay, seed, direct, java.util.List.of());
  }

  /** These settings with {@code more} component faults after the ones it has. */
  public DeviceSettings withFaults(java.util.List<DeviceFault> more) {
    if (more.isEmpty()) return this;
    java.util.List<DeviceFault> all = new java.util.ArrayList<>(faults);
    all.addAll(more);
    return new DeviceSettings(id, ats, atcCapacity, pageTime, latePercent, lateMaxDelay, seed, direct, all);
  }

  /** A device translated by the IOMMU. */
  public DeviceSettings(DeviceId id, boolean ats, int atcCapacity, long pageTime, int latePercent, long lateMaxDelay, long seed) {
    this(id, ats, atcCapacity, pageTime, latePercent, lateMaxDelay, seed, false);
  }

  /** {@code direct}: no IOMMU translates this device's transactions (dma-direct or an identity domain): DMA addresses are physical. */
  public DeviceSettings withDirect(boolean on) {
    return new DeviceSettings(id, ats, atcCapacity, pageTime, latePercent, lateMaxDelay, seed, on, faults);
  }

  public static DeviceSettings nvme(DeviceId id, long seed) {
    return new DeviceSettings(id, false, 32, 500, 0, 0, seed);
  }

  public DeviceSettings withAts(boolean on) {
    return new DeviceSettings(id, on, atcCapacity, pageTime, latePercent, lateMaxDelay, seed, direct, faults);
  }

  public DeviceSettings withLateAccesses(int percent, long maxDelay) {
    return new DeviceSettings(id, ats, atcCapacity, pageTime, percent, maxDelay, seed, direct, faults);
  }
}
