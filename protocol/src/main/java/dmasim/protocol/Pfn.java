package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** A physical page frame number; the CPU page size is fixed at 4 KiB in the model. */
public record Pfn(@JsonValue long value) {
  public static final int PAGE_SHIFT = 12;
  public static final long PAGE_SIZE = 1L << PAGE_SHIFT;

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public Pfn {
    if (value < 0) throw new IllegalArgumentException("negative pfn " + value);
  }

  public Phys phys() {
    return new Phys(value << PAGE_SHIFT);
  }
}
