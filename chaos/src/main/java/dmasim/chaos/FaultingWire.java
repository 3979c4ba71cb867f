package dmasim.chaos;

import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import dmasim.protocol.Message;
import dmasim.protocol.Wire;
import dmasim.protocol.WireEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A wire decorator that carries out a {@link MessageFaults} plan on any wire: delays, drops,
 * duplicates and unordered sends. An actor first asks {@link #plan} what will happen to the
 * envelopes of its step (journaled with the step as {@code MessageFaulted} events), then sends
 * them; both compute the same pure decision from the sender's per-rule counts, which only that
 * sender's sends advance (one actor handles one envelope at a time, so this is safe on real
 * threads too).
 *
 * <p>A duplicate is a second envelope with the same message, sent right after the first; it is
 * never faulted again. A reordered envelope travels outside its channel's order.
 */
public final class FaultingWire implements Wire {
  private final Wire inner;
  private final MessageFaults faults;
  private final ConcurrentHashMap<String, long[]> matches = new ConcurrentHashMap<>();

  public FaultingWire(Wire inner, MessageFaults faults) {
    this.inner = inner;
    this.faults = faults;
  }

  /** {@code inner} itself when the plan is empty. */
  public static Wire around(Wire inner, MessageFaults faults) {
    return faults == null || faults.isEmpty() ? inner : new FaultingWire(inner, faults);
  }

  private long[] counts(String sender) {
    return matches.computeIfAbsent(sender, k -> new long[faults.rules().size()]);
  }

  @Override
  public List<Event> plan(String sender, List<Outgoing> sends) {
    long[] scratch = counts(sender).clone();
    List<Event> out = null;
    for (Outgoing o : sends) {
      String type = o.message().getClass().getSimpleName();
      MessageFaults.Verdict v = faults.decide(sender, o.to(), type, scratch);
      if (v.rule() == null) continue;
      if (out == null) out = new ArrayList<>();
      out.add(new WireEvent.MessageFaulted(sender, v.match(), o.to(), type, v.rule().action().done, v.delay(), v.rule().describe()));
    }
    return out == null ? List.of() : out;
  }

  @Override
  public void send(String to, Message message, long delay, Envelope cause) {
    MessageFaults.Verdict v = faults.decide(cause.receiver(), to, message.getClass().getSimpleName(), counts(cause.receiver()));
    if (v.rule() == null) {
      inner.send(to, message, delay, cause);
      return;
    }
    switch (v.rule().action()) {
      case DELAY -> inner.send(to, message, delay + v.delay(), cause);
      case DROP -> { }
      case DUPLICATE -> {
        inner.send(to, message, delay, cause);
        inner.send(to, message, delay, cause);
      }
      case REORDER -> inner.sendUnordered(to, message, delay, cause);
      case CRASH -> inner.send(to, new dmasim.protocol.Crash(message, v.rule().describe()), delay, cause);
    }
  }

  @Override
  public void sendUnordered(String to, Message message, long delay, Envelope cause) {
    inner.sendUnordered(to, message, delay, cause);
  }

  @Override
  public Envelope received(Envelope envelope) {
    return inner.received(envelope);
  }

  @Override
  public void handled(Envelope envelope, List<? extends Event> events) {
    inner.handled(envelope, events);
  }

  @Override
  public void crashed(Envelope envelope, String actor, String reason) {
    inner.crashed(envelope, actor, reason);
  }
}
