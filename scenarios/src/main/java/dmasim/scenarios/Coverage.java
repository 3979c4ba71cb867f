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

  /** The per-schedule collector. */
  public final class Schedule implements StepObserver {
    private final Set<String> seen = new HashSet<>();
    private final Set<String> ordered = new HashSet<>();
    private final Map<String, String> last = new HashMap<>();

    @Override
    public boolean onStep(long step, Envelope env, List<? extends Event> events) {
      String what = env.sender().replaceAll("[0-9]+$", "") + "/" + env.message().getClass().getSimpleName();
      seen.add(env.receiver() + ":" + env.message().getClass().getSimpleName());
      String previous = last.put(env.receiver(), env.sender() + " " + what);
      if (previous != null && !previous.startsWith(env.sender() + " ")) {
        ordered.add(env.receiver().replaceAll("[0-9]+$", "") + "|" + previous.substring(previous.indexOf(' ') + 1) + "|" + what);
      }
      return false;
    }

    /** Adds this schedule to the totals. */
    public void merge() {
      synchronized (Coverage.this) {
        handled.addAll(seen);
        orders.addAll(ordered);
      }
    }
  }

  public Schedule schedule() {
    return new Schedule();
  }

  public synchronized int actorMessagePairs() {
    return handled.size();
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
