package dmasim.scenarios.journal;

import dmasim.scenarios.InfrastructureError;
import java.nio.file.Path;
import java.sql.SQLException;

/**
 * The journal cannot be used, in one line that says why (exit 3): in use by another process,
 * corrupted, read-only, disk full, over its size limit. The database's own words are kept short;
 * nothing of its trace reaches the terminal.
 */
public class JournalFailure extends InfrastructureError {
  public JournalFailure(String message) {
    super(message, null);
  }

  /** H2's error codes (org.h2.api.ErrorCode) for the causes a user can act on. */
  private static final int DATABASE_ALREADY_OPEN = 90020;
  private static final int FILE_CORRUPTED = 90030;
  private static final int IO_EXCEPTION = 90028;
  private static final int IO_EXCEPTION_WITH_CAUSE = 90031;
  private static final int DATABASE_IS_READ_ONLY = 90097;
  private static final int FILE_CREATION_FAILED = 90062;
  private static final int GENERAL_ERROR = 50000;

  /** One line naming the cause of {@code e} for the journal in {@code dir}. */
  public static String describe(SQLException e, Path dir) {
    String text = firstLine(e);
    String all = chain(e);
    Path file = dir.resolve("journal.mv.db");
    if (e.getErrorCode() == DATABASE_ALREADY_OPEN || all.contains("is locked") || all.contains("already in use")) {
      return "the journal " + file + " is in use by another dmasim process (the file is locked); wait for it to finish or use another --data-dir";
    }
    if (all.contains("No space left on device")) {
      return "disk full writing the journal " + file;
    }
    if (e.getErrorCode() == DATABASE_IS_READ_ONLY || all.contains("read only") || all.contains("Read-only file system")
        || all.contains("AccessDenied") || all.contains("Permission denied")) {
      return "the journal " + file + " cannot be written (read-only file or directory): " + text;
    }
    if (e.getErrorCode() == FILE_CORRUPTED || all.contains("corrupted") || all.contains("File is corrupted")) {
      return "the journal " + file + " is corrupted (" + text + "); move it away to start a new one";
    }
    if (e.getErrorCode() == IO_EXCEPTION || e.getErrorCode() == IO_EXCEPTION_WITH_CAUSE || e.getErrorCode() == FILE_CREATION_FAILED
        || e.getErrorCode() == GENERAL_ERROR) {
      return "the journal " + file + " cannot be used: " + text;
    }
    return "journal error in " + file + ": " + text;
  }

  /** The first line of the message, without H2's "[code-version]" suffix. */
  static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    if (nl >= 0) m = m.substring(0, nl);
    return m.replaceAll("\\s*\\[\\d+-\\d+]$", "").trim();
  }

  private static String chain(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null && b.length() < 10_000; t = t.getCause()) b.append(t.getMessage()).append(' ').append(t.getClass().getName()).append(' ');
    return b.toString();
  }
}
