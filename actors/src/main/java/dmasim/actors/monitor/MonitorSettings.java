package dmasim.actors.monitor;

import java.util.List;

/**
 * Which monitors a run uses: {@code enabled} empty means the standard set; otherwise exactly the
 * named ones (standard names or a {@link MonitorProvider}'s). {@code maxInvalidationsPerUnmap} > 0
 * adds the InvalidationCost budget.
 */
public record MonitorSettings(List<String> enabled, int maxInvalidationsPerUnmap) {
  public static final MonitorSettings STANDARD = new MonitorSettings(List.of(), 0);

  public MonitorSettings {
    enabled = List.copyOf(enabled);
  }
}
