#ifndef EXPORTWATCH_CMALLOC_SHIM_H
#define EXPORTWATCH_CMALLOC_SHIM_H

#include <malloc.h>

/// Caps glibc's malloc arenas at `count` (`mallopt(M_ARENA_MAX, …)`; `M_ARENA_MAX` is a macro
/// in <malloc.h>, which Swift's Glibc module does not include). Returns 1 on success.
static inline int ew_limit_malloc_arenas(int count) {
    return mallopt(M_ARENA_MAX, count);
}

#endif
