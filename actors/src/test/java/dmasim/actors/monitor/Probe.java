package dmasim.actors.monitor;

import dmasim.protocol.CpuCommand;
import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import java.util.List;

/** Feeds hand-written event sequences to one monitor, as if each came from its own step. */
final class Probe {
  final MonitorSuite suite;
  long step;
  long time;

  Probe(Monitor m) {
    this.suite = new MonitorSuite(List.of(m), new RunStats(new TranslationMonitor()));
  }

  Probe at(long t) {
    time = t;
    return this;
  }

  Probe on(String actor, Event... events) {
    step++;
    Envelope env = new Envelope(new EnvelopeId("x", step), actor, new CpuCommand.Start(), time, time, null, time, 0);
    suite.observe(step, env, List.of(events));
    return this;
  }

  Probe end() {
    suite.end(step, time);
    return this;
  }

  List<Violation> violations() {
    return suite.violations();
  }

  /** The whole verdict, one "Monitor invariant @step" per violation, in report order. */
  List<String> verdict() {
    return violations().stream().map(v -> v.monitor() + " " + v.invariant() + " @" + v.step()).toList();
  }

  /** The message of violation {@code i}. */
  String message(int i) {
    return violations().get(i).message();
  }
}
