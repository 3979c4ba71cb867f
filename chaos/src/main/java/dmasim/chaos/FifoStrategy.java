package dmasim.chaos;

import dmasim.protocol.Envelope;
import java.util.List;

/** The baseline: deliver the envelope that became due first, ties broken by the order of sending (a discrete-event simulation). */
public final class FifoStrategy implements Strategy {
  @Override
  public int choose(List<Envelope> enabled, long step) {
    int best = 0;
    for (int i = 1; i < enabled.size(); i++) if (before(enabled.get(i), enabled.get(best))) best = i;
    return best;
  }

  /** The FIFO order: due first, then sent first, then by sender and sequence number (a total order). */
  static boolean before(Envelope a, Envelope b) {
    if (a.notBefore() != b.notBefore()) return a.notBefore() < b.notBefore();
    if (a.sentAt() != b.sentAt()) return a.sentAt() < b.sentAt();
    int c = a.sender().compareTo(b.sender());
    return c != 0 ? c < 0 : a.id().seq() < b.id().seq();
  }

  @Override
  public String name() {
    return "fifo";
  }
}
