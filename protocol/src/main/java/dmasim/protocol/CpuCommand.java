package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** What a CpuQueue is told by the harness. */
@JsonSubTypes({
  @JsonSubTypes.Type(CpuCommand.Start.class),
  @JsonSubTypes.Type(CpuCommand.AwaitTimedOut.class),
  @JsonSubTypes.Type(CpuCommand.Woke.class)
})
public sealed interface CpuCommand extends Message {

  /** Start running the driver program. */
  record Start() implements CpuCommand {}

  /**
   * The timer of an {@code await timeout=...} fired: wait number {@code await} (counted per CPU
   * queue) for descriptor {@code tag} gives up, unless the completion came first.
   */
  record AwaitTimedOut(long tag, long await) implements CpuCommand {}

  /** The timer of {@code sleep} number {@code sleep} (counted per CPU queue) fired: the program goes on. */
  record Woke(long sleep) implements CpuCommand {}
}
