/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HL7 v2 message syntax (HL7 v2.5 chapter 2.5-2.7): segments separated by
 * CR (LF and CRLF accepted), fields by the separator MSH declares in MSH-1,
 * components, repetitions, subcomponents and the escape character by MSH-2.
 * Fields stay escaped slices of the input; values are unescaped only when
 * read (chapter 2.7 escape sequences). Also the TS/DTM date-time type.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mv_clock.h"
#include "hl7_int.h"
#include "mv_limits.h"

void mv_hl7_error_set(struct mv_hl7_error *err, enum mv_hl7_errcode code,
                      const char *seg, unsigned seq, unsigned field,
                      unsigned comp, const char *fmt, ...) {
  if (!err)
    return;
  memset(err, 0, sizeof(*err));
  err->code = code;
  if (seg)
    snprintf(err->segment, sizeof(err->segment), "%s", seg);
  err->seq = seq;
  err->field = field;
  err->comp = comp;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->text, sizeof(err->text), fmt, ap);
  va_end(ap);
}

static bool is_delim_char(unsigned char c) {
  /* Delimiters are printable, non-alphanumeric ASCII. */
  return c > 0x20 && c < 0x7F &&
         !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z'));
}

static int parse_delims(const char *msg, size_t len, struct mv_hl7_delims *d,
                        struct mv_hl7_error *err) {
  if (len < 4 || memcmp(msg, "MSH", 3) != 0) {
    mv_hl7_error_set(err, MV_HL7_E_SEQUENCE, "MSH", 1, 0, 0,
                     "the message does not start with an MSH segment");
    return MV_EPARSE;
  }
  /* MSH-1 is the field separator; MSH-2 the component, repetition, escape
   * and subcomponent characters, plus truncation from v2.7 on. */
  d->field = msg[3];
  size_t j = 4;
  while (j < len && j < 10 && msg[j] != d->field && msg[j] != '\r' &&
         msg[j] != '\n')
    j++;
  size_t n = j - 4;
  if (j >= len || msg[j] != d->field || n < 4 || n > 5) {
    mv_hl7_error_set(err, MV_HL7_E_DATATYPE, "MSH", 1, 2, 0,
                     "MSH-2 encoding characters are malformed");
    return MV_EPARSE;
  }
  d->comp = msg[4];
  d->rep = msg[5];
  d->esc = msg[6];
  d->sub = msg[7];
  char all[6] = {d->field, d->comp, d->rep,
                 d->esc,   d->sub,  n == 5 ? msg[8] : 0};
  for (size_t i = 0; i < n + 1; i++) {
    bool bad = !is_delim_char((unsigned char)all[i]);
    for (size_t k = 0; k < i && !bad; k++)
      bad = all[i] == all[k];
    if (bad) {
      mv_hl7_error_set(err, MV_HL7_E_DATATYPE, "MSH", 1, i == 0 ? 1 : 2, 0,
                       "invalid or repeated delimiter in MSH-%d",
                       i == 0 ? 1 : 2);
      return MV_EPARSE;
    }
  }
  return MV_OK;
}

static int split_fields(const struct mv_hl7_delims *d, const char *p, size_t n,
                        struct mv_arena *a, struct hl7_seg *s) {
  size_t nf = 1;
  for (size_t i = 0; i < n; i++)
    if (p[i] == d->field)
      nf++;
  if (nf > MV_LIMIT_HL7_FIELDS + 1)
    return MV_ETOOBIG;
  s->f = mv_arena_alloc(a, nf * sizeof(*s->f));
  if (!s->f)
    return MV_ENOMEM;
  size_t k = 0, start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || p[i] == d->field) {
      s->f[k++] = (struct hl7_slice){p + start, i - start};
      start = i + 1;
    }
  }
  s->nf = k;
  return MV_OK;
}

static bool seg_id_ok(struct hl7_slice id) {
  if (id.n != 3)
    return false;
  for (size_t i = 0; i < 3; i++) {
    char c = id.p[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return false;
  }
  return true;
}

/* Occurrence numbers (ERR-2's "segment sequence") for the first SEQ_IDS
 * distinct segment ids; later ids get 0 (never named in an ERR). */
#define SEQ_IDS 32u
static unsigned next_seq(char ids[][4], unsigned *counts, size_t *n,
                         const char *id) {
  for (size_t i = 0; i < *n; i++)
    if (memcmp(ids[i], id, 4) == 0)
      return ++counts[i];
  if (*n == SEQ_IDS)
    return 0;
  memcpy(ids[*n], id, 4);
  counts[*n] = 1;
  return counts[(*n)++];
}

int mv__hl7_split(const char *msg, size_t len, struct mv_arena *a,
                  struct hl7_msg *out, struct mv_hl7_error *err) {
  memset(out, 0, sizeof(*out));
  int rc = parse_delims(msg, len, &out->d, err);
  if (rc)
    return rc;
  if (memchr(msg, 0, len)) { /* HL7 is text; a NUL would cut values short */
    mv_hl7_error_set(err, MV_HL7_E_DATATYPE, NULL, 0, 0, 0,
                     "the message contains NUL bytes");
    return MV_EPARSE;
  }
  size_t nseg = 0;
  for (size_t i = 0; i < len; i++)
    if (msg[i] == '\r' || msg[i] == '\n')
      nseg++;
  nseg++;
  if (nseg > MV_LIMIT_HL7_SEGMENTS * 2) {
    mv_hl7_error_set(err, MV_HL7_E_INTERNAL, NULL, 0, 0, 0,
                     "more than %u segments", MV_LIMIT_HL7_SEGMENTS);
    return MV_ETOOBIG;
  }
  out->seg = mv_arena_zalloc(a, nseg * sizeof(*out->seg));
  if (!out->seg)
    return MV_ENOMEM;
  char ids[SEQ_IDS][4];
  unsigned counts[SEQ_IDS];
  size_t n_ids = 0, start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && msg[i] != '\r' && msg[i] != '\n')
      continue;
    size_t n = i - start;
    const char *p = msg + start;
    start = i + 1;
    if (n == 0)
      continue; /* CRLF, trailing separators, blank lines */
    if (out->nseg >= MV_LIMIT_HL7_SEGMENTS) {
      mv_hl7_error_set(err, MV_HL7_E_INTERNAL, NULL, 0, 0, 0,
                       "more than %u segments", MV_LIMIT_HL7_SEGMENTS);
      return MV_ETOOBIG;
    }
    struct hl7_seg *s = &out->seg[out->nseg];
    if ((rc = split_fields(&out->d, p, n, a, s)) != MV_OK) {
      mv_hl7_error_set(err, MV_HL7_E_INTERNAL, NULL, 0, 0, 0,
                       "a segment has more than %u fields",
                       MV_LIMIT_HL7_FIELDS);
      return rc;
    }
    if (!seg_id_ok(s->f[0])) {
      mv_hl7_error_set(err, MV_HL7_E_SEQUENCE, NULL, 0, 0, 0,
                       "segment %zu has no valid segment id", out->nseg + 1);
      return out->nseg == 0 ? MV_EPARSE : MV_EINVALID;
    }
    memcpy(s->id, s->f[0].p, 3);
    s->id[3] = 0;
    s->msh = strcmp(s->id, "MSH") == 0;
    s->seq = next_seq(ids, counts, &n_ids, s->id);
    out->nseg++;
  }
  return MV_OK;
}

struct hl7_slice mv__hl7_field(const struct hl7_seg *s, unsigned n) {
  static const char empty[] = "";
  struct hl7_slice none = {empty, 0};
  if (n == 0)
    return none;
  /* For MSH the separator itself is MSH-1: split index = n - 1. */
  size_t idx = s->msh ? n - 1 : n;
  if (s->msh && n == 1)
    return none; /* MSH-1 is the separator, never read as a value */
  return idx < s->nf ? s->f[idx] : none;
}

static struct hl7_slice nth(struct hl7_slice in, char delim, unsigned k) {
  size_t start = 0;
  unsigned at = 0;
  for (size_t i = 0; i <= in.n; i++) {
    if (i == in.n || in.p[i] == delim) {
      if (at == k)
        return (struct hl7_slice){in.p + start, i - start};
      at++;
      start = i + 1;
    }
  }
  return (struct hl7_slice){in.p + in.n, 0};
}

struct hl7_slice mv__hl7_rep(const struct hl7_msg *m, struct hl7_slice raw,
                             unsigned r) {
  return nth(raw, m->d.rep, r);
}

struct hl7_slice mv__hl7_comp(const struct hl7_msg *m, struct hl7_slice raw,
                              unsigned c) {
  struct hl7_slice r0 = nth(raw, m->d.rep, 0);
  struct hl7_slice cc = nth(r0, m->d.comp, c ? c - 1 : 0);
  return nth(cc, m->d.sub, 0);
}

const char *mv__hl7_get(const struct hl7_msg *m, const struct hl7_seg *s,
                        unsigned n, unsigned c, struct mv_arena *a) {
  struct hl7_slice v = mv__hl7_comp(m, mv__hl7_field(s, n), c);
  return mv_hl7_unescape(&m->d, v.p, v.n, a);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decode the escape body b (between the escape characters) into o. */
static size_t decode_escape(const struct mv_hl7_delims *d, const char *b,
                            size_t n, char *o) {
  if (n == 1) {
    switch (b[0]) {
    case 'F':
      o[0] = d->field;
      return 1;
    case 'S':
      o[0] = d->comp;
      return 1;
    case 'T':
      o[0] = d->sub;
      return 1;
    case 'R':
      o[0] = d->rep;
      return 1;
    case 'E':
      o[0] = d->esc;
      return 1;
    default:
      return 0; /* \H\ \N\ and the like: formatting, dropped */
    }
  }
  if (b[0] == 'X' && n % 2 == 1) {
    size_t k = 0;
    for (size_t i = 1; i + 1 < n; i += 2) {
      int hi = hexval(b[i]), lo = hexval(b[i + 1]);
      if (hi < 0 || lo < 0)
        return 0;
      unsigned char c = (unsigned char)(hi << 4 | lo);
      o[k++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    return k;
  }
  return 0; /* \.br\ \Cxxyy\ \Mxxyyzz\ \Zxx\: dropped */
}

char *mv_hl7_unescape(const struct mv_hl7_delims *d, const char *s, size_t len,
                      struct mv_arena *a) {
  char *o = mv_arena_alloc(a, len + 1);
  if (!o)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] != d->esc) {
      o[k++] = s[i];
      continue;
    }
    const char *end = memchr(s + i + 1, d->esc, len - i - 1);
    if (!end || end == s + i + 1) { /* lone or empty escape: keep it */
      o[k++] = s[i];
      continue;
    }
    size_t bn = (size_t)(end - (s + i + 1));
    k += decode_escape(d, s + i + 1, bn, o + k); /* never longer than bn */
    i += bn + 1;
  }
  o[k] = 0;
  return o;
}

/* ---- TS / DTM ----------------------------------------------------------- */

static bool digits(const char *s, size_t n, int *out) {
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

int mv_hl7_ts_parse(const char *s, size_t n, int64_t *out_us) {
  int y, mo, d, h, mi, sec = 0, oh, om;
  int64_t frac_us = 0;
  size_t i = 12;
  if (n < 17 || !digits(s, 4, &y) || !digits(s + 4, 2, &mo) ||
      !digits(s + 6, 2, &d) || !digits(s + 8, 2, &h) || !digits(s + 10, 2, &mi))
    return MV_EPARSE;
  if (i + 2 <= n && s[i] >= '0' && s[i] <= '9') {
    if (!digits(s + i, 2, &sec))
      return MV_EPARSE;
    i += 2;
    if (i < n && s[i] == '.') {
      i++;
      size_t nd = 0;
      int64_t scale = 100000;
      while (i < n && s[i] >= '0' && s[i] <= '9' && nd < 4) {
        frac_us += (s[i] - '0') * scale;
        scale /= 10;
        i++;
        nd++;
      }
      if (nd == 0)
        return MV_EPARSE;
    }
  }
  if (n - i != 5 || (s[i] != '+' && s[i] != '-') ||
      !digits(s + i + 1, 2, &oh) || !digits(s + i + 3, 2, &om))
    return MV_EPARSE;
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 ||
      d > mv_time_days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59 ||
      oh > 14 || om > 59)
    return MV_EPARSE;
  int64_t off_s = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
  int64_t t =
      mv_time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  *out_us = (t - off_s) * 1000000 + frac_us;
  return MV_OK;
}
