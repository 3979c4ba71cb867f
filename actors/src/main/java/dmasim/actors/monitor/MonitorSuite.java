package dmasim.actors.monitor;

import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Runs the monitors over the events of a run, step by step, and remembers enough of the envelopes
 * (each one's cause) to give every violation the causal chain that led to it. Single-threaded:
 * fed by the scheduler, or by a journal reader.
 */
public final class MonitorSuite {
  /** How many envelopes of the causal chain a violation shows. */
  static final int CHAIN_LENGTH = 12;
  /** Envelopes remembered for causal chains; older ones are forgotten (a chain then starts later). */
  static final int REMEMBERED_ENVELOPES = 65_536;
  /** Driver objects whose latest steps a violation's explanation can follow back. */
  static final int REMEMBERED_OBJECTS = 1 << 17;
  /** How many steps a violation's explanation lists (the latest ones touching its objects). */
  static final int CAUSES = 20;
  /** Steps remembered per driver object. */
  static final int HISTORY = 32;
  /** How many of the latest injected faults a violation lists. */
  static final int FAULTS_SHOWN = 5;
  /** At most this many violations are kept (a journal checked offline can break an invariant at every step); the rest are counted. */
  static final int MAX_KEPT = 1000;

  /**
   * One delivered envelope: its cause, step, time, receiver and type; {@code where} is the file line
   * of the instruction that sent it when a CPU queue did; {@code pcs} what a CPU queue's step sent
   * from where (null for other actors).
   */
  private record Node(EnvelopeId cause, long step, long time, String receiver, String type, String where, Pcs pcs, String fault) {}

  /** The instructions a CPU queue's step sent envelopes from: its call, and each descriptor it submitted (by tag). */
  private record Pcs(int call, Map<Long, Integer> submits) {
    int of(dmasim.protocol.Message m) {
      if (m instanceof dmasim.protocol.DeviceCommand.Submit s) return submits.getOrDefault(s.tag(), -1);
      return call;
    }
  }

  /** Maps a CPU queue's instruction to the scenario-file line it was compiled from ("drv.conf:14 programs.all[4]"), or null. */
  public interface Locator {
    String locate(String cpu, int pc);
  }

  private final List<Monitor> monitors;
  private final Shadow shadow;
  private final RunStats stats;
  private final Map<EnvelopeId, Node> seen = new java.util.LinkedHashMap<>(1024, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<EnvelopeId, Node> eldest) {
      return size() > REMEMBERED_ENVELOPES;
    }
  };
  private final List<Violation> violations = new ArrayList<>();
  /** The step being judged: its envelope, receiver and sender (null between steps). */
  private Current current;

  private record Current(EnvelopeId id, String receiver, String sender) {}
  private Event currentEvent;
  /** For each driver object ("cpu0/s"), the envelopes of the latest steps whose events touched it. */
  private final Map<String, java.util.ArrayDeque<EnvelopeId>> touched = new java.util.LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, java.util.ArrayDeque<EnvelopeId>> eldest) {
      return size() > REMEMBERED_OBJECTS; // the objects touched longest ago are forgotten first: memory stays bounded on long runs and traces
    }
  };
  private long dropped;
  /** The envelope each remembered step delivered, for steps a violation cites. */
  private final Map<Long, EnvelopeId> stepIds = new java.util.LinkedHashMap<>(1024, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, EnvelopeId> eldest) {
      return size() > REMEMBERED_ENVELOPES;
    }
  };
  /** The latest injected faults ("step 35 dev0: the device resets as ..."), at most {@link #FAULTS_SHOWN}. */
  private final java.util.ArrayDeque<String> recentFaults = new java.util.ArrayDeque<>();
  /** Injected faults before the last {@link #FAULTS_SHOWN}, counted. */
  private long olderFaults;
  private Locator locator = (cpu, pc) -> null;
  /** Whether violations are explained (causal chain, file line, causes, faults); false: the verdict alone (exploration). */
  private boolean explain = true;

  /**
   * {@code false}: judge only, without the per-step bookkeeping that explains a violation (its causal
   * chain, the file line, the steps that touched its objects, the injected faults): the violations
   * are the same, with those parts empty. Exploration judges its schedules this way (it reports a
   * schedule's first violation by monitor, invariant and message, and re-executes the schedules it
   * keeps with explanations).
   */
  public void explain(boolean on) {
    this.explain = on;
  }

  /** Lets violations name the scenario-file lines of the CPU-queue steps involved. */
  public void locateWith(Locator l) {
    this.locator = l;
  }

  public MonitorSuite(List<Monitor> monitors, RunStats stats) {
    this(new Shadow(), monitors, stats);
  }

  /** A suite whose monitors read {@code shadow}, which the suite updates after each event. */
  public MonitorSuite(Shadow shadow, List<Monitor> monitors, RunStats stats) {
    this.shadow = shadow;
    this.monitors = List.copyOf(monitors);
    this.stats = stats;
    for (Monitor m : monitors) if (m instanceof AbstractMonitor a) a.attach(this::report);
  }

  public List<Violation> violations() {
    return Collections.unmodifiableList(violations);
  }

  /** Violations beyond {@link #MAX_KEPT}, counted but not kept. */
  public long droppedViolations() {
    return dropped;
  }

  /** The monitors, in the order they run. */
  public List<Monitor> monitors() {
    return monitors;
  }

  /** The page-table shadow the monitors share. */
  public Shadow shadow() {
    return shadow;
  }

  public RunStats stats() {
    return stats;
  }

  public List<String> monitorNames() {
    return monitors.stream().map(Monitor::name).toList();
  }

  /** Feeds one step; returns true when it produced a violation. */
  public boolean observe(long step, Envelope envelope, List<? extends Event> events) {
    if (!explain) return judge(step, envelope.id(), envelope.receiver(), envelope.deliveredAt(), events);
    return observe(step, envelope.id(), envelope.receiver(), envelope.cause(), envelope.deliveredAt(), envelope.message().getClass().getSimpleName(),
        sentFrom(envelope), events);
  }

  /** {@link #observe} without explanations: the monitors, the statistics and the shadow see the step; nothing is remembered for later. */
  private boolean judge(long step, EnvelopeId id, String receiver, long deliveredAt, List<? extends Event> events) {
    current = new Current(id, receiver, id.sender());
    long before = violations.size() + dropped;
    StepInfo at = new StepInfo(step, deliveredAt, receiver, id);
    for (Event e : events) feed(at, e);
    return violations.size() + dropped > before;
  }

  /** One event to the monitors, the statistics and the shadow, in that order. */
  private void feed(StepInfo at, Event e) {
    currentEvent = e;
    for (Monitor m : monitors) m.onEvent(at, e);
    stats.onEvent(at, e);
    shadow.apply(e);
  }

  /**
   * Feeds one step as a journal recorded it (its envelope's id, receiver, cause, delivery time and
   * message type, the events): re-judging a stored run without re-executing it. Returns true when
   * it produced a violation.
   */
  public boolean observeRecorded(long step, EnvelopeId id, String receiver, EnvelopeId cause, long deliveredAt, String type,
      List<? extends Event> events) {
    return observe(step, id, receiver, cause, deliveredAt, type, null, events);
  }

  private boolean observe(long step, EnvelopeId id, String receiver, EnvelopeId cause, long deliveredAt, String type, String sentFrom,
      List<? extends Event> events) {
    current = new Current(id, receiver, id.sender());
    stepIds.put(step, id);
    seen.put(id, new Node(cause, step, deliveredAt, receiver, type, sentFrom, pcs(receiver, events), injected(events)));
    long before = violations.size() + dropped;
    StepInfo at = new StepInfo(step, deliveredAt, receiver, id);
    for (Event e : events) {
      String object = objectOf(receiver, e);
      if (object != null) {
        java.util.ArrayDeque<EnvelopeId> h = touched.computeIfAbsent(object, k -> new java.util.ArrayDeque<>());
        if (!id.equals(h.peekLast())) h.addLast(id);
        if (h.size() > HISTORY) h.removeFirst();
      }
      String fault = describeFault(e);
      if (fault != null) {
        recentFaults.addLast("step " + step + " " + receiver + ": " + fault);
        if (recentFaults.size() > FAULTS_SHOWN) {
          recentFaults.removeFirst();
          olderFaults++;
        }
      }
      feed(at, e);
    }
    return violations.size() + dropped > before;
  }

  /** The driver object an event is about ("cpuN/name"), or null. */
  private static String objectOf(String actor, Event e) {
    if (e instanceof dmasim.protocol.Owned o) return o.owner();
    if (e instanceof dmasim.protocol.CpuEvent.CallIssued c) {
      return c.call().equals("await") || c.call().equals("sleep") ? null : actor + "/" + c.object();
    }
    if (e instanceof dmasim.protocol.CpuEvent.DescriptorSubmitted s) return actor + "/" + s.source().substring(s.source().indexOf(':') + 1);
    if (e instanceof dmasim.protocol.CpuEvent.MappingChecked m) return actor + "/" + m.handle();
    if (e instanceof dmasim.protocol.CpuEvent.StateReset r) return actor + "/" + r.state();
    if (e instanceof dmasim.protocol.CpuEvent.BufferTouched t) return actor + "/" + t.buffer();
    return null;
  }

  /** Whether history key {@code key} belongs to object {@code object}: the same, or a member of a handle group ("cpu0/h" and "cpu0/h.1"). */
  private static boolean sameObject(String key, String object) {
    return key.equals(object) || key.startsWith(object + ".") || object.startsWith(key + ".");
  }

  /**
   * The steps that touched {@code about}, oldest first, the latest {@link #CAUSES}, ending with the
   * current step; the steps {@code cited} by the message are kept however old.
   */
  private List<String> causes(List<String> about, long[] cited) {
    if (about.isEmpty()) return List.of();
    java.util.TreeMap<Long, String> lines = new java.util.TreeMap<>();
    for (Map.Entry<String, java.util.ArrayDeque<EnvelopeId>> e : touched.entrySet()) {
      if (about.stream().noneMatch(o -> sameObject(e.getKey(), o))) continue;
      for (EnvelopeId id : e.getValue()) {
        Node n = seen.get(id);
        if (n != null) lines.put(n.step(), line(id, n));
      }
    }
    if (current != null) {
      Node n = seen.get(current.id());
      if (n != null) lines.put(n.step(), line(current.id(), n));
    }
    for (long step : cited) {
      EnvelopeId id = stepIds.get(step);
      Node n = id == null ? null : seen.get(id);
      if (n != null && !lines.containsKey(step)) lines.put(step, line(id, n));
    }
    List<String> out = new ArrayList<>(lines.values());
    if (out.size() <= CAUSES) return out;
    List<Long> steps = new ArrayList<>(lines.keySet());
    long firstLatest = steps.get(steps.size() - CAUSES);
    java.util.Set<Long> citedSet = new java.util.HashSet<>();
    for (long c : cited) citedSet.add(c);
    List<String> kept = new ArrayList<>();
    int omitted = 0;
    for (long step : steps) {
      if (step >= firstLatest) break;
      if (citedSet.contains(step)) {
        if (omitted > 0) kept.add("(" + omitted + " earlier step(s) omitted)");
        omitted = 0;
        kept.add(lines.get(step));
      } else {
        omitted++;
      }
    }
    if (omitted > 0) kept.add("(" + omitted + " earlier step(s) omitted)");
    kept.addAll(out.subList(out.size() - CAUSES, out.size()));
    return kept;
  }

  private static String line(EnvelopeId id, Node n) {
    return "step " + n.step() + " @" + n.time() + "ns " + id + " -> " + n.receiver() + " " + n.type() + (n.where() == null ? "" : " (" + n.where() + ")")
        + (n.fault() == null ? "" : " -- " + n.fault());
  }

  /** "FAULT INJECTED: ..." for a step in which the fault plan failed a call or faulted an envelope the step sent, else null. */
  private static String injected(List<? extends Event> events) {
    List<String> out = null;
    for (Event e : events) {
      String fault = describeFault(e);
      if (fault == null) continue;
      if (out == null) out = new ArrayList<>();
      out.add(fault);
    }
    return out == null ? null : "FAULT INJECTED: " + String.join("; ", out);
  }

  /** One injected fault in words, or null when {@code e} is not one (also what the reports of a kept run mark as a fault). */
  public static String describeFault(Event e) {
    if (e instanceof dmasim.protocol.IommuEvent.FaultDecided f && f.injected()) {
      return f.caller() + "'s " + ordinal(f.call()) + " " + f.op() + " fails with " + dmasim.protocol.Errno.name(f.errno()) + " (rule: " + f.rule() + ")";
    }
    if (e instanceof dmasim.protocol.MemoryEvent.AllocFaultDecided a && a.injected()) {
      return a.caller() + "'s " + ordinal(a.call()) + " page allocation fails (rule: " + a.rule() + ")";
    }
    if (e instanceof dmasim.protocol.DeviceEvent.FaultDecided d && d.injected()) {
      return (d.fault().equals("reset") ? "the device resets" : "the device is removed") + " as " + d.from() + "'s " + ordinal(d.match()) + " "
          + d.type() + " arrives (rule: " + d.describe() + ")";
    }
    if (e instanceof dmasim.protocol.MmEvent.ReclaimDecided r && r.injected()) {
      return "direct reclaim runs in " + r.from() + " as its " + ordinal(r.match()) + " " + r.type() + " arrives (rule: " + r.describe() + ")";
    }
    if (e instanceof dmasim.protocol.WireEvent.MessageFaulted m) {
      return m.sender() + "'s " + ordinal(m.match()) + " " + m.type() + " to " + m.to() + " " + m.action()
          + (m.delay() > 0 ? " by " + m.delay() + "ns" : "") + " (rule: " + m.rule() + ")";
    }
    return null;
  }

  private static String ordinal(long n) {
    return n + dmasim.protocol.Trigger.ordinal(n);
  }

  /** The file line of the instruction that sent {@code e}, when a CPU queue sent it. */
  private String sentFrom(Envelope e) {
    if (e.cause() == null || !e.sender().startsWith("cpu")) return null;
    Node cause = seen.get(e.cause());
    int pc = cause == null || cause.pcs() == null ? -1 : cause.pcs().of(e.message());
    return pc < 0 ? null : locator.locate(e.sender(), pc);
  }

  private static Pcs pcs(String actor, List<? extends Event> events) {
    if (!actor.startsWith("cpu")) return null;
    int call = -1;
    Map<Long, Integer> submits = Map.of();
    for (Event e : events) {
      if (e instanceof dmasim.protocol.CpuEvent.CallIssued c) call = c.pc();
      else if (e instanceof dmasim.protocol.CpuEvent.DescriptorSubmitted s) {
        if (submits.isEmpty()) submits = new java.util.HashMap<>();
        submits.put(s.tag(), s.pc());
      }
    }
    return new Pcs(call, submits);
  }

  /** The instruction a CPU queue's event stands for, or -1 (not a CPU event, or one without a pc). */
  private static int pcOf(Event e) {
    if (e instanceof dmasim.protocol.CpuEvent.CallIssued c) return c.pc();
    if (e instanceof dmasim.protocol.CpuEvent.DescriptorSubmitted s) return s.pc();
    if (e instanceof dmasim.protocol.CpuEvent.BufferTouched t) return t.nextPc() - 1;
    if (e instanceof dmasim.protocol.CpuEvent.MappingChecked m) return m.nextPc() - 1;
    if (e instanceof dmasim.protocol.CpuEvent.DriverUnbound u) return u.nextPc() - 1;
    if (e instanceof dmasim.protocol.CpuEvent.StateReset r) return r.nextPc() - 1;
    if (e instanceof dmasim.protocol.CpuEvent.NullBufferUsed n) return n.pc();
    return -1;
  }

  /** The last instruction a CPU queue's events of one step name (the call it issued, the descriptor it submitted, ...), or -1. */
  public static int lastPc(List<? extends Event> events) {
    int pc = -1;
    for (Event e : events) {
      int p = pcOf(e);
      if (p >= 0) pc = p;
    }
    return pc;
  }

  /** The run ended (nothing left in flight, or stopped): judge the hot monitors. */
  public void end(long step, long time) {
    current = null;
    currentEvent = null;
    StepInfo at = new StepInfo(step, time, "run-end", null);
    // A monitor that knows why a wait never ends (a leaked mkey reference) speaks before Termination; then the rest in their order
    for (Monitor m : monitors) if (m.explainsHangs()) m.onRunEnd(at);
    for (Monitor m : monitors) if (!m.explainsHangs()) m.onRunEnd(at);
  }

  private void report(String monitor, String invariant, StepInfo at, String message, List<String> extra, long[] cited) {
    if (violations.size() >= MAX_KEPT) {
      dropped++;
      return;
    }
    List<String> chain = new ArrayList<>();
    List<String> actors = new ArrayList<>();
    // Where in the file: the instruction of the violating CPU event itself, else the latest instruction
    // on the causal chain that sent an envelope.
    int ownPc = currentEvent == null || current == null || !current.receiver().startsWith("cpu") ? -1 : pcOf(currentEvent);
    String where = ownPc < 0 ? null : locator.locate(current.receiver(), ownPc);
    if (current != null) {
      actors.add(current.receiver());
      if (!actors.contains(current.sender())) actors.add(current.sender());
      EnvelopeId id = current.id();
      while (id != null && chain.size() < CHAIN_LENGTH) {
        Node n = seen.get(id);
        if (n == null) break;
        chain.add(0, line(id, n));
        if (where == null) where = n.where();
        id = n.cause();
      }
    }
    java.util.LinkedHashSet<String> objects = new java.util.LinkedHashSet<>();
    String own = current == null || currentEvent == null ? null : objectOf(current.receiver(), currentEvent);
    if (own != null) objects.add(own);
    for (String o : extra) if (o != null) objects.add(o);
    List<String> about = new ArrayList<>(objects);
    List<String> faults = new ArrayList<>();
    if (olderFaults > 0) faults.add("(" + olderFaults + " earlier fault(s) omitted)");
    faults.addAll(recentFaults);
    violations.add(new Violation(monitor, invariant, at.step(), at.time(), actors, chain, message, where, about, causes(about, cited), faults));
  }
}
