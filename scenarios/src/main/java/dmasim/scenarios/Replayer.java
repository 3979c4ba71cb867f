package dmasim.scenarios;

import dmasim.chaos.ReplayStrategy;
import dmasim.chaos.StepObserver;
import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import java.util.List;
import java.util.function.Consumer;

/**
 * Re-drives a kept run on the controlled wire, forcing the recorded order of deliveries (the
 * journal is the schedule), and compares every step's events with the recorded ones. The first
 * difference is a divergence: the model no longer does what it did when the run was recorded.
 */
public final class Replayer {
  /** Where a replay first differed from its record. */
  public record Divergence(long step, String actor, String expected, String got) {}

  /** The replayed run and, if any, its first divergence. */
  public record Result(RunReport report, Divergence divergence, long recordedSteps) {
    public boolean identical() {
      return divergence == null;
    }
  }

  private Replayer() {}

  public static Result replay(Runner runner, Scenario scenario, RunRecord record, List<RecordedStep> all, Consumer<String> stepLog) {
    List<RecordedStep> recorded = record.spec().isLive() ? liveSchedule(record, all) : all;
    List<EnvelopeId> schedule = recorded.stream().map(RecordedStep::envelope).toList();
    Divergence[] first = {null};
    // An incomplete recording replays to its last step. A complete one runs on as it did: a violation
    // found during the run stops the replay at the same step, and one judged at the end (Termination)
    // needs the run to reach its end.
    boolean stopAtEnd = record.verdict().equals("incomplete");
    List<dmasim.actors.cpu.Program> programs = scenario.build().apply(record.options()).programs();
    Lanes lanes = new Lanes();
    StepObserver compare = (step, env, events) -> {
      RecordedStep r = step <= recorded.size() ? recorded.get((int) step - 1) : null;
      if (stepLog != null) stepLog.accept(describe(step, env, events, programs, lanes.of(env, events)));
      Divergence d = diverges(step, r, env, events);
      if (d != null) {
        first[0] = d;
        return true;
      }
      return stopAtEnd && step == recorded.size();
    };
    RunReport report = runner.run(scenario, record.options(), record.runId() + "~replay", record.spec(), record.scheduleSeed(),
        record.expectedSteps(), new ReplayStrategy(schedule, null), null, compare);
    Divergence d = first[0];
    if (d == null && report.outcome().reason().equals("diverged")) {
      d = new Divergence(report.outcome().steps() + 1, "scheduler", "the recorded delivery", report.outcome().detail());
    }
    if (d == null && report.outcome().steps() != recorded.size()) {
      d = new Divergence(report.outcome().steps(), "run", recorded.size() + " recorded steps", report.outcome().steps() + " replayed steps ("
          + report.outcome().reason() + ")");
    }
    return new Result(report, d, recorded.size());
  }

  /**
   * A live run's steps as its monitors saw them: from step 1 without a gap, up to the step it ended
   * at when complete. Actors on other threads may have stamped and journaled a few steps after the
   * one that stopped the run (or, interrupted, before an earlier step reached the disk).
   */
  /** A live run's steps up to the one that ended it (steps other threads stamped after it are journaled but not part of the run). */
  public static List<RecordedStep> liveSchedule(RunRecord record, List<RecordedStep> all) {
    long end = record.verdict().equals("incomplete") ? Long.MAX_VALUE : record.steps();
    int n = 0;
    while (n < all.size() && all.get(n).step() == n + 1 && n < end) n++;
    return all.subList(0, n);
  }

  private static Divergence diverges(long step, RecordedStep r, Envelope env, List<? extends Event> events) {
    if (r == null) return new Divergence(step, env.receiver(), "no step (the record ends at " + (step - 1) + ")", env.id().toString());
    if (!r.actor().equals(env.receiver()) || !r.envelope().equals(env.id())) {
      return new Divergence(step, r.actor(), r.envelope() + " to " + r.actor(), env.id() + " to " + env.receiver());
    }
    if (r.at() != env.deliveredAt()) return new Divergence(step, r.actor(), "delivery at " + r.at() + " ns", "delivery at " + env.deliveredAt() + " ns");
    for (int i = 0; i < Math.max(r.events().size(), events.size()); i++) {
      Object want = i < r.events().size() ? r.events().get(i) : "nothing";
      Object got = i < events.size() ? events.get(i) : "nothing";
      if (!want.equals(got)) return new Divergence(step, r.actor(), want.toString(), got.toString());
    }
    return null;
  }

  static String describe(long step, Envelope env, List<? extends Event> events, List<dmasim.actors.cpu.Program> programs) {
    return describe(step, env, events, programs, null);
  }

  /** ... {@code lane}: the path of a mirroring system the step belongs to ("fault cpu0 #1", "invalidation 2 UNMAP"), shown in brackets; null for none. */
  static String describe(long step, Envelope env, List<? extends Event> events, List<dmasim.actors.cpu.Program> programs, String lane) {
    StringBuilder b = new StringBuilder();
    b.append("step ").append(step).append(" @").append(env.deliveredAt()).append("ns ");
    if (lane != null) b.append('[').append(lane).append("] ");
    b.append(env.receiver()).append(" <- ").append(env.id())
        .append(' ').append(env.message().getClass().getSimpleName());
    int cpu = env.receiver().startsWith("cpu") ? dmasim.actors.model.Names.cpuIndex(env.receiver()) : -1;
    int pc = cpu < 0 || cpu >= programs.size() ? -1 : dmasim.actors.monitor.MonitorSuite.lastPc(events);
    String origin = pc < 0 ? null : programs.get(cpu).origin(pc);
    if (origin != null) b.append(" (").append(origin).append(')');
    for (Event e : events) b.append("\n    ").append(e);
    return b.toString();
  }
}
