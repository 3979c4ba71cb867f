package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dmasim.scenarios.Catalog;
import dmasim.scenarios.Journal;
import dmasim.scenarios.RunOptions;
import dmasim.scenarios.Runner;
import dmasim.scenarios.Scenario;
import dmasim.scenarios.Workbench;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The journal backends side by side: the same keep → runs → replay → check → damage → gc cycle on
 * the embedded H2 file and on PostgreSQL gives the same outcomes, and the same run writes the same
 * rows on both. The PostgreSQL cases need a server: {@code DMASIM_TEST_POSTGRES_URL} (set by
 * {@code .ci/run}, which starts one); without it they are skipped with one line saying so. Each
 * PostgreSQL case works in a schema of its own, dropped at its end, so reruns start clean.
 */
class JournalBackendsTest {
  static final String URL_ENV = "DMASIM_TEST_POSTGRES_URL";
  static final String SKIPPED = "PostgreSQL tests skipped: set " + URL_ENV + " (the .ci/run script starts a server)";
  private static volatile boolean told;

  /** The test server's URL, or the test is skipped (the reason printed once per run). */
  static String postgresUrl() {
    String url = System.getenv(URL_ENV);
    if (url == null || url.isBlank()) {
      if (!told) {
        told = true;
        // Test output goes to surefire's report files; this line goes to the build's console (the forked JVM's own stderr).
        java.io.PrintStream console = new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true);
        console.println(SKIPPED);
        System.err.println(SKIPPED);
      }
      Assumptions.abort(SKIPPED);
    }
    return url;
  }

  /** A journal of one backend for one test: an H2 data directory, or a fresh PostgreSQL schema. */
  static final class Backend implements AutoCloseable {
    final String kind;
    final Path dir;
    final String url;
    final String schema;

    private Backend(String kind, Path dir, String url, String schema) {
      this.kind = kind;
      this.dir = dir;
      this.url = url;
      this.schema = schema;
    }

    static Backend of(String kind, Path dir) throws Exception {
      if (kind.equals("h2")) return new Backend(kind, dir, null, null);
      String base = postgresUrl();
      String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
      try (Connection c = DriverManager.getConnection(base)) {
        c.createStatement().execute("CREATE SCHEMA \"" + schema + "\"");
      }
      return new Backend(kind, null, base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema, schema);
    }

    /** The CLI options naming this journal. */
    String[] options() {
      return kind.equals("h2") ? new String[] {"--data-dir", dir.toString()} : new String[] {"--journal", "postgres", "--journal-url", url};
    }

    Journal journal() {
      return kind.equals("h2") ? Journal.h2(dir) : Journal.postgres(url, "", "");
    }

    Connection connect() throws Exception {
      return kind.equals("h2") ? DriverManager.getConnection(Journal.h2(dir).url(), "sa", "") : DriverManager.getConnection(url);
    }

    CliTest.Result dmasim(String... args) {
      return CliTest.dmasim(CliTest.concat(args, options()));
    }

    @Override
    public void close() throws Exception {
      if (schema == null) return;
      try (Connection c = DriverManager.getConnection(url)) {
        c.createStatement().execute("DROP SCHEMA \"" + schema + "\" CASCADE");
      }
    }
  }

  static JsonNode json(CliTest.Result r) throws Exception {
    return new ObjectMapper().readTree(r.out());
  }

  /** `runs` without its start times (the column after the steps), spaces collapsed. */
  static List<String> runList(CliTest.Result runs) {
    List<String> out = new ArrayList<>();
    for (String line : runs.out().split("\n")) out.add(line.replaceAll("\\s+\\d{4}-\\d\\d-\\d\\dT\\S+", "").replaceAll(" +", " "));
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgres"})
  void keepRunsReplayCheckDamageAndGcGiveTheSameOutcomesOnEachBackend(String kind, @TempDir Path dir) throws Exception {
    try (Backend b = Backend.of(kind, dir)) {
      CliTest.Result clean = b.dmasim("run", "nvme-iova", "--seed", "3", "--requests", "4", "--json");
      assertEquals(0, clean.code(), clean.err());
      CliTest.Result buggy = b.dmasim("run", "nvme-iova-missing-sync", "--seed", "1", "--json");
      assertEquals(1, buggy.code(), buggy.err());
      String cleanId = json(clean).get("runId").asText();
      String buggyId = json(buggy).get("runId").asText();
      assertEquals(json(CliTest.dmasim("run", "nvme-iova", "--seed", "3", "--requests", "4", "--json", "--journal", "memory")), json(clean),
          "the same run, whatever keeps it");
      JsonNode kept = new ObjectMapper().readTree("[" + String.join(",", b.dmasim("runs", "--json").out().strip().split("\n")) + "]");
      assertEquals(2, kept.size(), kept.toString());
      long buggySteps = kept.get(0).get("steps").asLong();
      long cleanSteps = kept.get(1).get("steps").asLong();
      assertEquals(30, buggySteps, "SyncBeforeUse at step 30, as run printed");

      // A recording stopped by a failure: incomplete, replayable up to its last step, removed by gc.
      Scenario s = Catalog.find("nvme-iova").orElseThrow();
      RunOptions o = RunOptions.defaults(5).withRequests(2);
      String stoppedId = Runner.runId(s, o);
      long stoppedSteps;
      try (Workbench bench = new Workbench(b.journal(), "backends", false, false)) {
        long[] steps = new long[1];
        RuntimeException e = assertThrows(RuntimeException.class, () -> bench.journal.keep(Runner.plan(s, o, stoppedId), journalId -> {
          steps[0] = bench.runner.run(s, o, stoppedId, journalId).outcome().steps();
          throw new IllegalStateException("stopped by the test");
        }));
        assertEquals("stopped by the test", e.getMessage());
        stoppedSteps = steps[0];
      }

      CliTest.Result runs = b.dmasim("runs");
      assertEquals(0, runs.code(), runs.err());
      List<String> list = runList(runs);
      assertEquals(List.of("recording state verdict steps started",
          stoppedId + "~1 incomplete - " + stoppedSteps + " (stopped by the test)",
          buggyId + "~1 kept violation " + buggySteps,
          cleanId + "~1 kept clean " + cleanSteps,
          "3 recording(s); replay a kept run by its run id (the part before ~), an incomplete one by its recording id"), list);

      CliTest.Result replay = b.dmasim("replay", cleanId);
      assertEquals(0, replay.code(), replay.err());
      assertEquals("replay " + cleanId + " (nvme-iova, seed 3, " + cleanSteps + " recorded steps)\n  identical: " + cleanSteps
          + " steps, same events, verdict clean\n", replay.out());
      CliTest.Result replayBuggy = b.dmasim("replay", buggyId);
      assertEquals(1, replayBuggy.code(), replayBuggy.err());
      assertTrue(replayBuggy.out().startsWith("replay " + buggyId + " (nvme-iova-missing-sync, seed 1, " + buggySteps + " recorded steps)\n"
          + "  identical: " + buggySteps + " steps, same events, verdict violation\n"), replayBuggy.out());
      CliTest.Result partial = b.dmasim("replay", stoppedId + "~1");
      assertEquals(0, partial.code(), partial.err());
      assertEquals("replay " + stoppedId + "~1 (nvme-iova, seed 5, " + stoppedSteps + " recorded steps)\n"
          + "  incomplete: recorded to step " + stoppedSteps + " (stopped by the test): replayed up to its last recorded step\n"
          + "  identical: " + stoppedSteps + " steps, same events, verdict clean\n", partial.out());

      CliTest.Result check = b.dmasim("check", "--all");
      assertEquals(0, check.code(), check.err());
      assertEquals(List.of(buggyId + " stored violation (SyncBeforeUse), now violation (SyncBeforeUse)", cleanId + " stored clean, now clean",
          "2 run(s) judged again, 0 verdict(s) changed"), List.of(check.out().replaceAll(" +", " ").split("\n")));

      CliTest.Result inspect = b.dmasim("inspect", cleanId, "--step", "5");
      assertEquals(0, inspect.code(), inspect.err());
      assertTrue(inspect.out().matches("(?s)run " + cleanId + " after step 5 of " + cleanSteps + " \\(virtual time \\d+ ns\\)\n  iommu0\n.*"),
          inspect.out());

      // Damage: a deleted row, then a changed payload, each one line naming the run and the row (exit 3).
      try (Connection c = b.connect()) {
        assertEquals(1, c.createStatement().executeUpdate("DELETE FROM \"event_journal\" WHERE \"persistence_id\" = '" + buggyId
            + "~1|iommu0' AND \"sequence_number\" = 5"));
        assertEquals(1, c.createStatement().executeUpdate("UPDATE \"event_journal\" SET \"event_payload\" = \"meta_payload\""
            + " WHERE \"persistence_id\" = '" + cleanId + "~1|iommu0' AND \"sequence_number\" = 2"));
      }
      for (String[] command : new String[][] {{"replay", buggyId}, {"inspect", buggyId, "--step", "3"}, {"explore", "--from", buggyId, "--prefix", "2"}}) {
        CliTest.Result r = b.dmasim(command);
        assertEquals(3, r.code(), String.join(" ", command) + ": " + r.err());
        assertEquals("dmasim: infrastructure failure: journal damaged at run " + buggyId + ", actor iommu0, event 5: missing (the next row is"
            + " event 6)\n", r.err(), String.join(" ", command));
      }
      CliTest.Result changed = b.dmasim("replay", cleanId);
      assertEquals(3, changed.code(), changed.err());
      assertEquals("dmasim: infrastructure failure: journal damaged at run " + cleanId + ", actor iommu0, event 2: its checksum does not match its"
          + " contents (the row was changed or torn)\n", changed.err());

      CliTest.Result gc = b.dmasim("gc");
      assertEquals(0, gc.code(), gc.err());
      String removed = "removed 1 incomplete or outdated recording(s), " + stoppedSteps + " journal row(s)";
      if (kind.equals("h2")) {
        assertTrue(gc.out().startsWith(removed + "; " + dir.toAbsolutePath().normalize().resolve("journal.mv.db") + ": "), gc.out());
      } else {
        assertEquals(removed + " from the PostgreSQL journal at " + dmasim.scenarios.journal.Database.server(b.url) + "\n", gc.out());
      }
      assertEquals(List.of(list.get(0), list.get(2), list.get(3), "2 recording(s); replay a kept run by its run id (the part before ~), an"
          + " incomplete one by its recording id"), runList(b.dmasim("runs")));

      // explore keeps a violating schedule in the same journal, and prints a replay command naming it.
      CliTest.Result explore = b.dmasim("explore", "nvme-iova-missing-sync", "--schedules", "2", "--keep", "1");
      assertEquals(1, explore.code(), explore.err());
      List<String> replays = explore.out().lines().filter(l -> l.startsWith("    replay: ")).toList();
      String option = kind.equals("h2") ? " --data-dir " + dmasim.scenarios.Shell.quote(dir.toString())
          : " --journal postgres --journal-url " + dmasim.scenarios.Shell.quote(b.url);
      assertEquals(1, replays.size(), explore.out());
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("    replay: \\./dmasim replay (nvme-iova-missing-sync-s1-random-x\\d+-\\w+)"
          + java.util.regex.Pattern.quote(option)).matcher(replays.get(0));
      assertTrue(m.matches(), replays.get(0));
      String keptId = m.group(1);
      CliTest.Result replayKept = b.dmasim("replay", keptId);
      assertEquals(1, replayKept.code(), replayKept.err());
      assertTrue(replayKept.out().contains("\n  identical: ") && replayKept.out().contains(" steps, same events, verdict violation\n"),
          replayKept.out());
    }
  }

  /** An imported kernel trace is journaled and judged again alike on each backend (on PostgreSQL it kept an empty run: found in review). */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgres"})
  void anImportedTraceIsKeptAndJudgedAgainOnEachBackend(String kind, @TempDir Path dir) throws Exception {
    try (Backend b = Backend.of(kind, dir.resolve("data"))) {
      CliTest.Result r = b.dmasim("import-trace", ImportTraceTest.TRACES.resolve("alloc-free-fault.txt").toString(), "--check");
      assertEquals(1, r.code(), r.err());
      assertEquals("  run id                             trace-alloc-free-fault-78a8fa23", r.out().lines().toList().get(2));
      CliTest.Result check = b.dmasim("check", "--all");
      assertEquals(0, check.code(), check.out());
      assertEquals(List.of("trace-alloc-free-fault-78a8fa23 stored violation (Trace), now violation (Trace)", "1 run(s) judged again, 0 verdict(s) changed"),
          check.out().lines().map(l -> l.replaceAll(" +", " ")).toList());
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgres"})
  void commandsThatOnlyReadKeptRunsCreateNothingAndSayWhereTheyLooked(String kind, @TempDir Path dir) throws Exception {
    try (Backend b = Backend.of(kind, dir.resolve("empty"))) {
      CliTest.Result r = b.dmasim("replay", "nvme-iova-s1-00000000");
      assertEquals(2, r.code(), r.err());
      String where = kind.equals("h2") ? dir.resolve("empty").toAbsolutePath().normalize() + ": nothing has been kept there (see --data-dir)"
          : "the PostgreSQL journal at " + dmasim.scenarios.journal.Database.server(b.url) + ": nothing has been kept there (see --journal-url)";
      assertEquals("dmasim: no journal in " + where + "\n", r.err());
      if (kind.equals("postgres")) {
        try (Connection c = b.connect()) {
          assertEquals(false, Journal.tableExists(c, "event_journal"), "nothing created");
        }
      }
    }
  }

  @Test
  void theSameRunWritesTheSameRowsOnH2AndPostgres(@TempDir Path dir) throws Exception {
    try (Backend h2 = Backend.of("h2", dir); Backend pg = Backend.of("postgres", dir)) {
      Scenario s = Catalog.find("nvme-iova").orElseThrow();
      RunOptions o = RunOptions.defaults(2).withRequests(3).withMode(dmasim.actors.iommu.IommuSettings.Mode.LAZY);
      String id = Runner.runId(s, o);
      List<List<String>> dumps = new ArrayList<>();
      for (Backend b : List.of(h2, pg)) {
        try (Workbench bench = new Workbench(b.journal(), "same-rows", false, false)) {
          bench.journal.keep(Runner.plan(s, o, id), journalId -> bench.runner.run(s, o, id, journalId));
          dumps.add(bench.journal.dump(id + "~1"));
        }
      }
      assertTrue(dumps.get(0).size() > 100, "rows: " + dumps.get(0).size());
      assertEquals(dumps.get(0), dumps.get(1));
    }
  }

  @Test
  void aPostgresJournalThatCannotBeUsedIsOneLine() throws Exception {
    CliTest.Result none = CliTest.dmasim("runs", "--journal", "postgres", "--journal-url", "");
    assertEquals(2, none.code());
    assertEquals("dmasim: --journal-url must not be empty\n", none.err());
    CliTest.Result malformed = CliTest.dmasim("runs", "--journal", "postgres", "--journal-url", "jdbc:postgresql://db.example:port/x");
    assertEquals(2, malformed.code());
    assertEquals("dmasim: malformed PostgreSQL journal URL 'db.example:port/x': expected jdbc:postgresql://HOST[:PORT]/DATABASE[?user=U&...]\n",
        malformed.err());
    CliTest.Result down = CliTest.dmasim("runs", "--journal", "postgres", "--journal-url", "jdbc:postgresql://127.0.0.1:1/dmasim");
    assertEquals(3, down.code());
    assertEquals("dmasim: infrastructure failure: cannot reach the PostgreSQL journal at 127.0.0.1:1/dmasim (Connection to 127.0.0.1:1 refused."
        + " Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.); is the server running, and is"
        + " the URL right?\n", down.err());
    CliTest.Result limit = CliTest.dmasim("run", "nvme-iova", "--journal", "postgres", "--journal-url", "jdbc:postgresql://127.0.0.1:1/dmasim",
        "--max-journal-mb", "5");
    assertEquals(2, limit.code());
    assertEquals("dmasim: --max-journal-mb limits the h2 journal file; a PostgreSQL journal's size is the server's to manage\n", limit.err());
    String base = postgresUrl();
    String noSuchUser = base.replaceAll("([?&])user=[^&]*", "$1user=dmasim_nobody");
    CliTest.Result auth = CliTest.dmasim("runs", "--journal", "postgres", "--journal-url", noSuchUser + (noSuchUser.contains("user=") ? ""
        : (noSuchUser.contains("?") ? "&" : "?") + "user=dmasim_nobody"));
    assertEquals(3, auth.code());
    assertEquals("dmasim: infrastructure failure: the PostgreSQL journal at " + dmasim.scenarios.journal.Database.server(base)
        + " refused the login (FATAL: role \"dmasim_nobody\" does not exist)\n", auth.err());
  }
}
