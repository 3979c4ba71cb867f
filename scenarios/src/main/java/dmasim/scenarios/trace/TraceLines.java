package dmasim.scenarios.trace;

import java.io.IOException;
import java.io.Reader;

/**
 * The lines of a trace file as {@link java.io.BufferedReader#readLine} gives them ("\n", "\r\n" or
 * "\r" ends a line), except that a line longer than {@link #MAX_LINE} characters is not kept: it
 * comes back as {@link #TOO_LONG}, so that a file that is one endless line cannot take all memory.
 * The kernel prints an event into one page, so a real trace line is a few kilobytes at most.
 */
final class TraceLines {
  /** The longest line kept, in characters. */
  static final int MAX_LINE = 1 << 20;
  /** Stands for a line longer than {@link #MAX_LINE} (compare by identity). */
  @SuppressWarnings("StringOperationCanBeSimplified")
  static final String TOO_LONG = new String("(too long)");

  private final Reader in;
  private final char[] buf = new char[1 << 16];
  private int pos;
  private int end;
  private boolean eof;
  private boolean skipLf; // the last line ended with '\r': a '\n' right after it belongs to it
  private final StringBuilder line = new StringBuilder(256);

  TraceLines(Reader in) {
    this.in = in;
  }

  /** The next line, {@link #TOO_LONG}, or null at the end. */
  String next() throws IOException {
    line.setLength(0);
    boolean tooLong = false;
    boolean any = false;
    while (true) {
      if (pos == end) {
        if (eof) break;
        end = in.read(buf, 0, buf.length);
        pos = 0;
        if (end <= 0) {
          end = 0;
          eof = true;
          break;
        }
      }
      if (skipLf) {
        skipLf = false;
        if (buf[pos] == '\n') {
          pos++;
          continue;
        }
      }
      any = true;
      int start = pos;
      while (pos < end && buf[pos] != '\n' && buf[pos] != '\r') pos++;
      if (!tooLong) {
        if (line.length() + (pos - start) > MAX_LINE) {
          tooLong = true;
          line.setLength(0);
        } else {
          line.append(buf, start, pos - start);
        }
      }
      if (pos < end) {
        skipLf = buf[pos] == '\r';
        pos++;
        return tooLong ? TOO_LONG : line.toString();
      }
    }
    if (!any) return null;
    return tooLong ? TOO_LONG : line.toString();
  }
}
