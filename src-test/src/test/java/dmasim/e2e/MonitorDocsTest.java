package dmasim.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dmasim.actors.monitor.Monitors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/monitors.md keeps up with the monitors: every invariant id a monitor can report (the string
 * literal first argument of each {@code violate(} call in the monitor sources) has a heading or a
 * table entry there, every monitor is named, and every catalogue file it cites exists.
 */
class MonitorDocsTest {
  static final Path ROOT = Path.of(System.getProperty("user.dir")).resolve("..").normalize();
  static final Path MONITORS = ROOT.resolve("actors/src/main/java/dmasim/actors/monitor");
  static final Path CATALOG = ROOT.resolve("scenarios/src/main/resources/catalog");
  static final Path DOC = ROOT.resolve("docs/monitors.md");

  static final Pattern VIOLATE = Pattern.compile("\\bviolate\\(\\s*(\"[^\"]*\"|[^,)]*)");

  /** Invariant id -> the monitor sources that report it. */
  static TreeMap<String, Set<String>> reportedIds() throws IOException {
    TreeMap<String, Set<String>> ids = new TreeMap<>();
    List<String> notLiteral = new ArrayList<>();
    try (Stream<Path> files = Stream.concat(Files.list(MONITORS), Stream.concat(Files.list(MONITORS.resolveSibling("mm")), Files.list(
        MONITORS.resolveSibling("odp"))).filter(p -> p.toString().endsWith("Monitor.java")))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
        String src = Files.readString(f);
        Matcher m = VIOLATE.matcher(src);
        while (m.find()) {
          String arg = m.group(1).trim();
          if (f.getFileName().toString().equals("AbstractMonitor.java") && arg.startsWith("String ")) continue; // the declaration
          if (!arg.startsWith("\"")) {
            notLiteral.add(f.getFileName() + ": violate(" + arg);
            continue;
          }
          ids.computeIfAbsent(arg.substring(1, arg.length() - 1), k -> new TreeSet<>()).add(f.getFileName().toString());
        }
      }
    }
    assertEquals(List.of(), notLiteral, "invariant ids must be string literals so the docs can be checked");
    return ids;
  }

  /** Lines of the doc that are headings or table rows. */
  static List<String> headingsAndRows(String md) {
    return md.lines().filter(l -> l.startsWith("#") || l.startsWith("|")).toList();
  }

  @Test
  void theSourcesAreFoundAndReportManyIds() throws IOException {
    TreeMap<String, Set<String>> ids = reportedIds();
    assertTrue(ids.size() >= 40, "only " + ids.keySet() + " found under " + MONITORS);
    assertTrue(ids.containsKey("I1") && ids.containsKey("DMA-debug 24") && ids.containsKey("LIVENESS"), ids.keySet().toString());
  }

  @Test
  void everyInvariantIdAMonitorCanReportIsDocumented() throws IOException {
    List<String> entries = headingsAndRows(Files.readString(DOC));
    List<String> missing = new ArrayList<>();
    reportedIds().forEach((id, sources) -> {
      if (entries.stream().noneMatch(l -> l.contains("`" + id + "`"))) missing.add(id + " (" + String.join(", ", sources) + ")");
    });
    assertEquals(List.of(), missing, "docs/monitors.md has no heading or table entry `ID` for these invariant ids");
  }

  @Test
  void everyMonitorIsNamed() throws IOException {
    String md = Files.readString(DOC);
    List<String> names = new ArrayList<>(Monitors.STANDARD);
    names.add("InvalidationCost");
    for (String n : names) {
      assertTrue(headingsAndRows(md).stream().anyMatch(l -> l.contains("`" + n + "`")), "docs/monitors.md does not name monitor " + n);
    }
  }

  @Test
  void everyCatalogueFileTheDocCitesExists() throws IOException {
    Matcher m = Pattern.compile("[A-Za-z0-9_.-]+\\.conf\\b").matcher(Files.readString(DOC));
    Set<String> cited = new TreeSet<>();
    while (m.find()) cited.add(m.group());
    assertTrue(cited.size() >= 20, "too few catalogue files cited: " + cited);
    List<String> missing = cited.stream().filter(f -> !Files.isRegularFile(CATALOG.resolve(f))).toList();
    assertEquals(List.of(), missing, "docs/monitors.md cites catalogue files that do not exist in " + CATALOG);
  }
}
