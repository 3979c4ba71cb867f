package dmasim.scenarios;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed values of one HOCON object of a scenario file (the whole file, or one element of a list
 * such as {@code devices[0]}), each mistake a {@link UserError} "FILE:LINE: KEY: what is wrong".
 */
final class HoconReader {
  private final String file;
  private final Config c;
  private final String prefix; // the path of c within the file, for error messages ("devices[0].")

  HoconReader(String file, Config c) {
    this(file, c, "");
  }

  private HoconReader(String file, Config c, String prefix) {
    this.file = file;
    this.c = c;
    this.prefix = prefix;
  }

  /** A reader for the element {@code o} found at {@code key} (e.g. "devices[0]"). */
  HoconReader sub(ConfigObject o, String key) {
    return new HoconReader(file, o.toConfig(), key + ".");
  }

  String file() {
    return file;
  }

  Config config() {
    return c;
  }

  boolean has(String key) {
    return c.hasPath(key);
  }

  // ---- errors ---------------------------------------------------------------------------------

  UserError error(ConfigValue at, String key, String message) {
    int line = at == null || at.origin() == null ? 0 : at.origin().lineNumber();
    String full = key.startsWith(prefix) ? key : prefix + key;
    return new UserError(file + ":" + line + ": " + full + ": " + message);
  }

  /** An error at {@code key}, or at its parent (or the file) when the key is absent. */
  UserError error(String key, String message) {
    ConfigValue v = c.hasPathOrNull(key) ? c.getValue(key) : null;
    if (v == null) {
      int dot = key.lastIndexOf('.');
      String parent = dot < 0 ? null : key.substring(0, dot);
      v = parent != null && c.hasPath(parent) ? c.getValue(parent) : c.root();
    }
    return error(v, key, message);
  }

  void onlyKeys(ConfigObject o, String prefix, Set<String> allowed) {
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
      if (!allowed.contains(e.getKey())) {
        throw error(e.getValue(), prefix + e.getKey(), "unknown key (expected one of " + new TreeSet<>(allowed) + ")");
      }
    }
  }

  /** If the object {@code key} is present, it has only the {@code allowed} keys. */
  void onlyKeys(String key, Set<String> allowed) {
    if (c.hasPath(key)) onlyKeys(c.getObject(key), key + ".", allowed);
  }

  /** The list at {@code key} (which must be present), or {@code wrongType} as the error. */
  ConfigList list(String key, String wrongType) {
    try {
      return c.getList(key);
    } catch (ConfigException e) {
      throw error(key, wrongType);
    }
  }

  // ---- typed values ---------------------------------------------------------------------------

  /** A string; {@code dflt} null makes the key required. */
  String string(String key, String dflt) {
    if (!c.hasPath(key)) {
      if (dflt == null) throw error(key, "required");
      return dflt;
    }
    ConfigValue v = c.getValue(key);
    if (v.valueType() != ConfigValueType.STRING) throw error(key, "must be a string, got " + v.valueType().name().toLowerCase(Locale.ROOT));
    return c.getString(key);
  }

  /** A whole number (decimal or 0x hex) within [min, max]. */
  long number(String key, long dflt, long min, long max) {
    if (!c.hasPath(key)) return dflt;
    ConfigValue v = c.getValue(key);
    long n;
    Object raw = v.unwrapped();
    try {
      // Typesafe Config's getLong truncates 1.5 to 1, reads "NaN" as 0 and clamps 1e20: only exact whole numbers pass.
      if (raw instanceof String text) {
        n = text.trim().startsWith("0x") ? Long.decode(text.trim()) : Long.parseLong(text.trim());
      } else if (raw instanceof Integer || raw instanceof Long) {
        n = ((Number) raw).longValue();
      } else if (raw instanceof Number d && Double.isFinite(d.doubleValue()) && d.doubleValue() == Math.rint(d.doubleValue())
          && Math.abs(d.doubleValue()) < 0x1p53) {
        n = d.longValue();
      } else {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      throw error(key, "must be a whole number (decimal or 0x hex) between " + min + " and " + max + ", got '" + v.render() + "'");
    }
    if (n < min || n > max) throw error(key, "must be between " + min + " and " + max + ", got " + n);
    return n;
  }

  boolean bool(String key, boolean dflt) {
    if (!c.hasPath(key)) return dflt;
    try {
      return c.getBoolean(key);
    } catch (ConfigException e) {
      throw error(key, "must be true or false, got '" + c.getValue(key).unwrapped() + "'");
    }
  }

  /** A HOCON duration, in nanoseconds, within [0, max]. */
  long nanos(String key, long dflt, long max) {
    if (!c.hasPath(key)) return dflt;
    if (c.getValue(key).valueType() == ConfigValueType.NUMBER) {
      throw error(key, "needs a unit: 500ns, 1us, 10ms (a bare number would be read as milliseconds), got " + c.getValue(key).render());
    }
    Duration d;
    try {
      d = c.getDuration(key);
    } catch (ConfigException e) {
      throw error(key, "must be a duration such as 500ns, 1us, 10ms, got '" + c.getValue(key).unwrapped() + "'");
    }
    if (d.isNegative() || d.toNanos() > max) throw error(key, "must be between 0 and " + max + " ns");
    return d.toNanos();
  }

  /** One of the keys of {@code values} (listed in the map's order in the error). */
  <T> T choice(String key, String dflt, Map<String, T> values) {
    String v = string(key, dflt);
    T t = values.get(v);
    if (t == null) throw error(key, "'" + v + "' is not one of " + values.keySet());
    return t;
  }
}
