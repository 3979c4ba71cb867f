package dmasim.scenarios;

import dmasim.protocol.Direction;
import dmasim.protocol.Errno;
import dmasim.scenarios.StepLanguage.ParsedStep;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Typed arguments of a step (counts, durations, flags, directions, errnos, segments), each mistake naming the step's file, line and key. */
final class StepArgs {
  private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ns|us|ms|s)");

  private final HoconReader r;

  StepArgs(HoconReader r) {
    this.r = r;
  }

  UserError error(ParsedStep s, String message) {
    return r.error(s.at(), s.key(), message);
  }

  /** An error about {@code key} on the line of {@code s}. */
  UserError error(ParsedStep s, String key, String message) {
    return r.error(s.at(), key, message);
  }

  /** A count argument: a whole number or $requests / $segments, within [min, max]. */
  long count(ParsedStep s, String arg, RunOptions o, long min, long max) {
    String v = s.args().get(arg);
    if (v == null) return min;
    long n;
    if (v.equals("$requests")) n = o.requests();
    else if (v.equals("$segments")) n = o.segments();
    else {
      try {
        n = Long.decode(v);
      } catch (NumberFormatException e) {
        throw error(s, arg + " must be a whole number, $requests or $segments, got '" + v + "'");
      }
    }
    if (n < min || n > max) throw error(s, arg + " must be between " + min + " and " + max + ", got " + n);
    return n;
  }

  /** A duration argument of a step: a whole number with ns, us, ms or s (virtual time). */
  long duration(ParsedStep s, String arg) {
    String v = s.args().get(arg);
    Matcher m = DURATION.matcher(v);
    if (!m.matches()) throw error(s, arg + " must be a duration such as 500ns, 20us, 5ms, got '" + v + "'");
    long n = Long.parseLong(m.group(1));
    long unit = switch (m.group(2)) {
      case "ns" -> 1;
      case "us" -> 1_000;
      case "ms" -> 1_000_000;
      default -> 1_000_000_000;
    };
    if (n == 0 || n > 100_000_000_000L / unit) throw error(s, arg + " must be between 1ns and 100s, got '" + v + "'");
    return n * unit;
  }

  /** errno=NAME: any failure code of {@link Errno.Name}. */
  int errno(ParsedStep s) {
    String v = s.args().get("errno");
    Errno.Name n = Errno.Name.parse(v);
    if (n == null || n == Errno.Name.OK) {
      throw error(s, "errno must be one of " + Errno.Name.failures().stream().map(Errno.Name::name).collect(Collectors.joining(", ")) + ", got '" + v + "'");
    }
    return n.code();
  }

  /** seg=N or seg=all (every page of the buffer; {@code bufferPages} MAX_VALUE: $segments). */
  List<Integer> segs(ParsedStep s, int bufferPages, RunOptions o) {
    String v = s.args().get("seg");
    List<Integer> out = new ArrayList<>();
    if ("all".equals(v)) {
      int n = bufferPages == Integer.MAX_VALUE ? o.segments() : bufferPages;
      if (n == 0) throw error(s, "seg=all needs the buffer allocated earlier in the program");
      for (int i = 0; i < n; i++) out.add(i);
      return out;
    }
    int seg = (int) count(s, "seg", o, 0, 4095);
    if (bufferPages != Integer.MAX_VALUE && bufferPages > 0 && seg >= bufferPages) {
      throw error(s, "seg " + seg + " is beyond the buffer's " + bufferPages + " page(s)");
    }
    out.add(seg);
    return out;
  }

  boolean flag(ParsedStep s, String arg) {
    String v = s.args().getOrDefault(arg, "false");
    if (!v.equals("true") && !v.equals("false")) throw error(s, arg + " must be true or false, got '" + v + "'");
    return v.equals("true");
  }

  Direction direction(ParsedStep s) {
    String d = s.args().get("dir");
    return switch (d) {
      case "to-device" -> Direction.TO_DEVICE;
      case "from-device" -> Direction.FROM_DEVICE;
      case "bidirectional" -> Direction.BIDIRECTIONAL;
      default -> throw error(s, "dir must be to-device, from-device or bidirectional, got '" + d + "'");
    };
  }
}
