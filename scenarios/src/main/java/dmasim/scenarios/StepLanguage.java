package dmasim.scenarios;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The step grammar of {@code programs}: every step, what it takes, and the parsing of a step string
 * ("link state=s buf=b seg=0 dir=to-device") into a {@link ParsedStep}.
 */
final class StepLanguage {
  private StepLanguage() {}

  /** One step as written: its operation, arguments, and where it stands. */
  record ParsedStep(String op, Map<String, String> args, List<String> positional, ConfigValue at, String key) {}

  /** What a step takes. */
  record StepSpec(int positional, List<String> required, List<String> optional) {
    String describe() {
      List<String> all = new ArrayList<>(required);
      for (String o : optional) all.add("[" + o + "]");
      return all.isEmpty() ? "no arguments" : String.join(" ", all);
    }
  }

  static final Map<String, StepSpec> STEPS = new LinkedHashMap<>();

  /** Every step name the language has. */
  static Set<String> stepNames() {
    return new TreeSet<>(STEPS.keySet());
  }

  static {
    STEPS.put("label", new StepSpec(1, List.of(), List.of()));
    STEPS.put("goto", new StepSpec(1, List.of(), List.of()));
    STEPS.put("if-error", new StepSpec(0, List.of("goto"), List.of()));
    STEPS.put("if-no-iova", new StepSpec(0, List.of("state", "goto"), List.of()));
    STEPS.put("if-errno", new StepSpec(0, List.of("errno", "goto"), List.of()));
    STEPS.put("if-odd", new StepSpec(0, List.of("counter", "goto"), List.of()));
    STEPS.put("repeat", new StepSpec(0, List.of("times"), List.of("counter")));
    STEPS.put("end-repeat", new StepSpec(0, List.of(), List.of()));
    STEPS.put("alloc", new StepSpec(0, List.of("buf", "pages"), List.of("region", "kind")));
    STEPS.put("free-pages", new StepSpec(0, List.of("buf"), List.of()));
    STEPS.put("write", new StepSpec(0, List.of("buf"), List.of()));
    STEPS.put("read", new StepSpec(0, List.of("buf"), List.of()));
    STEPS.put("try-alloc", new StepSpec(0, List.of("state", "buf"), List.of("offset", "device")));
    STEPS.put("link", new StepSpec(0, List.of("state", "buf", "seg", "dir"), List.of("device", "goto", "size", "mmio", "require-coherent")));
    STEPS.put("sync", new StepSpec(0, List.of("state"), List.of("device")));
    STEPS.put("unlink", new StepSpec(0, List.of("state", "dir"), List.of("seg", "offset", "size", "device")));
    STEPS.put("destroy", new StepSpec(0, List.of("state", "dir"), List.of("segs", "device")));
    STEPS.put("free", new StepSpec(0, List.of("state"), List.of("device")));
    STEPS.put("map-phys", new StepSpec(0, List.of("handle", "buf", "seg", "dir"), List.of("device", "mmio", "skip-cpu-sync", "single")));
    STEPS.put("mapping-error", new StepSpec(0, List.of("handle", "seg"), List.of("device", "goto")));
    STEPS.put("unmap-phys", new StepSpec(0, List.of("handle", "seg", "dir"), List.of("device")));
    STEPS.put("map-sg", new StepSpec(0, List.of("sg", "buf", "dir"), List.of("device", "merge", "max-segment")));
    STEPS.put("alloc-coherent", new StepSpec(0, List.of("buf", "pages"), List.of("device")));
    STEPS.put("free-coherent", new StepSpec(0, List.of("buf"), List.of("device", "pages", "handle-of")));
    STEPS.put("unmap-sg", new StepSpec(0, List.of("sg", "dir"), List.of("nents", "device")));
    STEPS.put("sync-for-cpu", new StepSpec(0, List.of("object", "dir"), List.of("seg", "device")));
    STEPS.put("sync-for-device", new StepSpec(0, List.of("object", "dir"), List.of("seg", "device")));
    STEPS.put("submit", new StepSpec(0, List.of("source"), List.of("device-writes", "device", "length")));
    STEPS.put("await", new StepSpec(0, List.of(), List.of("timeout")));
    STEPS.put("lock", new StepSpec(1, List.of(), List.of()));
    STEPS.put("unlock", new StepSpec(1, List.of(), List.of()));
    STEPS.put("reset-device", new StepSpec(0, List.of(), List.of("device")));
    STEPS.put("probe-device", new StepSpec(0, List.of(), List.of("device")));
    STEPS.put("teardown-domain", new StepSpec(0, List.of(), List.of()));
    STEPS.put("attach-iommu", new StepSpec(0, List.of(), List.of("caching-mode")));
    STEPS.put("attach", new StepSpec(0, List.of("device"), List.of()));
    STEPS.put("surprise-removal", new StepSpec(0, List.of(), List.of("device")));
    STEPS.put("reset-state", new StepSpec(0, List.of("state"), List.of()));
    STEPS.put("sleep", new StepSpec(0, List.of("duration"), List.of()));
    STEPS.put("request-done", new StepSpec(0, List.of(), List.of()));
    STEPS.put("unbind", new StepSpec(0, List.of(), List.of("device")));
    STEPS.put("end", new StepSpec(0, List.of(), List.of()));
    // the process's address space (mm section)
    STEPS.put("mmap", new StepSpec(0, List.of("start", "pages"), List.of("access", "populate")));
    STEPS.put("munmap", new StepSpec(0, List.of("start", "pages"), List.of()));
    STEPS.put("mprotect", new StepSpec(0, List.of("start", "pages", "access"), List.of()));
    STEPS.put("madvise-dontneed", new StepSpec(0, List.of("start", "pages"), List.of()));
    STEPS.put("touch", new StepSpec(0, List.of("va"), List.of("write")));
    STEPS.put("migrate", new StepSpec(0, List.of("start", "pages", "to"), List.of("owner")));
    STEPS.put("fork", new StepSpec(0, List.of(), List.of()));
    STEPS.put("reclaim", new StepSpec(0, List.of("start", "pages"), List.of("blockable")));
    STEPS.put("exit", new StepSpec(0, List.of(), List.of()));
    // a mirroring driver (mm.mirrors)
    STEPS.put("mirror-insert", new StepSpec(0, List.of("mirror"), List.of()));
    STEPS.put("mirror-remove", new StepSpec(0, List.of("mirror"), List.of()));
    STEPS.put("read-begin", new StepSpec(0, List.of("mirror"), List.of()));
    STEPS.put("range-fault", new StepSpec(0, List.of("mirror"), List.of("start", "pages", "write", "snapshot", "owner")));
    STEPS.put("read-retry", new StepSpec(0, List.of("mirror", "goto"), List.of()));
    STEPS.put("set-seq", new StepSpec(0, List.of("mirror"), List.of()));
    STEPS.put("dev-pte-set", new StepSpec(0, List.of("mirror"), List.of("downgrade")));
    STEPS.put("dev-zap", new StepSpec(0, List.of("mirror"), List.of("wait")));
    STEPS.put("dev-access", new StepSpec(0, List.of("mirror", "va"), List.of("write")));
    STEPS.put("hmm-dma-alloc", new StepSpec(0, List.of("mirror"), List.of()));
    STEPS.put("hmm-dma-unmap", new StepSpec(0, List.of("mirror"), List.of()));
    STEPS.put("hmm-dma-free", new StepSpec(0, List.of("mirror"), List.of()));
    STEPS.put("set-page-dirty", new StepSpec(0, List.of("mirror"), List.of()));
    STEPS.put("fault-done", new StepSpec(0, List.of("mirror"), List.of("error")));
    STEPS.put("trylock", new StepSpec(1, List.of(), List.of()));
    STEPS.put("return", new StepSpec(0, List.of(), List.of("ok")));
    STEPS.put("if-nonblockable", new StepSpec(0, List.of("goto"), List.of()));
    STEPS.put("if-own-migrate", new StepSpec(0, List.of("mirror", "goto"), List.of()));
    // an RDMA device with on-demand paging (rdma section)
    STEPS.put("mkey-create", new StepSpec(0, List.of("mr", "source", "buf"), List.of()));
    STEPS.put("mkey-get", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("mkey-put", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("mkey-unpublish", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("mkey-wait", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("mkey-revoke", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("mkey-free", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("mkey-check", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("child-get", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("child-create", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("child-destroy", new StepSpec(0, List.of("mr"), List.of("work", "erase", "put-on-lost", "srcu")));
    STEPS.put("child-erase", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("ksm-update", new StepSpec(0, List.of("mr"), List.of()));
    STEPS.put("npages", new StepSpec(0, List.of("mirror"), List.of()));
    STEPS.put("work-run", new StepSpec(0, List.of(), List.of()));
    STEPS.put("wq-flush", new StepSpec(0, List.of(), List.of("deferred")));
    STEPS.put("if-work", new StepSpec(0, List.of("mr", "goto"), List.of()));
  }

  /** The {@code programs} object: "all" and/or "cpuN" step lists, each step parsed (names not checked yet). */
  static Map<String, List<ParsedStep>> programs(HoconReader r, int cpus) {
    if (!r.has("programs")) throw r.error("programs", "required: programs.all (every CPU queue) or programs.cpuN");
    ConfigObject o;
    try {
      o = r.config().getObject("programs");
    } catch (ConfigException e) {
      throw r.error("programs", "must be an object of step lists");
    }
    Map<String, List<ParsedStep>> out = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> e : o.entrySet()) out.put(e.getKey(), program(r, e.getKey(), e.getValue(), cpus));
    for (int i = 0; i < cpus; i++) {
      if (!out.containsKey("all") && !out.containsKey("cpu" + i)) {
        throw r.error(o, "programs", "missing program for cpu" + i + " (add programs.all or programs.cpu" + i + ")");
      }
    }
    return out;
  }

  /** The program {@code programs.NAME}, the value {@code v}. */
  private static List<ParsedStep> program(HoconReader r, String name, ConfigValue v, int cpus) {
    String key = "programs." + name;
    if (!name.equals("all") && !name.matches("cpu\\d{1,9}")) throw r.error(v, key, "program names are 'all' or cpuN (N below 64)");
    if (name.startsWith("cpu") && Integer.parseInt(name.substring(3)) >= cpus) {
      throw r.error(v, key, "there are only " + cpus + " CPU queue(s) (cpus = " + cpus + ")");
    }
    if (!(v instanceof ConfigList list)) throw r.error(v, key, "must be a list of steps");
    if (list.isEmpty()) throw r.error(v, key, "a program needs at least one step");
    List<ParsedStep> steps = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) steps.add(step(r, list.get(i), key + "[" + i + "]"));
    return steps;
  }

  /** One step string {@code v} at {@code key}: a known step with its bare words and the arguments it takes. */
  static ParsedStep step(HoconReader r, ConfigValue v, String key) {
    if (v.valueType() != ConfigValueType.STRING) throw r.error(v, key, "a step is a string such as \"link state=s buf=b seg=0 dir=to-device\"");
    String text = ((String) v.unwrapped()).trim();
    if (text.isEmpty()) throw r.error(v, key, "empty step");
    String[] words = text.split("\\s+");
    Map<String, String> args = new LinkedHashMap<>();
    List<String> positional = new ArrayList<>();
    for (int i = 1; i < words.length; i++) {
      int eq = words[i].indexOf('=');
      if (eq < 0) positional.add(words[i]);
      else if (args.put(words[i].substring(0, eq), words[i].substring(eq + 1)) != null) {
        throw r.error(v, key, "argument '" + words[i].substring(0, eq) + "' given twice");
      }
    }
    ParsedStep s = new ParsedStep(words[0], args, positional, v, key);
    check(r, s, STEPS.get(s.op()));
    return s;
  }

  /** Does {@code s} match its {@code spec} (null: no such step)? */
  private static void check(HoconReader r, ParsedStep s, StepSpec spec) {
    ConfigValue v = s.at();
    String key = s.key();
    if (spec == null) throw r.error(v, key, "unknown step '" + s.op() + "' (steps: " + new TreeSet<>(STEPS.keySet()) + ")");
    if (s.positional().size() != spec.positional()) {
      throw r.error(v, key, s.op() + (spec.positional() == 0 ? " takes no bare words, got " + s.positional() : " takes " + spec.positional()
          + " name(s), e.g. \"" + s.op() + " NAME\""));
    }
    for (String a : s.args().keySet()) {
      if (!spec.required().contains(a) && !spec.optional().contains(a)) {
        throw r.error(v, key, "unknown argument '" + a + "' for " + s.op() + " (expected " + spec.describe() + ")");
      }
    }
    for (String a : spec.required()) if (!s.args().containsKey(a)) throw r.error(v, key, s.op() + " needs " + a + "= (" + spec.describe() + ")");
  }
}
