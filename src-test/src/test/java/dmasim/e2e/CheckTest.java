package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dmasim check: kept runs judged again by today's monitors from their journals, without
 * re-executing. A run kept under a narrower monitor set (the stand-in for older, weaker monitors) is
 * reported as changed once the file's monitors are today's full set (it frees its dma_iova_state twice); runs whose judgement holds are
 * listed as unchanged; bad arguments are refused.
 */
class CheckTest {
  static final String FILE = String.join("\n", "name = check-me", "description = \"a stale descriptor the narrow monitor set does not see\"", "cpus = 1",
      "devices = [ { name = nvme } ]", "MONITORS", "programs {", "  all = [", "    \"alloc buf=b pages=1\"", "    \"try-alloc state=s buf=b\"",
      "    \"link state=s buf=b seg=0 dir=to-device\"", "    \"sync state=s\"", "    \"destroy state=s dir=to-device\"", "    \"free state=s\"",
      "    \"submit source=state:s\"", "    \"await\"", "    \"free-pages buf=b\"", "    \"unbind\"", "  ]", "}");

  @Test
  void aRunKeptUnderWeakerMonitorsIsReportedChangedAndTheOthersHold(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("check-me.conf");
    Files.writeString(file, FILE.replace("MONITORS", "monitors = [ Termination ]"));
    String data = dir.resolve("data").toString();
    assertEquals(0, CliTest.dmasim("run", file.toString(), "--data-dir", data).code());
    assertEquals(1, CliTest.dmasim("run", "nvme-iova-missing-sync", "--data-dir", data).code());
    CliTest.Result same = CliTest.dmasim("check", "--all", "--data-dir", data);
    assertEquals(0, same.code(), same.err());
    // newest first, as dmasim runs lists them
    assertEquals(List.of("nvme-iova-missing-sync-s1-XXXX stored violation (SyncBeforeUse), now violation (SyncBeforeUse)",
        "check-me-s1-XXXX stored clean, now clean", "2 run(s) judged again, 0 verdict(s) changed"), lines(same.out()));
    // today's monitors (the file no longer narrows them) see the descriptor over the freed IOVA
    Files.writeString(file, FILE.replace("MONITORS", ""));
    CliTest.Result changed = CliTest.dmasim("check", "--all", "--data-dir", data);
    assertEquals(1, changed.code(), changed.err());
    assertEquals(List.of("nvme-iova-missing-sync-s1-XXXX stored violation (SyncBeforeUse), now violation (SyncBeforeUse)",
        "check-me-s1-XXXX stored clean, now violation (IovaApiUsage) CHANGED", "IovaApiUsage [I15] at step 13: dma_iova_free on cpu0/s whose IOVA "
        + "0xfffff000 is not allocated: stale dma_iova_state", "2 run(s) judged again, 1 verdict(s) changed"),
        lines(changed.out()));
    // the registry, filtered, as JSON: options as an object (no column per component), versions, times
    CliTest.Result violations = CliTest.dmasim("runs", "--verdict", "violation", "--json", "--data-dir", data);
    assertEquals(0, violations.code(), violations.err());
    List<String> rows = violations.out().lines().toList();
    assertEquals(1, rows.size(), violations.out());
    com.fasterxml.jackson.databind.JsonNode row = new com.fasterxml.jackson.databind.ObjectMapper().readTree(rows.get(0));
    assertEquals(List.of("runId", "recordingId", "scenario", "options", "strategy", "state", "complete", "verdict", "firstMonitor", "steps", "version",
        "started", "finished"), names(row));
    assertEquals("nvme-iova-missing-sync|violation|SyncBeforeUse|1|dmasim-0.3.2|true", row.get("scenario").asText() + "|" + row.get("verdict").asText()
        + "|" + row.get("firstMonitor").asText() + "|" + row.get("options").get("seed").asLong() + "|" + row.get("version").asText() + "|"
        + row.get("complete").asBoolean());
    CliTest.Result mine = CliTest.dmasim("runs", "--scenario", "check-me", "--data-dir", data);
    assertEquals(List.of("recording state verdict steps started", "check-me-s1-XXXX~1 kept clean 21", "1 recording(s); replay a kept run by its run id "
        + "(the part before ~), an incomplete one by its recording id"), lines(mine.out()).stream().map(l -> l.replaceAll(" 20[0-9T:.Z-]+$", ""))
        .toList());
    CliTest.Result neither = CliTest.dmasim("check", "--data-dir", data);
    assertEquals(2, neither.code());
    assertEquals("dmasim: give a RUN_ID or --all (not both)", neither.err().strip());
    CliTest.Result unknown = CliTest.dmasim("check", "nope", "--data-dir", data);
    assertEquals(2, unknown.code());
  }

  /** A run kept with a violation found at its end (a hang) is judged again the same way, and drawn with it (found by the report trial). */
  @Test
  void aViolationFoundAtTheRunsEndIsJudgedAgainAndDrawn(@TempDir Path dir) throws Exception {
    Path faults = dir.resolve("lost.conf");
    Files.writeString(faults, "faults = [ { invalidation = timeout, nth = 1 } ]\n");
    String data = dir.resolve("data").toString();
    CliTest.Result run = CliTest.dmasim("run", "nvme-iova", "--requests", "3", "--faults", faults.toString(), "--data-dir", data);
    assertEquals(1, run.code(), run.err());
    String runId = run.out().lines().filter(l -> l.contains("run id")).findFirst().orElseThrow().replaceAll(".* ", "");
    CliTest.Result check = CliTest.dmasim("check", "--all", "--data-dir", data);
    assertEquals(0, check.code(), check.out());
    assertEquals(List.of("nvme-iova+lost-s1-XXXX stored violation (Termination), now violation (Termination)", "1 run(s) judged again, 0 verdict(s) changed"),
        lines(check.out())); // lines() masks the run id's hash
    Path trace = dir.resolve("t.json");
    CliTest.Result report = CliTest.dmasim("report", runId, "--perfetto", trace.toString(), "--data-dir", data);
    assertEquals("wrote " + trace + ": 133 steps on 5 tracks, 1 violation(s) marked; open it in https://ui.perfetto.dev or chrome://tracing",
        report.out().strip());
  }

  @Test
  void reportWritesTheRunAsTraceEventJsonWithATrackPerActorArrowsAndTheViolation(@TempDir Path dir) throws Exception {
    String data = dir.resolve("data").toString();
    CliTest.Result run = CliTest.dmasim("run", "nvme-iova-missing-sync", "--data-dir", data);
    assertEquals(1, run.code());
    String runId = run.out().lines().filter(l -> l.contains("run id")).findFirst().orElseThrow().replaceAll(".* ", "");
    Path trace = dir.resolve("out/trace.json");
    CliTest.Result r = CliTest.dmasim("report", runId, "--perfetto", trace.toString(), "--data-dir", data);
    assertEquals(0, r.code(), r.err());
    assertEquals("wrote " + trace + ": 30 steps on 5 tracks, 1 violation(s) marked; open it in https://ui.perfetto.dev or chrome://tracing",
        r.out().strip());
    com.fasterxml.jackson.databind.JsonNode events = new com.fasterxml.jackson.databind.ObjectMapper().readTree(trace.toFile()).get("traceEvents");
    List<String> tracks = new java.util.ArrayList<>();
    java.util.Map<String, Integer> phases = new java.util.TreeMap<>();
    List<String> marks = new java.util.ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode e : events) {
      phases.merge(e.get("ph").asText(), 1, Integer::sum);
      if (e.get("ph").asText().equals("M")) tracks.add(e.get("args").get("name").asText());
      if (e.get("ph").asText().equals("i")) marks.add(e.get("name").asText() + " @" + e.get("ts").asLong());
    }
    assertEquals(List.of("dmasim " + runId + " (nvme-iova-missing-sync)", "cpu0", "cpu1", "dev0", "iommu0", "mem"), tracks);
    // a slice per step, a start and a finish per envelope a recorded step sent, the violation once
    assertEquals(java.util.Map.of("M", 6, "X", 30, "s", 28, "f", 28, "i", 1), phases);
    assertEquals(List.of("SyncBeforeUse [I9] @30"), marks);
    CliTest.Result missing = CliTest.dmasim("report", runId, "--data-dir", data);
    assertEquals(2, missing.code());
    assertEquals("dmasim: report needs --html FILE, --perfetto FILE or both\n", missing.err());
  }

  static List<String> names(com.fasterxml.jackson.databind.JsonNode row) {
    List<String> out = new java.util.ArrayList<>();
    row.fieldNames().forEachRemaining(out::add);
    return out;
  }

  /** The output's lines, run-id hashes masked, runs of spaces folded. */
  static List<String> lines(String out) {
    return out.lines().map(l -> l.replaceAll("-s1-[0-9a-f]{8}", "-s1-XXXX").replaceAll(" +", " ").strip()).toList();
  }
}
