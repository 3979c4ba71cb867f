package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Identifies one modelled domain. */
public record DomainId(@JsonValue int value) implements Comparable<DomainId> {
  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public DomainId {
    if (value < 0) throw new IllegalArgumentException("negative domain id " + value);
  }

  @Override
  public int compareTo(DomainId o) {
    return Integer.compare(value, o.value);
  }

  @Override
  public String toString() {
    return "domain" + value;
  }
}
