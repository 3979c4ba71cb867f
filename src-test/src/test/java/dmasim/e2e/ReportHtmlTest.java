package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dmasim.protocol.EnvelopeId;
import dmasim.scenarios.RecordedStep;
import dmasim.scenarios.Workbench;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dmasim report --html: a kept run as one page that loads nothing, whose run strings are data that
 * cannot end their script element, written the same byte for byte every time; drawn by headless
 * Chromium (when installed: .ci/run installs it) with a lane per actor of the run, the violation at
 * the top of the screenshot, no script error, and a hostile scenario path and description shown as
 * text. Two runs are kept: nvme-iova-missing-sync (SyncBeforeUse at step 30, its last) and a scenario
 * file under a directory named {@code <script>alert(1)<} (so its path holds
 * {@code <script>alert(1)</script>}) whose description is markup and line separators, with a delayed
 * envelope (a fault) before its IovaApiUsage violation.
 */
class ReportHtmlTest {
  static final String DESCRIPTION = "</script><script>alert(1)</script> & <b>bold</b> \u2028 \u2029 end";
  static final String HOSTILE = String.join("\n", "name = html-escape",
      "description = \"</script><script>alert(1)</script> & <b>bold</b> \\u2028 \\u2029 end\"", "cpus = 1", "devices = [ { name = nvme } ]",
      "faults = [ { message = delay, type = Returned, to = cpu0, nth = 2, delay = 1us } ]", "programs {", "  all = [", "    \"alloc buf=b pages=1\"",
      "    \"try-alloc state=s buf=b\"", "    \"link state=s buf=b seg=0 dir=to-device\"", "    \"sync state=s\"", "    \"destroy state=s dir=to-device\"",
      "    \"free state=s\"", "    \"submit source=state:s\"", "    \"await\"", "    \"free-pages buf=b\"", "    \"unbind\"", "  ]", "}");
  static final String BROWSER_MISSING = "chromium not installed; .ci/run installs it";
  /** The violation box's border (html-report.html: .violation) and the violating step's mark (.step.viol). */
  static final int VIOLATION_BORDER = 0xc4001a;
  static final int VIOLATION_MARK = 0xd0021b;

  @TempDir static Path dir;
  static String data;
  static String syncRun;
  static List<String> syncViolation;
  static String hostileRun;
  static Path hostileFile;
  static Map<String, List<RecordedStep>> steps = new HashMap<>();

  @BeforeAll
  static void keepTwoViolatingRuns() throws Exception {
    data = dir.resolve("data").toString();
    CliTest.Result sync = CliTest.dmasim("run", "nvme-iova-missing-sync", "--data-dir", data);
    assertEquals(1, sync.code(), sync.err());
    syncRun = runId(sync.out());
    // the violation as run prints it: its head line and its message
    List<String> lines = sync.out().lines().toList();
    int head = lines.indexOf(lines.stream().filter(l -> l.startsWith("VIOLATION 1: ")).findFirst().orElseThrow());
    syncViolation = List.of(lines.get(head), lines.get(head + 1).strip());
    hostileFile = Path.of(dir + "/<script>alert(1)</script>.conf");
    Files.createDirectories(hostileFile.getParent());
    Files.writeString(hostileFile, HOSTILE);
    CliTest.Result hostile = CliTest.dmasim("run", hostileFile.toString(), "--data-dir", data);
    assertEquals(1, hostile.code(), hostile.out() + hostile.err());
    hostileRun = runId(hostile.out());
    try (Workbench bench = new Workbench(dmasim.scenarios.Journal.h2(Path.of(data)), "report-html-test", true, true)) {
      for (String run : List.of(syncRun, hostileRun)) steps.put(run, bench.journal.read(bench.system, bench.journal.lookup(run)));
    }
    assertEquals(30, steps.get(syncRun).size());
    assertEquals(13, steps.get(hostileRun).size());
  }

  // ---- without a browser ------------------------------------------------------------------------

  @Test
  void thePageLoadsNothingCarriesTheRunAsEscapedDataAndIsTheSameEveryTime() throws Exception {
    Path a = dir.resolve("out/a.html");
    CliTest.Result r = CliTest.dmasim("report", syncRun, "--html", a.toString(), "--data-dir", data);
    assertEquals(0, r.code(), r.err());
    assertEquals("wrote " + a + ": 30 steps on 5 lanes, 1 violation(s) marked, actor states at every step; open it in a browser\n", r.out());
    Path b = dir.resolve("out/b.html");
    assertEquals(0, CliTest.dmasim("report", syncRun, "--html", b.toString(), "--data-dir", data).code());
    assertTrue(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(b)), "same run, same bytes");
    String html = Files.readString(a);
    assertSelfContained(html);

    JsonNode page = pageData(html);
    List<RecordedStep> recorded = steps.get(syncRun);
    assertEquals(syncRun, page.get("runId").asText());
    assertEquals(List.of("cpu0", "cpu1", "dev0", "iommu0", "mem"), strings(page.get("actors")));
    assertEquals(new ArrayList<>(new TreeSet<>(recorded.stream().map(RecordedStep::actor).toList())), strings(page.get("actors")));
    List<String> rows = new ArrayList<>();
    for (JsonNode row : page.get("steps")) {
      rows.add(row.get(0).asLong() + " " + page.get("actors").get(row.get(1).asInt()).asText() + " " + page.get("types").get(row.get(2).asInt()).asText()
          + " " + row.get(4).asText() + " " + strings(row.get(6)));
    }
    assertEquals(recorded.stream().map(s -> s.step() + " " + s.actor() + " " + s.type() + " " + s.envelope() + " " + s.events()).toList(), rows);
    for (int i = 0; i < recorded.size(); i++) assertEquals(sender(recorded, i), page.get("steps").get(i).get(5).asInt(), "sender of step " + (i + 1));

    assertEquals(1, page.get("violations").size());
    JsonNode v = page.get("violations").get(0);
    assertEquals("SyncBeforeUse I9 30 " + syncViolation.get(1), v.get("monitor").asText() + " " + v.get("invariant").asText() + " "
        + v.get("step").asLong() + " " + v.get("message").asText());
    assertEquals(29, v.get("at").asInt());
    // the causal slice: from the first envelope of its chain (sent by the harness) to the violating step, each sent by the one before
    List<Integer> slice = new ArrayList<>();
    for (int i = 29; i >= 0; i = sender(recorded, i)) slice.add(0, i);
    assertEquals(slice, ints(v.get("slice")));
    assertEquals(null, recorded.get(slice.get(0)).cause());
    // no step of this run carries a fault
    page.get("steps").forEach(row -> assertEquals(0, row.get(7).size()));

    // each actor's state at the violating step is what inspect prints for it
    Map<String, List<String>> inspected = inspect(syncRun, 30);
    Map<String, List<String>> shown = new TreeMap<>();
    for (int a2 = 0; a2 < page.get("actors").size(); a2++) shown.put(page.get("actors").get(a2).asText(), stateAt(page, a2, 29));
    assertEquals(new TreeMap<>(inspected), shown);
    assertEquals(List.of("mode STRICT, caching mode", "IOVA allocations 2 (8 pages)", "mapped pages (PTEs) 8", "IOTLB entries 1 of 64",
        "invalidations in flight 0"), shown.get("iommu0"));
  }

  @Test
  void aHostileScenarioPathAndDescriptionStayDataAndTheFaultIsMarked() throws Exception {
    Path out = dir.resolve("out/hostile.html");
    CliTest.Result r = CliTest.dmasim("report", hostileRun, "--html", out.toString(), "--data-dir", data);
    assertEquals(0, r.code(), r.err());
    String html = Files.readString(out);
    assertSelfContained(html);
    String payload = dataElement(html);
    for (String c : List.of("<", ">", "&", "\u2028", "\u2029")) assertFalse(payload.contains(c), "raw " + c + " in the page's data");
    assertTrue(payload.contains("\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e \\u0026 \\u003cb\\u003ebold"), payload);
    // the template around the data holds no run text at all
    String template = html.replace(payload, "");
    for (String s : List.of(hostileRun, "alert(", "bold", "html-escape")) assertFalse(template.contains(s), s + " outside the data");
    JsonNode page = pageData(html);
    assertEquals(hostileFile.toString(), page.get("scenario").asText());
    assertTrue(page.get("scenario").asText().contains("<script>alert(1)</script>"));
    assertEquals(DESCRIPTION, page.get("description").asText());
    // the delayed Returned is decided in iommu0's step 6 (the Link whose reply it is)
    Map<Long, List<String>> faults = new TreeMap<>();
    for (JsonNode row : page.get("steps")) if (row.get(7).size() > 0) faults.put(row.get(0).asLong(), strings(row.get(7)));
    assertEquals(Map.of(6L, List.of("iommu0's 2nd Returned to cpu0 delayed by 1000ns (rule: delay the 2nd Returned to cpu0 of each sender by 1000ns)")),
        faults);
    assertEquals("IovaApiUsage I15 13", page.get("violations").get(0).get("monitor").asText() + " " + page.get("violations").get(0).get("invariant")
        .asText() + " " + page.get("violations").get(0).get("step").asLong());
    // and the name itself cannot carry markup: the scenario format refuses it
    Path named = dir.resolve("named.conf");
    Files.writeString(named, HOSTILE.replace("name = html-escape", "name = \"<script>alert(1)</script>\""));
    CliTest.Result refused = CliTest.dmasim("run", named.toString(), "--journal", "memory");
    assertEquals(2, refused.code(), refused.err());
    assertEquals("dmasim: " + named + ":1: name: use lower-case letters, digits and '-' (at most 64), got '<script>alert(1)</script>'\n", refused.err());
  }

  @Test
  void reportNeedsAnOutputAndRefusesAFileItCannotWriteInOneLine() throws Exception {
    CliTest.Result neither = CliTest.dmasim("report", syncRun, "--data-dir", data);
    assertEquals(2, neither.code());
    assertEquals("dmasim: report needs --html FILE, --perfetto FILE or both\n", neither.err());
    Path same = dir.resolve("same.out");
    CliTest.Result both = CliTest.dmasim("report", syncRun, "--html", same.toString(), "--perfetto", same.toString(), "--data-dir", data);
    assertEquals(2, both.code());
    assertEquals("dmasim: --html and --perfetto name the same file " + same + "\n", both.err());
    Path blocker = Files.writeString(dir.resolve("blocker"), "a file, not a directory");
    CliTest.Result underAFile = CliTest.dmasim("report", syncRun, "--html", blocker.resolve("run.html").toString(), "--data-dir", data);
    assertEquals(2, underAFile.code());
    assertEquals("dmasim: cannot write " + blocker.resolve("run.html") + ": " + blocker + " exists and is not a directory\n", underAFile.err());
    Path directory = Files.createDirectories(dir.resolve("a-directory"));
    CliTest.Result onADirectory = CliTest.dmasim("report", syncRun, "--html", directory.toString(), "--data-dir", data);
    assertEquals(2, onADirectory.code());
    assertEquals("dmasim: cannot write " + directory + ": Is a directory\n", onADirectory.err());
    // both at once: one line each, the trace first
    Path trace = dir.resolve("out/both.json");
    Path page = dir.resolve("out/both.html");
    CliTest.Result twice = CliTest.dmasim("report", syncRun, "--perfetto", trace.toString(), "--html", page.toString(), "--data-dir", data);
    assertEquals(0, twice.code(), twice.err());
    assertEquals(List.of("wrote " + trace + ": 30 steps on 5 tracks, 1 violation(s) marked; open it in https://ui.perfetto.dev or chrome://tracing",
        "wrote " + page + ": 30 steps on 5 lanes, 1 violation(s) marked, actor states at every step; open it in a browser"), twice.out().lines().toList());
  }

  // ---- in headless Chromium -----------------------------------------------------------------------

  @Test
  void chromiumDrawsALanePerActorAndTheViolationAtTheTopWithoutAScriptError() throws Exception {
    Path browser = chromium();
    assumeTrue(browser != null, BROWSER_MISSING);
    Path html = dir.resolve("browser/sync.html");
    assertEquals(0, CliTest.dmasim("report", syncRun, "--html", html.toString(), "--data-dir", data).code());

    Path png = dir.resolve("browser/sync.png");
    browse(browser, "--screenshot=" + png, "--window-size=1400,1000", html.toUri().toString());
    BufferedImage shot = ImageIO.read(png.toFile());
    assertEquals("1400x1000", shot.getWidth() + "x" + shot.getHeight());
    // the violation's box is in the top third of the screenshot, its step's mark on the lanes below it
    assertTrue(pixels(shot, VIOLATION_BORDER, 0, 330) > 4000, "the violation's box is not drawn at the top: " + pixels(shot, VIOLATION_BORDER, 0, 330));
    // the violating step's mark is the one thing of its colour that tall (the legend's swatch is 12 px)
    assertTrue(tallest(shot, VIOLATION_MARK) >= 18, "the violating step's mark is not drawn: " + tallest(shot, VIOLATION_MARK) + " px");

    Document dom = Jsoup.parse(browse(browser, "--window-size=1400,1000", "--dump-dom", html.toUri().toString()));
    assertRan(dom);
    List<String> lanes = dom.select("g.lane").stream().map(g -> g.attr("data-actor")).toList();
    assertEquals(new ArrayList<>(new TreeSet<>(steps.get(syncRun).stream().map(RecordedStep::actor).toList())), lanes);
    assertEquals(lanes, dom.select("g.lane > text.lane-label").stream().map(Element::wholeText).toList());
    // every step of the run is a mark on its actor's lane (the run is shorter than the window)
    Map<String, List<String>> marks = new LinkedHashMap<>();
    for (Element g : dom.select("g.lane")) marks.put(g.attr("data-actor"), g.select("rect.step").stream().map(m -> m.attr("data-i")).toList());
    Map<String, List<String>> expected = new LinkedHashMap<>();
    for (String lane : lanes) expected.put(lane, new ArrayList<>());
    List<RecordedStep> recorded = steps.get(syncRun);
    for (int i = 0; i < recorded.size(); i++) expected.get(recorded.get(i).actor()).add(String.valueOf(i));
    assertEquals(expected, marks);
    assertEquals(List.of("29"), dom.select("rect.viol").eachAttr("data-i"));
    assertEquals(List.of("29"), dom.select("rect.sel").eachAttr("data-i"));
    JsonNode v = pageData(Files.readString(html)).get("violations").get(0);
    assertEquals(ints(v.get("slice")).stream().map(String::valueOf).toList(), dom.select("rect.slice").eachAttr("data-i").stream()
        .sorted((x, y) -> Integer.compare(Integer.parseInt(x), Integer.parseInt(y))).toList());
    // one arrow per step whose envelope a recorded step sent
    long sent = java.util.stream.IntStream.range(0, recorded.size()).filter(i -> sender(recorded, i) >= 0).count();
    assertEquals(sent, dom.select("path.arrow").size());

    Element violation = dom.selectFirst("#violations .violation");
    assertEquals(1, dom.select("#violations .violation").size());
    assertEquals("SyncBeforeUse", violation.attr("data-monitor"));
    assertEquals(syncViolation.get(0), violation.selectFirst(".vhead").wholeText());
    assertEquals("SyncBeforeUse [I9]", violation.selectFirst(".monitor").wholeText());
    assertEquals(syncViolation.get(1), violation.selectFirst(".message").wholeText());
    // the selected step is the violating one, and the state shown is its actor's, as inspect prints it
    assertEquals("step 30 of 30", dom.selectFirst("#step-label").wholeText());
    assertEquals("state of iommu0 after step 30", dom.selectFirst("#state-head").wholeText());
    assertEquals(inspect(syncRun, 30).get("iommu0"), dom.select("#state > div").stream().map(Element::wholeText).toList());
    assertEquals("slider", dom.selectFirst("input[type=range]").id());
    assertEquals("29", dom.selectFirst("#slider").attr("max"));
  }

  @Test
  void aLinkToAStepShowsItsEventsAndTheChosenActorsStateOrSaysWhyNot() throws Exception {
    Path browser = chromium();
    assumeTrue(browser != null, BROWSER_MISSING);
    Path html = dir.resolve("browser/linked.html");
    assertEquals(0, CliTest.dmasim("report", syncRun, "--html", html.toString(), "--data-dir", data).code());
    RecordedStep twelve = steps.get(syncRun).get(11);
    Document dom = Jsoup.parse(browse(browser, "--dump-dom", html.toUri() + "#step=12&actor=mem"));
    assertRan(dom);
    assertEquals("step 12 of 30", dom.selectFirst("#step-label").wholeText());
    assertEquals(List.of("11"), dom.select("rect.sel").eachAttr("data-i"));
    assertEquals("step 12 (t=" + twelve.at() + " ns): " + twelve.actor() + " handles " + twelve.type() + " " + twelve.envelope(),
        dom.selectFirst("#step-head").wholeText());
    assertEquals(twelve.events().stream().map(Object::toString).toList(), dom.select("#events > li").stream().map(Element::wholeText).toList());
    assertEquals("state of mem after step 12", dom.selectFirst("#state-head").wholeText());
    assertEquals(inspect(syncRun, 12).get("mem"), dom.select("#state > div").stream().map(Element::wholeText).toList());
    assertEquals(lastEvents(steps.get(syncRun), "mem", 11), dom.select("#recent > li").stream().map(Element::wholeText).toList());

    // a run longer than the page's state limit: events only, and the page says how to see the state
    Path eventsOnly = dir.resolve("browser/events-only.html");
    try (Workbench bench = new Workbench(dmasim.scenarios.Journal.h2(Path.of(data)), "report-html-test", true, true)) {
      dmasim.scenarios.RunRecord record = bench.journal.lookup(syncRun).record();
      dmasim.scenarios.Scenario scenario = dmasim.scenarios.Catalog.resolve(record.scenario());
      List<RecordedStep> recorded = steps.get(syncRun);
      Files.writeString(eventsOnly, dmasim.scenarios.HtmlReport.of(record, scenario.description(), recorded,
          dmasim.scenarios.Recheck.of(scenario, record, recorded).violations(), "as judged here", scenario.build().apply(record.options()), 10).html());
    }
    JsonNode page = pageData(Files.readString(eventsOnly));
    assertTrue(page.get("states").isNull());
    assertEquals(10, page.get("stateSteps").asInt());
    dom = Jsoup.parse(browse(browser, "--dump-dom", eventsOnly.toUri() + "#step=12&actor=mem"));
    assertRan(dom);
    assertEquals("state of mem after step 12", dom.selectFirst("#state-head").wholeText());
    assertEquals("actor states are in this page for runs of at most 10 steps; this run has 30: \"dmasim inspect " + syncRun
        + " --step 12 --actor mem\" prints this one. Its latest events are below.", dom.selectFirst("#state-note").wholeText());
    assertEquals(0, dom.select("#state > div").size());
    assertEquals(lastEvents(steps.get(syncRun), "mem", 11), dom.select("#recent > li").stream().map(Element::wholeText).toList());
  }

  /** The last 8 events of {@code actor} up to step index {@code i}, as the page lists them ("step N: event"). */
  static List<String> lastEvents(List<RecordedStep> recorded, String actor, int i) {
    List<String> all = new ArrayList<>();
    for (RecordedStep st : recorded.subList(0, i + 1)) {
      if (st.actor().equals(actor)) st.events().forEach(e -> all.add("step " + st.step() + ": " + e));
    }
    return all.subList(Math.max(0, all.size() - 8), all.size());
  }

  @Test
  void chromiumShowsAHostileScenarioAsText() throws Exception {
    Path browser = chromium();
    assumeTrue(browser != null, BROWSER_MISSING);
    Path html = dir.resolve("browser/hostile.html");
    assertEquals(0, CliTest.dmasim("report", hostileRun, "--html", html.toString(), "--data-dir", data).code());
    String dumped = browse(browser, "--dump-dom", html.toUri().toString());
    Document dom = Jsoup.parse(dumped);
    assertRan(dom);
    assertEquals("dmasim report " + hostileRun + " (" + hostileFile + ")", dom.title());
    assertEquals("dmasim report " + hostileRun, dom.selectFirst("#heading").wholeText());
    assertEquals("scenario " + hostileFile, dom.selectFirst("#scenario").wholeText());
    assertEquals(DESCRIPTION, dom.selectFirst("#description").wholeText());
    assertTrue(dumped.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"), "escaped in the serialized DOM");
    assertEquals(0, dom.select("b").size(), "no element came from the description");
    assertEquals(List.of("5"), dom.select("rect.fault").eachAttr("data-i"));
  }

  // ---- helpers ------------------------------------------------------------------------------------

  /** Nothing to fetch: no source or link attribute, no external URL, scripts and style allowed by hash only. */
  static void assertSelfContained(String html) throws Exception {
    assertFalse(html.contains("://"), "a URL in the page");
    for (String pattern : List.of("(?i)\\ssrc\\s*=", "(?i)\\shref\\s*=", "(?i)<link", "(?i)<img", "(?i)<iframe", "(?i)<object", "(?i)<embed",
        "(?i)@import", "(?i)url\\((?!#)", "(?i)innerHTML", "(?i)outerHTML", "(?i)insertAdjacentHTML", "(?i)document\\.write", "(?i)\\beval\\(")) {
      assertFalse(Pattern.compile(pattern).matcher(html).find(), pattern + " in the page");
    }
    List<String> scripts = new ArrayList<>();
    Matcher m = Pattern.compile("<script([^>]*)>(.*?)</script>", Pattern.DOTALL).matcher(html);
    List<String> attributes = new ArrayList<>();
    while (m.find()) {
      attributes.add(m.group(1));
      if (m.group(1).isEmpty()) scripts.add(m.group(2));
    }
    assertEquals(List.of("", " type=\"application/json\" id=\"dmasim-data\"", ""), attributes);
    Matcher style = Pattern.compile("<style>(.*?)</style>", Pattern.DOTALL).matcher(html);
    assertTrue(style.find());
    String policy = "default-src 'none'; script-src 'sha256-" + sha256(scripts.get(0)) + "' 'sha256-" + sha256(scripts.get(1)) + "'; style-src 'sha256-"
        + sha256(style.group(1)) + "'; base-uri 'none'; form-action 'none'";
    assertTrue(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"" + policy + "\">"), "the policy allows exactly the page's scripts");
  }

  static String dataElement(String html) {
    String open = "<script type=\"application/json\" id=\"dmasim-data\">";
    int from = html.indexOf(open) + open.length();
    return html.substring(from, html.indexOf("</script>", from));
  }

  static JsonNode pageData(String html) throws IOException {
    return new ObjectMapper().readTree(dataElement(html));
  }

  /** The state of actor {@code a} after step index {@code i} from the page's data: its latest step's, or its initial one. */
  static List<String> stateAt(JsonNode page, int a, int i) {
    JsonNode states = page.get("states");
    JsonNode state = states.get("initial").get(a);
    for (int j = i; j >= 0; j--) {
      if (page.get("steps").get(j).get(1).asInt() == a) {
        state = states.get("after").get(j);
        break;
      }
    }
    List<String> out = new ArrayList<>();
    for (JsonNode line : state) out.add(states.get("lines").get(line.asInt()).asText());
    return out;
  }

  /** The index of the step that sent step {@code i}'s envelope, or -1 (the harness sent it). */
  static int sender(List<RecordedStep> recorded, int i) {
    EnvelopeId cause = recorded.get(i).cause();
    for (int j = 0; j < i; j++) if (recorded.get(j).envelope().equals(cause)) return j;
    return -1;
  }

  /** What {@code dmasim inspect RUN --step N} prints for each actor: its state lines. */
  static Map<String, List<String>> inspect(String run, long step) {
    CliTest.Result r = CliTest.dmasim("inspect", run, "--step", String.valueOf(step), "--data-dir", data);
    assertEquals(0, r.code(), r.err());
    Map<String, List<String>> out = new LinkedHashMap<>();
    String actor = null;
    for (String line : r.out().lines().skip(1).toList()) {
      if (line.startsWith("  in flight")) break;
      if (line.startsWith("    ")) out.get(actor).add(line.substring(4));
      else out.put(actor = line.strip(), new ArrayList<>());
    }
    return out;
  }

  static void assertRan(Document dom) {
    assertEquals("", dom.body().attr("data-errors"), "script errors");
    assertEquals("1", dom.body().attr("data-ready"), "the page's script did not run to its end");
    assertEquals(3, dom.select("script").size(), "an element the page did not write");
  }

  static long pixels(BufferedImage img, int rgb, int fromRow, int toRow) {
    long n = 0;
    for (int y = fromRow; y < Math.min(toRow, img.getHeight()); y++) {
      for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
    }
    return n;
  }

  /** The longest vertical run of pixels of colour {@code rgb}. */
  static int tallest(BufferedImage img, int rgb) {
    int best = 0;
    for (int x = 0; x < img.getWidth(); x++) {
      int run = 0;
      for (int y = 0; y < img.getHeight(); y++) {
        run = (img.getRGB(x, y) & 0xffffff) == rgb ? run + 1 : 0;
        best = Math.max(best, run);
      }
    }
    return best;
  }

  /** /usr/bin/chromium or chromium on the PATH, or null; {@code -Ddmasim.chromium=PATH} chooses another, {@code =none} none (to try the skip). */
  static Path chromium() {
    String chosen = System.getProperty("dmasim.chromium");
    if (chosen != null) return chosen.equals("none") ? null : Path.of(chosen);
    Path usual = Path.of("/usr/bin/chromium");
    if (Files.isExecutable(usual)) return usual;
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(d.isEmpty() ? "." : d, "chromium");
      if (Files.isExecutable(p)) return p;
    }
    return null;
  }

  /** Runs headless Chromium with {@code args} on a fresh profile, offline; returns its stdout. */
  static String browse(Path browser, String... args) throws Exception {
    Path profile = Files.createTempDirectory(dir, "chromium-profile");
    List<String> command = new ArrayList<>(List.of(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "chromium", ".out");
    Path err = Files.createTempFile(dir, "chromium", ".err");
    Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 120 s: " + String.join(" ", command));
    }
    assertEquals(0, p.exitValue(), "chromium: " + Files.readString(err));
    return Files.readString(out, StandardCharsets.UTF_8);
  }

  static String runId(String out) {
    return out.lines().filter(l -> l.contains("run id")).findFirst().orElseThrow().replaceAll(".* ", "");
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  static List<Integer> ints(JsonNode array) {
    List<Integer> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asInt()));
    return out;
  }

  static String sha256(String text) throws Exception {
    return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
  }
}
