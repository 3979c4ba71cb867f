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
    long free = freeBytes(dir);
    if (all.contains("No space left on device") || (free >= 0 && free < JournalWriter.MIN_FREE_BYTES && isIo(e, all))) {
      return "disk full writing the journal " + file + " (" + Math.max(0, free >> 20) + " MB left)";
    }
    if (e.getErrorCode() == DATABASE_IS_READ_ONLY || all.contains("read only") || all.contains("Read-only file system")
        || all.contains("AccessDenied") || all.contains("Permission denied") || all.contains("Operation not permitted")) {
      return "the journal " + file + " cannot be written (read-only file or directory)";
    }
    if (e.getErrorCode() == FILE_CORRUPTED || all.contains("corrupted") || all.contains("Unable to read the page")
        || all.contains("IndexOutOfBounds") || all.contains("BufferUnderflow")) {
      return "the journal " + file + " is corrupted: H2 cannot read part of it; move " + dir + " away to start a new journal";
    }
    if (isIo(e, all)) return "the journal " + file + " cannot be read or written (I/O error: " + shorten(text) + ")";
    return "journal error in " + file + ": " + shorten(text);
  }

  /**
   * One line naming the cause of {@code e} for the PostgreSQL journal at {@code server}
   * (host:port/database) used as {@code user}: the server cannot be reached, refuses the login, has
   * no such database, is out of disk, or the user may not write; else the server's own first line.
   */
  public static String describePostgres(SQLException e, String server, String user) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    // a failed batch names its statement first ("Batch entry 0 INSERT INTO ... was aborted: ..."): the reason is in its cause
    SQLException reason = e.getNextException() != null && String.valueOf(e.getMessage()).startsWith("Batch entry") ? e.getNextException() : e;
    if (reason != e && reason.getSQLState() != null) state = reason.getSQLState();
    String text = shorten(firstLine(reason)).replaceAll("Batch entry \\d+ .*? was aborted: ", "");
    String at = "the PostgreSQL journal at " + server;
    String who = user == null || user.isEmpty() ? "" : " as " + user;
    if (chain(e).contains("authentication") || chain(e).contains("no password was provided")) return at + " refused the login" + who + " (" + text + ")";
    if (state.startsWith("08") || chain(e).contains("java.net.ConnectException") || chain(e).contains("UnknownHostException")) {
      return "cannot reach " + at + " (" + text + "); is the server running, and is the URL right?";
    }
    if (state.equals("28P01") || state.equals("28000")) return at + " refused the login" + who + " (" + text + ")";
    if (state.equals("3D000")) return "no database at " + server + " (" + text + "); create it, or fix the URL";
    if (state.equals("53100")) return "disk full on the server of " + at + " (" + text + ")";
    if (state.equals("42501") || state.equals("25006")) return at + " cannot be written" + who + " (" + text + ")";
    if (state.startsWith("57P") || state.equals("53300")) return at + " is not available (" + text + ")";
    return "journal error in " + at + ": " + text + (state.isEmpty() ? "" : " (SQLSTATE " + state + ")");
  }

  /** H2 refused to open a file read-only because opening it means writing to it (recovery after an interrupted write, or damage). */
  public static boolean needsWrite(SQLException e) {
    String all = chain(e);
    return e.getErrorCode() == DATABASE_IS_READ_ONLY || all.contains("read-only") || all.contains("read only")
        || all.contains("NonWritableChannelException");
  }

  private static boolean isIo(SQLException e, String all) {
    return e.getErrorCode() == IO_EXCEPTION || e.getErrorCode() == IO_EXCEPTION_WITH_CAUSE || e.getErrorCode() == FILE_CREATION_FAILED
        || e.getErrorCode() == GENERAL_ERROR && (all.contains("Writing to") || all.contains("IOException"));
  }

  private static long freeBytes(Path dir) {
    try {
      return java.nio.file.Files.getFileStore(dir).getUsableSpace();
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
  }

  /** H2's text without its class names and at most 160 characters. */
  private static String shorten(String text) {
    String t = text.replaceAll("org\\.h2\\.[\\w.]+Exception: ", "").replaceAll("java\\.[\\w.]+Exception: ", "");
    return t.length() <= 160 ? t : t.substring(0, 157) + "...";
  }

  /** The first line of the message, without H2's "[code-version]" suffix and its dangling "SQL statement:". */
  static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    if (nl >= 0) m = m.substring(0, nl);
    m = m.replaceAll("\\s*\\[\\d+-\\d+]$", "").trim();
    m = m.replaceAll(";?\\s*SQL statement:$", "").trim();
    return m.replaceAll("\\s*\\[\\d+\\.\\d+\\.\\d+/\\d+]\"?$", "").trim();
  }

  private static String chain(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null && b.length() < 10_000; t = t.getCause()) b.append(t.getMessage()).append(' ').append(t.getClass().getName()).append(' ');
    return b.toString();
  }
}
