package dmasim.actors.iommu;

import dmasim.actors.model.Decision;
import dmasim.actors.model.Names;
import dmasim.actors.state.FlushQueue;
import dmasim.actors.state.Iotlb;
import dmasim.actors.state.IovaAllocator;
import dmasim.actors.state.PageTable;
import dmasim.protocol.DeviceCommand;
import dmasim.protocol.DeviceId;
import dmasim.protocol.DeviceReply;
import dmasim.protocol.Direction;
import dmasim.protocol.DmaAttrs;
import dmasim.protocol.DmaSegment;
import dmasim.protocol.Envelope;
import dmasim.protocol.Errno;
import dmasim.protocol.Iova;
import dmasim.protocol.IommuCommand;
import dmasim.protocol.IommuEvent;
import dmasim.protocol.IommuEvent.ApiReturned;
import dmasim.protocol.IommuEvent.Continuation;
import dmasim.protocol.IommuReply;
import dmasim.protocol.Message;
import dmasim.protocol.Prot;
import dmasim.protocol.Segment;
import java.util.ArrayList;
import java.util.List;

/** Device transactions: the IOTLB, else a page-table walk that fills it (cached not-present entries in caching mode). */
final class Translation extends IommuCall {
  Translation(IommuLogic k) {
    super(k);
  }

  /** A device transaction or ATS translation request: IOTLB, else page-table walk (and fill). */
  void onTranslate(IommuCommand.Translate c) {
    long pfn = c.iova().addr() >>> cfg.granuleShift();
    long entry = s.iotlb.lookup(pfn);
    String via = "iotlb";
    if (entry == Iotlb.MISS) {
      via = "walk";
      entry = s.walk(pfn);
      if (entry >= 0 || s.caching) fill(pfn, entry);
    }
    String fault = null;
    if (entry == Iotlb.NOT_PRESENT) fault = "cached not-present IOTLB entry (caching mode)";
    else if (entry < 0) fault = "not present";
    else if (!c.atsRequest() && !PageTable.protOf(entry).allows(c.write())) fault = c.write() ? "write to read-only mapping" : "read of write-only mapping";
    long phys = entry >= 0 ? PageTable.physOf(entry) : 0;
    Prot prot = entry >= 0 ? PageTable.protOf(entry) : new Prot(0);
    if (fault != null) d.emit(new IommuEvent.DmaFaulted(c.dev(), c.tag(), c.iova(), c.write(), fault, c.stray()));
    else if (!c.atsRequest()) d.emit(new IommuEvent.DmaAccessed(c.dev(), c.tag(), c.iova(), phys, c.write(), via, c.stray()));
    d.send(caller, new IommuReply.Translated(c.tag(), c.iova(), c.write(), c.stray(), fault == null, phys, prot, fault));
  }

  void fill(long pfn, long entry) {
    long victim = s.iotlb.victimFor(pfn);
    if (victim >= 0) d.emit(new IommuEvent.IotlbEvicted(victim));
    boolean present = entry >= 0;
    d.emit(new IommuEvent.IotlbFilled(pfn, present ? PageTable.physOf(entry) : 0, present ? PageTable.protOf(entry) : new Prot(0), present));
  }
}
