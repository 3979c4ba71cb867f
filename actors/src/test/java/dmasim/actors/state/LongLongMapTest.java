package dmasim.actors.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LongLongMapTest {
  @Test
  void behavesLikeAHashMapUnderRandomOperations() {
    LongLongMap m = new LongLongMap();
    Map<Long, Long> ref = new HashMap<>();
    SplittableRandom r = new SplittableRandom(42);
    for (int i = 0; i < 200_000; i++) {
      long k = r.nextInt(5000);
      switch (r.nextInt(3)) {
        case 0 -> {
          m.put(k, i);
          ref.put(k, (long) i);
        }
        case 1 -> assertEquals(ref.remove(k) != null, m.remove(k));
        default -> assertEquals(ref.getOrDefault(k, -7L), m.get(k, -7L));
      }
      assertEquals(ref.size(), m.size());
    }
    for (Map.Entry<Long, Long> e : ref.entrySet()) assertEquals(e.getValue(), m.get(e.getKey(), -1));
  }

  @Test
  void addRemovesAtZero() {
    LongLongMap m = new LongLongMap();
    assertEquals(2, m.add(5, 2));
    assertEquals(0, m.add(5, -2));
    assertFalse(m.containsKey(5));
  }
}
