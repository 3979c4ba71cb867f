package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** An I/O virtual address as the device sees it (dma_addr_t on the IOMMU path). */
public record Iova(@JsonValue long addr) {
  /** DMA_MAPPING_ERROR = ~(dma_addr_t)0 (include/linux/dma-mapping.h). */
  public static final Iova MAPPING_ERROR = new Iova(-1L);

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public Iova {}

  public boolean isError() {
    return addr == -1L;
  }

  public long pfn(int pageShift) {
    return addr >>> pageShift;
  }

  public Iova plus(long bytes) {
    return new Iova(addr + bytes);
  }

  @Override
  public String toString() {
    return isError() ? "DMA_MAPPING_ERROR" : "0x" + Long.toHexString(addr);
  }
}
