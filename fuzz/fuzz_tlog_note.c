/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the tlog text parsers (mv_tlog_note.h): the first
 * byte picks signed-note opening (with a known log key and witness key),
 * checkpoint parsing, key parsing, cosignature-line merging, the witness
 * decision, or leaf-entry decoding; the rest is the input. Checks: no
 * crash or over-read (ASan; the input is not NUL-terminated), a parsed
 * checkpoint formats back to the same bytes, a decoded entry re-encodes to
 * the same bytes, and nothing signed by an unknown key is ever accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed keys (seeds 1..32 and 101..132, as in tests/data/tlog). */
static const char LOG_SKEY[] = "PRIVATE+KEY+medverse.test/log+75862f3a+"
                               "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g";
static const char W_SKEY[] = "PRIVATE+KEY+witness.test/w1+94232e5c+"
                             "BGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOE";

static bool g_init;
static struct mv_tlog_signer g_log, g_w;
static struct mv_tlog_verifier g_keys[2];

static void init(void) {
  if (g_init)
    return;
  if (mv_tlog_signer_parse(LOG_SKEY, strlen(LOG_SKEY), &g_log, NULL) != MV_OK ||
      mv_tlog_signer_parse(W_SKEY, strlen(W_SKEY), &g_w, NULL) != MV_OK)
    abort();
  mv_tlog_verifier_of(&g_log, &g_keys[0]);
  mv_tlog_verifier_of(&g_w, &g_keys[1]);
  g_init = true;
}

static void checkpoint(const char *in, size_t n) {
  struct mv_tlog_checkpoint cp;
  char out[MV_LIMIT_TLOG_NOTE + 64];
  size_t len = 0;
  if (mv_tlog_checkpoint_parse(in, n, &cp, NULL) != MV_OK)
    return;
  if (mv_tlog_checkpoint_format(&cp, out, sizeof(out), &len, NULL) != MV_OK ||
      len != n || memcmp(out, in, n) != 0)
    abort();
}

static void note(const char *in, size_t n) {
  struct mv_tlog_note *nt = malloc(sizeof(*nt));
  if (!nt)
    abort();
  int rc = mv_tlog_note_open(in, n, g_keys, 2, nt, NULL);
  if (rc == MV_OK) {
    /* Only our own keys can have signed it: the fuzzer cannot forge. */
    bool any = false;
    for (size_t i = 0; i < nt->nsig; i++)
      any = any || nt->sig[i].verified;
    if (!any || nt->text_len > n)
      abort();
  }
  if (rc == MV_OK || rc == MV_ENOTFOUND)
    checkpoint(in, nt->text_len);
  free(nt);
}

static void keys(const char *in, size_t n) {
  struct mv_tlog_signer s;
  struct mv_tlog_verifier v;
  char out[MV_TLOG_VKEY_TEXT_MAX];
  if (mv_tlog_verifier_parse(in, n, &v, NULL) == MV_OK) {
    mv_tlog_verifier_format(&v, out);
    if (strlen(out) > n || memcmp(out, in, strlen(out)) != 0)
      abort();
  }
  if (mv_tlog_signer_parse(in, n, &s, NULL) == MV_OK)
    mv_tlog_signer_wipe(&s);
}

static void merge(const char *in, size_t n) {
  /* A signed note of ours, with the input as cosignature lines. */
  char base[512], *out = malloc(MV_LIMIT_TLOG_NOTE + 1);
  size_t bl = 0, ol = 0;
  struct mv_tlog_checkpoint cp = {.size = 7};
  memcpy(cp.origin, "medverse.test/log", 18);
  if (!out || mv_tlog_checkpoint_sign(&g_log, &cp, base, sizeof(base), &bl,
                                      NULL) != MV_OK)
    abort();
  if (mv_tlog_note_merge(base, bl, in, n, out, MV_LIMIT_TLOG_NOTE + 1, &ol,
                         NULL) == MV_OK) {
    /* the log's signature still verifies; unknown lines stay unverified */
    size_t cos = 0;
    int rc = mv_tlog_checkpoint_open(out, ol, &g_keys[0], &g_keys[1], 1, NULL,
                                     &cos, NULL, NULL);
    if (rc != MV_OK && rc != MV_ECRYPTO)
      abort();
  }
  free(out);
}

static void witness(const char *in, size_t n) {
  struct mv_tlog_witness_state st = {.has = true, .size = 3};
  struct mv_tlog_proof p = {0};
  struct mv_tlog_witness_result *r = malloc(sizeof(*r));
  if (!r)
    abort();
  int rc =
      mv_tlog_witness_check(&st, 3, in, n, &g_keys[0], &p, &g_w, 1, r, NULL);
  /* The fuzzer cannot produce the log's signature over a new tree. */
  if (rc == MV_OK && r->cp.size != 3)
    abort();
  free(r);
}

static void entry(const uint8_t *in, size_t n) {
  struct mv_tlog_entry e;
  uint8_t out[MV_TLOG_ENTRY_ENC_MAX];
  size_t len = 0;
  if (mv_tlog_entry_decode(in, n, &e, NULL) != MV_OK)
    return;
  if (mv_tlog_entry_encode(&e, out, sizeof(out), &len, NULL) != MV_OK ||
      len != n || memcmp(out, in, n) != 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > MV_LIMIT_TLOG_NOTE + 16)
    return 0;
  init();
  /* an exact-size copy, so ASan catches over-reads */
  size_t n = size - 1;
  char *in = malloc(n ? n : 1);
  if (!in)
    abort();
  memcpy(in, data + 1, n);
  switch (data[0] % 6) {
  case 0:
    note(in, n);
    break;
  case 1:
    checkpoint(in, n);
    break;
  case 2:
    keys(in, n);
    break;
  case 3:
    merge(in, n);
    break;
  case 4:
    witness(in, n);
    break;
  default:
    entry((const uint8_t *)in, n);
    break;
  }
  free(in);
  return 0;
}
