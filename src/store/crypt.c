/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cryptography of the store, independent of any backend: the site keys
 * loaded from the key file, wrapping and unwrapping of patient keys under
 * them, sealing and opening of resource bodies, the bounded cache of
 * unwrapped patient keys, the blind index of name prefixes, and subkey
 * derivation for other modules. Every primitive is libsodium:
 * XChaCha20-Poly1305 (IETF) with random 24-byte nonces for wrapping and
 * bodies, keyed BLAKE2b (crypto_generichash) for the blind index,
 * crypto_kdf (BLAKE2b) for subkeys. Key material lives in sodium_malloc'd
 * memory (guarded, locked when the system allows) and is wiped when evicted
 * or freed.
 *
 * The associated data binds each ciphertext to where it belongs, so a
 * ciphertext copied to another row fails authentication: "mv-pk|<patient>"
 * for a wrapped key, "mv-body|1|<type>|<id>|<version>" for a body.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_int.h"

#define AEAD_NPUB crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define AEAD_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define BODY_FORMAT_V1 0x01
#define AD_MAX (16 + MV_LIMIT_TYPE_LEN + MV_LIMIT_ID_LEN + 24)

_Static_assert(MV__WRAPPED_LEN == AEAD_NPUB + 32 + AEAD_TAG,
               "wrapped key layout");
_Static_assert(MV__BODY_OVERHEAD == 1 + AEAD_NPUB + AEAD_TAG,
               "sealed body layout");
_Static_assert(crypto_kdf_CONTEXTBYTES == 8, "kdf context is 8 bytes");
_Static_assert(crypto_kdf_KEYBYTES == 32, "kdf key is 32 bytes");

/* The blind index key: a subkey of the root (see mv__crypt_set_root). */
#define BLIND_SUBKEY_ID 1
#define BLIND_CTX "mvblind1"

struct entry {
  char pid[MV_LIMIT_ID_LEN + 1];
  int32_t hnext;      /* next in the bucket chain, -1 = end */
  int32_t prev, next; /* LRU list (most recent at head), or the free list */
  bool used;
};

struct mv__crypt {
  char path[MV_LIMIT_PATH_MAX];
  pthread_mutex_t mu; /* guards kf and the cache */
  struct mv__keyfile *kf;
  uint8_t *root;  /* 32 bytes; set once at open, read-only after */
  uint8_t *blind; /* 32 bytes, derived from root */
  bool have_root;

  size_t cap, nbuckets;
  struct entry *entries;
  uint8_t *keys; /* cap * 32 bytes, entry i's key at keys + 32 i */
  int32_t *buckets;
  int32_t lru_head, lru_tail, free_head;
  uint64_t epoch;
};

/* ---- Lifecycle ----------------------------------------------------------- */

int mv__crypt_new(const char *key_path, size_t cache_cap,
                  struct mv__crypt **out) {
  struct mv__crypt *c = calloc(1, sizeof(*c));
  size_t n = strnlen(key_path, MV_LIMIT_PATH_MAX);
  if (!c)
    return MV_ENOMEM;
  if (n == 0 || n >= MV_LIMIT_PATH_MAX) {
    free(c);
    return MV_EINVAL;
  }
  memcpy(c->path, key_path, n + 1);
  if (pthread_mutex_init(&c->mu, NULL) != 0) {
    free(c);
    return MV_ENOMEM;
  }
  c->cap = cache_cap ? cache_cap : 1;
  c->nbuckets = 1;
  while (c->nbuckets < 2 * c->cap)
    c->nbuckets <<= 1;
  c->kf = sodium_malloc(sizeof(*c->kf));
  c->root = sodium_malloc(32);
  c->blind = sodium_malloc(32);
  c->keys = sodium_malloc(c->cap * 32);
  c->entries = calloc(c->cap, sizeof(*c->entries));
  c->buckets = malloc(c->nbuckets * sizeof(*c->buckets));
  if (!c->kf || !c->root || !c->blind || !c->keys || !c->entries ||
      !c->buckets) {
    mv__crypt_free(c);
    return MV_ENOMEM;
  }
  memset(c->kf, 0, sizeof(*c->kf));
  for (size_t i = 0; i < c->nbuckets; i++)
    c->buckets[i] = -1;
  for (size_t i = 0; i < c->cap; i++)
    c->entries[i].next = i + 1 < c->cap ? (int32_t)(i + 1) : -1;
  c->free_head = 0;
  c->lru_head = c->lru_tail = -1;
  *out = c;
  return MV_OK;
}

void mv__crypt_free(struct mv__crypt *c) {
  if (!c)
    return;
  /* sodium_free wipes before freeing. */
  sodium_free(c->kf);
  sodium_free(c->root);
  sodium_free(c->blind);
  sodium_free(c->keys);
  free(c->entries);
  free(c->buckets);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* ---- Site keys ------------------------------------------------------------ */

int mv__crypt_load(struct mv__crypt *c, struct mv_diag *diag) {
  struct mv__keyfile *kf = sodium_malloc(sizeof(*kf));
  if (!kf)
    return MV_ENOMEM;
  int rc = mv__keyfile_read(c->path, kf, diag);
  if (rc == MV_OK) {
    pthread_mutex_lock(&c->mu);
    memcpy(c->kf, kf, sizeof(*kf));
    pthread_mutex_unlock(&c->mu);
  }
  sodium_free(kf);
  return rc;
}

int mv__crypt_create(struct mv__crypt *c, struct mv_diag *diag) {
  struct mv__keyfile *kf = sodium_malloc(sizeof(*kf));
  if (!kf)
    return MV_ENOMEM;
  memset(kf, 0, sizeof(*kf));
  mv__site_key_generate(&kf->keys[0]);
  kf->n = 1;
  int rc = mv__keyfile_write(c->path, kf, true, diag);
  if (rc == MV_OK) {
    pthread_mutex_lock(&c->mu);
    memcpy(c->kf, kf, sizeof(*kf));
    pthread_mutex_unlock(&c->mu);
  } else if (rc == MV_EEXISTS) {
    rc = mv__crypt_load(c, diag); /* another process made it first */
  }
  sodium_free(kf);
  return rc;
}

const char *mv__crypt_path(const struct mv__crypt *c) {
  return c->path;
}

size_t mv__crypt_key_count(struct mv__crypt *c) {
  pthread_mutex_lock(&c->mu);
  size_t n = c->kf->n;
  pthread_mutex_unlock(&c->mu);
  return n;
}

void mv__crypt_current_id(struct mv__crypt *c,
                          char out[MV__SITE_KEY_ID_MAX + 1]) {
  pthread_mutex_lock(&c->mu);
  memcpy(out, c->kf->n ? c->kf->keys[0].id : "", MV__SITE_KEY_ID_MAX + 1);
  pthread_mutex_unlock(&c->mu);
}

int mv__crypt_rotate_begin(struct mv__crypt *c, struct mv_diag *diag) {
  struct mv__keyfile *kf = sodium_malloc(sizeof(*kf));
  int rc;
  if (!kf)
    return MV_ENOMEM;
  memset(kf, 0, sizeof(*kf));
  pthread_mutex_lock(&c->mu);
  if (c->kf->n == 1) {
    kf->keys[1] = c->kf->keys[0];
    kf->n = 2;
  }
  pthread_mutex_unlock(&c->mu);
  if (kf->n != 2) {
    rc = mv_diag_set(diag, MV_EINVAL, "an earlier rotation is unfinished");
    goto out;
  }
  mv__site_key_generate(&kf->keys[0]);
  if ((rc = mv__keyfile_write(c->path, kf, false, diag)) != MV_OK)
    goto out;
  pthread_mutex_lock(&c->mu);
  memcpy(c->kf, kf, sizeof(*kf));
  pthread_mutex_unlock(&c->mu);
out:
  sodium_free(kf);
  return rc;
}

int mv__crypt_rotate_finish(struct mv__crypt *c, struct mv_diag *diag) {
  struct mv__keyfile *kf = sodium_malloc(sizeof(*kf));
  if (!kf)
    return MV_ENOMEM;
  memset(kf, 0, sizeof(*kf));
  pthread_mutex_lock(&c->mu);
  kf->keys[0] = c->kf->keys[0];
  kf->n = c->kf->n ? 1 : 0;
  pthread_mutex_unlock(&c->mu);
  int rc = mv__keyfile_write(c->path, kf, false, diag);
  if (rc == MV_OK) {
    pthread_mutex_lock(&c->mu);
    memcpy(c->kf, kf, sizeof(*kf));
    pthread_mutex_unlock(&c->mu);
  }
  sodium_free(kf);
  return rc;
}

/* "mv-pk|<label>" into ad; returns its length. */
static size_t wrap_ad(const char *label, uint8_t *ad, size_t cap) {
  int n = snprintf((char *)ad, cap, "mv-pk|%s", label);
  return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

int mv__crypt_wrap(struct mv__crypt *c, const char *label,
                   const uint8_t key[32], uint8_t out[MV__WRAPPED_LEN],
                   char out_key_id[MV__SITE_KEY_ID_MAX + 1]) {
  uint8_t ad[AD_MAX];
  size_t ad_len = wrap_ad(label, ad, sizeof(ad));
  int rc = MV_OK;
  randombytes_buf(out, AEAD_NPUB);
  pthread_mutex_lock(&c->mu);
  if (c->kf->n == 0) {
    rc = MV_ECONFIG;
  } else {
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + AEAD_NPUB, NULL, key, 32,
                                               ad, ad_len, NULL, out,
                                               c->kf->keys[0].key);
    memcpy(out_key_id, c->kf->keys[0].id, MV__SITE_KEY_ID_MAX + 1);
  }
  pthread_mutex_unlock(&c->mu);
  return rc;
}

/* Unwrap with the site key key_id if loaded; MV_ENOTFOUND if it is not. */
static int unwrap_loaded(struct mv__crypt *c, const char *key_id,
                         const uint8_t *ad, size_t ad_len,
                         const uint8_t *wrapped, uint8_t out[32]) {
  int rc = MV_ENOTFOUND;
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->kf->n; i++) {
    if (strcmp(c->kf->keys[i].id, key_id) != 0)
      continue;
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
             out, NULL, NULL, wrapped + AEAD_NPUB, MV__WRAPPED_LEN - AEAD_NPUB,
             ad, ad_len, wrapped, c->kf->keys[i].key) == 0
             ? MV_OK
             : MV_ECORRUPT;
    break;
  }
  pthread_mutex_unlock(&c->mu);
  return rc;
}

int mv__crypt_unwrap(struct mv__crypt *c, const char *key_id, const char *label,
                     const uint8_t *wrapped, size_t len, uint8_t out[32]) {
  uint8_t ad[AD_MAX];
  size_t ad_len = wrap_ad(label, ad, sizeof(ad));
  if (len != MV__WRAPPED_LEN || !key_id)
    return MV_ECORRUPT;
  int rc = unwrap_loaded(c, key_id, ad, ad_len, wrapped, out);
  if (rc == MV_ENOTFOUND) {
    /* Another process may have rotated the site key: its key file holds
     * the key this row was wrapped with. */
    if (mv__crypt_load(c, NULL) == MV_OK)
      rc = unwrap_loaded(c, key_id, ad, ad_len, wrapped, out);
    if (rc == MV_ENOTFOUND)
      rc = MV_ECONFIG;
  }
  if (rc != MV_OK)
    sodium_memzero(out, 32);
  return rc;
}

/* ---- Bodies ---------------------------------------------------------------- */

static size_t body_ad(const char *type, const char *id, int64_t version,
                      uint8_t *ad, size_t cap) {
  int n = snprintf((char *)ad, cap, "mv-body|1|%s|%s|%lld", type, id,
                   (long long)version);
  return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

void mv__crypt_seal(const uint8_t key[32], const char *type, const char *id,
                    int64_t version, const char *body, size_t len,
                    uint8_t *out) {
  uint8_t ad[AD_MAX];
  size_t ad_len = body_ad(type, id, version, ad, sizeof(ad));
  out[0] = BODY_FORMAT_V1;
  randombytes_buf(out + 1, AEAD_NPUB);
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + AEAD_NPUB, NULL,
                                             (const uint8_t *)body, len, ad,
                                             ad_len, NULL, out + 1, key);
}

int mv__crypt_open(const uint8_t key[32], const char *type, const char *id,
                   int64_t version, const uint8_t *blob, size_t blob_len,
                   char **out_body, size_t *out_len) {
  uint8_t ad[AD_MAX];
  if (blob_len < MV__BODY_OVERHEAD || blob[0] != BODY_FORMAT_V1)
    return MV_ECORRUPT;
  size_t ad_len = body_ad(type, id, version, ad, sizeof(ad));
  size_t len = blob_len - MV__BODY_OVERHEAD;
  char *body = malloc(len + 1);
  if (!body)
    return MV_ENOMEM;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          (uint8_t *)body, NULL, NULL, blob + 1 + AEAD_NPUB,
          blob_len - 1 - AEAD_NPUB, ad, ad_len, blob + 1, key) != 0) {
    free(body);
    return MV_ECORRUPT;
  }
  body[len] = '\0';
  *out_body = body;
  *out_len = len;
  return MV_OK;
}

/* ---- Root key: subkeys and the blind index --------------------------------- */

void mv__crypt_set_root(struct mv__crypt *c, const uint8_t root[32]) {
  memcpy(c->root, root, 32);
  crypto_kdf_derive_from_key(c->blind, 32, BLIND_SUBKEY_ID, BLIND_CTX, c->root);
  c->have_root = true;
}

int mv__crypt_derive(struct mv__crypt *c, uint64_t subkey_id,
                     const char ctx8[8], uint8_t out[32]) {
  if (!c->have_root)
    return MV_ECONFIG;
  /* The blind index key is ours alone. */
  if (subkey_id == BLIND_SUBKEY_ID && memcmp(ctx8, BLIND_CTX, 8) == 0)
    return MV_EINVAL;
  return crypto_kdf_derive_from_key(out, 32, subkey_id, ctx8, c->root) == 0
             ? MV_OK
             : MV_ECRYPTO;
}

void mv__crypt_blind(const struct mv__crypt *c, const char *type,
                     const char *param, const char *prefix, size_t len,
                     uint8_t out[MV__BLIND_LEN]) {
  crypto_generichash_state st;
  static const uint8_t sep = 0;
  crypto_generichash_init(&st, c->blind, 32, MV__BLIND_LEN);
  crypto_generichash_update(&st, (const uint8_t *)type, strlen(type));
  crypto_generichash_update(&st, &sep, 1);
  crypto_generichash_update(&st, (const uint8_t *)param, strlen(param));
  crypto_generichash_update(&st, &sep, 1);
  crypto_generichash_update(&st, (const uint8_t *)prefix, len);
  crypto_generichash_final(&st, out, MV__BLIND_LEN);
  sodium_memzero(&st, sizeof(st));
}

size_t mv__utf8_prefix_len(const char *s, size_t len, size_t chars) {
  size_t i = 0;
  for (size_t k = 0; k < chars && i < len; k++) {
    i++; /* the lead byte, then its continuation bytes */
    while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
      i++;
  }
  return i;
}

/* ---- The patient key cache ------------------------------------------------ */

static size_t hash_pid(const char *pid, size_t nbuckets) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)pid; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return (size_t)(h & (nbuckets - 1));
}

static int32_t find(struct mv__crypt *c, const char *pid, size_t b) {
  for (int32_t i = c->buckets[b]; i >= 0; i = c->entries[i].hnext)
    if (strcmp(c->entries[i].pid, pid) == 0)
      return i;
  return -1;
}

static void lru_unlink(struct mv__crypt *c, int32_t i) {
  struct entry *e = &c->entries[i];
  if (e->prev >= 0)
    c->entries[e->prev].next = e->next;
  else
    c->lru_head = e->next;
  if (e->next >= 0)
    c->entries[e->next].prev = e->prev;
  else
    c->lru_tail = e->prev;
}

static void lru_push_front(struct mv__crypt *c, int32_t i) {
  struct entry *e = &c->entries[i];
  e->prev = -1;
  e->next = c->lru_head;
  if (c->lru_head >= 0)
    c->entries[c->lru_head].prev = i;
  c->lru_head = i;
  if (c->lru_tail < 0)
    c->lru_tail = i;
}

/* Remove entry i (bucket b) from the cache, wipe its key, free its slot. */
static void evict(struct mv__crypt *c, int32_t i, size_t b) {
  int32_t *link = &c->buckets[b];
  while (*link != i)
    link = &c->entries[*link].hnext;
  *link = c->entries[i].hnext;
  lru_unlink(c, i);
  sodium_memzero(c->keys + (size_t)i * 32, 32);
  memset(&c->entries[i], 0, sizeof(c->entries[i]));
  c->entries[i].next = c->free_head;
  c->free_head = i;
}

bool mv__crypt_cache_get(struct mv__crypt *c, const char *pid, uint8_t out[32],
                         uint64_t *out_epoch) {
  size_t b = hash_pid(pid, c->nbuckets);
  pthread_mutex_lock(&c->mu);
  int32_t i = find(c, pid, b);
  if (i >= 0) {
    memcpy(out, c->keys + (size_t)i * 32, 32);
    lru_unlink(c, i);
    lru_push_front(c, i);
  }
  *out_epoch = c->epoch;
  pthread_mutex_unlock(&c->mu);
  return i >= 0;
}

void mv__crypt_cache_put(struct mv__crypt *c, const char *pid,
                         const uint8_t key[32], uint64_t epoch) {
  size_t len = strnlen(pid, sizeof(c->entries[0].pid));
  if (len >= sizeof(c->entries[0].pid))
    return;
  size_t b = hash_pid(pid, c->nbuckets);
  pthread_mutex_lock(&c->mu);
  int32_t i = find(c, pid, b);
  if (epoch == MV__CACHE_FORCE && i >= 0) {
    memcpy(c->keys + (size_t)i * 32, key, 32);
  } else if (i < 0 && (epoch == MV__CACHE_FORCE || epoch == c->epoch)) {
    /* (A key destroyed since a reader looked must not come back.) */
    if (c->free_head < 0) {
      int32_t victim = c->lru_tail;
      evict(c, victim, hash_pid(c->entries[victim].pid, c->nbuckets));
    }
    i = c->free_head;
    c->free_head = c->entries[i].next;
    struct entry *e = &c->entries[i];
    memcpy(e->pid, pid, len + 1);
    e->used = true;
    memcpy(c->keys + (size_t)i * 32, key, 32);
    e->hnext = c->buckets[b];
    c->buckets[b] = i;
    lru_push_front(c, i);
  }
  pthread_mutex_unlock(&c->mu);
}

void mv__crypt_cache_drop(struct mv__crypt *c, const char *pid) {
  size_t b = hash_pid(pid, c->nbuckets);
  pthread_mutex_lock(&c->mu);
  int32_t i = find(c, pid, b);
  if (i >= 0)
    evict(c, i, b);
  c->epoch++;
  pthread_mutex_unlock(&c->mu);
}

size_t mv__crypt_cache_size(struct mv__crypt *c) {
  size_t n = 0;
  pthread_mutex_lock(&c->mu);
  for (int32_t i = c->lru_head; i >= 0; i = c->entries[i].next)
    n++;
  pthread_mutex_unlock(&c->mu);
  return n;
}
