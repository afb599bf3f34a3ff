/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proof generation and verification over in-memory trees: every inclusion
 * and consistency proof for trees up to 70 leaves verifies, has the length
 * the shape functions predict, and stops verifying when any bit, the
 * index, a root or the length is changed. (A proof for size n may also
 * verify for another size with the same path shape: the size is bound by
 * the signed checkpoint, not by the proof.) Also checks the roots against a direct
 * recursive RFC 9162 §2.1.1 MTH written here independently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mv_tlog.h"

#define N 70

static uint8_t leaves[N][32];

static int setup(void **state) {
  (void)state;
  for (int i = 0; i < N; i++) {
    uint8_t d[4] = {(uint8_t)i, 0xab, (uint8_t)(i * 7), 0x01};
    mv_tlog_hash_leaf(d, sizeof(d), leaves[i]);
  }
  return 0;
}

/* MTH straight from RFC 9162 §2.1.1 (recursive, no shortcuts). */
static void mth(uint64_t a, uint64_t n, uint8_t out[32]) {
  if (n == 0) {
    mv_tlog_hash_empty(out);
    return;
  }
  if (n == 1) {
    memcpy(out, leaves[a], 32);
    return;
  }
  uint64_t k = 1;
  while (k * 2 < n)
    k *= 2;
  uint8_t l[32], r[32];
  mth(a, k, l);
  mth(a + k, n - k, r);
  mv_tlog_hash_node(l, r, out);
}

static void tlog_mem_root_equals_recursive_mth(void **state) {
  (void)state;
  for (uint64_t n = 0; n <= N; n++) {
    uint8_t a[32], b[32];
    mth(0, n, a);
    assert_int_equal(mv_tlog_mem_root(leaves, n, b), MV_OK);
    assert_memory_equal(a, b, 32);
  }
}

static void tlog_inclusion_proofs_verify_and_mutations_fail(void **state) {
  (void)state;
  for (uint64_t n = 1; n <= N; n++) {
    uint8_t root[32];
    mth(0, n, root);
    for (uint64_t i = 0; i < n; i++) {
      struct mv_tlog_proof p, q;
      assert_int_equal(mv_tlog_mem_inclusion_proof(leaves, i, n, &p), MV_OK);
      assert_int_equal(p.n, mv_tlog_inclusion_proof_len(i, n));
      assert_int_equal(
          mv_tlog_verify_inclusion(i, n, leaves[i], 32, &p, root, 32, NULL),
          MV_OK);
      /* wrong leaf, index, size */
      assert_int_not_equal(mv_tlog_verify_inclusion(i, n, leaves[(i + 1) % N],
                                                    32, &p, root, 32, NULL),
                           MV_OK);
      if (n > 1)
        assert_int_not_equal(mv_tlog_verify_inclusion((i + 1) % n, n, leaves[i],
                                                      32, &p, root, 32, NULL),
                             MV_OK);
      assert_int_not_equal(
          mv_tlog_verify_inclusion(i, n, leaves[i], 31, &p, root, 32, NULL),
          MV_OK);
      /* every bit flip of every element */
      for (size_t e = 0; e < p.n; e++)
        for (int bit = 0; bit < 256; bit += 37) {
          q = p;
          q.hash[e][bit / 8] ^= (uint8_t)(1u << (bit % 8));
          assert_int_equal(
              mv_tlog_verify_inclusion(i, n, leaves[i], 32, &q, root, 32, NULL),
              MV_EINVALID);
        }
      /* one element more or fewer */
      q = p;
      q.n++;
      assert_int_equal(
          mv_tlog_verify_inclusion(i, n, leaves[i], 32, &q, root, 32, NULL),
          MV_EINVAL);
      if (p.n) {
        q = p;
        q.n--;
        assert_int_equal(
            mv_tlog_verify_inclusion(i, n, leaves[i], 32, &q, root, 32, NULL),
            MV_EINVAL);
      }
    }
  }
}

static void tlog_consistency_proofs_verify_and_mutations_fail(void **state) {
  (void)state;
  for (uint64_t n2 = 1; n2 <= N; n2++) {
    uint8_t r2[32];
    mth(0, n2, r2);
    for (uint64_t n1 = 1; n1 <= n2; n1++) {
      uint8_t r1[32], got[32];
      struct mv_tlog_proof p, q;
      mth(0, n1, r1);
      assert_int_equal(mv_tlog_mem_consistency_proof(leaves, n1, n2, &p),
                       MV_OK);
      assert_int_equal(p.n, mv_tlog_consistency_proof_len(n1, n2));
      assert_int_equal(
          mv_tlog_verify_consistency(n1, n2, r1, 32, r2, 32, &p, NULL), MV_OK);
      assert_int_equal(mv_tlog_consistency_root(n1, n2, r1, 32, &p, got, NULL),
                       MV_OK);
      assert_memory_equal(got, r2, 32);
      if (n1 == n2)
        continue;
      uint8_t bad[32];
      memcpy(bad, r2, 32);
      bad[5] ^= 0x10;
      assert_int_equal(
          mv_tlog_verify_consistency(n1, n2, r1, 32, bad, 32, &p, NULL),
          MV_EINVALID);
      assert_int_not_equal(
          mv_tlog_verify_consistency(n1, n2, bad, 32, r2, 32, &p, NULL), MV_OK);
      for (size_t e = 0; e < p.n; e++) {
        q = p;
        q.hash[e][e % 32] ^= 0x80;
        assert_int_not_equal(
            mv_tlog_verify_consistency(n1, n2, r1, 32, r2, 32, &q, NULL),
            MV_OK);
      }
      q = p;
      q.n++;
      assert_int_equal(
          mv_tlog_verify_consistency(n1, n2, r1, 32, r2, 32, &q, NULL),
          MV_EINVAL);
    }
  }
}

static void tlog_verify_rejects_bad_ranges(void **state) {
  (void)state;
  struct mv_tlog_proof empty = {0};
  uint8_t r[32] = {0};
  assert_int_equal(mv_tlog_verify_consistency(0, 0, r, 32, r, 32, &empty, NULL),
                   MV_EINVAL);
  assert_int_equal(mv_tlog_verify_consistency(0, 5, r, 32, r, 32, &empty, NULL),
                   MV_EINVAL);
  assert_int_equal(mv_tlog_verify_consistency(5, 4, r, 32, r, 32, &empty, NULL),
                   MV_EINVAL);
  assert_int_equal(mv_tlog_verify_inclusion(4, 4, r, 32, &empty, r, 32, NULL),
                   MV_EINVAL);
  assert_int_equal(mv_tlog_verify_inclusion(UINT64_MAX, UINT64_MAX, r, 32,
                                            &empty, r, 32, NULL),
                   MV_EINVAL);
  /* Huge sizes: proofs of the predicted length do not overflow anything. */
  assert_true(mv_tlog_inclusion_proof_len(0, UINT64_MAX) <= MV_TLOG_PROOF_MAX);
  assert_true(mv_tlog_consistency_proof_len(3, UINT64_MAX) <=
              MV_TLOG_PROOF_MAX);
  struct mv_tlog_proof big = {0};
  big.n = mv_tlog_consistency_proof_len(3, UINT64_MAX);
  assert_int_equal(
      mv_tlog_verify_consistency(3, UINT64_MAX, r, 32, r, 32, &big, NULL),
      MV_EINVALID);
  big.n = MV_TLOG_PROOF_MAX;
  assert_int_equal(
      mv_tlog_verify_consistency(3, UINT64_MAX, r, 32, r, 32, &big, NULL),
      MV_EINVAL);
  /* base64 hashes: exactly 32 bytes, canonical */
  struct mv_tlog_proof p = {0};
  char b[45];
  mv_tlog_hash_to_b64(leaves[0], b);
  assert_int_equal(mv_tlog_proof_push_b64(&p, b, strlen(b)), MV_OK);
  assert_int_equal(mv_tlog_proof_push_b64(&p, b, strlen(b) - 4), MV_EINVAL);
  assert_int_equal(mv_tlog_proof_push_b64(&p, "AAAA", 4), MV_EINVAL);
  assert_int_equal(mv_tlog_proof_push_b64(&p, "!!!!", 4), MV_EPARSE);
  assert_int_equal(p.n, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tlog_mem_root_equals_recursive_mth),
      cmocka_unit_test(tlog_inclusion_proofs_verify_and_mutations_fail),
      cmocka_unit_test(tlog_consistency_proofs_verify_and_mutations_fail),
      cmocka_unit_test(tlog_verify_rejects_bad_ranges),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
