package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dmasim.scenarios.Journal;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal as users keep it, with dmasim in a child process as they run it: a re-run killed
 * with -9 leaves the kept recording whole and the killed one incomplete; a second process on the
 * same data directory is refused at once; SIGTERM and SIGINT mark the run incomplete and exit
 * 143 and 130; a truncated file, a deleted row and a changed row are each one line naming the run
 * and the damage, exit 3, for replay, inspect and shrink.
 */
class JournalDurabilityTest {
  /** The run the tests keep and re-run: long enough (a few seconds) to be caught in the middle. */
  /** A run that lasts several seconds on an idle machine (1,000 requests could end, journal and all, before its first progress line at 2 s). */
  static final String[] RUN = {"run", "nvme-iova", "--seed", "4", "--requests", "3000"};
  /** A run that lasts much longer than any test waits (it is always interrupted). */
  static final String[] LONG_RUN = {"run", "nvme-iova", "--seed", "4", "--requests", "100000"};

  /** The command line of dmasim in a child JVM with this test's class path, on {@code dataDir}. */
  static List<String> command(Path dataDir, String... args) {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
        System.getProperty("java.class.path"), "dmasim.scenarios.cli.Main"));
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("--data-dir", dataDir.toString()));
    return cmd;
  }

  /** A dmasim child process with its stderr collected line by line. */
  static final class Child {
    final Process process;
    final List<String> err = java.util.Collections.synchronizedList(new ArrayList<>());

    Child(Path dataDir, String... args) throws IOException {
      process = new ProcessBuilder(command(dataDir, args)).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      Thread t = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) err.add(line);
        } catch (IOException e) {
          // the child is gone
        }
      });
      t.setDaemon(true);
      t.start();
    }

    /** Waits for the first progress line with steps on disk; returns how many. */
    long onDisk() throws InterruptedException {
      // while the model runs ("step N, M steps on disk"), or after it, while the writer catches up ("writing the journal: M of N steps on disk")
      Pattern p = Pattern.compile("(?:step [\\d,]+, |writing the journal: )([\\d,]+) (?:of [\\d,]+ )?steps on disk");
      for (int i = 0; i < 1200; i++) {
        synchronized (err) {
          for (String line : err) {
            Matcher m = p.matcher(line);
            if (m.find() && Long.parseLong(m.group(1).replace(",", "")) > 0) return Long.parseLong(m.group(1).replace(",", ""));
          }
        }
        assertTrue(process.isAlive(), "the run ended before it could be interrupted: " + err);
        Thread.sleep(50);
      }
      throw new AssertionError("no progress line: " + err);
    }

    int exit() throws InterruptedException {
      assertTrue(process.waitFor(60, TimeUnit.SECONDS), "child did not exit");
      return process.exitValue();
    }

    String stderr() throws InterruptedException {
      Thread.sleep(100);
      return String.join("\n", err);
    }
  }

  static CliTest.Result dmasim(Path dataDir, String... args) {
    return CliTest.dmasim(CliTest.concat(args, "--data-dir", dataDir.toString()));
  }

  /** dmasim in a child process, to its end: exit code, stdout, stderr. */
  static CliTest.Result child(Path dataDir, String... args) throws Exception {
    List<String> cmd = command(dataDir, args);
    Path out = Files.createTempFile("dmasim-out", ".txt");
    Path err = Files.createTempFile("dmasim-err", ".txt");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child did not exit");
    CliTest.Result r = new CliTest.Result(p.exitValue(), Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  static String runId(CliTest.Result run) throws IOException {
    return new ObjectMapper().readTree(run.out()).get("runId").asText();
  }

  /** state, recorded_step and reason of every recording of the run, oldest first. */
  static List<String> registry(Path dataDir, String runId) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(Journal.h2(dataDir).url(), "sa", "");
        ResultSet rs = c.createStatement().executeQuery("SELECT \"recording_id\", \"state\", \"recorded_step\", \"reason\" FROM \"dmasim_recordings\""
            + " WHERE \"run_id\" = '" + runId + "' ORDER BY \"recording_id\"")) {
      while (rs.next()) rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getLong(3) + " " + rs.getString(4));
    }
    return rows;
  }

  @Test
  void aKilledReRunLeavesTheKeptRecordingWholeAndASecondProcessIsRefusedAtOnce(@TempDir Path dir) throws Exception {
    CliTest.Result first = dmasim(dir, CliTest.concat(RUN, "--json"));
    assertEquals(0, first.code(), first.err());
    String id = runId(first);
    CliTest.Result replayBefore = dmasim(dir, "replay", id);
    assertEquals(0, replayBefore.code(), replayBefore.err());

    Child rerun = new Child(dir, RUN);
    rerun.onDisk();
    long t0 = System.nanoTime();
    CliTest.Result second = dmasim(dir, "run", "nvme-iova", "--requests", "2");
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertEquals(3, second.code(), second.err());
    assertEquals("dmasim: infrastructure failure: the journal " + dir.toAbsolutePath().normalize().resolve("journal.mv.db")
        + " is in use by another dmasim process (the file is locked); wait for it to finish or use another --data-dir\n", second.err());
    assertTrue(seconds < 2, "refused after " + seconds + " s");

    rerun.process.destroyForcibly(); // kill -9
    assertEquals(137, rerun.exit());

    List<String> recordings = registry(dir, id);
    assertEquals(2, recordings.size(), recordings.toString());
    assertTrue(recordings.get(0).startsWith(id + "~1 complete "), recordings.toString());
    Matcher killed = Pattern.compile(Pattern.quote(id) + "~2 recording (\\d+) null").matcher(recordings.get(1));
    assertTrue(killed.matches(), recordings.toString());
    long recordedTo = Long.parseLong(killed.group(1));
    assertTrue(recordedTo > 0);

    CliTest.Result replayAfter = dmasim(dir, "replay", id);
    assertEquals(0, replayAfter.code(), replayAfter.err());
    String note = "  note: a later recording, " + id + "~2, is incomplete: recorded to step " + recordedTo
        + " (its process stopped before it finished); this is the kept one ('dmasim gc' removes the other)\n";
    assertEquals(replayBefore.out().replace("\n  identical", "\n" + note + "  identical"), replayAfter.out());

    CliTest.Result partial = dmasim(dir, "replay", id + "~2");
    assertEquals(0, partial.code(), partial.err());
    assertEquals("replay " + id + "~2 (nvme-iova, seed 4, " + recordedTo + " recorded steps)\n"
        + "  incomplete: recorded to step " + recordedTo + " (its process stopped before it finished): replayed up to its last recorded step\n"
        + "  identical: " + recordedTo + " steps, same events, verdict clean\n", partial.out());

    CliTest.Result gc = dmasim(dir, "gc");
    assertEquals(0, gc.code(), gc.err());
    assertTrue(gc.out().startsWith("removed 1 incomplete or outdated recording(s), " + recordedTo + " journal row(s); "), gc.out());
    assertEquals(List.of(recordings.get(0)), registry(dir, id));
    assertEquals(replayBefore.out(), dmasim(dir, "replay", id).out());
  }

  @Test
  void sigtermAndSigintMarkTheRunIncompleteInOneLineAndExit143And130(@TempDir Path dir) throws Exception {
    String[] signals = {"TERM", "INT"};
    int[] codes = {143, 130};
    for (int i = 0; i < 2; i++) {
      Child run = new Child(dir, LONG_RUN);
      run.onDisk();
      Process kill = new ProcessBuilder("kill", "-" + signals[i], Long.toString(run.process.pid())).start();
      assertEquals(0, kill.waitFor());
      assertEquals(codes[i], run.exit(), run.stderr());
      String err = run.stderr();
      String last = err.substring(err.lastIndexOf('\n') + 1);
      Matcher m = Pattern.compile("dmasim: interrupted \\(SIG" + signals[i] + "\\): recording (nvme-iova-s4-\\w+)~\\d+ of run \\1 is incomplete"
          + " \\(recorded to step (\\d+); 'dmasim replay \\1~\\d+' replays it\\); 'dmasim gc' removes it")
          .matcher(last);
      assertTrue(m.matches(), err);
      assertFalse(err.contains("\tat "), err);
      List<String> recordings = registry(dir, m.group(1));
      assertEquals(m.group(1) + "~" + (i + 1) + " failed " + m.group(2) + " interrupted by SIG" + signals[i], recordings.get(i));
    }
  }

  @Test
  void aRunWhoseJournalWouldPassMaxJournalMbStopsInOneLineAndStaysIncomplete(@TempDir Path dir) throws Exception {
    Child run = new Child(dir, CliTest.concat(LONG_RUN, "--max-journal-mb", "1"));
    assertEquals(3, run.exit(), run.stderr());
    String err = run.stderr();
    assertFalse(err.contains("\tat ") || err.contains("Exception") || err.contains("ERROR"), err);
    String last = err.substring(err.lastIndexOf('\n') + 1);
    String file = dir.toAbsolutePath().normalize().resolve("journal.mv.db").toString();
    Matcher m = Pattern.compile("dmasim: infrastructure failure: the journal " + Pattern.quote(file) + " reached (\\d+) MB, over the limit of 1 MB"
        + " \\(--max-journal-mb\\); the run was stopped and is incomplete").matcher(last);
    assertTrue(m.matches(), err);
    CliTest.Result runs = dmasim(dir, "runs");
    assertEquals(0, runs.code(), runs.err());
    assertTrue(runs.out().contains(" incomplete ") && runs.out().contains("(" + last.substring("dmasim: infrastructure failure: ".length()) + ")"),
        runs.out());
  }

  @Test
  void aDeletedRowIsDamageForReplayInspectAndShrinkNotADivergence(@TempDir Path dir) throws Exception {
    CliTest.Result run = dmasim(dir, "run", "nvme-iova-missing-sync", "--seed", "1", "--json");
    assertEquals(1, run.code(), run.err());
    String id = runId(run);
    try (Connection c = DriverManager.getConnection(Journal.h2(dir).url(), "sa", "")) {
      assertEquals(1, c.createStatement().executeUpdate("DELETE FROM \"event_journal\" WHERE \"persistence_id\" = '" + id
          + "~1|iommu0' AND \"sequence_number\" = 5"));
    }
    String middle = "dmasim: infrastructure failure: journal damaged at run " + id + ", actor iommu0, event 5: missing (the next row is event 6)\n";
    byte[] before = Files.readAllBytes(dir.resolve("journal.mv.db"));
    for (String[] command : new String[][] {{"replay", id}, {"inspect", id, "--step", "3"}, {"runs"}}) {
      dmasim(dir, command);
      assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(dir.resolve("journal.mv.db"))), String.join(" ", command)
          + " opens the journal read-only: the file is unchanged");
    }
    for (String[] command : new String[][] {{"replay", id}, {"inspect", id, "--step", "3"}, {"shrink", id}, {"explore", "--from", id, "--prefix", "2"}}) {
      CliTest.Result r = dmasim(dir, command);
      assertEquals(3, r.code(), String.join(" ", command) + ": " + r.err());
      assertEquals(middle, r.err(), String.join(" ", command));
    }
    try (Connection c = DriverManager.getConnection(Journal.h2(dir).url(), "sa", "")) {
      c.createStatement().executeUpdate("DELETE FROM \"event_journal\" WHERE \"persistence_id\" = '" + id + "~1|iommu0' AND \"sequence_number\" >= 5");
    }
    CliTest.Result tail = dmasim(dir, "replay", id);
    assertEquals(3, tail.code());
    assertTrue(tail.err().matches("dmasim: infrastructure failure: journal damaged at run " + Pattern.quote(id)
        + ", actor iommu0, event 5: missing \\(recorded up to event \\d+, the journal ends at event 4\\)\n"), tail.err());
  }

  @Test
  void aChangedRegistryEntryIsDamageNotADivergence(@TempDir Path dir) throws Exception {
    CliTest.Result run = dmasim(dir, "run", "nvme-iova", "--seed", "3", "--requests", "4", "--json");
    assertEquals(0, run.code(), run.err());
    String id = runId(run);
    String[][] edits = {{"\"requests\" = 5", "its registry entry was changed: what it ran or found no longer matches its checksum"},
        {"\"verdict\" = 'violation'", "its registry entry was changed: what it ran or found no longer matches its checksum"},
        {"\"mode\" = 'lazy'", "its registry entry cannot be read (No enum constant dmasim.actors.iommu.IommuSettings.Mode.lazy)"}};
    for (String[] edit : edits) {
      try (Connection c = DriverManager.getConnection(Journal.h2(dir).url(), "sa", "")) {
        c.createStatement().execute("CREATE TABLE IF NOT EXISTS \"saved\" AS SELECT * FROM \"dmasim_recordings\"");
        assertEquals(1, c.createStatement().executeUpdate("UPDATE \"dmasim_recordings\" SET " + edit[0]));
      }
      for (String command : new String[] {"replay", "inspect"}) {
        CliTest.Result r = command.equals("replay") ? dmasim(dir, "replay", id) : dmasim(dir, "inspect", id, "--step", "1");
        assertEquals(3, r.code(), edit[0] + ": " + r.out() + r.err());
        assertEquals("dmasim: infrastructure failure: journal damaged at run " + id + " (recording " + id + "~1): " + edit[1] + "\n", r.err());
      }
      CliTest.Result runs = dmasim(dir, "runs");
      assertEquals(0, runs.code(), runs.err());
      assertTrue(runs.out().contains(id + "~1") && runs.out().contains(" damaged "), runs.out());
      try (Connection c = DriverManager.getConnection(Journal.h2(dir).url(), "sa", "")) {
        c.createStatement().execute("DELETE FROM \"dmasim_recordings\"");
        c.createStatement().execute("INSERT INTO \"dmasim_recordings\" SELECT * FROM \"saved\"");
      }
      assertEquals(0, dmasim(dir, "replay", id).code(), "restored");
    }
  }

  @Test
  void aMissingJournalFileIsReportedAndAMistypedDirectoryIsNotCreated(@TempDir Path dir) throws Exception {
    CliTest.Result run = dmasim(dir, "run", "nvme-iova", "--seed", "3", "--requests", "2", "--json");
    assertEquals(0, run.code(), run.err());
    String id = runId(run);
    Path kept = dir.resolve("journal.kept");
    Files.delete(dir.resolve("journal.mv.db"));
    CliTest.Result runs = dmasim(dir, "runs");
    assertEquals(3, runs.code());
    assertEquals("dmasim: infrastructure failure: the journal file " + dir.toAbsolutePath().normalize().resolve("journal.mv.db") + " is missing"
        + " (it held 1 kept run(s), the last kept being run " + id + ") (listed in " + kept.toAbsolutePath().normalize() + "); restore it, or"
        + " move " + dir.toAbsolutePath().normalize() + " away to start a new journal\n", runs.err());
    assertTrue(Files.exists(kept), "the list of what was lost is kept");
    Path typo = dir.resolve("no-such-dir");
    CliTest.Result replay = dmasim(typo, "replay", id);
    assertEquals(2, replay.code());
    assertEquals("dmasim: no journal in " + typo.toAbsolutePath().normalize() + ": nothing has been kept there (see --data-dir)\n", replay.err());
    assertFalse(Files.exists(typo));
  }

  @Test
  void aTruncatedJournalFileIsReportedWithTheRunItHeld(@TempDir Path dir) throws Exception {
    CliTest.Result run = dmasim(dir, "run", "nvme-iova", "--seed", "2", "--requests", "200", "--json");
    assertEquals(0, run.code(), run.err());
    String id = runId(run);
    Path file = dir.resolve("journal.mv.db");
    byte[] whole = Files.readAllBytes(file);
    String gone = "dmasim: infrastructure failure: the journal " + file.toAbsolutePath().normalize() + " is damaged: 1 kept run(s) it held are"
        + " gone, the last kept being run " + id + " (";
    String corrupt = "dmasim: infrastructure failure: the journal " + file.toAbsolutePath().normalize() + " is ";
    String identical = dmasim(dir, "replay", id).out();
    Files.write(file, whole);
    int reported = 0;
    for (int keep : new int[] {whole.length / 8, whole.length / 4, whole.length / 2, whole.length * 3 / 4}) {
      Files.write(file, java.util.Arrays.copyOf(whole, keep));
      // In a child process, as users run it: H2 may keep a damaged file open in the JVM that failed to read it.
      CliTest.Result r = child(dir, "replay", id);
      if (r.code() == 0) {
        assertEquals(identical, r.out(), keep + ": H2 found the whole last state before the cut, so nothing was lost");
      } else {
        reported++;
        assertEquals(3, r.code(), keep + ": " + r.out() + r.err());
        assertTrue(r.err().startsWith(gone) || r.err().startsWith(corrupt) && r.err().contains("(it held 1 kept run(s), the last kept being run "
            + id + ")"), keep + ": " + r.err());
        assertEquals(1, r.err().split("\n").length, r.err());
      }
      Files.write(file, whole);
      assertEquals(0, dmasim(dir, "replay", id).code(), "the whole file replays again");
    }
    assertTrue(reported > 0, "no cut lost anything");
  }
}
