package dmasim.scenarios;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dmasim.actors.monitor.Violation;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A kept run as one self-contained HTML page: a lane per actor with each step a mark at its step
 * number, an arrow from the step that sent each envelope to the step that handled it, the faults and
 * violations marked, the violation's causal slice highlighted, a step slider showing each step's
 * events, and the state of an actor at the selected step on click ({@code page.html#step=12&actor=mem}
 * opens at step 12 with mem's state).
 *
 * <p>The page fetches nothing: its CSS and scripts are inline, and its Content-Security-Policy allows
 * no source at all besides those scripts and that style, by hash. Every string that comes from the
 * run (scenario, file paths, events, violation messages) is in one JSON document inside a
 * {@code <script type="application/json">} element, with {@code <}, {@code >}, {@code &} and the
 * JavaScript line separators written as escapes, so no string can end the element; the page's
 * script renders them with {@code textContent} only. The template holds no run-specific text.
 *
 * <p>The bytes depend only on the arguments: same run, same page.
 */
public record HtmlReport(String html, int lanes, boolean states) {
  /**
   * Runs of at most this many steps carry the state of the handling actor after every step (the
   * lines of all states are shared, so a step costs the indices of its actor's lines); longer runs
   * carry the events of each step only, which keeps a page under a few MB up to tens of thousands of
   * steps. {@code dmasim inspect} shows any state of any run.
   */
  public static final int STATE_STEPS = 20_000;

  private static final String TEMPLATE = "html-report.html";
  private static final String DATA = "@@DATA@@";
  private static final String POLICY = "@@POLICY@@";

  /**
   * The page of run {@code record} ({@code description}: its scenario's description, or null) from
   * its recorded {@code steps}, with {@code violations} marked; {@code judgedBy} says in words where
   * the violations come from (the page shows it beside them). {@code system} is the system the run
   * ran, whose actor kinds fold the states; null when there is none (no states are shown).
   */
  public static HtmlReport of(RunRecord record, String description, List<RecordedStep> steps, List<Violation> violations, String judgedBy,
      SystemSpec system) {
    return of(record, description, steps, violations, judgedBy, system, STATE_STEPS);
  }

  /** ... with the states in the page only when the run has at most {@code stateSteps} steps. */
  public static HtmlReport of(RunRecord record, String description, List<RecordedStep> steps, List<Violation> violations, String judgedBy,
      SystemSpec system, int stateSteps) {
    StepLinks links = StepLinks.of(steps);
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("runId", record.runId()).put("scenario", record.scenario()).put("description", description);
    RunOptions o = record.options();
    root.put("options", record.spec().isTrace() ? "an imported kernel trace" + (record.spec().parameter() == 1 ? ", judged as the driver's whole life" : "")
        : String.format(Locale.ROOT, "seed %d, iommu %s, %d CPU queue(s) x %d requests x %d segments, strategy %s", o.seed(),
        o.mode() == null ? "as the scenario sets it" : RunRecord.modeName(o.mode()).toLowerCase(Locale.ROOT).replace('_', '-'), o.cpus(), o.requests(),
        o.segments(), record.strategy()));
    root.put("recordedVerdict", record.verdict()).put("judgedBy", judgedBy);

    List<String> actors = new ArrayList<>(new TreeSet<>(steps.stream().map(RecordedStep::actor).toList()));
    Map<String, Integer> actorIndex = index(actors);
    actors.forEach(root.putArray("actors")::add);
    Map<String, Integer> types = new LinkedHashMap<>();
    ArrayNode rows = root.putArray("steps");
    for (int i = 0; i < steps.size(); i++) {
      RecordedStep st = steps.get(i);
      ArrayNode row = rows.addArray();
      row.add(st.step()).add(actorIndex.get(st.actor())).add(types.computeIfAbsent(st.type(), t -> types.size())).add(st.at())
          .add(String.valueOf(st.envelope())).add(links.sender(i));
      ArrayNode events = row.addArray();
      for (dmasim.protocol.Event e : st.events()) events.add(e.toString());
      ArrayNode faults = row.addArray();
      StepLinks.faults(st).forEach(faults::add);
    }
    types.keySet().forEach(root.putArray("types")::add);

    ArrayNode vs = root.putArray("violations");
    for (Violation v : violations) vs.add(violation(json, v, links));

    root.put("stateSteps", stateSteps);
    boolean withStates = system != null && steps.size() <= stateSteps;
    if (withStates) root.set("states", states(json, system, steps, actors));
    else root.putNull("states");

    String data;
    try {
      data = json.writeValueAsString(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    String template = template();
    String page = template.replace(POLICY, policy(template)).replace(DATA, scriptSafe(data));
    return new HtmlReport(page, actors.size(), withStates);
  }

  private static ObjectNode violation(ObjectMapper json, Violation v, StepLinks links) {
    ObjectNode j = json.createObjectNode();
    j.put("monitor", v.monitor()).put("invariant", v.invariant()).put("step", v.step()).put("time", v.time());
    v.actors().forEach(j.putArray("actors")::add);
    j.put("message", v.message()).put("where", v.where());
    v.about().forEach(j.putArray("about")::add);
    // the causes name steps ("step 12 @0ns cpu0#3 -> iommu0 Link ..."): each line with the step it names, to select it (-1: none)
    ArrayNode causes = j.putArray("causes");
    for (String c : v.causes()) causes.addArray().add(c).add(namedStep(c, links));
    v.chain().forEach(j.putArray("chain")::add);
    v.faults().forEach(j.putArray("faults")::add);
    // an end-of-run check names no actor: it belongs to no step, though it carries the last one's number
    int at = v.actors().isEmpty() ? -1 : links.indexOf(v.step());
    j.put("at", at);
    ArrayNode slice = j.putArray("slice");
    if (at >= 0) links.chain(at).forEach(slice::add);
    return j;
  }

  private static final Pattern STEP_LINE = Pattern.compile("^step (\\d{1,18}) ");

  /** The index of the step a cause line names, or -1 (an "(N earlier step(s) omitted)" line, or a line in another form). */
  private static int namedStep(String line, StepLinks links) {
    Matcher m = STEP_LINE.matcher(line);
    return m.find() ? links.indexOf(Long.parseLong(m.group(1))) : -1;
  }

  /**
   * Each lane's state before the first step ({@code initial}, per actor; null for an actor the
   * system has not) and the handling actor's state after each step ({@code after}, per step): an
   * actor's state changes only in its own steps, so these give any actor's state at any step. States
   * are lists of indices into {@code lines}, which holds each distinct line once.
   */
  private static ObjectNode states(ObjectMapper json, SystemSpec system, List<RecordedStep> steps, List<String> actors) {
    Inspector.Fold fold = new Inspector.Fold(system);
    Map<String, Integer> lines = new LinkedHashMap<>();
    ObjectNode out = json.createObjectNode();
    ArrayNode initial = out.putArray("initial");
    for (String a : actors) add(initial, fold.describe(a), lines);
    ArrayNode after = out.putArray("after");
    for (RecordedStep st : steps) {
      fold.apply(st);
      add(after, fold.describe(st.actor()), lines);
    }
    lines.keySet().forEach(out.putArray("lines")::add);
    return out;
  }

  private static void add(ArrayNode to, List<String> state, Map<String, Integer> lines) {
    if (state == null) {
      to.addNull();
      return;
    }
    ArrayNode a = to.addArray();
    for (String line : state) a.add(lines.computeIfAbsent(line, l -> lines.size()));
  }

  private static Map<String, Integer> index(List<String> names) {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (String n : names) out.put(n, out.size());
    return out;
  }

  /**
   * {@code json} safe inside a script element: {@code <} (which could end the element or open a
   * comment), {@code >} and {@code &} as Unicode escapes, and U+2028 / U+2029 too. These characters can
   * only occur inside JSON strings, where the escape means the same character.
   */
  static String scriptSafe(String json) {
    StringBuilder b = new StringBuilder(json.length() + 64);
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      switch (c) {
        case '<' -> b.append("\\u003c");
        case '>' -> b.append("\\u003e");
        case '&' -> b.append("\\u0026");
        case '\u2028' -> b.append("\\u2028");
        case '\u2029' -> b.append("\\u2029");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  private static final Pattern SCRIPT = Pattern.compile("<script>(.*?)</script>", Pattern.DOTALL);
  private static final Pattern STYLE = Pattern.compile("<style>(.*?)</style>", Pattern.DOTALL);

  /** The page's Content-Security-Policy: nothing may load, only the template's own scripts and style run (by their SHA-256). */
  private static String policy(String template) {
    StringBuilder scripts = new StringBuilder();
    Matcher m = SCRIPT.matcher(template);
    while (m.find()) scripts.append(" 'sha256-").append(sha256(m.group(1))).append('\'');
    StringBuilder styles = new StringBuilder();
    m = STYLE.matcher(template);
    while (m.find()) styles.append(" 'sha256-").append(sha256(m.group(1))).append('\'');
    return "default-src 'none'; script-src" + scripts + "; style-src" + styles + "; base-uri 'none'; form-action 'none'";
  }

  private static String sha256(String text) {
    try {
      return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String template() {
    try (InputStream in = HtmlReport.class.getResourceAsStream(TEMPLATE)) {
      if (in == null) throw new IllegalStateException("resource " + TEMPLATE + " is missing from the build");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
