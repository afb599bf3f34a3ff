/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MIT-format annotation files (PhysioNet annot(5)). Each annotation is a
 * little-endian 16-bit word: the code in the top 6 bits, the time since the
 * previous annotation in the low 10. Codes above ACMAX are pseudo-
 * annotations: SKIP (59) carries a 32-bit interval (high word first), NUM
 * (60), SUB (61), CHN (62) and AUX (63, a byte string padded to even length)
 * modify the annotation they follow; NUM and CHN persist. A zero word ends
 * the file. Also the code tables (mnemonics, which codes are beats).
 */
#include <stdlib.h>
#include <string.h>

#include "mv_buf.h"
#include "wfdb_int.h"

enum { A_SKIP = 59, A_NUM = 60, A_SUB = 61, A_CHN = 62, A_AUX = 63 };

static const char *const mnemonics[MV_SIG_ANN_ACMAX + 1] = {
    [0] = " ",  [1] = "N",  [2] = "L",   [3] = "R",  [4] = "a",  [5] = "V",
    [6] = "F",  [7] = "J",  [8] = "A",   [9] = "S",  [10] = "E", [11] = "j",
    [12] = "/", [13] = "Q", [14] = "~",  [16] = "|", [18] = "s", [19] = "T",
    [20] = "*", [21] = "D", [22] = "\"", [23] = "=", [24] = "p", [25] = "B",
    [26] = "^", [27] = "t", [28] = "+",  [29] = "u", [30] = "?", [31] = "!",
    [32] = "[", [33] = "]", [34] = "e",  [35] = "n", [36] = "@", [37] = "x",
    [38] = "f", [39] = "(", [40] = ")",  [41] = "r",
};

bool mv_sig_ann_is_beat(uint8_t type) {
  /* WFDB's default isqrs table: every beat label, including paced (/),
   * fusion of paced and normal (f), unclassifiable (Q), learning (?). */
  switch (type) {
  case 1:
  case 2:
  case 3:
  case 4:
  case 5:
  case 6:
  case 7: /* N L R a V F J */
  case 8:
  case 9:
  case 10:
  case 11:
  case 12:
  case 13: /* A S E j / Q */
  case MV_SIG_ANN_BBB:
  case MV_SIG_ANN_LEARN:
  case MV_SIG_ANN_AESC:
  case MV_SIG_ANN_SVESC:
  case MV_SIG_ANN_PFUS:
  case MV_SIG_ANN_RONT:
    return true;
  default:
    return false;
  }
}

const char *mv_sig_ann_mnemonic(uint8_t type) {
  if (type > MV_SIG_ANN_ACMAX || !mnemonics[type])
    return "";
  return mnemonics[type];
}

int mv_sig_ann_code(const char *mnemonic) {
  if (!mnemonic || !*mnemonic)
    return -1;
  for (int i = 1; i <= MV_SIG_ANN_ACMAX; i++)
    if (mnemonics[i] && strcmp(mnemonics[i], mnemonic) == 0)
      return i;
  return -1;
}

void mv_sig_ann_free(struct mv_sig_ann *a) {
  free(a);
}

static inline unsigned rd16(const uint8_t *p) {
  return (unsigned)p[0] | ((unsigned)p[1] << 8);
}

/* One annotation under construction; aux as an offset into a side buffer. */
struct pending {
  struct mv_sig_ann a;
  size_t aux_off;
};

int mv_sig_ann_parse(const uint8_t *buf, size_t len, const char *diag_path,
                     struct mv_sig_ann **out, size_t *n_out,
                     struct mv_diag *diag) {
  const char *path = diag_path ? diag_path : "annotations";
  if ((!buf && len) || !out || !n_out)
    return mv__wfdb_err(diag, MV_EINVAL, path, 0, "no annotation data");
  if (len > MV_SIG_WFDB_MAX_ANN_BYTES)
    return mv__wfdb_err(diag, MV_ETOOBIG, path, 0,
                        "annotation file exceeds %u bytes",
                        MV_SIG_WFDB_MAX_ANN_BYTES);
  int rc = MV_OK;
  struct pending *v = NULL;
  size_t n = 0, cap = 0;
  struct mv_buf aux;
  mv_buf_init(&aux, MV_SIG_WFDB_MAX_ANN_BYTES);
  struct mv_sig_ann *res = NULL;
  int64_t t = 0;
  int chan = 0, num = 0;
  size_t pos = 0;
#define AERR(err, ...)                                                         \
  do {                                                                         \
    rc = mv__wfdb_err(diag, err, path, 0, __VA_ARGS__);                        \
    if (diag)                                                                  \
      diag->offset = (long)pos;                                                \
    goto out;                                                                  \
  } while (0)
  while (pos + 2 <= len) {
    unsigned w = rd16(buf + pos);
    unsigned code = w >> 10, iv = w & 0x3ff;
    if (w == 0)
      break; /* end marker */
    if (code == A_SKIP) {
      if (pos + 6 > len)
        AERR(MV_EPARSE, "byte %zu: truncated SKIP", pos);
      uint32_t hi = rd16(buf + pos + 2), lo = rd16(buf + pos + 4);
      int32_t d = (int32_t)((hi << 16) | lo);
      t += d;
      if (t < 0)
        AERR(MV_EPARSE, "byte %zu: SKIP before sample 0", pos);
      pos += 6;
      continue;
    }
    if (code > MV_SIG_ANN_ACMAX && code < A_SKIP)
      AERR(MV_EPARSE, "byte %zu: unknown annotation code %u", pos, code);
    if (code >= A_NUM) {
      if (n == 0)
        AERR(MV_EPARSE, "byte %zu: modifier before the first annotation", pos);
      struct pending *p = &v[n - 1];
      pos += 2;
      if (code == A_NUM) {
        p->a.num = (int8_t)(uint8_t)iv;
        num = (int8_t)(uint8_t)iv;
      } else if (code == A_SUB) {
        p->a.sub = (int8_t)(uint8_t)iv;
      } else if (code == A_CHN) {
        p->a.chan = (uint8_t)iv;
        chan = (int)iv;
      } else { /* AUX */
        if (iv > 255)
          AERR(MV_EPARSE, "byte %zu: AUX longer than 255 bytes", pos - 2);
        if (pos + iv > len)
          AERR(MV_EPARSE, "byte %zu: truncated AUX", pos - 2);
        p->aux_off = aux.len;
        p->a.aux_len = (uint8_t)iv;
        if (mv_buf_append(&aux, buf + pos, iv) != MV_OK ||
            mv_buf_append(&aux, "", 1) != MV_OK)
          AERR(MV_ENOMEM, "out of memory");
        pos += (iv + 1) & ~1u;
      }
      continue;
    }
    /* An ordinary annotation (codes 0..ACMAX). */
    t += iv;
    if (n > 0 && t < v[n - 1].a.sample)
      AERR(MV_EPARSE, "byte %zu: annotation earlier than the one before", pos);
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 1024;
      struct pending *nv = realloc(v, nc * sizeof(*nv));
      if (!nv)
        AERR(MV_ENOMEM, "out of memory");
      v = nv;
      cap = nc;
    }
    v[n] = (struct pending){.a = {.sample = t,
                                  .type = (uint8_t)code,
                                  .chan = (uint8_t)chan,
                                  .num = (int8_t)num},
                            .aux_off = SIZE_MAX};
    n++;
    pos += 2;
  }
  if (pos + 1 == len)
    AERR(MV_EPARSE, "odd file length");
  /* One allocation: the array, then the aux strings. */
  size_t bytes = n * sizeof(*res) + aux.len;
  res = malloc(bytes ? bytes : 1);
  if (!res)
    AERR(MV_ENOMEM, "out of memory");
  char *pool = (char *)(res + n);
  if (aux.len)
    memcpy(pool, aux.data, aux.len);
  for (size_t i = 0; i < n; i++) {
    res[i] = v[i].a;
    res[i].aux = v[i].aux_off != SIZE_MAX ? pool + v[i].aux_off : NULL;
  }
  *out = res;
  *n_out = n;
  res = NULL;
out:
#undef AERR
  free(res);
  free(v);
  mv_buf_release(&aux);
  return rc;
}

int mv_sig_ann_read(const char *path, struct mv_sig_ann **out, size_t *n_out,
                    struct mv_diag *diag) {
  if (!path)
    return mv__wfdb_err(diag, MV_EINVAL, "", 0, "no path");
  char *buf = NULL;
  size_t len = 0;
  int rc = mv__wfdb_slurp(path, MV_SIG_WFDB_MAX_ANN_BYTES, &buf, &len, diag);
  if (rc)
    return rc;
  rc = mv_sig_ann_parse((const uint8_t *)buf, len, path, out, n_out, diag);
  free(buf);
  return rc;
}

static int put16(struct mv_buf *b, unsigned w) {
  uint8_t p[2] = {(uint8_t)(w & 0xff), (uint8_t)((w >> 8) & 0xff)};
  return mv_buf_append(b, p, 2);
}

int mv_sig_ann_write(const char *path, const struct mv_sig_ann *a, size_t n,
                     struct mv_diag *diag) {
  if (!path || (!a && n))
    return mv__wfdb_err(diag, MV_EINVAL, path ? path : "", 0, "no annotations");
  struct mv_buf b;
  mv_buf_init(&b, MV_SIG_WFDB_MAX_ANN_BYTES);
  int rc = MV_OK;
  int64_t prev = 0;
  int chan = 0, num = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    const struct mv_sig_ann *x = &a[i];
    if (x->type > MV_SIG_ANN_ACMAX || x->sample < prev) {
      rc = mv__wfdb_err(diag, MV_EINVAL, path, 0,
                        "annotation %zu: bad code or not in time order", i);
      goto out;
    }
    int64_t d = x->sample - prev;
    if (d > 0x3ff) {
      if (d > INT32_MAX) {
        rc = mv__wfdb_err(diag, MV_ERANGE, path, 0,
                          "annotation %zu: interval too long", i);
        goto out;
      }
      uint32_t u = (uint32_t)d;
      rc = put16(&b, A_SKIP << 10);
      if (!rc)
        rc = put16(&b, u >> 16);
      if (!rc)
        rc = put16(&b, u & 0xffff);
      d = 0;
    }
    /* Code 0 with interval 0 would read as the end marker. */
    if (!rc && x->type == 0 && d == 0) {
      rc = mv__wfdb_err(diag, MV_EINVAL, path, 0,
                        "annotation %zu: code 0 cannot be written here", i);
      goto out;
    }
    if (!rc)
      rc = put16(&b, ((unsigned)x->type << 10) | (unsigned)d);
    if (!rc && x->sub != 0)
      rc = put16(&b, (A_SUB << 10) | ((unsigned)(int)x->sub & 0x3ff));
    if (!rc && x->chan != chan) {
      rc = put16(&b, (A_CHN << 10) | x->chan);
      chan = x->chan;
    }
    if (!rc && x->num != num) {
      rc = put16(&b, (A_NUM << 10) | ((unsigned)(int)x->num & 0x3ff));
      num = x->num;
    }
    if (!rc && x->aux && x->aux_len > 0) {
      rc = put16(&b, (A_AUX << 10) | x->aux_len);
      if (!rc)
        rc = mv_buf_append(&b, x->aux, x->aux_len);
      if (!rc && (x->aux_len & 1))
        rc = mv_buf_append(&b, "", 1);
    }
    prev = x->sample;
  }
  if (!rc)
    rc = put16(&b, 0);
  if (rc) {
    rc = mv__wfdb_err(diag, rc, path, 0, "annotation file too large");
    goto out;
  }
  rc = mv__wfdb_write_atomic(path, b.data, b.len, diag);
out:
  mv_buf_release(&b);
  return rc;
}
