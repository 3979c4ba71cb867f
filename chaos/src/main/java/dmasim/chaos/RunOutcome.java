package dmasim.chaos;

/**
 * How a controlled run ended: {@code reason} is "quiescent" (nothing left in flight), "stopped"
 * (the observer asked, e.g. a violation), "max-steps", "diverged" (a replayed schedule no longer
 * matches: {@code detail}) or "crashed" (an actor failed: {@code detail}). {@code nonFifoChoices}
 * counts the steps where the strategy chose other than the FIFO scheduler would (preemptions).
 */
public record RunOutcome(String reason, long steps, long virtualTime, int inFlight, long nonFifoChoices, String detail) {
  public boolean crashed() {
    return reason.equals("crashed");
  }
}
