/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys and signed notes in the C2SP signed-note format (the format of Go's
 * golang.org/x/mod/sumdb/note): Ed25519 keys in "PRIVATE+KEY+name+hash+b64"
 * and "name+hash+b64" texts, signing a note, and a strict, bounded parser
 * and verifier for notes with any number of signature lines (up to
 * MV_LIMIT_TLOG_NOTE_SIGS), including cosignature/v1 lines (C2SP
 * tlog-cosignature) verified by witness keys. Ed25519 is libsodium's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tlog_int.h"

static const char EM_DASH_SP[] = "\xe2\x80\x94 "; /* U+2014 then a space */
#define EM_LEN 4u

/* Key ID of C2SP signed-note: SHA-256(name || 0x0A || type || pub)[:4]. */
static uint32_t key_id(const char *name, uint8_t type, const uint8_t pk[32]) {
  crypto_hash_sha256_state st;
  uint8_t h[32];
  const uint8_t nl = 0x0a;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
  crypto_hash_sha256_update(&st, &nl, 1);
  crypto_hash_sha256_update(&st, &type, 1);
  crypto_hash_sha256_update(&st, pk, 32);
  crypto_hash_sha256_final(&st, h);
  return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 |
         h[3];
}

/* A key or signer name: non-empty, bounded, printable ASCII without spaces
 * and without '+' (Go's note.isValidName restricted to ASCII). */
static bool valid_name(const char *s, size_t len) {
  if (len == 0 || len > MV_TLOG_NAME_MAX)
    return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f || c == '+')
      return false;
  }
  return true;
}

static bool valid_type(uint8_t t) {
  return t == MV_TLOG_KEY_ED25519 || t == MV_TLOG_KEY_COSIG_V1;
}

void mv_tlog_signer_wipe(struct mv_tlog_signer *s) {
  if (s)
    sodium_memzero(s, sizeof(*s));
}

void mv_tlog_verifier_of(const struct mv_tlog_signer *s,
                         struct mv_tlog_verifier *out) {
  memset(out, 0, sizeof(*out));
  memcpy(out->name, s->name, sizeof(out->name));
  out->type = s->type;
  out->key_id = s->key_id;
  memcpy(out->pk, s->pk, 32);
}

void mv_tlog_verifier_format(const struct mv_tlog_verifier *v,
                             char out[MV_TLOG_VKEY_TEXT_MAX]) {
  uint8_t raw[33];
  char b64[49];
  raw[0] = v->type;
  memcpy(raw + 1, v->pk, 32);
  mv__tlog_b64_encode(raw, sizeof(raw), b64, sizeof(b64));
  snprintf(out, MV_TLOG_VKEY_TEXT_MAX, "%s+%08x+%s", v->name,
           (unsigned)v->key_id, b64);
}

int mv_tlog_key_generate(const char *name, uint8_t type,
                         char skey[MV_TLOG_SKEY_TEXT_MAX],
                         char vkey[MV_TLOG_VKEY_TEXT_MAX],
                         struct mv_diag *diag) {
  struct mv_tlog_signer s;
  struct mv_tlog_verifier v;
  uint8_t raw[33];
  char b64[49];
  if (!name || !valid_name(name, strlen(name)))
    return mv_diag_set(diag, MV_EINVAL,
                       "key name must be 1-%u printable characters without "
                       "spaces or '+'",
                       MV_TLOG_NAME_MAX);
  if (!valid_type(type))
    return mv_diag_set(diag, MV_EINVAL, "unknown key type %u", type);
  memset(&s, 0, sizeof(s));
  if (crypto_sign_keypair(s.pk, s.sk) != 0)
    return mv_diag_set(diag, MV_ECRYPTO, "key generation failed");
  memcpy(s.name, name, strlen(name) + 1);
  s.type = type;
  s.key_id = key_id(name, type, s.pk);
  raw[0] = type;
  memcpy(raw + 1, s.sk, 32); /* the seed */
  mv__tlog_b64_encode(raw, sizeof(raw), b64, sizeof(b64));
  snprintf(skey, MV_TLOG_SKEY_TEXT_MAX, "PRIVATE+KEY+%s+%08x+%s", name,
           (unsigned)s.key_id, b64);
  mv_tlog_verifier_of(&s, &v);
  mv_tlog_verifier_format(&v, vkey);
  sodium_memzero(raw, sizeof(raw));
  sodium_memzero(b64, sizeof(b64));
  mv_tlog_signer_wipe(&s);
  return MV_OK;
}

/* Split "name+hash+b64" (b64 may hold '+'); checks name and hash form. */
static int split_key(const char *t, size_t len, const char **name,
                     size_t *name_len, uint32_t *hash, const char **b64,
                     size_t *b64_len) {
  const char *p1 = memchr(t, '+', len);
  if (!p1)
    return MV_EPARSE;
  const char *rest = p1 + 1;
  size_t rest_len = len - (size_t)(rest - t);
  if (rest_len < 10 || rest[8] != '+')
    return MV_EPARSE;
  uint32_t h = 0;
  for (int i = 0; i < 8; i++) {
    char c = rest[i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (unsigned)(c - 'a' + 10);
    else
      return MV_EPARSE;
    h = h << 4 | d;
  }
  *name = t;
  *name_len = (size_t)(p1 - t);
  if (!valid_name(*name, *name_len))
    return MV_EPARSE;
  *hash = h;
  *b64 = rest + 9;
  *b64_len = rest_len - 9;
  return MV_OK;
}

static size_t strip_nl(const char *text, size_t len) {
  return (len > 0 && text[len - 1] == '\n') ? len - 1 : len;
}

int mv_tlog_signer_parse(const char *text, size_t len,
                         struct mv_tlog_signer *out, struct mv_diag *diag) {
  static const char PFX[] = "PRIVATE+KEY+";
  struct mv_tlog_signer s;
  const char *name, *b64;
  size_t name_len, b64_len, n = 0;
  uint32_t hash;
  uint8_t raw[48];
  int rc = MV_EPARSE;
  memset(&s, 0, sizeof(s));
  if (!text)
    return mv_diag_set(diag, MV_EPARSE, "no private key");
  len = strip_nl(text, len);
  if (len < sizeof(PFX) - 1 || memcmp(text, PFX, sizeof(PFX) - 1) != 0 ||
      split_key(text + sizeof(PFX) - 1, len - (sizeof(PFX) - 1), &name,
                &name_len, &hash, &b64, &b64_len) != MV_OK ||
      mv__tlog_b64_decode(b64, b64_len, raw, sizeof(raw), &n) != MV_OK ||
      n != 33 || !valid_type(raw[0])) {
    mv_diag_set(diag, MV_EPARSE, "malformed private key");
    goto out;
  }
  memcpy(s.name, name, name_len);
  s.type = raw[0];
  if (crypto_sign_seed_keypair(s.pk, s.sk, raw + 1) != 0) {
    rc = mv_diag_set(diag, MV_ECRYPTO, "bad private key seed");
    goto out;
  }
  s.key_id = key_id(s.name, s.type, s.pk);
  if (s.key_id != hash) {
    mv_diag_set(diag, MV_EPARSE, "private key hash does not match the key");
    goto out;
  }
  *out = s;
  rc = MV_OK;
out:
  sodium_memzero(raw, sizeof(raw));
  sodium_memzero(&s, sizeof(s));
  return rc;
}

int mv_tlog_verifier_parse(const char *text, size_t len,
                           struct mv_tlog_verifier *out, struct mv_diag *diag) {
  struct mv_tlog_verifier v;
  const char *name, *b64;
  size_t name_len, b64_len, n = 0;
  uint32_t hash;
  uint8_t raw[48];
  memset(&v, 0, sizeof(v));
  if (!text)
    return mv_diag_set(diag, MV_EPARSE, "no verifier key");
  len = strip_nl(text, len);
  if (split_key(text, len, &name, &name_len, &hash, &b64, &b64_len) != MV_OK ||
      mv__tlog_b64_decode(b64, b64_len, raw, sizeof(raw), &n) != MV_OK ||
      n != 33)
    return mv_diag_set(diag, MV_EPARSE, "malformed verifier key");
  if (!valid_type(raw[0]))
    return mv_diag_set(diag, MV_EPARSE, "unsupported verifier key type %u",
                       raw[0]);
  memcpy(v.name, name, name_len);
  v.type = raw[0];
  memcpy(v.pk, raw + 1, 32);
  v.key_id = key_id(v.name, v.type, v.pk);
  if (v.key_id != hash)
    return mv_diag_set(diag, MV_EPARSE,
                       "verifier key hash does not match the key");
  *out = v;
  return MV_OK;
}

static int read_small(const char *path, char *buf, size_t cap, size_t *out_len,
                      struct mv_diag *diag) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return mv_diag_set(diag, MV_EIO, "%s: %s", path, strerror(errno));
  size_t n = fread(buf, 1, cap, f);
  bool err = ferror(f) != 0;
  fclose(f);
  if (err)
    return mv_diag_set(diag, MV_EIO, "%s: read error", path);
  if (n == cap)
    return mv_diag_set(diag, MV_ETOOBIG, "%s: key file too large", path);
  *out_len = n;
  return MV_OK;
}

int mv_tlog_signer_load(const char *path, struct mv_tlog_signer *out,
                        struct mv_diag *diag) {
  char buf[4096];
  size_t n = 0;
  int rc = read_small(path, buf, sizeof(buf), &n, diag);
  if (rc == MV_OK)
    rc = mv_tlog_signer_parse(buf, n, out, diag);
  sodium_memzero(buf, sizeof(buf));
  if (rc != MV_OK)
    mv_diag_set_path(diag, path);
  return rc;
}

int mv_tlog_verifier_load(const char *path, struct mv_tlog_verifier *out,
                          struct mv_diag *diag) {
  char buf[4096];
  size_t n = 0;
  int rc = read_small(path, buf, sizeof(buf), &n, diag);
  if (rc == MV_OK)
    rc = mv_tlog_verifier_parse(buf, n, out, diag);
  if (rc != MV_OK)
    mv_diag_set_path(diag, path);
  return rc;
}

/* ---- notes ---------------------------------------------------------------- */

/* Note text: non-empty, valid UTF-8, no control characters but "\n", ends in
 * "\n" and has no blank line (the blank line separates the signatures). */
static bool valid_text(const char *t, size_t len) {
  if (len == 0 || t[len - 1] != '\n' || t[0] == '\n')
    return false;
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char)t[i];
    if (c == '\n') {
      if (i + 1 < len && t[i + 1] == '\n')
        return false;
      i++;
      continue;
    }
    if (c < 0x20 || c == 0x7f)
      return false;
    if (c < 0x80) {
      i++;
      continue;
    }
    /* UTF-8 (RFC 3629 §4): no overlongs, no surrogates, <= U+10FFFF. */
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (len - i < n)
      return false;
    for (size_t k = 1; k < n; k++) {
      unsigned char cc = (unsigned char)t[i + k];
      if ((cc & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
      return false;
    i += n;
  }
  return true;
}

static int sig_line(const char *name, uint32_t id, const uint8_t *sig,
                    size_t sig_len, char *out, size_t cap, size_t *out_len) {
  uint8_t raw[4 + 72];
  char b64[4 * ((sizeof(raw) + 2) / 3) + 1];
  raw[0] = (uint8_t)(id >> 24);
  raw[1] = (uint8_t)(id >> 16);
  raw[2] = (uint8_t)(id >> 8);
  raw[3] = (uint8_t)id;
  memcpy(raw + 4, sig, sig_len);
  mv__tlog_b64_encode(raw, 4 + sig_len, b64, sizeof(b64));
  int n = snprintf(out, cap, "%s%s %s\n", EM_DASH_SP, name, b64);
  if (n < 0 || (size_t)n >= cap)
    return MV_ETOOBIG;
  *out_len = (size_t)n;
  return MV_OK;
}

int mv_tlog_note_sign(const struct mv_tlog_signer *s, const char *text,
                      size_t len, char *out, size_t cap, size_t *out_len,
                      struct mv_diag *diag) {
  uint8_t sig[64];
  char line[MV_TLOG_SIG_LINE_MAX];
  size_t ll = 0;
  if (!s || s->type != MV_TLOG_KEY_ED25519)
    return mv_diag_set(diag, MV_EINVAL, "note signer must be an Ed25519 key");
  if (!text || len > MV_LIMIT_TLOG_NOTE || !valid_text(text, len))
    return mv_diag_set(diag, MV_EINVAL,
                       "note text must be non-empty UTF-8 lines without "
                       "control characters or blank lines");
  if (crypto_sign_detached(sig, NULL, (const uint8_t *)text, len, s->sk) != 0)
    return mv_diag_set(diag, MV_ECRYPTO, "signing failed");
  if (sig_line(s->name, s->key_id, sig, 64, line, sizeof(line), &ll) != MV_OK ||
      len + 1 + ll + 1 > cap)
    return mv_diag_set(diag, MV_ETOOBIG, "note buffer too small");
  memcpy(out, text, len);
  out[len] = '\n';
  memcpy(out + len + 1, line, ll);
  out[len + 1 + ll] = '\0';
  *out_len = len + 1 + ll;
  return MV_OK;
}

/* Parse one signature line t[0..len) (without its "\n"). */
static int parse_sig_line(const char *t, size_t len,
                          struct mv_tlog_note_sig *out) {
  uint8_t raw[4 + 512];
  size_t n = 0;
  if (len < EM_LEN || memcmp(t, EM_DASH_SP, EM_LEN) != 0)
    return MV_EPARSE;
  t += EM_LEN;
  len -= EM_LEN;
  const char *sp = memchr(t, ' ', len);
  if (!sp)
    return MV_EPARSE;
  size_t name_len = (size_t)(sp - t);
  if (!valid_name(t, name_len))
    return MV_EPARSE;
  const char *b64 = sp + 1;
  size_t b64_len = len - name_len - 1;
  if (mv__tlog_b64_decode(b64, b64_len, raw, sizeof(raw), &n) != MV_OK || n < 5)
    return MV_EPARSE;
  memset(out, 0, sizeof(*out));
  memcpy(out->name, t, name_len);
  out->key_id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
                (uint32_t)raw[2] << 8 | raw[3];
  out->sig_len = n - 4;
  memcpy(out->sig, raw + 4,
         out->sig_len < sizeof(out->sig) ? out->sig_len : sizeof(out->sig));
  return MV_OK;
}

static int verify_sig(const struct mv_tlog_verifier *k, const char *text,
                      size_t len, struct mv_tlog_note_sig *s) {
  if (k->type == MV_TLOG_KEY_ED25519) {
    if (s->sig_len != 64 || crypto_sign_verify_detached(
                                s->sig, (const uint8_t *)text, len, k->pk) != 0)
      return MV_ECRYPTO;
    return MV_OK;
  }
  uint8_t full[76];
  if (s->sig_len != 72)
    return MV_ECRYPTO;
  full[0] = (uint8_t)(s->key_id >> 24);
  full[1] = (uint8_t)(s->key_id >> 16);
  full[2] = (uint8_t)(s->key_id >> 8);
  full[3] = (uint8_t)s->key_id;
  memcpy(full + 4, s->sig, 72);
  return mv_tlog_cosig_verify(k, text, len, full, sizeof(full), &s->cosig_time,
                              NULL) == MV_OK
             ? MV_OK
             : MV_ECRYPTO;
}

int mv_tlog_note_open(const char *note, size_t len,
                      const struct mv_tlog_verifier *keys, size_t nkeys,
                      struct mv_tlog_note *out, struct mv_diag *diag) {
  struct mv_tlog_note *n = NULL, tmp_note;
  size_t verified = 0;
  if (!note || len == 0)
    return mv_diag_set(diag, MV_EPARSE, "empty note");
  if (len > MV_LIMIT_TLOG_NOTE)
    return mv_diag_set(diag, MV_EPARSE, "note longer than %u bytes",
                       MV_LIMIT_TLOG_NOTE);
  if (memchr(note, '\0', len))
    return mv_diag_set(diag, MV_EPARSE, "note contains a NUL byte");
  /* The last blank line separates text and signatures (Go's note.Open). */
  size_t split = len;
  for (size_t i = len - 1; i > 0; i--)
    if (note[i] == '\n' && note[i - 1] == '\n') {
      split = i - 1;
      break;
    }
  if (split == len)
    return mv_diag_set(diag, MV_EPARSE, "note has no blank line");
  size_t text_len = split + 1;
  if (!valid_text(note, text_len))
    return mv_diag_set(diag, MV_EPARSE, "malformed note text");
  n = out ? out : &tmp_note;
  memset(n, 0, sizeof(*n));
  n->text_len = text_len;
  size_t pos = text_len + 1;
  if (pos >= len || note[len - 1] != '\n')
    return mv_diag_set(diag, MV_EPARSE,
                       "note signatures missing or not newline-terminated");
  while (pos < len) {
    const char *nl = memchr(note + pos, '\n', len - pos);
    size_t ll = (size_t)(nl - (note + pos));
    if (n->nsig >= MV_LIMIT_TLOG_NOTE_SIGS)
      return mv_diag_set(diag, MV_EPARSE, "more than %u signatures",
                         MV_LIMIT_TLOG_NOTE_SIGS);
    struct mv_tlog_note_sig *s = &n->sig[n->nsig];
    if (parse_sig_line(note + pos, ll, s) != MV_OK)
      return mv_diag_set(diag, MV_EPARSE, "malformed signature line %zu",
                         n->nsig + 1);
    for (size_t j = 0; j < n->nsig; j++)
      if (n->sig[j].key_id == s->key_id && strcmp(n->sig[j].name, s->name) == 0)
        return mv_diag_set(diag, MV_EPARSE,
                           "two signatures by one key (line %zu)", n->nsig + 1);
    n->nsig++;
    pos += ll + 1;
  }
  for (size_t i = 0; i < n->nsig; i++) {
    struct mv_tlog_note_sig *s = &n->sig[i];
    for (size_t k = 0; k < nkeys; k++) {
      if (keys[k].key_id != s->key_id || strcmp(keys[k].name, s->name) != 0)
        continue;
      if (verify_sig(&keys[k], note, text_len, s) != MV_OK)
        return mv_diag_set(diag, MV_ECRYPTO,
                           "signature by key %s+%08x does not verify", s->name,
                           (unsigned)s->key_id);
      s->verified = true;
      s->key_type = keys[k].type;
      verified++;
      break;
    }
  }
  if (verified == 0)
    return mv_diag_set(diag, MV_ENOTFOUND, "no signature by a known key");
  return MV_OK;
}

int mv_tlog_note_merge(const char *note, size_t len, const char *lines,
                       size_t lines_len, char *out, size_t cap, size_t *out_len,
                       struct mv_diag *diag) {
  struct mv_tlog_note *n = NULL;
  struct mv_tlog_note_sig s;
  int rc = MV_OK;
  n = malloc(sizeof(*n));
  if (!n)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  rc = mv_tlog_note_open(note, len, NULL, 0, n, diag);
  if (rc != MV_ENOTFOUND) /* no keys given: a well-formed note says so */
    goto out;
  rc = MV_OK;
  if (len + 1 > cap) {
    rc = mv_diag_set(diag, MV_ETOOBIG, "merged note too large");
    goto out;
  }
  memcpy(out, note, len);
  size_t o = len, pos = 0;
  while (pos < lines_len) {
    const char *nl = memchr(lines + pos, '\n', lines_len - pos);
    if (!nl) {
      rc = mv_diag_set(diag, MV_EPARSE, "signature line without newline");
      goto out;
    }
    size_t ll = (size_t)(nl - (lines + pos));
    if (parse_sig_line(lines + pos, ll, &s) != MV_OK) {
      rc = mv_diag_set(diag, MV_EPARSE, "malformed signature line");
      goto out;
    }
    bool dup = false;
    for (size_t j = 0; j < n->nsig && !dup; j++)
      dup = n->sig[j].key_id == s.key_id && strcmp(n->sig[j].name, s.name) == 0;
    if (!dup) {
      if (n->nsig >= MV_LIMIT_TLOG_NOTE_SIGS || o + ll + 2 > cap ||
          o + ll + 1 > MV_LIMIT_TLOG_NOTE) {
        rc = mv_diag_set(diag, MV_ETOOBIG, "merged note too large");
        goto out;
      }
      n->sig[n->nsig++] = s;
      memcpy(out + o, lines + pos, ll + 1);
      o += ll + 1;
    }
    pos += ll + 1;
  }
  out[o] = '\0';
  *out_len = o;
out:
  free(n);
  return rc;
}
