package dmasim.chaos;

import dmasim.protocol.Draw;
import dmasim.protocol.Trigger;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A message-fault plan: which envelopes the wire delays, drops, duplicates or lets reorder. Rules
 * select envelopes by sender, receiver and message type (null: any) and fire on the sender's
 * {@code nth} selected envelope, every {@code every}-th, or each with {@code probability}. Every
 * decision is a pure function of (seed, rule, sender, how many envelopes the rule selected from
 * that sender before) — counts the sender's own program fixes — so a rule hits the same envelopes
 * in every schedule, on every wire, and in a replay.
 *
 * <p>Domain-free: it knows actor names and message type names, nothing of what they mean (the
 * scenario layer says which messages may be duplicated or reordered).
 */
public record MessageFaults(long seed, List<Rule> rules) {
  /** What a rule does to an envelope it fires on. */
  public enum Action {
    DELAY("delayed"), DROP("dropped"), DUPLICATE("duplicated"), REORDER("reordered"),
    /** The receiver crashes and restarts as the envelope arrives; the envelope is lost with the crash. */
    CRASH("crashed its receiver");

    /** The past tense journaled in MessageFaulted. */
    public final String done;

    Action(String done) {
      this.done = done;
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** How long a delay rule holds an envelope back, in virtual ns: {@code fixed} a; {@code uniform} in [a, b]; {@code exponential} with mean a (capped at 64 a). */
  public record Delay(String shape, long a, long b) {
    public static final Set<String> SHAPES = Set.of("fixed", "uniform", "exponential");
    public static final Delay NONE = new Delay("fixed", 0, 0);

    public Delay {
      if (!SHAPES.contains(shape)) throw new IllegalArgumentException("a delay is one of " + SHAPES + ", not '" + shape + "'");
      if (a < 0 || b < 0) throw new IllegalArgumentException("delays are not negative");
      if (shape.equals("uniform") && b < a) throw new IllegalArgumentException("a uniform delay needs min <= max, got [" + a + ", " + b + "]");
    }

    /** The delay for a uniform draw {@code u} in [0, 1). */
    long sample(double u) {
      return switch (shape) {
        case "fixed" -> a;
        case "uniform" -> a + (long) (u * (b - a + 1));
        default -> Math.min(64 * a, (long) (-a * StrictMath.log(1 - u)));
      };
    }

    @Override
    public String toString() {
      return switch (shape) {
        case "fixed" -> a + "ns";
        case "uniform" -> "uniform [" + a + "ns, " + b + "ns]";
        default -> "exponential mean " + a + "ns";
      };
    }
  }

  /** One rule: what it does, which envelopes it selects (null: any), when it fires; {@code delay} only for DELAY. */
  public record Rule(Action action, String from, String to, String type, Trigger trigger, Delay delay) {
    public Rule {
      if (action == null || trigger == null) throw new IllegalArgumentException("a message-fault rule needs an action and a trigger");
      if (delay == null) delay = Delay.NONE;
      if (action == Action.CRASH && to == null) throw new IllegalArgumentException("a crash rule names the actor that crashes (to)");
      if (action == Action.DELAY && delay.a() == 0 && delay.b() == 0) throw new IllegalArgumentException("a delay rule needs a delay above 0");
    }

    /** Does this rule look at an envelope of {@code type} from {@code sender} to {@code receiver}? */
    public boolean selects(String sender, String receiver, String messageType) {
      return (from == null || from.equals(sender)) && (to == null || to.equals(receiver)) && (type == null || type.equals(messageType));
    }

    /** "drop the 1st InvalidationDone from iommu0 to iommu0", "delay every 2nd Returned to cpu1 of each sender by 5000ns", as journaled and printed. */
    public String describe() {
      String what = (type == null ? "envelope" : type) + (from == null ? "" : " from " + from) + (to == null ? "" : " to " + to);
      if (action == Action.CRASH) return "crash " + to + " on " + trigger.describe((type == null ? "envelope" : type) + (from == null ? "" : " from " + from),
          from == null ? "each sender" : null);
      return action.label() + " " + trigger.describe(what, from == null ? "each sender" : null) + (action == Action.DELAY ? " by " + delay : "");
    }
  }

  public static final MessageFaults NONE = new MessageFaults(0, List.of());

  public MessageFaults {
    rules = List.copyOf(rules);
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** What happens to one envelope: the rule that fired (null: none), its index, the match count, the delay added. */
  public record Verdict(Rule rule, int index, long match, long delay) {
    static final Verdict NONE = new Verdict(null, -1, 0, 0);
  }

  /**
   * Decides the fate of the envelope {@code sender} sends to {@code to}; {@code matches} holds, per
   * rule, how many envelopes of this sender the rule selected before (advanced here for every rule
   * that selects this one). The first rule that fires decides.
   */
  public Verdict decide(String sender, String to, String type, long[] matches) {
    Verdict verdict = Verdict.NONE;
    for (int i = 0; i < rules.size(); i++) {
      Rule r = rules.get(i);
      if (!r.selects(sender, to, type)) continue;
      long match = ++matches[i];
      if (verdict.rule() != null) continue;
      String purpose = "message-rule-" + i;
      if (r.trigger().fires(seed, sender, match, purpose)) {
        long delay = r.action() == Action.DELAY ? Math.max(1, r.delay().sample(Draw.unit(seed, sender, match, purpose + "-delay"))) : 0;
        verdict = new Verdict(r, i, match, delay);
      }
    }
    return verdict;
  }
}
