/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Login rate limiter: a fixed-capacity hash table of failure counters with
 * an LRU list for eviction, behind one mutex (logins are rare and each
 * costs an Argon2id verification, so contention is not a concern). Keys are
 * stored as 128-bit keyed BLAKE2b hashes (crypto_generichash) under a
 * random per-limiter key: fixed-size entries, no usernames or addresses in
 * memory, and no way for an outsider to aim keys at one bucket.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"

#define NIL UINT32_MAX
#define HASH_BYTES 16u
#define ENTRIES_MAX (1u << 24) /* far above any sensible configuration */

struct entry {
  uint8_t h[HASH_BYTES];
  uint32_t failures;
  int64_t window_start_us;
  uint32_t chain;        /* next in bucket, or next free */
  uint32_t newer, older; /* LRU list */
};

struct mv_auth_limiter {
  pthread_mutex_t mu;
  unsigned max_failures;
  int64_t window_us;
  uint32_t cap, used; /* entries ever handed out (<= cap) */
  uint32_t free_list;
  uint32_t newest, oldest;
  uint32_t mask; /* buckets - 1 */
  uint32_t *buckets;
  struct entry *e;
  uint8_t hkey[crypto_generichash_KEYBYTES];
};

int mv_auth_limiter_new(unsigned max_failures, int64_t window_us,
                        size_t max_entries, struct mv_auth_limiter **out) {
  if (!out || max_failures == 0 || window_us <= 0 || max_entries == 0 ||
      max_entries > ENTRIES_MAX)
    return MV_EINVAL;
  int rc = mv__auth_sodium_ready();
  if (rc != MV_OK)
    return rc;
  struct mv_auth_limiter *l = calloc(1, sizeof(*l));
  if (!l)
    return MV_ENOMEM;
  uint32_t nb = 1;
  while (nb < max_entries * 2) /* load factor <= 0.5 */
    nb <<= 1;
  l->buckets = malloc(nb * sizeof(*l->buckets));
  l->e = calloc(max_entries, sizeof(*l->e));
  if (!l->buckets || !l->e) {
    free(l->buckets);
    free(l->e);
    free(l);
    return MV_ENOMEM;
  }
  for (uint32_t i = 0; i < nb; i++)
    l->buckets[i] = NIL;
  l->mask = nb - 1;
  l->max_failures = max_failures;
  l->window_us = window_us;
  l->cap = (uint32_t)max_entries;
  l->free_list = l->newest = l->oldest = NIL;
  randombytes_buf(l->hkey, sizeof(l->hkey));
  pthread_mutex_init(&l->mu, NULL);
  *out = l;
  return MV_OK;
}

void mv_auth_limiter_free(struct mv_auth_limiter *l) {
  if (!l)
    return;
  pthread_mutex_destroy(&l->mu);
  sodium_memzero(l->hkey, sizeof(l->hkey));
  free(l->buckets);
  free(l->e);
  free(l);
}

static void hash_key(const struct mv_auth_limiter *l, const char *key,
                     uint8_t h[HASH_BYTES]) {
  crypto_generichash(h, HASH_BYTES, (const uint8_t *)key, strlen(key), l->hkey,
                     sizeof(l->hkey));
}

static uint32_t bucket_of(const struct mv_auth_limiter *l,
                          const uint8_t h[HASH_BYTES]) {
  uint32_t b;
  memcpy(&b, h, sizeof(b));
  return b & l->mask;
}

static uint32_t find(const struct mv_auth_limiter *l,
                     const uint8_t h[HASH_BYTES]) {
  for (uint32_t i = l->buckets[bucket_of(l, h)]; i != NIL; i = l->e[i].chain)
    if (memcmp(l->e[i].h, h, HASH_BYTES) == 0)
      return i;
  return NIL;
}

static void lru_unlink(struct mv_auth_limiter *l, uint32_t i) {
  struct entry *x = &l->e[i];
  if (x->newer != NIL)
    l->e[x->newer].older = x->older;
  else
    l->newest = x->older;
  if (x->older != NIL)
    l->e[x->older].newer = x->newer;
  else
    l->oldest = x->newer;
}

static void lru_push_newest(struct mv_auth_limiter *l, uint32_t i) {
  struct entry *x = &l->e[i];
  x->newer = NIL;
  x->older = l->newest;
  if (l->newest != NIL)
    l->e[l->newest].newer = i;
  l->newest = i;
  if (l->oldest == NIL)
    l->oldest = i;
}

/* Take entry i out of its bucket chain and the LRU list. */
static void detach(struct mv_auth_limiter *l, uint32_t i) {
  uint32_t *link = &l->buckets[bucket_of(l, l->e[i].h)];
  while (*link != i)
    link = &l->e[*link].chain;
  *link = l->e[i].chain;
  lru_unlink(l, i);
}

/* A slot for a new key: a free one, a never-used one, or the oldest. */
static uint32_t take_slot(struct mv_auth_limiter *l) {
  uint32_t i;
  if (l->free_list != NIL) {
    i = l->free_list;
    l->free_list = l->e[i].chain;
  } else if (l->used < l->cap) {
    i = l->used++;
  } else {
    i = l->oldest;
    detach(l, i);
  }
  return i;
}

static bool window_over(const struct mv_auth_limiter *l, const struct entry *x,
                        int64_t now_us) {
  /* A clock that steps back keeps the window open rather than reopening
   * it early. */
  return now_us > x->window_start_us &&
         now_us - x->window_start_us >= l->window_us;
}

int mv_auth_limiter_check(struct mv_auth_limiter *l, const char *key,
                          int64_t now_us) {
  if (!l || !key)
    return MV_EINVAL;
  uint8_t h[HASH_BYTES];
  hash_key(l, key, h);
  int rc = MV_OK;
  pthread_mutex_lock(&l->mu);
  uint32_t i = find(l, h);
  if (i != NIL && !window_over(l, &l->e[i], now_us) &&
      l->e[i].failures >= l->max_failures)
    rc = MV_ERATE;
  pthread_mutex_unlock(&l->mu);
  return rc;
}

int mv_auth_limiter_fail(struct mv_auth_limiter *l, const char *key,
                         int64_t now_us) {
  if (!l || !key)
    return MV_EINVAL;
  uint8_t h[HASH_BYTES];
  hash_key(l, key, h);
  pthread_mutex_lock(&l->mu);
  uint32_t i = find(l, h);
  if (i == NIL) {
    i = take_slot(l);
    struct entry *x = &l->e[i];
    memcpy(x->h, h, HASH_BYTES);
    x->failures = 0;
    x->window_start_us = now_us;
    uint32_t b = bucket_of(l, h);
    x->chain = l->buckets[b];
    l->buckets[b] = i;
  } else {
    lru_unlink(l, i);
    if (window_over(l, &l->e[i], now_us)) {
      l->e[i].failures = 0;
      l->e[i].window_start_us = now_us;
    }
  }
  lru_push_newest(l, i);
  struct entry *x = &l->e[i];
  if (x->failures < UINT32_MAX)
    x->failures++;
  int rc = x->failures >= l->max_failures ? MV_ERATE : MV_OK;
  pthread_mutex_unlock(&l->mu);
  return rc;
}

void mv_auth_limiter_success(struct mv_auth_limiter *l, const char *key) {
  if (!l || !key)
    return;
  uint8_t h[HASH_BYTES];
  hash_key(l, key, h);
  pthread_mutex_lock(&l->mu);
  uint32_t i = find(l, h);
  if (i != NIL) {
    detach(l, i);
    memset(&l->e[i], 0, sizeof(l->e[i]));
    l->e[i].chain = l->free_list;
    l->free_list = i;
  }
  pthread_mutex_unlock(&l->mu);
}
