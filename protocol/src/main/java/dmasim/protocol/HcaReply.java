package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** What the RDMA device answers its driver. */
@JsonSubTypes({@JsonSubTypes.Type(HcaReply.Done.class), @JsonSubTypes.Type(HcaReply.RunWork.class)})
public sealed interface HcaReply extends Message {

  /** {@code call} finished with {@code errno} (ENOENT: no such live mkey or child; EEXIST: another queue won; EIO: the UMR completed in error). */
  record Done(String call, int errno) implements HcaReply {}

  /** Run work item {@code id}: handler {@code kind} for memory region {@code mr}; {@code token} the device fault it handles (0: none). */
  record RunWork(long id, String kind, String mr, long token) implements HcaReply {}
}
