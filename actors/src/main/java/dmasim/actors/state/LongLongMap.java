package dmasim.actors.state;

import java.util.Arrays;

/**
 * Open-addressing map from non-negative long keys to long values, with linear probing and
 * backward-shift deletion. About 32 bytes per entry at the maximum load of one half: the page
 * table and the leaf-table counters use it so that 10^6 mapped pages cost tens of MiB, not
 * hundreds (boxed maps cost ~80 bytes per entry).
 *
 * <p>Not thread-safe: owned by exactly one actor. Iteration order is the slot order, a pure
 * function of the operations applied, so it is deterministic.
 */
public final class LongLongMap {
  private static final long EMPTY = -1L;
  private long[] keys;
  private long[] values;
  private int size;
  private int mask;

  public LongLongMap() {
    this(16);
  }

  public LongLongMap(int expected) {
    int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
    keys = new long[cap];
    Arrays.fill(keys, EMPTY);
    values = new long[cap];
    mask = cap - 1;
  }

  private static int hash(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }

  public int size() {
    return size;
  }

  /** Bytes held by the arrays (for the per-page memory figure). */
  public long footprintBytes() {
    return (long) keys.length * 16L;
  }

  public boolean containsKey(long key) {
    return slotOf(key) >= 0;
  }

  /** The value, or {@code missing} when absent. */
  public long get(long key, long missing) {
    int slot = slotOf(key);
    return slot >= 0 ? values[slot] : missing;
  }

  private int slotOf(long key) {
    if (key < 0) throw new IllegalArgumentException("negative key " + key);
    int i = hash(key) & mask;
    while (true) {
      long k = keys[i];
      if (k == EMPTY) return -1;
      if (k == key) return i;
      i = (i + 1) & mask;
    }
  }

  public void put(long key, long value) {
    if (key < 0) throw new IllegalArgumentException("negative key " + key);
    if ((size + 1) * 2 > keys.length) grow();
    int i = hash(key) & mask;
    while (keys[i] != EMPTY && keys[i] != key) i = (i + 1) & mask;
    if (keys[i] == EMPTY) size++;
    keys[i] = key;
    values[i] = value;
  }

  /** Adds {@code delta} to the value (absent counts as 0) and returns the new value; removes the key when it reaches 0. */
  public long add(long key, long delta) {
    long v = get(key, 0) + delta;
    if (v == 0) remove(key);
    else put(key, v);
    return v;
  }

  public boolean remove(long key) {
    int slot = slotOf(key);
    if (slot < 0) return false;
    int hole = slot;
    int i = (slot + 1) & mask;
    while (keys[i] != EMPTY) {
      int home = hash(keys[i]) & mask;
      // Move i into the hole when its home is not in the cyclic range (hole, i].
      boolean between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!between) {
        keys[hole] = keys[i];
        values[hole] = values[i];
        hole = i;
      }
      i = (i + 1) & mask;
    }
    keys[hole] = EMPTY;
    size--;
    return true;
  }

  public void clear() {
    Arrays.fill(keys, EMPTY);
    size = 0;
  }

  private void grow() {
    long[] oldKeys = keys;
    long[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    Arrays.fill(keys, EMPTY);
    values = new long[keys.length];
    mask = keys.length - 1;
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) if (oldKeys[i] != EMPTY) put(oldKeys[i], oldValues[i]);
  }
}
