package dmasim.scenarios.trace;

import dmasim.protocol.TraceEvent;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads ftrace text line by line (never the whole file) and hands on the {@code dma:}, {@code iommu:}
 * and {@code swiotlb:} events in line order, each with the actor that journals it. Along the way:
 *
 * <ul>
 *   <li>a line without the ftrace prefix right after an event line is tried as its continuation (a
 *       wrapped line: joined with a space, then without one, as a terminal cuts a token in two);
 *   <li>lines it cannot read are counted with their line numbers, never dropped silently; other
 *       subsystems' events are counted by name; headers and blank lines are skipped;
 *   <li>"CPU:N [LOST M EVENTS]" markers become events, so a verdict can say a lost line may explain it;
 *   <li>iommu:map and iommu:unmap name no device: each is attributed to the device whose DMA API call
 *       on the same CPU it belongs to: the next call there that covers its IOVA range (dma_map_*,
 *       dma_alloc*, dma_map_sg and dma_unmap_phys/page trace after they act), or, for an unmap, the
 *       call just before it when that call traces first (dma_free*, dma_unmap_sg); else to "?".
 * </ul>
 */
public final class TraceReader {
  /** How far the reader looks ahead for the DMA API call an IOMMU map or unmap belongs to. */
  static final int ATTRIBUTION_WINDOW = 1 << 16;
  /** Continuation lines tried for one wrapped event line. */
  static final int MAX_JOINS = 4;
  /** Unparsed lines quoted in the summary (all are counted and their numbers listed as ranges). */
  static final int SAMPLES = 10;

  /** One event as journaled: the trace line, the actor, the event name, the timestamp, the CPU and the event. */
  public record Item(long line, String actor, String type, long timeNs, int cpu, TraceEvent event) {}

  /** What the reader saw besides the events. */
  public static final class Counts {
    public long lines;
    public long events;
    public long headers;
    public long otherLines;
    public final TreeMap<String, Long> otherEvents = new TreeMap<>();
    public long unparsed;
    /** Unparsed line numbers as [from, to] ranges. */
    public final List<long[]> unparsedRanges = new ArrayList<>();
    public final List<String> samples = new ArrayList<>();
    public long lostMarkers;
    public long attributed;
    public long unattributed;
    /** Continuation lines joined to the event line they wrapped from. */
    public long wrapped;

    void unparsed(long line, String text, String why) {
      unparsed++;
      long[] last = unparsedRanges.isEmpty() ? null : unparsedRanges.get(unparsedRanges.size() - 1);
      if (last != null && last[1] == line - 1) last[1] = line;
      else if (unparsedRanges.size() < 10_000) unparsedRanges.add(new long[] {line, line});
      if (samples.size() < SAMPLES) {
        String t = text.length() > 160 ? text.substring(0, 157) + "..." : text;
        samples.add("line " + line + ": " + t + (why == null ? "" : "  (" + why + ")"));
      }
    }

    /** "3-5, 9, 12" */
    public String ranges() {
      StringBuilder b = new StringBuilder();
      for (long[] r : unparsedRanges) {
        if (b.length() > 0) b.append(", ");
        b.append(r[0]);
        if (r[1] != r[0]) b.append('-').append(r[1]);
      }
      if (unparsedRanges.size() >= 10_000) b.append(", ...");
      return b.toString();
    }
  }

  private final java.util.function.Consumer<Item> sink;
  private final Counts counts = new Counts();
  // the line being held: an event line that a wrapped continuation may still complete
  private long heldLine = -1;
  private Ftrace.Line held;
  private String heldBody;
  private TraceEvent heldEvent;
  private String heldError;
  private String heldText;
  private int heldJoins;
  private int lastLength; // of the held line's last physical line
  // a line without a prefix, kept one line in case the next one completes it (a line cut inside its prefix)
  private String orphan;
  private long orphanLine;
  private long unreadableCount;
  private long unreadableLast;
  // attribution of IOMMU map/unmap lines, in line order
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final Map<Integer, List<Pending>> unresolved = new HashMap<>();
  private final Map<Integer, Call> lastCall = new HashMap<>();

  private static final class Pending {
    Item item;
    boolean resolved;

    Pending(Item item, boolean resolved) {
      this.item = item;
      this.resolved = resolved;
    }
  }

  /**
   * A DMA API call's device and DMA ranges ({start, end} pairs; null: any, for dma_unmap_sg, which
   * prints no DMA address), and whether it traces before it acts.
   */
  private record Call(String dev, long[] ranges, boolean before) {
    boolean intersects(long start, long size) {
      if (ranges == null) return true;
      for (int i = 0; i < ranges.length; i += 2) if (start < ranges[i + 1] && ranges[i] < start + Math.max(size, 1)) return true;
      return false;
    }
  }

  public TraceReader(java.util.function.Consumer<Item> sink) {
    this.sink = sink;
  }

  public Counts counts() {
    return counts;
  }

  /** Reads every line of {@code in}, then hands on what is still held. */
  public void read(java.io.Reader in) throws IOException {
    TraceLines lines = new TraceLines(in);
    String raw;
    while ((raw = lines.next()) != null) {
      if (raw == TraceLines.TOO_LONG) {
        long no = ++counts.lines;
        release();
        dropOrphan();
        counts.unparsed(no, "(a line of more than " + (TraceLines.MAX_LINE >> 20) + " MiB)", "too long to be a trace line");
        pendingUnreadable(no);
        continue;
      }
      line(raw);
    }
    finish();
  }

  /** Terminal widths at which a line is cut inside a word (a line exactly this long may continue on the next without a space). */
  static final java.util.Set<Integer> WRAP_WIDTHS = java.util.Set.of(72, 76, 78, 79, 80, 100, 120, 128, 132, 140, 160, 200, 240, 256);

  /** One line of the trace. */
  public void line(String raw) {
    long no = ++counts.lines;
    if (no == 1 && raw.startsWith("\uFEFF")) raw = raw.substring(1); // a byte-order mark
    Ftrace.Line p = raw.indexOf(" [") < 0 ? null : Ftrace.parse(raw);
    if (p == null) {
      long[] lost = Ftrace.lost(raw);
      if (lost != null) {
        release();
        dropOrphan();
        counts.lostMarkers++;
        add(new Item(no, "trace", "lost_events", -1, (int) lost[0], new TraceEvent.EventsLost((int) lost[0], lost[1], no)));
      } else if (Ftrace.header(raw)) {
        release();
        dropOrphan();
        counts.headers++;
      } else if (held != null && heldJoins < MAX_JOINS && join(raw)) {
        heldJoins++;
        lastLength = raw.length();
      } else if (orphan != null && (p = Ftrace.parse(orphan + raw)) != null || orphan != null && (p = Ftrace.parse(orphan + " " + raw)) != null) {
        // a line cut inside its prefix: the two halves make one event line
        long first = orphanLine;
        orphan = null;
        start(p, first, raw);
        heldJoins = 1;
      } else {
        release();
        dropOrphan();
        orphan = raw;
        orphanLine = no;
      }
      return;
    }
    release();
    dropOrphan();
    if (!Ftrace.EVENTS.contains(p.event())) {
      counts.otherLines++;
      if (counts.otherEvents.size() < 1000 || counts.otherEvents.containsKey(p.event())) counts.otherEvents.merge(p.event(), 1L, Long::sum);
      return;
    }
    start(p, no, raw);
  }

  private void start(Ftrace.Line p, long no, String raw) {
    held = p;
    heldLine = no;
    heldBody = p.body();
    heldText = raw;
    heldJoins = 0;
    lastLength = raw.length();
    parseHeld(heldBody);
  }

  /** A line without a prefix that nothing completed: unreadable. */
  private void dropOrphan() {
    if (orphan == null) return;
    counts.unparsed(orphanLine, orphan, "no ftrace prefix 'TASK-PID [CPU] SECONDS: EVENT:'");
    pendingUnreadable(orphanLine);
    orphan = null;
  }

  /** Unreadable lines are handed on, counted, before the next event: its verdicts say a line that could not be read may explain them. */
  private void pendingUnreadable(long line) {
    unreadableCount++;
    unreadableLast = line;
  }

  private boolean parseHeld(String body) {
    try {
      heldEvent = Ftrace.event(new Ftrace.Line(held.task(), held.pid(), held.cpu(), held.timeNs(), held.event(), body), heldLine);
      heldError = null;
      heldBody = body;
      return true;
    } catch (Ftrace.Malformed e) {
      heldEvent = null;
      heldError = e.getMessage();
      return false;
    }
  }

  /**
   * Tries {@code raw} as the continuation of the held line. A line that was cut at a terminal's
   * width (exactly 80, 100, 120, ... characters) continues without a space, any other with one
   * (a mail client wraps at a blank). A held line that already parses takes a continuation only
   * when the joined line parses too (a value cut short, "size=409" + "6"). Returns whether
   * {@code raw} was taken as a continuation (the joined line parses, or the held line still waits
   * for its end).
   */
  private boolean join(String raw) {
    String rest = raw.strip();
    boolean cut = WRAP_WIDTHS.contains(lastLength);
    TraceEvent before = heldEvent;
    String beforeBody = heldBody;
    String beforeError = heldError;
    String sep = cut ? "" : " ";
    if (parseHeld(heldBody + sep + rest)) return true;
    if (before == null && parseHeld(heldBody + (cut ? " " : "") + rest)) return true;
    heldEvent = before;
    heldError = beforeError;
    if (before == null) { // still incomplete: keep the text, it may complete on the next line
      heldBody = beforeBody + sep + rest;
      return true;
    }
    heldBody = beforeBody;
    return false;
  }

  /** Hands on the held line: its event, or the line (with its continuations) as unparsed. */
  private void release() {
    if (held == null) return;
    if (heldEvent == null) {
      for (int i = 0; i <= heldJoins; i++) {
        counts.unparsed(heldLine + i, i == 0 ? heldText : "(continuation of line " + heldLine + ")", i == 0 ? held.event() + ": " + heldError : null);
        pendingUnreadable(heldLine + i);
      }
    } else {
      counts.wrapped += heldJoins; // the continuation lines of a wrapped event
      String actor = actorOf(heldEvent);
      add(new Item(heldLine, actor, held.event(), held.timeNs(), held.cpu(), heldEvent));
    }
    held = null;
    heldEvent = null;
  }

  private static String actorOf(TraceEvent e) {
    if (e instanceof TraceEvent.IommuMapped || e instanceof TraceEvent.IommuUnmapped) return "iommu";
    if (e instanceof TraceEvent.DmaMapped m) return "dev:" + m.dev();
    if (e instanceof TraceEvent.SgMapped m) return "dev:" + m.dev();
    if (e instanceof TraceEvent.DmaUnmapped m) return "dev:" + m.dev();
    if (e instanceof TraceEvent.SgUnmapped m) return "dev:" + m.dev();
    if (e instanceof TraceEvent.DmaSynced m) return "dev:" + m.dev();
    if (e instanceof TraceEvent.MapFailed m) return "dev:" + m.dev();
    if (e instanceof TraceEvent.IoPageFault m) return "dev:" + m.dev();
    if (e instanceof TraceEvent.DeviceChanged m) return "dev:" + m.dev();
    if (e instanceof TraceEvent.Bounced m) return "dev:" + m.dev();
    return "trace";
  }

  /** Queues an item in line order; IOMMU lines wait for the DMA API call that tells their device. */
  private void add(Item item) {
    if (unreadableCount > 0) {
      long n = unreadableCount;
      unreadableCount = 0;
      enqueue(new Item(unreadableLast, "trace", "unreadable", -1, item.cpu(), new TraceEvent.LinesUnreadable(n, unreadableLast)));
    }
    counts.events++;
    enqueue(item);
  }

  private void enqueue(Item item) {
    TraceEvent e = item.event();
    if (e instanceof TraceEvent.IommuMapped || e instanceof TraceEvent.IommuUnmapped) {
      // the DMA API calls that trace before they act (dma_free*, dma_unmap_sg) own an unmap that follows them on their CPU;
      // every other call traces after it acted, so a map or unmap belongs to the next call on the CPU that covers it
      Call last = lastCall.get(item.cpu());
      if (e instanceof TraceEvent.IommuUnmapped u && last != null && last.before() && last.intersects(u.iova(), u.size())) {
        queue.addLast(new Pending(attribute(item, last.dev()), true));
        if (last.ranges() == null) lastCall.remove(item.cpu()); // dma_unmap_sg's addresses are unknown: it owns the one unmap after it
      } else {
        Pending p = new Pending(item, false);
        queue.addLast(p);
        unresolved.computeIfAbsent(item.cpu(), k -> new ArrayList<>()).add(p);
      }
    } else {
      Call call = callOf(e);
      if (call != null) {
        // the waiting lines this call covers are its own; the others wait on for theirs (an interrupt's call may come between
        // a task's IOMMU line and its DMA API call), at most ATTRIBUTION_WINDOW lines
        List<Pending> waiting = unresolved.get(item.cpu());
        if (waiting != null && !call.before()) {
          for (java.util.Iterator<Pending> it = waiting.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            TraceEvent w = p.item.event();
            long start = w instanceof TraceEvent.IommuMapped m ? m.iova() : ((TraceEvent.IommuUnmapped) w).iova();
            long size = w instanceof TraceEvent.IommuMapped m ? m.size() : ((TraceEvent.IommuUnmapped) w).size();
            if (!call.intersects(start, size)) continue;
            p.item = attribute(p.item, call.dev());
            p.resolved = true;
            it.remove();
          }
          if (waiting.isEmpty()) unresolved.remove(item.cpu());
        }
        lastCall.put(item.cpu(), call);
      }
      queue.addLast(new Pending(item, true));
    }
    drain(false);
  }

  private Item attribute(Item item, String domain) {
    if (domain.equals("?")) counts.unattributed++;
    else counts.attributed++;
    TraceEvent e = item.event();
    TraceEvent a = e instanceof TraceEvent.IommuMapped m ? new TraceEvent.IommuMapped(domain, m.iova(), m.paddr(), m.size(), m.line())
        : new TraceEvent.IommuUnmapped(domain, ((TraceEvent.IommuUnmapped) e).iova(), ((TraceEvent.IommuUnmapped) e).size(),
            ((TraceEvent.IommuUnmapped) e).unmapped(), e.line());
    return new Item(item.line(), item.actor(), item.type(), item.timeNs(), item.cpu(), a);
  }

  private static Call callOf(TraceEvent e) {
    if (e instanceof TraceEvent.DmaMapped m) return new Call(m.dev(), new long[] {m.dmaAddr(), m.dmaAddr() + Math.max(m.size(), 1)}, false);
    if (e instanceof TraceEvent.DmaUnmapped m) {
      return new Call(m.dev(), new long[] {m.dmaAddr(), m.dmaAddr() + Math.max(m.size(), 1)}, m.api().startsWith("free"));
    }
    if (e instanceof TraceEvent.SgUnmapped m) return new Call(m.dev(), null, true);
    if (e instanceof TraceEvent.SgMapped m) {
      long[] r = new long[m.dmaAddrs().size() * 2];
      for (int i = 0; i < m.dmaAddrs().size(); i++) {
        r[2 * i] = m.dmaAddrs().get(i);
        r[2 * i + 1] = m.dmaAddrs().get(i) + Math.max(i < m.sizes().size() ? m.sizes().get(i) : 1, 1);
      }
      return new Call(m.dev(), r, false);
    }
    return null;
  }

  /** Hands on the queue's resolved head; {@code all}: the rest too, unattributed lines to "?". */
  private void drain(boolean all) {
    while (!queue.isEmpty()) {
      Pending head = queue.peekFirst();
      if (!head.resolved) {
        if (!all && queue.size() <= ATTRIBUTION_WINDOW) return;
        head.item = attribute(head.item, "?");
        head.resolved = true;
        List<Pending> w = unresolved.get(head.item.cpu());
        if (w != null) w.remove(head);
      }
      queue.removeFirst();
      sink.accept(head.item);
    }
  }

  /** The end of the trace: what is held and queued is handed on. */
  public void finish() {
    release();
    dropOrphan();
    unresolved.clear();
    drain(true);
  }
}
