package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** A CPU physical address (phys_addr_t). */
public record Phys(@JsonValue long addr) {
  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public Phys {
    if (addr < 0) throw new IllegalArgumentException("negative physical address " + addr);
  }

  public static Phys ofPfn(long pfn) {
    return new Phys(pfn << Pfn.PAGE_SHIFT);
  }

  public Pfn pfn() {
    return new Pfn(addr >>> Pfn.PAGE_SHIFT);
  }

  public Phys plus(long bytes) {
    return new Phys(addr + bytes);
  }

  @Override
  public String toString() {
    return "phys:0x" + Long.toHexString(addr);
  }
}
