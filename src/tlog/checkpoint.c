/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoints (C2SP tlog-checkpoint: origin, decimal tree size, base64 root,
 * optional extension lines), cosignatures (C2SP tlog-cosignature,
 * cosignature/v1: Ed25519 over "cosignature/v1\ntime <t>\n" || body, the
 * signature line carrying key id || u64 time || signature) and the witness
 * decision of C2SP tlog-witness (add-checkpoint) as a pure function: no
 * state is stored here, the caller keeps it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tlog_int.h"

static bool ctl_free(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return false;
  return true;
}

/* Next line of t[pos..len) ending in "\n": returns its length or -1. */
static long next_line(const char *t, size_t len, size_t pos) {
  if (pos >= len)
    return -1;
  const char *nl = memchr(t + pos, '\n', len - pos);
  return nl ? (long)(nl - (t + pos)) : -1;
}

int mv_tlog_checkpoint_parse(const char *text, size_t len,
                             struct mv_tlog_checkpoint *out,
                             struct mv_diag *diag) {
  struct mv_tlog_checkpoint cp;
  size_t pos = 0;
  long ll;
  memset(&cp, 0, sizeof(cp));
  if (!text || len > MV_LIMIT_TLOG_NOTE)
    return mv_diag_set(diag, MV_EPARSE, "checkpoint missing or too long");
  /* origin */
  ll = next_line(text, len, pos);
  if (ll <= 0 || (size_t)ll > MV_LIMIT_TLOG_ORIGIN ||
      !ctl_free(text, (size_t)ll))
    return mv_diag_set(diag, MV_EPARSE, "checkpoint line 1: bad origin");
  memcpy(cp.origin, text, (size_t)ll);
  pos += (size_t)ll + 1;
  /* size: decimal, no sign, no leading zeros, fits 64 bits */
  ll = next_line(text, len, pos);
  if (ll <= 0 || ll > 20 || (ll > 1 && text[pos] == '0'))
    return mv_diag_set(diag, MV_EPARSE, "checkpoint line 2: bad tree size");
  uint64_t size = 0;
  for (long i = 0; i < ll; i++) {
    char c = text[pos + (size_t)i];
    if (c < '0' || c > '9' || size > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
      return mv_diag_set(diag, MV_EPARSE, "checkpoint line 2: bad tree size");
    size = size * 10 + (uint64_t)(c - '0');
  }
  cp.size = size;
  pos += (size_t)ll + 1;
  /* root */
  ll = next_line(text, len, pos);
  if (ll <= 0 ||
      mv_tlog_hash_from_b64(text + pos, (size_t)ll, cp.root) != MV_OK)
    return mv_diag_set(diag, MV_EPARSE,
                       "checkpoint line 3: root is not base64 of 32 bytes");
  pos += (size_t)ll + 1;
  /* extension lines: non-empty, no control characters */
  size_t ext_start = pos;
  while (pos < len) {
    ll = next_line(text, len, pos);
    if (ll <= 0 || !ctl_free(text + pos, (size_t)ll))
      return mv_diag_set(diag, MV_EPARSE, "checkpoint: bad extension line");
    pos += (size_t)ll + 1;
  }
  if (pos - ext_start > MV_LIMIT_TLOG_CHECKPOINT_EXT)
    return mv_diag_set(diag, MV_EPARSE, "checkpoint extensions too long");
  cp.ext_len = pos - ext_start;
  memcpy(cp.ext, text + ext_start, cp.ext_len);
  *out = cp;
  return MV_OK;
}

int mv_tlog_checkpoint_format(const struct mv_tlog_checkpoint *cp, char *out,
                              size_t cap, size_t *out_len,
                              struct mv_diag *diag) {
  char b64[45];
  size_t olen = strnlen(cp->origin, sizeof(cp->origin));
  if (olen == 0 || olen > MV_LIMIT_TLOG_ORIGIN || !ctl_free(cp->origin, olen))
    return mv_diag_set(diag, MV_EINVAL, "checkpoint origin empty or invalid");
  if (cp->ext_len > MV_LIMIT_TLOG_CHECKPOINT_EXT ||
      (cp->ext_len && cp->ext[cp->ext_len - 1] != '\n'))
    return mv_diag_set(diag, MV_EINVAL, "checkpoint extension invalid");
  mv_tlog_hash_to_b64(cp->root, b64);
  int n = snprintf(out, cap, "%.*s\n%" PRIu64 "\n%s\n%.*s", (int)olen,
                   cp->origin, cp->size, b64, (int)cp->ext_len, cp->ext);
  if (n < 0 || (size_t)n >= cap)
    return mv_diag_set(diag, MV_ETOOBIG, "checkpoint buffer too small");
  *out_len = (size_t)n;
  return MV_OK;
}

int mv_tlog_checkpoint_sign(const struct mv_tlog_signer *s,
                            const struct mv_tlog_checkpoint *cp, char *out,
                            size_t cap, size_t *out_len, struct mv_diag *diag) {
  char body[MV_LIMIT_TLOG_ORIGIN + 64 + MV_LIMIT_TLOG_CHECKPOINT_EXT + 2];
  size_t blen = 0;
  int rc = mv_tlog_checkpoint_format(cp, body, sizeof(body), &blen, diag);
  if (rc != MV_OK)
    return rc;
  return mv_tlog_note_sign(s, body, blen, out, cap, out_len, diag);
}

int mv_tlog_checkpoint_open(const char *note, size_t len,
                            const struct mv_tlog_verifier *log_key,
                            const struct mv_tlog_verifier *witnesses,
                            size_t nwitnesses, struct mv_tlog_checkpoint *out,
                            size_t *out_cosigned, struct mv_tlog_note *note_out,
                            struct mv_diag *diag) {
  struct mv_tlog_verifier *keys = NULL;
  struct mv_tlog_note *n = NULL;
  struct mv_tlog_checkpoint cp;
  int rc;
  if (!log_key || log_key->type != MV_TLOG_KEY_ED25519)
    return mv_diag_set(diag, MV_EINVAL, "the log key must be an Ed25519 key");
  if (nwitnesses > MV_LIMIT_TLOG_NOTE_SIGS)
    return mv_diag_set(diag, MV_EINVAL, "too many witness keys");
  keys = calloc(nwitnesses + 1, sizeof(*keys));
  n = note_out ? note_out : malloc(sizeof(*n));
  if (!keys || !n) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  keys[0] = *log_key;
  for (size_t i = 0; i < nwitnesses; i++)
    keys[i + 1] = witnesses[i];
  rc = mv_tlog_note_open(note, len, keys, nwitnesses + 1, n, diag);
  if (rc == MV_ENOTFOUND) {
    rc = mv_diag_set(diag, MV_ENOTFOUND, "no signature by the log's key");
    goto out;
  }
  if (rc != MV_OK)
    goto out;
  bool log_signed = false;
  size_t cosigned = 0;
  for (size_t i = 0; i < n->nsig; i++) {
    const struct mv_tlog_note_sig *s = &n->sig[i];
    if (!s->verified)
      continue;
    if (s->key_type == MV_TLOG_KEY_ED25519 && s->key_id == log_key->key_id &&
        strcmp(s->name, log_key->name) == 0)
      log_signed = true;
    else if (s->key_type == MV_TLOG_KEY_COSIG_V1)
      cosigned++;
  }
  if (!log_signed) {
    rc = mv_diag_set(diag, MV_ENOTFOUND, "no signature by the log's key");
    goto out;
  }
  rc = mv_tlog_checkpoint_parse(note, n->text_len, &cp, diag);
  if (rc != MV_OK)
    goto out;
  if (strcmp(cp.origin, log_key->name) != 0) {
    rc = mv_diag_set(diag, MV_EINVALID,
                     "checkpoint origin is not the log key's name");
    goto out;
  }
  if (out)
    *out = cp;
  if (out_cosigned)
    *out_cosigned = cosigned;
out:
  free(keys);
  if (n != note_out)
    free(n);
  return rc;
}

/* ---- cosignature/v1 ------------------------------------------------------- */

static int cosig_msg(const char *body, size_t len, uint64_t t_s, uint8_t **out,
                     size_t *out_len) {
  char head[64];
  int h =
      snprintf(head, sizeof(head), "cosignature/v1\ntime %" PRIu64 "\n", t_s);
  uint8_t *m = malloc((size_t)h + len);
  if (!m)
    return MV_ENOMEM;
  memcpy(m, head, (size_t)h);
  memcpy(m + h, body, len);
  *out = m;
  *out_len = (size_t)h + len;
  return MV_OK;
}

int mv_tlog_cosign(const struct mv_tlog_signer *w, const char *body, size_t len,
                   uint64_t t_s, char line[MV_TLOG_SIG_LINE_MAX],
                   size_t *out_len, struct mv_diag *diag) {
  struct mv_tlog_checkpoint cp;
  uint8_t *msg = NULL, raw[76];
  size_t mlen = 0;
  char b64[4 * ((sizeof(raw) + 2) / 3) + 1];
  int rc;
  if (!w || w->type != MV_TLOG_KEY_COSIG_V1)
    return mv_diag_set(diag, MV_EINVAL,
                       "the witness key must be a cosignature/v1 key");
  rc = mv_tlog_checkpoint_parse(body, len, &cp, diag);
  if (rc != MV_OK)
    return rc;
  rc = cosig_msg(body, len, t_s, &msg, &mlen);
  if (rc != MV_OK)
    return mv_diag_set(diag, rc, "out of memory");
  raw[0] = (uint8_t)(w->key_id >> 24);
  raw[1] = (uint8_t)(w->key_id >> 16);
  raw[2] = (uint8_t)(w->key_id >> 8);
  raw[3] = (uint8_t)w->key_id;
  for (int i = 0; i < 8; i++)
    raw[4 + i] = (uint8_t)(t_s >> (56 - 8 * i));
  if (crypto_sign_detached(raw + 12, NULL, msg, mlen, w->sk) != 0) {
    rc = mv_diag_set(diag, MV_ECRYPTO, "signing failed");
    goto out;
  }
  mv__tlog_b64_encode(raw, sizeof(raw), b64, sizeof(b64));
  int n = snprintf(line, MV_TLOG_SIG_LINE_MAX, "\xe2\x80\x94 %s %s\n", w->name,
                   b64);
  if (n < 0 || (size_t)n >= MV_TLOG_SIG_LINE_MAX) {
    rc = mv_diag_set(diag, MV_ETOOBIG, "signature line too long");
    goto out;
  }
  *out_len = (size_t)n;
out:
  free(msg);
  return rc;
}

int mv_tlog_cosig_verify(const struct mv_tlog_verifier *v, const char *body,
                         size_t len, const uint8_t *sig, size_t sig_len,
                         uint64_t *out_t_s, struct mv_diag *diag) {
  uint8_t *msg = NULL;
  size_t mlen = 0;
  if (!v || v->type != MV_TLOG_KEY_COSIG_V1)
    return mv_diag_set(diag, MV_EINVAL, "not a cosignature/v1 key");
  if (!sig || sig_len != 76)
    return mv_diag_set(diag, MV_EINVAL, "cosignature is not 76 bytes");
  uint32_t id = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 |
                (uint32_t)sig[2] << 8 | sig[3];
  if (id != v->key_id)
    return mv_diag_set(diag, MV_ECRYPTO, "cosignature key id mismatch");
  uint64_t t = 0;
  for (int i = 0; i < 8; i++)
    t = t << 8 | sig[4 + i];
  if (!body || len > MV_LIMIT_TLOG_NOTE)
    return mv_diag_set(diag, MV_EINVAL, "bad checkpoint body");
  if (cosig_msg(body, len, t, &msg, &mlen) != MV_OK)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  int ok = crypto_sign_verify_detached(sig + 12, msg, mlen, v->pk);
  free(msg);
  if (ok != 0)
    return mv_diag_set(diag, MV_ECRYPTO, "cosignature does not verify");
  if (out_t_s)
    *out_t_s = t;
  return MV_OK;
}

/* ---- witness ---------------------------------------------------------------- */

const char *mv_tlog_witness_reason_str(enum mv_tlog_witness_reason r) {
  switch (r) {
#define MV__TLOG_WR_STR(name, text)                                            \
  case MV_TLOG_WITNESS_##name:                                                 \
    return text;
    MV_TLOG_WITNESS_REASONS(MV__TLOG_WR_STR)
#undef MV__TLOG_WR_STR
  }
  return "unknown reason";
}

static int refuse(struct mv_tlog_witness_result *out,
                  enum mv_tlog_witness_reason r, int err, struct mv_diag *diag,
                  const char *detail) {
  out->reason = r;
  return mv_diag_set(diag, err, "witness refuses: %s%s%s",
                     mv_tlog_witness_reason_str(r), detail ? ": " : "",
                     detail ? detail : "");
}

int mv_tlog_witness_check(const struct mv_tlog_witness_state *state,
                          uint64_t old_size, const char *note, size_t note_len,
                          const struct mv_tlog_verifier *log_key,
                          const struct mv_tlog_proof *proof,
                          const struct mv_tlog_signer *witness, uint64_t now_s,
                          struct mv_tlog_witness_result *out,
                          struct mv_diag *diag) {
  struct mv_tlog_note *n = NULL;
  struct mv_diag d;
  int rc;
  if (!out)
    return mv_diag_set(diag, MV_EINVAL, "no result");
  memset(out, 0, sizeof(*out));
  if (!state || !log_key || !witness || !proof)
    return mv_diag_set(diag, MV_EINVAL, "missing witness input");
  if (witness->type != MV_TLOG_KEY_COSIG_V1)
    return mv_diag_set(diag, MV_EINVAL,
                       "the witness key must be a cosignature/v1 key");
  n = malloc(sizeof(*n));
  if (!n)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  mv_diag_clear(&d);
  rc = mv_tlog_checkpoint_open(note, note_len, log_key, NULL, 0, &out->cp, NULL,
                               n, &d);
  if (rc == MV_EPARSE || rc == MV_EINVAL) {
    rc = refuse(out, MV_TLOG_WITNESS_MALFORMED, MV_EINVALID, diag, d.msg);
    goto out;
  }
  if (rc == MV_ENOTFOUND) {
    rc = refuse(out, MV_TLOG_WITNESS_UNKNOWN_KEY, MV_EINVALID, diag, NULL);
    goto out;
  }
  if (rc == MV_ECRYPTO) {
    rc = refuse(out, MV_TLOG_WITNESS_BAD_SIGNATURE, MV_EINVALID, diag, NULL);
    goto out;
  }
  if (rc == MV_EINVALID) {
    rc = refuse(out, MV_TLOG_WITNESS_ORIGIN, MV_EINVALID, diag, NULL);
    goto out;
  }
  if (rc != MV_OK)
    goto out;
  const struct mv_tlog_checkpoint *cp = &out->cp;
  if (state->has && now_s < state->last_t_s) {
    rc = refuse(out, MV_TLOG_WITNESS_CLOCK, MV_EINVALID, diag, NULL);
    goto out;
  }
  if (state->has && cp->size < state->size) {
    rc = refuse(out, MV_TLOG_WITNESS_ROLLBACK, MV_EINVALID, diag, NULL);
    goto out;
  }
  if (state->has && cp->size == state->size &&
      !mv_tlog_hash_eq(cp->root, state->root)) {
    rc = refuse(out, MV_TLOG_WITNESS_FORK, MV_EINVALID, diag, NULL);
    goto out;
  }
  uint64_t have = state->has ? state->size : 0;
  if (old_size != have) {
    rc = refuse(out, MV_TLOG_WITNESS_STALE_OLD_SIZE, MV_ECONFLICT, diag, NULL);
    goto out;
  }
  if (have == 0 || cp->size == have) {
    /* Nothing to prove from (a first checkpoint or an empty old tree), or
     * the same tree again: the proof must be empty. */
    if (proof->n != 0) {
      rc = refuse(out, MV_TLOG_WITNESS_BAD_PROOF, MV_EINVALID, diag,
                  "expected an empty proof");
      goto out;
    }
  } else {
    mv_diag_clear(&d);
    rc = mv_tlog_verify_consistency(have, cp->size, state->root, 32, cp->root,
                                    32, proof, &d);
    if (rc == MV_EINVAL) {
      rc = refuse(out, MV_TLOG_WITNESS_BAD_PROOF, MV_EINVALID, diag, d.msg);
      goto out;
    }
    if (rc != MV_OK) {
      rc = refuse(out, MV_TLOG_WITNESS_INCONSISTENT, MV_EINVALID, diag, d.msg);
      goto out;
    }
  }
  rc = mv_tlog_cosign(witness, note, n->text_len, now_s, out->cosig_line,
                      &out->cosig_len, diag);
  if (rc != MV_OK)
    goto out;
  out->reason = MV_TLOG_WITNESS_OK;
  out->next.has = true;
  out->next.size = cp->size;
  memcpy(out->next.root, cp->root, 32);
  out->next.last_t_s = now_s;
out:
  free(n);
  return rc;
}
