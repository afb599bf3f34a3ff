/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The leaf data of our log: one record version's metadata and a commitment
 * to its stored ciphertext, in a deterministic, versioned, bounded binary
 * encoding (docs/LEDGER.md "Leaf encoding") with a strict decoder. Only
 * opaque identifiers are allowed, so a leaf can never carry patient data.
 */
#include <string.h>

#include <sodium.h>

#include "tlog_int.h"

#define ENTRY_V1 0x01u

/* Domain separation for commitments, so that a commitment can never be
 * confused with a Merkle leaf or node hash (RFC 9162 §2.1.1 uses 0x00 and
 * 0x01 prefixes for those). */
static const char COMMIT_DOMAIN[] = "medverse/tlog/record/v1";

void mv_tlog_commitment(const void *ct, size_t len,
                        uint8_t out[MV_TLOG_HASH_LEN]) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  /* sizeof includes the NUL: the 0x00 separator. */
  crypto_hash_sha256_update(&st, (const uint8_t *)COMMIT_DOMAIN,
                            sizeof(COMMIT_DOMAIN));
  if (len)
    crypto_hash_sha256_update(&st, ct, len);
  crypto_hash_sha256_final(&st, out);
}

static const char *const ACTIONS[] = {NULL,     "create", "update",
                                      "delete", "erase",  "read"};

const char *mv_tlog_action_name(enum mv_tlog_action a) {
  if ((int)a >= 1 && (int)a <= 5)
    return ACTIONS[a];
  return "?";
}

int mv_tlog_action_parse(const char *s, enum mv_tlog_action *out) {
  for (int i = 1; s && i <= 5; i++)
    if (strcmp(s, ACTIONS[i]) == 0) {
      *out = (enum mv_tlog_action)i;
      return MV_OK;
    }
  return MV_EINVAL;
}

static bool ok_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '/' || c == ':';
}

static bool ok_text(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (!ok_char((unsigned char)s[i]))
      return false;
  return len > 0;
}

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
}

static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

int mv_tlog_entry_encode(const struct mv_tlog_entry *e, uint8_t *out,
                         size_t cap, size_t *out_len, struct mv_diag *diag) {
  struct {
    const char *name, *s;
    size_t max;
  } f[3] = {{"actor", e->actor, MV_TLOG_ACTOR_MAX},
            {"type", e->type, MV_TLOG_TYPE_MAX},
            {"id", e->id, MV_TLOG_ID_MAX}};
  size_t len[3];
  if (e->action < MV_TLOG_CREATE || e->action > MV_TLOG_READ)
    return mv_diag_set(diag, MV_EINVAL, "entry action out of range");
  if (e->version < 1 || e->version > INT64_MAX)
    return mv_diag_set(diag, MV_EINVAL, "entry version out of range");
  size_t need = 1 + 1 + 8 + 8 + 8 + MV_TLOG_HASH_LEN;
  for (int i = 0; i < 3; i++) {
    len[i] = strnlen(f[i].s, f[i].max + 1);
    if (len[i] > f[i].max || !ok_text(f[i].s, len[i]))
      return mv_diag_set(diag, MV_EINVAL,
                         "entry %s is empty, too long or has a character "
                         "outside [A-Za-z0-9-._/:]",
                         f[i].name);
    need += 1 + len[i];
  }
  if (cap < need)
    return mv_diag_set(diag, MV_ETOOBIG, "entry buffer too small");
  uint8_t *p = out;
  *p++ = ENTRY_V1;
  *p++ = (uint8_t)e->action;
  put64(p, e->seq);
  p += 8;
  put64(p, (uint64_t)e->t_us);
  p += 8;
  put64(p, e->version);
  p += 8;
  for (int i = 0; i < 3; i++) {
    *p++ = (uint8_t)len[i];
    memcpy(p, f[i].s, len[i]);
    p += len[i];
  }
  memcpy(p, e->commitment, MV_TLOG_HASH_LEN);
  p += MV_TLOG_HASH_LEN;
  *out_len = (size_t)(p - out);
  return MV_OK;
}

int mv_tlog_entry_decode(const uint8_t *data, size_t len,
                         struct mv_tlog_entry *out, struct mv_diag *diag) {
  struct mv_tlog_entry e;
  char *dst[3] = {e.actor, e.type, e.id};
  const size_t max[3] = {MV_TLOG_ACTOR_MAX, MV_TLOG_TYPE_MAX, MV_TLOG_ID_MAX};
  static const char *const names[3] = {"actor", "type", "id"};
  size_t pos = 0;
  memset(&e, 0, sizeof(e));
  if (!data || len < 2 + 24)
    return mv_diag_set(diag, MV_EPARSE, "entry too short");
  if (data[0] != ENTRY_V1)
    return mv_diag_set(diag, MV_EPARSE, "unknown entry version %u", data[0]);
  if (data[1] < MV_TLOG_CREATE || data[1] > MV_TLOG_READ)
    return mv_diag_set(diag, MV_EPARSE, "unknown entry action %u", data[1]);
  e.action = (enum mv_tlog_action)data[1];
  e.seq = get64(data + 2);
  e.t_us = (int64_t)get64(data + 10);
  e.version = get64(data + 18);
  if (e.version < 1 || e.version > INT64_MAX)
    return mv_diag_set(diag, MV_EPARSE, "entry version out of range");
  pos = 26;
  for (int i = 0; i < 3; i++) {
    if (pos >= len)
      return mv_diag_set(diag, MV_EPARSE, "entry truncated at %s", names[i]);
    size_t n = data[pos++];
    if (n > max[i] || n > len - pos || !ok_text((const char *)data + pos, n))
      return mv_diag_set(diag, MV_EPARSE, "entry %s is invalid", names[i]);
    memcpy(dst[i], data + pos, n);
    dst[i][n] = '\0';
    pos += n;
  }
  if (len - pos != MV_TLOG_HASH_LEN)
    return mv_diag_set(diag, MV_EPARSE,
                       "entry commitment missing or trailing bytes");
  memcpy(e.commitment, data + pos, MV_TLOG_HASH_LEN);
  *out = e;
  return MV_OK;
}
