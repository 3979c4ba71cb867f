package dmasim.actors.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FlushQueueTest {
  private static FlushQueue.Entry entry(long base, long counter) {
    return new FlushQueue.Entry("cpu0/s", base, 1, counter, List.of());
  }

  @Test
  void usableCapacityIsSizeMinusOne() {
    FlushQueue q = new FlushQueue(4);
    for (int i = 0; i < 3; i++) q.append(entry(i, 0));
    assertTrue(q.isFull());
    assertThrows(IllegalStateException.class, () -> q.append(entry(9, 0)));
  }

  @Test
  void anEntryIsFreeableOnlyOnceItsCounterIsBelowFinish() {
    FlushQueue q = new FlushQueue(8);
    q.append(entry(1, 0));
    q.append(entry(2, 1));
    assertEquals(0, q.freeable(0).size(), "finish_cnt 0: nothing covered");
    assertEquals(1, q.freeable(1).size(), "counter 0 < finish 1");
    assertEquals(2, q.freeable(2).size());
    q.removeHead(1);
    assertFalse(q.isFull());
    assertThrows(IllegalStateException.class, () -> q.removeHead(1));
  }

  @Test
  void countersMustNotDecrease() {
    FlushQueue q = new FlushQueue(8);
    q.append(entry(1, 3));
    assertThrows(IllegalStateException.class, () -> q.append(entry(2, 2)));
    assertThrows(IllegalArgumentException.class, () -> new FlushQueue(6));
  }
}
