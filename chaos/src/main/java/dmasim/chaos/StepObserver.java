package dmasim.chaos;

import dmasim.protocol.Envelope;
import dmasim.protocol.Event;
import java.util.List;

/** Sees every step of a controlled run as it happens (the monitors). Called on the scheduler's thread only. */
public interface StepObserver {
  /** Step {@code step} delivered {@code envelope}, whose receiver persisted {@code events}. Return true to stop the run here. */
  boolean onStep(long step, Envelope envelope, List<? extends Event> events);
}
