package dmasim.scenarios;

import dmasim.scenarios.StepLanguage.ParsedStep;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The names a program uses are defined: buffers, states, handles, sg tables, labels, devices; and its repeats balance. */
final class StepNames {
  private final StepArgs args;
  private final DeviceSection devices;
  private final Set<String> buffers = new TreeSet<>();
  private final Set<String> states = new TreeSet<>();
  private final Set<String> handles = new TreeSet<>();
  private final Set<String> sgs = new TreeSet<>();
  private final Set<String> labels = new TreeSet<>();
  private final Set<String> coherent = new TreeSet<>();
  private final Set<String> mkeys = new TreeSet<>();

  private StepNames(StepArgs args, DeviceSection devices) {
    this.args = args;
    this.devices = devices;
  }

  /** Checks one program. */
  static void check(StepArgs args, DeviceSection devices, List<ParsedStep> steps) {
    StepNames names = new StepNames(args, devices);
    for (ParsedStep s : steps) names.define(s);
    int depth = 0;
    for (ParsedStep s : steps) {
      names.uses(s);
      if (s.op().equals("repeat")) depth++;
      if (s.op().equals("end-repeat") && --depth < 0) throw args.error(s, "end-repeat without repeat");
      if (s.args().containsKey("dir")) args.direction(s);
    }
    if (depth != 0) throw args.error(steps.get(steps.size() - 1), "repeat without end-repeat");
  }

  /** The names {@code s} defines. */
  private void define(ParsedStep s) {
    switch (s.op()) {
      case "alloc" -> buffers.add(s.args().get("buf"));
      case "alloc-coherent" -> {
        buffers.add(s.args().get("buf"));
        coherent.add(s.args().get("buf"));
      }
      case "try-alloc" -> states.add(s.args().get("state"));
      case "map-phys" -> handles.add(s.args().get("handle"));
      case "map-sg" -> sgs.add(s.args().get("sg"));
      case "mkey-create" -> mkeys.add(s.args().get("mr"));
      case "label" -> {
        if (!labels.add(s.positional().get(0))) throw args.error(s, "label '" + s.positional().get(0) + "' defined twice");
      }
      default -> {}
    }
  }

  /** The names {@code s} uses are defined. */
  private void uses(ParsedStep s) {
    need(s, "buf", buffers, "buffer", "alloc buf=");
    need(s, "state", states, "dma_iova_state", "try-alloc state=");
    need(s, "handle", handles, "handle group", "map-phys handle=");
    need(s, "sg", sgs, "sg table", "map-sg sg=");
    need(s, "goto", labels, "label", "label ");
    if (s.op().equals("free-coherent")) {
      need(s, "buf", coherent, "coherent allocation", "alloc-coherent buf=");
      need(s, "handle-of", coherent, "coherent allocation", "alloc-coherent buf=");
    }
    if (s.op().equals("goto") && !labels.contains(s.positional().get(0))) {
      throw args.error(s, "undefined label '" + s.positional().get(0) + "'");
    }
    if (s.args().containsKey("device") && !devices.ids().containsKey(s.args().get("device"))) {
      throw args.error(s, "undefined device '" + s.args().get("device") + "' (devices: " + devices.ids().keySet() + ")");
    }
    if (s.op().equals("submit") || s.op().equals("mkey-create")) source(s);
    if (s.op().equals("sync-for-cpu") || s.op().equals("sync-for-device")) {
      String obj = s.args().get("object");
      if (!handles.contains(obj) && !sgs.contains(obj)) throw args.error(s, "undefined handle group or sg table '" + obj + "'");
    }
    if (s.op().equals("attach") && devices.attachedAtStart(devices.ids().get(s.args().get("device")))) {
      throw args.error(s, "device '" + s.args().get("device") + "' is attached at start; only a device with attach = step is attached by a program");
    }
  }

  /** submit source=KIND:NAME names a defined object of that kind. */
  private void source(ParsedStep s) {
    String src = s.args().get("source");
    int colon = src.indexOf(':');
    String kind = colon < 0 ? "" : src.substring(0, colon);
    String name = colon < 0 ? "" : src.substring(colon + 1);
    Set<String> set = switch (kind) {
      case "state" -> states;
      case "mkey" -> mkeys;
      case "handles" -> handles;
      case "sg" -> sgs;
      case "coherent" -> coherent;
      default -> throw args.error(s, "source must be state:NAME, handles:NAME, sg:NAME, coherent:NAME or mkey:NAME, got '" + src + "'");
    };
    if (!set.contains(name)) throw args.error(s, "undefined " + kind + " '" + name + "'");
  }

  private void need(ParsedStep s, String arg, Set<String> defined, String what, String how) {
    String v = s.args().get(arg);
    if (v != null && !defined.contains(v)) throw args.error(s, "undefined " + what + " '" + v + "' (define it with " + how + v + ")");
  }
}
