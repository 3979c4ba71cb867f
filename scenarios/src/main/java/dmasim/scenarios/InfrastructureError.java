package dmasim.scenarios;

/** The machinery failed (journal unreachable, schema missing, actor system trouble): exit code 3. */
public class InfrastructureError extends RuntimeException {
  public InfrastructureError(String message, Throwable cause) {
    super(message, cause);
  }
}
