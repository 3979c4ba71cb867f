package dmasim.scenarios;

/**
 * A kept run was recorded by another version of the model and its journal no longer reads as
 * today's events: the run cannot be replayed, inspected or continued with this model. That is a
 * divergence from the record (exit code 4), not a damaged journal.
 */
public final class RecordedByAnotherModel extends RuntimeException {
  public RecordedByAnotherModel(String message, Throwable cause) {
    super(message, cause);
  }
}
