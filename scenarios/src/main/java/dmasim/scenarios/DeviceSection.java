package dmasim.scenarios;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import dmasim.actors.device.DeviceSettings;
import dmasim.actors.iommu.IommuSettings;
import dmasim.protocol.DeviceId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The {@code devices} list: the device actors' settings and what the IOMMU knows of each device. */
record DeviceSection(List<DeviceSettings> settings, Map<String, DeviceId> ids, Map<DeviceId, IommuSettings.DeviceSpec> specs) {
  static final Set<String> KEYS = Set.of("name", "kind", "coherent", "untrusted", "iommu", "ats", "atc-entries", "dma-mask-bits", "page-time",
      "late-access-percent", "late-access-max-delay", "p2p", "max-segment-size", "segment-boundary", "attach");

  static DeviceSection read(HoconReader r) {
    if (!r.has("devices")) throw r.error("devices", "required: a list with at least one device");
    ConfigList list = r.list("devices", "must be a list of device objects");
    if (list.isEmpty()) throw r.error(list, "devices", "at least one device");
    DeviceSection out = new DeviceSection(new ArrayList<>(), new LinkedHashMap<>(), new LinkedHashMap<>());
    for (int i = 0; i < list.size(); i++) {
      String key = "devices[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject o)) throw r.error(list.get(i), key, "must be an object");
      r.onlyKeys(o, key + ".", KEYS);
      out.device(r, o, key, i);
    }
    return out;
  }

  /** Device {@code i}, the object {@code o} at {@code key}. */
  private void device(HoconReader r, ConfigObject o, String key, int i) {
    HoconReader sub = r.sub(o, key);
    String name = sub.string("name", "dev" + i);
    if (ids.containsKey(name)) throw r.error(o, key + ".name", "device '" + name + "' defined twice");
    DeviceId id = new DeviceId(i);
    ids.put(name, id);
    sub.choice("kind", "nvme", Map.of("nvme", 1, "nic", 2, "gpu", 3, "rdma", 4));
    boolean coherent = sub.bool("coherent", true);
    boolean untrusted = sub.bool("untrusted", false);
    boolean direct = !sub.bool("iommu", true);
    boolean attachAtStart = sub.choice("attach", "at-start", Map.of("at-start", true, "step", false));
    if (sub.has("p2p")) throw r.error(o.get("p2p"), key + ".p2p", "P2P providers and paths are not modelled yet");
    boolean ats = sub.bool("ats", false);
    if (direct && ats) throw r.error(o.get("ats"), key + ".ats", "ATS needs an IOMMU: a device with iommu = false has no ATC to fill");
    if (direct && !attachAtStart) {
      throw r.error(o.get("attach"), key + ".attach", "a device with iommu = false has no DMA domain to attach to: leave attach = at-start");
    }
    int atc = (int) sub.number("atc-entries", 32, 1, 1 << 20);
    int mask = (int) sub.number("dma-mask-bits", 64, 24, 64);
    long pageTime = sub.nanos("page-time", 500, 1_000_000_000L);
    int late = (int) sub.number("late-access-percent", 0, 0, 100);
    long lateMax = sub.nanos("late-access-max-delay", 5_000_000L, 10_000_000_000L);
    if (late > 0 && lateMax == 0) throw r.error(o, key + ".late-access-max-delay", "must be positive when late-access-percent is set");
    long maxSeg = sub.number("max-segment-size", IommuSettings.DeviceSpec.DEFAULT_MAX_SEGMENT_SIZE, 4096, 0xffffffffL);
    long boundary = sub.number("segment-boundary", IommuSettings.DeviceSpec.DEFAULT_SEGMENT_BOUNDARY, 0xfff, Long.MAX_VALUE);
    if ((boundary & (boundary + 1)) != 0) {
      throw r.error(o.get("segment-boundary"), key + ".segment-boundary", "must be a mask 2^n - 1 such as 0xffff, got 0x" + Long.toHexString(boundary));
    }
    settings.add(new DeviceSettings(id, ats, atc, pageTime, late, lateMax, 0));
    specs.put(id, new IommuSettings.DeviceSpec(mask, ats, untrusted, coherent, maxSeg, boundary, direct, attachAtStart));
  }

  /** Is the device attached at start (else by an {@code attach} step)? */
  boolean attachedAtStart(DeviceId id) {
    return specs.get(id).attachAtStart();
  }
}
