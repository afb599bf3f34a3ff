/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Our own fixtures, tests/data/tlog/vectors.json, made by an independent
 * Python implementation (tests/data/tlog/gen_vectors.py): the C code must
 * produce the same leaf hashes, roots, proofs, entry encoding, commitment,
 * record framing, CRC-32C, key texts, signed checkpoint note and
 * cosignature, byte for byte. Also the entry decoder's strictness.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_tlog.h"
#include "tlog_int.h"

static json_object *g_v;

static int setup(void **state) {
  (void)state;
  const char *src = getenv("MV_SOURCE_DIR");
  char path[4096];
  snprintf(path, sizeof(path), "%s/tests/data/tlog/vectors.json",
           src ? src : ".");
  g_v = json_object_from_file(path);
  if (!g_v) {
    printf("cannot read %s\n", path);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  json_object_put(g_v);
  return 0;
}

static json_object *get(json_object *o, const char *k) {
  json_object *v = NULL;
  assert_true(json_object_object_get_ex(o, k, &v));
  return v;
}

static const char *gs(json_object *o, const char *k) {
  return json_object_get_string(get(o, k));
}

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = strlen(s) / 2;
  assert_true(n <= cap);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
  return n;
}

static void proof_eq(json_object *arr, const struct mv_tlog_proof *p) {
  assert_int_equal(json_object_array_length(arr), p->n);
  for (size_t i = 0; i < p->n; i++) {
    uint8_t w[32];
    unhex(json_object_get_string(json_object_array_get_idx(arr, i)), w, 32);
    assert_memory_equal(w, p->hash[i], 32);
  }
}

static void tlog_tree_matches_independent_python(void **state) {
  (void)state;
  json_object *lv = get(g_v, "leaves_hex"), *lh = get(g_v, "leaf_hashes"),
              *roots = get(g_v, "roots");
  size_t n = json_object_array_length(lv);
  uint8_t(*leaves)[32] = calloc(n, 32);
  for (size_t i = 0; i < n; i++) {
    uint8_t d[64], w[32];
    size_t dl =
        unhex(json_object_get_string(json_object_array_get_idx(lv, i)), d, 64);
    mv_tlog_hash_leaf(d, dl, leaves[i]);
    unhex(json_object_get_string(json_object_array_get_idx(lh, i)), w, 32);
    assert_memory_equal(w, leaves[i], 32);
  }
  for (size_t s = 0; s <= n; s++) {
    uint8_t w[32], got[32];
    unhex(json_object_get_string(json_object_array_get_idx(roots, s)), w, 32);
    assert_int_equal(mv_tlog_mem_root(leaves, s, got), MV_OK);
    assert_memory_equal(w, got, 32);
  }
  json_object *inc = get(g_v, "inclusion");
  for (size_t k = 0; k < json_object_array_length(inc); k++) {
    json_object *c = json_object_array_get_idx(inc, k);
    uint64_t i = (uint64_t)json_object_get_int64(get(c, "index"));
    uint64_t s = (uint64_t)json_object_get_int64(get(c, "size"));
    struct mv_tlog_proof p;
    assert_int_equal(mv_tlog_mem_inclusion_proof(leaves, i, s, &p), MV_OK);
    proof_eq(get(c, "proof"), &p);
  }
  json_object *con = get(g_v, "consistency");
  for (size_t k = 0; k < json_object_array_length(con); k++) {
    json_object *c = json_object_array_get_idx(con, k);
    uint64_t s1 = (uint64_t)json_object_get_int64(get(c, "size1"));
    uint64_t s2 = (uint64_t)json_object_get_int64(get(c, "size2"));
    struct mv_tlog_proof p;
    assert_int_equal(mv_tlog_mem_consistency_proof(leaves, s1, s2, &p), MV_OK);
    proof_eq(get(c, "proof"), &p);
  }
  free(leaves);
}

static void tlog_entry_encoding_matches_independent_python(void **state) {
  (void)state;
  json_object *e = get(g_v, "entry");
  struct mv_tlog_entry en, back;
  memset(&en, 0, sizeof(en));
  en.seq = (uint64_t)json_object_get_int64(get(e, "seq"));
  en.t_us = json_object_get_int64(get(e, "t_us"));
  assert_int_equal(mv_tlog_action_parse(gs(e, "action"), &en.action), MV_OK);
  snprintf(en.actor, sizeof(en.actor), "%s", gs(e, "actor"));
  snprintf(en.type, sizeof(en.type), "%s", gs(e, "type"));
  snprintf(en.id, sizeof(en.id), "%s", gs(e, "id"));
  en.version = (uint64_t)json_object_get_int64(get(e, "version"));
  uint8_t ct[128], w[512], enc[MV_TLOG_ENTRY_ENC_MAX];
  size_t ctl = unhex(gs(e, "ciphertext_hex"), ct, sizeof(ct));
  mv_tlog_commitment(ct, ctl, en.commitment);
  unhex(gs(e, "commitment"), w, 32);
  assert_memory_equal(w, en.commitment, 32);
  size_t len = 0, wl = unhex(gs(e, "encoding_hex"), w, sizeof(w));
  assert_int_equal(mv_tlog_entry_encode(&en, enc, sizeof(enc), &len, NULL),
                   MV_OK);
  assert_int_equal(len, wl);
  assert_memory_equal(enc, w, len);
  assert_int_equal(mv_tlog_entry_decode(enc, len, &back, NULL), MV_OK);
  assert_memory_equal(&back.commitment, &en.commitment, 32);
  assert_string_equal(back.actor, en.actor);
  assert_string_equal(back.id, en.id);
  assert_int_equal(back.seq, en.seq);
  assert_int_equal(back.t_us, en.t_us);
  assert_int_equal(back.action, MV_TLOG_UPDATE);
  /* every truncation, every extension, and bad bytes are refused */
  for (size_t l = 0; l < len; l++)
    assert_int_equal(mv_tlog_entry_decode(enc, l, &back, NULL), MV_EPARSE);
  enc[len] = 0;
  assert_int_equal(mv_tlog_entry_decode(enc, len + 1, &back, NULL), MV_EPARSE);
  uint8_t m[MV_TLOG_ENTRY_ENC_MAX];
  size_t checked[] = {0, 1, 26, 27 + 3};
  for (size_t k = 0; k < MV_ARRAY_LEN(checked); k++) {
    memcpy(m, enc, len);
    m[checked[k]] = 0x20; /* bad version, action, length, a space */
    assert_int_equal(mv_tlog_entry_decode(m, len, &back, NULL), MV_EPARSE);
  }
  /* the encoder refuses patient-looking text and bad values */
  struct mv_tlog_entry bad = en;
  snprintf(bad.id, sizeof(bad.id), "John Smith");
  assert_int_equal(mv_tlog_entry_encode(&bad, enc, sizeof(enc), &len, NULL),
                   MV_EINVAL);
  bad = en;
  bad.version = 0;
  assert_int_equal(mv_tlog_entry_encode(&bad, enc, sizeof(enc), &len, NULL),
                   MV_EINVAL);
  bad = en;
  bad.action = (enum mv_tlog_action)9;
  assert_int_equal(mv_tlog_entry_encode(&bad, enc, sizeof(enc), &len, NULL),
                   MV_EINVAL);
  bad = en;
  bad.actor[0] = '\0';
  assert_int_equal(mv_tlog_entry_encode(&bad, enc, sizeof(enc), &len, NULL),
                   MV_EINVAL);
  assert_int_equal(mv_tlog_entry_encode(&en, enc, 10, &len, NULL), MV_ETOOBIG);
  assert_string_equal(mv_tlog_action_name(MV_TLOG_ERASE), "erase");
}

static void tlog_record_framing_and_crc32c_match(void **state) {
  (void)state;
  json_object *cs = get(g_v, "crc32c");
  for (size_t k = 0; k < json_object_array_length(cs); k++) {
    json_object *c = json_object_array_get_idx(cs, k);
    uint8_t d[512];
    size_t n = unhex(gs(c, "hex"), d, sizeof(d));
    assert_int_equal(mv__tlog_crc32c(0, d, n),
                     (uint32_t)json_object_get_int64(get(c, "crc")));
    /* incremental = whole */
    if (n > 3)
      assert_int_equal(mv__tlog_crc32c(mv__tlog_crc32c(0, d, 3), d + 3, n - 3),
                       mv__tlog_crc32c(0, d, n));
  }
  uint8_t rec[512];
  size_t rl = unhex(gs(g_v, "record_hex"), rec, sizeof(rec)), len = 0;
  assert_int_equal(mv__tlog_rec_check(rec, rl, 41, &len), MV_OK);
  assert_int_equal(len + MV__TLOG_REC_OVERHEAD, rl);
  assert_int_equal(mv__tlog_rec_check(rec, rl, 40, &len), MV_ECORRUPT);
  assert_int_equal(mv__tlog_rec_check(rec, rl - 1, 41, &len), MV_ENOTFOUND);
  rec[20] ^= 1;
  assert_int_equal(mv__tlog_rec_check(rec, rl, 41, &len), MV_ECORRUPT);
}

static void
tlog_keys_notes_cosignatures_match_independent_python(void **state) {
  (void)state;
  json_object *lk = get(g_v, "log_key"), *wk = get(g_v, "witness_key");
  struct mv_tlog_signer ls, ws;
  struct mv_tlog_verifier lv, wv;
  const char *t = gs(lk, "skey");
  assert_int_equal(mv_tlog_signer_parse(t, strlen(t), &ls, NULL), MV_OK);
  t = gs(wk, "skey");
  assert_int_equal(mv_tlog_signer_parse(t, strlen(t), &ws, NULL), MV_OK);
  char vk[MV_TLOG_VKEY_TEXT_MAX];
  mv_tlog_verifier_of(&ls, &lv);
  mv_tlog_verifier_format(&lv, vk);
  assert_string_equal(vk, gs(lk, "vkey"));
  mv_tlog_verifier_of(&ws, &wv);
  mv_tlog_verifier_format(&wv, vk);
  assert_string_equal(vk, gs(wk, "vkey"));
  /* our signature of the same body is the same note (Ed25519 is
   * deterministic) */
  const char *note = gs(g_v, "checkpoint_note");
  struct mv_tlog_checkpoint cp;
  assert_int_equal(mv_tlog_checkpoint_open(note, strlen(note), &lv, NULL, 0,
                                           &cp, NULL, NULL, NULL),
                   MV_OK);
  char mine[1024];
  size_t ml = 0;
  assert_int_equal(
      mv_tlog_checkpoint_sign(&ls, &cp, mine, sizeof(mine), &ml, NULL), MV_OK);
  assert_int_equal(ml, strlen(note));
  assert_memory_equal(mine, note, ml);
  /* and the same cosignature */
  const char *cline = gs(g_v, "cosig_line");
  char line[MV_TLOG_SIG_LINE_MAX];
  size_t ll = 0;
  size_t body = (size_t)(strstr(note, "\n\n") - note) + 1;
  assert_int_equal(
      mv_tlog_cosign(&ws, note, body,
                     (uint64_t)json_object_get_int64(get(g_v, "cosig_time")),
                     line, &ll, NULL),
      MV_OK);
  assert_string_equal(line, cline);
  char merged[2048];
  size_t mgl = 0, cos = 0;
  assert_int_equal(mv_tlog_note_merge(note, strlen(note), cline, strlen(cline),
                                      merged, sizeof(merged), &mgl, NULL),
                   MV_OK);
  assert_int_equal(
      mv_tlog_checkpoint_open(merged, mgl, &lv, &wv, 1, &cp, &cos, NULL, NULL),
      MV_OK);
  assert_int_equal(cos, 1);
  mv_tlog_signer_wipe(&ls);
  mv_tlog_signer_wipe(&ws);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tlog_tree_matches_independent_python),
      cmocka_unit_test(tlog_entry_encoding_matches_independent_python),
      cmocka_unit_test(tlog_record_framing_and_crc32c_match),
      cmocka_unit_test(tlog_keys_notes_cosignatures_match_independent_python),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
