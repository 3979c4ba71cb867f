package dmasim.scenarios.trace;

import dmasim.protocol.Direction;
import dmasim.protocol.TraceEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One line of ftrace text output ({@code cat /sys/kernel/tracing/trace}, {@code trace-cmd report}):
 * the prefix (task-pid, optional tgid, [cpu], optional irq/preempt flags of 4 to 7 characters,
 * timestamp, event name) and the body of the {@code dma:}, {@code iommu:} and {@code swiotlb:}
 * events, in the formats their TP_printk gave them from v5.x to v6.18+ (include/trace/events/dma.h,
 * iommu.h, swiotlb.h). Parsing is by hand (no regular expressions on the hot path): an import reads
 * millions of lines.
 */
public final class Ftrace {
  private Ftrace() {}

  /** The events dmasim reads; every other event of a trace is counted, not judged. */
  public static final Set<String> EVENTS = Set.of("dma_map_phys", "dma_map_page", "dma_map_resource", "dma_unmap_phys", "dma_unmap_page",
      "dma_unmap_resource", "dma_alloc", "dma_alloc_pages", "dma_alloc_sgt", "dma_alloc_sgt_err", "dma_free", "dma_free_pages", "dma_free_sgt",
      "dma_map_sg", "dma_map_sg_err", "dma_unmap_sg", "dma_sync_single_for_cpu", "dma_sync_single_for_device", "dma_sync_sg_for_cpu",
      "dma_sync_sg_for_device", "map", "unmap", "io_page_fault", "attach_device_to_domain", "detach_device_from_domain", "add_device_to_group",
      "remove_device_from_group", "swiotlb_bounced");

  /** The prefix of an event line. {@code body} is what the event's TP_printk printed. */
  public record Line(String task, int pid, int cpu, long timeNs, String event, String body) {}

  /**
   * The prefix of {@code s}, or null when the line does not have the shape "TASK-PID [(TGID)] [CPU]
   * [FLAGS] SECONDS.FRACTION: EVENT: BODY". Task names may hold spaces and dashes: the pid is the
   * digits after the last dash before the CPU field.
   */
  public static Line parse(String s) {
    int n = s.length();
    int open = -1;
    int close = -1;
    for (int i = s.indexOf(" [", 0); i >= 0; i = s.indexOf(" [", i + 1)) {
      int j = i + 2;
      while (j < n && s.charAt(j) == ' ') j++; // "[  1]" in some builds of trace-cmd
      int digits = j;
      while (j < n && isDigit(s.charAt(j))) j++;
      if (j > digits && j < n && s.charAt(j) == ']') {
        open = i + 1;
        close = j;
        break;
      }
    }
    if (open < 0) return null;
    int cpu = parseInt(s, s.lastIndexOf('[', close) + 1, close);
    // left of the CPU field: TASK-PID, maybe followed by "(TGID)" or "(-------)"
    int end = open;
    while (end > 0 && s.charAt(end - 1) == ' ') end--;
    if (end > 0 && s.charAt(end - 1) == ')') {
      int lp = s.lastIndexOf('(', end - 1);
      if (lp < 0) return null;
      end = lp;
      while (end > 0 && s.charAt(end - 1) == ' ') end--;
    }
    int pidEnd = end;
    int pidStart = pidEnd;
    while (pidStart > 0 && isDigit(s.charAt(pidStart - 1))) pidStart--;
    if (pidStart == pidEnd || pidStart == 0 || s.charAt(pidStart - 1) != '-') return null;
    int taskStart = 0;
    while (taskStart < pidStart - 1 && s.charAt(taskStart) == ' ') taskStart++;
    String task = s.substring(taskStart, pidStart - 1);
    int pid = parseInt(s, pidStart, pidEnd);
    // right of it: optional flags, then the timestamp and ':'
    int i = close + 1;
    long time = -1;
    for (int field = 0; field < 2 && time < 0; field++) {
      while (i < n && s.charAt(i) == ' ') i++;
      int start = i;
      while (i < n && s.charAt(i) != ' ') i++;
      if (i > start && s.charAt(i - 1) == ':' && isTimestamp(s, start, i - 1)) {
        time = timestamp(s, start, i - 1);
      } else if (field == 0 && i - start >= 4 && i - start <= 7 && isFlags(s, start, i)) {
        continue; // the irqs-off / need-resched / hardirq / preempt-depth / migrate-disable field
      } else {
        return null;
      }
    }
    if (time < 0) return null;
    while (i < n && s.charAt(i) == ' ') i++;
    int colon = s.indexOf(": ", i);
    int space = s.indexOf(' ', i);
    if (colon < 0 && !s.endsWith(":") || space >= 0 && space < colon) {
      // the function tracer's "func <-parent" (no event name): a line of another tracer
      return i < n ? new Line(task, pid, cpu, time, "(function)", s.substring(i)) : null;
    }
    if (colon < 0) colon = n - 1;
    String event = s.substring(i, colon);
    int sys = event.indexOf(':'); // "dma:dma_map_phys" as some tools print it
    if (sys >= 0) event = event.substring(sys + 1);
    if (event.isEmpty() || event.indexOf(' ') >= 0) return null;
    String body = colon + 2 <= n ? s.substring(Math.min(colon + 2, n)).trim() : "";
    return new Line(task, pid, cpu, time, event, body);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static int parseInt(String s, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c == ' ') continue;
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private static boolean isFlags(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!(c == '.' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')) return false;
    }
    return true;
  }

  /** "SECONDS.FRACTION", or a whole number (the counter, x86-tsc and mono_raw clocks print their raw count). */
  private static boolean isTimestamp(String s, int from, int to) {
    int dot = -1;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c == '.' && dot < 0 && i > from) dot = i;
      else if (!isDigit(c)) return false;
    }
    return dot < 0 ? to > from && to - from <= 18 : dot < to - 1;
  }

  /** "12345.678901" seconds as nanoseconds; a whole number (a raw clock count) as it is. */
  private static long timestamp(String s, int from, int to) {
    if (s.indexOf('.', from) < 0 || s.indexOf('.', from) >= to) return Long.parseLong(s, from, to, 10);
    long sec = 0;
    int i = from;
    while (s.charAt(i) != '.') sec = sec * 10 + (s.charAt(i++) - '0');
    i++;
    long frac = 0;
    int digits = 0;
    for (; i < to && digits < 9; i++, digits++) frac = frac * 10 + (s.charAt(i) - '0');
    for (; digits < 9; digits++) frac *= 10;
    return sec * 1_000_000_000L + frac;
  }

  /** "CPU:3 [LOST 120 EVENTS]" (ftrace), "CPU:3 [120 EVENTS DROPPED]" (trace-cmd): {cpu, count}, count -1 when not given; null otherwise. */
  public static long[] lost(String s) {
    String t = s.trim();
    if (!t.startsWith("CPU")) return null;
    int lb = t.indexOf('[');
    int rb = t.lastIndexOf(']');
    if (lb < 0 || rb < lb) return null;
    String inside = t.substring(lb + 1, rb).trim();
    if (!inside.contains("LOST") && !inside.contains("DROPPED")) return null;
    String head = t.substring(3, lb).replace(":", "").trim();
    long count = -1;
    for (String w : inside.split(" ")) {
      if (!w.isEmpty() && w.chars().allMatch(Character::isDigit)) count = Long.parseLong(w);
    }
    try {
      return new long[] {Integer.parseInt(head), count};
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** A header line: ftrace's "# ..." comments, trace-cmd's "cpus=N", "version = N", "CPU N is empty". */
  public static boolean header(String s) {
    String t = s.trim();
    return t.isEmpty() || t.startsWith("#") || t.startsWith("cpus=") || t.startsWith("version =") || t.startsWith("version=")
        || t.startsWith("CPU") && t.endsWith("is empty") || t.startsWith("trace-cmd:");
  }

  /** A body that does not have its event's format. */
  public static final class Malformed extends Exception {
    public Malformed(String why) {
      super(why, null, false, false);
    }
  }

  /**
   * The event of one parsed line ({@code domain} "?" for IOMMU map/unmap: the reader attributes them).
   */
  public static TraceEvent event(Line l, long line) throws Malformed {
    String e = l.event();
    String b = l.body();
    switch (e) {
      case "map", "unmap" -> {
        Fields f = iommuFields(b);
        long iova = f.hex("iova");
        if (e.equals("map")) return new TraceEvent.IommuMapped("?", iova, f.hex("paddr"), f.num("size"), line);
        return new TraceEvent.IommuUnmapped("?", iova, f.num("size"), f.num("unmapped_size"), line);
      }
      case "io_page_fault" -> {
        // "IOMMU:DRIVER DEVICE iova=0x... flags=0x...."
        if (!b.startsWith("IOMMU:")) throw new Malformed("expected 'IOMMU:DRIVER DEVICE iova=... flags=...'");
        String[] w = words(b.substring(6));
        if (w.length < 3) throw new Malformed("expected 'IOMMU:DRIVER DEVICE iova=... flags=...'");
        Fields f = new Fields(w, w.length - 2, e);
        String driver = w.length >= 4 ? w[0] : "";
        String dev = w.length >= 4 ? w[w.length - 3] : w[0];
        return new TraceEvent.IoPageFault(dev, driver, f.hex("iova"), (int) f.hex("flags"), line);
      }
      case "attach_device_to_domain", "detach_device_from_domain" -> {
        Fields f = iommuFields(b);
        return new TraceEvent.DeviceChanged(f.str("device"), e.startsWith("attach") ? "attach" : "detach", -1, line);
      }
      case "add_device_to_group", "remove_device_from_group" -> {
        Fields f = iommuFields(b);
        return new TraceEvent.DeviceChanged(f.str("device"), e.startsWith("add") ? "group-add" : "group-remove", (int) f.num("groupID"), line);
      }
      case "swiotlb_bounced" -> {
        // "dev_name: DEV dma_mask=... dev_addr=... size=N [NORMAL|FORCE]"
        if (!b.startsWith("dev_name:")) throw new Malformed("expected 'dev_name: DEVICE dma_mask=... dev_addr=... size=...'");
        String[] w = words(b.substring(9));
        Fields f = new Fields(w, 1, e, "NORMAL", "FORCE", "NO_FORCE");
        return new TraceEvent.Bounced(w[0], f.hex("dma_mask"), f.hex("dev_addr"), f.num("size"), line);
      }
      default -> {
        return dma(e, b, line);
      }
    }
  }

  private static Fields iommuFields(String b) throws Malformed {
    if (!b.startsWith("IOMMU:")) throw new Malformed("expected 'IOMMU: ...'");
    String[] w = words(b.substring(6));
    // v5.17+ prints "iova=0xA - 0xB": the end is derived from size, so the "- 0xB" pair is skipped
    List<String> kept = new ArrayList<>();
    for (int i = 0; i < w.length; i++) {
      if (w[i].equals("-") && i + 1 < w.length) {
        i++;
        continue;
      }
      kept.add(w[i]);
    }
    return new Fields(kept.toArray(new String[0]), 0, "iommu");
  }

  private static TraceEvent dma(String e, String b, long line) throws Malformed {
    String[] w = words(b);
    if (w.length < 2 || w[0].contains("=")) throw new Malformed("expected 'DEVICE key=value ...'");
    String dev = w[0];
    Fields f = new Fields(w, 1, e, "[TRUNCATED]");
    switch (e) {
      case "dma_map_phys", "dma_map_page", "dma_map_resource" -> {
        return new TraceEvent.DmaMapped(dev, e.substring(8), f.hex("dma_addr"), f.num("size"), f.dir(), f.hex("phys_addr"), f.str("attrs"), line);
      }
      case "dma_unmap_phys", "dma_unmap_page", "dma_unmap_resource" -> {
        return new TraceEvent.DmaUnmapped(dev, e.substring(10), f.hex("dma_addr"), f.num("size"), f.dir(), f.str("attrs"), line);
      }
      case "dma_alloc", "dma_alloc_pages" -> {
        long addr = f.hex("dma_addr");
        f.str("virt_addr");
        f.str("flags");
        String attrs = f.str("attrs");
        Direction dir = f.has("dir") ? f.dir() : Direction.BIDIRECTIONAL; // v6.12 printed no direction
        // TP_fast_assign records dma_addr 0 when virt_addr is NULL: the allocation failed
        if (addr == 0 && isNull(f.opt("virt_addr"))) return new TraceEvent.MapFailed(dev, e.substring(4), -12, line);
        return new TraceEvent.DmaMapped(dev, e.substring(4), addr, f.num("size"), dir, -1, attrs, line);
      }
      case "dma_alloc_sgt" -> {
        List<Long> phys = f.array("phys_addrs");
        f.str("flags");
        return new TraceEvent.DmaMapped(dev, "alloc_sgt", f.hex("dma_addr"), f.num("size"), f.dir(), phys.isEmpty() ? -1 : phys.get(0), f.str("attrs"),
            line);
      }
      case "dma_alloc_sgt_err" -> {
        f.str("attrs");
        return new TraceEvent.MapFailed(dev, "alloc_sgt", -12, line);
      }
      case "dma_free", "dma_free_pages" -> {
        f.str("virt_addr");
        return new TraceEvent.DmaUnmapped(dev, e.substring(4), f.hex("dma_addr"), f.num("size"), f.has("dir") ? f.dir() : null, f.str("attrs"), line);
      }
      case "dma_free_sgt" -> {
        f.array("phys_addrs");
        return new TraceEvent.DmaUnmapped(dev, "free_sgt", f.hex("dma_addr"), f.num("size"), f.dir(), "", line);
      }
      case "dma_map_sg" -> {
        List<Long> dma = f.array("dma_addrs");
        List<Long> sizes = f.array("sizes");
        List<Long> phys = f.array("phys_addrs");
        f.str("attrs");
        int[] nents = f.has("nents") ? f.fraction("nents") : new int[] {phys.size(), phys.size()};
        int[] ents = f.has("ents") ? f.fraction("ents") : new int[] {dma.size(), dma.size()};
        if (dma.size() != sizes.size()) throw new Malformed("dma_addrs has " + dma.size() + " entries but sizes has " + sizes.size());
        if (dma.size() != ents[0] || phys.size() != nents[0]) throw new Malformed("the arrays do not hold the counts nents/ents give");
        return new TraceEvent.SgMapped(dev, f.dir(), dma, sizes, phys, nents[1], ents[1], f.flag("[TRUNCATED]") || nents[1] > nents[0]
            || ents[1] > ents[0], f.str("attrs"), line);
      }
      case "dma_map_sg_err" -> {
        f.array("dma_addrs");
        f.str("attrs");
        return new TraceEvent.MapFailed(dev, "map_sg", (int) f.num("err"), line);
      }
      case "dma_unmap_sg" -> {
        List<Long> phys = f.array("phys_addrs");
        return new TraceEvent.SgUnmapped(dev, f.dir(), phys, f.str("attrs"), line);
      }
      case "dma_sync_single_for_cpu", "dma_sync_single_for_device" -> {
        return new TraceEvent.DmaSynced(dev, e.endsWith("cpu"), false, List.of(f.hex("dma_addr")), List.of(f.num("size")), f.dir(), line);
      }
      case "dma_sync_sg_for_cpu", "dma_sync_sg_for_device" -> {
        List<Long> dma = f.array("dma_addrs");
        List<Long> sizes = f.array("sizes");
        if (dma.size() != sizes.size()) throw new Malformed("dma_addrs has " + dma.size() + " entries but sizes has " + sizes.size());
        return new TraceEvent.DmaSynced(dev, e.endsWith("cpu"), true, dma, sizes, f.dir(), line);
      }
      default -> throw new Malformed("not an event dmasim reads");
    }
  }

  /** The words of {@code s} split at runs of blanks (tabs too), without String.split's regular expression. */
  static String[] words(String s) {
    ArrayList<String> out = new ArrayList<>(12);
    int n = s.length();
    int i = 0;
    while (i < n) {
      while (i < n && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
      int start = i;
      while (i < n && s.charAt(i) != ' ' && s.charAt(i) != '\t') i++;
      if (i > start) out.add(s.substring(start, i));
    }
    return out.toArray(new String[0]);
  }

  private static boolean isNull(String p) {
    return p == null || p.equals("(null)") || p.equals("(nil)") || p.equals("0") || p.equals("00000000") || p.matches("0+|0x0+");
  }

  /** The key=value words of a body; bare words are refused unless listed as {@code flags}. */
  private static final class Fields {
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flagsSeen = new java.util.HashSet<>();

    Fields(String[] words, int from, String event, String... flags) throws Malformed {
      Set<String> allowed = Set.of(flags);
      for (int i = from; i < words.length; i++) {
        String w = words[i];
        if (w.isEmpty()) continue;
        int eq = w.indexOf('=');
        if (eq <= 0) {
          if (allowed.contains(w)) {
            flagsSeen.add(w);
            continue;
          }
          throw new Malformed("unexpected '" + w + "' (not key=value)");
        }
        String key = w.substring(0, eq);
        StringBuilder value = new StringBuilder(w.substring(eq + 1));
        // an array printed with spaces: "{0x1, 0x2}"
        if (value.length() > 0 && (value.charAt(0) == '{' || value.charAt(0) == '[')) {
          char closer = value.charAt(0) == '{' ? '}' : ']';
          while (value.charAt(value.length() - 1) != closer && i + 1 < words.length) value.append(words[++i]);
        }
        values.put(key, value.toString());
      }
    }

    boolean has(String key) {
      return values.containsKey(key);
    }

    boolean flag(String f) {
      return flagsSeen.contains(f);
    }

    String opt(String key) {
      return values.get(key);
    }

    String str(String key) throws Malformed {
      String v = values.get(key);
      if (v == null) throw new Malformed("no " + key + "=");
      return v;
    }

    long hex(String key) throws Malformed {
      return parseHex(key, str(key));
    }

    long num(String key) throws Malformed {
      String v = str(key);
      try {
        return Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw new Malformed(key + "=" + v + " is not a number");
      }
    }

    int[] fraction(String key) throws Malformed {
      String v = str(key);
      int slash = v.indexOf('/');
      try {
        if (slash < 0) throw new NumberFormatException();
        return new int[] {Integer.parseInt(v.substring(0, slash)), Integer.parseInt(v.substring(slash + 1))};
      } catch (NumberFormatException e) {
        throw new Malformed(key + "=" + v + " is not N/M");
      }
    }

    Direction dir() throws Malformed {
      String v = str("dir");
      return switch (v) {
        case "BIDIRECTIONAL", "0" -> Direction.BIDIRECTIONAL;
        case "TO_DEVICE", "1" -> Direction.TO_DEVICE;
        case "FROM_DEVICE", "2" -> Direction.FROM_DEVICE;
        case "NONE", "3" -> Direction.NONE;
        default -> throw new Malformed("dir=" + v + " is not a DMA direction");
      };
    }

    List<Long> array(String key) throws Malformed {
      String v = str(key);
      if (v.length() < 2 || !(v.startsWith("{") && v.endsWith("}") || v.startsWith("[") && v.endsWith("]"))) {
        throw new Malformed(key + "=" + v + " is not an array {...}");
      }
      String inner = v.substring(1, v.length() - 1);
      List<Long> out = new ArrayList<>();
      if (inner.isBlank()) return out;
      for (String item : inner.split(",")) out.add(parseHex(key, item.trim()));
      return out;
    }

    private static long parseHex(String key, String v) throws Malformed {
      String h = v.startsWith("0x") || v.startsWith("0X") ? v.substring(2) : v;
      if (h.isEmpty() || h.length() > 16) throw new Malformed(key + "=" + v + " is not a hexadecimal address");
      try {
        return Long.parseUnsignedLong(h, 16);
      } catch (NumberFormatException e) {
        throw new Malformed(key + "=" + v + " is not a hexadecimal address");
      }
    }
  }
}
