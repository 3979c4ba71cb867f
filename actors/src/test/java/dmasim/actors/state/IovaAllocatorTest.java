package dmasim.actors.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class IovaAllocatorTest {
  @Test
  void allocatesTopDownAndSizeAligned() {
    IovaAllocator a = new IovaAllocator(1, 1 << 20);
    long base = a.find(4, 1 << 20);
    assertEquals((1 << 20) - 4, base);
    a.insert(base, 4);
    long next = a.find(8, 1 << 20);
    assertEquals((1 << 20) - 16, next, "size-aligned, the highest 8-page block below the previous allocation");
    a.insert(next, 8);
    assertEquals(12, a.allocatedPages());
    assertEquals(2, a.allocations());
  }

  @Test
  void roundsSmallSizesToPowersOfTwoOnly() {
    assertEquals(4, IovaAllocator.roundedSize(3));
    assertEquals(16, IovaAllocator.roundedSize(9));
    assertEquals(1, IovaAllocator.roundedSize(1));
    assertEquals(32, IovaAllocator.roundedSize(31));
    assertEquals(32, IovaAllocator.roundedSize(32));
    assertEquals(33, IovaAllocator.roundedSize(33), "sizes of 32 pages and more are not rounded (alloc_iova_fast)");
    assertThrows(IllegalArgumentException.class, () -> IovaAllocator.roundedSize(0));
  }

  @Test
  void neverHandsOutPfnZero() {
    IovaAllocator a = new IovaAllocator(1, 8);
    long b1 = a.find(4, 8);
    assertEquals(4, b1);
    a.insert(b1, 4);
    long b2 = a.find(2, 8);
    assertEquals(2, b2);
    a.insert(b2, 2);
    long b3 = a.find(1, 8);
    assertEquals(1, b3);
    a.insert(b3, 1);
    assertEquals(-1, a.find(1, 8), "pfn 0 is below start_pfn: exhausted");
    assertEquals(7, a.allocatedPages());
    assertThrows(IllegalStateException.class, () -> a.insert(0, 1), "nor can it be inserted");
    assertThrows(IllegalArgumentException.class, () -> new IovaAllocator(0, 8));
  }

  @Test
  void skipsReservedRanges() {
    IovaAllocator a = new IovaAllocator(1, 64);
    a.reserve(32, 32);
    long b = a.find(4, 64);
    assertEquals(28, b, "the highest 4-page block below the reserved window [32, 64)");
    a.insert(b, 4);
    assertEquals(-1, a.pagesAt(32), "a reserved range is not an allocation");
    assertEquals(-1, a.baseContaining(40), "nor does it contain one");
    assertEquals(4, a.allocatedPages());
    assertEquals(1, a.allocations());
    assertThrows(IllegalStateException.class, () -> a.remove(32), "a reserved range cannot be freed");
    assertThrows(IllegalArgumentException.class, () -> a.reserve(29, 2), "a reserved range cannot overlap an allocation");
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
    assertEquals((1 << 20) - 4, b, "the highest 4-page block below the limit, not below the aperture end");
    a.insert(b, 4);
    assertEquals((1 << 20) - 8, a.find(4, 1 << 20));
    IovaAllocator small = new IovaAllocator(1, 64);
    small.insert(4, 4);
    assertEquals(-1, small.find(4, 8), "below the limit is full: fail, although [8, 64) is free");
    assertEquals(60, small.find(4, 64));
  }

  @Test
  void doubleFreeAndOverlapAreRejected() {
    IovaAllocator a = new IovaAllocator(1, 64);
    a.insert(8, 8);
    assertThrows(IllegalStateException.class, () -> a.insert(12, 4));
    assertThrows(IllegalStateException.class, () -> a.insert(4, 8));
    assertEquals(8, a.allocatedPages(), "a rejected insert changes nothing");
    assertEquals(1, a.allocations());
    a.remove(8);
    assertEquals(0, a.allocatedPages());
    assertThrows(IllegalStateException.class, () -> a.remove(8));
    assertEquals(0, a.allocatedPages());
    assertEquals(0, a.allocations());
  }

  @Test
  void findsTheContainingAllocation() {
    IovaAllocator a = new IovaAllocator(1, 64);
    a.insert(16, 8);
    assertEquals(16, a.baseContaining(16));
    assertEquals(16, a.baseContaining(20));
    assertEquals(16, a.baseContaining(23));
    assertEquals(-1, a.baseContaining(15));
    assertEquals(-1, a.baseContaining(24));
    assertEquals(8, a.pagesAt(16));
    assertEquals(-1, a.pagesAt(20), "pagesAt only answers for the base");
  }
}
