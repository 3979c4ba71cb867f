package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** What a CpuQueue is told by the harness. */
@JsonSubTypes({@JsonSubTypes.Type(CpuCommand.Start.class)})
public sealed interface CpuCommand extends Message {

  /** Start running the driver program. */
  record Start() implements CpuCommand {}
}
