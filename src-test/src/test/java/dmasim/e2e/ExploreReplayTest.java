package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.monitor.WindowHistogram;
import dmasim.chaos.StrategySpec;
import dmasim.protocol.Event;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.JournalEvent;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.ExploreTotals;
import dmasim.scenarios.Explorer;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.Replayer;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.RunRecord;
import dmasim.scenarios.RunReport;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.journal.Recordings;
import dmasim.scenarios.journal.Rows;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exploration finds and keeps violating schedules; a kept run replays identically; a tampered journal diverges at the tampered step. */
class ExploreReplayTest {
  @TempDir static Path dir;
  static Journal journal;
  static ActorSystem<Void> system;
  static Runner runner;

  @BeforeAll
  static void start() {
    journal = Journal.h2(dir);
    system = ActorSystem.create(Behaviors.empty(), "explore-replay", journal.config());
    journal.prepare(system);
    runner = new Runner(system);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static Explorer.Summary explore(Scenario s, RunOptions o, String strategy, long schedules, int parallel) {
    return new Explorer(runner, journal).explore(s, o, new Explorer.Plan(StrategySpec.parse(strategy), schedules, false, parallel, 2, null, 0),
        List.of(), null);
  }

  @Test
  void pctFindsTheMissingSyncAndTheKeptRunReplaysIdentically() {
    Scenario s = Catalog.find("nvme-iova-missing-sync").orElseThrow();
    Explorer.Summary sum = explore(s, RunOptions.defaults(1), "pct:2", 200, 1);
    assertEquals(200, sum.schedulesRun());
    assertTrue(sum.violatingSchedules() > 0);
    assertEquals(sum.violatingSchedules(), sum.violationsByMonitor().get("SyncBeforeUse"));
    RunReport kept = sum.kept().get(0);
    RunRecord record = journal.lookup(kept.runId()).record();
    Replayer.Result r = Replayer.replay(runner, s, record, journal.read(system, journal.lookup(kept.runId())), null);
    assertTrue(r.identical(), () -> r.divergence().toString());
    assertEquals("SyncBeforeUse", r.report().firstMonitor());
    assertTrue(sum.pctBound() > 0 && sum.missProbability() < 1);
  }

  @Test
  void theFixedDriverShowsNoViolationAndTotalsDoNotDependOnParallelism() {
    Scenario s = Catalog.find("nvme-iova").orElseThrow();
    RunOptions o = RunOptions.defaults(7).withRequests(6).withMode(IommuSettings.Mode.LAZY);
    Explorer.Summary one = explore(s, o, "random", 120, 1);
    Explorer.Summary three = explore(s, o, "random", 120, 3);
    assertEquals(0, one.violatingSchedules());
    assertEquals(one.totalSteps(), three.totalSteps());
    assertEquals(one.actorMessagePairs(), three.actorMessagePairs());
    assertEquals(one.conflictingPairs(), three.conflictingPairs());
    assertEquals(one.conflictingPairsBothOrders(), three.conflictingPairsBothOrders());
    assertEquals(one.totals().asMap(), three.totals().asMap());
    assertTrue(one.conflictingPairsBothOrders() > 0, "random walk sees conflicting envelopes in both orders");
  }

  @Test
  void theAggregatesAreThoseOfTheSchedulesRunOneByOne() {
    Scenario s = Catalog.find("nvme-iova").orElseThrow();
    RunOptions o = RunOptions.defaults(1).withRequests(4).withMode(IommuSettings.Mode.LAZY);
    Explorer.Summary sum = explore(s, o, "random", 20, 2);
    long steps = 0, requests = 0, iotlb = 0, atc = 0, injected = 0, faults = 0, exposures = 0, max = 0, maxAt = -1;
    WindowHistogram windows = new WindowHistogram();
    for (long i = 0; i < 20; i++) {
      RunReport r = runner.run(s, o, "one-by-one-" + i, StrategySpec.parse("random"), Runner.scheduleSeed(o.seed(), i), sum.expectedSteps(),
          null, null, null);
      steps += r.outcome().steps();
      requests += n(r, "requests");
      iotlb += n(r, "iotlbInvalidations");
      atc += n(r, "atcInvalidations");
      injected += n(r, "faultsInjected");
      faults += n(r, "dmaFaults");
      exposures += n(r, "exposures");
      assertEquals(n(r, "maxExposureWindowNs"), r.exposureWindows().max());
      assertEquals(n(r, "exposures"), r.exposureWindows().count());
      if (n(r, "exposures") > 0 && (maxAt < 0 || n(r, "maxExposureWindowNs") > max)) {
        max = n(r, "maxExposureWindowNs");
        maxAt = i;
      }
      windows.merge(r.exposureWindows());
    }
    ExploreTotals t = sum.totals();
    assertEquals(steps, sum.totalSteps(), "the schedules run one by one are the explored ones");
    assertEquals(20, t.schedules());
    assertEquals(requests, t.requests());
    assertEquals(iotlb, t.iotlbInvalidations());
    assertEquals(atc, t.atcInvalidations());
    assertEquals(injected, t.faultsInjected());
    assertEquals(faults, t.dmaFaults());
    assertEquals(exposures, t.exposures());
    assertEquals(max, t.maxExposureWindowNs(), "the max over all schedules is the max of the per-schedule maxima");
    assertEquals(maxAt, t.maxExposureWindowSchedule());
    assertEquals(windows.percentile(99), t.p99ExposureWindowNs());
    assertTrue(t.p99ExposureWindowNs() <= t.maxExposureWindowNs());
    assertTrue(exposures > 0 && max > 0, "lazy nvme-iova exposes");
    assertTrue(t.firstViolatingSchedule().isEmpty());
  }

  static long n(RunReport r, String key) {
    return ((Number) r.stats().get(key)).longValue();
  }

  @Test
  void stopAtFirstGivesTheSameTotalsWhateverTheParallelism() {
    Scenario s = Catalog.find("nvme-iova-free-live-links").orElseThrow();
    RunOptions o = RunOptions.defaults(3).withRequests(3);
    Explorer ex = new Explorer(runner, journal);
    Explorer.Summary a = ex.explore(s, o, new Explorer.Plan(StrategySpec.parse("random"), 50, true, 1, 1, null, 0), List.of(), null);
    Explorer.Summary b = ex.explore(s, o, new Explorer.Plan(StrategySpec.parse("random"), 50, true, 4, 1, null, 0), List.of(), null);
    assertEquals(1, a.schedulesRun(), "schedule 0 already violates");
    assertEquals(a.schedulesRun(), b.schedulesRun());
    assertEquals(a.totalSteps(), b.totalSteps());
    assertEquals(1, a.totals().schedules(), "the run statistics count the same schedules");
    assertEquals(a.totals().asMap(), b.totals().asMap());
    assertEquals(a.totals().firstViolatingSchedule(), b.totals().firstViolatingSchedule());
    assertEquals(0L, a.totals().firstViolatingSchedule().get("IovaApiUsage"));
  }

  /** Runs {@code s} as the run command does: a recording kept under {@code id}. */
  static RunReport keep(Scenario s, RunOptions o, String id) {
    return journal.keep(Runner.plan(s, o, id), journalId -> runner.run(s, o, id, journalId));
  }

  @Test
  void aChangedEventWithAValidChecksumIsADivergenceAtItsStepWithoutOneTheJournalIsDamaged() throws Exception {
    Scenario s = Catalog.find("nvme-iova").orElseThrow();
    RunOptions o = RunOptions.defaults(11).withRequests(3);
    String id = "tampered-" + Runner.runId(s, o);
    keep(s, o, id);
    Recordings.Stored stored = journal.lookup(id);
    List<RecordedStep> recorded = journal.read(system, stored);
    RecordedStep target = recorded.stream().filter(r -> r.events().stream().anyMatch(IommuEvent.IovaAllocated.class::isInstance))
        .skip(2).findFirst().orElseThrow();
    assertTrue(Replayer.replay(runner, s, stored.record(), recorded, null).identical(), "untouched journal replays identically");

    // The model "changed": the recorded allocation was at another IOVA, and the row is intact (its checksum matches).
    long seq = tamper(system, journal, stored.recordingId(), target, true);
    Replayer.Result r = Replayer.replay(runner, s, stored.record(), journal.read(system, stored), null);
    assertFalse(r.identical());
    assertEquals(target.step(), r.divergence().step());
    assertEquals("iommu0", r.divergence().actor());
    assertTrue(r.divergence().expected().contains("IovaAllocated"), r.divergence().toString());

    // The same change made behind dmasim's back: the row no longer matches its checksum.
    tamper(system, journal, stored.recordingId(), target, false);
    Recordings.JournalDamaged damaged = assertThrows(Recordings.JournalDamaged.class, () -> journal.read(system, stored));
    assertEquals("journal damaged at run " + id + ", actor iommu0, event " + seq
        + ": its checksum does not match its contents (the row was changed or torn)", damaged.getMessage());
  }

  @Test
  void shrinkingTheCataloguedBugsGivesSmallerRunsThatFailTheSameWay() {
    for (String name : List.of("nvme-iova-missing-sync", "nvme-iova-free-live-links")) {
      Scenario s = Catalog.find(name).orElseThrow();
      Explorer.Summary sum = explore(s, RunOptions.defaults(2).withCpus(3).withRequests(8), "random", 5, 1);
      RunRecord original = journal.lookup(sum.kept().get(0).runId()).record();
      dmasim.scenarios.Shrinker.Result r = new dmasim.scenarios.Shrinker(new Explorer(runner, journal), 50).shrink(s, original);
      assertTrue(r.after().cpus() <= r.before().cpus() && r.after().requests() <= r.before().requests()
          && r.after().segments() <= r.before().segments() && r.after().steps() <= r.before().steps()
          && r.after().preemptions() <= r.before().preemptions(), name + ": " + r);
      assertFalse(r.after().equals(r.before()), name + " did not shrink: " + r);
      assertTrue(r.after().steps() < r.before().steps(), name + ": " + r);
      RunRecord kept = journal.lookup(r.kept().runId()).record();
      assertEquals(original.monitor(), kept.monitor());
      Replayer.Result replay = Replayer.replay(runner, s, kept, journal.read(system, journal.lookup(r.kept().runId())), null);
      assertTrue(replay.identical());
      assertEquals(original.monitor(), replay.report().firstMonitor());
    }
  }

  @Test
  void inspectFoldsTheJournalToAStepWithoutReExecuting() {
    Scenario s = Catalog.find("nvme-iova").orElseThrow();
    RunOptions o = RunOptions.defaults(5).withRequests(2).withMode(IommuSettings.Mode.LAZY);
    String id = "inspect-" + Runner.runId(s, o);
    RunReport run = keep(s, o, id);
    List<RecordedStep> recorded = journal.read(system, journal.lookup(id));
    assertEquals(run.outcome().steps(), recorded.size());
    dmasim.scenarios.Inspector.Snapshot start = dmasim.scenarios.Inspector.inspect(s.build().apply(o), recorded, 0, 4);
    assertEquals(o.cpus(), start.inFlight().size(), "before the first step only the harness Start envelopes are in flight");
    dmasim.scenarios.Inspector.Snapshot end = dmasim.scenarios.Inspector.inspect(s.build().apply(o), recorded, recorded.size(), 4);
    assertTrue(end.inFlight().isEmpty());
    assertTrue(end.actors().get("cpu0").get(0).equals("program ended"), end.actors().toString());
    assertTrue(end.actors().get("iommu0").get(2).equals("mapped pages (PTEs) 0"), end.actors().toString());
    long mid = recorded.size() / 2;
    dmasim.scenarios.Inspector.Snapshot middle = dmasim.scenarios.Inspector.inspect(s.build().apply(o), recorded, mid, 4);
    assertEquals(recorded.get((int) mid - 1).at(), middle.time());
  }

  /**
   * Rewrites the step record of {@code step} with its IovaAllocated event at basePfn + 1024, with a
   * matching checksum (a recording of another model) or without (damage); returns the row's sequence number.
   */
  static long tamper(ActorSystem<?> system, Journal journal, String recordingId, RecordedStep step, boolean validChecksum) throws Exception {
    Serialization ser = SerializationExtension.get(system);
    String pid = recordingId + "|" + step.actor();
    try (Connection c = DriverManager.getConnection(journal.url(), "sa", "");
        PreparedStatement q = c.prepareStatement("SELECT \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\", \"event_payload\""
            + " FROM \"event_journal\" WHERE \"persistence_id\" = ? ORDER BY \"sequence_number\"")) {
      q.setString(1, pid);
      long seq = -1;
      JournalEvent.EnvelopeHandled changed = null;
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next() && changed == null) {
          JournalEvent.EnvelopeHandled h = (JournalEvent.EnvelopeHandled) ser.deserialize(rs.getBytes(4), rs.getInt(2), rs.getString(3)).get();
          if (h.step() != step.step()) continue;
          seq = rs.getLong(1);
          List<Event> events = h.events().stream().map(e -> e instanceof IommuEvent.IovaAllocated a
              ? new IommuEvent.IovaAllocated(a.dev(), a.owner(), a.api(), a.basePfn() + 1024, a.pages(), a.size(), a.addr()) : e).toList();
          changed = new JournalEvent.EnvelopeHandled(h.id(), h.step(), h.at(), h.cause(), h.type(), events);
        }
      }
      assertNotNull(changed);
      Serializer serializer = ser.findSerializerFor(changed);
      byte[] payload = ser.serialize(changed).get();
      String manifest = Serializers.manifestFor(serializer, changed);
      try (PreparedStatement u = c.prepareStatement("UPDATE \"event_journal\" SET \"event_payload\" = ?, \"meta_payload\" = ?"
          + " WHERE \"persistence_id\" = ? AND \"sequence_number\" = ?")) {
        u.setBytes(1, payload);
        u.setBytes(2, validChecksum ? Rows.checksum(pid, seq, serializer.identifier(), manifest, payload) : new byte[] {0, 0, 0, 0});
        u.setString(3, pid);
        u.setLong(4, seq);
        assertEquals(1, u.executeUpdate());
      }
      return seq;
    }
  }
}
