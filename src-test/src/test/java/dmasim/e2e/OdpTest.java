package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.scenarios.Explorer;
import dmasim.scenarios.Journal;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.ScenarioFile;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RDMA on-demand paging end to end: each buggy ODP catalogue file is found by the strategy and budget
 * its expectation names, with the whole message of its first violation at its step and schedule; and
 * exploring the fixed explicit and implicit MRs lands an invalidation in every window of a device
 * fault (mkey lookup, map-and-lock, UMR, unlock, deref, resume).
 */
class OdpTest {
  @TempDir static Path dir;
  static Journal journal;
  static ActorSystem<Void> system;
  static Runner runner;

  @BeforeAll
  static void start() throws Exception {
    journal = Journal.h2(dir);
    system = ActorSystem.create(Behaviors.empty(), "odp", journal.config());
    journal.prepare(system);
    runner = new Runner(system);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static Scenario scenario(String file) throws Exception {
    try (InputStream in = OdpTest.class.getResourceAsStream("/catalog/" + file)) {
      return ScenarioFile.parse(file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  static Explorer.Summary explore(Scenario s, String strategy, int schedules) {
    return new Explorer(runner, journal).explore(s, s.defaults(), new Explorer.Plan(dmasim.chaos.StrategySpec.parse(strategy), schedules, true, 1, 0, null,
        0, null), List.of(), null);
  }

  /** "schedule N: Monitor [ID] at step S: message" of the first violating schedule under the file's own expectation. */
  static String firstFind(String file) throws Exception {
    Scenario s = scenario(file);
    Explorer.Summary sum = explore(s, s.expect().strategy(), (int) s.expect().schedules());
    Explorer.ScheduleResult r = sum.firstViolation();
    return r == null ? "clean" : describe(r);
  }

  /** "schedule N, S steps: Monitor [ID] message" of a violating schedule (N counted from 1). */
  static String describe(Explorer.ScheduleResult r) {
    return "schedule " + (r.index() + 1) + ", " + r.steps() + " steps: " + r.firstMonitor() + " [" + r.firstInvariant() + "] " + r.message();
  }

  @Test
  void theImplicitChildDestroyChainIsFoundLinkByLink() throws Exception {
    assertEquals("schedule 177, 156 steps: Odp [O5] cpu2 queues a second free-child work item for child c0 (slot 0 of imr) (cpu2 queued one at step "
        + "85): the child will be destroyed twice, the second work frees freed memory (use after free, CVE-2025-21714)",
        firstFind("odp-b9-child-double-destroy.conf"));
    // the cmpxchg fixes B9 in the same schedule; the path that lost it keeps the parent reference, and the parent's dereg never ends
    assertEquals("schedule 177, 195 steps: Odp [O4] cpu1 waits forever (since step 147) for implicit MR imr's usecount to drain: a reference was never "
        + "dropped (cpu2 lost the cmpxchg for c0 at step 156 and kept the parent reference it took); held by: cpu2 (taken at step 156)",
        firstFind("odp-b10-parent-ref-leak.conf"));
    assertEquals("clean", firstFind("odp-b10-child-destroy-once.conf"));
  }

  @Test
  void aKsmUpdateOutsideTheParentLockAndADeferredDestroyOutlivingTheParentAreFound() throws Exception {
    // lockdep's rule, in every schedule: an update of the parent's KSM outside its umem_mutex
    assertEquals("schedule 1, 43 steps: Odp [O1] cpu1 posts a UMR of implicit MR imr's KSM without holding its umem_mutex 'imr_mutex' (held by "
        + "nobody): every update of the parent must run under it (populate_klm asserts it with lockdep), or an older snapshot of the xarray can "
        + "land after a newer one", firstFind("odp-b13-ksm-lost-update.conf"));
    assertEquals("clean", firstFind("odp-b13-ksm-under-lock.conf"));
    assertEquals("schedule 6, 98 steps: Odp [O3] cpu2 posts a UMR of implicit MR imr's KSM, whose mkey was freed by cpu0 at step 90: the UMR "
        + "completes in error (work outlived the parent's teardown)", firstFind("odp-b14-flush-misses-deferred.conf"));
    assertEquals("clean", firstFind("odp-b14-wait-deferred.conf"));
  }

  @Test
  void theExplicitMrPatternsAreFound() throws Exception {
    assertEquals("schedule 88, 63 steps: Odp [O3] cpu1 zaps the MTT of MR mr, whose mkey was revoked at step 54 (odp->private = NULL): a UMR on a "
        + "dead mkey (whoever programs it must hold an mkey reference that dereg waits for, and an invalidation must see odp->private == NULL under "
        + "umem_mutex and skip it)", firstFind("odp-invalidate-dead-mkey.conf"));
    assertEquals("schedule 1, 52 steps: Odp [O3] cpu0 writes the MTT of MR mr, whose mkey was freed by cpu1 at step 35: a UMR on a dead mkey "
        + "(whoever programs it must hold an mkey reference that dereg waits for, and an invalidation must see odp->private == NULL under umem_mutex "
        + "and skip it)", firstFind("odp-prefetch-no-ref.conf"));
    assertEquals("schedule 9, 58 steps: Hmm [M1] cpu0 writes mr's device PTE 0x10000000 -> pfn 0x10000000 from its attempt of read_begin seq 1 "
        + "(step 13), but an invalidation (started at step 35) has set the subscription's seq to 5: a stale pfn in the device (read_retry missing, or "
        + "not under the lock the callback takes)", firstFind("odp-explicit-no-retry.conf"));
  }

  @Test
  void anInvalidationLandsInEveryWindowOfAnExplicitAndAnImplicitFault() throws Exception {
    Explorer.Summary explicit = explore(scenario("odp-explicit-fault.conf"), "pct:3", 1000);
    assertEquals(0, explicit.violatingSchedules());
    // an invalidation started between the lookup, each step of ib_umem_odp_map_dma_and_lock, the UMR, the unlock, the deref and the resume
    List<String> explicitWindows = explicit.faultWindows().invalidated();
    for (String w : List.of("mkey lookup -> read_begin", "read_begin -> walk start", "walk start -> walk page 0", "walk end -> lock", "lock -> read_retry",
        "read_retry -> UMR (MTT)", "UMR (MTT) -> unlock", "unlock -> mkey deref", "mkey deref -> resume")) {
      assertTrue(explicitWindows.contains("explicit: " + w), w + " not in " + explicitWindows);
    }
    Explorer.Summary implicit = explore(scenario("odp-b10-child-destroy-once.conf"), "pct:3", 2000);
    assertEquals(0, implicit.violatingSchedules());
    List<String> implicitWindows = implicit.faultWindows().invalidated();
    for (String w : List.of("mkey lookup -> child lookup", "mkey lookup -> child create", "child create -> read_begin", "read_begin -> walk start",
        "walk end -> lock", "lock -> read_retry", "read_retry -> UMR (MTT)", "UMR (MTT) -> unlock", "unlock -> mkey deref", "mkey deref -> lock",
        "lock -> UMR (KSM)", "UMR (KSM) -> unlock", "mkey deref -> resume")) {
      assertTrue(implicitWindows.contains("implicit: " + w), w + " not in " + implicitWindows);
    }
  }

  static Scenario finding(String file) throws Exception {
    Path p = Path.of(System.getProperty("user.dir")).resolve("../docs/findings").resolve(file).normalize();
    return ScenarioFile.parse(p.toString(), java.nio.file.Files.readString(p));
  }

  static List<String> verdict(dmasim.scenarios.RunReport r) {
    return r.violations().stream().map(v -> v.monitor() + " [" + v.invariant() + "] at step " + v.step() + ": " + v.message()).toList();
  }

  @Test
  void theStickyDmaMappedBitIsLostWhenTheWalkerIsPreemptedBetweenItsLoadAndItsStore() throws Exception {
    Scenario s = finding("odp-sticky-dma-mapped-preempted.conf");
    assertEquals(List.of("Hmm [M6] at step 99: cpu0 writes mr's device PTE 0x10000000 with DMA address 0xffffe000, but slot 0 is not DMA-mapped "
        + "there: the device would use an unlinked IOVA"), verdict(runner.run(s, s.defaults())));
    dmasim.scenarios.RunOptions direct = new dmasim.scenarios.RunOptions(1, dmasim.actors.iommu.IommuSettings.Mode.PASSTHROUGH, s.defaults().cpus(),
        s.defaults().requests(), s.defaults().segments(), s.defaults().maxSteps());
    assertEquals(List.of("Hmm [M6] at step 94: cpu0 writes mr's device PTE 0x10000000 with DMA address 0x10000000000, but slot 0 is not DMA-mapped "
        + "there: dma_unmap_page released that address (without an IOMMU it is the old page's physical address: the device would reach a page the "
        + "process may have freed)"), verdict(runner.run(s, direct)));
    // without the preemption the schedulers do not reach the window between the walker's load and store
    Explorer.Summary sum = explore(finding("odp-sticky-dma-mapped.conf"), "pct:3", 500);
    assertEquals(0, sum.violatingSchedules());
    assertTrue(sum.faultWindows().seen().contains(dmasim.scenarios.Coverage.SHARED_PFN_WINDOW), sum.faultWindows().seen().toString());
    assertTrue(sum.faultWindows().missed().contains(dmasim.scenarios.Coverage.SHARED_PFN_WINDOW));
  }

  @Test
  void aFaultHandledOnTheWorkqueueStallsTheAccessUntilTheWorkerResumesIt() throws Exception {
    Scenario s = scenario("odp-fault-workqueue.conf");
    dmasim.scenarios.RunReport r = journal.keep(Runner.plan(s, s.defaults(), s.name() + "-lanes"), id -> runner.run(s, s.defaults(), s.name() + "-lanes",
        id));
    assertEquals(List.of(), verdict(r));
    List<String> ends = laneEnds(s, r);
    // the device's access faults and stalls; the worker runs the page-fault item; its resume retries the access, which completes
    assertEquals(List.of("none: cpu1 Start .. cpu0 Done (47 steps)", "[invalidation 1 CLEAR]: mm0 MadviseDontneed .. mm0 CallbackReturned (11 steps)",
        "[fault cpu0 #1]: dpt-mr Access .. hca0 PageFault (2 steps)", "[fault cpu0 #1, handled by cpu1 (work 1)]: cpu1 RunWork .. dpt-mr Completed (57 steps)",
        "[invalidation 2 CLEAR]: mm0 MadviseDontneed .. mm0 CallbackReturned (11 steps)"), ends);
    // the handler keeps the reference it took: dereg waits for ever, and the message names the worker that took it
    assertEquals("schedule 1, 92 steps: Odp [O4] cpu0 waits forever (since step 92) for MR mr's usecount to drain: a reference was never dropped; "
        + "held by: cpu1 (taken at step 36)", firstFind("odp-fault-workqueue-ref-leak.conf"));
  }

  @Test
  void aUmrOfARevokedMkeysMttCompletesInErrorAndChangesNothing() throws Exception {
    Scenario s = ScenarioFile.parse("revoked.conf", String.join("\n", "name = odp-umr-on-revoked", "description = \"an MTT update after the revoke\"",
        "cpus = 1", "devices = [ { name = nic } ]", "monitors = [ Termination ]", "mm {", "  vmas = [ { start = 0x10000000, pages = 1, access = rw } ]",
        "  mirrors = [ { name = mr, start = 0x10000000, pages = 1, lock = umem_mutex, dma = true, callback = [ \"lock umem_mutex\", "
        + "\"set-seq mirror=mr\", \"dev-zap mirror=mr\", \"hmm-dma-unmap mirror=mr\", \"unlock umem_mutex\" ] } ]", "}",
        "rdma { mrs = [ { mirror = mr } ] }", "programs {", "  cpu0 = [ \"hmm-dma-alloc mirror=mr\", \"read-begin mirror=mr\", \"range-fault mirror=mr\", "
        + "\"lock umem_mutex\", \"mkey-revoke mr=mr\", \"dev-pte-set mirror=mr\", \"if-errno errno=EIO goto=failed\", \"goto out\", \"label failed\", "
        + "\"mkey-check mr=mr\", \"label out\", \"unlock umem_mutex\", \"hmm-dma-free mirror=mr\" ]", "}"));
    dmasim.scenarios.RunReport r = journal.keep(Runner.plan(s, s.defaults(), s.name() + "-s1"), id -> runner.run(s, s.defaults(), s.name() + "-s1", id));
    // only Termination judges (Odp would stop the run at the write, O3): the UMR reaches the device and completes in error
    assertEquals(List.of(), verdict(r));
    List<String> mirror = new java.util.ArrayList<>();
    for (dmasim.scenarios.RecordedStep st : journal.read(system, journal.lookup(r.runId()))) {
      for (dmasim.protocol.Event e : st.events()) {
        if (e instanceof dmasim.protocol.MirrorEvent.UmrFailed || e instanceof dmasim.protocol.MirrorEvent.MkeyStateChanged
            || e instanceof dmasim.protocol.MirrorEvent.DevicePteWritten) mirror.add(e.getClass().getSimpleName());
        if (e instanceof dmasim.protocol.CpuEvent.CallIssued c && c.call().equals("mkey_check")) mirror.add("the program saw EIO");
      }
    }
    assertEquals(List.of("MkeyStateChanged", "UmrFailed", "the program saw EIO"), mirror);
  }

  @Test
  void twoWalkersOverOnePfnListLoseADmaMappedSetWithoutAnyInjectedDelay() throws Exception {
    Explorer.Summary sum = explore(finding("odp-dma-mapped-set-lost.conf"), "pct:3", 200);
    Explorer.ScheduleResult r = sum.firstViolation();
    assertEquals("schedule 160, 127 steps: IovaApiUsage [I14] range linked twice (dpt-mr/mr offset 4096 size 4096: -EEXIST, PTE already present in "
        + "[1048573+1)): hmm_dma_map_pfn linked a slot that is still linked, so the entry's HMM_PFN_DMA_MAPPED bit was lost (a walker stored the "
        + "entry back from a load older than the set; docs/findings.md)", describe(r));
    assertTrue(sum.faultWindows().invalidated().contains(dmasim.scenarios.Coverage.SHARED_PFN_WINDOW));
  }

  @Test
  void stepThroughShowsTheOdpFaultTheInvalidationAndTheWorkItemAsLanes() throws Exception {
    Scenario s = scenario("odp-b14-wait-deferred.conf");
    dmasim.scenarios.RunReport r = journal.keep(Runner.plan(s, s.defaults(), s.name() + "-lanes"), id -> runner.run(s, s.defaults(), s.name() + "-lanes",
        id));
    List<String> ends = laneEnds(s, r);
    // the fault from the device's access to its resume; the madvise's invalidation and callback, which defers the destroy; the worker's
    // free-child item from RunWork to WorkDone; the program's starts and the parent's teardown in no lane
    assertEquals(List.of("none: cpu1 Start .. cpu0 Done (20 steps)", "[fault cpu0 #1]: dpt-c0 Access .. dpt-c0 FaultDone (47 steps)",
        "[invalidation 1 CLEAR]: mm0 MadviseDontneed .. hca0 GracePeriod (25 steps)", "[work 1 free-child c0]: cpu2 RunWork .. hca0 WorkRun (31 steps)"),
        ends);
  }

  /** Per lane of the kept run's step-through, in the order lanes first appear: "LANE: first step .. last step (N steps)" ("actor Message"). */
  static List<String> laneEnds(Scenario s, dmasim.scenarios.RunReport r) throws Exception {
    java.util.Map<String, List<String>> byLane = new java.util.LinkedHashMap<>();
    java.util.regex.Pattern step = java.util.regex.Pattern.compile("^step \\d+ \\S+ (\\[[^]]*\\] )?(\\S+) <- \\S+ (\\S+)");
    dmasim.scenarios.Replayer.replay(runner, s, journal.lookup(r.runId()).record(), journal.read(system, journal.lookup(r.runId())), line -> {
      java.util.regex.Matcher m = step.matcher(line.lines().findFirst().orElse(""));
      if (m.find()) byLane.computeIfAbsent(m.group(1) == null ? "none" : m.group(1).trim(), k -> new java.util.ArrayList<>()).add(m.group(2) + " "
          + m.group(3));
    });
    List<String> ends = new java.util.ArrayList<>();
    byLane.forEach((lane, steps) -> ends.add(lane + ": " + steps.get(0) + " .. " + steps.get(steps.size() - 1) + " (" + steps.size() + " steps)"));
    return ends;
  }
}
