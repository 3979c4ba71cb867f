package dmasim.scenarios.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dmasim.chaos.StrategySpec;
import dmasim.protocol.EnvelopeId;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Coverage;
import dmasim.scenarios.ExploreTotals;
import dmasim.scenarios.Explorer;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunRecord;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.UserError;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** dmasim explore SCENARIO: many schedules in memory; violating ones re-executed, journaled and kept. */
@Command(name = "explore", mixinStandardHelpOptions = true, footer = {"", "Example:", "  dmasim explore nvme-iova-missing-sync --schedules 100 --strategy pct:3 --stop-at-first"},
    description = "Explore many schedules of a scenario and keep the ones that break an invariant.")
final class ExploreCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "SCENARIO", description = "a scenario name (not with --from)")
  String scenario;

  @Option(names = "--schedules", description = "schedules to run (default 1000; 1 with --crash-points)")
  Long schedulesOption;

  long schedules;

  @Option(names = "--crash-points", description = "run each schedule journaled and crash every actor at every persist point (before the write;"
      + " after it, before its sends): the state recovered from the journal must equal the fold of its events, twice; a difference is a"
      + " Recovery violation")
  boolean crashPoints;

  @Option(names = "--strategy", defaultValue = "random", description = "random, fifo, pct:D or delay:K (default ${DEFAULT-VALUE})")
  String strategy;

  @Option(names = "--stop-at-first", description = "stop at the first violating schedule")
  boolean stopAtFirst;

  @Option(names = "--parallel", defaultValue = "1", description = "exploration workers (default 1; totals do not depend on it)")
  int parallel;

  @Option(names = "--keep", defaultValue = "5", description = "violating schedules to journal and keep, at most (default ${DEFAULT-VALUE}): the first of each monitor/invariant,"
      + " then others up to half of it")
  int keep;

  @Option(names = "--from", paramLabel = "RUN_ID", description = "replay a prefix of this kept run, then explore onward")
  String from;

  @Option(names = "--prefix", defaultValue = "0", paramLabel = "K", description = "steps of --from to replay first")
  long prefix;

  @Option(names = "--json", description = "print one JSON object instead of text")
  boolean json;

  @Mixin WorkloadOptions workload;

  @Mixin JournalOptions journal;

  @Mixin LiveOptions live;

  @Override
  public Integer call() throws Exception {
    StrategySpec strategySpec;
    try {
      strategySpec = StrategySpec.parse(strategy);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    schedules = schedulesOption != null ? schedulesOption : crashPoints ? 1 : 1000;
    if (from == null && scenario == null) throw new UserError("explore needs a SCENARIO or --from RUN_ID");
    if (crashPoints && (from != null || live.live)) throw new UserError("--crash-points checks a SCENARIO's schedules on the controlled wire (not --from, not --live)");
    if (from != null && scenario != null) throw new UserError("give either a SCENARIO or --from RUN_ID, not both");
    if (prefix < 0 || (from == null && prefix > 0)) throw new UserError("--prefix needs --from and must not be negative");
    PrintWriter out = spec.commandLine().getOut();
    if (strategySpec.isLive()) throw new UserError("--strategy " + strategy + ": a live run's schedule comes from its threads; use --live");
    dmasim.scenarios.Runner.Live l = live.live();
    if (l != null && from != null) throw new UserError("--live explores a SCENARIO, not --from a kept run");
    if (l != null && spec.commandLine().getParseResult().hasMatchedOption("--strategy")) {
      throw new UserError("--strategy does not apply to --live: a live run's schedule comes from its threads");
    }
    try (Session session = new Session(journal, spec.commandLine().getErr(), from != null, false, live.config())) {
      Session.Kept parentKept = from == null ? null : session.keptToExecute(from, "explore --from");
      if (parentKept != null && !parentKept.stored().complete()) {
        throw new UserError("run " + from + " is " + parentKept.stored().status() + "; explore --from needs a complete run");
      }
      RunRecord parent = parentKept == null ? null : parentKept.record();
      if (parent != null && workload.faults != null) throw new UserError("--faults is for a SCENARIO; a run given by --from keeps its own faults");
      Scenario s = parent == null ? workload.scenario(scenario) : Catalog.resolve(parent.scenario());
      RunOptions o = parent == null ? workload.options(s) : parent.options();
      List<EnvelopeId> prefixIds = new ArrayList<>();
      if (parent != null) {
        List<RecordedStep> recorded = session.journal.read(session.system, parentKept.stored());
        if (prefix > recorded.size()) throw new UserError("--prefix " + prefix + " is longer than run " + from + " (" + recorded.size() + " steps)");
        for (int i = 0; i < prefix; i++) prefixIds.add(recorded.get(i).envelope());
      }
      Explorer.Plan plan;
      try {
        plan = new Explorer.Plan(strategySpec, schedules, stopAtFirst, parallel, keep, parent, prefix, l);
      } catch (IllegalArgumentException e) {
        throw new UserError(e.getMessage());
      }
      if (crashPoints) return crashPoints(session, s, o, strategySpec, out);
      Progress progress = new Progress(spec.commandLine().getErr(), schedules);
      Explorer.Summary sum = new Explorer(session.runner, session.journal).explore(s, o, plan, prefixIds, progress::update);
      progress.finish();
      double seconds = progress.seconds();
      if (json) out.println(json(sum, seconds));
      else text(out, sum, seconds, session.journal.kind().equals("memory"), journal.dataDirOption());
      out.flush();
      if (sum.keepFailure() != null) throw new dmasim.scenarios.InfrastructureError(sum.keepFailure(), null);
      return sum.violatingSchedules() > 0 ? Main.VIOLATION : Main.CLEAN;
    }
  }

  /** --crash-points: each schedule run journaled and kept, every actor recovered at every persist point; exit 1 on any difference or violation. */
  private int crashPoints(Session session, Scenario s, RunOptions o, StrategySpec strategySpec, PrintWriter out) {
    if (schedules < 1) throw new UserError("--schedules must be at least 1");
    out.printf(Locale.ROOT, "dmasim explore %s --crash-points (strategy %s, %d schedule(s), seed %d)%n", s.name(), strategySpec, schedules, o.seed());
    long points = 0;
    long recoveries = 0;
    int differences = 0;
    int violating = 0;
    for (long i = 0; i < schedules; i++) {
      String runId = dmasim.scenarios.Runner.runId(s, o) + "-crash-" + strategySpec.toString().replace(":", "") + "-x" + i;
      Progress[] shown = {null};
      dmasim.scenarios.CrashPoints.Result r = dmasim.scenarios.CrashPoints.check(session.runner, session.journal, session.system, s, o, strategySpec,
          dmasim.scenarios.Runner.scheduleSeed(o.seed(), i), runId, (done, total) -> {
            if (shown[0] == null) shown[0] = new Progress(spec.commandLine().getErr(), total, "recoveries", "differing actors");
            shown[0].update(done, 0); // differences are counted when the schedule's check ends
          });
      points += r.points();
      recoveries += r.recoveries();
      if (!r.run().clean()) violating++;
      out.printf(Locale.ROOT, "  schedule %d (run %s): %d steps, %s; %d actors, %d persist points, %d recoveries: %s%n", i, runId,
          r.run().outcome().steps(), r.run().verdict() + (r.run().clean() ? "" : " (" + r.run().firstMonitor() + ")"), r.actors(), r.points(),
          r.recoveries(), r.differences().isEmpty() ? "no recovery difference" : r.differences().size() + " actor(s) recover differently");
      for (dmasim.actors.monitor.Violation v : r.differences()) {
        differences++;
        out.printf(Locale.ROOT, "%nVIOLATION: %s [%s] at step %d, actor %s%n  %s%n", v.monitor(), v.invariant(), v.step(), v.actors().get(0),
            v.message());
      }
    }
    Output.row(out, "persist points checked", Long.toString(points));
    Output.row(out, "recoveries from the journal", Long.toString(recoveries));
    Output.row(out, "recovery differences", Integer.toString(differences));
    if (violating > 0) Output.row(out, "schedules breaking another invariant", violating + " (see 'dmasim replay RUN_ID')");
    out.flush();
    return differences > 0 || violating > 0 ? Main.VIOLATION : Main.CLEAN;
  }

  static void text(PrintWriter out, Explorer.Summary s, double seconds, boolean memory, String dataDirOption) {
    Explorer.Plan p = s.plan();
    out.printf(Locale.ROOT, "dmasim explore %s (strategy %s, %d schedules, seed %d, parallel %d%s)%n", s.scenario(), p.spec(), p.schedules(),
        s.options().seed(), p.parallel(), p.from() == null ? "" : ", after " + p.prefix() + " steps of " + p.from().runId());
    Output.row(out, "schedules run", Long.toString(s.schedulesRun()));
    Output.row(out, "steps", Long.toString(s.totalSteps()));
    Output.row(out, "schedules/s", String.format(Locale.ROOT, "%.0f", s.schedulesRun() / Math.max(seconds, 1e-9)));
    Output.row(out, "steps/s", String.format(Locale.ROOT, "%.0f", s.totalSteps() / Math.max(seconds, 1e-9)));
    Output.row(out, "violating schedules", s.violatingSchedules() + " (" + s.distinctViolatingSchedules() + " distinct schedules)");
    Output.row(out, "violations by monitor", s.violationsByMonitor().isEmpty() ? "none" : s.violationsByMonitor().toString());
    if (s.truncatedSchedules() > 0) {
      Output.row(out, "schedules cut at --max-steps", s.truncatedSchedules() + " (" + s.options().maxSteps() + " steps each: a loop that never ends, or a "
          + "run longer than the limit; their end-of-run checks were not made)");
    }
    Output.row(out, "coverage: actor/message pairs", Integer.toString(s.actorMessagePairs()));
    Output.row(out, "coverage: conflicting pairs", s.conflictingPairs() + " seen, " + s.conflictingPairsBothOrders() + " in both orders");
    Coverage.FaultWindows w = s.faultWindows();
    if (!w.seen().isEmpty()) {
      Output.row(out, "coverage: fault windows", w.invalidated().size() + " of " + w.seen().size() + " had an invalidation start inside");
      for (String window : w.seen()) out.println("    " + (w.invalidated().contains(window) ? "[x] " : "[ ] ") + window);
    }
    ExploreTotals t = s.totals();
    Output.row(out, "requests (all schedules)", Long.toString(t.requests()));
    Output.row(out, "IOTLB invalidations", String.format(Locale.ROOT, "%d (%.3f per request)", t.iotlbInvalidations(),
        t.iotlbInvalidationsPerRequest()));
    Output.row(out, "ATC invalidations", String.format(Locale.ROOT, "%d (%.3f per request)", t.atcInvalidations(), t.atcInvalidationsPerRequest()));
    Output.row(out, "fault-plan faults fired", Long.toString(t.faultsInjected()));
    Output.row(out, "DMA faults", Long.toString(t.dmaFaults()));
    Output.row(out, "exposures", Long.toString(t.exposures()));
    Output.row(out, "max exposure window", t.exposures() == 0 ? "none"
        : Output.time(t.maxExposureWindowNs()) + " (schedule " + t.maxExposureWindowSchedule() + ")");
    Output.row(out, "p99 exposure window", t.exposures() == 0 ? "none"
        : Output.time(t.p99ExposureWindowNs()) + " (of " + t.exposures() + " windows; bucketed, at most 1/64 high)");
    Output.row(out, "first violating schedule", t.firstViolatingSchedule().isEmpty() ? "none" : t.firstViolatingSchedule().toString());
    if (p.spec().kind().equals("pct")) {
      int d = p.spec().parameter();
      Output.row(out, "PCT bound per schedule", String.format(Locale.ROOT, "1/(n k^(d-1)) = 1/(%d x %d^%d) = %.3g", s.actors(), s.expectedSteps(),
          d - 1, s.pctBound()));
      Output.row(out, "P(a depth-" + d + " bug was missed)", String.format(Locale.ROOT, "%.3g after %d schedules", s.missProbability(),
          s.schedulesRun()));
    }
    if (s.firstViolation() != null) {
      out.printf(Locale.ROOT, "%nfirst violation: schedule %d: %s [%s]: %s%n", s.firstViolation().index(), s.firstViolation().firstMonitor(),
          s.firstViolation().firstInvariant(), s.firstViolation().message());
    }
    if (!s.kept().isEmpty()) {
      out.printf(Locale.ROOT, "%nkept %d of %d violating schedules%s:%n", s.kept().size(), s.violatingSchedules(), memory
          ? " (memory journal: not durable, cannot be replayed later)" : "");
      for (RunReport k : s.kept()) {
        out.printf(Locale.ROOT, "  %s  %s at step %d%n", k.runId(), k.firstMonitor(), k.outcome().steps());
        if (!memory) out.printf(Locale.ROOT, "    replay: ./dmasim replay %s%s%n", k.runId(), dataDirOption);
      }
    }
  }

  static String json(Explorer.Summary s, double seconds) throws Exception {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("scenario", s.scenario());
    m.put("strategy", s.plan().spec().toString());
    m.put("seed", s.options().seed());
    m.put("schedulesRun", s.schedulesRun());
    m.put("steps", s.totalSteps());
    m.put("violatingSchedules", s.violatingSchedules());
    m.put("distinctViolatingSchedules", s.distinctViolatingSchedules());
    m.put("violationsByMonitor", s.violationsByMonitor());
    m.put("actorMessagePairs", s.actorMessagePairs());
    m.put("conflictingPairs", s.conflictingPairs());
    m.put("conflictingPairsBothOrders", s.conflictingPairsBothOrders());
    m.put("truncatedSchedules", s.truncatedSchedules());
    m.put("faultWindows", s.faultWindows().seen());
    m.put("faultWindowsInvalidated", s.faultWindows().invalidated());
    m.put("firstViolatingSchedule", s.totals().firstViolatingSchedule());
    m.put("stats", s.totals().asMap());
    m.put("expectedSteps", s.expectedSteps());
    if (s.plan().spec().kind().equals("pct")) {
      m.put("pctBound", s.pctBound());
      m.put("missProbability", s.missProbability());
    }
    m.put("kept", s.kept().stream().map(RunReport::runId).toList());
    m.put("timing", Map.of("seconds", seconds, "schedulesPerSecond", s.schedulesRun() / Math.max(seconds, 1e-9)));
    return new ObjectMapper().writeValueAsString(m);
  }
}
