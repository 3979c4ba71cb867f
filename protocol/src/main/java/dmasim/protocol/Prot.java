package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** IOMMU page protection bits (include/linux/iommu.h: IOMMU_READ 0 .. IOMMU_PRIV 5). */
public record Prot(@JsonValue int bits) {
  public static final int READ = 1;
  public static final int WRITE = 1 << 1;
  public static final int CACHE = 1 << 2;
  public static final int NOEXEC = 1 << 3;
  public static final int MMIO = 1 << 4;
  public static final int PRIV = 1 << 5;

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public Prot {
    if ((bits & ~0x3f) != 0) throw new IllegalArgumentException("unknown prot bits " + bits);
  }

  public boolean allows(boolean write) {
    return (bits & (write ? WRITE : READ)) != 0;
  }
}
