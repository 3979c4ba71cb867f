package dmasim.scenarios.journal;

import dmasim.protocol.Trigger;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Journal faults of a run: an actor's journal write fails (the storage reports an error), is
 * rejected (the journal refuses the event), or is slow (acknowledged late). Counted per actor:
 * its nth write is its nth step, so a rule hits the same step in every schedule. Both journals
 * consult the plans installed here by the run they belong to (the durable plugin directly, the
 * in-memory one through an Akka PersistenceTestKit policy).
 *
 * <p>What the model does with a failed or rejected write is what Akka Persistence does: the actor
 * stops; the run ends "crashed" naming the fault, its recording is marked failed, and nothing kept
 * before is touched. A slow write changes nothing but the wall time.
 */
public record JournalFaults(long seed, List<Rule> rules) {
  /** What a rule does to a write. */
  public enum Kind {
    FAIL, REJECT, SLOW;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** One rule: what, whose writes ({@code actor} null: every actor's), when, and for SLOW how long (real ns). */
  public record Rule(Kind kind, String actor, Trigger trigger, long delayNanos) {
    public Rule {
      if (kind == null || trigger == null) throw new IllegalArgumentException("a journal fault needs a kind and a trigger");
      if (kind == Kind.SLOW && delayNanos <= 0) throw new IllegalArgumentException("a slow journal write needs a delay");
    }

    public String describe() {
      return kind.label() + " " + trigger.describe("journal write" + (actor == null ? "" : " of " + actor), actor == null ? "each actor" : null)
          + (kind == Kind.SLOW ? " by " + delayNanos + "ns" : "");
    }
  }

  public static final JournalFaults NONE = new JournalFaults(0, List.of());

  public JournalFaults {
    rules = List.copyOf(rules);
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** The rule that fires on {@code actor}'s {@code write}-th write (1-based), or null. */
  public Rule decide(String actor, long write) {
    for (int i = 0; i < rules.size(); i++) {
      Rule r = rules.get(i);
      if (r.actor() != null && !r.actor().equals(actor)) continue;
      if (r.trigger().fires(seed, actor, write, "journal-rule-" + i)) return r;
    }
    return null;
  }

  // ---- the plans of the runs under way, by journal id (the part of a persistence id before '|') ----------------

  private static final ConcurrentHashMap<String, JournalFaults> ACTIVE = new ConcurrentHashMap<>();
  private static final ConcurrentHashMap<String, String> INJECTED = new ConcurrentHashMap<>();

  /** Applies {@code plan} to the writes of the run journaled under {@code journalId} until {@link #uninstall}. */
  public static void install(String journalId, JournalFaults plan) {
    INJECTED.remove(journalId); // a late check of an earlier run under this id must not speak for this one
    if (!plan.isEmpty()) ACTIVE.put(journalId, plan);
  }

  /** Stops applying the run's plan; returns what it injected that stopped the run ("iommu0's 3rd journal write failed (...)"), or null. */
  public static String uninstall(String journalId) {
    ACTIVE.remove(journalId);
    return INJECTED.remove(journalId);
  }

  /** The verdict for write {@code write} (its sequence number) of {@code persistenceId}: the rule that fires, or null. */
  public static Rule check(String persistenceId, long write) {
    if (ACTIVE.isEmpty()) return null;
    int bar = persistenceId.lastIndexOf('|');
    if (bar < 0) return null;
    JournalFaults plan = ACTIVE.get(persistenceId.substring(0, bar));
    if (plan == null) return null;
    String actor = persistenceId.substring(bar + 1);
    Rule r = plan.decide(actor, write);
    if (r != null && r.kind() != Kind.SLOW) {
      INJECTED.putIfAbsent(persistenceId.substring(0, bar), actor + "'s " + write + Trigger.ordinal(write) + " journal write "
          + (r.kind() == Kind.FAIL ? "failed" : "was rejected") + " (journal fault injected: " + r.describe() + ")");
    }
    return r;
  }

  /** The exception a failed or rejected write reports to Akka Persistence. */
  public static final class Injected extends RuntimeException {
    public Injected(String message) {
      super(message, null, false, false);
    }
  }
}
