package dmasim.actors.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class IotlbTest {
  @Test
  void evictsTheOldestFillWhenFull() {
    Iotlb t = new Iotlb(2);
    t.fill(1, 10);
    t.fill(2, 20);
    assertEquals(1, t.victimFor(3));
    t.fill(3, 30);
    assertEquals(Iotlb.MISS, t.lookup(1));
    assertEquals(20, t.lookup(2));
    assertEquals(-1, t.victimFor(2), "refilling a cached page evicts nothing");
  }

  @Test
  void cachesNotPresentEntries() {
    Iotlb t = new Iotlb(4);
    t.fill(7, Iotlb.NOT_PRESENT);
    assertEquals(Iotlb.NOT_PRESENT, t.lookup(7));
  }

  @Test
  void invalidatesARangeOrEverything() {
    Iotlb t = new Iotlb(8);
    for (int i = 0; i < 6; i++) t.fill(i, i);
    assertEquals(2, t.invalidate(2, 2));
    assertEquals(Iotlb.MISS, t.lookup(3));
    assertEquals(1, t.invalidate(0, 1));
    assertEquals(3, t.invalidate(0, 0));
    assertEquals(0, t.size());
  }
}
