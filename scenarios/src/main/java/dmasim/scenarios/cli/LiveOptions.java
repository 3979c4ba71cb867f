package dmasim.scenarios.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dmasim.scenarios.Runner;
import dmasim.scenarios.UserError;
import picocli.CommandLine.Option;

/** The live-wire options shared by run and explore. */
final class LiveOptions {
  @Option(names = "--live", description = "run on the live wire: the model actors on real threads, envelopes delivered by Akka with real (scaled)"
      + " delays; a run that breaks an invariant is kept and 'dmasim replay' reproduces it exactly on the controlled wire")
  boolean live;

  @Option(names = "--threads", defaultValue = "4", description = "dispatcher threads of a live run (default ${DEFAULT-VALUE})")
  int threads;

  @Option(names = "--time-scale", defaultValue = "1", description = "real ns per virtual ns of delay in a live run (default ${DEFAULT-VALUE};"
      + " 0: no real delays, only the order of delivery)")
  double timeScale;

  /** The live settings, or null without --live. */
  Runner.Live live() {
    if (!live) {
      if (threads != 4 || timeScale != 1) throw new UserError("--threads and --time-scale need --live");
      return null;
    }
    try {
      return new Runner.Live(threads, timeScale);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
  }

  /** The actor-system settings a live run needs (its thread pool), or null. */
  Config config() {
    Runner.Live l = live();
    return l == null ? null : ConfigFactory.parseString("dmasim.dispatchers.live.thread-pool-executor.fixed-pool-size = " + l.threads());
  }
}
