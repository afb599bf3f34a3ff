/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Region allocator for request-lifetime memory: many small allocations, one
 * free. An arena has a byte cap; past it allocations return NULL, so a hostile
 * request cannot make one arena hold more than its cap.
 */
#ifndef MV_ARENA_H
#define MV_ARENA_H

#include "mv_common.h"

struct mv_arena;

/* Returned, caller frees with mv_arena_free(). NULL on out of memory. */
MV_API struct mv_arena *mv_arena_new(size_t max_bytes);
/* Frees every allocation made from a. Accepts NULL. */
MV_API void mv_arena_free(struct mv_arena *a);
/* Forget all allocations but keep the first block for reuse. */
MV_API void mv_arena_reset(struct mv_arena *a);
/* Memory aligned for any type, valid until reset/free; NULL past the cap. */
MV_API void *mv_arena_alloc(struct mv_arena *a, size_t n);
MV_API void *mv_arena_zalloc(struct mv_arena *a, size_t n);
/* Copies of s (NUL-terminated) and of n bytes of s (NUL added). */
MV_API char *mv_arena_strdup(struct mv_arena *a, const char *s);
MV_API char *mv_arena_strndup(struct mv_arena *a, const char *s, size_t n);
MV_API char *mv_arena_printf(struct mv_arena *a, const char *fmt, ...)
    MV_PRINTF(2, 3);
/* Bytes handed out so far (for limits and metrics). */
MV_API size_t mv_arena_used(const struct mv_arena *a);

#endif
