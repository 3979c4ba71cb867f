package dmasim.chaos;

import dmasim.protocol.Envelope;
import java.util.List;

/** The baseline: deliver the envelope that became due first, ties broken by the order of sending (a discrete-event simulation). */
public final class FifoStrategy implements Strategy {
  @Override
  public int choose(List<Envelope> enabled, long step) {
    int best = 0;
    for (int i = 1; i < enabled.size(); i++) {
      Envelope e = enabled.get(i);
      Envelope b = enabled.get(best);
      if (e.notBefore() < b.notBefore() || (e.notBefore() == b.notBefore() && e.sentAt() < b.sentAt())) best = i;
    }
    return best;
  }

  @Override
  public String name() {
    return "fifo";
  }
}
