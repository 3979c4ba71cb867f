package dmasim.actors.mm;

import dmasim.protocol.Trigger;

/**
 * Page reclaim as a fault: as the address space receives an envelope the rule selects ({@code on}:
 * the message type, {@code from}: the sender; null for any), direct reclaim in that thread first
 * reclaims [start, start + pages * 4096) (a CLEAR invalidation whose callbacks the sender runs, then
 * the pages are freed; {@code blockable} false for the non-blocking path), and only then is the
 * envelope handled. Counted per sender, like every fault rule ({@link Trigger}).
 */
public record ReclaimRule(String on, String from, Trigger trigger, long start, long pages, boolean blockable) {
  /** The calls that allocate pages, and so may enter direct reclaim: what a rule selects (a call that allocates nothing never reclaims). */
  public static final java.util.Set<String> ALLOCATING = java.util.Set.of("Mmap", "Touch", "RangeFault", "Migrate", "Fork");

  public ReclaimRule {
    if (trigger == null) throw new IllegalArgumentException("a reclaim rule needs a trigger");
    if ((start & 0xfff) != 0 || pages < 1) throw new IllegalArgumentException("a reclaim covers whole pages");
  }

  boolean selects(String sender, String type) {
    return ALLOCATING.contains(type) && (from == null || from.equals(sender)) && (on == null || on.equals(type));
  }

  /** "reclaim [0x10000000, +2 pages) on the 2nd Touch from cpu0", as journaled. */
  public String describe() {
    String what = (on == null ? "mm call" : on) + (from == null ? "" : " from " + from);
    return String.format(java.util.Locale.ROOT, "reclaim [0x%x, +%d page(s))%s on ", start, pages, blockable ? "" : " (non-blockable)")
        + trigger.describe(what, from == null ? "each sender" : null);
  }
}
