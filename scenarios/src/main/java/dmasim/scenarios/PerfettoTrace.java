package dmasim.scenarios;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dmasim.actors.monitor.Violation;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A kept run as Chrome trace-event JSON (the format the Perfetto UI and chrome://tracing open): one
 * track (thread) per actor, each step a slice on the track of the actor that handled it, placed at
 * its step number (virtual time, which many steps share, is in the slice's arguments), an arrow from
 * the step that sent each envelope to the step that delivered it, and the violations as instant
 * events on the violating actor's track. Strings are data (JSON-escaped by the writer).
 */
public final class PerfettoTrace {
  private PerfettoTrace() {}

  /** The trace of run {@code record} from its recorded {@code steps}, with {@code violations} marked. */
  public static String of(RunRecord record, List<RecordedStep> steps, List<Violation> violations) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    ArrayNode events = root.putArray("traceEvents");
    Map<String, Integer> tids = new TreeMap<>();
    for (RecordedStep st : steps) tids.putIfAbsent(st.actor(), 0);
    int next = 1;
    for (Map.Entry<String, Integer> e : tids.entrySet()) e.setValue(next++);
    ObjectNode process = events.addObject().put("ph", "M").put("name", "process_name").put("pid", 1).put("tid", 0);
    process.putObject("args").put("name", "dmasim " + record.runId() + " (" + record.scenario() + ")");
    tids.forEach((actor, tid) -> {
      ObjectNode t = events.addObject().put("ph", "M").put("name", "thread_name").put("pid", 1).put("tid", tid);
      t.putObject("args").put("name", actor);
    });
    StepLinks links = StepLinks.of(steps);
    for (int n = 0; n < steps.size(); n++) {
      RecordedStep st = steps.get(n);
      int tid = tids.get(st.actor());
      ObjectNode slice = events.addObject().put("ph", "X").put("name", st.type()).put("cat", "step").put("pid", 1).put("tid", tid)
          .put("ts", st.step()).put("dur", 1);
      ObjectNode args = slice.putObject("args");
      args.put("step", st.step()).put("virtual time ns", st.at()).put("envelope", String.valueOf(st.envelope()));
      ArrayNode evs = args.putArray("events");
      for (dmasim.protocol.Event e : st.events()) evs.add(e.toString());
      RecordedStep cause = links.sender(n) < 0 ? null : steps.get(links.sender(n));
      if (cause != null) { // an envelope the harness sent has no step of its own: no arrow
        String id = String.valueOf(st.step());
        events.addObject().put("ph", "s").put("name", "envelope").put("cat", "envelope").put("id", id).put("pid", 1).put("tid", tids.get(cause.actor()))
            .put("ts", cause.step());
        events.addObject().put("ph", "f").put("bp", "e").put("name", "envelope").put("cat", "envelope").put("id", id).put("pid", 1).put("tid", tid)
            .put("ts", st.step());
      }
    }
    for (Violation v : violations) {
      String actor = v.actors().isEmpty() ? null : v.actors().get(0);
      ObjectNode i = events.addObject().put("ph", "i").put("name", v.monitor() + " [" + v.invariant() + "]").put("cat", "violation").put("pid", 1)
          .put("tid", actor != null && tids.containsKey(actor) ? tids.get(actor) : 0).put("ts", v.step()).put("s", actor != null ? "t" : "g");
      i.putObject("args").put("message", v.message()).put("step", v.step());
    }
    root.put("displayTimeUnit", "ns");
    try {
      return json.writeValueAsString(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
