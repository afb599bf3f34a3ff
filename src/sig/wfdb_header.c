/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WFDB header (.hea) parsing, following the PhysioNet header(5) format: a
 * record line, one line per signal, and '#' comments. Every field is
 * validated and bounded; errors name the file and line, never the values
 * found (headers can carry patient details in their comments). Also the
 * record lifecycle and the small file helpers of wfdb_int.h.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wfdb_int.h"

int mv__wfdb_err(struct mv_diag *d, int err, const char *path, int line,
                 const char *fmt, ...) {
  if (!d)
    return err;
  mv_diag_clear(d);
  d->err = err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
  va_end(ap);
  mv_diag_set_path(d, path);
  d->line = line;
  return err;
}

int mv__wfdb_slurp(const char *path, size_t max, char **out, size_t *out_len,
                   struct mv_diag *d) {
  int rc = MV_OK;
  char *buf = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return mv__wfdb_err(d, errno == ENOENT ? MV_ENOTFOUND : MV_EIO, path, 0,
                        "cannot open file");
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = mv__wfdb_err(d, MV_EIO, path, 0, "not a regular file");
    goto out;
  }
  if ((unsigned long long)st.st_size > max) {
    rc = mv__wfdb_err(d, MV_ETOOBIG, path, 0, "file exceeds %zu bytes", max);
    goto out;
  }
  size_t n = (size_t)st.st_size;
  buf = malloc(n + 1);
  if (!buf) {
    rc = mv__wfdb_err(d, MV_ENOMEM, path, 0, "out of memory");
    goto out;
  }
  if (n > 0 && fread(buf, 1, n, f) != n) {
    rc = mv__wfdb_err(d, MV_EIO, path, 0, "read error");
    goto out;
  }
  buf[n] = '\0';
  *out = buf;
  *out_len = n;
  buf = NULL;
out:
  free(buf);
  fclose(f);
  return rc;
}

int mv__wfdb_write_atomic(const char *path, const void *buf, size_t len,
                          struct mv_diag *d) {
  char tmp[4096];
  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
    return mv__wfdb_err(d, MV_ETOOBIG, path, 0, "path too long");
  FILE *f = fopen(tmp, "wb");
  if (!f)
    return mv__wfdb_err(d, MV_EIO, path, 0, "cannot create file");
  bool ok = len == 0 || fwrite(buf, 1, len, f) == len;
  ok = (fflush(f) == 0) && ok;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    remove(tmp);
    return mv__wfdb_err(d, MV_EIO, path, 0, "write error");
  }
  return MV_OK;
}

/* ---- Record lifecycle --------------------------------------------------- */

static int default_adc_res(int fmt) {
  switch (fmt) {
  case 8:
  case 80:
    return 8;
  case 212:
    return 12;
  case 310:
  case 311:
    return 10;
  case 24:
    return 24;
  case 32:
    return 32;
  default:
    return 16;
  }
}

static void signal_defaults(struct mv_sig_wfdb_signal *s, int fmt) {
  memset(s, 0, sizeof(*s));
  s->fmt = fmt;
  s->spf = 1;
  s->gain = 200.0;
  s->gain_given = true;
  snprintf(s->units, sizeof(s->units), "mV");
  s->adc_res = default_adc_res(fmt);
}

int mv_sig_wfdb_record_new(int n_sig, int64_t n_samples, double fs,
                           struct mv_sig_wfdb_record **out) {
  if (!out || n_sig < 0 || n_sig > MV_SIG_WFDB_MAX_SIGNALS || n_samples < 0 ||
      !(fs > 0) || !isfinite(fs))
    return MV_EINVAL;
  if (n_sig > 0 && n_samples > MV_SIG_WFDB_MAX_SAMPLES / n_sig)
    return MV_ETOOBIG;
  struct mv_sig_wfdb_record *r = calloc(1, sizeof(*r));
  if (!r)
    return MV_ENOMEM;
  r->n_sig = n_sig;
  r->fs = fs;
  r->n_samples = n_samples;
  r->checksum_ok = true;
  snprintf(r->name, sizeof(r->name), "record");
  if (n_sig > 0) {
    r->sig = calloc((size_t)n_sig, sizeof(*r->sig));
    size_t n = (size_t)n_samples * (size_t)n_sig;
    r->samples = calloc(n ? n : 1, sizeof(int32_t));
    if (!r->sig || !r->samples) {
      mv_sig_wfdb_free(r);
      return MV_ENOMEM;
    }
    for (int i = 0; i < n_sig; i++)
      signal_defaults(&r->sig[i], 16);
  }
  *out = r;
  return MV_OK;
}

void mv_sig_wfdb_free(struct mv_sig_wfdb_record *r) {
  if (!r)
    return;
  free(r->sig);
  free(r->samples);
  free(r);
}

double mv_sig_wfdb_phys(const struct mv_sig_wfdb_record *r, int s,
                        int32_t sample) {
  if (!r || s < 0 || s >= r->n_sig || sample == MV_SIG_WFDB_INVALID)
    return NAN;
  const struct mv_sig_wfdb_signal *g = &r->sig[s];
  double gain = g->gain != 0 ? g->gain : 200.0;
  return ((double)sample - (double)g->baseline) / gain;
}

/* ---- Header parsing ----------------------------------------------------- */

/* A cursor over one header line (not NUL-terminated in the input). */
struct line {
  const char *p, *end;
  const char *path;
  int no;
};

static bool is_space(char c) {
  return c == ' ' || c == '\t';
}

/* Next whitespace-separated token into tok (bounded); false at the end. */
static bool next_tok(struct line *l, char *tok, size_t cap, bool *too_long) {
  while (l->p < l->end && is_space(*l->p))
    l->p++;
  if (l->p >= l->end)
    return false;
  size_t n = 0;
  *too_long = false;
  while (l->p < l->end && !is_space(*l->p)) {
    if (n + 1 < cap)
      tok[n++] = *l->p;
    else
      *too_long = true;
    l->p++;
  }
  tok[n] = '\0';
  return true;
}

/* Strict integer in [lo, hi]; the whole string must be consumed. */
static bool parse_ll(const char *s, long long lo, long long hi,
                     long long *out) {
  if (!*s)
    return false;
  char *e;
  errno = 0;
  long long v = strtoll(s, &e, 10);
  if (errno || *e || v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

/* Leading finite double; *end gets the rest. */
static bool parse_num(const char *s, double *out, const char **end) {
  char *e;
  errno = 0;
  double v = strtod(s, &e);
  if (e == s || errno || !isfinite(v))
    return false;
  /* strtod accepts "inf", "nan" and hex; allow only plain decimals. */
  for (const char *c = s; c < e; c++)
    if (!strchr("0123456789+-.eE", *c))
      return false;
  *out = v;
  *end = e;
  return true;
}

static bool supported_fmt(long long f) {
  switch (f) {
  case 8:
  case 16:
  case 24:
  case 32:
  case 61:
  case 80:
  case 160:
  case 212:
  case 310:
  case 311:
    return true;
  default:
    return false;
  }
}

#define LERR(l, err, ...)                                                      \
  mv__wfdb_err(diag, err, (l)->path, (l)->no, __VA_ARGS__)

static int parse_record_line(struct line *l, struct mv_sig_wfdb_record *r,
                             struct mv_diag *diag) {
  char tok[MV_SIG_WFDB_MAX_LINE];
  bool tl;
  if (!next_tok(l, tok, sizeof(tok), &tl))
    return LERR(l, MV_EPARSE, "empty record line");
  if (strchr(tok, '/'))
    return LERR(l, MV_EUNSUPPORTED, "multi-segment records are not supported");
  if (tl || strlen(tok) >= sizeof(r->name))
    return LERR(l, MV_ETOOBIG, "record name longer than %d bytes",
                MV_SIG_WFDB_NAME_LEN - 1);
  snprintf(r->name, sizeof(r->name), "%s", tok);
  long long v;
  if (!next_tok(l, tok, sizeof(tok), &tl))
    return LERR(l, MV_EPARSE, "record line lacks the number of signals");
  if (!parse_ll(tok, 0, 1000000, &v))
    return LERR(l, MV_EPARSE,
                "number of signals is not a non-negative integer");
  if (v > MV_SIG_WFDB_MAX_SIGNALS)
    return LERR(l, MV_ETOOBIG, "more than %d signals", MV_SIG_WFDB_MAX_SIGNALS);
  r->n_sig = (int)v;
  if (!next_tok(l, tok, sizeof(tok), &tl))
    return MV_OK;
  /* fs[/counter_freq[(base_counter)]] */
  const char *e;
  double x;
  if (!parse_num(tok, &x, &e) || !(x > 0) || x > 1e9)
    return LERR(l, MV_EPARSE, "sampling frequency is not a positive number");
  r->fs = x;
  if (*e == '/') {
    if (!parse_num(e + 1, &x, &e) || !(x > 0) || x > 1e12)
      return LERR(l, MV_EPARSE, "bad counter frequency");
    r->counter_freq = x;
    if (*e == '(') {
      if (!parse_num(e + 1, &x, &e) || *e != ')')
        return LERR(l, MV_EPARSE, "bad base counter value");
      r->base_counter = x;
      e++;
    }
  }
  if (*e)
    return LERR(l, MV_EPARSE, "bad sampling frequency field");
  if (!next_tok(l, tok, sizeof(tok), &tl))
    return MV_OK;
  if (!parse_ll(tok, 0, INT64_MAX, &v))
    return LERR(l, MV_EPARSE,
                "number of samples is not a non-negative integer");
  r->n_samples = v == 0 ? -1 : (int64_t)v;
  if (!next_tok(l, tok, sizeof(tok), &tl))
    return MV_OK;
  if (tl || strlen(tok) >= sizeof(r->base_time) ||
      strspn(tok, "0123456789:.") != strlen(tok))
    return LERR(l, MV_EPARSE, "bad base time (expected HH:MM:SS)");
  snprintf(r->base_time, sizeof(r->base_time), "%s", tok);
  if (!next_tok(l, tok, sizeof(tok), &tl))
    return MV_OK;
  if (tl || strlen(tok) >= sizeof(r->base_date) ||
      strspn(tok, "0123456789/") != strlen(tok))
    return LERR(l, MV_EPARSE, "bad base date (expected DD/MM/YYYY)");
  snprintf(r->base_date, sizeof(r->base_date), "%s", tok);
  if (next_tok(l, tok, sizeof(tok), &tl))
    return LERR(l, MV_EPARSE, "unexpected field after the base date");
  return MV_OK;
}

/* format[xspf][:skew][+offset] */
static int parse_format(struct line *l, const char *tok,
                        struct mv_sig_wfdb_signal *s, struct mv_diag *diag) {
  char num[32];
  const char *p = tok;
  long long v;
  size_t n = strspn(p, "0123456789");
  if (n == 0 || n >= sizeof(num))
    return LERR(l, MV_EPARSE, "bad storage format");
  memcpy(num, p, n);
  num[n] = '\0';
  p += n;
  if (!parse_ll(num, 0, 100000, &v))
    return LERR(l, MV_EPARSE, "bad storage format");
  if (!supported_fmt(v))
    return LERR(l, MV_EUNSUPPORTED, "storage format %lld is not supported", v);
  s->fmt = (int)v;
  s->adc_res = default_adc_res(s->fmt);
  struct {
    char c;
    long long lo, hi;
  } parts[] = {{'x', 1, 1000}, {':', 0, 1000000}, {'+', 0, 1LL << 40}};
  for (size_t i = 0; i < MV_ARRAY_LEN(parts); i++) {
    if (*p != parts[i].c)
      continue;
    p++;
    n = strspn(p, "0123456789");
    if (n == 0 || n >= sizeof(num))
      return LERR(l, MV_EPARSE, "bad storage format modifier '%c'", parts[i].c);
    memcpy(num, p, n);
    num[n] = '\0';
    p += n;
    if (!parse_ll(num, parts[i].lo, parts[i].hi, &v))
      return LERR(l, MV_EPARSE, "storage format modifier '%c' out of range",
                  parts[i].c);
    if (i == 0)
      s->spf = (int)v;
    else if (i == 1)
      s->skew = (int)v;
    else
      s->byte_offset = (long)v;
  }
  if (*p)
    return LERR(l, MV_EPARSE, "bad storage format");
  if (s->spf != 1)
    return LERR(l, MV_EUNSUPPORTED,
                "more than one sample per frame is not supported");
  return MV_OK;
}

/* gain[(baseline)][/units] */
static int parse_gain(struct line *l, const char *tok,
                      struct mv_sig_wfdb_signal *s, bool *baseline_given,
                      struct mv_diag *diag) {
  const char *e;
  double g;
  if (!parse_num(tok, &g, &e))
    return LERR(l, MV_EPARSE, "bad ADC gain");
  s->gain_given = g != 0;
  s->gain = g != 0 ? g : 200.0;
  if (*e == '(') {
    char *e2;
    errno = 0;
    long long b = strtoll(e + 1, &e2, 10);
    if (e2 == e + 1 || errno || *e2 != ')' || b < INT32_MIN || b > INT32_MAX)
      return LERR(l, MV_EPARSE, "bad baseline");
    s->baseline = (int)b;
    *baseline_given = true;
    e = e2 + 1;
  }
  if (*e == '/') {
    e++;
    if (!*e)
      return LERR(l, MV_EPARSE, "empty units");
    if (strlen(e) >= sizeof(s->units))
      return LERR(l, MV_ETOOBIG, "units longer than %d bytes",
                  MV_SIG_WFDB_UNITS_LEN - 1);
    snprintf(s->units, sizeof(s->units), "%s", e);
  } else if (*e) {
    return LERR(l, MV_EPARSE, "bad ADC gain field");
  }
  return MV_OK;
}

static bool safe_file_name(const char *f) {
  if (!*f || f[0] == '.' || f[0] == '~' || f[0] == '-')
    return false;
  for (const char *c = f; *c; c++)
    if (*c == '/' || *c == '\\' || (unsigned char)*c < 0x20)
      return false;
  return true;
}

static int parse_signal_line(struct line *l, int idx,
                             struct mv_sig_wfdb_signal *s,
                             struct mv_diag *diag) {
  char tok[MV_SIG_WFDB_MAX_LINE];
  bool tl;
  signal_defaults(s, 16);
  s->gain_given = false;
  if (!next_tok(l, tok, sizeof(tok), &tl))
    return LERR(l, MV_EPARSE, "empty signal line");
  if (tl || strlen(tok) >= sizeof(s->file))
    return LERR(l, MV_ETOOBIG, "signal file name longer than %d bytes",
                MV_SIG_WFDB_FILE_LEN - 1);
  if (!safe_file_name(tok))
    return LERR(l, MV_EUNSUPPORTED,
                "signal file name must be a plain name in the header's "
                "directory");
  snprintf(s->file, sizeof(s->file), "%s", tok);
  if (!next_tok(l, tok, sizeof(tok), &tl))
    return LERR(l, MV_EPARSE, "signal line lacks the storage format");
  int rc = parse_format(l, tok, s, diag);
  if (rc)
    return rc;
  bool baseline_given = false;
  long long v;
  int field = 0;
  while (field < 6 && next_tok(l, tok, sizeof(tok), &tl)) {
    switch (field) {
    case 0:
      rc = parse_gain(l, tok, s, &baseline_given, diag);
      if (rc)
        return rc;
      break;
    case 1:
      if (!parse_ll(tok, 0, 32, &v))
        return LERR(l, MV_EPARSE, "bad ADC resolution");
      if (v > 0)
        s->adc_res = (int)v;
      break;
    case 2:
      if (!parse_ll(tok, INT32_MIN, INT32_MAX, &v))
        return LERR(l, MV_EPARSE, "bad ADC zero");
      s->adc_zero = (int)v;
      break;
    case 3:
      if (!parse_ll(tok, INT32_MIN, INT32_MAX, &v))
        return LERR(l, MV_EPARSE, "bad initial value");
      s->init_value = (int)v;
      break;
    case 4:
      if (!parse_ll(tok, -32768, 65535, &v))
        return LERR(l, MV_EPARSE, "bad checksum");
      s->checksum = (int)(int16_t)(uint16_t)v;
      s->has_checksum = true;
      break;
    case 5:
      if (!parse_ll(tok, 0, 1 << 24, &v))
        return LERR(l, MV_EPARSE, "bad block size");
      s->block_size = (int)v;
      break;
    }
    field++;
  }
  if (!baseline_given)
    s->baseline = s->adc_zero;
  if (field < 4)
    s->init_value = s->adc_zero;
  /* The description is the rest of the line, spaces included. */
  while (l->p < l->end && is_space(*l->p))
    l->p++;
  const char *de = l->end;
  while (de > l->p && is_space(de[-1]))
    de--;
  size_t dn = (size_t)(de - l->p);
  if (dn >= sizeof(s->desc))
    return LERR(l, MV_ETOOBIG, "signal description longer than %d bytes",
                MV_SIG_WFDB_DESC_LEN - 1);
  if (dn > 0) {
    memcpy(s->desc, l->p, dn);
    s->desc[dn] = '\0';
  } else {
    snprintf(s->desc, sizeof(s->desc), "signal %d", idx);
  }
  return MV_OK;
}

static void add_comment(struct mv_sig_wfdb_record *r, const char *p,
                        const char *end) {
  size_t have = strlen(r->comments);
  size_t n = (size_t)(end - p);
  size_t room = sizeof(r->comments) - have - 1;
  if (have > 0) {
    if (room < 2)
      return;
    r->comments[have++] = '\n';
    room--;
  }
  if (n > room)
    n = room; /* informational only: truncate rather than fail */
  memcpy(r->comments + have, p, n);
  r->comments[have + n] = '\0';
}

int mv_sig_wfdb_parse_header(const char *text, size_t len,
                             const char *diag_path,
                             struct mv_sig_wfdb_record **out,
                             struct mv_diag *diag) {
  const char *path = diag_path ? diag_path : "header";
  if (!text || !out)
    return mv__wfdb_err(diag, MV_EINVAL, path, 0, "no header");
  if (len > MV_SIG_WFDB_MAX_HEADER)
    return mv__wfdb_err(diag, MV_ETOOBIG, path, 0, "header exceeds %u bytes",
                        MV_SIG_WFDB_MAX_HEADER);
  int rc = MV_OK;
  struct mv_sig_wfdb_record *r = calloc(1, sizeof(*r));
  if (!r)
    return mv__wfdb_err(diag, MV_ENOMEM, path, 0, "out of memory");
  r->fs = 250.0;
  r->n_samples = -1;
  r->checksum_ok = true;
  bool have_record = false;
  int n_lines_sig = 0;
  struct line l = {.path = path, .no = 0};
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    l.no++;
    l.p = p;
    l.end = le;
    p = nl ? nl + 1 : end;
    if (l.end > l.p && l.end[-1] == '\r')
      l.end--;
    if ((size_t)(l.end - l.p) > MV_SIG_WFDB_MAX_LINE) {
      rc = LERR(&l, MV_ETOOBIG, "line longer than %u bytes",
                MV_SIG_WFDB_MAX_LINE);
      goto out;
    }
    if (memchr(l.p, '\0', (size_t)(l.end - l.p))) {
      rc = LERR(&l, MV_EPARSE, "NUL byte in header");
      goto out;
    }
    while (l.p < l.end && is_space(*l.p))
      l.p++;
    if (l.p == l.end)
      continue;
    if (*l.p == '#') {
      add_comment(r, l.p + 1, l.end);
      continue;
    }
    if (!have_record) {
      rc = parse_record_line(&l, r, diag);
      if (rc)
        goto out;
      have_record = true;
      if (r->n_sig > 0) {
        r->sig = calloc((size_t)r->n_sig, sizeof(*r->sig));
        if (!r->sig) {
          rc = LERR(&l, MV_ENOMEM, "out of memory");
          goto out;
        }
      }
      continue;
    }
    if (n_lines_sig >= r->n_sig) {
      rc = LERR(&l, MV_EPARSE, "more signal lines than the %d declared",
                r->n_sig);
      goto out;
    }
    struct mv_sig_wfdb_signal *s = &r->sig[n_lines_sig];
    rc = parse_signal_line(&l, n_lines_sig, s, diag);
    if (rc)
      goto out;
    s->line = l.no;
    /* Signals sharing a file must be adjacent and agree on its layout. */
    if (n_lines_sig > 0) {
      const struct mv_sig_wfdb_signal *prev = &r->sig[n_lines_sig - 1];
      if (strcmp(prev->file, s->file) == 0) {
        if (prev->fmt != s->fmt || prev->byte_offset != s->byte_offset) {
          rc = LERR(&l, MV_EPARSE,
                    "signals in one file must share format and byte offset");
          goto out;
        }
      } else {
        for (int k = 0; k < n_lines_sig - 1; k++)
          if (strcmp(r->sig[k].file, s->file) == 0) {
            rc = LERR(&l, MV_EPARSE,
                      "signals in one file must be on consecutive lines");
            goto out;
          }
      }
    }
    n_lines_sig++;
  }
  if (!have_record) {
    rc = LERR(&l, MV_EPARSE, "no record line");
    goto out;
  }
  if (n_lines_sig < r->n_sig) {
    rc = LERR(&l, MV_EPARSE, "header declares %d signals but has %d lines",
              r->n_sig, n_lines_sig);
    goto out;
  }
  if (r->n_sig > 0 && r->n_samples > 0 &&
      r->n_samples > MV_SIG_WFDB_MAX_SAMPLES / r->n_sig) {
    rc = mv__wfdb_err(diag, MV_ETOOBIG, path, 1, "record exceeds %lld samples",
                      (long long)MV_SIG_WFDB_MAX_SAMPLES);
    goto out;
  }
  *out = r;
  r = NULL;
out:
  mv_sig_wfdb_free(r);
  return rc;
}
