package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.chaos.StrategySpec;
import dmasim.protocol.IommuEvent;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A fault rule fails the same calls in every schedule: calls are counted per calling CPU queue,
 * whose program fixes them, never over the interleaving of all queues.
 */
class FaultDecisionsTest {
  private static ActorSystem<Void> system;
  private static Runner runner;

  @BeforeAll
  static void start() {
    system = ActorSystem.create(Behaviors.empty(), "fault-decisions", Journal.memory().config());
    runner = new Runner(system);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Every FaultDecided of one schedule, as "caller op call injected", sorted (the order of callers is the schedule's). */
  static List<String> decisions(Scenario s, StrategySpec strategy, long schedule) {
    List<String> out = new ArrayList<>();
    RunReport r = runner.run(s, s.defaults(), "faults-" + schedule, strategy, Runner.scheduleSeed(7, schedule), 0, null, null,
        (step, env, events) -> {
          for (Object e : events) {
            if (e instanceof IommuEvent.FaultDecided f) out.add(f.caller() + " " + f.op() + " " + f.call() + (f.injected() ? " injected" : ""));
          }
          return false;
        });
    assertEquals("clean", r.verdict(), s.name() + " schedule " + schedule + ": " + r.violations());
    return out.stream().sorted().toList();
  }

  @Test
  void everySecondTryAllocFailsPerCpuQueueInEverySchedule() {
    Scenario s = Catalog.find("iova-fallback").orElseThrow();
    // 2 CPU queues x 4 requests, `every = 2`: each queue's 2nd and 4th try_alloc fail, and nothing else is decided.
    List<String> expected = List.of("cpu0 try_alloc 1", "cpu0 try_alloc 2 injected", "cpu0 try_alloc 3", "cpu0 try_alloc 4 injected",
        "cpu1 try_alloc 1", "cpu1 try_alloc 2 injected", "cpu1 try_alloc 3", "cpu1 try_alloc 4 injected");
    for (String strategy : List.of("random", "pct:3", "fifo")) {
      for (long schedule = 0; schedule < 8; schedule++) {
        assertEquals(expected, decisions(s, StrategySpec.parse(strategy), schedule), strategy + " schedule " + schedule);
      }
    }
  }

  @Test
  void theNthSyncFailsOnTheSameQueueCallsWhateverTheInterleaving() {
    Scenario s = Catalog.find("b11-sync-map-failure-handled").orElseThrow();
    List<String> first = decisions(s, StrategySpec.parse("random"), 0);
    assertEquals(List.of("cpu0 sync 2 injected", "cpu1 sync 2 injected"), first.stream().filter(d -> d.endsWith("injected")).toList());
    for (long schedule = 1; schedule < 12; schedule++) assertEquals(first, decisions(s, StrategySpec.parse("random"), schedule));
  }

  @Test
  void aViolationsExplanationNamesTheFaultThatPrecededIt() {
    Scenario s = Catalog.find("iova-fallback-unchecked").orElseThrow();
    RunReport r = runner.run(s, s.defaults(), "explained");
    dmasim.actors.monitor.Violation v = r.violations().get(0);
    assertEquals("DmaApiDebug I13 @24 [cpu1/h]", v.monitor() + " " + v.invariant() + " @" + v.step() + " " + v.about());
    String map = " -> iommu0 MapPhys (iova-fallback-unchecked.conf:28 programs.all[16])";
    assertEquals(List.of("step 7 @0ns iommu0#1 -> cpu1 Returned", "step 8 @0ns cpu1#3" + map, "step 9 @0ns iommu0#2 -> cpu1 Returned",
        "step 11 @0ns cpu1#4" + map, "step 13 @0ns iommu0#3 -> cpu1 Returned",
        "step 17 @0ns cpu1#5" + map + " -- FAULT INJECTED: cpu1's 3rd map_phys fails with -ENOMEM (rule: map_phys call 3 of each CPU queue)",
        "step 18 @0ns iommu0#6 -> cpu1 Returned", "step 19 @0ns cpu1#6" + map, "step 24 @0ns iommu0#7 -> cpu1 Returned"), v.causes());
  }

  /** The catalogue driver that does not check its page allocation, with each queue's 2nd allocation failing. */
  static Scenario uncheckedAllocations(String extraSteps) throws Exception {
    String text;
    try (java.io.InputStream in = FaultDecisionsTest.class.getResourceAsStream("/catalog/iova-strict.conf")) {
      text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    text = text.replaceAll("(?m)^expect.*$", "").replace("\"write buf=buf\"", extraSteps + "\"write buf=buf\"") + "\nfaults = [ { op = alloc_pages, nth = 2 } ]\n";
    return dmasim.scenarios.ScenarioFile.parse("alloc.conf", text);
  }

  @Test
  void aFailedPageAllocationTheDriverDoesNotCheckIsANullDereference() throws Exception {
    Scenario s = uncheckedAllocations("");
    RunReport r = runner.run(s, s.defaults(), "alloc-unchecked");
    assertEquals(List.of("MemorySafety NULL @69 at alloc.conf:14 programs.all[2]: cpu0/buf was used after its allocation failed (the driver did not"
        + " check alloc_pages / kmalloc for NULL): a NULL pointer dereference, the kernel oopses"), r.violations().stream().map(v -> v.monitor() + " "
        + v.invariant() + " @" + v.step() + " at " + v.where() + ": " + v.message()).toList());
    assertEquals(List.of("step 68 mem: cpu0's 2nd page allocation fails (rule: alloc_pages call 2 of each CPU queue)"), r.violations().get(0).faults());
  }

  @Test
  void aDriverThatChecksItsAllocationSkipsTheRequestAndStaysClean() throws Exception {
    Scenario s = uncheckedAllocations("\"if-error goto=done\"\n");
    RunReport r = runner.run(s, s.defaults(), "alloc-checked");
    assertEquals("clean", r.verdict(), r.violations().toString());
    assertEquals(2L, r.stats().get("faultsInjected"), "each queue's 2nd allocation failed");
  }

  @Test
  void aSwiotlbSlotThatCannotBeFoundFailsTheLinkAndTheDriverUnwinds() {
    Scenario s = Catalog.find("b9-swiotlb-slot-initialised").orElseThrow();
    Scenario faulted = dmasim.scenarios.ScenarioFile.parse("sw.conf", "name = sw\ndescription = x\ncpus = 1\ndevices = [ { name = d, untrusted = true } ]\n"
        + "faults = [ { op = swiotlb, nth = 1 } ]\nprograms { all = [\n \"alloc buf=b pages=1\"\n \"try-alloc state=s buf=b\"\n"
        + " \"link state=s buf=b seg=0 dir=to-device size=1000 goto=unwind\"\n \"sync state=s\"\n \"destroy state=s dir=to-device\"\n"
        + " \"goto out\"\n \"label unwind\"\n \"destroy state=s dir=to-device segs=linked\"\n \"label out\"\n \"free-pages buf=b\"\n ] }\n");
    List<String> decided = new ArrayList<>();
    RunReport r = runner.run(faulted, faulted.defaults(), "swiotlb-fault", StrategySpec.parse("fifo"), 1, 0, null, null, (step, env, events) -> {
      for (Object e : events) {
        if (e instanceof IommuEvent.FaultDecided f) decided.add(f.caller() + " " + f.op() + " " + f.call() + (f.injected() ? " injected" : ""));
        if (e instanceof IommuEvent.MapFailed m) decided.add(m.api() + " failed " + dmasim.protocol.Errno.name(m.errno()) + ": " + m.reason());
      }
      return false;
    });
    assertEquals(List.of("cpu0 swiotlb 1 injected", "link failed -ENOMEM: swiotlb slots exhausted"), decided);
    assertEquals("clean", r.verdict(), r.violations().toString());
    assertEquals("clean", runner.run(s, s.defaults(), "b9").verdict());
  }
}
