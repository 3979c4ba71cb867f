package dmasim.actors.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IovaAllocatorTest {
  @Test
  void allocatesTopDownAndSizeAligned() {
    IovaAllocator a = new IovaAllocator(1, 1 << 20);
    long base = a.find(4, 1 << 20);
    assertEquals((1 << 20) - 4, base);
    a.insert(base, 4);
    long next = a.find(8, 1 << 20);
    assertEquals(0, next % 8, "size-aligned");
    assertTrue(next + 8 <= base, "below the previous allocation");
  }

  @Test
  void roundsSmallSizesToPowersOfTwoOnly() {
    assertEquals(4, IovaAllocator.roundedSize(3));
    assertEquals(16, IovaAllocator.roundedSize(9));
    assertEquals(33, IovaAllocator.roundedSize(33), "sizes of 32 pages and more are not rounded (alloc_iova_fast)");
  }

  @Test
  void neverHandsOutPfnZero() {
    IovaAllocator a = new IovaAllocator(1, 8);
    long b1 = a.find(4, 8);
    a.insert(b1, 4);
    long b2 = a.find(2, 8);
    a.insert(b2, 2);
    long b3 = a.find(1, 8);
    a.insert(b3, 1);
    assertEquals(1, b3);
    assertEquals(-1, a.find(1, 8), "pfn 0 is below start_pfn: exhausted");
    assertThrows(IllegalArgumentException.class, () -> new IovaAllocator(0, 8));
  }

  @Test
  void skipsReservedRanges() {
    IovaAllocator a = new IovaAllocator(1, 64);
    a.reserve(32, 32);
    long b = a.find(4, 64);
    assertTrue(b + 4 <= 32, "allocated below the reserved window, got " + b);
    assertEquals(-1, a.pagesAt(32), "a reserved range is not an allocation");
  }

  @Test
  void exhaustionReturnsMinusOneAndFreeMakesRoomAgain() {
    IovaAllocator a = new IovaAllocator(1, 16);
    long b = a.find(8, 16);
    assertEquals(8, b, "the only 8-aligned block of 8 pages above pfn 0");
    a.insert(b, 8);
    assertEquals(-1, a.find(8, 16), "exhausted for this size");
    assertEquals(4, a.find(4, 16), "smaller sizes still fit below");
    a.remove(b);
    assertEquals(b, a.find(8, 16));
  }

  @Test
  void respectsTheLimit() {
    IovaAllocator a = new IovaAllocator(1, 1 << 30);
    long b = a.find(4, 1 << 20);
    assertTrue(b + 4 <= 1 << 20);
  }

  @Test
  void doubleFreeAndOverlapAreRejected() {
    IovaAllocator a = new IovaAllocator(1, 64);
    a.insert(8, 8);
    assertThrows(IllegalStateException.class, () -> a.insert(12, 4));
    a.remove(8);
    assertThrows(IllegalStateException.class, () -> a.remove(8));
  }

  @Test
  void findsTheContainingAllocation() {
    IovaAllocator a = new IovaAllocator(1, 64);
    a.insert(16, 8);
    assertEquals(16, a.baseContaining(20));
    assertEquals(-1, a.baseContaining(24));
    assertEquals(8, a.pagesAt(16));
  }
}
