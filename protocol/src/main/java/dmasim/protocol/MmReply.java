package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** What the mm actor answers the CPU queue that called it. */
@JsonSubTypes({
  @JsonSubTypes.Type(MmReply.Done.class),
  @JsonSubTypes.Type(MmReply.SeqRead.class),
  @JsonSubTypes.Type(MmReply.RangeFaulted.class),
  @JsonSubTypes.Type(MmReply.Retry.class),
  @JsonSubTypes.Type(MmReply.RunCallback.class)
})
public sealed interface MmReply extends Message {

  /** The memory operation {@code call} finished with {@code errno} (0: done). */
  record Done(String call, int errno) implements MmReply {}

  /** mmu_interval_read_begin(sub) returned {@code seq}. */
  record SeqRead(String sub, long seq) implements MmReply {}

  /** hmm_range_fault returned {@code errno} (0, EBUSY, EFAULT, EPERM); {@code words}: the pfn array as the walk left it. */
  record RangeFaulted(String sub, int errno, long start, List<Long> words) implements MmReply {
    public RangeFaulted {
      words = List.copyOf(words);
    }
  }

  /** mmu_interval_read_retry(sub, seq) returned {@code retry}. */
  record Retry(String sub, boolean retry) implements MmReply {}

  /**
   * The notifier calls {@code sub}'s invalidate callback in the context of the thread that caused
   * invalidation {@code inv} (the CPU queue waiting for its memory operation): the range
   * [start, start + pages), the event, whether it may sleep, the event's owner (MIGRATE) and cur_seq.
   */
  record RunCallback(long inv, String sub, long curSeq, long start, long pages, String event, boolean blockable, String owner)
      implements MmReply {}
}
