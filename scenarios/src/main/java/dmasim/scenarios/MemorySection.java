package dmasim.scenarios;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import dmasim.actors.memory.Region;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The {@code memory} section: the RAM size, and the non-RAM regions (MMIO ranges, P2P BARs) placed above 4 GiB. */
record MemorySection(long pages, List<Region> regions) {
  private static final Map<String, Region.Kind> KINDS = Map.of("mmio", Region.Kind.MMIO, "p2p", Region.Kind.P2P);
  private static final Map<String, Region.Path> PATHS = Map.of("none", Region.Path.NONE, "bus-address", Region.Path.BUS_ADDRESS,
      "host-bridge", Region.Path.HOST_BRIDGE, "not-supported", Region.Path.NOT_SUPPORTED);

  static MemorySection read(HoconReader r) {
    r.onlyKeys("memory", Set.of("pages", "types"));
    long pages = r.number("memory.pages", 4096, 16, 1L << 24);
    List<Region> regions = new ArrayList<>();
    if (!r.has("memory.types")) return new MemorySection(pages, regions);
    ConfigList list = r.list("memory.types", "must be a list of { name, kind = mmio | p2p, pages, path, bus-offset-pages }");
    long next = 1L << 20; // pfn of 4 GiB
    for (int i = 0; i < list.size(); i++) {
      String key = "memory.types[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject o)) throw r.error(list.get(i), key, "must be an object");
      r.onlyKeys(o, key + ".", Set.of("name", "kind", "pages", "path", "bus-offset-pages"));
      Region region = region(r, o, key, next, regions);
      regions.add(region);
      next += Math.max(region.pages(), 1L << 8);
    }
    return new MemorySection(pages, regions);
  }

  /** The region {@code o} at {@code key}, starting at pfn {@code start}. */
  private static Region region(HoconReader r, ConfigObject o, String key, long start, List<Region> earlier) {
    HoconReader sub = r.sub(o, key);
    String name = sub.string("name", null);
    if (earlier.stream().anyMatch(x -> x.name().equals(name))) throw r.error(o.get("name"), key + ".name", "region '" + name + "' defined twice");
    Region.Kind kind = sub.choice("kind", null, KINDS);
    long n = sub.number("pages", 16, 1, 1L << 20);
    Region.Path path = sub.choice("path", kind == Region.Kind.P2P ? null : "none", PATHS);
    if (kind == Region.Kind.MMIO && path != Region.Path.NONE) throw r.error(o.get("path"), key + ".path", "only P2P regions have a path");
    long offset = sub.number("bus-offset-pages", 0, 0, 1L << 30);
    return new Region(name, kind, start, n, path, offset);
  }

  /** Is {@code name} a region of memory.types? */
  boolean hasRegion(String name) {
    return regions.stream().anyMatch(x -> x.name().equals(name));
  }
}
