package dmasim.scenarios;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import dmasim.actors.odp.HcaSettings;
import dmasim.scenarios.StepLanguage.ParsedStep;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code rdma} section: an RDMA device with on-demand paging over the mm section's mirrors. Its
 * memory regions are explicit MRs ({@code { mirror = NAME }}: the MR's umem is that mirror, its
 * umem_mutex the mirror's lock) and implicit ones ({@code { name, lock, children = [mirrors] }}: a
 * KSM slot per child, each child an MR over its own mirror). {@code work} holds the driver's work
 * handlers (step lists a {@code work-run} queue runs). Absent: no RDMA device.
 */
record RdmaSection(HcaSettings settings, Map<String, List<ParsedStep>> work, boolean faultsToWorkqueue) {
  static final RdmaSection NONE = new RdmaSection(null, Map.of(), false);

  boolean present() {
    return settings != null;
  }

  static RdmaSection read(HoconReader r, DeviceSection devices, MmSection mm) {
    List<MmSection.Mirror> mirrors = mm.mirrors();
    if (!r.has("rdma")) return NONE;
    r.onlyKeys("rdma", Set.of("device", "mrs", "work", "page-faults"));
    Map<String, MmSection.Mirror> byName = new LinkedHashMap<>();
    for (MmSection.Mirror m : mirrors) byName.put(m.settings().name(), m);
    String devName = r.has("rdma.device") ? r.string("rdma.device", null) : null;
    if (devName == null && !mirrors.isEmpty()) {
      devName = devices.ids().entrySet().stream().filter(e -> e.getValue().equals(mirrors.get(0).settings().device())).findFirst().orElseThrow().getKey();
    } else if (devName == null) {
      devName = devices.ids().keySet().iterator().next();
    }
    if (!devices.ids().containsKey(devName)) throw r.error("rdma.device", "unknown device '" + devName + "' (devices: " + devices.ids().keySet() + ")");
    List<HcaSettings.Mr> mrs = new ArrayList<>();
    Set<String> used = new java.util.HashSet<>();
    ConfigList list = r.list("rdma.mrs", "must be a list of { mirror = NAME } (explicit MRs), { name, lock, children = [NAME, ...] } (implicit "
        + "ones) and { name } (page-list mkeys)");
    if (list.isEmpty()) throw r.error(list, "rdma.mrs", "must name at least one memory region");
    for (int i = 0; i < list.size(); i++) {
      String key = "rdma.mrs[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject o)) throw r.error(list.get(i), key, "must be an object");
      HoconReader v = r.sub(o, key);
      if ((o.containsKey("children") || o.containsKey("mirror")) && mirrors.isEmpty()) {
        throw r.error(o, key, "an ODP memory region needs an mm section with mirrors (its umem is a mirror)");
      }
      if (!o.containsKey("children") && !o.containsKey("mirror")) {
        r.onlyKeys(o, key + ".", Set.of("name"));
        if (!o.containsKey("name")) throw r.error(o, key + ".name", "required: { mirror = NAME } for an explicit ODP MR, { name, lock, children } for an "
            + "implicit one, or { name } for a page-list mkey");
        String name = v.string("name", null);
        if (!name.matches("[a-z][a-z0-9-]{0,31}")) throw r.error(o.get("name"), key + ".name", "use lower-case letters, digits and '-', got '" + name + "'");
        if (byName.containsKey(name) || !used.add(name)) throw r.error(o.get("name"), key + ".name", "'" + name + "' is already a mirror or an MR");
        mrs.add(new HcaSettings.Mr(name, HcaSettings.Kind.PLAIN, "", "", -1));
      } else if (o.containsKey("children")) {
        r.onlyKeys(o, key + ".", Set.of("name", "lock", "children"));
        String name = v.string("name", null);
        if (!name.matches("[a-z][a-z0-9-]{0,31}")) throw r.error(o.get("name"), key + ".name", "use lower-case letters, digits and '-', got '" + name + "'");
        if (byName.containsKey(name) || !used.add(name)) throw r.error(o.get("name"), key + ".name", "'" + name + "' is already a mirror or an MR");
        String lock = v.string("lock", null);
        if (!lock.matches("[A-Za-z_][A-Za-z0-9_.-]{0,63}")) throw r.error(o.get("lock"), key + ".lock", "the parent's umem_mutex (as lock steps name it), got '"
            + lock + "'");
        if (!(o.get("children") instanceof ConfigList kids) || kids.isEmpty()) throw r.error(o.get("children"), key + ".children",
            "must be a non-empty list of mirror names (one KSM slot each)");
        mrs.add(new HcaSettings.Mr(name, HcaSettings.Kind.IMPLICIT, lock, "", -1));
        for (int k = 0; k < kids.size(); k++) {
          String child = mirrorName(r, kids.get(k), key + ".children[" + k + "]", byName, used);
          boolean inserted = mm.settings().subs().stream().anyMatch(sub -> sub.name().equals(child) && sub.inserted());
          if (inserted || !byName.get(child).settings().dma()) {
            throw r.error(kids.get(k), key + ".children[" + k + "]", "child mirror '" + child + "' must be declared with inserted = false and dma = true: "
                + "a child's notifier is inserted and its hmm_dma_map allocated when a fault creates it (child-create)");
          }
          mrs.add(new HcaSettings.Mr(child, HcaSettings.Kind.CHILD, byName.get(child).settings().lock(), name, k));
        }
      } else {
        r.onlyKeys(o, key + ".", Set.of("mirror"));
        if (!o.containsKey("mirror")) throw r.error(o, key + ".mirror", "required: the mirror that is this explicit MR's umem (or give children = [...] "
            + "for an implicit MR)");
        String m = mirrorName(r, o.get("mirror"), key + ".mirror", byName, used);
        mrs.add(new HcaSettings.Mr(m, HcaSettings.Kind.EXPLICIT, byName.get(m).settings().lock(), "", -1));
      }
    }
    Map<String, List<ParsedStep>> work = new LinkedHashMap<>();
    if (r.has("rdma.work")) {
      ConfigObject o;
      try {
        o = r.config().getObject("rdma.work");
      } catch (com.typesafe.config.ConfigException e) {
        throw r.error("rdma.work", "must be an object of step lists: the driver's work handlers, e.g. work { free-child = [ ... ] }");
      }
      for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
        String key = "rdma.work." + e.getKey();
        if (!e.getKey().matches("[a-z][a-z0-9-]{0,31}")) throw r.error(e.getValue(), key, "name handlers with lower-case letters, digits and '-'");
        if (!(e.getValue() instanceof ConfigList steps) || steps.isEmpty()) throw r.error(e.getValue(), key, "must be a non-empty list of steps");
        List<ParsedStep> parsed = new ArrayList<>();
        for (int k = 0; k < steps.size(); k++) parsed.add(StepLanguage.step(r, steps.get(k), key + "[" + k + "]"));
        work.put(e.getKey(), parsed);
      }
    }
    boolean toWorkqueue = r.choice("rdma.page-faults", "queue", Map.of("queue", false, "workqueue", true));
    if (toWorkqueue && !work.containsKey(dmasim.actors.odp.HcaLogic.PAGE_FAULT_HANDLER)) {
      throw r.error("rdma.page-faults", "page-faults = workqueue runs the work handler rdma.work.pagefault for each device fault: define it");
    }
    if (toWorkqueue && mrs.stream().noneMatch(m -> m.kind() == HcaSettings.Kind.EXPLICIT || m.kind() == HcaSettings.Kind.CHILD)) {
      throw r.error("rdma.page-faults", "page-faults = workqueue needs an ODP memory region (a device fault is on an MR's mirror)");
    }
    return new RdmaSection(new HcaSettings(devName, devices.ids().get(devName).value(), mrs, List.copyOf(work.keySet())), work, toWorkqueue);
  }

  private static String mirrorName(HoconReader r, ConfigValue v, String key, Map<String, MmSection.Mirror> mirrors, Set<String> used) {
    if (!(v.unwrapped() instanceof String name)) throw r.error(v, key, "must be a mirror name");
    if (!mirrors.containsKey(name)) throw r.error(v, key, "unknown mirror '" + name + "' (mm.mirrors: " + mirrors.keySet() + ")");
    if (!used.add(name)) throw r.error(v, key, "mirror '" + name + "' is already the umem of another MR");
    return name;
  }
}
