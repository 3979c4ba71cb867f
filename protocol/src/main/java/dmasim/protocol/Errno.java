package dmasim.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernel error numbers the modelled calls return (negated in the kernel, positive here): the one
 * table of errno names and codes. Events and replies carry the int code; the int constants are the
 * codes (compile-time constants, for {@code case} labels), and {@link Name} is their names, for
 * everything that reads or prints one.
 */
public final class Errno {
  public static final int OK = 0;
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int EIO = 5;
  public static final int EAGAIN = 11;
  public static final int ENOMEM = 12;
  public static final int EFAULT = 14;
  public static final int EBUSY = 16;
  public static final int EEXIST = 17;
  public static final int EINVAL = 22;
  public static final int EOPNOTSUPP = 95;
  public static final int ETIMEDOUT = 110;
  public static final int EREMOTEIO = 121;

  private Errno() {}

  /**
   * The name of each code above. Declared in the order scenario files, their error messages and
   * docs/scenario-format.md list them.
   */
  public enum Name {
    OK(Errno.OK),
    ENOMEM(Errno.ENOMEM),
    EIO(Errno.EIO),
    EINVAL(Errno.EINVAL),
    EEXIST(Errno.EEXIST),
    EPERM(Errno.EPERM),
    EOPNOTSUPP(Errno.EOPNOTSUPP),
    EREMOTEIO(Errno.EREMOTEIO),
    ETIMEDOUT(Errno.ETIMEDOUT),
    EBUSY(Errno.EBUSY),
    EFAULT(Errno.EFAULT),
    EAGAIN(Errno.EAGAIN),
    ENOENT(Errno.ENOENT);

    private final int code;

    Name(int code) {
      this.code = code;
    }

    /** The code (positive; 0 for OK). */
    public int code() {
      return code;
    }

    /** As the kernel prints a return value: "-ENOMEM", and "0" for OK. */
    public String kernelName() {
      return this == OK ? "0" : "-" + name();
    }

    /** The name of {@code code}, or null when it is not one of the modelled codes. */
    public static Name of(int code) {
      for (Name n : values()) if (n.code == code) return n;
      return null;
    }

    /** The errno called {@code name} ("ENOMEM"), or null when there is none. */
    public static Name parse(String name) {
      for (Name n : values()) if (n.name().equals(name)) return n;
      return null;
    }

    /** Every failure (all but OK), in declaration order. */
    public static List<Name> failures() {
      List<Name> out = new ArrayList<>(List.of(values()));
      out.remove(OK);
      return out;
    }
  }

  /** As the kernel prints a return value: "-ENOMEM", "0", or "-N" for a code without a name here. */
  public static String name(int errno) {
    Name n = Name.of(errno);
    return n == null ? "-" + errno : n.kernelName();
  }
}
