package dmasim.actors.monitor;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * A sorted map from long keys (IOVA pfns) to a long value and a reference, for the monitors'
 * per-allocation bookkeeping: the keys and columns sit in blocks of up to {@link #BLOCK} sorted
 * entries, each block filed under its smallest key. About 20-40 bytes per entry where a
 * {@code TreeMap<Long, record>} costs about 100, and the same answers: get, put, remove, the
 * greatest key below a bound, the first key, iteration in key order.
 *
 * <p>Keys arriving in order (the IOVA allocator hands out ranges top down) fill whole blocks: a
 * key before or after a full block's entries starts a block of its own instead of splitting it.
 * A block that falls below a quarter full is merged into its successor when both fit in half a
 * block. Not thread-safe.
 */
final class SortedTable<T> {
  static final int BLOCK = 64;
  /** What {@link #lowerKey} and {@link #firstKey} return when there is no such key. */
  static final long NONE = Long.MIN_VALUE;

  private static final class Block {
    long[] keys = new long[BLOCK];
    long[] values = new long[BLOCK];
    Object[] refs = new Object[BLOCK];
    int n;

    int find(long key) {
      return Arrays.binarySearch(keys, 0, n, key);
    }

    void insert(int at, long key, long value, Object ref) {
      System.arraycopy(keys, at, keys, at + 1, n - at);
      System.arraycopy(values, at, values, at + 1, n - at);
      System.arraycopy(refs, at, refs, at + 1, n - at);
      keys[at] = key;
      values[at] = value;
      refs[at] = ref;
      n++;
    }

    void delete(int at) {
      System.arraycopy(keys, at + 1, keys, at, n - at - 1);
      System.arraycopy(values, at + 1, values, at, n - at - 1);
      System.arraycopy(refs, at + 1, refs, at, n - at - 1);
      n--;
      refs[n] = null;
    }

    /** Moves entries [from, n) to a new block. */
    Block splitAt(int from) {
      Block b = new Block();
      b.n = n - from;
      System.arraycopy(keys, from, b.keys, 0, b.n);
      System.arraycopy(values, from, b.values, 0, b.n);
      System.arraycopy(refs, from, b.refs, 0, b.n);
      Arrays.fill(refs, from, n, null);
      n = from;
      return b;
    }

    void append(Block b) {
      System.arraycopy(b.keys, 0, keys, n, b.n);
      System.arraycopy(b.values, 0, values, n, b.n);
      System.arraycopy(b.refs, 0, refs, n, b.n);
      n += b.n;
    }
  }

  /** Visits entries in key order; returns false to stop. */
  interface Visitor<T> {
    boolean visit(long key, long value, T ref);
  }

  private final TreeMap<Long, Block> blocks = new TreeMap<>();
  private int size;

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  private Block blockOf(long key) {
    Map.Entry<Long, Block> e = blocks.floorEntry(key);
    return e == null ? null : e.getValue();
  }

  boolean containsKey(long key) {
    Block b = blockOf(key);
    return b != null && b.find(key) >= 0;
  }

  /** The reference stored under {@code key}, or null. */
  @SuppressWarnings("unchecked")
  T get(long key) {
    Block b = blockOf(key);
    int i = b == null ? -1 : b.find(key);
    return i < 0 ? null : (T) b.refs[i];
  }

  /** The value stored under {@code key}, or {@code missing}. */
  long value(long key, long missing) {
    Block b = blockOf(key);
    int i = b == null ? -1 : b.find(key);
    return i < 0 ? missing : b.values[i];
  }

  /** Stores {@code value} and {@code ref} under {@code key}, replacing what was there. */
  void put(long key, long value, T ref) {
    Map.Entry<Long, Block> e = blocks.floorEntry(key);
    if (e == null) e = blocks.firstEntry();
    if (e == null) {
      Block b = new Block();
      b.insert(0, key, value, ref);
      blocks.put(key, b);
      size++;
      return;
    }
    Block b = e.getValue();
    int i = b.find(key);
    if (i >= 0) {
      b.values[i] = value;
      b.refs[i] = ref;
      return;
    }
    int at = -i - 1;
    size++;
    if (b.n == BLOCK) {
      if (at == 0 || at == BLOCK) { // before or after a full block: a block of its own, the full one stays full
        Block own = new Block();
        own.insert(0, key, value, ref);
        blocks.put(key, own);
        return;
      }
      Block upper = b.splitAt(BLOCK / 2);
      blocks.put(upper.keys[0], upper);
      if (at > BLOCK / 2) {
        upper.insert(at - BLOCK / 2, key, value, ref);
        return;
      }
    }
    b.insert(at, key, value, ref);
    if (at == 0) { // a new smallest key: refile the block under it
      blocks.remove(e.getKey());
      blocks.put(key, b);
    }
  }

  /** Removes {@code key}; returns its reference, or null when it was not there. */
  @SuppressWarnings("unchecked")
  T remove(long key) {
    Map.Entry<Long, Block> e = blocks.floorEntry(key);
    if (e == null) return null;
    Block b = e.getValue();
    int i = b.find(key);
    if (i < 0) return null;
    T ref = (T) b.refs[i];
    b.delete(i);
    size--;
    if (b.n == 0) {
      blocks.remove(e.getKey());
      return ref;
    }
    if (i == 0) {
      blocks.remove(e.getKey());
      blocks.put(b.keys[0], b);
    }
    if (b.n < BLOCK / 4) {
      Map.Entry<Long, Block> next = blocks.higherEntry(b.keys[0]);
      if (next != null && b.n + next.getValue().n <= BLOCK / 2) {
        b.append(next.getValue());
        blocks.remove(next.getKey());
      }
    }
    return ref;
  }

  /** The greatest key below {@code bound}, or {@link #NONE}. */
  long lowerKey(long bound) {
    if (bound == Long.MIN_VALUE) return NONE;
    Block b = blockOf(bound - 1);
    if (b == null) return NONE;
    int i = b.find(bound);
    int below = (i >= 0 ? i : -i - 1) - 1;
    return b.keys[below];
  }

  /** The smallest key, or {@link #NONE} when empty. */
  long firstKey() {
    return blocks.isEmpty() ? NONE : blocks.firstEntry().getValue().keys[0];
  }

  /** Visits the entries in key order until {@code v} returns false. */
  @SuppressWarnings("unchecked")
  void forEach(Visitor<T> v) {
    for (Block b : blocks.values()) {
      for (int i = 0; i < b.n; i++) if (!v.visit(b.keys[i], b.values[i], (T) b.refs[i])) return;
    }
  }
}
