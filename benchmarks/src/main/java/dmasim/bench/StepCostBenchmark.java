package dmasim.bench;

import dmasim.actors.iommu.IommuSettings;
import org.openjdk.jmh.annotations.AuxCounters;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (k) What a step costs the model and the standard monitors as the system grows (issue 14): steps
 * per second of {@link StepCostDriver} (lazy IOMMU, NVMe-like four-page dma_iova_state requests, one
 * in flight per CPU queue) for 2 to 64 CPU queues over 10^3 live mapped pages, and for 10^3 to 10^6
 * live mapped pages with 2 CPU queues. {@code shape} is "QUEUESxPAGES". Each invocation runs 10,000
 * steps; BenchMain prints ns per step. C2 needs several seconds of CPU for the monitors' large
 * handlers, more on a loaded machine: 3 x 2 s of warm-up measured the compiler, not the model, so
 * the defaults here are 10 x 2 s (BenchMain's options override them). {@code cpuNsPerStep} is the
 * benchmark thread's CPU time per step in each iteration: other load on a shared machine moves it
 * much less than it moves steps/s.
 */
@State(Scope.Benchmark)
@Warmup(iterations = 10, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 3, timeUnit = TimeUnit.SECONDS)
@Fork(1)
public class StepCostBenchmark {
  /** The benchmark thread's CPU time per step over the iteration. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class Cpu {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    public double cpuNsPerStep;
    private long cpuNs;
    private long steps;

    @Setup(Level.Iteration)
    public void reset() {
      cpuNsPerStep = 0;
      cpuNs = 0;
      steps = 0;
    }
  }

  @Param({"2x1000", "4x1000", "8x1000", "16x1000", "32x1000", "64x1000", "2x10000", "2x100000", "2x1000000"})
  public String shape;

  StepCostDriver driver;

  @Setup(Level.Trial)
  public void start() {
    String[] qp = shape.split("x");
    driver = new StepCostDriver(Integer.parseInt(qp[0]), Integer.parseInt(qp[1]), IommuSettings.Mode.LAZY);
  }

  @Benchmark
  public long steps(ControlledWireBenchmark.Steps counter, Cpu cpu) {
    long before = Cpu.THREADS.getCurrentThreadCpuTime();
    long s = driver.run(10_000);
    cpu.cpuNs += Cpu.THREADS.getCurrentThreadCpuTime() - before;
    cpu.steps += s;
    cpu.cpuNsPerStep = cpu.cpuNs / (double) cpu.steps;
    counter.steps += s;
    return s;
  }

  @TearDown(Level.Trial)
  public void check() {
    if (!driver.suite().violations().isEmpty()) throw new IllegalStateException(driver.suite().violations().get(0).toString());
  }
}
