package dmasim.actors.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dmasim.protocol.Prot;
import java.util.List;
import org.junit.jupiter.api.Test;

class PageTableTest {
  @Test
  void mapsLooksUpAndClears() {
    PageTable pt = new PageTable();
    pt.map(100, 5000, 3, new Prot(Prot.READ));
    long e = pt.lookup(101);
    assertEquals(5001, PageTable.physOf(e));
    assertTrue(PageTable.protOf(e).allows(false));
    assertFalse(PageTable.protOf(e).allows(true));
    assertTrue(pt.anyPresent(102, 5));
    assertEquals(2, pt.countPresent(101, 10));
    pt.clear(100, 3);
    assertEquals(-1, pt.lookup(101));
    assertEquals(0, pt.size());
  }

  @Test
  void reportsEmptiedLeafTablesExactlyOnce() {
    PageTable pt = new PageTable();
    pt.map(510, 1, 4, new Prot(Prot.READ)); // pages 510..513 span leaf 0 and leaf 1
    assertEquals(List.of(0L), pt.wouldEmpty(510, 2));
    assertEquals(List.of(0L, 1L), pt.wouldEmpty(510, 4));
    assertEquals(List.of(0L), pt.clear(510, 2));
    assertEquals(List.of(), pt.wouldEmpty(512, 1), "leaf 1 still holds page 513");
    assertEquals(List.of(1L), pt.clear(512, 2));
  }

  @Test
  void aMillionPagesStayCompact() {
    PageTable pt = new PageTable();
    for (long p = 0; p < 1_000_000; p += 512) pt.map(p + 1, p, 512, new Prot(Prot.READ | Prot.WRITE));
    long perPage = pt.footprintBytes() / pt.size();
    assertTrue(perPage <= 64, "page table costs " + perPage + " bytes per mapped page");
  }
}
