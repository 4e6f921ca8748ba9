#ifndef EXPORTWATCH_CMALLOC_SHIM_H
#define EXPORTWATCH_CMALLOC_SHIM_H

#include <malloc.h>

/// Caps glibc's malloc arenas at `count` (`mallopt(M_ARENA_MAX, …)`; `M_ARENA_MAX` is a macro
/// in <malloc.h>, which Swift's Glibc module does not include). Returns 1 on success.
static inline int ew_limit_malloc_arenas(int count) {
    return mallopt(M_ARENA_MAX, count);
}

/// Serves every allocation of at least `bytes` with a mapping of its own, given back to the
/// system when freed (`mallopt(M_MMAP_THRESHOLD, …)`). Set once, the threshold also stays where
/// it is: glibc otherwise raises it to the size of each large block freed (up to 32 MB), after
/// which large blocks come from the arenas and are kept there. Returns 1 on success.
static inline int ew_set_malloc_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

#endif
