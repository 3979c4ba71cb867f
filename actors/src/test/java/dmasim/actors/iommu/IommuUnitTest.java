package dmasim.actors.iommu;

import static dmasim.actors.iommu.IommuHarness.DEV;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import com.typesafe.config.ConfigFactory;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.Envelope;
import dmasim.protocol.EnvelopeId;
import dmasim.protocol.Event;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.JournalEvent;
import dmasim.protocol.Message;
import dmasim.protocol.Phys;
import dmasim.protocol.Wire;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The IommuUnit as an event-sourced actor: command -> events -> state, sends after persisting, and a reset. */
class IommuUnitTest {
  private static final ActorTestKit testKit = ActorTestKit.create(EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));

  /** Records what the actor hands to the wire. */
  static final class RecordingWire implements Wire {
    final List<Message> sent = new ArrayList<>();
    final List<EnvelopeId> handled = new ArrayList<>();

    @Override
    public synchronized void send(String to, Message message, long delay, Envelope cause) {
      sent.add(message);
    }

    @Override
    public synchronized void handled(Envelope envelope, List<? extends Event> events) {
      handled.add(envelope.id());
    }

    @Override
    public void crashed(Envelope envelope, String actor, String reason) {
      throw new AssertionError(actor + " crashed: " + reason);
    }
  }

  private RecordingWire wire;
  private EventSourcedBehaviorTestKit<Envelope, Event, IommuState> kit;
  private long seq;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    wire = new RecordingWire();
    kit = EventSourcedBehaviorTestKit.create(testKit.system(),
        IommuUnit.create("test-" + System.identityHashCode(this), IommuHarness.settings(IommuSettings.Mode.STRICT), wire),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
  }

  private EventSourcedBehaviorTestKit.CommandResult<Envelope, Event, IommuState> deliver(String from, Message m) {
    return kit.runCommand(new Envelope(new EnvelopeId(from, ++seq), "iommu0", m, 0, 0, null, 0, 0));
  }

  @Test
  void persistsTheEnvelopeIdentityThenTheDomainEventsAndSendsAfterwards() {
    var result = deliver("cpu0", new IommuCommand.TryAlloc(DEV, "s", new Phys(0), 8192));
    assertEquals(1, result.events().size(), "one journal row per step");
    JournalEvent.EnvelopeHandled step = assertInstanceOf(JournalEvent.EnvelopeHandled.class, result.events().get(0));
    assertEquals(1, step.events().size());
    assertInstanceOf(IommuEvent.IovaAllocated.class, step.events().get(0));
    assertEquals(2, result.state().allocator().allocatedPages());
    assertEquals(1, wire.sent.size(), "the try_alloc answer");
    assertEquals(1, wire.handled.size());
  }

  @Test
  void aRestartKeepsPageTablesAndAllocatorButLosesTheIotlb() {
    long addr = ((dmasim.protocol.IommuReply.Returned) lastSent(deliver("cpu0", new IommuCommand.TryAlloc(DEV, "s", new Phys(0), 8192))))
        .value();
    deliver("cpu0", new IommuCommand.Link(DEV, "s", new Iova(addr), 8192, 0, new Phys(0x7000), 8192, Direction.BIDIRECTIONAL, DmaAttrs.NONE));
    var t = deliver("dev0", new IommuCommand.Translate(DEV, 1, new Iova(addr), true, false, false));
    assertEquals(1, t.state().iotlb().size());
    assertEquals(2, t.state().pageTable().size());

    var restarted = kit.restart();
    assertEquals(2, restarted.state().pageTable().size(), "the page table lives in RAM: recovered from the journal");
    assertEquals(2, restarted.state().allocator().allocatedPages());
    assertEquals(0, restarted.state().iotlb().size(), "the IOTLB is hardware: lost on reset");

    var after = deliver("dev0", new IommuCommand.Translate(DEV, 2, new Iova(addr), true, false, false));
    IommuEvent.DmaAccessed a = (IommuEvent.DmaAccessed) ((JournalEvent.EnvelopeHandled) after.events().get(0)).events().stream().filter(IommuEvent.DmaAccessed.class::isInstance).findFirst()
        .orElseThrow();
    assertEquals("walk", a.via(), "after the reset the translation is walked again");
    assertTrue(after.state().iotlb().size() == 1);
  }

  private Message lastSent(Object ignored) {
    return wire.sent.get(wire.sent.size() - 1);
  }
}
