package dmasim.protocol;

/**
 * An event about a driver's object - a dma_iova_state, a handle, an sg table, a buffer - named
 * "cpuN/object": what a violation's explanation follows back through the run.
 */
public interface Owned {
  String owner();
}
