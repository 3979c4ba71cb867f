package dmasim.protocol;

/** The kernel error numbers the modelled calls return (negated in the kernel, positive here). */
public final class Errno {
  public static final int OK = 0;
  public static final int EPERM = 1;
  public static final int EIO = 5;
  public static final int ENOMEM = 12;
  public static final int EEXIST = 17;
  public static final int EINVAL = 22;
  public static final int ETIMEDOUT = 110;
  public static final int EOPNOTSUPP = 95;
  public static final int EREMOTEIO = 121;

  private Errno() {}

  public static String name(int errno) {
    return switch (errno) {
      case OK -> "0";
      case EPERM -> "-EPERM";
      case EIO -> "-EIO";
      case ENOMEM -> "-ENOMEM";
      case EEXIST -> "-EEXIST";
      case EINVAL -> "-EINVAL";
      case EOPNOTSUPP -> "-EOPNOTSUPP";
      case ETIMEDOUT -> "-ETIMEDOUT";
      case EREMOTEIO -> "-EREMOTEIO";
      default -> "-" + errno;
    };
  }
}
