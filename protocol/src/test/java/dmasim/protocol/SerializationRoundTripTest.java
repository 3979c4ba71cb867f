package dmasim.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every message and event type round-trips through the serializer Akka is configured with
 * (jackson-cbor): walks the permitted subclasses of each sealed family and builds a fixture of
 * each reflectively, so a new record cannot be forgotten.
 */
class SerializationRoundTripTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final List<Class<?>> FAMILIES = List.of(IommuCommand.class, IommuReply.class, DeviceCommand.class, DeviceReply.class,
      CpuCommand.class, MemoryCommand.class, MemoryReply.class, JournalEvent.class, IommuEvent.class, DeviceEvent.class, CpuEvent.class,
      MemoryEvent.class, WireEvent.class);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyMessageAndEventRoundTripsThroughJacksonCbor() throws Exception {
    Serialization serialization = SerializationExtension.get(testKit.system());
    int checked = 0;
    for (Class<?> family : FAMILIES) {
      assertTrue(family.isSealed(), family + " must be sealed");
      for (Class<?> type : family.getPermittedSubclasses()) {
        if (!type.isRecord()) continue; // the non-sealed Internal extension points
        Object fixture = fixture(type, 0);
        assertEquals(fixture, roundTrip(serialization, fixture), "round trip of " + type.getName());
        checked++;
      }
    }
    assertTrue(checked >= 60, "only " + checked + " types checked");
  }

  @Test
  void envelopesCarryTheirMessageTypeAcrossSerialization() throws Exception {
    Serialization serialization = SerializationExtension.get(testKit.system());
    Envelope env = new Envelope(new EnvelopeId("cpu0", 3), "iommu0",
        new IommuReply.Returned("map_sg", "sgt", 0, 2, List.of(new DmaSegment(new Iova(0x1000), 4096))), 10, 20, new EnvelopeId("iommu0", 1), 25, 0);
    assertEquals(env, roundTrip(serialization, env));
    assertTrue(serialization.findSerializerFor(env).getClass().getName().contains("Jackson"));
  }

  private static Object roundTrip(Serialization s, Object o) throws Exception {
    Serializer serializer = s.findSerializerFor(o);
    byte[] bytes = s.serialize(o).get();
    return s.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, o)).get();
  }

  /** A valid instance of {@code type}, recursing into record components (depth-limited for recursive records). */
  static Object fixture(Type type, int depth) throws Exception {
    Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
    if (raw == long.class || raw == Long.class) return 4096L;
    if (raw == int.class || raw == Integer.class) return 1;
    if (raw == boolean.class || raw == Boolean.class) return true;
    if (raw == String.class) return "x";
    if (raw.isEnum()) return raw.getEnumConstants()[1 % raw.getEnumConstants().length];
    if (raw == List.class) {
      Type element = ((ParameterizedType) type).getActualTypeArguments()[0];
      List<Object> list = new ArrayList<>();
      list.add(fixture(element, depth + 1));
      return list;
    }
    if (raw == Message.class) return new IommuReply.Returned("link", "s", 0, 0, List.of());
    if (raw == Event.class) return new IommuEvent.IovaFreed(new DeviceId(0), "cpu0/s1", 4096L, 2, "iova");
    if (IommuEvent.Continuation.class.isAssignableFrom(raw) && depth > 2) return null;
    if (raw.isInterface() && raw.isSealed()) return fixture(raw.getPermittedSubclasses()[depth % raw.getPermittedSubclasses().length], depth);
    if (raw.isRecord()) {
      RecordComponent[] components = raw.getRecordComponents();
      Class<?>[] types = new Class<?>[components.length];
      Object[] args = new Object[components.length];
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
        args[i] = fixture(components[i].getGenericType(), depth + 1);
      }
      Constructor<?> c = raw.getDeclaredConstructor(types);
      c.setAccessible(true);
      return c.newInstance(args);
    }
    throw new IllegalArgumentException("no fixture for " + type);
  }
}
