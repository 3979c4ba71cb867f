package dmasim.actors.iommu;

import dmasim.actors.model.Decision;
import dmasim.protocol.DeviceId;
import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Drives IommuLogic without Akka: decide, fold the events, keep the sends. */
final class IommuHarness {
  static final DeviceId DEV = new DeviceId(0);
  final IommuState state;
  /** Every event emitted, in order. */
  final List<Event> events = new ArrayList<>();
  /** Every envelope sent, in order. */
  final List<Decision.Send> sent = new ArrayList<>();
  /** Self-addressed envelopes (invalidation completions, timers) not delivered yet. */
  final List<Decision.Send> pendingSelf = new ArrayList<>();
  private int eventsTaken;
  private int sendsTaken;
  long seq;
  long now;

  IommuHarness(IommuSettings settings) {
    this.state = new IommuState(settings);
  }

  static IommuSettings settings(IommuSettings.Mode mode) {
    return IommuSettings.defaults(mode, 2, Map.of(DEV, new IommuSettings.DeviceSpec(64, false)));
  }

  Decision deliver(String from, Message m) {
    Envelope env = new Envelope(new EnvelopeId(from, ++seq), "iommu0", m, now, now, null, now, 0);
    Decision d = IommuLogic.decide(state, env);
    for (Event e : d.events()) state.apply(e);
    events.addAll(d.events());
    sent.addAll(d.sends());
    for (Decision.Send s : d.sends()) if (s.to().equals("iommu0")) pendingSelf.add(s);
    return d;
  }

  /** The reply this decision sent to the caller. */
  static IommuReply.Returned returned(Decision d) {
    return d.sends().stream().map(Decision.Send::message).filter(IommuReply.Returned.class::isInstance)
        .map(IommuReply.Returned.class::cast).findFirst().orElse(null);
  }

  /** Delivers every pending self-addressed envelope (invalidation completions, timers), in due order. */
  void drainSelf() {
    while (deliverNextSelf()) {
      // until none is left
    }
  }

  /** Delivers the pending self-addressed envelope due first; false when none is pending. */
  boolean deliverNextSelf() {
    Decision.Send next = null;
    for (Decision.Send s : pendingSelf) if (next == null || s.delay() < next.delay()) next = s;
    if (next == null) return false;
    pendingSelf.remove(next);
    now += next.delay();
    deliver("iommu0", next.message());
    return true;
  }

  /** The events emitted since the last call, in order. */
  List<Event> takeEvents() {
    List<Event> out = List.copyOf(events.subList(eventsTaken, events.size()));
    eventsTaken = events.size();
    return out;
  }

  /** The envelopes sent since the last call, in order. */
  List<Decision.Send> takeSends() {
    List<Decision.Send> out = List.copyOf(sent.subList(sendsTaken, sent.size()));
    sendsTaken = sent.size();
    return out;
  }

  <T> List<T> eventsOf(Class<T> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** The events and envelopes since the last check are exactly these. */
  static void expect(IommuHarness h, List<? extends Event> events, List<Decision.Send> sends) {
    org.junit.jupiter.api.Assertions.assertEquals(events, h.takeEvents());
    org.junit.jupiter.api.Assertions.assertEquals(sends, h.takeSends());
  }

  /** Nothing was emitted or sent beyond what was checked, and no self-addressed envelope is pending. */
  static void nothingLeft(IommuHarness h) {
    org.junit.jupiter.api.Assertions.assertEquals(List.of(), h.takeEvents());
    org.junit.jupiter.api.Assertions.assertEquals(List.of(), h.takeSends());
    org.junit.jupiter.api.Assertions.assertEquals(List.of(), h.pendingSelf);
  }
}
