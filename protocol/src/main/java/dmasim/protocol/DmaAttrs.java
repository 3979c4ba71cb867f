package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** DMA_ATTR_* bits as numbered in include/linux/dma-mapping.h (bit positions). */
public record DmaAttrs(@JsonValue int bits) {
  public static final int SKIP_CPU_SYNC = 1 << 5;
  public static final int MMIO = 1 << 10;
  public static final int REQUIRE_COHERENT = 1 << 12;
  public static final DmaAttrs NONE = new DmaAttrs(0);

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public DmaAttrs {}

  public boolean has(int bit) {
    return (bits & bit) != 0;
  }
}
