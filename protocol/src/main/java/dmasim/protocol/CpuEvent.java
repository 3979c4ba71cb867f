package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.util.List;

/** Facts of a CpuQueue running its driver program. */
@JsonSubTypes({
  @JsonSubTypes.Type(CpuEvent.ProgramStarted.class),
  @JsonSubTypes.Type(CpuEvent.CallIssued.class),
  @JsonSubTypes.Type(CpuEvent.ReplyReceived.class),
  @JsonSubTypes.Type(CpuEvent.BufferTouched.class),
  @JsonSubTypes.Type(CpuEvent.DescriptorSubmitted.class),
  @JsonSubTypes.Type(CpuEvent.MappingChecked.class),
  @JsonSubTypes.Type(CpuEvent.Jumped.class),
  @JsonSubTypes.Type(CpuEvent.StateReset.class),
  @JsonSubTypes.Type(CpuEvent.RequestCompleted.class),
  @JsonSubTypes.Type(CpuEvent.DriverUnbound.class),
  @JsonSubTypes.Type(CpuEvent.ProgramEnded.class),
  @JsonSubTypes.Type(CpuEvent.NullBufferUsed.class),
  @JsonSubTypes.Type(CpuEvent.CallbackEntered.class),
  @JsonSubTypes.Type(CpuEvent.CallbackLeft.class),
  @JsonSubTypes.Type(CpuEvent.WorkEntered.class),
  @JsonSubTypes.Type(CpuEvent.WorkLeft.class)
})
public sealed interface CpuEvent extends Event {

  /** The program began. */
  record ProgramStarted(String program) implements CpuEvent {}

  /** Instruction {@code pc} sent {@code call} about {@code object} to {@code to} and now waits for the answer. */
  record CallIssued(int pc, String call, String object, String to) implements CpuEvent {}

  /** The answer to the pending call arrived. */
  record ReplyReceived(int pc, Message reply) implements CpuEvent {}

  /** The CPU wrote ({@code write}) or read buffer {@code buffer} with pages {@code pfns}. */
  record BufferTouched(String buffer, List<Long> pfns, boolean write, int nextPc) implements CpuEvent {
    public BufferTouched {
      pfns = List.copyOf(pfns);
    }
  }

  /**
   * Instruction {@code pc} handed descriptor {@code tag} over {@code segments} to {@code device};
   * {@code source} names the object the driver built it from ("state:s", "handles:h", "sg:t", ...).
   */
  record DescriptorSubmitted(int pc, String device, long tag, List<DmaSegment> segments, boolean write, String source) implements CpuEvent {
    public DescriptorSubmitted {
      segments = List.copyOf(segments);
    }
  }

  /** dma_mapping_error(dev, addr) was called on {@code handle}. */
  record MappingChecked(DeviceId dev, String handle, Iova addr, boolean error, int nextPc) implements CpuEvent {}

  /** Local control flow: the program counter moved to {@code pc}; {@code counter} (if named) now holds {@code value}. */
  record Jumped(int pc, String counter, long value) implements CpuEvent {}

  /** The driver cleared dma_iova_state {@code state} (memset to 0: dma_use_iova() is false again). */
  record StateReset(String state, int nextPc) implements CpuEvent {}

  /** A request (one pass of the program's loop) completed. */
  record RequestCompleted(long request, int nextPc) implements CpuEvent {}

  /** Driver unbind for {@code dev} (BUS_NOTIFY_UNBOUND_DRIVER): every mapping must be gone. */
  record DriverUnbound(DeviceId dev, int nextPc) implements CpuEvent {}

  /** The program ran to its end. */
  record ProgramEnded(long requests) implements CpuEvent {}

  /**
   * The program used buffer {@code buffer} (owner "cpuN/buffer") at instruction {@code pc} after
   * its allocation failed: a NULL pointer dereference, after which the kernel oopses and this CPU
   * queue's program ends.
   */
  record NullBufferUsed(String owner, String buffer, int pc) implements CpuEvent, Owned {}

  /**
   * While waiting for its memory operation, the queue runs {@code sub}'s invalidate callback for
   * invalidation {@code inv} of [start, start + pages) ({@code event}, {@code blockable},
   * {@code owner}, {@code curSeq}) from instruction {@code pc}; it goes back to waiting when the
   * callback returns.
   */
  record CallbackEntered(long inv, String sub, long curSeq, long start, long pages, String event, boolean blockable, String owner, int pc)
      implements CpuEvent {}

  /** The callback returned {@code ok} (false: a non-blockable callback that could not take its lock). */
  record CallbackLeft(long inv, String sub, boolean ok) implements CpuEvent {}

  /**
   * The queue, a worker of the driver's workqueue, runs work item {@code id} (handler {@code kind}
   * for {@code mr}; {@code token}: the device fault a page-fault item handles, else 0) from {@code pc};
   * it goes on at {@code returnPc} (after its work-run) when the handler returns.
   */
  record WorkEntered(long id, String kind, String mr, long token, int pc, int returnPc) implements CpuEvent {}

  /** Work item {@code id} returned; the worker goes on at {@code pc}. */
  record WorkLeft(long id, int pc) implements CpuEvent {}
}
