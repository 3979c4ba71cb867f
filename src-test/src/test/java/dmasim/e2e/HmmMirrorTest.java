package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import dmasim.actors.monitor.Violation;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunReport;
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
 * The HMM side end to end: each buggy catalogue mirror breaks exactly the invariant its kernel fix is
 * about, at a known step with the whole message and nothing else, and its fixed partner runs to
 * quiescence clean in the same schedule.
 */
class HmmMirrorTest {
  @TempDir static Path dir;
  static Journal journal;
  static ActorSystem<Void> system;
  static Runner runner;

  @BeforeAll
  static void start() throws Exception {
    journal = Journal.h2(dir);
    system = ActorSystem.create(Behaviors.empty(), "hmm-mirror", journal.config());
    journal.prepare(system);
    runner = new Runner(system);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static RunReport run(String file) throws Exception {
    try (InputStream in = HmmMirrorTest.class.getResourceAsStream("/catalog/" + file)) {
      Scenario s = ScenarioFile.parse(file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
      return runner.run(s, s.defaults());
    }
  }

  /** "Monitor [ID] at step N: message" of every violation. */
  static List<String> verdict(RunReport r) {
    return r.violations().stream().map((Violation v) -> v.monitor() + " [" + v.invariant() + "] at step " + v.step() + ": " + v.message()).toList();
  }

  @Test
  void aWriteFaultOnAReadOnlyMappingLoopsBeforeTheFixAndIsRefusedAfterIt() throws Exception {
    RunReport loop = run("hmm-b1-write-loop.conf");
    assertEquals(List.of("Hmm [L2] at step 17: cpu0's hmm_range_fault of m0 returned -EBUSY 3 times with nothing changed in the address space in "
        + "between (no invalidation, no page-table change): a retry loop that cannot make progress"), verdict(loop));
    RunReport fixed = run("hmm-b1-write-check.conf");
    assertEquals(List.of(), verdict(fixed));
    assertEquals("quiescent", fixed.outcome().reason());
    assertEquals(10, fixed.outcome().steps());
  }

  @Test
  void aCallbackWithoutSetSeqIsCaughtWhenItZaps() throws Exception {
    assertEquals(List.of("Hmm [N2] at step 11: cpu1 zaps m0's device PTEs in its invalidate callback before mmu_interval_set_seq: a fault path "
        + "that passes read_retry now programs what was just zapped"), verdict(run("hmm-set-seq-missing.conf")));
    RunReport fixed = run("hmm-set-seq.conf");
    assertEquals(List.of(), verdict(fixed));
    assertEquals("quiescent", fixed.outcome().reason());
  }

  @Test
  void aRangeWithoutItsOwnerFailsTheFaultOnItsOwnDevicePrivatePage() throws Exception {
    assertEquals(List.of("Hmm [O6] at step 24: the driver fails the device's write fault at 0x10000000 (its program dies), but the access is "
        + "legal: 0x10000000 is in a writable VMA; a benign race must be retried, not reported"), verdict(run("hmm-b12-no-owner.conf")));
    RunReport fixed = run("hmm-b12-owner.conf");
    assertEquals(List.of(), verdict(fixed));
    assertEquals(36, fixed.outcome().steps());
  }

  @Test
  void anInjectedReclaimRunsInTheFaultingThreadBeforeItsWalkAndReplays() throws Exception {
    Path faults = dir.resolve("reclaim.conf");
    java.nio.file.Files.writeString(faults, "faults = [ { reclaim = 0x10000000, pages = 2, on = RangeFault, from = cpu0, nth = 2 } ]\n");
    Scenario base;
    try (InputStream in = HmmMirrorTest.class.getResourceAsStream("/catalog/hmm-mirror.conf")) {
      base = ScenarioFile.parse("hmm-mirror.conf", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    Scenario s = ScenarioFile.withFaults(base, faults);
    RunReport r = journal.keep(Runner.plan(s, s.defaults(), s.name() + "-s1"), id -> runner.run(s, s.defaults(), s.name() + "-s1", id));
    List<dmasim.scenarios.RecordedStep> steps = journal.read(system, journal.lookup(r.runId()));
    List<String> reclaim = new java.util.ArrayList<>();
    for (dmasim.scenarios.RecordedStep st : steps) {
      for (dmasim.protocol.Event e : st.events()) {
        if (e instanceof dmasim.protocol.MmEvent.ReclaimDecided d) reclaim.add(d.from() + " " + d.type() + " " + d.match() + (d.injected() ? " reclaims" : ""));
        if (e instanceof dmasim.protocol.MmEvent.InvalidationStarted i && i.call().equals("reclaim")) {
          reclaim.add("reclaim by " + i.initiator() + " before " + (i.after() == null ? "nothing" : i.after().getClass().getSimpleName()));
        }
        if (e instanceof dmasim.protocol.CpuEvent.CallbackEntered c && c.event().equals("CLEAR") && st.actor().equals("cpu0")) reclaim.add("cpu0 runs "
            + c.sub() + "'s callback");
      }
    }
    // The injected reclaim is direct reclaim in cpu0, its callback on cpu0, then cpu0's walk; the program's own reclaim (cpu1) stays.
    assertEquals(List.of("cpu0 RangeFault 1", "reclaim by cpu1 before nothing", "cpu0 RangeFault 2 reclaims", "reclaim by cpu0 before RangeFault",
        "cpu0 runs m0's callback", "cpu0 RangeFault 3"), reclaim);
    assertEquals(List.of(), verdict(r));
    assertEquals(1L, r.stats().get("faultsInjected"), "the injected reclaim is a fault like any other");
    dmasim.scenarios.Replayer.Result replay = dmasim.scenarios.Replayer.replay(runner, s, journal.lookup(r.runId()).record(), steps, null);
    assertEquals(true, replay.identical(), String.valueOf(replay.divergence()));
  }

  @Test
  void aVmIoMappingIsRefusedToAFaultAndMarkedErrorToASnapshot() throws Exception {
    Scenario s = ScenarioFile.parse("io.conf", String.join("\n", "name = hmm-io-vma", "description = \"a device faults on a VM_IO mapping\"", "cpus = 1",
        "devices = [ { name = gpu } ]", "mm {", "  vmas = [ { start = 0x10000000, pages = 2, access = rw, io = true } ]",
        "  mirrors = [ { name = m0, start = 0x10000000, pages = 2, lock = mlock", "    callback = [ \"lock mlock\", \"set-seq mirror=m0\", \"dev-zap mirror=m0\", "
        + "\"unlock mlock\" ] } ]", "}", "programs {", "  cpu0 = [ \"read-begin mirror=m0\", \"range-fault mirror=m0 write=true\", \"if-errno errno=EFAULT goto=efault\", "
        + "\"end\", \"label efault\", \"read-begin mirror=m0\", \"range-fault mirror=m0 snapshot=true\" ]", "}", ""));
    RunReport r = journal.keep(Runner.plan(s, s.defaults(), s.name() + "-s1"), id -> runner.run(s, s.defaults(), s.name() + "-s1", id));
    List<String> walk = new java.util.ArrayList<>();
    for (dmasim.scenarios.RecordedStep st : journal.read(system, journal.lookup(r.runId()))) {
      for (dmasim.protocol.Event e : st.events()) {
        if (e instanceof dmasim.protocol.MmEvent.WalkStep w) walk.add("page " + w.index() + " " + dmasim.protocol.HmmPfn.describe(w.word()));
        if (e instanceof dmasim.protocol.MmEvent.WalkEnded w) walk.add("walk " + w.walk() + " returns " + dmasim.protocol.Errno.name(w.errno()));
      }
    }
    assertEquals(List.of("walk 1 returns -EFAULT", "page 0 ERROR", "page 1 ERROR", "walk 2 returns 0"), walk);
    assertEquals(List.of(), verdict(r));
  }

  @Test
  void exploringTheGenericMirrorLandsAnInvalidationBetweenEveryTwoStepsOfADeviceFault() throws Exception {
    Scenario s;
    try (InputStream in = HmmMirrorTest.class.getResourceAsStream("/catalog/hmm-mirror.conf")) {
      s = ScenarioFile.parse("hmm-mirror.conf", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    dmasim.scenarios.Explorer explorer = new dmasim.scenarios.Explorer(runner, journal);
    dmasim.scenarios.Explorer.Summary sum = explorer.explore(s, s.defaults(), new dmasim.scenarios.Explorer.Plan(
        dmasim.chaos.StrategySpec.parse("pct:3"), 200, false, 1, 0, null, 0, null), List.of(), null);
    assertEquals(0, sum.violatingSchedules());
    // read_begin, the walk's start, each of its two pages, its end, the lock, read_retry, the device PTE write: every window was hit
    assertEquals(List.of("lock -> read_retry", "read_begin -> walk start", "read_retry -> device PTE write", "walk end -> lock",
        "walk page 0 -> walk page 1", "walk page 1 -> walk end", "walk start -> walk page 0", "walk start -> walk page 0 (faulted in)"),
        sum.faultWindows().invalidated());
    assertEquals(List.of("lock -> read_retry (retry)", "walk page 0 (faulted in) -> walk -EBUSY", "walk page 0 (faulted in) -> walk page 0",
        "walk page 0 -> walk page 1 (faulted in)", "walk page 1 (faulted in) -> walk page 1", "walk start -> walk -EFAULT"), sum.faultWindows().missed());
  }

  /** A DMA mirror of a process mapping of a peer's BAR reached by {@code path}, faulting once before the process unmaps it. */
  static Scenario p2p(String path) {
    return ScenarioFile.parse("p2p-" + path + ".conf", String.join("\n", "name = hmm-p2p-" + path, "description = \"a DMA mirror of a peer's BAR\"",
        "cpus = 2", "devices = [ { name = gpu } ]", "memory { types = [ { name = bar, kind = p2p, pages = 16, path = " + path + " } ] }", "mm {",
        "  vmas = [ { start = 0x10000000, pages = 1, access = rw, memory = bar } ]", "  mirrors = [ { name = m0, start = 0x10000000, pages = 1, lock = mlock,"
        + " dma = true", "    callback = [ \"lock mlock\", \"set-seq mirror=m0\", \"dev-zap mirror=m0\", \"hmm-dma-unmap mirror=m0\", \"unlock mlock\" ] } ]", "}",
        "programs {", "  cpu0 = [ \"hmm-dma-alloc mirror=m0\", \"read-begin mirror=m0\", \"range-fault mirror=m0 write=true\", \"lock mlock\",",
        "    \"dev-pte-set mirror=m0\", \"unlock mlock\", \"if-error goto=fail\", \"dev-access mirror=m0 va=0x10000000 write=true\", \"goto out\",",
        "    \"label fail\", \"fault-done mirror=m0 error=true\", \"label out\", \"lock mlock\", \"hmm-dma-unmap mirror=m0\", \"unlock mlock\",",
        "    \"hmm-dma-free mirror=m0\" ]", "  cpu1 = [ \"sleep duration=5us\", \"munmap start=0x10000000 pages=1\" ]", "}", ""));
  }

  /** What the mirror's slots and the device did, and how pte_set ended. */
  static List<String> p2pTrace(Scenario s) {
    RunReport r = journal.keep(Runner.plan(s, s.defaults(), s.name() + "-s1"), id -> runner.run(s, s.defaults(), s.name() + "-s1", id));
    List<String> out = new java.util.ArrayList<>();
    for (dmasim.scenarios.RecordedStep st : journal.read(system, journal.lookup(r.runId()))) {
      for (dmasim.protocol.Event e : st.events()) {
        if (e instanceof dmasim.protocol.MirrorEvent.SlotMapped m) out.add("slot " + m.index() + " " + dmasim.protocol.HmmPfn.describe(m.p2pFlags()));
        if (e instanceof dmasim.protocol.IommuEvent.RangeLinked l) out.add("linked, MMIO prot " + ((l.prot().bits() & dmasim.protocol.Prot.MMIO) != 0));
        if (e instanceof dmasim.protocol.DeviceEvent.PeerAccessed a) out.add("peer accessed at its bus address " + a.busAddress());
        if (e instanceof dmasim.protocol.MirrorEvent.AccessCompleted c) out.add("access done, " + c.faults() + " fault(s)");
        if (e instanceof dmasim.protocol.MirrorEvent.CallFinished f && f.call().equals("pte_set")) out.add("pte_set " + dmasim.protocol.Errno.name(f.errno()));
        if (e instanceof dmasim.protocol.MirrorEvent.SlotUnmapped u) out.add("slot " + u.index() + " unmapped");
      }
    }
    out.add(r.verdict());
    return out;
  }

  @Test
  void aPeersBarIsMappedByItsBusAddressThroughTheHostBridgeOrNotAtAll() {
    assertEquals(List.of("slot 0 P2PDMA_BUS", "pte_set 0", "peer accessed at its bus address 0x100000000", "access done, 0 fault(s)", "slot 0 unmapped",
        "clean"), p2pTrace(p2p("bus-address")));
    assertEquals(List.of("linked, MMIO prot true", "slot 0 P2PDMA", "pte_set 0", "access done, 0 fault(s)", "slot 0 unmapped", "clean"),
        p2pTrace(p2p("host-bridge")));
    // the device cannot reach the BAR: hmm_dma_map_pfn fails, and failing the fault for it is right (no O6)
    assertEquals(List.of("pte_set -EREMOTEIO", "clean"), p2pTrace(p2p("not-supported")));
  }

  /**
   * the sticky DMA_MAPPED question (docs/findings.md), the sticky DMA_MAPPED lost update: with the walker storing into the shared pfn list, a
   * walker delayed between its load and its store by longer than the invalidation's unlink keeps
   * DMA_MAPPED that the unmap had cleared, and hmm_dma_map_pfn hands the device an unlinked IOVA (M6).
   * Without the delay the same schedule is clean.
   */
  @Test
  void aWalkerDelayedBetweenItsLoadAndStoreRestoresAStaleDmaMappedBit() throws Exception {
    String text;
    try (InputStream in = HmmMirrorTest.class.getResourceAsStream("/hmm/odp-sticky-dma-mapped.conf")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Scenario plain = ScenarioFile.parse("odp-sticky-dma-mapped.conf", text);
    assertEquals(List.of(), verdict(runner.run(plain, plain.defaults())));
    Path faults = dir.resolve("preempted-walker.conf");
    java.nio.file.Files.writeString(faults, "faults = [ { message = delay, type = WriteWord, nth = 2, delay = 5us } ]\n");
    Scenario preempted = ScenarioFile.withFaults(plain, faults);
    assertEquals(List.of("Hmm [M6] at step 84: cpu0 writes mr's device PTE 0x10000000 with DMA address 0xfffff000, but slot 0 is not DMA-mapped "
        + "there: the device would use an unlinked IOVA"), verdict(runner.run(preempted, preempted.defaults())));
  }

  @Test
  void stepThroughShowsTheFaultAndTheInvalidationAsLanes() throws Exception {
    Scenario s;
    try (InputStream in = HmmMirrorTest.class.getResourceAsStream("/catalog/hmm-set-seq-missing.conf")) {
      s = ScenarioFile.parse("hmm-set-seq-missing.conf", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    RunReport r = journal.keep(Runner.plan(s, s.defaults(), s.name() + "-lanes"), id -> runner.run(s, s.defaults(), s.name() + "-lanes", id));
    List<String> lines = new java.util.ArrayList<>();
    dmasim.scenarios.Replayer.replay(runner, s, journal.lookup(r.runId()).record(), journal.read(system, journal.lookup(r.runId())), line -> lines.add(
        line.lines().findFirst().orElse("").replaceAll(" \\(.*", "")));
    assertEquals(List.of("step 1 @0ns cpu0 <- harness#1 Start", "step 2 @0ns cpu1 <- harness#2 Start",
        "step 3 @0ns [invalidation 1 CLEAR] mm0 <- cpu1#1 MadviseDontneed", "step 4 @0ns [fault cpu0 #1] dpt-m0 <- cpu0#1 Access",
        "step 5 @0ns [invalidation 1 CLEAR] cpu1 <- mm0#1 RunCallback", "step 6 @0ns [invalidation 1 CLEAR] mem <- cpu1#2 Lock",
        "step 7 @0ns [fault cpu0 #1] cpu0 <- dpt-m0#1 Done", "step 8 @0ns [fault cpu0 #1] mm0 <- cpu0#2 ReadBegin",
        "step 9 @0ns [invalidation 1 CLEAR] cpu1 <- mem#1 LockGranted", "step 10 @0ns [fault cpu0 #1] cpu0 <- mm0#2 SeqRead",
        "step 11 @0ns [invalidation 1 CLEAR] dpt-m0 <- cpu1#3 Zap"), lines);
  }
}
