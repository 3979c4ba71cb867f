package dmasim.actors.monitor;

import dmasim.actors.state.LongLongMap;
import java.util.Arrays;

/**
 * A sparse array over non-negative long indices (page frame numbers), stored as leaves of
 * {@link #LEAF} consecutive slots, allocated when a slot of theirs is first set and released when
 * their last one is cleared. The monitors' per-page bookkeeping (the page-table shadow, page
 * owners, who mapped an IOVA page) uses it instead of boxed maps: IOVA and physical pages are
 * handed out in runs, so a leaf is mostly full and a page costs its value (4 or 8 bytes) plus
 * about one byte of leaf overhead, where a {@code TreeMap<Long, ...>} entry costs 64 bytes and a
 * {@link LongLongMap} entry 32.
 *
 * <p>Not thread-safe (a monitor suite is single-threaded). Point lookups only: no iteration, so no
 * order can reach an output.
 */
abstract class PagedArray {
  static final int SHIFT = 6;
  static final int LEAF = 1 << SHIFT;
  private static final int MASK = LEAF - 1;

  /** Leaf number -> slot in the leaf arrays of the subclass. */
  private final LongLongMap slots = new LongLongMap(16);
  /** Set entries per slot. */
  private int[] counts = new int[4];
  /** Released slots, reused first. */
  private int[] free = new int[4];
  private int freeCount;
  private int used;
  private int size;

  /** Entries set. */
  final int size() {
    return size;
  }

  /** The slot of {@code index}'s leaf, or -1 when it has none. */
  final int slotOf(long index) {
    if (index < 0) throw new IllegalArgumentException("negative index " + index);
    return (int) slots.get(index >>> SHIFT, -1);
  }

  static int offset(long index) {
    return (int) (index & MASK);
  }

  /** The slot of {@code index}'s leaf, allocating the leaf when it has none. */
  final int slotFor(long index) {
    int slot = slotOf(index);
    if (slot >= 0) return slot;
    slot = freeCount > 0 ? free[--freeCount] : used++;
    if (slot >= counts.length) {
      counts = Arrays.copyOf(counts, counts.length * 2);
      grow(counts.length);
    }
    slots.put(index >>> SHIFT, slot);
    allocate(slot);
    return slot;
  }

  /** An entry of {@code slot} went from unset to set. */
  final void added(int slot) {
    counts[slot]++;
    size++;
  }

  /** An entry of {@code slot}, at {@code index}, went from set to unset: the leaf goes with its last entry. */
  final void removed(int slot, long index) {
    size--;
    if (--counts[slot] > 0) return;
    slots.remove(index >>> SHIFT);
    release(slot);
    if (freeCount == free.length) free = Arrays.copyOf(free, free.length * 2);
    free[freeCount++] = slot;
  }

  /** Makes room for leaves in slots below {@code capacity}. */
  abstract void grow(int capacity);

  /** A new, empty leaf in {@code slot}. */
  abstract void allocate(int slot);

  /** Drops the leaf of {@code slot}. */
  abstract void release(int slot);

  /** Page -> long value (never {@link Long#MIN_VALUE}). */
  static final class Longs extends PagedArray {
    private static final long UNSET = Long.MIN_VALUE;
    private long[][] leaves = new long[4][];

    long get(long index, long missing) {
      int slot = slotOf(index);
      if (slot < 0) return missing;
      long v = leaves[slot][offset(index)];
      return v == UNSET ? missing : v;
    }

    boolean containsKey(long index) {
      int slot = slotOf(index);
      return slot >= 0 && leaves[slot][offset(index)] != UNSET;
    }

    void put(long index, long value) {
      if (value == UNSET) throw new IllegalArgumentException("reserved value");
      int slot = slotFor(index);
      long[] leaf = leaves[slot];
      if (leaf[offset(index)] == UNSET) added(slot);
      leaf[offset(index)] = value;
    }

    /** Removes the entry; true when there was one. */
    boolean remove(long index) {
      int slot = slotOf(index);
      if (slot < 0 || leaves[slot][offset(index)] == UNSET) return false;
      leaves[slot][offset(index)] = UNSET;
      removed(slot, index);
      return true;
    }

    @Override
    void grow(int capacity) {
      leaves = Arrays.copyOf(leaves, capacity);
    }

    @Override
    void allocate(int slot) {
      long[] leaf = new long[LEAF];
      Arrays.fill(leaf, UNSET);
      leaves[slot] = leaf;
    }

    @Override
    void release(int slot) {
      leaves[slot] = null;
    }
  }

  /** Page -> int value (never {@link Integer#MIN_VALUE}). */
  static final class Ints extends PagedArray {
    private static final int UNSET = Integer.MIN_VALUE;
    private int[][] leaves = new int[4][];

    int get(long index, int missing) {
      int slot = slotOf(index);
      if (slot < 0) return missing;
      int v = leaves[slot][offset(index)];
      return v == UNSET ? missing : v;
    }

    boolean containsKey(long index) {
      int slot = slotOf(index);
      return slot >= 0 && leaves[slot][offset(index)] != UNSET;
    }

    void put(long index, int value) {
      if (value == UNSET) throw new IllegalArgumentException("reserved value");
      int slot = slotFor(index);
      int[] leaf = leaves[slot];
      if (leaf[offset(index)] == UNSET) added(slot);
      leaf[offset(index)] = value;
    }

    /** Adds {@code delta} (absent counts as 0) and returns the new value; the entry goes when it reaches 0. */
    int add(long index, int delta) {
      int v = get(index, 0) + delta;
      if (v == 0) remove(index);
      else put(index, v);
      return v;
    }

    /** Removes the entry and returns its value, or {@code missing} when there was none. */
    int remove(long index, int missing) {
      int slot = slotOf(index);
      if (slot < 0) return missing;
      int v = leaves[slot][offset(index)];
      if (v == UNSET) return missing;
      leaves[slot][offset(index)] = UNSET;
      removed(slot, index);
      return v;
    }

    boolean remove(long index) {
      return remove(index, UNSET) != UNSET;
    }

    @Override
    void grow(int capacity) {
      leaves = Arrays.copyOf(leaves, capacity);
    }

    @Override
    void allocate(int slot) {
      int[] leaf = new int[LEAF];
      Arrays.fill(leaf, UNSET);
      leaves[slot] = leaf;
    }

    @Override
    void release(int slot) {
      leaves[slot] = null;
    }
  }

  /** Page -> reference (null is unset). */
  static final class Refs<T> extends PagedArray {
    private Object[][] leaves = new Object[4][];

    @SuppressWarnings("unchecked")
    T get(long index) {
      int slot = slotOf(index);
      return slot < 0 ? null : (T) leaves[slot][offset(index)];
    }

    /** Sets the entry ({@code value} not null) and returns the previous one, or null. */
    @SuppressWarnings("unchecked")
    T put(long index, T value) {
      if (value == null) throw new IllegalArgumentException("null value");
      int slot = slotFor(index);
      Object[] leaf = leaves[slot];
      Object old = leaf[offset(index)];
      if (old == null) added(slot);
      leaf[offset(index)] = value;
      return (T) old;
    }

    /** Removes the entry and returns it, or null when there was none. */
    @SuppressWarnings("unchecked")
    T remove(long index) {
      int slot = slotOf(index);
      if (slot < 0) return null;
      Object old = leaves[slot][offset(index)];
      if (old == null) return null;
      leaves[slot][offset(index)] = null;
      removed(slot, index);
      return (T) old;
    }

    @Override
    void grow(int capacity) {
      leaves = Arrays.copyOf(leaves, capacity);
    }

    @Override
    void allocate(int slot) {
      leaves[slot] = new Object[LEAF];
    }

    @Override
    void release(int slot) {
      leaves[slot] = null;
    }
  }
}
