package dmasim.actors.odp;

import dmasim.actors.mm.MirrorSettings;
import dmasim.actors.model.ActorKind;
import dmasim.actors.model.Component;
import dmasim.actors.monitor.Monitor;
import java.util.List;

/** RDMA on-demand paging: the device's mkeys, implicit MRs and workqueue, judged by the {@link OdpMonitor}. Needs the HMM component beside it. */
public record OdpComponent(HcaSettings hca, List<MirrorSettings> mirrors) implements Component {
  /** The name the ODP monitor reports under. */
  public static final String MONITOR = "Odp";

  public OdpComponent {
    mirrors = List.copyOf(mirrors);
  }

  @Override
  public List<ActorKind<?>> kinds() {
    return List.of(Hca.kind(hca));
  }

  @Override
  public List<Monitor> monitors() {
    return List.of(new OdpMonitor(hca, mirrors));
  }
}
