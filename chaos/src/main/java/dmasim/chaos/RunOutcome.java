package dmasim.chaos;

/**
 * How a controlled run ended: {@code reason} is "quiescent" (nothing left in flight), "stopped"
 * (the observer asked, e.g. a violation), "max-steps", or "crashed" (an actor failed: {@code detail}).
 */
public record RunOutcome(String reason, long steps, long virtualTime, int inFlight, String detail) {
  public boolean crashed() {
    return reason.equals("crashed");
  }
}
