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
 * handles); any other actor's step is in the lane of the step that sent its envelope, so the walk,
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

  /** The lane of the step delivering {@code env} with {@code events}, or null. */
  String of(Envelope env, List<? extends Event> events) {
    String lane = env.cause() == null ? null : byEnvelope.get(env.cause());
    String receiver = env.receiver();
    if (callbackOf.containsKey(receiver)) lane = callbackOf.get(receiver);
    else if (workOf.containsKey(receiver)) lane = workOf.get(receiver);
    else if (faultOf.containsKey(receiver)) lane = faultOf.get(receiver);
    for (Event e : events) {
      if (e instanceof MmEvent.InvalidationStarted s) {
        lane = "invalidation " + s.id() + " " + s.event();
      } else if (e instanceof CpuEvent.CallbackEntered c) {
        lane = "invalidation " + c.inv() + " " + c.event();
        callbackOf.put(receiver, lane);
      } else if (e instanceof CpuEvent.CallbackLeft) {
        callbackOf.remove(receiver);
      } else if (e instanceof CpuEvent.WorkEntered w) {
        lane = "work " + w.id() + " " + w.kind() + " " + w.mr();
        workOf.put(receiver, lane);
      } else if (e instanceof CpuEvent.WorkLeft) {
        workOf.remove(receiver);
      } else if (e instanceof MirrorEvent.DeviceFaulted f) {
        lane = newFault(f.cpu());
      } else if (e instanceof MmEvent.ReadBegun r && !callbackOf.containsKey(r.cpu()) && !faultOf.containsKey(r.cpu()) && !workOf.containsKey(r.cpu())) {
        lane = newFault(r.cpu());
      } else if (e instanceof MirrorEvent.FaultResolved) {
        String cpu = env.id().sender();
        if (faultOf.containsKey(cpu)) lane = faultOf.remove(cpu);
      }
    }
    if (lane != null) byEnvelope.put(env.id(), lane);
    if (byEnvelope.size() > 1 << 20) byEnvelope.clear(); // a bound for very long replays: lanes restart at the next fault or invalidation
    return lane;
  }

  private String newFault(String cpu) {
    String lane = "fault " + cpu + " #" + faults.merge(cpu, 1, Integer::sum);
    faultOf.put(cpu, lane);
    return lane;
  }
}
