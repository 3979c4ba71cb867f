package dmasim.actors.mm;

import dmasim.actors.model.ActorKind;
import dmasim.actors.model.Component;
import dmasim.actors.monitor.Monitor;
import java.util.ArrayList;
import java.util.List;

/** The HMM side of a system: one process address space and its mirrors (each a device page table), judged by the {@link HmmMonitor}. */
public record HmmComponent(MmSettings mm, List<MirrorSettings> mirrors) implements Component {
  /** The name the HMM monitor reports under (and a scenario's monitors list may name). */
  public static final String MONITOR = "Hmm";

  public HmmComponent {
    mirrors = List.copyOf(mirrors);
  }

  @Override
  public List<ActorKind<?>> kinds() {
    List<ActorKind<?>> out = new ArrayList<>();
    out.add(Mm.kind(0, mm));
    for (MirrorSettings m : mirrors) out.add(Mirror.kind(m));
    return out;
  }

  @Override
  public List<Monitor> monitors() {
    return List.of(new HmmMonitor(mm, mirrors));
  }
}
