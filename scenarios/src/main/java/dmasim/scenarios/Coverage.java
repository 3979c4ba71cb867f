package dmasim.scenarios;

import dmasim.chaos.StepObserver;
import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What an exploration reached: (actor, message type) pairs delivered, and pairs of conflicting
 * envelopes (two senders' messages to one receiver, delivered back to back) seen in one order or
 * both. One {@link Schedule} per run feeds the shared totals; unions are order-independent, so the
 * totals do not depend on how schedules were spread over workers.
 */
public final class Coverage {
  private final Set<String> handled = new TreeSet<>();
  private final Set<String> orders = new HashSet<>();
  /** Consecutive steps of a mirror's fault path ("read_begin -> walk start") seen, and those an invalidation started between. */
  private final Set<String> faultTransitions = new TreeSet<>();
  private final Set<String> invalidatedTransitions = new TreeSet<>();

  /**
   * The window of a shared pfn list entry between the walker's load and its store; [x]: the DMA
   * helpers changed the entry inside (hmm_dma_unmap_pfn cleared it, or hmm_dma_map_pfn set
   * DMA_MAPPED), a change the store then loses (docs/findings.md).
   */
  public static final String SHARED_PFN_WINDOW = "pfn_list entry: walker load -> walker store (the DMA helpers changed it inside)";

  /** An actor name without its trailing number ("cpu12" -> "cpu"), without a regex per step. */
  static String kind(String actor) {
    int end = actor.length();
    while (end > 0 && Character.isDigit(actor.charAt(end - 1))) end--;
    return end == actor.length() ? actor : actor.substring(0, end);
  }

  /** The per-schedule collector. */
  public final class Schedule implements StepObserver {
    private final Set<String> seen = new HashSet<>();
    private final Set<String> ordered = new HashSet<>();
    private final Map<String, String> last = new HashMap<>();
    private final Set<String> transitions = new HashSet<>();
    private final Set<String> invalidated = new HashSet<>();
    /** Per driver queue in a fault: its last fault-path step, and whether an invalidation started since. */
    private final Map<String, String> faultStep = new HashMap<>();
    private final Set<String> invalidatedSince = new HashSet<>();
    /** Per "mirror/index" of a shared pfn list: the walker loaded the entry and has not stored it yet; true once an unmap cleared it meanwhile. */
    private final Map<String, Boolean> loads = new HashMap<>();

    /**
     * the sticky DMA_MAPPED question (docs/findings.md): hmm_range_fault loads a shared pfn_list entry and stores it back later, without the
     * driver's lock; an hmm_dma_unmap_pfn clear or an hmm_dma_map_pfn set of the entry in between is
     * lost. The window is seen at each store, and hit when such a change came inside it.
     */
    private void word(dmasim.protocol.MirrorEvent.WordWritten w) {
      String key = w.mirror() + "/" + w.index();
      if (w.by().equals("unmap") || w.by().equals("map")) {
        if (loads.containsKey(key)) loads.put(key, true);
      } else if (w.by().equals("walker") && loads.containsKey(key)) {
        transitions.add(SHARED_PFN_WINDOW);
        if (loads.remove(key)) invalidated.add(SHARED_PFN_WINDOW);
      }
    }

    /** Per queue in an RDMA ODP fault: "explicit: " or "implicit: ", the prefix of its windows. */
    private final Map<String, String> odpFault = new HashMap<>();
    /** Which queue each walk belongs to. */
    private final Map<Long, String> walks = new HashMap<>();
    /** The step of each queue's last fault-path step. */
    private final Map<String, Long> faultAt = new HashMap<>();
    private long now;

    @Override
    public boolean onStep(long step, Envelope env, List<? extends Event> events) {
      now = step;
      for (Event e : events) if (e instanceof dmasim.protocol.MmEvent || e instanceof dmasim.protocol.MirrorEvent.DevicePteWritten
          || e instanceof dmasim.protocol.MemoryEvent.LockAcquired) fault(e);
      else if (e instanceof dmasim.protocol.HcaEvent || e instanceof dmasim.protocol.MirrorEvent.FaultResolved
          || e instanceof dmasim.protocol.MemoryEvent.LockReleased) odp(e, env.sender());
      else if (e instanceof dmasim.protocol.MirrorEvent.WordWritten w) word(w);
      if (env.message() instanceof dmasim.protocol.MirrorCommand.ReadWord r) loads.put(env.receiver().substring(4) + "/" + r.index(), false);
      String what = kind(env.sender()) + "/" + env.message().getClass().getSimpleName();
      seen.add(env.receiver() + ":" + env.message().getClass().getSimpleName());
      String previous = last.put(env.receiver(), env.sender() + " " + what);
      if (previous != null && !previous.startsWith(env.sender() + " ")) {
        ordered.add(kind(env.receiver()) + "|" + previous.substring(previous.indexOf(' ') + 1) + "|" + what);
      }
      return false;
    }

    /**
     * The fault path of a mirroring driver, step by step: read_begin, the walk's start, each page it
     * walks, its end, the lock, read_retry, the device PTE write. An invalidation that starts between
     * two of them is counted against that window.
     */
    private void fault(Event e) {
      if (e instanceof dmasim.protocol.MmEvent.InvalidationStarted s && !s.subs().isEmpty()) {
        invalidatedSince.addAll(faultStep.keySet());
      } else if (e instanceof dmasim.protocol.MmEvent.ReadBegun r) {
        if (!odpFault.containsKey(r.cpu())) faultStep.remove(r.cpu());
        move(r.cpu(), "read_begin");
      } else if (e instanceof dmasim.protocol.MmEvent.WalkStarted w) {
        walks.put(w.walk(), w.cpu());
        move(w.cpu(), "walk start");
      } else if (e instanceof dmasim.protocol.MmEvent.WalkStep w && walks.containsKey(w.walk())) {
        move(walks.get(w.walk()), "walk page " + w.index() + (w.action().equals("fault") ? " (faulted in)" : w.action().equals("migration-wait")
            ? " (migration entry)" : ""));
      } else if (e instanceof dmasim.protocol.MmEvent.WalkEnded w && walks.containsKey(w.walk())) {
        move(walks.remove(w.walk()), w.errno() == 0 ? "walk end" : "walk " + dmasim.protocol.Errno.name(w.errno()));
      } else if (e instanceof dmasim.protocol.MemoryEvent.LockAcquired l && faultStep.containsKey(l.holder())) {
        move(l.holder(), "lock");
      } else if (e instanceof dmasim.protocol.MmEvent.ReadRetried r) {
        move(r.cpu(), r.retry() ? "read_retry (retry)" : "read_retry");
      } else if (e instanceof dmasim.protocol.MirrorEvent.DevicePteWritten w && odpFault.containsKey(w.cpu())) {
        move(w.cpu(), "UMR (MTT)");
      } else if (e instanceof dmasim.protocol.MirrorEvent.DevicePteWritten w && faultStep.containsKey(w.cpu())) {
        move(w.cpu(), "device PTE write");
        faultStep.remove(w.cpu()); // one PTE write ends the attempt's window
        invalidatedSince.remove(w.cpu());
      }
    }

    /**
     * An RDMA ODP device fault (mlx5 pagefault_mr), from the mkey lookup to PAGE_FAULT_RESUME: the
     * lookup, an implicit MR's child lookup or creation, the mirror's steps of
     * ib_umem_odp_map_dma_and_lock, the UMR of the MTT, the unlock, a parent's KSM UMR, the mkey
     * deref and the resume. Windows are named "explicit: ..." or "implicit: ..." by the MR faulted on.
     */
    private void odp(Event e, String sender) {
      if (e instanceof dmasim.protocol.HcaEvent.RefTaken t && (t.how().equals("lookup") || t.how().equals("implicit lookup"))) {
        faultStep.remove(t.cpu());
        invalidatedSince.remove(t.cpu());
        odpFault.put(t.cpu(), t.how().equals("lookup") ? "explicit: " : "implicit: ");
        move(t.cpu(), "mkey lookup");
      } else if (e instanceof dmasim.protocol.HcaEvent.RefTaken t && odpFault.containsKey(t.cpu()) && (t.how().equals("child") || t.how().equals("adopt"))) {
        move(t.cpu(), t.how().equals("child") ? "child lookup" : "child create (lost)");
      } else if (e instanceof dmasim.protocol.HcaEvent.ChildCreated c && c.won() && odpFault.containsKey(c.cpu())) {
        move(c.cpu(), "child create");
      } else if (e instanceof dmasim.protocol.HcaEvent.UmrPosted u && odpFault.containsKey(u.cpu())) {
        move(u.cpu(), "UMR (KSM)");
      } else if (e instanceof dmasim.protocol.HcaEvent.RefDropped r && odpFault.containsKey(r.cpu())) {
        move(r.cpu(), "mkey deref");
      } else if (e instanceof dmasim.protocol.MemoryEvent.LockReleased l && odpFault.containsKey(l.holder())) {
        move(l.holder(), "unlock");
      } else if (e instanceof dmasim.protocol.MirrorEvent.FaultResolved && odpFault.containsKey(sender)) {
        move(sender, "resume");
        odpFault.remove(sender);
        faultStep.remove(sender);
        invalidatedSince.remove(sender);
      }
    }

    private void move(String cpu, String to) {
      String from = faultStep.put(cpu, to);
      Long fromStep = faultAt.put(cpu, now);
      if (from == null || fromStep == now) return; // the same step: nothing can come in between
      String window = odpFault.getOrDefault(cpu, "") + from + " -> " + to;
      transitions.add(window);
      if (invalidatedSince.remove(cpu)) invalidated.add(window);
    }

    /** Adds this schedule to the totals. */
    public void merge() {
      synchronized (Coverage.this) {
        handled.addAll(seen);
        orders.addAll(ordered);
        faultTransitions.addAll(transitions);
        invalidatedTransitions.addAll(invalidated);
      }
    }
  }

  public Schedule schedule() {
    return new Schedule();
  }

  public synchronized int actorMessagePairs() {
    return handled.size();
  }

  /**
   * The windows between consecutive steps of a mirror's fault path that schedules went through
   * ({@code seen}), and those in which an invalidation of the mirror started ({@code invalidated}).
   * Empty without an mm.
   */
  public record FaultWindows(List<String> seen, List<String> invalidated) {
    public FaultWindows {
      seen = List.copyOf(seen);
      invalidated = List.copyOf(invalidated);
    }

    /** The windows seen that no invalidation landed in. */
    public List<String> missed() {
      return seen.stream().filter(w -> !invalidated.contains(w)).toList();
    }
  }

  public synchronized FaultWindows faultWindows() {
    return new FaultWindows(new java.util.ArrayList<>(faultTransitions), new java.util.ArrayList<>(invalidatedTransitions));
  }

  /** Distinct unordered pairs of conflicting envelope kinds seen. */
  public synchronized int conflictingPairs() {
    Set<String> unordered = new HashSet<>();
    for (String o : orders) unordered.add(unordered(o));
    return unordered.size();
  }

  /** Those of them seen in both orders. */
  public synchronized int conflictingPairsBothOrders() {
    int n = 0;
    for (String o : orders) {
      String[] p = o.split("\\|");
      if (!p[1].equals(p[2]) && p[1].compareTo(p[2]) < 0 && orders.contains(p[0] + "|" + p[2] + "|" + p[1])) n++;
    }
    return n;
  }

  private static String unordered(String o) {
    String[] p = o.split("\\|");
    return p[1].compareTo(p[2]) <= 0 ? o : p[0] + "|" + p[2] + "|" + p[1];
  }
}
