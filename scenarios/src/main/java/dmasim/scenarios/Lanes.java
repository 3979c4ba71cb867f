package dmasim.scenarios;

import dmasim.protocol.CpuEvent;
import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import dmasim.protocol.MirrorEvent;
import dmasim.protocol.MmEvent;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which path of a mirroring system a step belongs to, for {@code replay --step-through}: a device
 * fault being resolved ("fault cpu0 #2": the driver thread's second fault, from the device raising it
 * through the walk, the lock, read_retry and the device PTE write to the resume) or an invalidation
 * ("invalidation 3 UNMAP": from its start through each callback to the page-table change), or an
 * RDMA driver's work item ("work 1 free-child c0"). An ODP fault's lane holds its mkey lookup, the
 * child lookup or creation, the UMRs, the unlock and the deref, up to the resume. A CPU
 * queue's step is in the lane of what the queue is doing (the callback it runs, else the fault it
 * handles, else none); any other actor's step is in the lane of the step that sent its envelope, so the walk,
 * the lock and the DMA mapping of a fault stay in the fault's lane. Steps of neither path (and every
 * step of a system without an address space) have none.
 */
final class Lanes {
  private final Map<EnvelopeId, String> byEnvelope = new HashMap<>();
  private final Map<String, Integer> faults = new HashMap<>();
  /** Per CPU queue: the fault it handles, and the invalidation whose callback it runs. */
  private final Map<String, String> faultOf = new HashMap<>();
  private final Map<String, String> callbackOf = new HashMap<>();
  /** Per worker queue: the work item it runs ("work 2 free-child c0"). */
  private final Map<String, String> workOf = new HashMap<>();
  /** Per queue in a walk no device fault started: the mkey whose deref ends it ("" for a mirror walk: its device PTE write ends it). */
  private final Map<String, String> walkEnds = new HashMap<>();
  /** "mirror#token" of each device fault not yet resolved: the queue whose access raised it. */
  private final Map<String, String> raisedBy = new HashMap<>();

  /** The lane of the step delivering {@code env} with {@code events}, or null. */
  String of(Envelope env, List<? extends Event> events) {
    String receiver = env.receiver();
    String lane;
    if (isCpu(receiver)) lane = callbackOf.getOrDefault(receiver, workOf.getOrDefault(receiver, faultOf.get(receiver))); // what the queue does
    else lane = env.cause() == null ? null : byEnvelope.get(env.cause()); // whoever caused it
    for (Event e : events) {
      if (e instanceof MmEvent.InvalidationStarted s) {
        lane = "invalidation " + s.id() + " " + s.event();
      } else if (e instanceof CpuEvent.CallbackEntered c) {
        lane = "invalidation " + c.inv() + " " + c.event();
        callbackOf.put(receiver, lane);
      } else if (e instanceof CpuEvent.CallbackLeft) {
        callbackOf.remove(receiver);
      } else if (e instanceof CpuEvent.WorkEntered w) {
        String raiser = raisedBy.get(w.mr() + "#" + w.token());
        // a page-fault item is the fault's own lane, handled on the worker
        lane = w.token() != 0 && raiser != null && faultOf.containsKey(raiser) ? faultOf.get(raiser) + ", handled by " + receiver + " (work " + w.id()
            + ")" : "work " + w.id() + " " + w.kind() + " " + w.mr();
        workOf.put(receiver, lane);
      } else if (e instanceof CpuEvent.WorkLeft) {
        workOf.remove(receiver);
      } else if (e instanceof MirrorEvent.DeviceFaulted f) {
        lane = newLane("fault", f.cpu());
        walkEnds.remove(f.cpu());
        raisedBy.put(f.mirror() + "#" + f.token(), f.cpu());
      } else if (e instanceof dmasim.protocol.HcaEvent.RefTaken t && (t.how().equals("lookup") || t.how().equals("implicit lookup")) && idle(t.cpu())) {
        lane = newLane("walk", t.cpu()); // an ODP walk no device fault started: a prefetch
        walkEnds.put(t.cpu(), t.mr());
      } else if (e instanceof MmEvent.ReadBegun r && idle(r.cpu())) {
        lane = newLane("walk", r.cpu());
        walkEnds.put(r.cpu(), "");
      } else if (e instanceof MirrorEvent.FaultResolved r) {
        // the queue whose access raised it (a page-fault work item resumes another queue's stalled access)
        String cpu = raisedBy.getOrDefault(r.mirror() + "#" + r.token(), env.id().sender());
        raisedBy.remove(r.mirror() + "#" + r.token());
        if (faultOf.containsKey(cpu)) {
          String ended = faultOf.remove(cpu);
          if (!workOf.containsKey(env.id().sender())) lane = ended;
        }
      } else if (e instanceof dmasim.protocol.HcaEvent.RefDropped d && d.mr().equals(walkEnds.get(d.cpu()))) {
        lane = faultOf.remove(d.cpu()); // the prefetch dropped the mkey it looked up
        walkEnds.remove(d.cpu());
      } else if (e instanceof MirrorEvent.DevicePteWritten w && "".equals(walkEnds.get(w.cpu()))) {
        lane = faultOf.remove(w.cpu()); // a mirror's walk without a device fault ends with its device PTE write
        walkEnds.remove(w.cpu());
      }
    }
    if (lane != null) byEnvelope.put(env.id(), lane);
    if (byEnvelope.size() > 1 << 20) byEnvelope.clear(); // a bound for very long replays: lanes restart at the next fault or invalidation
    return lane;
  }

  /** A CPU queue that is in no callback, work item, fault or walk. */
  private boolean idle(String cpu) {
    return !callbackOf.containsKey(cpu) && !workOf.containsKey(cpu) && !faultOf.containsKey(cpu);
  }

  private static boolean isCpu(String actor) {
    return actor.startsWith("cpu") && actor.length() > 3 && Character.isDigit(actor.charAt(3));
  }

  private String newLane(String kind, String cpu) {
    String lane = kind + " " + cpu + " #" + faults.merge(cpu, 1, Integer::sum);
    faultOf.put(cpu, lane);
    return lane;
  }
}
