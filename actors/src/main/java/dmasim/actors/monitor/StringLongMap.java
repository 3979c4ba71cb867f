package dmasim.actors.monitor;

/**
 * A map from strings (driver object names) to long values, open addressing with linear probing and
 * backward-shift deletion, at most half full: about 24 bytes per entry besides the key string, where
 * a {@code HashMap<String, Long>} entry costs about 60. Point lookups only (no iteration, so no
 * order reaches an output). Not thread-safe.
 */
final class StringLongMap {
  private String[] keys = new String[16];
  private long[] values = new long[16];
  private int size;

  int size() {
    return size;
  }

  private int home(String key, int mask) {
    int x = key.hashCode() * 0x9E3779B1;
    return (x ^ (x >>> 15)) & mask;
  }

  private int slotOf(String key) {
    int mask = keys.length - 1;
    int i = home(key, mask);
    while (keys[i] != null) {
      if (keys[i].equals(key)) return i;
      i = (i + 1) & mask;
    }
    return -1;
  }

  /** The value of {@code key}, or {@code missing}. */
  long get(String key, long missing) {
    int i = slotOf(key);
    return i < 0 ? missing : values[i];
  }

  void put(String key, long value) {
    int mask = keys.length - 1;
    int i = home(key, mask);
    while (keys[i] != null && !keys[i].equals(key)) i = (i + 1) & mask;
    if (keys[i] == null) {
      keys[i] = key;
      size++;
    }
    values[i] = value;
    if (size * 2 > keys.length) rehash(keys.length * 2);
  }

  /** Removes {@code key}; true when it was there. */
  boolean remove(String key) {
    int i = slotOf(key);
    if (i < 0) return false;
    int mask = keys.length - 1;
    int hole = i;
    i = (i + 1) & mask;
    while (keys[i] != null) {
      int home = home(keys[i], mask);
      boolean between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!between) {
        keys[hole] = keys[i];
        values[hole] = values[i];
        hole = i;
      }
      i = (i + 1) & mask;
    }
    keys[hole] = null;
    size--;
    return true;
  }

  /** Removes {@code key} only while it maps to {@code value} (as {@code Map.remove(key, value)}). */
  boolean remove(String key, long value) {
    int i = slotOf(key);
    return i >= 0 && values[i] == value && remove(key);
  }

  private void rehash(int capacity) {
    String[] oldKeys = keys;
    long[] oldValues = values;
    keys = new String[capacity];
    values = new long[capacity];
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) if (oldKeys[i] != null) put(oldKeys[i], oldValues[i]);
  }
}
