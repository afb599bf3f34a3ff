/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Region allocator: a chain of blocks, bump allocation, one free. Used for
 * request-lifetime memory so handlers need no per-object cleanup. The byte
 * cap counts what was handed out, so one request cannot hold more than it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_arena.h"

#define BLOCK_SIZE 8192u
#define ALIGN _Alignof(max_align_t)

struct block {
  struct block *next;
  size_t size; /* usable bytes after the header */
  size_t used;
  _Alignas(max_align_t) unsigned char mem[];
};

struct mv_arena {
  struct block *head; /* current block; older ones follow */
  size_t max;
  size_t used; /* bytes handed out (with alignment padding) */
};

struct mv_arena *mv_arena_new(size_t max_bytes) {
  struct mv_arena *a = calloc(1, sizeof(*a));
  if (!a)
    return NULL;
  a->max = max_bytes;
  return a;
}

static void free_chain(struct block *b) {
  while (b) {
    struct block *next = b->next;
    free(b);
    b = next;
  }
}

void mv_arena_free(struct mv_arena *a) {
  if (!a)
    return;
  free_chain(a->head);
  free(a);
}

void mv_arena_reset(struct mv_arena *a) {
  if (!a->head)
    return;
  /* Keep the oldest block (the last in the chain) for reuse. */
  struct block *b = a->head, *keep = NULL;
  while (b->next)
    b = b->next;
  keep = b;
  struct block *it = a->head;
  while (it != keep) {
    struct block *next = it->next;
    free(it);
    it = next;
  }
  keep->used = 0;
  a->head = keep;
  a->used = 0;
}

void *mv_arena_alloc(struct mv_arena *a, size_t n) {
  if (n == 0)
    n = 1;
  size_t rounded = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  /* The last test keeps the block header plus `rounded` from wrapping the
   * malloc size when the cap is near SIZE_MAX. */
  if (rounded < n || rounded > a->max || a->used > a->max - rounded ||
      rounded > SIZE_MAX - sizeof(struct block))
    return NULL;
  struct block *b = a->head;
  if (!b || b->size - b->used < rounded) {
    size_t size = rounded > BLOCK_SIZE ? rounded : BLOCK_SIZE;
    struct block *nb = malloc(sizeof(*nb) + size);
    if (!nb)
      return NULL;
    nb->size = size;
    nb->used = 0;
    nb->next = a->head;
    a->head = nb;
    b = nb;
  }
  void *p = b->mem + b->used;
  b->used += rounded;
  a->used += rounded;
  return p;
}

void *mv_arena_zalloc(struct mv_arena *a, size_t n) {
  void *p = mv_arena_alloc(a, n);
  if (p)
    memset(p, 0, n);
  return p;
}

char *mv_arena_strndup(struct mv_arena *a, const char *s, size_t n) {
  if (n == SIZE_MAX)
    return NULL;
  char *p = mv_arena_alloc(a, n + 1);
  if (!p)
    return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *mv_arena_strdup(struct mv_arena *a, const char *s) {
  return mv_arena_strndup(a, s, strlen(s));
}

char *mv_arena_printf(struct mv_arena *a, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = NULL;
  if (n >= 0 && (p = mv_arena_alloc(a, (size_t)n + 1)) != NULL)
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return p;
}

size_t mv_arena_used(const struct mv_arena *a) {
  return a->used;
}
