package dmasim.scenarios;

/** A mistake in what the user asked for (exit code 2): reported in one line, never with a stack trace. */
public final class UserError extends RuntimeException {
  public UserError(String message) {
    super(message);
  }
}
