package dmasim.actors.odp;

import java.util.List;

/**
 * The RDMA device of a run ({@code device}, its index {@code deviceIndex}) and its memory regions
 * with on-demand paging: explicit MRs (an MTT over one mirror, the umem), implicit parents (a KSM
 * slot per child window, no umem of their own) and their children (each an MTT over its own
 * mirror, created by the first fault in its window). {@code work}: the names of the driver's work
 * handlers, the items {@code ChildDestroy} may queue.
 */
public record HcaSettings(String device, int deviceIndex, List<Mr> mrs, List<String> work) {
  /** What a memory region is. */
  public enum Kind {
    EXPLICIT, IMPLICIT, CHILD,
    /** An mkey over a page list, not ODP (VFIO mlx5 live migration): created by mkey-create, its MTT given by the driver. */
    PLAIN
  }

  /**
   * A memory region: its name (for an explicit MR or a child, also the name of its mirror), kind,
   * its umem_mutex {@code lock}, and for a child its parent and KSM slot.
   */
  public record Mr(String name, Kind kind, String lock, String parent, int slot) {}

  public HcaSettings {
    mrs = List.copyOf(mrs);
    work = List.copyOf(work);
  }

  public Mr mr(String name) {
    for (Mr m : mrs) if (m.name().equals(name)) return m;
    return null;
  }

  /** The children of implicit parent {@code parent}, by slot. */
  public List<Mr> children(String parent) {
    return mrs.stream().filter(m -> m.kind() == Kind.CHILD && m.parent().equals(parent)).sorted(java.util.Comparator.comparingInt(Mr::slot)).toList();
  }

  /** A fresh array of {@code parent}'s slots, each empty ("": no child, the null mkey). */
  public String[] emptySlots(String parent) {
    String[] x = new String[slots(parent)];
    java.util.Arrays.fill(x, "");
    return x;
  }

  /** The number of KSM slots of {@code parent} (one past its highest child's). */
  public int slots(String parent) {
    return children(parent).stream().mapToInt(Mr::slot).max().orElse(-1) + 1;
  }
}
