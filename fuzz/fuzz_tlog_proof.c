/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the Merkle proof verifiers (mv_tlog.h). Mode 0/1
 * takes a genuine inclusion/consistency proof of a known 45-leaf tree and
 * mutates its bytes and length as the input says: the verifier must accept
 * only the unmutated proof. Mode 2 feeds arbitrary sizes, hashes and
 * proofs: it must never crash, and an accepted consistency proof must also
 * pass mv_tlog_consistency_root with the same root2.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LEAVES 45

static uint8_t g_leaves[LEAVES][32];
static uint8_t g_roots[LEAVES + 1][32];
static bool g_init;

static void init(void) {
  if (g_init)
    return;
  for (int i = 0; i < LEAVES; i++) {
    uint8_t d[3] = {(uint8_t)i, 0x5a, (uint8_t)(i * 3)};
    mv_tlog_hash_leaf(d, sizeof(d), g_leaves[i]);
  }
  for (int s = 0; s <= LEAVES; s++)
    if (mv_tlog_mem_root(g_leaves, (uint64_t)s, g_roots[s]) != MV_OK)
      abort();
  g_init = true;
}

/* Apply the input's mutations: a length delta, then (position, xor) pairs. */
static void mutate(struct mv_tlog_proof *q, const uint8_t *in, size_t n) {
  if (n == 0)
    return;
  int delta = (int)(in[0] % 5) - 2;
  long len = (long)q->n + delta;
  if (len < 0)
    len = 0;
  if (len > (long)MV_TLOG_PROOF_MAX)
    len = MV_TLOG_PROOF_MAX;
  for (size_t k = q->n; k < (size_t)len; k++)
    memset(q->hash[k], (int)k, 32);
  q->n = (size_t)len;
  for (size_t k = 1; k + 1 < n && q->n; k += 2) {
    size_t pos = in[k] % (q->n * 32);
    q->hash[pos / 32][pos % 32] ^= in[k + 1];
  }
}

static bool same(const struct mv_tlog_proof *a, const struct mv_tlog_proof *b) {
  return a->n == b->n && memcmp(a->hash, b->hash, 32 * a->n) == 0;
}

static uint64_t u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mv_tlog_proof p, q;
  init();
  if (size < 3)
    return 0;
  switch (data[0] % 3) {
  case 0: {
    uint64_t s = 1 + data[1] % LEAVES, i = data[2] % s;
    if (mv_tlog_mem_inclusion_proof(g_leaves, i, s, &p) != MV_OK ||
        mv_tlog_verify_inclusion(i, s, g_leaves[i], 32, &p, g_roots[s], 32,
                                 NULL) != MV_OK)
      abort();
    q = p;
    mutate(&q, data + 3, size - 3);
    if (mv_tlog_verify_inclusion(i, s, g_leaves[i], 32, &q, g_roots[s], 32,
                                 NULL) == MV_OK &&
        !same(&p, &q))
      abort();
    break;
  }
  case 1: {
    uint64_t s2 = 1 + data[1] % LEAVES, s1 = 1 + data[2] % s2;
    if (mv_tlog_mem_consistency_proof(g_leaves, s1, s2, &p) != MV_OK ||
        mv_tlog_verify_consistency(s1, s2, g_roots[s1], 32, g_roots[s2], 32, &p,
                                   NULL) != MV_OK)
      abort();
    q = p;
    mutate(&q, data + 3, size - 3);
    if (mv_tlog_verify_consistency(s1, s2, g_roots[s1], 32, g_roots[s2], 32, &q,
                                   NULL) == MV_OK &&
        !same(&p, &q))
      abort();
    break;
  }
  default: {
    if (size < 1 + 16 + 64)
      return 0;
    uint64_t a = u64(data + 1), b = u64(data + 9);
    const uint8_t *h1 = data + 17, *h2 = data + 49;
    size_t rest = size - 81;
    memset(&q, 0, sizeof(q));
    q.n = rest / 32 < MV_TLOG_PROOF_MAX ? rest / 32 : MV_TLOG_PROOF_MAX;
    memcpy(q.hash, data + 81, q.n * 32);
    int r1 = mv_tlog_verify_inclusion(a, b, h1, 32, &q, h2, 32, NULL);
    int r2r =
        mv_tlog_verify_inclusion(a, b, h1, data[0] % 40, &q, h2, 32, NULL);
    /* a leaf hash of another length never verifies */
    if (data[0] % 40 != 32 && r2r == MV_OK)
      abort();
    if (r1 != MV_OK && r1 != MV_EINVAL && r1 != MV_EINVALID)
      abort();
    uint8_t r2[32];
    if (mv_tlog_verify_consistency(a, b, h1, 32, h2, 32, &q, NULL) == MV_OK &&
        (mv_tlog_consistency_root(a, b, h1, 32, &q, r2, NULL) != MV_OK ||
         memcmp(r2, h2, 32) != 0))
      abort();
    (void)mv_tlog_inclusion_proof_len(a, b);
    (void)mv_tlog_consistency_proof_len(a, b);
    break;
  }
  }
  return 0;
}
