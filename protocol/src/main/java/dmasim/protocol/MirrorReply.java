package dmasim.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** What a mirror's device page table answers the driver. */
@JsonSubTypes({@JsonSubTypes.Type(MirrorReply.Done.class)})
public sealed interface MirrorReply extends Message {

  /** {@code call} finished with {@code errno}; an access that faulted answers EFAULT (the device raised a page fault). */
  record Done(String call, int errno) implements MirrorReply {}
}
