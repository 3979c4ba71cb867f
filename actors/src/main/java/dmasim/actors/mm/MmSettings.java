package dmasim.actors.mm;

import java.util.List;

/**
 * One process address space and the mirrors of it: the VMAs it starts with, the interval
 * subscriptions (one per mirror), and the kernel behaviours that changed across versions.
 *
 * @param vmas the VMAs present when the run starts (populated or not)
 * @param subs the mmu interval subscriptions, inserted before the run starts
 * @param hmmWriteCheck true (v5.4+): hmm_range_fault returns -EPERM for a write fault on a VMA
 *     without VM_WRITE; false (before the fix of B1): it faults, nothing changes, and it returns
 *     -EBUSY, so the caller retries for ever
 * @param foreignDevicePrivateFaults true (current mm/hmm.c): a device-private entry of another owner
 *     is faulted, which migrates it back to system memory; false (v5.7): hmm_range_fault returns
 *     -EFAULT for it ("report error for everything else")
 */
public record MmSettings(List<Vma> vmas, List<Sub> subs, boolean hmmWriteCheck, boolean foreignDevicePrivateFaults, List<ReclaimRule> reclaims,
    long seed) {
  public MmSettings(List<Vma> vmas, List<Sub> subs, boolean hmmWriteCheck, boolean foreignDevicePrivateFaults) {
    this(vmas, subs, hmmWriteCheck, foreignDevicePrivateFaults, List.of(), 0);
  }

  /** These settings with {@code rules} reclaiming as their envelopes arrive, decided from {@code seed}. */
  public MmSettings withReclaims(List<ReclaimRule> rules, long seed) {
    List<ReclaimRule> all = new java.util.ArrayList<>(reclaims);
    all.addAll(rules);
    return new MmSettings(vmas, subs, hmmWriteCheck, foreignDevicePrivateFaults, all, seed);
  }

  /**
   * A VMA of {@code pages} pages at {@code start} (bytes), writable or not, its pages present from
   * the start ({@code populate}); {@code io}: VM_IO | VM_PFNMAP (device memory without struct pages,
   * which hmm_range_fault refuses); {@code p2pFirstPfn} > 0: the pages are a PCI P2P BAR's, from that
   * pfn (MEMORY_DEVICE_PCI_P2PDMA pages mapped into the process: never freed to the page allocator).
   */
  public record Vma(long start, long pages, boolean write, boolean populate, boolean io, long p2pFirstPfn) {
    public Vma(long start, long pages, boolean write, boolean populate) {
      this(start, pages, write, populate, false, 0);
    }
  }

  /**
   * An interval subscription (struct mmu_interval_notifier) named {@code name} over [start, start +
   * pages * 4096); {@code inserted} false: the driver inserts it with a step (mmu_interval_notifier_insert).
   */
  public record Sub(String name, long start, long pages, boolean inserted, boolean sharedPfns) {
    /** A subscription inserted before the run starts. */
    public Sub(String name, long start, long pages) {
      this(name, start, pages, true, false);
    }

    public Sub(String name, long start, long pages, boolean inserted) {
      this(name, start, pages, inserted, false);
    }

    public long last() {
      return start + pages * 4096 - 1;
    }
  }

  public MmSettings {
    vmas = List.copyOf(vmas);
    subs = List.copyOf(subs);
    reclaims = reclaims == null ? List.of() : List.copyOf(reclaims);
  }

  public Sub sub(String name) {
    for (Sub s : subs) if (s.name().equals(name)) return s;
    throw new IllegalArgumentException("no mirror '" + name + "'");
  }
}
