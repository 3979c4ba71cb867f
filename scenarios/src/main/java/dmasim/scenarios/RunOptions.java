package dmasim.scenarios;

import dmasim.actors.iommu.IommuSettings;

/**
 * What a user may vary on the command line: the master seed, the IOMMU mode (null: the
 * scenario's own), CPU queues, requests per CPU queue, segments per request, and the step bound.
 */
public record RunOptions(long seed, IommuSettings.Mode mode, int cpus, long requests, int segments, long maxSteps) {
  public static final long DEFAULT_MAX_STEPS = 5_000_000;

  public RunOptions {
    if (cpus < 1 || cpus > 64) throw new IllegalArgumentException("--cpus must be between 1 and 64, got " + cpus);
    if (requests < 1) throw new IllegalArgumentException("--requests must be at least 1, got " + requests);
    if (segments < 1 || segments > 128) throw new IllegalArgumentException("--segments must be between 1 and 128, got " + segments);
    if (maxSteps < 1) throw new IllegalArgumentException("--max-steps must be positive");
  }

  public static RunOptions defaults(long seed) {
    return new RunOptions(seed, null, 2, 50, 4, DEFAULT_MAX_STEPS);
  }

  public RunOptions withMode(IommuSettings.Mode m) {
    return new RunOptions(seed, m, cpus, requests, segments, maxSteps);
  }

  public RunOptions withSeed(long s) {
    return new RunOptions(s, mode, cpus, requests, segments, maxSteps);
  }

  public RunOptions withRequests(long r) {
    return new RunOptions(seed, mode, cpus, r, segments, maxSteps);
  }

  public RunOptions withCpus(int c) {
    return new RunOptions(seed, mode, c, requests, segments, maxSteps);
  }

  public String mnemonic() {
    return (mode == null ? "default" : mode.name().toLowerCase(java.util.Locale.ROOT)) + "-c" + cpus + "-r" + requests + "-g" + segments;
  }
}
