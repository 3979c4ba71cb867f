package dmasim.bench;

import dmasim.actors.iommu.IommuLogic;
import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.iommu.IommuState;
import dmasim.actors.model.Decision;
import dmasim.actors.monitor.MonitorSuite;
import dmasim.actors.monitor.Monitors;
import dmasim.protocol.CpuCommand;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuReply;
import dmasim.protocol.MemoryEvent;
import dmasim.protocol.Message;
import dmasim.protocol.Phys;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Drives the IOMMU's logic and the standard monitor suite without actors, one step at a time: what
 * a controlled-wire step costs the model and the monitors, without the wire. First {@code livePages}
 * pages are mapped and left mapped (four-page dma_iova_state requests from cpu0, as
 * MillionPagesTest does); then each of {@code queues} CPU queues runs NVMe-like requests round
 * robin, one step each in turn, so that one request of every queue is in flight at once: the
 * buffer's pages are allocated (a memory step), try_alloc, four links, a sync, four device accesses
 * through the IOMMU (translations), destroy (lazy: its IOVA goes to the queue's flush queue), the
 * pages freed. The IOMMU's own envelopes (invalidation completions, flush-queue timers) are
 * delivered when due, each a step. Virtual time advances 50 ns a step. Deterministic.
 */
public final class StepCostDriver {
  private static final DeviceId DEV = new DeviceId(0);
  private static final int SEGMENTS = 4;
  private static final long SIZE = SEGMENTS * 4096L;
  private static final long FIRST_PFN = 0x100000L;

  private record Due(long at, long seq, Message message) {}

  private final IommuState state;
  private final MonitorSuite suite;
  private final PriorityQueue<Due> self = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
  private final Queue[] queues;
  private long seq;
  private long steps;
  private long now;
  private int next;

  /** One CPU queue's request in progress: which op is next, the IOVA try_alloc returned, whether it waits for a reply. */
  private final class Queue {
    final String cpu;
    final String buffer;
    final String stateName = "s";
    final List<Long> pfns = new ArrayList<>();
    int op;
    long addr;
    long tags;
    boolean waiting;

    Queue(int i) {
      cpu = "cpu" + i;
      buffer = cpu + "/buf";
      for (int s = 0; s < SEGMENTS; s++) pfns.add(FIRST_PFN + 0x4000_0000L + (long) i * SEGMENTS + s);
    }

    /** Runs this queue's next op: one step. */
    void step() {
      switch (op) {
        case 0 -> memory(new MemoryEvent.PagesAllocated(buffer, pfns));
        case 1 -> addr = returned(deliver(cpu, new IommuCommand.TryAlloc(DEV, stateName, new Phys(pfns.get(0) << 12), SIZE)));
        case 2, 3, 4, 5 -> {
          int s = op - 2;
          deliver(cpu, new IommuCommand.Link(DEV, stateName, new Iova(addr), SIZE, s * 4096L, new Phys(pfns.get(s) << 12), 4096,
              Direction.BIDIRECTIONAL, DmaAttrs.NONE));
        }
        case 6 -> deliver(cpu, new IommuCommand.Sync(DEV, stateName, new Iova(addr), 0, SIZE));
        case 7, 8, 9, 10 -> deliver("dev0", new IommuCommand.Translate(DEV, ((long) next << 32) | ++tags, new Iova(addr + (op - 7) * 4096L),
            (op & 1) == 0, false, false));
        case 11 -> {
          waiting = true;
          deliver(cpu, new IommuCommand.Destroy(DEV, stateName, new Iova(addr), SIZE, SIZE, Direction.BIDIRECTIONAL, DmaAttrs.NONE));
        }
        default -> memory(new MemoryEvent.PagesFreed(buffer, pfns));
      }
      op = op == 12 ? 0 : op + 1;
    }

    void memory(Event e) {
      observe("mem", List.of(e));
    }
  }

  /** {@code mode}: the IOMMU's invalidation mode (lazy: per-CPU flush queues, one per queue). */
  public StepCostDriver(int queues, int livePages, IommuSettings.Mode mode) {
    IommuSettings settings = IommuSettings.defaults(mode, Math.max(1, queues), Map.of(DEV, new IommuSettings.DeviceSpec(64, false)));
    state = new IommuState(settings);
    suite = Monitors.standard(settings);
    for (int r = 0; r < livePages / SEGMENTS; r++) preload(r);
    this.queues = new Queue[queues];
    for (int i = 0; i < queues; i++) this.queues[i] = new Queue(i);
  }

  /** Maps request {@code r}'s four pages through cpu0 and leaves them mapped. */
  private void preload(int r) {
    String st = "live" + r;
    List<Long> pfns = new ArrayList<>();
    for (int s = 0; s < SEGMENTS; s++) pfns.add(FIRST_PFN + (long) r * SEGMENTS + s);
    observe("mem", List.of(new MemoryEvent.PagesAllocated("cpu0/" + st + "buf", pfns)));
    long addr = returned(deliver("cpu0", new IommuCommand.TryAlloc(DEV, st, new Phys(pfns.get(0) << 12), SIZE)));
    for (int s = 0; s < SEGMENTS; s++) {
      deliver("cpu0", new IommuCommand.Link(DEV, st, new Iova(addr), SIZE, s * 4096L, new Phys(pfns.get(s) << 12), 4096, Direction.BIDIRECTIONAL,
          DmaAttrs.NONE));
    }
    deliver("cpu0", new IommuCommand.Sync(DEV, st, new Iova(addr), 0, SIZE));
    deliverDue();
  }

  /** Runs at least {@code n} steps (whole turns of the queues); returns how many ran. */
  public long run(int n) {
    long start = steps;
    while (steps - start < n) {
      Queue q = queues[next];
      if (!q.waiting) q.step();
      next = (next + 1) % queues.length;
      deliverDue();
      if (next == 0 && allWaiting()) deliverOne(); // every queue waits for the IOMMU: let virtual time jump to its next envelope
    }
    return steps - start;
  }

  private boolean allWaiting() {
    for (Queue q : queues) if (!q.waiting) return false;
    return true;
  }

  /** Steps run so far (the preload's included). */
  public long steps() {
    return steps;
  }

  public MonitorSuite suite() {
    return suite;
  }

  public IommuState state() {
    return state;
  }

  private void deliverDue() {
    while (!self.isEmpty() && self.peek().at <= now) deliverOne();
  }

  private void deliverOne() {
    Due d = self.poll();
    if (d == null) throw new IllegalStateException("every queue waits and nothing is due");
    now = Math.max(now, d.at);
    deliver("iommu0", d.message);
  }

  private Decision deliver(String from, Message m) {
    Envelope env = new Envelope(new EnvelopeId(from, ++seq), "iommu0", m, now, now, null, now, steps + 1);
    Decision d = IommuLogic.decide(state, env);
    for (Event e : d.events()) state.apply(e);
    observe(env, d.events());
    for (Decision.Send s : d.sends()) {
      if (s.to().equals("iommu0")) self.add(new Due(now + s.delay(), ++seq, s.message()));
      else if (s.message() instanceof IommuReply.Returned r && r.call().equals("destroy")) {
        for (Queue q : queues == null ? new Queue[0] : queues) if (q.cpu.equals(s.to())) q.waiting = false;
      }
    }
    return d;
  }

  private void observe(String actor, List<Event> events) {
    observe(new Envelope(new EnvelopeId(actor, ++seq), actor, new CpuCommand.Start(), now, now, null, now, steps + 1), events);
  }

  private void observe(Envelope env, List<Event> events) {
    steps++;
    now += 50;
    suite.observe(steps, env, events);
    if (!suite.violations().isEmpty()) throw new IllegalStateException("the benchmark broke a rule: " + suite.violations().get(0));
  }

  private static long returned(Decision d) {
    for (Decision.Send s : d.sends()) if (s.message() instanceof IommuReply.Returned r) return r.value();
    throw new IllegalStateException("no reply");
  }
}
