/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WFDB signal files: decoding formats 8, 16, 24, 32, 61, 80, 160, 212, 310
 * and 311 (PhysioNet signal(5)), whole records at once, with per-signal
 * checksum verification; writing records in format 16 or 212. Each signal
 * file holds the frame-interleaved samples of the consecutive header lines
 * that name it ("a group"). Samples are read in one fread and decoded in a
 * tight loop, so a 30-minute two-signal 212 record takes a few ms.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mv_buf.h"
#include "wfdb_int.h"

/* Bytes that n samples occupy in a format. */
static uint64_t bytes_for(int fmt, uint64_t n) {
  switch (fmt) {
  case 8:
  case 80:
    return n;
  case 24:
    return 3 * n;
  case 32:
    return 4 * n;
  case 212:
    return 3 * (n / 2) + (n % 2 ? 2 : 0);
  case 310:
    return 4 * (n / 3) + (n % 3 == 1 ? 2 : n % 3 == 2 ? 4 : 0);
  case 311:
    return 4 * ((n + 2) / 3);
  default: /* 16, 61, 160 */
    return 2 * n;
  }
}

/* Whole samples that nbytes hold. */
static uint64_t samples_in(int fmt, uint64_t nb) {
  switch (fmt) {
  case 8:
  case 80:
    return nb;
  case 24:
    return nb / 3;
  case 32:
    return nb / 4;
  case 212:
    return 2 * (nb / 3) + (nb % 3 >= 2 ? 1 : 0);
  case 310:
    return 3 * (nb / 4) + (nb % 4 >= 2 ? 1 : 0);
  case 311:
    return 3 * (nb / 4);
  default:
    return nb / 2;
  }
}

/* The format's own "no sample" code (signal(5)); INT64 sentinel when none. */
static int64_t fmt_invalid(int fmt) {
  switch (fmt) {
  case 80:
    return -128;
  case 212:
    return -2048;
  case 310:
  case 311:
    return -512;
  case 24:
    return -(1 << 23);
  case 32:
    return INT32_MIN;
  case 8:
    return INT64_MIN; /* difference format: no code */
  default:
    return -32768;
  }
}

static inline int32_t sext(uint32_t v, int bits) {
  uint32_t m = 1u << (bits - 1);
  return (int32_t)((v ^ m) - m);
}

/* Decode n samples of the group stream into out (stride ostride between
 * frames, ng signals per frame). init: per-signal start values (format 8). */
static void decode(int fmt, const uint8_t *b, uint64_t n, int ng, int32_t *out,
                   int ostride, const int *init) {
  uint64_t k = 0;
  int s = 0;
  int32_t *row = out;
#define PUT(v)                                                                 \
  do {                                                                         \
    row[s] = (v);                                                              \
    if (++s == ng) {                                                           \
      s = 0;                                                                   \
      row += ostride;                                                          \
    }                                                                          \
  } while (0)
  switch (fmt) {
  case 212:
    for (; k + 2 <= n; k += 2, b += 3) {
      PUT(sext(b[0] | ((uint32_t)(b[1] & 0x0f) << 8), 12));
      PUT(sext(b[2] | ((uint32_t)(b[1] & 0xf0) << 4), 12));
    }
    if (k < n)
      PUT(sext(b[0] | ((uint32_t)(b[1] & 0x0f) << 8), 12));
    break;
  case 16:
    for (; k < n; k++, b += 2)
      PUT((int16_t)(uint16_t)(b[0] | (b[1] << 8)));
    break;
  case 61:
    for (; k < n; k++, b += 2)
      PUT((int16_t)(uint16_t)((b[0] << 8) | b[1]));
    break;
  case 160:
    for (; k < n; k++, b += 2)
      PUT((int32_t)(b[0] | (b[1] << 8)) - 32768);
    break;
  case 80:
    for (; k < n; k++, b++)
      PUT((int32_t)b[0] - 128);
    break;
  case 24:
    for (; k < n; k++, b += 3)
      PUT(sext(b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16), 24));
    break;
  case 32:
    for (; k < n; k++, b += 4)
      PUT((int32_t)(b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
                    ((uint32_t)b[3] << 24)));
    break;
  case 8: {
    int32_t acc[MV_SIG_WFDB_MAX_SIGNALS];
    for (int i = 0; i < ng; i++)
      acc[i] = init[i];
    for (; k < n; k++, b++) {
      acc[s] += (int8_t)b[0];
      PUT(acc[s]);
    }
    break;
  }
  case 310:
    for (; k < n; k += 3, b += 4) {
      uint32_t w0 = b[0] | ((uint32_t)b[1] << 8);
      PUT(sext((w0 >> 1) & 0x3ff, 10));
      if (k + 1 >= n)
        break;
      uint32_t w1 = b[2] | ((uint32_t)b[3] << 8);
      PUT(sext((w1 >> 1) & 0x3ff, 10));
      if (k + 2 >= n)
        break;
      PUT(sext(((w0 >> 11) & 0x1f) | (((w1 >> 11) & 0x1f) << 5), 10));
    }
    break;
  case 311:
    for (; k < n; k += 3, b += 4) {
      uint32_t w = b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
                   ((uint32_t)b[3] << 24);
      PUT(sext(w & 0x3ff, 10));
      if (k + 1 < n)
        PUT(sext((w >> 10) & 0x3ff, 10));
      if (k + 2 < n)
        PUT(sext((w >> 20) & 0x3ff, 10));
    }
    break;
  }
#undef PUT
}

/* "dir/file" for the directory of the record path. */
static int sibling_path(const char *record, const char *file, char *buf,
                        size_t cap) {
  const char *slash = strrchr(record, '/');
  int n =
      slash ? snprintf(buf, cap, "%.*s/%s", (int)(slash - record), record, file)
            : snprintf(buf, cap, "%s", file);
  return n < 0 || (size_t)n >= cap ? MV_ETOOBIG : MV_OK;
}

struct group {
  int first, n;
  int max_skew;
};

/* Read one group's file into r->samples (allocating it once N is known). */
static int read_group(const char *record, const char *hea,
                      struct mv_sig_wfdb_record *r, const struct group *g,
                      int *first_bad, struct mv_diag *diag) {
  int rc = MV_OK;
  uint8_t *bytes = NULL;
  int32_t *tmp = NULL;
  FILE *f = NULL;
  const struct mv_sig_wfdb_signal *s0 = &r->sig[g->first];
  char path[4096];
  if (sibling_path(record, s0->file, path, sizeof(path)) != MV_OK)
    return mv__wfdb_err(diag, MV_ETOOBIG, hea, 0, "path too long");
  f = fopen(path, "rb");
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = mv__wfdb_err(diag, f ? MV_EIO : MV_ENOTFOUND, path, 0,
                      "cannot open signal file");
    goto out;
  }
  uint64_t size = (uint64_t)st.st_size;
  if (size < (uint64_t)s0->byte_offset) {
    rc = mv__wfdb_err(diag, MV_ECORRUPT, path, 0,
                      "signal file shorter than its byte offset");
    goto out;
  }
  uint64_t frames_avail =
      samples_in(s0->fmt, size - (uint64_t)s0->byte_offset) / (uint64_t)g->n;
  if (r->n_samples < 0) {
    if (frames_avail > (uint64_t)(MV_SIG_WFDB_MAX_SAMPLES / r->n_sig)) {
      rc =
          mv__wfdb_err(diag, MV_ETOOBIG, path, 0, "record exceeds %lld samples",
                       (long long)MV_SIG_WFDB_MAX_SAMPLES);
      goto out;
    }
    r->n_samples = (int64_t)frames_avail;
  }
  uint64_t N = (uint64_t)r->n_samples;
  if (frames_avail < N) {
    rc = mv__wfdb_err(diag, MV_ECORRUPT, path, 0,
                      "signal file holds %llu of the %llu samples the "
                      "header declares",
                      (unsigned long long)frames_avail, (unsigned long long)N);
    goto out;
  }
  if (!r->samples) {
    size_t total = (size_t)N * (size_t)r->n_sig;
    r->samples = malloc((total ? total : 1) * sizeof(int32_t));
    if (!r->samples) {
      rc = mv__wfdb_err(diag, MV_ENOMEM, path, 0, "out of memory");
      goto out;
    }
  }
  uint64_t want = N + (uint64_t)g->max_skew;
  uint64_t frames = want < frames_avail ? want : frames_avail;
  uint64_t nsamp = frames * (uint64_t)g->n;
  uint64_t nbytes = bytes_for(s0->fmt, nsamp);
  bytes = malloc(nbytes ? nbytes : 1);
  if (!bytes) {
    rc = mv__wfdb_err(diag, MV_ENOMEM, path, 0, "out of memory");
    goto out;
  }
  if (fseeko(f, (off_t)s0->byte_offset, SEEK_SET) != 0 ||
      (nbytes && fread(bytes, 1, nbytes, f) != nbytes)) {
    rc = mv__wfdb_err(diag, MV_EIO, path, 0, "read error");
    goto out;
  }
  int init[MV_SIG_WFDB_MAX_SIGNALS];
  for (int i = 0; i < g->n; i++)
    init[i] = r->sig[g->first + i].init_value;
  /* Fast path: the group is the whole frame and nothing is skewed. */
  bool direct = g->n == r->n_sig && g->max_skew == 0;
  int32_t *dst;
  int stride;
  if (direct) {
    dst = r->samples;
    stride = r->n_sig;
  } else {
    tmp = malloc((nsamp ? nsamp : 1) * sizeof(int32_t));
    if (!tmp) {
      rc = mv__wfdb_err(diag, MV_ENOMEM, path, 0, "out of memory");
      goto out;
    }
    dst = tmp;
    stride = g->n;
  }
  decode(s0->fmt, bytes, nsamp, g->n, dst, stride, init);
  int64_t inval = fmt_invalid(s0->fmt);
  uint16_t sum[MV_SIG_WFDB_MAX_SIGNALS] = {0};
  if (direct) {
    /* One pass over the frames: checksums on raw values, then the
     * format's invalid code becomes the sentinel. */
    size_t total = (size_t)N * (size_t)g->n;
    int c = 0;
    for (size_t k = 0; k < total; k++) {
      int32_t v = dst[k];
      sum[c] = (uint16_t)(sum[c] + (uint16_t)v);
      if (v == inval)
        dst[k] = MV_SIG_WFDB_INVALID;
      if (++c == g->n)
        c = 0;
    }
  } else {
    for (int i = 0; i < g->n; i++) {
      const struct mv_sig_wfdb_signal *s = &r->sig[g->first + i];
      size_t col = (size_t)(g->first + i);
      for (uint64_t t = 0; t < N; t++) {
        uint64_t src = t + (uint64_t)s->skew;
        int32_t v = MV_SIG_WFDB_INVALID;
        if (src < frames) {
          v = dst[src * (uint64_t)stride + (uint64_t)i];
          sum[i] = (uint16_t)(sum[i] + (uint16_t)v);
          if (v == inval)
            v = MV_SIG_WFDB_INVALID;
        }
        r->samples[t * (uint64_t)r->n_sig + col] = v;
      }
    }
  }
  for (int i = 0; i < g->n; i++) {
    const struct mv_sig_wfdb_signal *s = &r->sig[g->first + i];
    if (s->has_checksum && (int16_t)sum[i] != (int16_t)s->checksum) {
      r->checksum_ok = false;
      if (*first_bad < 0)
        *first_bad = g->first + i;
    }
  }
out:
  free(tmp);
  free(bytes);
  if (f)
    fclose(f);
  return rc;
}

int mv_sig_wfdb_read(const char *record, unsigned flags,
                     struct mv_sig_wfdb_record **out, struct mv_diag *diag) {
  if (!record || !out || !*record)
    return mv__wfdb_err(diag, MV_EINVAL, "", 0, "no record name");
  int rc;
  char *text = NULL;
  size_t len = 0;
  struct mv_sig_wfdb_record *r = NULL;
  int first_bad = -1;
  char hea[4096];
  if ((size_t)snprintf(hea, sizeof(hea), "%s.hea", record) >= sizeof(hea))
    return mv__wfdb_err(diag, MV_ETOOBIG, "", 0, "record path too long");
  rc = mv__wfdb_slurp(hea, MV_SIG_WFDB_MAX_HEADER, &text, &len, diag);
  if (rc)
    goto out;
  rc = mv_sig_wfdb_parse_header(text, len, hea, &r, diag);
  if (rc)
    goto out;
  if (r->n_sig == 0) {
    if (r->n_samples < 0)
      r->n_samples = 0;
  } else {
    for (int i = 0; i < r->n_sig;) {
      struct group g = {.first = i, .n = 0, .max_skew = 0};
      while (i < r->n_sig &&
             strcmp(r->sig[i].file, r->sig[g.first].file) == 0) {
        if (r->sig[i].skew > g.max_skew)
          g.max_skew = r->sig[i].skew;
        g.n++;
        i++;
      }
      rc = read_group(record, hea, r, &g, &first_bad, diag);
      if (rc)
        goto out;
    }
  }
  if (!r->checksum_ok && !(flags & MV_SIG_WFDB_LAX_CHECKSUM)) {
    rc = mv__wfdb_err(diag, MV_ECORRUPT, hea, r->sig[first_bad].line,
                      "checksum mismatch for signal %d (samples do not "
                      "match the header)",
                      first_bad);
    goto out;
  }
  *out = r;
  r = NULL;
out:
  free(text);
  mv_sig_wfdb_free(r);
  return rc;
}

/* ---- Writing ------------------------------------------------------------ */

static bool valid_name(const char *n) {
  if (!*n || n[0] == '.' || n[0] == '-')
    return false;
  for (const char *c = n; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
      return false;
  return true;
}

static bool no_space(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s <= ' ')
      return false;
  return true;
}

static bool printable_line(const char *s) {
  for (; *s; s++)
    if (*s == '\n' || *s == '\r' || *s == '\0')
      return false;
  return true;
}

/* Encode all samples in fmt; fills checksums. */
static int encode(const struct mv_sig_wfdb_record *r, int fmt, uint8_t *b,
                  int *checksums, const char *path, struct mv_diag *diag) {
  int32_t lo = fmt == 212 ? -2047 : -32767, hi = fmt == 212 ? 2047 : 32767;
  int32_t code = fmt == 212 ? -2048 : -32768;
  uint16_t sums[MV_SIG_WFDB_MAX_SIGNALS] = {0};
  uint64_t n = (uint64_t)r->n_samples * (uint64_t)r->n_sig;
  for (uint64_t k = 0; k < n; k++) {
    int s = (int)(k % (uint64_t)r->n_sig);
    int32_t v = r->samples[k];
    if (v == MV_SIG_WFDB_INVALID)
      v = code;
    else if (v < lo || v > hi)
      return mv__wfdb_err(diag, MV_ERANGE, path, 0,
                          "sample of signal %d out of range for format %d", s,
                          fmt);
    sums[s] = (uint16_t)(sums[s] + (uint16_t)v);
    uint32_t u = (uint32_t)v;
    if (fmt == 16) {
      b[2 * k] = (uint8_t)(u & 0xff);
      b[2 * k + 1] = (uint8_t)((u >> 8) & 0xff);
    } else if (k % 2 == 0) {
      uint8_t *p = b + 3 * (k / 2);
      p[0] = (uint8_t)(u & 0xff);
      p[1] = (uint8_t)((p[1] & 0xf0) | ((u >> 8) & 0x0f));
    } else {
      uint8_t *p = b + 3 * (k / 2);
      p[1] = (uint8_t)((p[1] & 0x0f) | (((u >> 8) & 0x0f) << 4));
      p[2] = (uint8_t)(u & 0xff);
    }
  }
  for (int s = 0; s < r->n_sig; s++)
    checksums[s] = (int16_t)sums[s];
  return MV_OK;
}

int mv_sig_wfdb_write(const char *record, const struct mv_sig_wfdb_record *r,
                      int fmt, struct mv_diag *diag) {
  if (!record || !r)
    return mv__wfdb_err(diag, MV_EINVAL, "", 0, "no record");
  if (fmt != 16 && fmt != 212)
    return mv__wfdb_err(diag, MV_EUNSUPPORTED, record, 0,
                        "writing format %d is not supported (16, 212)", fmt);
  if (r->n_sig < 0 || r->n_sig > MV_SIG_WFDB_MAX_SIGNALS || r->n_samples < 0 ||
      !(r->fs > 0) || !isfinite(r->fs) ||
      (r->n_sig > 0 && r->n_samples > 0 && (!r->samples || !r->sig)))
    return mv__wfdb_err(diag, MV_EINVAL, record, 0, "invalid record");
  if (r->n_sig > 0 && r->n_samples > MV_SIG_WFDB_MAX_SAMPLES / r->n_sig)
    return mv__wfdb_err(diag, MV_ETOOBIG, record, 0, "record too large");
  const char *slash = strrchr(record, '/');
  const char *base = slash ? slash + 1 : record;
  if (!valid_name(base) || strlen(base) + 5 > MV_SIG_WFDB_NAME_LEN)
    return mv__wfdb_err(diag, MV_EINVAL, record, 0,
                        "record name must be letters, digits, '_', '-', '.' "
                        "(at most %d bytes)",
                        MV_SIG_WFDB_NAME_LEN - 5);
  for (int s = 0; s < r->n_sig; s++) {
    const struct mv_sig_wfdb_signal *g = &r->sig[s];
    if (!isfinite(g->gain) || !no_space(g->units) || !printable_line(g->desc))
      return mv__wfdb_err(diag, MV_EINVAL, record, 0,
                          "signal %d: bad gain, units or description", s);
  }
  int rc = MV_OK;
  uint8_t *bytes = NULL;
  struct mv_buf h;
  mv_buf_init(&h, MV_SIG_WFDB_MAX_HEADER);
  char path[4096], datname[MV_SIG_WFDB_NAME_LEN + 8];
  snprintf(datname, sizeof(datname), "%s.dat", base);
  int checksums[MV_SIG_WFDB_MAX_SIGNALS] = {0};
  if (r->n_sig > 0) {
    uint64_t nb = bytes_for(fmt, (uint64_t)r->n_samples * (uint64_t)r->n_sig);
    bytes = calloc(nb ? nb : 1, 1);
    if (!bytes) {
      rc = mv__wfdb_err(diag, MV_ENOMEM, record, 0, "out of memory");
      goto out;
    }
    rc = encode(r, fmt, bytes, checksums, record, diag);
    if (rc)
      goto out;
    if (sibling_path(record, datname, path, sizeof(path)) != MV_OK) {
      rc = mv__wfdb_err(diag, MV_ETOOBIG, record, 0, "path too long");
      goto out;
    }
    rc = mv__wfdb_write_atomic(path, bytes, nb, diag);
    if (rc)
      goto out;
  }
  rc = mv_buf_appendf(&h, "%s %d %.12g", base, r->n_sig, r->fs);
  if (!rc && r->counter_freq > 0) {
    rc = mv_buf_appendf(&h, "/%.12g", r->counter_freq);
    if (!rc && r->base_counter != 0)
      rc = mv_buf_appendf(&h, "(%.12g)", r->base_counter);
  }
  if (!rc)
    rc = mv_buf_appendf(&h, " %lld", (long long)r->n_samples);
  if (!rc && r->base_time[0] && no_space(r->base_time)) {
    rc = mv_buf_appendf(&h, " %s", r->base_time);
    if (!rc && r->base_date[0] && no_space(r->base_date))
      rc = mv_buf_appendf(&h, " %s", r->base_date);
  }
  if (!rc)
    rc = mv_buf_appends(&h, "\n");
  int bits = fmt == 212 ? 12 : 16;
  for (int s = 0; s < r->n_sig && !rc; s++) {
    const struct mv_sig_wfdb_signal *g = &r->sig[s];
    int res = g->adc_res > 0 && g->adc_res <= bits ? g->adc_res : bits;
    int32_t init = r->n_samples > 0 ? r->samples[s] : 0;
    if (init == MV_SIG_WFDB_INVALID)
      init = fmt == 212 ? -2048 : -32768;
    rc = mv_buf_appendf(&h, "%s %d %.12g(%d)/%s %d %d %d %d 0", datname, fmt,
                        g->gain_given ? g->gain : 0.0, g->baseline,
                        g->units[0] ? g->units : "mV", res, g->adc_zero,
                        (int)init, checksums[s]);
    if (!rc && g->desc[0])
      rc = mv_buf_appendf(&h, " %s", g->desc);
    if (!rc)
      rc = mv_buf_appends(&h, "\n");
  }
  for (const char *c = r->comments; *c && !rc;) {
    const char *e = strchr(c, '\n');
    size_t n = e ? (size_t)(e - c) : strlen(c);
    rc = mv_buf_appends(&h, "#");
    if (!rc)
      rc = mv_buf_append(&h, c, n);
    if (!rc)
      rc = mv_buf_appends(&h, "\n");
    c += n + (e ? 1 : 0);
  }
  if (rc) {
    rc = mv__wfdb_err(diag, rc, record, 0, "header too large");
    goto out;
  }
  if ((size_t)snprintf(path, sizeof(path), "%s.hea", record) >= sizeof(path)) {
    rc = mv__wfdb_err(diag, MV_ETOOBIG, record, 0, "path too long");
    goto out;
  }
  rc = mv__wfdb_write_atomic(path, mv_buf_cstr(&h), h.len, diag);
out:
  free(bytes);
  mv_buf_release(&h);
  return rc;
}
