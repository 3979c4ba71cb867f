package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.chaos.StrategySpec;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import dmasim.protocol.WireEvent;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.Replayer;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.ScenarioFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every message-fault kind (delay, drop, duplicate, reorder, and the invalidation shorthands) fires
 * when a rule asks for it and never otherwise, is journaled with the step that sent the envelope,
 * has its effect on the delivered envelopes, names the same envelopes in every schedule, and is
 * reproduced by replaying the journal.
 */
class MessageFaultsTest {
  @TempDir static Path dir;
  static Journal journal;
  static ActorSystem<Void> system;
  static Runner runner;
  static String base;

  @BeforeAll
  static void start() throws IOException {
    journal = Journal.h2(dir);
    system = ActorSystem.create(Behaviors.empty(), "message-faults", journal.config());
    journal.prepare(system);
    runner = new Runner(system);
    try (InputStream in = MessageFaultsTest.class.getResourceAsStream("/catalog/iova-strict.conf")) {
      base = new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("(?m)^expect.*$", "");
    }
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** iova-strict (2 CPU queues x 4 requests x 4 segments) with {@code faults}, under the name {@code name}. */
  static Scenario scenario(String name, String faults) {
    return ScenarioFile.parse(name + ".conf", base.replace("name = iova-strict", "name = " + name) + "\nfaults = [ " + faults + " ]\n");
  }

  /** The report of the last {@link #recorded} run. */
  static RunReport report;

  /** A journaled run of schedule 0 of seed 3, kept, then read back step by step. */
  static List<RecordedStep> recorded(Scenario s) {
    report = journal.keep(Runner.plan(s, s.defaults().withSeed(3), s.name() + "-s3"), id -> runner.run(s, s.defaults().withSeed(3),
        s.name() + "-s3", id));
    assertEquals(report.runId(), s.name() + "-s3");
    return journal.read(system, journal.lookup(report.runId()));
  }

  /** Every MessageFaulted of a recording: "sender match type to action delay". */
  static List<String> faults(List<RecordedStep> steps) {
    List<String> out = new ArrayList<>();
    for (RecordedStep r : steps) {
      for (Event e : r.events()) {
        if (e instanceof WireEvent.MessageFaulted m) {
          assertEquals(r.actor(), m.sender(), "journaled with the step of the sender");
          out.add(m.sender() + " " + m.match() + " " + m.type() + " " + m.to() + " " + m.action() + (m.delay() > 0 ? " " + m.delay() : ""));
        }
      }
    }
    return out;
  }

  static long handled(List<RecordedStep> steps, String type) {
    return steps.stream().filter(r -> r.type().equals(type)).count();
  }

  /** The replay of the kept recording is identical, step for step, events included, and reaches the same verdict (a Termination judged at the end too). */
  static void replaysIdentically(Scenario s, List<RecordedStep> steps) {
    Replayer.Result r = Replayer.replay(runner, s, journal.lookup(s.name() + "-s3").record(), steps, null);
    assertTrue(r.identical(), () -> String.valueOf(r.divergence()));
    assertEquals(report.violations().stream().map(v -> v.monitor() + " " + v.invariant() + " @" + v.step() + ": " + v.message()).toList(),
        r.report().violations().stream().map(v -> v.monitor() + " " + v.invariant() + " @" + v.step() + ": " + v.message()).toList());
  }

  @Test
  void withoutARuleNothingIsFaulted() {
    Scenario s = scenario("mf-none", "{ op = map_phys, nth = 99 }");
    List<RecordedStep> steps = recorded(s);
    assertEquals(List.of(), faults(steps));
    assertEquals(handled(steps, "InvalidationPosted"), 0);
    // One InvalidationDone per destroy: 2 queues x 4 requests, none lost, and one Completed per submit.
    assertEquals(8, handled(steps, "InvalidationDone"));
    assertEquals(8, handled(steps, "Completed"));
    replaysIdentically(s, steps);
  }

  @Test
  void aDroppedInvalidationCompletionHangsTheUnmapAndTerminationNamesTheFault() {
    Scenario s = scenario("mf-timeout", "{ invalidation = timeout, nth = 1 }");
    List<RecordedStep> steps = recorded(s);
    assertEquals(List.of("iommu0 1 InvalidationDone iommu0 dropped"), faults(steps));
    assertEquals(4, handled(steps, "InvalidationDone"), "cpu0's first destroy never returns; cpu1's four requests complete");
    RunReport r = report;
    assertEquals(List.of("Termination LIVENESS: cpu0 never finished its program: it still waits for destroy of s (pc 17); the fault plan dropped"
        + " 1 envelope(s): step 58 iommu0's 1st InvalidationDone to iommu0 dropped (rule: drop the 1st InvalidationDone from iommu0 to iommu0)"),
        r.violations().stream().map(v -> v.monitor() + " " + v.invariant() + ": " + v.message()).toList());
    replaysIdentically(s, steps);
  }

  /** Lazy mode: no driver call waits for the flush, but the hung invalidation queue is a hang all the same (an invalidation time-out). */
  @Test
  void aLostFlushQueueInvalidationIsAHangToo() {
    Scenario s = scenario("mf-lazy-timeout", "{ invalidation = timeout, nth = 1 }");
    RunReport r = runner.run(s, s.defaults().withSeed(3).withMode(dmasim.actors.iommu.IommuSettings.Mode.LAZY), "mf-lazy-timeout");
    assertEquals(1, r.violations().size(), r.violations().toString());
    assertTrue(r.violations().get(0).message().matches("the IOMMU's domain-wide invalidation 1 \\(posted at step [0-9]+\\) never completed: the"
        + " invalidation queue hung \\(an invalidation time-out\\), and what waited for it \\(a flush-queue flush, a strict unmap\\) never"
        + " finished; the fault plan dropped 1 envelope\\(s\\): step [0-9]+ iommu0's 1st InvalidationDone to iommu0 dropped \\(rule: drop the"
        + " 1st InvalidationDone from iommu0 to iommu0\\)"), r.violations().get(0).message());
  }

  @Test
  void aSlowInvalidationCompletesLateByItsDelay() {
    Scenario s = scenario("mf-slow", "{ invalidation = slow, every = 1, delay = 50us }");
    List<RecordedStep> steps = recorded(s);
    List<String> f = faults(steps);
    assertEquals(8, f.size());
    for (int i = 0; i < 8; i++) assertEquals("iommu0 " + (i + 1) + " InvalidationDone iommu0 delayed 50000", f.get(i));
    Map<EnvelopeId, Long> at = new HashMap<>();
    for (RecordedStep r : steps) at.put(r.envelope(), r.at());
    long late = steps.stream().filter(r -> r.type().equals("InvalidationDone")).filter(r -> r.at() - at.get(r.cause()) >= 50_000).count();
    assertEquals(8, late, "every completion is delivered at least 50us after the step that posted it");
    assertEquals("clean", report.verdict());
    replaysIdentically(s, steps);
  }

  @Test
  void aDuplicatedCompletionIsDeliveredTwice() {
    Scenario s = scenario("mf-dup", "{ message = duplicate, type = Completed, from = nvme, nth = 2 }");
    List<RecordedStep> steps = recorded(s);
    assertEquals(List.of("dev0 2 Completed cpu1 duplicated"), faults(steps));
    assertEquals(9, handled(steps, "Completed"), "8 completions, one of them twice");
    replaysIdentically(s, steps);
  }

  @Test
  void aDroppedCompletionIsNeverDelivered() {
    Scenario s = scenario("mf-drop", "{ message = drop, type = Completed, to = cpu1, nth = 2 }");
    List<RecordedStep> steps = recorded(s);
    assertEquals(1, faults(steps).size());
    assertTrue(faults(steps).get(0).matches("dev0 [0-9]+ Completed cpu1 dropped"), faults(steps).toString());
    assertEquals(5, handled(steps, "Completed"), "cpu1 waits forever for its 2nd completion: cpu0's 4 and cpu1's 1st arrive");
    assertEquals(List.of("Termination LIVENESS @194: cpu1 never finished its program: it still waits for await of tag 4294967298 (pc 16);"
        + " the fault plan dropped 1 envelope(s): step 124 dev0's 2nd Completed to cpu1 dropped (rule: drop the 2nd Completed to cpu1 of each sender)",
        "IovaApiUsage I12 @194: the IOVA of cpu1/s (pfn 1048568) was never destroyed or freed"),
        report.violations().stream().map(v -> v.monitor() + " " + v.invariant() + " @" + v.step() + ": " + v.message()).toList());
    replaysIdentically(s, steps);
  }

  @Test
  void aDelayedReturnIsJournaledWithItsDrawnDelay() {
    Scenario s = scenario("mf-delay", "{ message = delay, type = Returned, probability = 0.3, delay = { uniform = [1us, 3us] } }");
    List<RecordedStep> steps = recorded(s);
    List<String> f = faults(steps);
    assertTrue(f.size() >= 3 && f.size() <= 30, f.toString());
    for (String d : f) {
      long ns = Long.parseLong(d.substring(d.lastIndexOf(' ') + 1));
      assertTrue(ns >= 1000 && ns <= 3000, d);
      assertTrue(d.startsWith("iommu0 ") && d.contains(" Returned cpu") && d.contains(" delayed "), d);
    }
    replaysIdentically(s, steps);
  }

  @Test
  void reorderedTranslationsAreJournaled() {
    Scenario s = scenario("mf-reorder", "{ message = reorder, type = Translate, every = 2 }");
    List<RecordedStep> steps = recorded(s);
    List<String> f = faults(steps);
    long translations = handled(steps, "Translate");
    assertEquals(translations / 2, f.size(), f.toString());
    for (int i = 0; i < f.size(); i++) assertEquals("dev0 " + 2 * (i + 1) + " Translate iommu0 reordered", f.get(i));
    replaysIdentically(s, steps);
  }

  /** Each queue's 2nd try_alloc fails; cpu1 reaches its 3rd page allocation first in this schedule, and the run stops at its NULL use. */
  static final List<String> EXPECTED_CALL_FAULTS = List.of("iommu0 cpu0 try_alloc 2", "iommu0 cpu1 try_alloc 2", "mem cpu1 alloc_pages 3");

  /** Call faults (a failing try_alloc, page allocation, swiotlb slot) are journaled with the step that decided them and replayed. */
  @Test
  void callFaultsAreJournaledAndReplayed() {
    Scenario s = scenario("mf-calls", "{ op = try_alloc, every = 2 }, { op = alloc_pages, nth = 3 }");
    List<RecordedStep> steps = recorded(s);
    List<String> decided = new ArrayList<>();
    for (RecordedStep r : steps) {
      for (Event e : r.events()) {
        if (e instanceof dmasim.protocol.IommuEvent.FaultDecided f && f.injected()) decided.add(r.actor() + " " + f.caller() + " " + f.op() + " " + f.call());
        if (e instanceof dmasim.protocol.MemoryEvent.AllocFaultDecided a && a.injected()) decided.add(r.actor() + " " + a.caller() + " alloc_pages "
            + a.call());
      }
    }
    assertEquals(EXPECTED_CALL_FAULTS, decided);
    assertEquals("MemorySafety", report.firstMonitor(), "the driver does not check its third allocation: " + report.violations());
    assertEquals("NULL", report.violations().get(0).invariant());
    replaysIdentically(s, steps);
  }

  /** A bounce slot the fault plan refuses fails that link with -ENOMEM; the driver unwinds; the decisions are journaled and replayed. */
  @Test
  void aRefusedSwiotlbSlotIsJournaledAndReplayed(@TempDir Path tmp) throws IOException {
    Path faults = tmp.resolve("slots.conf");
    java.nio.file.Files.writeString(faults, "faults = [ { op = swiotlb, nth = 2 } ]\n");
    Scenario s = dmasim.scenarios.ScenarioFile.withFaults(dmasim.scenarios.Catalog.find("b9-swiotlb-slot-initialised").orElseThrow(), faults);
    List<RecordedStep> steps = recorded(s);
    List<String> decided = new ArrayList<>();
    for (RecordedStep r : steps) {
      for (Event e : r.events()) {
        if (e instanceof dmasim.protocol.IommuEvent.FaultDecided f) decided.add(f.caller() + " " + f.op() + " " + f.call() + (f.injected() ? " injected" : ""));
      }
    }
    assertEquals(List.of("cpu0 swiotlb 1", "cpu0 swiotlb 2 injected", "cpu0 swiotlb 3", "cpu0 swiotlb 4", "cpu0 swiotlb 5", "cpu0 swiotlb 6",
        "cpu1 swiotlb 1", "cpu1 swiotlb 2 injected", "cpu1 swiotlb 3", "cpu1 swiotlb 4", "cpu1 swiotlb 5", "cpu1 swiotlb 6"),
        decided.stream().sorted().toList());
    assertEquals("clean", report.verdict(), report.violations().toString());
    replaysIdentically(s, steps);
  }

  /** The envelopes a rule faults, by sender and match number, are the same in every schedule and strategy. */
  @Test
  void aRuleFaultsTheSameEnvelopesInEverySchedule() {
    Scenario s = scenario("mf-schedules", "{ message = drop, type = Completed, from = nvme, probability = 0.25 }");
    List<String> first = null;
    for (String strategy : List.of("random", "pct:3", "fifo")) {
      for (long schedule = 0; schedule < 6; schedule++) {
        List<String> seen = new ArrayList<>();
        runner.run(s, s.defaults().withSeed(11), "mf-" + strategy + schedule, StrategySpec.parse(strategy), Runner.scheduleSeed(11, schedule), 0,
            null, null, (step, env, events) -> {
              for (Event e : events) if (e instanceof WireEvent.MessageFaulted m) seen.add(m.sender() + " " + m.match() + " " + m.action());
              return false;
            });
        if (first == null) first = seen;
        assertEquals(first, seen, strategy + " schedule " + schedule);
      }
    }
    assertTrue(first.size() >= 1 && first.size() <= 6, first.toString());
  }
}
