/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared ledger test vectors (MV_SHARED_DATA/ledger, see its README):
 * the 98 + 98 transparency-dev inclusion and consistency cases (verification
 * must fail exactly when wantErr), the RFC 6962 reference tree (leaf hashes,
 * roots 0-8, proofs generated and verified) and the C2SP signed-note and
 * checkpoint examples. Skips with a message when the data is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mv_tlog.h"

static char g_root[4096];

static bool have_data(void) {
  const char *d = getenv("MV_SHARED_DATA");
  struct stat st;
  if (!d)
    return false;
  snprintf(g_root, sizeof(g_root), "%s/ledger", d);
  return stat(g_root, &st) == 0 && S_ISDIR(st.st_mode);
}

#define NEED_DATA()                                                            \
  do {                                                                         \
    if (!have_data()) {                                                        \
      printf("SKIP: MV_SHARED_DATA/ledger not present\n");                     \
      skip();                                                                  \
    }                                                                          \
  } while (0)

static char *slurp(const char *path, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *buf = malloc(1 << 20);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  fclose(f);
  buf[n] = '\0';
  *out_len = n;
  return buf;
}

/* Any-length standard base64 (the vectors hold deliberately wrong sizes). */
static size_t b64(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  assert_int_equal(sodium_base642bin(out, cap, s, strlen(s), NULL, &n, NULL,
                                     sodium_base64_VARIANT_ORIGINAL),
                   0);
  return n;
}

static const char *jstr(json_object *o, const char *k) {
  json_object *v;
  assert_true(json_object_object_get_ex(o, k, &v));
  return json_object_get_string(v);
}

static uint64_t ju64(json_object *o, const char *k) {
  json_object *v;
  assert_true(json_object_object_get_ex(o, k, &v));
  return (uint64_t)json_object_get_int64(v);
}

/* Proof from a JSON array (or null): false when an element is malformed or
 * not 32 bytes, which the verifier rules count as a failed verification. */
static bool jproof(json_object *o, const char *k, struct mv_tlog_proof *p) {
  json_object *arr;
  memset(p, 0, sizeof(*p));
  if (!json_object_object_get_ex(o, k, &arr) || !arr)
    return true;
  for (size_t i = 0; i < json_object_array_length(arr); i++) {
    const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
    if (mv_tlog_proof_push_b64(p, s, strlen(s)) != MV_OK)
      return false;
  }
  return true;
}

static int g_incl, g_cons, g_bad;

static int visit(const char *path, const struct stat *sb, int flag,
                 struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  size_t len = strlen(path);
  if (flag != FTW_F || len < 5 || strcmp(path + len - 5, ".json") != 0)
    return 0;
  json_object *o = json_object_from_file(path);
  assert_non_null(o);
  json_object *we;
  assert_true(json_object_object_get_ex(o, "wantErr", &we));
  bool want_err = json_object_get_boolean(we);
  struct mv_tlog_proof proof;
  bool proof_ok;
  int rc;
  if (strstr(path, "/inclusion/")) {
    uint8_t leaf[64], root[64];
    size_t ll = b64(jstr(o, "leafHash"), leaf, sizeof(leaf));
    size_t rl = b64(jstr(o, "root"), root, sizeof(root));
    proof_ok = jproof(o, "proof", &proof);
    rc = proof_ok
             ? mv_tlog_verify_inclusion(ju64(o, "leafIdx"), ju64(o, "treeSize"),
                                        leaf, ll, &proof, root, rl, NULL)
             : MV_EINVAL;
    g_incl++;
  } else {
    uint8_t r1[64], r2[64];
    size_t l1 = b64(jstr(o, "root1"), r1, sizeof(r1));
    size_t l2 = b64(jstr(o, "root2"), r2, sizeof(r2));
    proof_ok = jproof(o, "proof", &proof);
    rc = proof_ok
             ? mv_tlog_verify_consistency(ju64(o, "size1"), ju64(o, "size2"),
                                          r1, l1, r2, l2, &proof, NULL)
             : MV_EINVAL;
    g_cons++;
  }
  if ((rc != MV_OK) != want_err) {
    printf("vector %s: got %s, wantErr %d\n", path, mv_err_name(rc), want_err);
    g_bad++;
  }
  json_object_put(o);
  return 0;
}

static void
tlog_transparency_dev_vectors_fail_exactly_when_want_err(void **state) {
  (void)state;
  NEED_DATA();
  char dir[4200];
  snprintf(dir, sizeof(dir), "%s/transparency-dev-merkle/testdata", g_root);
  g_incl = g_cons = g_bad = 0;
  assert_int_equal(nftw(dir, visit, 16, FTW_PHYS), 0);
  printf("inclusion cases %d, consistency cases %d, wrong %d\n", g_incl, g_cons,
         g_bad);
  assert_int_equal(g_incl, 98);
  assert_int_equal(g_cons, 98);
  assert_int_equal(g_bad, 0);
}

static void hex(const char *s, uint8_t *out, size_t want) {
  assert_int_equal(strlen(s), want * 2);
  for (size_t i = 0; i < want; i++) {
    unsigned v;
    assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

static void hexproof(json_object *arr, struct mv_tlog_proof *p) {
  memset(p, 0, sizeof(*p));
  for (size_t i = 0; i < json_object_array_length(arr); i++)
    hex(json_object_get_string(json_object_array_get_idx(arr, i)),
        p->hash[p->n++], 32);
}

static void tlog_rfc6962_reference_tree_matches(void **state) {
  (void)state;
  NEED_DATA();
  char path[4200];
  snprintf(path, sizeof(path), "%s/rfc6962-reference-tree.json", g_root);
  json_object *o = json_object_from_file(path), *arr, *roots;
  assert_non_null(o);
  uint8_t leaves[8][32], want[32], got[32];
  assert_true(json_object_object_get_ex(o, "leaf_inputs_hex", &arr));
  json_object *lh;
  assert_true(json_object_object_get_ex(o, "leaf_hashes", &lh));
  for (int i = 0; i < 8; i++) {
    const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
    uint8_t in[64];
    size_t n = strlen(s) / 2;
    hex(s, in, n);
    mv_tlog_hash_leaf(in, n, leaves[i]);
    hex(json_object_get_string(json_object_array_get_idx(lh, i)), want, 32);
    assert_memory_equal(leaves[i], want, 32);
  }
  assert_true(json_object_object_get_ex(o, "roots_by_tree_size", &roots));
  for (int s = 0; s <= 8; s++) {
    char k[4];
    snprintf(k, sizeof(k), "%d", s);
    hex(jstr(roots, k), want, 32);
    assert_int_equal(mv_tlog_mem_root(leaves, (uint64_t)s, got), MV_OK);
    assert_memory_equal(got, want, 32);
  }
  assert_true(json_object_object_get_ex(o, "inclusion_proofs", &arr));
  assert_int_equal(json_object_array_length(arr), 8);
  for (size_t i = 0; i < json_object_array_length(arr); i++) {
    json_object *c = json_object_array_get_idx(arr, i), *pa;
    struct mv_tlog_proof wantp, gotp;
    uint8_t leaf[32], root[32];
    assert_true(json_object_object_get_ex(c, "proof", &pa));
    hexproof(pa, &wantp);
    hex(jstr(c, "leaf_hash"), leaf, 32);
    hex(jstr(c, "root"), root, 32);
    uint64_t idx = ju64(c, "leaf_index"), size = ju64(c, "tree_size");
    assert_int_equal(mv_tlog_mem_inclusion_proof(leaves, idx, size, &gotp),
                     MV_OK);
    assert_int_equal(gotp.n, wantp.n);
    assert_memory_equal(gotp.hash, wantp.hash, 32 * wantp.n);
    assert_int_equal(
        mv_tlog_verify_inclusion(idx, size, leaf, 32, &wantp, root, 32, NULL),
        MV_OK);
  }
  assert_true(json_object_object_get_ex(o, "consistency_proofs", &arr));
  assert_int_equal(json_object_array_length(arr), 8);
  for (size_t i = 0; i < json_object_array_length(arr); i++) {
    json_object *c = json_object_array_get_idx(arr, i), *pa;
    struct mv_tlog_proof wantp, gotp;
    uint8_t r1[32], r2[32], r2b[32];
    assert_true(json_object_object_get_ex(c, "proof", &pa));
    hexproof(pa, &wantp);
    hex(jstr(c, "root1"), r1, 32);
    hex(jstr(c, "root2"), r2, 32);
    uint64_t s1 = ju64(c, "size1"), s2 = ju64(c, "size2");
    assert_int_equal(mv_tlog_mem_consistency_proof(leaves, s1, s2, &gotp),
                     MV_OK);
    assert_int_equal(gotp.n, wantp.n);
    assert_memory_equal(gotp.hash, wantp.hash, 32 * wantp.n);
    assert_int_equal(
        mv_tlog_verify_consistency(s1, s2, r1, 32, r2, 32, &wantp, NULL),
        MV_OK);
    assert_int_equal(
        mv_tlog_consistency_root(s1, s2, r1, 32, &wantp, r2b, NULL), MV_OK);
    assert_memory_equal(r2b, r2, 32);
  }
  /* Hasher vectors with 32-byte-or-less inputs our API takes. */
  assert_true(json_object_object_get_ex(o, "hasher_vectors", &arr));
  int checked = 0;
  for (size_t i = 0; i < json_object_array_length(arr); i++) {
    json_object *c = json_object_array_get_idx(arr, i), *v;
    if (json_object_object_get_ex(c, "root_of_empty_tree", &v)) {
      hex(json_object_get_string(v), want, 32);
      mv_tlog_hash_empty(got);
      assert_memory_equal(got, want, 32);
      checked++;
    } else if (json_object_object_get_ex(c, "leaf_hash", &v)) {
      const char *in = jstr(c, "leaf_input_hex");
      uint8_t buf[64];
      hex(in, buf, strlen(in) / 2);
      mv_tlog_hash_leaf(buf, strlen(in) / 2, got);
      hex(json_object_get_string(v), want, 32);
      assert_memory_equal(got, want, 32);
      checked++;
    }
  }
  assert_int_equal(checked, 3);
  json_object_put(o);
}

static void tlog_signed_note_example_verifies(void **state) {
  (void)state;
  NEED_DATA();
  char path[4200];
  size_t vlen, nlen;
  snprintf(path, sizeof(path), "%s/signed-note/example-vkey.txt", g_root);
  char *vkey = slurp(path, &vlen);
  snprintf(path, sizeof(path), "%s/signed-note/example-note.txt", g_root);
  char *note = slurp(path, &nlen);
  struct mv_tlog_verifier v;
  struct mv_tlog_note n;
  assert_int_equal(mv_tlog_verifier_parse(vkey, vlen, &v, NULL), MV_OK);
  assert_string_equal(v.name, "example.com/foo");
  assert_int_equal(v.key_id, 0x530d903au);
  assert_int_equal(mv_tlog_note_open(note, nlen, &v, 1, &n, NULL), MV_OK);
  assert_int_equal(n.nsig, 1);
  assert_true(n.sig[0].verified);
  assert_int_equal(n.text_len, strlen("This is an example message.\n"));
  /* Any changed byte of the text is a forgery. */
  for (size_t i = 0; i < n.text_len - 1; i++) {
    note[i] ^= 0x01;
    int rc = mv_tlog_note_open(note, nlen, &v, 1, NULL, NULL);
    assert_true(rc == MV_ECRYPTO || rc == MV_EPARSE);
    note[i] ^= 0x01;
  }
  /* A verifier with another key id is not "known". */
  v.key_id ^= 1;
  assert_int_equal(mv_tlog_note_open(note, nlen, &v, 1, NULL, NULL),
                   MV_ENOTFOUND);
  free(vkey);
  free(note);
}

static void tlog_checkpoint_examples_parse(void **state) {
  (void)state;
  NEED_DATA();
  char path[4200];
  size_t len;
  snprintf(path, sizeof(path), "%s/signed-note/checkpoint-format-example.txt",
           g_root);
  char *note = slurp(path, &len);
  struct mv_tlog_note n;
  struct mv_tlog_checkpoint cp;
  assert_int_equal(mv_tlog_note_open(note, len, NULL, 0, &n, NULL),
                   MV_ENOTFOUND);
  assert_int_equal(n.nsig, 2);
  assert_string_equal(n.sig[0].name, "example.com/behind-the-sofa");
  assert_string_equal(n.sig[1].name, "witness.example.com/w1");
  assert_int_equal(n.sig[0].sig_len, 64);
  assert_int_equal(n.sig[1].sig_len, 72); /* u64 time || signature */
  uint64_t t = 0;
  for (int i = 0; i < 8; i++)
    t = t << 8 | n.sig[1].sig[i];
  assert_int_equal(t, 1679315147u);
  assert_int_equal(mv_tlog_checkpoint_parse(note, n.text_len, &cp, NULL),
                   MV_OK);
  assert_string_equal(cp.origin, "example.com/behind-the-sofa");
  assert_int_equal(cp.size, 20852163u);
  assert_int_equal(cp.ext_len, 0);
  free(note);

  /* The add-checkpoint request: "old N", proof lines, blank, checkpoint. */
  snprintf(path, sizeof(path),
           "%s/signed-note/witness-add-checkpoint-request-example.txt", g_root);
  char *req = slurp(path, &len);
  char *blank = strstr(req, "\n\n");
  assert_non_null(blank);
  assert_memory_equal(req, "old 20852014\n", 13);
  struct mv_tlog_proof p = {0};
  for (char *line = req + 13; line < blank + 1;) {
    char *nl = strchr(line, '\n');
    assert_int_equal(mv_tlog_proof_push_b64(&p, line, (size_t)(nl - line)),
                     MV_OK);
    line = nl + 1;
  }
  assert_int_equal(p.n, 4);
  char *cpnote = blank + 2;
  size_t cplen = len - (size_t)(cpnote - req);
  assert_int_equal(mv_tlog_note_open(cpnote, cplen, NULL, 0, &n, NULL),
                   MV_ENOTFOUND);
  assert_int_equal(n.nsig, 2); /* same name, two key ids */
  assert_int_equal(mv_tlog_checkpoint_parse(cpnote, n.text_len, &cp, NULL),
                   MV_OK);
  assert_int_equal(cp.size, 20852163u);
  free(req);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(
          tlog_transparency_dev_vectors_fail_exactly_when_want_err),
      cmocka_unit_test(tlog_rfc6962_reference_tree_matches),
      cmocka_unit_test(tlog_signed_note_example_verifies),
      cmocka_unit_test(tlog_checkpoint_examples_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
