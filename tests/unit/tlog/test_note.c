/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys, signed notes, checkpoints, cosignatures and the witness decision:
 * generated keys round-trip through their texts, signatures verify and any
 * change is a forgery, malformed texts are refused, merged cosignatures
 * verify, and the witness accepts growth with a valid proof and refuses a
 * forged key, a bad signature, a rollback, a fork, a stale old size and an
 * inconsistent proof, each with its own reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mv_tlog.h"

static void keypair(const char *name, uint8_t type, struct mv_tlog_signer *s,
                    struct mv_tlog_verifier *v) {
  char sk[MV_TLOG_SKEY_TEXT_MAX], vk[MV_TLOG_VKEY_TEXT_MAX];
  assert_int_equal(mv_tlog_key_generate(name, type, sk, vk, NULL), MV_OK);
  assert_memory_equal(sk, "PRIVATE+KEY+", 12);
  assert_int_equal(mv_tlog_signer_parse(sk, strlen(sk), s, NULL), MV_OK);
  assert_int_equal(mv_tlog_verifier_parse(vk, strlen(vk), v, NULL), MV_OK);
  assert_string_equal(s->name, name);
  assert_int_equal(s->key_id, v->key_id);
  assert_int_equal(s->type, type);
  assert_memory_equal(s->pk, v->pk, 32);
  char again[MV_TLOG_VKEY_TEXT_MAX];
  mv_tlog_verifier_format(v, again);
  assert_string_equal(again, vk);
}

static void tlog_keys_round_trip_and_bad_keys_are_refused(void **state) {
  (void)state;
  struct mv_tlog_signer s;
  struct mv_tlog_verifier v;
  keypair("log.example/a", MV_TLOG_KEY_ED25519, &s, &v);
  char vk[MV_TLOG_VKEY_TEXT_MAX];
  mv_tlog_verifier_format(&v, vk);
  size_t n = strlen(vk);
  /* a changed hash, name, key byte, type, or trailing junk */
  const char *bad[] = {"", "+", "a+0000000+AAAA", "a b+00000000+AAAA",
                       "PRIVATE+KEY+x+00000000+AAAA"};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++)
    assert_int_equal(mv_tlog_verifier_parse(bad[i], strlen(bad[i]), &v, NULL),
                     MV_EPARSE);
  char t[MV_TLOG_VKEY_TEXT_MAX + 8];
  for (size_t i = 0; i < n; i++) {
    memcpy(t, vk, n + 1);
    t[i] = t[i] == 'A' ? 'B' : 'A';
    assert_int_not_equal(mv_tlog_verifier_parse(t, n, &v, NULL), MV_OK);
  }
  snprintf(t, sizeof(t), "%s\n", vk);
  assert_int_equal(mv_tlog_verifier_parse(t, n + 1, &v, NULL), MV_OK);
  snprintf(t, sizeof(t), "%s\n\n", vk);
  assert_int_equal(mv_tlog_verifier_parse(t, n + 2, &v, NULL), MV_EPARSE);
  char sk[MV_TLOG_SKEY_TEXT_MAX];
  assert_int_equal(mv_tlog_key_generate("bad+name", 1, sk, vk, NULL),
                   MV_EINVAL);
  assert_int_equal(mv_tlog_key_generate("ok", 2, sk, vk, NULL), MV_EINVAL);
  mv_tlog_signer_wipe(&s);
  uint8_t zero[64] = {0};
  assert_memory_equal(s.sk, zero, 64);
}

static void tlog_note_sign_verify_and_forgeries(void **state) {
  (void)state;
  struct mv_tlog_signer s, s2;
  struct mv_tlog_verifier v, v2;
  keypair("log.example/a", MV_TLOG_KEY_ED25519, &s, &v);
  keypair("log.example/b", MV_TLOG_KEY_ED25519, &s2, &v2);
  const char *text = "hello\nworld \xe2\x9c\x93\n";
  char note[1024];
  size_t len = 0;
  assert_int_equal(
      mv_tlog_note_sign(&s, text, strlen(text), note, sizeof(note), &len, NULL),
      MV_OK);
  assert_non_null(strstr(note, "\n\n\xe2\x80\x94 log.example/a "));
  struct mv_tlog_note n;
  assert_int_equal(mv_tlog_note_open(note, len, &v, 1, &n, NULL), MV_OK);
  assert_int_equal(n.text_len, strlen(text));
  assert_int_equal(mv_tlog_note_open(note, len, &v2, 1, &n, NULL),
                   MV_ENOTFOUND);
  /* every single-byte change is refused */
  for (size_t i = 0; i < len; i++) {
    char m[1024];
    memcpy(m, note, len);
    m[i] ^= 0x04;
    assert_int_not_equal(mv_tlog_note_open(m, len, &v, 1, NULL, NULL), MV_OK);
  }
  /* truncation */
  for (size_t l = 0; l < len; l++)
    assert_int_not_equal(mv_tlog_note_open(note, l, &v, 1, NULL, NULL), MV_OK);
  /* texts that must not be signed */
  const char *bad[] = {"",
                       "no newline",
                       "\n",
                       "a\n\nb\n",
                       "ctl\x01\n",
                       "bad utf8 \xc0\xaf\n",
                       "surrogate \xed\xa0\x80\n"};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++)
    assert_int_equal(mv_tlog_note_sign(&s, bad[i], strlen(bad[i]), note,
                                       sizeof(note), &len, NULL),
                     MV_EINVAL);
  /* a witness key cannot sign notes, a log key cannot cosign */
  struct mv_tlog_signer w;
  struct mv_tlog_verifier wv;
  keypair("witness.example/w", MV_TLOG_KEY_COSIG_V1, &w, &wv);
  assert_int_equal(
      mv_tlog_note_sign(&w, text, strlen(text), note, sizeof(note), &len, NULL),
      MV_EINVAL);
  char line[MV_TLOG_SIG_LINE_MAX];
  assert_int_equal(mv_tlog_cosign(&s, "o\n1\nAAAA\n", 9, 1, line, &len, NULL),
                   MV_EINVAL);
}

static void signed_checkpoint(const struct mv_tlog_signer *s, uint64_t size,
                              const uint8_t root[32], char *out, size_t cap,
                              size_t *len) {
  struct mv_tlog_checkpoint cp;
  memset(&cp, 0, sizeof(cp));
  snprintf(cp.origin, sizeof(cp.origin), "%s", s->name);
  cp.size = size;
  memcpy(cp.root, root, 32);
  assert_int_equal(mv_tlog_checkpoint_sign(s, &cp, out, cap, len, NULL), MV_OK);
}

static void tlog_checkpoints_and_cosignatures(void **state) {
  (void)state;
  struct mv_tlog_signer s, w1, w2;
  struct mv_tlog_verifier v, wv[2];
  keypair("medverse.example/log", MV_TLOG_KEY_ED25519, &s, &v);
  keypair("w1.example", MV_TLOG_KEY_COSIG_V1, &w1, &wv[0]);
  keypair("w2.example", MV_TLOG_KEY_COSIG_V1, &w2, &wv[1]);
  uint8_t root[32];
  mv_tlog_hash_leaf("x", 1, root);
  char note[4096];
  size_t len = 0;
  signed_checkpoint(&s, 1234567, root, note, sizeof(note), &len);
  struct mv_tlog_checkpoint cp;
  size_t cos = 99;
  assert_int_equal(
      mv_tlog_checkpoint_open(note, len, &v, wv, 2, &cp, &cos, NULL, NULL),
      MV_OK);
  assert_int_equal(cp.size, 1234567);
  assert_memory_equal(cp.root, root, 32);
  assert_int_equal(cos, 0);
  /* two witnesses cosign; merging is idempotent */
  size_t body = strstr(note, "\n\n") - note + 1;
  char lines[2 * MV_TLOG_SIG_LINE_MAX];
  size_t l1 = 0, l2 = 0;
  assert_int_equal(
      mv_tlog_cosign(&w1, note, body, 1700000000, lines, &l1, NULL), MV_OK);
  assert_int_equal(
      mv_tlog_cosign(&w2, note, body, 1700000001, lines + l1, &l2, NULL),
      MV_OK);
  char merged[8192], merged2[8192];
  size_t ml = 0, ml2 = 0;
  assert_int_equal(mv_tlog_note_merge(note, len, lines, l1 + l2, merged,
                                      sizeof(merged), &ml, NULL),
                   MV_OK);
  assert_int_equal(mv_tlog_note_merge(merged, ml, lines, l1 + l2, merged2,
                                      sizeof(merged2), &ml2, NULL),
                   MV_OK);
  assert_int_equal(ml, ml2);
  assert_memory_equal(merged, merged2, ml);
  struct mv_tlog_note n;
  assert_int_equal(
      mv_tlog_checkpoint_open(merged, ml, &v, wv, 2, &cp, &cos, &n, NULL),
      MV_OK);
  assert_int_equal(cos, 2);
  assert_int_equal(n.sig[1].cosig_time, 1700000000u);
  /* a cosignature by w1 checked against w2's key, or over another body */
  uint8_t raw[76];
  struct mv_tlog_note n1;
  assert_int_equal(mv_tlog_note_open(merged, ml, wv, 1, &n1, NULL), MV_OK);
  raw[0] = (uint8_t)(n1.sig[1].key_id >> 24);
  raw[1] = (uint8_t)(n1.sig[1].key_id >> 16);
  raw[2] = (uint8_t)(n1.sig[1].key_id >> 8);
  raw[3] = (uint8_t)n1.sig[1].key_id;
  memcpy(raw + 4, n1.sig[1].sig, 72);
  uint64_t t = 0;
  assert_int_equal(mv_tlog_cosig_verify(&wv[0], note, body, raw, 76, &t, NULL),
                   MV_OK);
  assert_int_equal(t, 1700000000u);
  assert_int_equal(
      mv_tlog_cosig_verify(&wv[1], note, body, raw, 76, NULL, NULL),
      MV_ECRYPTO);
  assert_int_equal(
      mv_tlog_cosig_verify(&wv[0], note, body - 1, raw, 76, NULL, NULL),
      MV_ECRYPTO);
  raw[11] ^= 1; /* the time is signed */
  assert_int_equal(
      mv_tlog_cosig_verify(&wv[0], note, body, raw, 76, NULL, NULL),
      MV_ECRYPTO);
  /* log key name must be the origin */
  struct mv_tlog_signer other;
  struct mv_tlog_verifier ov;
  keypair("other.example", MV_TLOG_KEY_ED25519, &other, &ov);
  struct mv_tlog_checkpoint c2 = cp;
  char n2[4096];
  size_t n2l = 0;
  assert_int_equal(
      mv_tlog_checkpoint_sign(&other, &c2, n2, sizeof(n2), &n2l, NULL), MV_OK);
  assert_int_equal(
      mv_tlog_checkpoint_open(n2, n2l, &ov, NULL, 0, &cp, NULL, NULL, NULL),
      MV_EINVALID);
}

static void tlog_checkpoint_parser_is_strict(void **state) {
  (void)state;
  struct mv_tlog_checkpoint cp;
  const char *good =
      "o.example\n42\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="
      "\nextra line\n";
  assert_int_equal(mv_tlog_checkpoint_parse(good, strlen(good), &cp, NULL),
                   MV_OK);
  assert_int_equal(cp.size, 42);
  assert_int_equal(cp.ext_len, strlen("extra line\n"));
  char out[512];
  size_t ol = 0;
  assert_int_equal(mv_tlog_checkpoint_format(&cp, out, sizeof(out), &ol, NULL),
                   MV_OK);
  assert_int_equal(ol, strlen(good));
  assert_memory_equal(out, good, ol);
  const char *bad[] = {
      "",
      "o\n",
      "\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
      "o\n01\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
      "o\n-1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
      "o\n18446744073709551616\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
      "o\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0\n",
      "o\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
      "o\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n\n",
      "o\n1 \nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
      "o\n1\nAAAA\n",
  };
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++)
    assert_int_equal(
        mv_tlog_checkpoint_parse(bad[i], strlen(bad[i]), &cp, NULL), MV_EPARSE);
  const char *max = "o\n18446744073709551615\n"
                    "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n";
  assert_int_equal(mv_tlog_checkpoint_parse(max, strlen(max), &cp, NULL),
                   MV_OK);
  assert_true(cp.size == UINT64_MAX);
}

/* Witness over a real in-memory log. */
static uint8_t leaves[64][32];

static void root_of(uint64_t n, uint8_t out[32]) {
  assert_int_equal(mv_tlog_mem_root(leaves, n, out), MV_OK);
}

static void tlog_witness_accepts_growth_and_refuses_each_attack(void **state) {
  (void)state;
  for (int i = 0; i < 64; i++)
    mv_tlog_hash_leaf(&i, sizeof(i), leaves[i]);
  struct mv_tlog_signer s, w, forger;
  struct mv_tlog_verifier v, wv, fv;
  keypair("medverse.example/log", MV_TLOG_KEY_ED25519, &s, &v);
  keypair("w.example", MV_TLOG_KEY_COSIG_V1, &w, &wv);
  keypair("medverse.example/log", MV_TLOG_KEY_ED25519, &forger, &fv);
  struct mv_tlog_witness_state st = {0};
  struct mv_tlog_witness_result res;
  struct mv_tlog_proof empty = {0}, p;
  char note[4096];
  size_t len;
  uint8_t r[32];
  struct mv_diag d;

  /* first sight: accepted without proof */
  root_of(10, r);
  signed_checkpoint(&s, 10, r, note, sizeof(note), &len);
  assert_int_equal(
      mv_tlog_witness_check(&st, 0, note, len, &v, &empty, &w, 100, &res, NULL),
      MV_OK);
  assert_int_equal(res.reason, MV_TLOG_WITNESS_OK);
  assert_true(res.next.has);
  assert_int_equal(res.next.size, 10);
  /* the cosignature verifies when merged */
  char merged[8192];
  size_t ml;
  assert_int_equal(mv_tlog_note_merge(note, len, res.cosig_line, res.cosig_len,
                                      merged, sizeof(merged), &ml, NULL),
                   MV_OK);
  size_t cos = 0;
  assert_int_equal(
      mv_tlog_checkpoint_open(merged, ml, &v, &wv, 1, NULL, &cos, NULL, NULL),
      MV_OK);
  assert_int_equal(cos, 1);
  st = res.next;

  /* growth with a valid proof */
  root_of(37, r);
  signed_checkpoint(&s, 37, r, note, sizeof(note), &len);
  assert_int_equal(mv_tlog_mem_consistency_proof(leaves, 10, 37, &p), MV_OK);
  assert_int_equal(
      mv_tlog_witness_check(&st, 10, note, len, &v, &p, &w, 101, &res, NULL),
      MV_OK);
  struct mv_tlog_witness_state st37 = res.next;

#define REFUSE(reason_, err_, ...)                                             \
  do {                                                                         \
    mv_diag_clear(&d);                                                         \
    assert_int_equal(mv_tlog_witness_check(__VA_ARGS__, &res, &d), err_);      \
    assert_int_equal(res.reason, reason_);                                     \
    assert_non_null(strstr(d.msg, mv_tlog_witness_reason_str(reason_)));       \
    assert_int_equal(res.cosig_len, 0);                                        \
  } while (0)

  /* the same proof from the wrong old size: stale */
  REFUSE(MV_TLOG_WITNESS_STALE_OLD_SIZE, MV_ECONFLICT, &st, 9, note, len, &v,
         &p, &w, 101);
  /* a tampered proof: inconsistent */
  struct mv_tlog_proof q = p;
  q.hash[1][0] ^= 1;
  REFUSE(MV_TLOG_WITNESS_INCONSISTENT, MV_EINVALID, &st, 10, note, len, &v, &q,
         &w, 101);
  q = p;
  q.n--;
  REFUSE(MV_TLOG_WITNESS_BAD_PROOF, MV_EINVALID, &st, 10, note, len, &v, &q, &w,
         101);
  /* a forged key with the same name (different key id): unknown key */
  char fnote[4096];
  size_t flen;
  signed_checkpoint(&forger, 37, r, fnote, sizeof(fnote), &flen);
  REFUSE(MV_TLOG_WITNESS_UNKNOWN_KEY, MV_EINVALID, &st, 10, fnote, flen, &v, &p,
         &w, 101);
  /* a forged signature under the real key id */
  char *sig = strstr(note, "\xe2\x80\x94 ");
  char bad[4096];
  memcpy(bad, note, len);
  size_t at = (size_t)(sig - note) + 4 + strlen(v.name) + 1 + 10;
  bad[at] = bad[at] == 'A' ? 'B' : 'A';
  REFUSE(MV_TLOG_WITNESS_BAD_SIGNATURE, MV_EINVALID, &st, 10, bad, len, &v, &p,
         &w, 101);
  /* the body changed under a valid signature line */
  memcpy(bad, note, len);
  bad[strlen(v.name) + 1] = bad[strlen(v.name) + 1] == '1' ? '2' : '1';
  REFUSE(MV_TLOG_WITNESS_BAD_SIGNATURE, MV_EINVALID, &st, 10, bad, len, &v, &p,
         &w, 101);
  REFUSE(MV_TLOG_WITNESS_MALFORMED, MV_EINVALID, &st, 10, "junk\n", 5, &v, &p,
         &w, 101);

  /* rollback: the log shows a smaller tree than the last cosigned */
  root_of(20, r);
  signed_checkpoint(&s, 20, r, note, sizeof(note), &len);
  REFUSE(MV_TLOG_WITNESS_ROLLBACK, MV_EINVALID, &st37, 37, note, len, &v,
         &empty, &w, 102);
  /* fork: same size, another root */
  uint8_t other[32];
  root_of(37, other);
  other[0] ^= 0xff;
  signed_checkpoint(&s, 37, other, note, sizeof(note), &len);
  REFUSE(MV_TLOG_WITNESS_FORK, MV_EINVALID, &st37, 37, note, len, &v, &empty,
         &w, 102);
  /* clock going backwards */
  root_of(37, r);
  signed_checkpoint(&s, 37, r, note, sizeof(note), &len);
  REFUSE(MV_TLOG_WITNESS_CLOCK, MV_EINVALID, &st37, 37, note, len, &v, &empty,
         &w, 50);
  /* the same checkpoint again is fine (re-cosign) */
  assert_int_equal(mv_tlog_witness_check(&st37, 37, note, len, &v, &empty, &w,
                                         103, &res, NULL),
                   MV_OK);
  /* a log that forks into a longer tree: the proof from the old root fails */
  uint8_t fork_leaves[64][32];
  memcpy(fork_leaves, leaves, sizeof(leaves));
  fork_leaves[3][0] ^= 1;
  uint8_t fr[32];
  assert_int_equal(mv_tlog_mem_root(fork_leaves, 50, fr), MV_OK);
  signed_checkpoint(&s, 50, fr, note, sizeof(note), &len);
  assert_int_equal(mv_tlog_mem_consistency_proof(fork_leaves, 37, 50, &p),
                   MV_OK);
  REFUSE(MV_TLOG_WITNESS_INCONSISTENT, MV_EINVALID, &st37, 37, note, len, &v,
         &p, &w, 104);
#undef REFUSE
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tlog_keys_round_trip_and_bad_keys_are_refused),
      cmocka_unit_test(tlog_note_sign_verify_and_forgeries),
      cmocka_unit_test(tlog_checkpoints_and_cosignatures),
      cmocka_unit_test(tlog_checkpoint_parser_is_strict),
      cmocka_unit_test(tlog_witness_accepts_growth_and_refuses_each_attack),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
