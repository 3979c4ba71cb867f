package dmasim.actors.device;

import dmasim.actors.model.Decision;
import dmasim.protocol.Draw;
import dmasim.actors.model.Names;
import dmasim.actors.state.Iotlb;
import dmasim.actors.state.PageTable;
import dmasim.protocol.DeviceCommand;
import dmasim.protocol.DeviceEvent;
import dmasim.protocol.DeviceReply;
import dmasim.protocol.Envelope;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Message;

/**
 * The decisions of a Device. Every page of a descriptor is one transaction: translated and
 * performed by the IOMMU, or (with ATS) translated once into the ATC and then performed by the
 * device alone. The next page starts {@code pageTime} later; the completion goes to the
 * submitting CPU queue. Pure: reads the state, never changes it.
 */
public final class DeviceLogic {
  private final DeviceState s;
  private final DeviceSettings cfg;
  private final Envelope env;
  private final Decision d = new Decision();
  private final String self;

  private DeviceLogic(DeviceState s, Envelope env) {
    this.s = s;
    this.cfg = s.settings;
    this.env = env;
    this.self = Names.device(cfg.id());
  }

  public static Decision decide(DeviceState state, Envelope env) {
    return new DeviceLogic(state, env).handle(env.message());
  }

  private Decision handle(Message m) {
    if (m instanceof DeviceCommand.Probe) {
      // pci_device_is_present: a config read; after a surprise removal it completes with all ones.
      d.send(env.sender(), new DeviceReply.Presence(!s.removed));
      return d;
    }
    if (s.removed) {
      d.emit(new DeviceEvent.MessageToRemovedDevice(m.getClass().getSimpleName()));
      return d;
    }
    if (!cfg.faults().isEmpty() && injectedFault(m)) return d;
    if (m instanceof DeviceCommand.Remove) d.emit(new DeviceEvent.DeviceRemoved(s.inFlight.size()));
    else if (m instanceof DeviceCommand.Submit c) onSubmit(c);
    else if (m instanceof DeviceCommand.NextAccess c) access(c.tag());
    else if (m instanceof IommuReply.Translated t) onTranslated(t);
    else if (m instanceof DeviceCommand.LateAccess c) onLateAccess(c);
    else if (m instanceof DeviceCommand.InvalidateAtc c) onInvalidateAtc(c);
    else if (m instanceof DeviceCommand.Reset) onReset();
    else if (m instanceof IommuReply.Drained r) d.send(r.requester(), new DeviceReply.ResetDone());
    else throw new IllegalArgumentException(self + " cannot handle " + m.getClass().getName());
    return d;
  }

  /**
   * Consults the device's fault rules for this envelope (each rule that selects it counts it, per
   * sender); when one fires, the device resets or disappears as the envelope arrives, losing it and
   * everything in flight. Returns whether it did.
   */
  private boolean injectedFault(Message m) {
    String type = m.getClass().getSimpleName();
    String from = env.sender();
    String fired = null;
    for (int i = 0; i < cfg.faults().size(); i++) {
      DeviceFault f = cfg.faults().get(i);
      if (!f.selects(from, type)) continue;
      long match = s.faultMatches(from, i) + 1;
      boolean fires = fired == null && f.trigger().fires(cfg.seed(), self + "<-" + from, match, "device-fault-" + i);
      d.emit(new DeviceEvent.FaultDecided(i, from, type, match, fires, f.fault(), f.describe()));
      if (fires) fired = f.fault();
    }
    if (fired == null) return false;
    // Lost as it arrives: a reset drops the descriptors and the ATC, a removal the whole device
    // (translations already at the IOMMU come back to a device that no longer has their descriptor).
    if (fired.equals("reset")) d.emit(new DeviceEvent.DeviceWasReset(s.inFlight.size(), s.atc.size()));
    else d.emit(new DeviceEvent.DeviceRemoved(s.inFlight.size()));
    return true;
  }

  private void onSubmit(DeviceCommand.Submit c) {
    d.emit(new DeviceEvent.DescriptorAccepted(c.tag(), env.sender(), c.segments(), c.write()));
    if (DeviceState.pagesOf(c.segments()).isEmpty()) {
      complete(c.tag(), env.sender(), 0, null);
      return;
    }
    d.send(self, new DeviceCommand.NextAccess(c.tag()), cfg.pageTime());
  }

  /** Issue the transaction for the next page of descriptor {@code tag}. */
  private void access(long tag) {
    DeviceState.Descriptor desc = s.inFlight.get(tag);
    if (desc == null) return; // lost in a reset
    long iova = desc.pages().get(desc.next());
    if ((iova & DeviceState.BUS) != 0) {
      // A PCI bus address: the switch routes it to the peer, the IOMMU never sees it.
      d.emit(new DeviceEvent.PeerAccessed(cfg.id(), tag, new Iova(iova & ~DeviceState.BUS), desc.write()));
      pageDone(tag, true);
      return;
    }
    transaction(tag, iova, desc.write(), false);
  }

  /** One transaction: straight to memory without an IOMMU, through the ATC when it holds the page, else to the IOMMU (a DMA, or an ATS request). */
  private void transaction(long tag, long iova, boolean write, boolean stray) {
    if (cfg.direct()) {
      d.emit(new DeviceEvent.DirectAccessed(cfg.id(), tag, new Iova(iova), iova >>> 12, write, "direct", stray));
      if (!stray) pageDone(tag, true);
      return;
    }
    long pfn = iova >>> 12;
    long cached = cfg.ats() ? s.atc.lookup(pfn) : Iotlb.MISS;
    if (cached >= 0) {
      boolean ok = PageTable.protOf(cached).allows(write);
      if (ok) d.emit(new DeviceEvent.AtcAccessed(cfg.id(), tag, new Iova(iova), PageTable.physOf(cached), write, "atc", stray));
      if (!stray) pageDone(tag, ok);
      return;
    }
    d.send(Names.IOMMU, new IommuCommand.Translate(cfg.id(), tag, new Iova(iova), write, stray, cfg.ats()));
  }

  private void onTranslated(IommuReply.Translated t) {
    if (!t.stray() && !awaits(t)) {
      d.emit(new DeviceEvent.TranslationIgnored(t.tag(), t.iova()));
      return;
    }
    if (cfg.ats() && t.ok()) {
      long pfn = t.iova().addr() >>> 12;
      d.emit(new DeviceEvent.AtcFilled(pfn, t.physPfn(), t.prot()));
      boolean ok = t.prot().allows(t.write());
      if (ok) d.emit(new DeviceEvent.AtcAccessed(cfg.id(), t.tag(), t.iova(), t.physPfn(), t.write(), "atc-fill", t.stray()));
      if (!t.stray()) pageDone(t.tag(), ok);
      return;
    }
    if (!t.stray()) pageDone(t.tag(), t.ok());
  }

  /** Whether descriptor {@code t.tag()} is waiting for the translation of exactly this page (a duplicate or stale answer is not). */
  private boolean awaits(IommuReply.Translated t) {
    DeviceState.Descriptor desc = s.inFlight.get(t.tag());
    return desc != null && desc.next() < desc.pages().size() && (desc.pages().get(desc.next()) & ~DeviceState.BUS) == t.iova().addr();
  }

  private void pageDone(long tag, boolean ok) {
    DeviceState.Descriptor desc = s.inFlight.get(tag);
    if (desc == null) return;
    d.emit(new DeviceEvent.PageTransferred(tag, desc.next(), ok));
    int faults = desc.faults() + (ok ? 0 : 1);
    if (desc.next() + 1 < desc.pages().size()) {
      d.send(self, new DeviceCommand.NextAccess(tag), cfg.pageTime());
    } else {
      complete(tag, desc.cpu(), faults, desc);
    }
  }

  /** Report completion; sometimes touch one page again later (a seeded, recorded decision). */
  private void complete(long tag, String cpu, int faults, DeviceState.Descriptor desc) {
    d.emit(new DeviceEvent.DescriptorCompleted(tag, faults));
    d.send(cpu, new DeviceReply.Completed(tag, faults));
    if (desc == null || cfg.latePercent() == 0) return;
    if (Draw.below(cfg.seed(), self, tag, "late", 100) >= cfg.latePercent()) return;
    long iova = desc.pages().get((int) Draw.below(cfg.seed(), self, tag, "late-page", desc.pages().size())) & ~DeviceState.BUS;
    long delay = 1 + Draw.below(cfg.seed(), self, tag, "late-delay", cfg.lateMaxDelay());
    d.emit(new DeviceEvent.LateAccessScheduled(tag, new Iova(iova), desc.write(), delay));
    d.send(self, new DeviceCommand.LateAccess(tag, new Iova(iova), desc.write()), delay);
  }

  private void onLateAccess(DeviceCommand.LateAccess c) {
    transaction(c.tag(), c.iova().addr(), c.write(), true);
  }

  /**
   * Function-level reset: descriptors and the ATC are dropped now, so nothing new is issued; the
   * reset completes once the transactions already sent to the IOMMU are finished (the drain comes
   * back behind them on the FIFO channel), as an FLR waits for pending transactions.
   */
  private void onReset() {
    d.emit(new DeviceEvent.DeviceWasReset(s.inFlight.size(), s.atc.size()));
    d.send(Names.IOMMU, new IommuCommand.Drain(env.sender()));
  }

  private void onInvalidateAtc(DeviceCommand.InvalidateAtc c) {
    int dropped = 0;
    if (c.pages() == 0) dropped = s.atc.size();
    else for (long p = c.startPfn(); p < c.startPfn() + c.pages(); p++) if (s.atc.lookup(p) != Iotlb.MISS) dropped++;
    d.emit(new DeviceEvent.AtcInvalidated(c.id(), c.startPfn(), c.pages(), dropped));
    d.send(env.sender(), new DeviceReply.AtcInvalidated(c.id()));
  }
}
