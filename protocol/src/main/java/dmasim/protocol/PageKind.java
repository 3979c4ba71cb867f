package dmasim.protocol;

/**
 * What a buffer's pages are to the kernel, as dma-debug's address checks see them. The platform is
 * one whose kernel image lies inside the linear map (32-bit ARM) with CONFIG_VMAP_STACK: the image
 * sections are reached through phys_to_virt, the task stack and vmalloc memory through the vmalloc
 * range, a module's static data through the module area (neither linear nor vmalloc).
 */
public enum PageKind {
  /** Ordinary RAM in the linear map (kmalloc, the page allocator): the default. */
  LINEAR("linear"),
  /** The current task's kernel stack (vmapped: CONFIG_VMAP_STACK). */
  STACK("stack"),
  /** Kernel text, [_stext, _etext). */
  TEXT("text"),
  /** Kernel rodata, [__start_rodata, __end_rodata). */
  RODATA("rodata"),
  /** vmalloc memory. */
  VMALLOC("vmalloc"),
  /** A loadable module's static data (the module area: not in the linear map, not a vmalloc address). */
  MODULE("module");

  private final String key;

  PageKind(String key) {
    this.key = key;
  }

  /** The name used in scenario files. */
  public String key() {
    return key;
  }

  /** is_vmalloc_addr of the kernel virtual address a driver holds for this memory. */
  public boolean vmallocAddr() {
    return this == STACK || this == VMALLOC;
  }

  /** virt_addr_valid of that address: only linear-map addresses (the image is part of the linear map here). */
  public boolean virtAddrValid() {
    return this == LINEAR || this == TEXT || this == RODATA;
  }

  /** PageReserved: the kernel image's pages are reserved memblock memory. */
  public boolean reserved() {
    return this == TEXT || this == RODATA;
  }
}
