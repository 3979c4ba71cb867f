package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.chaos.StrategySpec;
import dmasim.protocol.DeviceEvent;
import dmasim.protocol.Event;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device component faults (an unrequested reset, a surprise removal) fire on the envelope the rule
 * selects and never otherwise, are journaled with the device's step, lose what the device held, are
 * named by the violations that follow, and replay identically.
 */
class DeviceFaultsTest {
  @TempDir static Path dir;
  static Journal journal;
  static ActorSystem<Void> system;
  static Runner runner;
  static String base;
  static RunReport report;

  @BeforeAll
  static void start() throws IOException {
    journal = Journal.h2(dir);
    system = ActorSystem.create(Behaviors.empty(), "device-faults", journal.config());
    journal.prepare(system);
    runner = new Runner(system);
    try (InputStream in = DeviceFaultsTest.class.getResourceAsStream("/catalog/reset-injected-remap.conf")) {
      base = new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("(?m)^(expect|faults) .*$", "");
    }
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** The timeout-reset-remap driver (2 CPU queues x 4 requests x 4 pages, 20us command timeout) with {@code faults}. */
  static Scenario scenario(String name, String faults) {
    return ScenarioFile.parse(name + ".conf", base.replace("name = reset-injected-remap", "name = " + name) + "\nfaults = [ " + faults + " ]\n");
  }

  static List<RecordedStep> recorded(Scenario s) {
    report = journal.keep(Runner.plan(s, s.defaults(), s.name() + "-s1"), id -> runner.run(s, s.defaults(), s.name() + "-s1", id));
    return journal.read(system, journal.lookup(report.runId()));
  }

  /** "step actor event" for every device event that shows a fault and its effect. */
  static List<String> faultEvents(List<RecordedStep> steps) {
    List<String> out = new ArrayList<>();
    for (RecordedStep r : steps) {
      for (Event e : r.events()) {
        if (e instanceof DeviceEvent.FaultDecided f) out.add(r.actor() + " " + f.from() + " " + f.type() + " " + f.match() + (f.injected() ? " " + f.fault() : ""));
        else if (e instanceof DeviceEvent.DeviceWasReset w) out.add(r.actor() + " reset dropping " + w.droppedDescriptors());
        else if (e instanceof DeviceEvent.DeviceRemoved d) out.add(r.actor() + " removed dropping " + d.droppedDescriptors());
      }
    }
    return out;
  }

  static void replaysIdentically(Scenario s, List<RecordedStep> steps) {
    Replayer.Result r = Replayer.replay(runner, s, journal.lookup(report.runId()).record(), steps, null);
    assertTrue(r.identical(), () -> String.valueOf(r.divergence()));
    assertEquals(report.violations(), r.report().violations());
  }

  @Test
  void withoutADeviceRuleNothingIsDecided() {
    Scenario s = scenario("df-none", "{ op = map_phys, nth = 99 }");
    List<RecordedStep> steps = recorded(s);
    assertEquals(List.of(), faultEvents(steps));
    assertEquals("clean", report.verdict());
    assertEquals(8, steps.stream().filter(r -> r.type().equals("Completed")).count());
  }

  @Test
  void aResetOnCpu1sSecondDescriptorLosesItAndTheDriverRecovers() {
    Scenario s = scenario("df-reset", "{ device = nvme, fault = reset, on = Submit, from = cpu1, nth = 2 }");
    List<RecordedStep> steps = recorded(s);
    // cpu1's 1st descriptor is counted, its 2nd fires the reset (lost with the other queue's in flight); the driver's
    // own reset (on timeout) is a Reset from cpu1, not a Submit, so the rule does not count it.
    List<String> f = faultEvents(steps);
    assertEquals(List.of("dev0 cpu1 Submit 1", "dev0 cpu1 Submit 2 reset"), f.subList(0, 2));
    assertTrue(f.get(2).startsWith("dev0 reset dropping "), f.toString());
    assertEquals(List.of("dev0 cpu1 Submit 3", "dev0 cpu1 Submit 4", "dev0 cpu1 Submit 5"),
        f.subList(3, f.size()).stream().filter(x -> x.contains("Submit")).toList(), "the resubmission and the last two requests are counted, none fires");
    assertEquals("clean", report.verdict(), report.violations().toString());
    assertEquals(1L, report.stats().get("faultsInjected"));
    replaysIdentically(s, steps);
  }

  @Test
  void aSurpriseRemovalHangsTheDriverAndTerminationNamesIt() {
    Scenario s = scenario("df-remove", "{ device = nvme, fault = remove, on = NextAccess, nth = 3 }");
    List<RecordedStep> steps = recorded(s);
    List<String> f = faultEvents(steps);
    assertEquals(List.of("dev0 dev0 NextAccess 1", "dev0 dev0 NextAccess 2", "dev0 dev0 NextAccess 3 remove"), f.subList(0, 3));
    assertTrue(f.get(3).startsWith("dev0 removed dropping "), f.toString());
    assertEquals(4, f.size(), "a removed device decides nothing more: " + f);
    assertEquals(2, report.violations().size(), report.violations().toString());
    assertEquals("Termination", report.violations().get(0).monitor());
    String msg = report.violations().get(0).message();
    assertTrue(msg.contains("; faults the plan injected: step "), msg);
    assertTrue(msg.endsWith(" dev0: the device is removed as dev0's 3rd NextAccess arrives (rule: remove on the 3rd NextAccess of each sender)"), msg);
    replaysIdentically(s, steps);
  }

  /** A crash and restart of the device (its descriptors and ATC lost, its journal kept): the timeout driver recovers; the restart is journaled and replayed. */
  @Test
  void aCrashedDeviceRestartsWithoutItsDescriptorsAndTheDriverRecovers() {
    Scenario s = scenario("df-crash", "{ crash = nvme, on = NextAccess, nth = 2 }");
    List<RecordedStep> steps = recorded(s);
    List<String> restarts = new ArrayList<>();
    for (RecordedStep r : steps) {
      for (Event e : r.events()) {
        if (e instanceof dmasim.protocol.JournalEvent.ActorRestarted a) restarts.add(r.actor() + " " + r.type() + " " + a.lostType() + ": " + a.rule());
        if (e instanceof dmasim.protocol.WireEvent.MessageFaulted m) restarts.add(r.actor() + " sent " + m.type() + " " + m.action());
      }
    }
    assertEquals(List.of("dev0 sent NextAccess crashed its receiver", "dev0 Crash NextAccess: crash dev0 on the 2nd NextAccess of each sender"),
        restarts);
    assertEquals("clean", report.verdict(), report.violations().toString());
    assertEquals(1L, report.stats().get("faultsInjected"));
    replaysIdentically(s, steps);
    // The restart folds as recovery does: crashing every actor at every persist point of this run recovers the same states.
    dmasim.scenarios.CrashPoints.Result crash = dmasim.scenarios.CrashPoints.check(runner, journal, system, s, s.defaults(), StrategySpec.parse("random"),
        Runner.scheduleSeed(1, 0), "df-crash-points");
    assertEquals(List.of(), crash.differences());
  }

  /** A crashed IOMMU loses its pending invalidation: the strict destroy waiting for it never returns, and Termination names the crash. */
  @Test
  void aCrashedIommuLosesItsInvalidationQueue() {
    Scenario s = scenario("df-iommu-crash", "{ crash = iommu0, on = InvalidationDone, nth = 1 }");
    List<RecordedStep> steps = recorded(s);
    assertEquals("Termination", report.firstMonitor(), report.violations().toString());
    assertTrue(report.violations().get(0).message().contains("; faults the plan injected: step "), report.violations().get(0).message());
    assertTrue(report.violations().get(0).message().endsWith(" iommu0: iommu0's 1st InvalidationDone to iommu0 crashed its receiver (rule: crash iommu0"
        + " on the 1st InvalidationDone of each sender)"), report.violations().get(0).message());
    replaysIdentically(s, steps);
  }

  /** After a surprise removal a driver that probes the device (pci_device_is_present) before resetting it finishes; one that resets it hangs. */
  @Test
  void aDriverThatProbesBeforeResettingSurvivesASurpriseRemoval() throws IOException {
    String text;
    try (InputStream in = DeviceFaultsTest.class.getResourceAsStream("/catalog/surprise-removal-timeout-probe.conf")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Scenario probing = ScenarioFile.parse("probe.conf", text);
    RunReport ok = runner.run(probing, probing.defaults(), "df-probe");
    assertEquals("clean", ok.verdict(), ok.violations().toString());
    assertEquals(1L, ok.stats().get("faultsInjected"));
    Scenario blind = ScenarioFile.parse("blind.conf", text.replace("name = surprise-removal-timeout-probe", "name = blind")
        .replace("    \"probe-device\"\n    \"if-error goto=unwind\"\n", ""));
    RunReport hung = runner.run(blind, blind.defaults(), "df-blind");
    assertEquals("Termination", hung.firstMonitor(), hung.violations().toString());
    assertTrue(hung.violations().get(0).message().contains("waits for reset_device of dev0"), hung.violations().get(0).message());
  }

  /**
   * A device stalled by a delayed page step outlives the driver's timeout; the driver unmaps without a
   * reset and goes on with many requests on the same handle. The I19 explanation still shows the
   * submit and the unmap its message cites, though more than twenty later steps touched the handle.
   */
  @Test
  void theStepsAViolationCitesStayInItsExplanation() {
    String text = String.join("\n", "name = stalled-rx", "description = x", "cpus = 1", "devices = [ { name = nic, page-time = 1us } ]",
        "workload { requests = 6, segments = 2 }", "iommu { mode = strict }",
        "faults = [ { message = delay, type = NextAccess, from = nic, nth = 2, delay = 100us } ]",
        "programs { all = [", "\"repeat times=$requests\"", "\"alloc buf=rx pages=$segments\"", "\"map-phys handle=h buf=rx seg=all dir=from-device\"",
        "\"mapping-error handle=h seg=all goto=out\"", "\"submit source=handles:h device-writes=true\"", "\"await timeout=50us\"", "\"unmap-phys handle=h seg=all dir=from-device\"",
        "\"label out\"", "\"free-pages buf=rx\"", "\"request-done\"",
        "\"end-repeat\"", "] }", "");
    Scenario s = ScenarioFile.parse("stalled.conf", text);
    RunReport r = runner.run(s, s.defaults(), "df-cited");
    dmasim.actors.monitor.Violation v = r.violations().get(0);
    assertEquals("DeviceAccessAfterUnmap I19", v.monitor() + " " + v.invariant());
    String m = v.message();
    long submit = Long.parseLong(m.replaceFirst("(?s).* submitted at step ([0-9]+),.*", "$1"));
    long unmap = Long.parseLong(m.replaceFirst("(?s).* unmapped it with unmap_phys at step ([0-9]+) .*", "$1"));
    assertTrue(v.causes().size() > 20, "a long history: " + v.causes());
    assertTrue(v.causes().stream().anyMatch(c -> c.startsWith("step " + submit + " ")), "the submit step " + submit + " is shown: " + v.causes());
    assertTrue(v.causes().stream().anyMatch(c -> c.startsWith("step " + unmap + " ")), "the unmap step " + unmap + " is shown: " + v.causes());
    assertTrue(v.causes().stream().anyMatch(c -> c.matches("\\([0-9]+ earlier step\\(s\\) omitted\\)")), v.causes().toString());
  }

  /** A rule counting one CPU queue's descriptors fires on the same descriptor in every schedule. */
  @Test
  void aRuleOnOneQueuesDescriptorsFiresOnTheSameOneInEverySchedule() {
    Scenario s = scenario("df-schedules", "{ device = nvme, fault = reset, on = Submit, from = cpu0, probability = 0.5 }");
    List<String> first = null;
    for (String strategy : List.of("random", "pct:3", "fifo")) {
      for (long schedule = 0; schedule < 5; schedule++) {
        List<String> injected = new ArrayList<>();
        RunReport r = runner.run(s, s.defaults(), "df-" + strategy + schedule, StrategySpec.parse(strategy), Runner.scheduleSeed(1, schedule), 0, null,
            null, (step, env, events) -> {
              for (Event e : events) if (e instanceof DeviceEvent.FaultDecided d && d.injected()) injected.add(d.from() + " " + d.match());
              return false;
            });
        assertEquals("clean", r.verdict(), strategy + " " + schedule + ": " + r.violations());
        if (first == null) first = injected;
        assertEquals(first, injected, strategy + " schedule " + schedule);
      }
    }
    assertTrue(!first.isEmpty(), "the seed fires at least once: " + first);
  }
}
