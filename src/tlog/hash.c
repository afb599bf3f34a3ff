/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Merkle tree hashing and proofs of RFC 6962 / RFC 9162 §2.1: leaf and node
 * hashes, proof generation over any store of complete-subtree hashes, and
 * the verifiers of §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) with the
 * length and range checks of transparency-dev/merkle (proof/verify.go), so
 * that a malformed proof is refused before any hashing. Pure functions.
 */
#include <string.h>

#include <sodium.h>

#include "tlog_int.h"

void mv_tlog_hash_leaf(const void *data, size_t len,
                       uint8_t out[MV_TLOG_HASH_LEN]) {
  crypto_hash_sha256_state st;
  const uint8_t prefix = 0x00;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, &prefix, 1);
  if (len)
    crypto_hash_sha256_update(&st, data, len);
  crypto_hash_sha256_final(&st, out);
}

void mv_tlog_hash_node(const uint8_t left[MV_TLOG_HASH_LEN],
                       const uint8_t right[MV_TLOG_HASH_LEN],
                       uint8_t out[MV_TLOG_HASH_LEN]) {
  uint8_t buf[1 + 2 * MV_TLOG_HASH_LEN];
  buf[0] = 0x01;
  memcpy(buf + 1, left, MV_TLOG_HASH_LEN);
  memcpy(buf + 1 + MV_TLOG_HASH_LEN, right, MV_TLOG_HASH_LEN);
  crypto_hash_sha256(out, buf, sizeof(buf));
}

void mv_tlog_hash_empty(uint8_t out[MV_TLOG_HASH_LEN]) {
  crypto_hash_sha256(out, (const uint8_t *)"", 0);
}

bool mv_tlog_hash_eq(const uint8_t a[MV_TLOG_HASH_LEN],
                     const uint8_t b[MV_TLOG_HASH_LEN]) {
  return sodium_memcmp(a, b, MV_TLOG_HASH_LEN) == 0;
}

int mv__tlog_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
                        size_t *out_len) {
  size_t n = 0;
  const char *end = NULL;
  if (len % 4 != 0)
    return MV_EPARSE;
  if (len / 4 * 3 > cap + 2)
    return MV_ETOOBIG;
  if (sodium_base642bin(out, cap, in, len, NULL, &n, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != in + len)
    return len / 4 * 3 > cap ? MV_ETOOBIG : MV_EPARSE;
  /* libsodium accepts non-zero padding bits; canonical form requires
   * re-encoding to the same text (no alternative spellings of one key). */
  char chk[1024];
  if (len >= sizeof(chk))
    return MV_ETOOBIG; /* nothing the log parses is this long */
  mv__tlog_b64_encode(out, n, chk, sizeof(chk));
  if (strlen(chk) != len || memcmp(chk, in, len) != 0)
    return MV_EPARSE;
  *out_len = n;
  return MV_OK;
}

void mv__tlog_b64_encode(const uint8_t *in, size_t len, char *out,
                         size_t out_cap) {
  sodium_bin2base64(out, out_cap, in, len, sodium_base64_VARIANT_ORIGINAL);
}

void mv_tlog_hash_to_b64(const uint8_t h[MV_TLOG_HASH_LEN], char out[45]) {
  mv__tlog_b64_encode(h, MV_TLOG_HASH_LEN, out, 45);
}

int mv_tlog_hash_from_b64(const char *b64, size_t len,
                          uint8_t out[MV_TLOG_HASH_LEN]) {
  uint8_t tmp[48];
  size_t n = 0;
  if (!b64)
    return MV_EINVAL;
  int rc = mv__tlog_b64_decode(b64, len, tmp, sizeof(tmp), &n);
  if (rc == MV_ETOOBIG)
    return MV_EINVAL;
  if (rc != MV_OK)
    return rc;
  if (n != MV_TLOG_HASH_LEN)
    return MV_EINVAL;
  memcpy(out, tmp, MV_TLOG_HASH_LEN);
  return MV_OK;
}

int mv_tlog_proof_push_b64(struct mv_tlog_proof *p, const char *b64,
                           size_t len) {
  uint8_t h[MV_TLOG_HASH_LEN];
  if (p->n >= MV_TLOG_PROOF_MAX)
    return MV_ETOOBIG;
  int rc = mv_tlog_hash_from_b64(b64, len, h);
  if (rc != MV_OK)
    return rc;
  memcpy(p->hash[p->n++], h, MV_TLOG_HASH_LEN);
  return MV_OK;
}

/* ---- proof shapes (transparency-dev/merkle proof.go decompInclProof) ---- */

static unsigned bit_len(uint64_t x) {
  return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

/* inner: levels where the path is inside the tree; border: levels where
 * it runs along the tree's right border. */
static void decomp(uint64_t index, uint64_t size, unsigned *inner,
                   unsigned *border) {
  *inner = bit_len(index ^ (size - 1));
  *border = *inner < 64 ? (unsigned)__builtin_popcountll(index >> *inner) : 0;
}

size_t mv_tlog_inclusion_proof_len(uint64_t index, uint64_t size) {
  unsigned inner, border;
  if (index >= size)
    return 0;
  decomp(index, size, &inner, &border);
  return inner + border;
}

size_t mv_tlog_consistency_proof_len(uint64_t size1, uint64_t size2) {
  unsigned inner, border;
  if (size1 == 0 || size1 >= size2)
    return 0;
  decomp(size1 - 1, size2, &inner, &border);
  unsigned shift = (unsigned)__builtin_ctzll(size1);
  size_t n = inner - shift + border;
  return (size1 == (1ull << shift)) ? n : n + 1;
}

/* ---- verification --------------------------------------------------------- */

/* RFC 9162 §2.1.3.2 steps 3-5, from hash r at position fn of sn. */
static int fold_inclusion(uint64_t fn, uint64_t sn, const uint8_t *start,
                          const struct mv_tlog_proof *proof, size_t from,
                          uint8_t out[MV_TLOG_HASH_LEN]) {
  uint8_t r[MV_TLOG_HASH_LEN];
  memcpy(r, start, MV_TLOG_HASH_LEN);
  for (size_t i = from; i < proof->n; i++) {
    const uint8_t *p = proof->hash[i];
    if (sn == 0)
      return MV_EINVAL;
    if ((fn & 1) || fn == sn) {
      mv_tlog_hash_node(p, r, r);
      if (!(fn & 1))
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      mv_tlog_hash_node(r, p, r);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0)
    return MV_EINVAL;
  memcpy(out, r, MV_TLOG_HASH_LEN);
  return MV_OK;
}

int mv_tlog_verify_inclusion(uint64_t index, uint64_t size,
                             const uint8_t *leaf_hash, size_t leaf_hash_len,
                             const struct mv_tlog_proof *proof,
                             const uint8_t *root, size_t root_len,
                             struct mv_diag *diag) {
  uint8_t got[MV_TLOG_HASH_LEN];
  if (!leaf_hash || leaf_hash_len != MV_TLOG_HASH_LEN)
    return mv_diag_set(diag, MV_EINVAL, "leaf hash is not 32 bytes");
  if (!root || root_len != MV_TLOG_HASH_LEN)
    return mv_diag_set(diag, MV_EINVAL, "root hash is not 32 bytes");
  if (!proof)
    return mv_diag_set(diag, MV_EINVAL, "no proof");
  if (index >= size)
    return mv_diag_set(diag, MV_EINVAL,
                       "index %llu is not below tree size %llu",
                       (unsigned long long)index, (unsigned long long)size);
  size_t want = mv_tlog_inclusion_proof_len(index, size);
  if (proof->n != want)
    return mv_diag_set(diag, MV_EINVAL,
                       "inclusion proof has %zu hashes, expected %zu", proof->n,
                       want);
  if (fold_inclusion(index, size - 1, leaf_hash, proof, 0, got) != MV_OK)
    return mv_diag_set(diag, MV_EINVAL, "inclusion proof has a wrong shape");
  if (!mv_tlog_hash_eq(got, root))
    return mv_diag_set(diag, MV_EINVALID,
                       "inclusion proof does not lead to the root");
  return MV_OK;
}

/* RFC 9162 §2.1.4.2: recompute (root1, root2) from the proof. */
static int consistency_roots(uint64_t size1, uint64_t size2,
                             const uint8_t *root1,
                             const struct mv_tlog_proof *proof,
                             uint8_t r1[MV_TLOG_HASH_LEN],
                             uint8_t r2[MV_TLOG_HASH_LEN],
                             struct mv_diag *diag) {
  size_t want = mv_tlog_consistency_proof_len(size1, size2);
  if (proof->n != want)
    return mv_diag_set(diag, MV_EINVAL,
                       "consistency proof has %zu hashes, expected %zu",
                       proof->n, want);
  uint64_t fn = size1 - 1, sn = size2 - 1;
  const uint8_t *seed;
  size_t start;
  if ((size1 & (size1 - 1)) == 0) { /* power of two: root1 is the seed */
    seed = root1;
    start = 0;
  } else {
    seed = proof->hash[0];
    start = 1;
  }
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  uint8_t fr[MV_TLOG_HASH_LEN], sr[MV_TLOG_HASH_LEN];
  memcpy(fr, seed, MV_TLOG_HASH_LEN);
  memcpy(sr, seed, MV_TLOG_HASH_LEN);
  for (size_t i = start; i < proof->n; i++) {
    const uint8_t *c = proof->hash[i];
    if (sn == 0)
      return mv_diag_set(diag, MV_EINVAL,
                         "consistency proof has a wrong shape");
    if ((fn & 1) || fn == sn) {
      mv_tlog_hash_node(c, fr, fr);
      mv_tlog_hash_node(c, sr, sr);
      if (!(fn & 1))
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      mv_tlog_hash_node(sr, c, sr);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0)
    return mv_diag_set(diag, MV_EINVAL, "consistency proof has a wrong shape");
  memcpy(r1, fr, MV_TLOG_HASH_LEN);
  memcpy(r2, sr, MV_TLOG_HASH_LEN);
  return MV_OK;
}

static int check_pair(uint64_t size1, uint64_t size2, const uint8_t *root1,
                      size_t root1_len, const struct mv_tlog_proof *proof,
                      struct mv_diag *diag) {
  if (!root1 && root1_len)
    return mv_diag_set(diag, MV_EINVAL, "no root1");
  if (!proof)
    return mv_diag_set(diag, MV_EINVAL, "no proof");
  if (size1 == 0)
    return mv_diag_set(diag, MV_EINVAL, "consistency proof from size 0");
  if (size1 > size2)
    return mv_diag_set(diag, MV_EINVAL, "size1 %llu is above size2 %llu",
                       (unsigned long long)size1, (unsigned long long)size2);
  return MV_OK;
}

int mv_tlog_verify_consistency(uint64_t size1, uint64_t size2,
                               const uint8_t *root1, size_t root1_len,
                               const uint8_t *root2, size_t root2_len,
                               const struct mv_tlog_proof *proof,
                               struct mv_diag *diag) {
  int rc = check_pair(size1, size2, root1, root1_len, proof, diag);
  if (rc != MV_OK)
    return rc;
  if (!root2 && root2_len)
    return mv_diag_set(diag, MV_EINVAL, "no root2");
  if (size1 == size2) {
    /* Compared as given, whatever their length (transparency-dev). */
    if (proof->n != 0)
      return mv_diag_set(diag, MV_EINVAL,
                         "equal sizes need an empty consistency proof");
    if (root1_len != root2_len ||
        (root1_len && sodium_memcmp(root1, root2, root1_len) != 0))
      return mv_diag_set(diag, MV_EINVALID, "equal sizes, different roots");
    return MV_OK;
  }
  if (root1_len != MV_TLOG_HASH_LEN || root2_len != MV_TLOG_HASH_LEN)
    return mv_diag_set(diag, MV_EINVAL, "a root hash is not 32 bytes");
  uint8_t r1[MV_TLOG_HASH_LEN], r2[MV_TLOG_HASH_LEN];
  rc = consistency_roots(size1, size2, root1, proof, r1, r2, diag);
  if (rc != MV_OK)
    return rc;
  if (!mv_tlog_hash_eq(r1, root1))
    return mv_diag_set(diag, MV_EINVALID,
                       "consistency proof does not lead to root1");
  if (!mv_tlog_hash_eq(r2, root2))
    return mv_diag_set(diag, MV_EINVALID,
                       "consistency proof does not lead to root2");
  return MV_OK;
}

int mv_tlog_consistency_root(uint64_t size1, uint64_t size2,
                             const uint8_t *root1, size_t root1_len,
                             const struct mv_tlog_proof *proof,
                             uint8_t out_root2[MV_TLOG_HASH_LEN],
                             struct mv_diag *diag) {
  int rc = check_pair(size1, size2, root1, root1_len, proof, diag);
  if (rc != MV_OK)
    return rc;
  if (root1_len != MV_TLOG_HASH_LEN)
    return mv_diag_set(diag, MV_EINVAL, "root1 is not 32 bytes");
  if (size1 == size2) {
    if (proof->n != 0)
      return mv_diag_set(diag, MV_EINVAL,
                         "equal sizes need an empty consistency proof");
    memcpy(out_root2, root1, MV_TLOG_HASH_LEN);
    return MV_OK;
  }
  uint8_t r1[MV_TLOG_HASH_LEN], r2[MV_TLOG_HASH_LEN];
  rc = consistency_roots(size1, size2, root1, proof, r1, r2, diag);
  if (rc != MV_OK)
    return rc;
  if (!mv_tlog_hash_eq(r1, root1))
    return mv_diag_set(diag, MV_EINVALID,
                       "consistency proof does not lead to root1");
  memcpy(out_root2, r2, MV_TLOG_HASH_LEN);
  return MV_OK;
}

/* ---- generation over stored complete subtrees ----------------------------- */

/* Largest power of two strictly below n (n >= 2): RFC 9162's k. */
static uint64_t split_point(uint64_t n) {
  return 1ull << (bit_len(n - 1) - 1);
}

int mv__tlog_range_hash(mv__tlog_node_fn get, void *ctx, uint64_t a, uint64_t b,
                        uint8_t out[MV_TLOG_HASH_LEN]) {
  /* b - a decomposes into complete subtrees of decreasing size starting
   * at a; MTH folds them from the right. */
  uint8_t acc[MV_TLOG_HASH_LEN], h[MV_TLOG_HASH_LEN];
  uint64_t n = b - a;
  if (n == 0) {
    mv_tlog_hash_empty(out);
    return MV_OK;
  }
  unsigned lowest = (unsigned)__builtin_ctzll(n);
  uint64_t pos = b - (1ull << lowest);
  int rc = get(ctx, lowest, pos >> lowest, acc);
  if (rc != MV_OK)
    return rc;
  uint64_t rest = n & ~(1ull << lowest);
  while (rest) {
    unsigned l = (unsigned)__builtin_ctzll(rest);
    pos -= 1ull << l;
    rc = get(ctx, l, pos >> l, h);
    if (rc != MV_OK)
      return rc;
    mv_tlog_hash_node(h, acc, acc);
    rest &= ~(1ull << l);
  }
  memcpy(out, acc, MV_TLOG_HASH_LEN);
  return MV_OK;
}

/* The range hash through the source's shortcut when it has one. */
static int range_of(mv__tlog_node_fn get, mv__tlog_range_fn range, void *ctx,
                    uint64_t a, uint64_t b, uint8_t out[MV_TLOG_HASH_LEN]) {
  if (range && range(ctx, a, b, out))
    return MV_OK;
  return mv__tlog_range_hash(get, ctx, a, b, out);
}

int mv__tlog_gen_inclusion(mv__tlog_node_fn get, mv__tlog_range_fn range,
                           void *ctx, uint64_t index, uint64_t size,
                           struct mv_tlog_proof *out) {
  /* Walk PATH(m, D[a:b]) down from the root; the siblings come out
   * root-first and the proof lists them leaf-first. */
  uint8_t sib[64][MV_TLOG_HASH_LEN];
  size_t ns = 0;
  uint64_t a = 0, b = size, m = index;
  if (index >= size)
    return MV_EINVAL;
  while (b - a > 1) {
    uint64_t k = split_point(b - a);
    int rc;
    if (m < k) {
      rc = range_of(get, range, ctx, a + k, b, sib[ns]);
      b = a + k;
    } else {
      rc = range_of(get, range, ctx, a, a + k, sib[ns]);
      a += k;
      m -= k;
    }
    if (rc != MV_OK)
      return rc;
    ns++;
  }
  out->n = ns;
  for (size_t i = 0; i < ns; i++)
    memcpy(out->hash[i], sib[ns - 1 - i], MV_TLOG_HASH_LEN);
  return MV_OK;
}

int mv__tlog_gen_consistency(mv__tlog_node_fn get, mv__tlog_range_fn range,
                             void *ctx, uint64_t size1, uint64_t size2,
                             struct mv_tlog_proof *out) {
  /* SUBPROOF(m, D[a:b], flag) of RFC 9162 §2.1.4.1, iteratively. */
  uint8_t sib[MV_TLOG_PROOF_MAX][MV_TLOG_HASH_LEN];
  size_t ns = 0;
  uint64_t a = 0, b = size2, m = size1;
  bool flag = true;
  int rc;
  if (size1 == 0 || size1 > size2)
    return MV_EINVAL;
  while (m != b - a) {
    uint64_t k = split_point(b - a);
    if (ns + 1 >= MV_TLOG_PROOF_MAX)
      return MV_EINTERNAL;
    if (m <= k) {
      rc = range_of(get, range, ctx, a + k, b, sib[ns]);
      b = a + k;
    } else {
      rc = range_of(get, range, ctx, a, a + k, sib[ns]);
      a += k;
      m -= k;
      flag = false;
    }
    if (rc != MV_OK)
      return rc;
    ns++;
  }
  size_t n = 0;
  if (!flag) {
    rc = range_of(get, range, ctx, a, b, out->hash[n]);
    if (rc != MV_OK)
      return rc;
    n++;
  }
  for (size_t i = 0; i < ns; i++)
    memcpy(out->hash[n++], sib[ns - 1 - i], MV_TLOG_HASH_LEN);
  out->n = n;
  return MV_OK;
}

/* ---- in-memory trees ------------------------------------------------------ */

struct mem_ctx {
  const uint8_t (*leaves)[MV_TLOG_HASH_LEN];
};

static void mem_subtree(const uint8_t (*leaves)[MV_TLOG_HASH_LEN], uint64_t a,
                        unsigned level, uint8_t out[MV_TLOG_HASH_LEN]) {
  if (level == 0) {
    memcpy(out, leaves[a], MV_TLOG_HASH_LEN);
    return;
  }
  uint8_t l[MV_TLOG_HASH_LEN], r[MV_TLOG_HASH_LEN];
  mem_subtree(leaves, a, level - 1, l);
  mem_subtree(leaves, a + (1ull << (level - 1)), level - 1, r);
  mv_tlog_hash_node(l, r, out);
}

static int mem_get(void *ctx, unsigned level, uint64_t index,
                   uint8_t out[MV_TLOG_HASH_LEN]) {
  const struct mem_ctx *m = ctx;
  mem_subtree(m->leaves, index << level, level, out);
  return MV_OK;
}

int mv_tlog_mem_root(const uint8_t (*leaves)[MV_TLOG_HASH_LEN], uint64_t size,
                     uint8_t out[MV_TLOG_HASH_LEN]) {
  struct mem_ctx m = {leaves};
  if (size && !leaves)
    return MV_EINVAL;
  return mv__tlog_range_hash(mem_get, &m, 0, size, out);
}

int mv_tlog_mem_inclusion_proof(const uint8_t (*leaves)[MV_TLOG_HASH_LEN],
                                uint64_t index, uint64_t size,
                                struct mv_tlog_proof *out) {
  struct mem_ctx m = {leaves};
  if (!leaves || !out)
    return MV_EINVAL;
  return mv__tlog_gen_inclusion(mem_get, NULL, &m, index, size, out);
}

int mv_tlog_mem_consistency_proof(const uint8_t (*leaves)[MV_TLOG_HASH_LEN],
                                  uint64_t size1, uint64_t size2,
                                  struct mv_tlog_proof *out) {
  struct mem_ctx m = {leaves};
  if (!leaves || !out)
    return MV_EINVAL;
  return mv__tlog_gen_consistency(mem_get, NULL, &m, size1, size2, out);
}

/* ---- building the right edge leaf by leaf ------------------------------- */

int mv__tlog_frontier_push(struct mv__tlog_frontier *f,
                           const uint8_t leaf[MV_TLOG_HASH_LEN],
                           mv__tlog_emit_fn emit, void *ctx) {
  /* Leaf i closes one complete subtree per trailing one bit of i; each
   * pairs the newest node of its level with the node just made. */
  uint8_t h[MV_TLOG_HASH_LEN], left[MV_TLOG_HASH_LEN];
  memcpy(h, leaf, MV_TLOG_HASH_LEN);
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++) {
    uint64_t idx = f->count[l];
    int rc = emit(ctx, l, idx, h);
    if (rc != MV_OK)
      return rc;
    memcpy(left, f->last[l], MV_TLOG_HASH_LEN);
    memcpy(f->last[l], h, MV_TLOG_HASH_LEN);
    f->count[l] = idx + 1;
    if (!(idx & 1))
      break;
    mv_tlog_hash_node(left, h, h);
  }
  return MV_OK;
}

int mv__tlog_frontier_load(struct mv__tlog_frontier *f, uint64_t n,
                           mv__tlog_node_fn get, void *ctx) {
  memset(f, 0, sizeof(*f));
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++) {
    f->count[l] = n >> l;
    if (f->count[l] == 0)
      break;
    int rc = get(ctx, l, f->count[l] - 1, f->last[l]);
    if (rc != MV_OK)
      return rc;
  }
  return MV_OK;
}
