package dmasim.actors.device;

import dmasim.protocol.Trigger;
import java.util.Set;

/**
 * A component fault of a device: it resets (a function-level reset the driver did not ask for: an
 * AER recovery, a firmware crash) or disappears (surprise removal: hot unplug, a link down) as it
 * receives an envelope the rule selects ({@code on}: the message type, {@code from}: the sender;
 * null for any). The envelope is lost with everything in flight. Counted per sender, like every
 * fault rule ({@link Trigger}).
 */
public record DeviceFault(String fault, String on, String from, Trigger trigger) {
  public static final Set<String> FAULTS = Set.of("reset", "remove");

  public DeviceFault {
    if (!FAULTS.contains(fault)) throw new IllegalArgumentException("a device fault is one of " + FAULTS + ", not '" + fault + "'");
    if (trigger == null) throw new IllegalArgumentException("a device fault needs a trigger");
  }

  boolean selects(String sender, String type) {
    return (from == null || from.equals(sender)) && (on == null || on.equals(type));
  }

  /** "reset on the 2nd Submit from cpu0 of each sender", as journaled. */
  public String describe() {
    String what = (on == null ? "envelope" : on) + (from == null ? "" : " from " + from);
    return fault + " on " + trigger.describe(what, from == null ? "each sender" : null);
  }
}
