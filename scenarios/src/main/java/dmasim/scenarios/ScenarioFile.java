package dmasim.scenarios;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dmasim.actors.iommu.IommuSettings;
import dmasim.actors.monitor.MonitorSettings;
import dmasim.scenarios.StepLanguage.ParsedStep;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads a scenario from a HOCON file (documented in docs/scenario-format.md). Everything is checked
 * once, here, at the edge: unknown keys, wrong types, impossible values, undefined names (buffers,
 * state objects, handles, sg tables, labels, devices, monitors) are {@link UserError}s naming the
 * file, the line and the key. The result runs through the same runner as the built-in scenarios.
 *
 * <p>The sections are read by {@link DeviceSection}, {@link MemorySection}, {@link IommuSection},
 * {@link FaultSection} and {@link ExpectSection}, the programs by {@link StepLanguage} (grammar),
 * {@link StepNames} (defined names) and {@link StepCompiler}, all through a {@link HoconReader}.
 */
public final class ScenarioFile {
  static final Set<String> TOP = Set.of("name", "description", "variant", "pair", "iommu", "cpus", "devices", "memory", "workload", "programs",
      "faults", "monitors", "expect", "mm", "rdma");

  private final HoconReader r;

  private ScenarioFile(String file, Config c) {
    this.r = new HoconReader(file, c);
  }

  /** Loads {@code path}; every mistake is a UserError "FILE:LINE: KEY: what is wrong". */
  public static Scenario load(Path path) {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UserError("cannot read scenario file " + path + ": " + e.getMessage());
    }
    return parse(path.toString(), text);
  }

  /**
   * {@code base} with the rules of a faults file added to its own (a file holding only
   * {@code faults = [ ... ]}, in the scenario format; actors by actor name: cpuN, iommu0, mem,
   * devN, or a device by its name in the scenario file). The result is named "BASE+STEM" and records "REF+faults=PATH", so a kept run of it
   * replays with the same faults.
   */
  public static Scenario withFaults(Scenario base, Path faultsFile) {
    String text;
    try {
      text = Files.readString(faultsFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UserError("cannot read faults file " + faultsFile + ": " + e.getMessage());
    }
    String file = faultsFile.toString();
    HoconReader r = new HoconReader(file, config(file, text));
    r.onlyKeys(r.config().root(), "", Set.of("faults"));
    if (!r.has("faults")) throw new UserError(file + ":1: faults: a faults file holds one key, faults = [ ... ] (docs/scenario-format.md)");
    FaultSection.Faults extra = FaultSection.read(r, base.devices().isEmpty() ? null : base.devices());
    String stem = faultsFile.getFileName().toString().replaceFirst("\\.conf$", "").toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
    java.util.function.Function<RunOptions, SystemSpec> build = o -> {
      SystemSpec spec = base.build().apply(o);
      List<dmasim.actors.iommu.FaultPlan.Rule> calls = new java.util.ArrayList<>(spec.iommu().faults().rules());
      calls.addAll(extra.calls().rules());
      List<dmasim.chaos.MessageFaults.Rule> messages = new java.util.ArrayList<>(spec.messageFaults().rules());
      messages.addAll(extra.messages());
      List<dmasim.actors.device.DeviceSettings> devices = new java.util.ArrayList<>();
      java.util.Set<String> named = new java.util.TreeSet<>(extra.devices().keySet());
      for (dmasim.actors.device.DeviceSettings d : spec.devices()) {
        String actor = dmasim.actors.model.Names.device(d.id());
        named.remove(actor);
        devices.add(d.withFaults(extra.device(actor)));
      }
      if (!named.isEmpty()) throw new UserError(file + ": faults name device(s) " + named + " that " + base.name() + " does not have");
      List<dmasim.scenarios.journal.JournalFaults.Rule> journal = new java.util.ArrayList<>(spec.journalFaults().rules());
      journal.addAll(extra.journal());
      try {
        List<dmasim.actors.model.Component> components = new java.util.ArrayList<>();
        boolean hmm = false;
        for (dmasim.actors.model.Component c : spec.components()) {
          if (c instanceof dmasim.actors.mm.HmmComponent h) {
            hmm = true;
            components.add(new dmasim.actors.mm.HmmComponent(h.mm().withReclaims(extra.reclaims(), o.seed()), h.mirrors()));
          } else {
            components.add(c);
          }
        }
        if (!hmm && !extra.reclaims().isEmpty()) throw new UserError(file + ": a reclaim rule needs a scenario with an mm section; " + base.name()
            + " has none");
        MmSection.checkReclaimSenders(extra.reclaims(), o.cpus());
        return newSpec(spec, calls, devices, messages, journal, components, o);
      } catch (UserError e) {
        throw new UserError(file + ": faults: " + e.getMessage()); // a rule names an actor this run does not have
      }
    };
    return new Scenario(base.name() + "+" + stem, base.description() + " (faults from " + faultsFile.getFileName() + ")", base.expectedMonitor(),
        build, base.defaults(), base.expect(), Catalog.ref(base) + Catalog.WITH_FAULTS + faultsFile.toAbsolutePath(), base.devices());
  }

  private static SystemSpec newSpec(SystemSpec spec, List<dmasim.actors.iommu.FaultPlan.Rule> calls, List<dmasim.actors.device.DeviceSettings> devices,
      List<dmasim.chaos.MessageFaults.Rule> messages, List<dmasim.scenarios.journal.JournalFaults.Rule> journal,
      List<dmasim.actors.model.Component> components, RunOptions o) {
    return new SystemSpec(spec.iommu().withFaults(new dmasim.actors.iommu.FaultPlan(calls), o.seed()), devices, spec.programs(),
        spec.memory(), spec.monitors(), new dmasim.chaos.MessageFaults(o.seed(), messages),
        new dmasim.scenarios.journal.JournalFaults(o.seed(), journal), components);
  }

  /**
   * Parses scenario text; {@code file} names it in errors. A scenario file is data: it cannot
   * include other files, URLs or classpath resources, and substitutions resolve only against the
   * file itself, never the environment (a token in an environment variable must not end up in run
   * ids and journals).
   */
  /** The HOCON of {@code text}, with includes and environment substitutions refused; every mistake names the file and line. */
  private static Config config(String file, String text) {
    Config c;
    try (Reader r = new StringReader(text)) {
      ConfigParseOptions options = ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setOriginDescription(file)
          .setIncluder(NoIncludes.INSTANCE).setAllowMissing(false);
      c = ConfigFactory.parseReader(r, options).resolve(com.typesafe.config.ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
    } catch (StackOverflowError e) {
      throw new UserError(file + ":1: syntax: objects or lists are nested too deeply to read");
    } catch (NoIncludes.Refused e) {
      throw new UserError(file + ":" + lineOf(text, "include") + ": include: scenario files are data and cannot include " + e.getMessage()
          + " (copy what you need into the file)");
    } catch (ConfigException.UnresolvedSubstitution e) {
      int line = e.origin() == null ? 0 : e.origin().lineNumber();
      String ref = e.getMessage().replaceFirst("(?s)^.*?(\\$\\{[^}]*\\}).*$", "$1");
      throw new UserError(file + ":" + line + ": " + ref + ": substitutions resolve only against keys of this file, never the environment");
    } catch (ConfigException e) {
      int line = e.origin() == null ? 0 : e.origin().lineNumber();
      String msg = e.getMessage().replaceFirst("^.*?: \\d+: ", "");
      throw new UserError(file + ":" + line + ": syntax: " + msg);
    } catch (IOException e) {
      throw new UserError("cannot read scenario " + file + ": " + e.getMessage());
    }
    return c;
  }

  public static Scenario parse(String file, String text) {
    Config c = config(file, text);
    try {
      return new ScenarioFile(file, c).build();
    } catch (ConfigException e) {
      // A value of the wrong type that no reader checked first: still the user's file, line and key.
      int line = e.origin() == null ? 0 : e.origin().lineNumber();
      String msg = e.getMessage().replaceFirst("^.*?: \\d+: ", "");
      throw new UserError(file + ":" + line + ": " + msg);
    }
  }

  /** The first line of {@code text} that contains {@code word} (1-based), or 0. */
  private static int lineOf(String text, String word) {
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) if (lines[i].contains(word)) return i + 1;
    return 0;
  }

  /** Refuses every include: file, URL, classpath, and the heuristic `include "name"`. */
  private static final class NoIncludes implements com.typesafe.config.ConfigIncluder, com.typesafe.config.ConfigIncluderFile,
      com.typesafe.config.ConfigIncluderURL, com.typesafe.config.ConfigIncluderClasspath {
    static final NoIncludes INSTANCE = new NoIncludes();

    /** An include was refused; the message says what it named. */
    static final class Refused extends RuntimeException {
      Refused(String what) {
        super(what, null, false, false);
      }
    }

    @Override
    public com.typesafe.config.ConfigIncluder withFallback(com.typesafe.config.ConfigIncluder fallback) {
      return this;
    }

    @Override
    public com.typesafe.config.ConfigObject include(com.typesafe.config.ConfigIncludeContext context, String what) {
      throw new Refused("\"" + what + "\"");
    }

    @Override
    public com.typesafe.config.ConfigObject includeFile(com.typesafe.config.ConfigIncludeContext context, java.io.File what) {
      throw new Refused("file(\"" + what + "\")");
    }

    @Override
    public com.typesafe.config.ConfigObject includeURL(com.typesafe.config.ConfigIncludeContext context, java.net.URL what) {
      throw new Refused("url(\"" + what + "\")");
    }

    @Override
    public com.typesafe.config.ConfigObject includeResources(com.typesafe.config.ConfigIncludeContext context, String what) {
      throw new Refused("classpath(\"" + what + "\")");
    }
  }

  /** Every step name the language has (the documentation test checks each is documented). */
  public static Set<String> stepNames() {
    return StepLanguage.stepNames();
  }

  private Scenario build() {
    r.onlyKeys(r.config().root(), "", TOP);
    String name = r.string("name", null);
    if (!name.matches("[a-z0-9][a-z0-9-]{0,63}")) throw r.error("name", "use lower-case letters, digits and '-' (at most 64), got '" + name + "'");
    String description = r.string("description", null);
    r.choice("variant", "none", Map.of("fixed", 1, "buggy", 2, "none", 0));
    if (r.has("pair")) r.string("pair", null);
    int cpus = (int) r.number("cpus", 1, 1, 64);
    DeviceSection devices = DeviceSection.read(r);
    MemorySection memory = MemorySection.read(r);
    IommuSettings iommu = IommuSection.read(r, cpus, devices, memory);
    if (iommu.strictRequired() != null) throw r.error("iommu.mode", "mode " + r.config().getString("iommu.mode") + " is not possible: " + iommu.strictRequired());
    java.util.Map<dmasim.protocol.DeviceId, Boolean> bounces = new java.util.HashMap<>();
    iommu.devices().forEach((id, d) -> bounces.put(id, d.untrusted()));
    MmSection mm = MmSection.read(r, devices, bounces, memory);
    mm = mm.withRdma(RdmaSection.read(r, devices, mm));
    FaultSection.Faults faults = FaultSection.read(r, devices.ids());
    if (!faults.reclaims().isEmpty() && !mm.present()) throw r.error("faults", "a reclaim rule needs an mm section (an address space to reclaim from)");
    r.onlyKeys("workload", Set.of("requests", "segments"));
    long requests = r.number("workload.requests", 1, 1, 1_000_000);
    int segments = (int) r.number("workload.segments", 1, 1, 128);
    MonitorSettings monitors = ExpectSection.monitors(r);
    ExpectSection expect = ExpectSection.read(r, monitors);
    StepArgs args = new StepArgs(r);
    Map<String, List<ParsedStep>> programs = StepLanguage.programs(r, cpus);
    for (List<ParsedStep> program : programs.values()) StepNames.check(args, devices, program);
    for (MmSection.Mirror m : mm.mirrors()) StepNames.check(args, devices, m.callback()); // a callback's labels and objects are its own
    for (List<ParsedStep> handler : mm.rdma().work().values()) StepNames.check(args, devices, handler);
    RunOptions defaults = new RunOptions(1, null, cpus, requests, segments, RunOptions.DEFAULT_MAX_STEPS);
    FileSystemBuilder builder = new FileSystemBuilder(name, r.file(), args, iommu, devices, memory, mm, faults, expect.monitors(), programs);
    // Compile once with the defaults so that every program error surfaces at load time.
    builder.apply(defaults);
    return new Scenario(name, description, expect.monitor(), builder, defaults, expect.expectation(), r.file(), devices.ids());
  }
}
