package dmasim.scenarios;

import java.util.regex.Pattern;

/** Words of printed commands, quoted so a pasted command works in a POSIX shell (paths with spaces, quotes). */
public final class Shell {
  private Shell() {}

  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:=@%+,~-]+");

  /** {@code word} as is when the shell reads it unchanged, else in single quotes. */
  public static String quote(String word) {
    if (!word.isEmpty() && PLAIN.matcher(word).matches()) return word;
    return "'" + word.replace("'", "'\\''") + "'";
  }
}
