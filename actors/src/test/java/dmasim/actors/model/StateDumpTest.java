package dmasim.actors.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The canonical dump the Recovery check compares: equal states dump equal, different states differently. */
class StateDumpTest {
  static final class Holder {
    final Object value;

    Holder(Object value) {
      this.value = value;
    }
  }

  @Test
  void equalStatesDumpEqualWhateverTheHashMapOrder() {
    Map<String, Integer> a = new HashMap<>();
    Map<String, Integer> b = new HashMap<>();
    for (int i = 0; i < 50; i++) a.put("k" + i, i);
    for (int i = 49; i >= 0; i--) b.put("k" + i, i);
    assertEquals(StateDump.of(new Holder(a)), StateDump.of(new Holder(b)));
  }

  @Test
  void differentStatesDumpDifferently() {
    assertNotEquals(StateDump.of(new Holder(List.of(1))), StateDump.of(new Holder(List.of(1L))));
    assertNotEquals(StateDump.of(new Holder(Optional.of(1))), StateDump.of(new Holder(Optional.of(2))));
    Map<String, String> one = Map.of("a", "b\", \"c\"=\"d");
    Map<String, String> two = new java.util.TreeMap<>(Map.of("a", "b", "c", "d"));
    assertNotEquals(StateDump.of(new Holder(one)), StateDump.of(new Holder(two)));
    assertEquals("Holder{value=[1L, 2]}", StateDump.of(new Holder(List.of(1L, 2))));
  }
}
