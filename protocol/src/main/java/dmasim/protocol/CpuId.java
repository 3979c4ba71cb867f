package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Identifies one modelled cpu. */
public record CpuId(@JsonValue int value) implements Comparable<CpuId> {
  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public CpuId {
    if (value < 0) throw new IllegalArgumentException("negative cpu id " + value);
  }

  @Override
  public int compareTo(CpuId o) {
    return Integer.compare(value, o.value);
  }

  @Override
  public String toString() {
    return "cpu" + value;
  }
}
