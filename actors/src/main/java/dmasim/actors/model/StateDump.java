package dmasim.actors.model;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A canonical text of a model state, field by field, for comparing states: the same state always
 * gives the same text whatever the insertion order of its hash maps (their entries are sorted), and
 * two states differ exactly where their texts do. Reflective, so a new field of a state class is
 * compared without anyone remembering to add it.
 */
public final class StateDump {
  private StateDump() {}

  public static String of(Object state) {
    StringBuilder b = new StringBuilder();
    dump(state, b, new IdentityHashMap<>());
    return b.toString();
  }

  /** Where two dumps first differ: "at offset N: ...journal... / ...live...", or null when equal. */
  public static String firstDifference(String a, String b, String nameA, String nameB) {
    if (a.equals(b)) return null;
    int i = 0;
    while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) i++;
    int from = Math.max(0, a.lastIndexOf('{', Math.max(0, i - 1)) - 40);
    return nameA + " " + excerpt(a, from, i) + " / " + nameB + " " + excerpt(b, from, i);
  }

  private static String excerpt(String s, int from, int at) {
    int to = Math.min(s.length(), at + 60);
    return "..." + s.substring(Math.min(from, s.length()), to) + (to < s.length() ? "..." : "");
  }

  private static void dump(Object o, StringBuilder b, IdentityHashMap<Object, Boolean> seen) {
    if (o instanceof Long l) {
      b.append(l).append('L'); // 1L and 1 are different values
    } else if (o == null || o instanceof Number || o instanceof Boolean || o instanceof Character || o instanceof Enum<?>) {
      b.append(o);
    } else if (o instanceof CharSequence s) {
      b.append('"').append(s.toString().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
    } else if (o instanceof Class<?> c) {
      b.append(c.getSimpleName());
    } else if (o instanceof Map<?, ?> m) {
      List<String> entries = new ArrayList<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        StringBuilder eb = new StringBuilder();
        dump(e.getKey(), eb, seen);
        eb.append('=');
        dump(e.getValue(), eb, seen);
        entries.add(eb.toString());
      }
      if (!(m instanceof java.util.SortedMap<?, ?>) && !(m instanceof java.util.LinkedHashMap<?, ?>)) entries.sort(null);
      b.append('{').append(String.join(", ", entries)).append('}');
    } else if (o instanceof Collection<?> c) {
      List<String> items = new ArrayList<>();
      for (Object x : c) {
        StringBuilder xb = new StringBuilder();
        dump(x, xb, seen);
        items.add(xb.toString());
      }
      if (c instanceof java.util.Set<?> && !(c instanceof java.util.SortedSet<?>) && !(c instanceof java.util.LinkedHashSet<?>)) items.sort(null);
      b.append('[').append(String.join(", ", items)).append(']');
    } else if (o.getClass().isArray()) {
      int n = java.lang.reflect.Array.getLength(o);
      b.append('[');
      for (int i = 0; i < n; i++) {
        if (i > 0) b.append(", ");
        dump(java.lang.reflect.Array.get(o, i), b, seen);
      }
      b.append(']');
    } else if (o instanceof java.util.function.Supplier<?> || o instanceof java.util.function.Function<?, ?>) {
      b.append("<fn>");
    } else if (o.getClass().getName().startsWith("java.")) {
      // A JDK value that is not a collection (Optional, BitSet, a time): its fields are closed to reflection; its text is its value.
      b.append(o.getClass().getSimpleName()).append('(').append(o).append(')');
    } else {
      if (seen.put(o, Boolean.TRUE) != null) {
        b.append("<cycle ").append(o.getClass().getSimpleName()).append('>');
        return;
      }
      b.append(o.getClass().getSimpleName()).append('{');
      boolean first = true;
      for (Class<?> c = o.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
        for (Field f : c.getDeclaredFields()) {
          if (Modifier.isStatic(f.getModifiers()) || f.isSynthetic()) continue;
          if (!first) b.append(", ");
          first = false;
          b.append(f.getName()).append('=');
          try {
            f.setAccessible(true);
            dump(f.get(o), b, seen);
          } catch (ReflectiveOperationException | RuntimeException e) {
            b.append("<unreadable>");
          }
        }
      }
      b.append('}');
      seen.remove(o);
    }
  }
}
