package dmasim.scenarios.journal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The row format beside akka-persistence-jdbc's {@code event_journal} schema: every row's
 * {@code meta_payload} holds a CRC32C of its persistence id, sequence number, serializer,
 * manifest and payload, so a changed or torn row is found where it is; each recording lists its
 * actors' last sequence numbers, so a deleted row is found too.
 */
public final class Rows {
  private Rows() {}

  /** {@code meta_ser_manifest} of a row whose {@code meta_payload} is its checksum. */
  public static final String CHECKSUM_MANIFEST = "dmasim-crc32c";

  /** The checksum of one row, as stored in {@code meta_payload}. */
  public static byte[] checksum(String persistenceId, long sequenceNr, int serializerId, String manifest, byte[] payload) {
    CRC32C crc = new CRC32C();
    crc.update(persistenceId.getBytes(StandardCharsets.UTF_8));
    crc.update(ByteBuffer.allocate(12).putLong(sequenceNr).putInt(serializerId).array());
    crc.update(manifest.getBytes(StandardCharsets.UTF_8));
    crc.update(payload);
    return ByteBuffer.allocate(4).putInt((int) crc.getValue()).array();
  }

  /** "cpu0=12,iommu0=40" for the registry. */
  static String actorRows(Map<String, Long> rows) {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, Long> e : rows.entrySet()) {
      if (b.length() > 0) b.append(',');
      b.append(e.getKey()).append('=').append(e.getValue());
    }
    return b.toString();
  }

  /** The map {@link #actorRows(Map)} wrote; empty for null or "". */
  static Map<String, Long> parseActorRows(String s) {
    Map<String, Long> rows = new LinkedHashMap<>();
    if (s == null || s.isEmpty()) return rows;
    for (String part : s.split(",")) {
      int eq = part.lastIndexOf('=');
      rows.put(part.substring(0, eq), Long.parseLong(part.substring(eq + 1)));
    }
    return rows;
  }
}
