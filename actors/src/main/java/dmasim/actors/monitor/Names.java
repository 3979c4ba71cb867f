package dmasim.actors.monitor;

import java.util.Arrays;

/**
 * Small int ids for the names of driver objects ("cpu0/buf3"), so that per-page bookkeeping stores
 * 4 bytes instead of a reference to a boxed entry. An id is held by whatever refers to it
 * ({@link #hold}, {@link #release}) and is reused once nothing holds it, so the table follows the
 * live objects, not every object a long run ever named. About 12 bytes per live name besides the
 * string itself (an open-addressing table of ids, the names and their hold counts).
 *
 * <p>Not thread-safe. Ids are internal: nothing iterates the table, so no order reaches an output.
 */
final class Names {
  private static final int EMPTY = -1;
  /** Open addressing over ids, linear probing; at most half full. */
  private int[] table = filled(16);
  private String[] names = new String[8];
  private int[] holds = new int[8];
  private int[] free = new int[8];
  private int freeCount;
  private int used;
  private int live;

  private static int[] filled(int n) {
    int[] t = new int[n];
    Arrays.fill(t, EMPTY);
    return t;
  }

  /** The id of {@code name}, held once more (a new id when nothing holds the name). */
  int hold(String name) {
    int mask = table.length - 1;
    int i = spread(name.hashCode()) & mask;
    while (table[i] != EMPTY) {
      int id = table[i];
      if (names[id].equals(name)) {
        holds[id]++;
        return id;
      }
      i = (i + 1) & mask;
    }
    int id = freeCount > 0 ? free[--freeCount] : used++;
    if (id >= names.length) {
      names = Arrays.copyOf(names, names.length * 2);
      holds = Arrays.copyOf(holds, names.length);
    }
    names[id] = name;
    holds[id] = 1;
    table[i] = id;
    if (++live * 2 > table.length) rehash(table.length * 2);
    return id;
  }

  /** The name of a held id. */
  String name(int id) {
    return names[id];
  }

  /** Drops one hold of {@code id}; the id is free once none is left. */
  void release(int id) {
    if (--holds[id] > 0) return;
    int mask = table.length - 1;
    int i = spread(names[id].hashCode()) & mask;
    while (table[i] != id) i = (i + 1) & mask;
    // Backward-shift deletion: move later entries of the probe run into the hole.
    int hole = i;
    i = (i + 1) & mask;
    while (table[i] != EMPTY) {
      int home = spread(names[table[i]].hashCode()) & mask;
      boolean between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!between) {
        table[hole] = table[i];
        hole = i;
      }
      i = (i + 1) & mask;
    }
    table[hole] = EMPTY;
    names[id] = null;
    live--;
    if (freeCount == free.length) free = Arrays.copyOf(free, free.length * 2);
    free[freeCount++] = id;
  }

  private void rehash(int capacity) {
    int[] t = filled(capacity);
    int mask = capacity - 1;
    for (int id : table) {
      if (id == EMPTY) continue;
      int i = spread(names[id].hashCode()) & mask;
      while (t[i] != EMPTY) i = (i + 1) & mask;
      t[i] = id;
    }
    table = t;
  }

  private static int spread(int h) {
    int x = h * 0x9E3779B1;
    return x ^ (x >>> 15);
  }
}
