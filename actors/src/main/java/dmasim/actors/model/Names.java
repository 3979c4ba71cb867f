package dmasim.actors.model;

import dmasim.protocol.CpuId;
import dmasim.protocol.DeviceId;

/** Actor names on the wire: cpu0.., dev0.., iommu0, mem. Persistence ids are "runId|name". */
public final class Names {
  public static final String IOMMU = "iommu0";
  public static final String MEMORY = "mem";
  public static final String HARNESS = "harness";

  private Names() {}

  public static String cpu(int i) {
    return "cpu" + i;
  }

  public static String cpu(CpuId id) {
    return cpu(id.value());
  }

  /** The address space of process {@code i}. */
  public static String mm(int i) {
    return "mm" + i;
  }

  /** The device page table of mirror {@code mirror} (an interval subscription and the device MMU it keeps in step). */
  public static String mirror(String mirror) {
    return "dpt-" + mirror;
  }

  /** The RDMA device (HCA) of device {@code index}: its mkeys, implicit MRs' KSMs, UMR QP and the driver's workqueue. */
  public static String hca(int index) {
    return "hca" + index;
  }

  public static String device(DeviceId id) {
    return "dev" + id.value();
  }

  /** The CPU index of a "cpuN" name, or 0 for other senders. */
  public static int cpuIndex(String name) {
    return name.startsWith("cpu") ? Integer.parseInt(name.substring(3)) : 0;
  }

  public static DeviceId deviceOf(String name) {
    return new DeviceId(Integer.parseInt(name.substring(3)));
  }
}
