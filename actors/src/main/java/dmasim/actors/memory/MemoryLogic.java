package dmasim.actors.memory;

import dmasim.actors.iommu.FaultPlan;
import dmasim.actors.model.Decision;
import dmasim.protocol.Envelope;
import dmasim.protocol.MemoryCommand;
import dmasim.protocol.MemoryEvent;
import dmasim.protocol.MemoryReply;
import java.util.List;

/** The decisions of the Memory actor: hand out and take back pages. Owners are "cpuN/buffer". */
public final class MemoryLogic {
  private MemoryLogic() {}

  public static Decision decide(MemoryState s, Envelope env) {
    return decide(s, env, FaultPlan.NONE, 0);
  }

  /** {@code faults}' alloc_pages rules fail page allocations as if memory were exhausted, counted per calling CPU queue. */
  public static Decision decide(MemoryState s, Envelope env, FaultPlan faults, long seed) {
    Decision d = new Decision();
    if (env.message() instanceof MemoryCommand.AllocPages a) {
      String owner = env.sender() + "/" + a.owner();
      MemoryState from = s.region(a.region());
      if (from == null) throw new IllegalArgumentException("no memory region '" + a.region() + "'");
      boolean injected = false;
      if (faults.names(FaultPlan.ALLOC_PAGES)) {
        long call = s.allocCalls(env.sender()) + 1;
        FaultPlan.Rule rule = faults.check(FaultPlan.ALLOC_PAGES, call, seed, env.sender());
        injected = rule != null;
        d.emit(new MemoryEvent.AllocFaultDecided(env.sender(), call, injected, rule == null ? "" : rule.describe()));
      }
      if (injected || from.available() < a.count()) {
        d.emit(new MemoryEvent.AllocationFailed(owner, a.count()));
        d.send(env.sender(), new MemoryReply.PagesAllocated(a.owner(), List.of()));
      } else {
        List<Long> pfns = from.peek(a.count());
        d.emit(new MemoryEvent.PagesAllocated(owner, pfns));
        if (a.kind() != dmasim.protocol.PageKind.LINEAR) d.emit(new MemoryEvent.PagesKind(owner, pfns, a.kind()));
        d.send(env.sender(), new MemoryReply.PagesAllocated(a.owner(), pfns));
      }
    } else if (env.message() instanceof MemoryCommand.FreePages f) {
      d.emit(new MemoryEvent.PagesFreed(env.sender() + "/" + f.owner(), f.pfns()));
      d.send(env.sender(), new MemoryReply.PagesFreed(f.owner(), f.pfns().size()));
    } else if (env.message() instanceof MemoryCommand.Lock l) {
      if (s.holder(l.name()) == null) {
        d.emit(new MemoryEvent.LockAcquired(l.name(), env.sender()));
        d.send(env.sender(), new MemoryReply.LockGranted(l.name(), true));
      } else {
        d.emit(new MemoryEvent.LockWaited(l.name(), env.sender()));
      }
    } else if (env.message() instanceof MemoryCommand.TryLock l) {
      if (s.holder(l.name()) == null) {
        d.emit(new MemoryEvent.LockAcquired(l.name(), env.sender()));
        d.send(env.sender(), new MemoryReply.LockGranted(l.name(), true));
      } else {
        d.send(env.sender(), new MemoryReply.LockBusy(l.name()));
      }
    } else if (env.message() instanceof MemoryCommand.Unlock u) {
      if (!env.sender().equals(s.holder(u.name()))) {
        throw new IllegalStateException(env.sender() + " unlocks '" + u.name() + "' held by " + s.holder(u.name()));
      }
      d.emit(new MemoryEvent.LockReleased(u.name(), env.sender()));
      d.send(env.sender(), new MemoryReply.LockGranted(u.name(), false));
      String next = s.nextWaiter(u.name());
      if (next != null) {
        d.emit(new MemoryEvent.LockAcquired(u.name(), next));
        d.send(next, new MemoryReply.LockGranted(u.name(), true));
      }
    } else {
      throw new IllegalArgumentException("Memory cannot handle " + env.message().getClass().getName());
    }
    return d;
  }
}
