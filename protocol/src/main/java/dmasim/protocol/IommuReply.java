package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** What the IommuUnit answers: a DMA API call's return to a CPU queue, a translation to a device. */
@JsonSubTypes({
  @JsonSubTypes.Type(IommuReply.Returned.class),
  @JsonSubTypes.Type(IommuReply.Translated.class),
  @JsonSubTypes.Type(IommuReply.Drained.class)
})
public sealed interface IommuReply extends Message {

  /**
   * A DMA API call returned. {@code value} is the call's scalar result (state address for
   * try_alloc, 0 meaning false; the dma address for map_phys; the mapped count for map_sg),
   * {@code segments} the dma segments of a map_sg.
   */
  record Returned(String call, String object, int errno, long value, List<DmaSegment> segments) implements IommuReply {
    public Returned {
      segments = List.copyOf(segments);
    }
  }

  /** The result of a {@link IommuCommand.Translate}: present with the physical page and prot, or a fault. */
  record Translated(long tag, Iova iova, boolean write, boolean stray, boolean ok, long physPfn, Prot prot, String fault)
      implements IommuReply {}

  /** Every transaction the device sent before its {@link IommuCommand.Drain} has been handled. */
  record Drained(String requester) implements IommuReply {}
}
