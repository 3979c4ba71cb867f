package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Identifies one modelled device. */
public record DeviceId(@JsonValue int value) implements Comparable<DeviceId> {
  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public DeviceId {
    if (value < 0) throw new IllegalArgumentException("negative device id " + value);
  }

  @Override
  public int compareTo(DeviceId o) {
    return Integer.compare(value, o.value);
  }

  @Override
  public String toString() {
    return "device" + value;
  }
}
