package dmasim.actors.monitor;

import dmasim.protocol.Event;

/**
 * A pure state machine over the events of a run. The same code runs inside the controlled
 * scheduler (a violation stops the run at its step), beside a live run, and over a journal.
 */
public interface Monitor {
  String name();

  /** One event, persisted by {@code at.actor()} while handling {@code at}'s envelope. */
  void onEvent(StepInfo at, Event event);

  /** The run ended at {@code at}: fail what is still "hot" (obligations not met). */
  default void onRunEnd(StepInfo at) {}

  /**
   * True for a monitor whose end-of-run verdicts say why a wait never ended (a leaked reference the
   * deregistration waits for): it is judged before Termination, which would otherwise only say
   * that a queue is still waiting.
   */
  default boolean explainsHangs() {
    return false;
  }
}
