/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse ecg`: WFDB records on the command line. `info` describes a
 * record (signals, rate, duration, formats, gains, checksums, annotation
 * counts), `score` compares two annotation files beat by beat as ANSI/AAMI
 * EC57 does (per record and pooled "gross"), `filter` writes a conditioned
 * copy of a record (baseline-wander removal, mains notch, band-pass, zero
 * phase). `detect` lives in cmd_ecg_detect.c. Header comments are never
 * printed: they often hold patient details.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mv_buf.h"
#include "mv_sig_filter.h"
#include "mv_sig_wfdb.h"

#define MAX_RECORDS 1024

static void usage_main(FILE *f) {
  fprintf(f, "usage: medverse ecg info|score|filter|detect [--help] ...\n"
             "  info     describe a WFDB record (signals, rate, checksums, "
             "annotations)\n"
             "  score    EC57 beat-by-beat comparison of two annotation files\n"
             "  filter   write a filtered copy of a record\n"
             "  detect   QRS detection, writes RECORD.qrs\n"
             "RECORD is a path without extension (dir/100 for dir/100.hea).\n");
}

static void usage_info(FILE *f) {
  fprintf(f, "usage: medverse ecg info RECORD [--ann NAME] [--json]\n"
             "\n"
             "Describes the WFDB record RECORD (path without extension): "
             "signals,\n"
             "sampling frequency, duration, storage formats, gains and "
             "whether the\n"
             "sample checksums match the header; with RECORD.NAME present "
             "(default\n"
             "NAME: atr), the number of annotations and beats in it.\n"
             "Exit status: 0 success, 2 bad input (FILE:LINE: message), 1 "
             "other failure.\n");
}

static void usage_score(FILE *f) {
  fprintf(f,
          "usage: medverse ecg score RECORD... --ref ANN --test ANN "
          "[--json]\n"
          "                          [--start SECONDS] [--window SECONDS]\n"
          "\n"
          "Compares RECORD.TEST against RECORD.REF beat by beat as ANSI/AAMI "
          "EC57\n"
          "(WFDB bxb): beat labels only, a 0.150 s match window, from 300 s "
          "into the\n"
          "record to its end. --start and --window change that (not EC57).\n"
          "Prints TP, FN, FP, Se = TP/(TP+FN), +P = TP/(TP+FP) and\n"
          "DER = (FN+FP)/(TP+FN) per record and, for several records, pooled "
          "as\n"
          "\"gross\". Exit status: 0 success, 2 bad input, 1 other failure.\n");
}

static void usage_filter(FILE *f) {
  fprintf(f, "usage: medverse ecg filter RECORD --out NEW [--mains 50|60|0] "
             "[--band LO,HI]\n"
             "                           [--format 16|212]\n"
             "\n"
             "Writes NEW.hea and NEW.dat: every signal of RECORD with baseline "
             "wander\n"
             "removed and band-limited (Butterworth band-pass LO..HI Hz, "
             "default 0.5,40)\n"
             "and the mains frequency notched out (default 50; 0 for none), "
             "run forward\n"
             "and backward (zero phase). Gains, baselines and units are kept; "
             "invalid\n"
             "samples stay invalid. The format defaults to the input's (16 "
             "otherwise).\n"
             "Exit status: 0 success, 2 bad input, 1 other failure.\n");
}

static bool is_help(const char *a) {
  return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Bad input (exit 2) or a runtime failure (exit 1). */
static int exit_for(int rc) {
  switch (rc) {
  case MV_ENOMEM:
  case MV_EIO:
  case MV_EINTERNAL:
    return 1;
  default:
    return EXIT_USAGE;
  }
}

static int report(const char *prog, int rc, const struct mv_diag *d) {
  char buf[640];
  if (d->path[0])
    fprintf(stderr, "%s\n", mv_diag_format(d, buf, sizeof(buf)));
  else
    fprintf(stderr, "%s: %s\n", prog, d->msg[0] ? d->msg : mv_strerror(rc));
  return exit_for(rc);
}

static bool parse_double(const char *s, double *out) {
  char *e;
  errno = 0;
  double v = strtod(s, &e);
  if (e == s || *e || errno || !isfinite(v))
    return false;
  *out = v;
  return true;
}

/* A flag's value: "--name VALUE" or "--name=VALUE". */
static const char *flag_value(int argc, char **argv, int *i, const char *name) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0)
    return NULL;
  if (a[n] == '=')
    return a + n + 1;
  if (a[n] != '\0')
    return NULL;
  if (*i + 1 >= argc)
    return "";
  return argv[++*i];
}

static int read_header_only(const char *record, struct mv_sig_wfdb_record **out,
                            struct mv_diag *d) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof(path), "%s.hea", record) >= sizeof(path))
    return mv_diag_set(d, MV_ETOOBIG, "record path too long");
  FILE *f = fopen(path, "rb");
  if (!f) {
    mv_diag_set(d, MV_ENOTFOUND, "cannot open header");
    mv_diag_set_path(d, path);
    return MV_ENOTFOUND;
  }
  char *buf = malloc(MV_SIG_WFDB_MAX_HEADER + 1);
  size_t n = buf ? fread(buf, 1, MV_SIG_WFDB_MAX_HEADER + 1, f) : 0;
  fclose(f);
  if (!buf)
    return mv_diag_set(d, MV_ENOMEM, "out of memory");
  int rc = mv_sig_wfdb_parse_header(buf, n, path, out, d);
  free(buf);
  return rc;
}

static void fmt_duration(double s, char *buf, size_t cap) {
  long ms = lround(s * 1000.0);
  long h = ms / 3600000, m = (ms / 60000) % 60;
  double sec = (double)(ms % 60000) / 1000.0;
  if (h > 0)
    snprintf(buf, cap, "%ld:%02ld:%06.3f", h, m, sec);
  else
    snprintf(buf, cap, "%ld:%06.3f", m, sec);
}

/* ---- info ---------------------------------------------------------------- */

static int cmd_info(int argc, char **argv) {
  const char *record = NULL, *ann = "atr";
  bool json = false;
  for (int i = 0; i < argc; i++) {
    const char *v;
    if (is_help(argv[i])) {
      usage_info(stdout);
      return 0;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if ((v = flag_value(argc, argv, &i, "--ann"))) {
      ann = v;
    } else if (argv[i][0] == '-' || record) {
      fprintf(stderr, "medverse ecg info: unexpected argument '%s'\n", argv[i]);
      usage_info(stderr);
      return EXIT_USAGE;
    } else {
      record = argv[i];
    }
  }
  if (!record || !*ann || strchr(ann, '/')) {
    usage_info(stderr);
    return EXIT_USAGE;
  }
  struct mv_diag d;
  mv_diag_clear(&d);
  struct mv_sig_wfdb_record *r = NULL;
  struct mv_sig_ann *a = NULL;
  size_t n_ann = 0, n_beats = 0;
  bool have_ann = false;
  int rc = mv_sig_wfdb_read(record, MV_SIG_WFDB_LAX_CHECKSUM, &r, &d);
  if (rc)
    return report("medverse ecg info", rc, &d);
  char apath[4096];
  snprintf(apath, sizeof(apath), "%s.%s", record, ann);
  if (access(apath, F_OK) == 0) {
    rc = mv_sig_ann_read(apath, &a, &n_ann, &d);
    if (rc) {
      mv_sig_wfdb_free(r);
      return report("medverse ecg info", rc, &d);
    }
    have_ann = true;
    for (size_t k = 0; k < n_ann; k++)
      n_beats += mv_sig_ann_is_beat(a[k].type);
  }
  double dur = r->fs > 0 ? (double)r->n_samples / r->fs : 0;
  struct mv_buf b;
  mv_buf_init(&b, 1u << 20);
  int w = MV_OK;
  if (json) {
    w |= mv_buf_appends(&b, "{\"record\":\"");
    w |= mv_buf_append_json_str(&b, r->name, strlen(r->name));
    w |= mv_buf_appendf(&b,
                        "\",\"n_sig\":%d,\"fs\":%.12g,\"n_samples\":%lld,"
                        "\"duration_s\":%.6f,\"checksum_ok\":%s,\"signals\":[",
                        r->n_sig, r->fs, (long long)r->n_samples, dur,
                        r->checksum_ok ? "true" : "false");
    for (int s = 0; s < r->n_sig; s++) {
      const struct mv_sig_wfdb_signal *g = &r->sig[s];
      w |= mv_buf_appends(&b, s ? ",{\"desc\":\"" : "{\"desc\":\"");
      w |= mv_buf_append_json_str(&b, g->desc, strlen(g->desc));
      w |= mv_buf_appends(&b, "\",\"file\":\"");
      w |= mv_buf_append_json_str(&b, g->file, strlen(g->file));
      w |= mv_buf_appends(&b, "\",\"units\":\"");
      w |= mv_buf_append_json_str(&b, g->units, strlen(g->units));
      w |= mv_buf_appendf(&b,
                          "\",\"format\":%d,\"gain\":%.12g,\"calibrated\":%s,"
                          "\"baseline\":%d,\"adc_res\":%d,\"adc_zero\":%d,"
                          "\"checksum\":%s}",
                          g->fmt, g->gain, g->gain_given ? "true" : "false",
                          g->baseline, g->adc_res, g->adc_zero,
                          g->has_checksum ? "true" : "null");
    }
    w |= mv_buf_appends(&b, "]");
    if (have_ann)
      w |= mv_buf_appendf(&b,
                          ",\"annotations\":{\"annotator\":\"%s\","
                          "\"count\":%zu,\"beats\":%zu}",
                          ann, n_ann, n_beats);
    w |= mv_buf_appends(&b, "}\n");
  } else {
    char dbuf[64];
    fmt_duration(dur, dbuf, sizeof(dbuf));
    w |= mv_buf_appendf(&b,
                        "record %s: %d signal%s, %.12g Hz, %lld samples per "
                        "signal (%s)\n",
                        r->name, r->n_sig, r->n_sig == 1 ? "" : "s", r->fs,
                        (long long)r->n_samples, dbuf);
    for (int s = 0; s < r->n_sig; s++) {
      const struct mv_sig_wfdb_signal *g = &r->sig[s];
      w |=
          mv_buf_appendf(&b,
                         "signal %d: %s, format %d in %s, gain %.12g adu/%s%s, "
                         "baseline %d, %d-bit ADC (zero %d)\n",
                         s, g->desc, g->fmt, g->file, g->gain, g->units,
                         g->gain_given ? "" : " (uncalibrated)", g->baseline,
                         g->adc_res, g->adc_zero);
    }
    w |= mv_buf_appendf(&b, "checksums: %s\n",
                        r->checksum_ok ? "ok" : "MISMATCH");
    if (have_ann)
      w |= mv_buf_appendf(&b, "annotations %s: %zu (%zu beats)\n", ann, n_ann,
                          n_beats);
  }
  int ret = 0;
  if (w != MV_OK) {
    fprintf(stderr, "medverse ecg info: output too large\n");
    ret = 1;
  } else {
    fputs(mv_buf_cstr(&b), stdout);
  }
  if (!r->checksum_ok) {
    /* Say which file is wrong, in the usual form, and fail. */
    char hpath[4096];
    snprintf(hpath, sizeof(hpath), "%s.hea", record);
    fprintf(stderr, "%s: checksum mismatch (samples do not match the header)\n",
            hpath);
    ret = EXIT_USAGE;
  }
  mv_buf_release(&b);
  mv_sig_ann_free(a);
  mv_sig_wfdb_free(r);
  return ret;
}

/* ---- score --------------------------------------------------------------- */

static void pct_text(double v, char *buf, size_t cap) {
  if (isnan(v))
    snprintf(buf, cap, "-");
  else
    snprintf(buf, cap, "%.2f%%", v);
}

static void pct_json(double v, char *buf, size_t cap) {
  if (isnan(v))
    snprintf(buf, cap, "null");
  else
    snprintf(buf, cap, "%.4f", v);
}

static int result_line(struct mv_buf *b, const char *name,
                       const struct mv_sig_ec57_result *r, bool json) {
  char se[32], ppv[32], der[32];
  if (json) {
    pct_json(r->se_pct, se, sizeof(se));
    pct_json(r->ppv_pct, ppv, sizeof(ppv));
    pct_json(r->der_pct, der, sizeof(der));
    int rc = mv_buf_appends(b, "{\"record\":\"");
    rc |= mv_buf_append_json_str(b, name, strlen(name));
    rc |= mv_buf_appendf(b,
                         "\",\"tp\":%lld,\"fn\":%lld,\"fp\":%lld,\"se\":%s,"
                         "\"ppv\":%s,\"der\":%s}",
                         (long long)r->tp, (long long)r->fn, (long long)r->fp,
                         se, ppv, der);
    return rc;
  }
  pct_text(r->se_pct, se, sizeof(se));
  pct_text(r->ppv_pct, ppv, sizeof(ppv));
  pct_text(r->der_pct, der, sizeof(der));
  return mv_buf_appendf(b, "%s: TP %lld FN %lld FP %lld Se %s +P %s DER %s\n",
                        name, (long long)r->tp, (long long)r->fn,
                        (long long)r->fp, se, ppv, der);
}

static bool ann_name_ok(const char *s) {
  return s && *s && !strchr(s, '/') && strlen(s) < 32;
}

static int cmd_score(int argc, char **argv) {
  const char *ref = NULL, *test = NULL;
  const char *records[MAX_RECORDS];
  int n_rec = 0;
  bool json = false;
  double start_s = 300.0, window_s = 0.150;
  for (int i = 0; i < argc; i++) {
    const char *v;
    if (is_help(argv[i])) {
      usage_score(stdout);
      return 0;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if ((v = flag_value(argc, argv, &i, "--ref"))) {
      ref = v;
    } else if ((v = flag_value(argc, argv, &i, "--test"))) {
      test = v;
    } else if ((v = flag_value(argc, argv, &i, "--start"))) {
      if (!parse_double(v, &start_s) || start_s < 0 || start_s > 1e9) {
        fprintf(stderr, "medverse ecg score: --start: not a time in s\n");
        return EXIT_USAGE;
      }
    } else if ((v = flag_value(argc, argv, &i, "--window"))) {
      if (!parse_double(v, &window_s) || window_s < 0 || window_s > 10) {
        fprintf(stderr, "medverse ecg score: --window: not 0..10 s\n");
        return EXIT_USAGE;
      }
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "medverse ecg score: unknown option '%s'\n", argv[i]);
      usage_score(stderr);
      return EXIT_USAGE;
    } else if (n_rec >= MAX_RECORDS) {
      fprintf(stderr, "medverse ecg score: more than %d records\n",
              MAX_RECORDS);
      return EXIT_USAGE;
    } else {
      records[n_rec++] = argv[i];
    }
  }
  if (n_rec == 0 || !ann_name_ok(ref) || !ann_name_ok(test)) {
    usage_score(stderr);
    return EXIT_USAGE;
  }
  struct mv_buf out;
  mv_buf_init(&out, 1u << 22);
  struct mv_sig_ec57_result gross = {0};
  mv_sig_ec57_add(&gross, &(struct mv_sig_ec57_result){0});
  int ret = 0, w = MV_OK;
  if (json)
    w |= mv_buf_appends(&out, "{\"records\":[");
  for (int k = 0; k < n_rec && ret == 0; k++) {
    struct mv_diag d;
    mv_diag_clear(&d);
    struct mv_sig_wfdb_record *h = NULL;
    struct mv_sig_ann *ra = NULL, *ta = NULL;
    size_t nr = 0, nt = 0;
    char p[4096];
    int rc = read_header_only(records[k], &h, &d);
    if (!rc) {
      snprintf(p, sizeof(p), "%s.%s", records[k], ref);
      rc = mv_sig_ann_read(p, &ra, &nr, &d);
    }
    if (!rc) {
      snprintf(p, sizeof(p), "%s.%s", records[k], test);
      rc = mv_sig_ann_read(p, &ta, &nt, &d);
    }
    struct mv_sig_ec57_result res;
    if (!rc) {
      struct mv_sig_ec57_opts o;
      mv_sig_ec57_opts_default(&o, h->fs);
      o.start_s = start_s;
      o.window_s = window_s;
      o.end_sample = h->n_samples; /* -1 when the header does not say */
      rc = mv_sig_ec57_compare(ra, nr, ta, nt, &o, &res);
      if (rc)
        mv_diag_set(&d, rc, "annotations are not in time order");
    }
    if (rc) {
      ret = report("medverse ecg score", rc, &d);
    } else {
      const char *slash = strrchr(records[k], '/');
      const char *name = slash ? slash + 1 : records[k];
      if (json && k > 0)
        w |= mv_buf_appends(&out, ",");
      w |= result_line(&out, name, &res, json);
      mv_sig_ec57_add(&gross, &res);
    }
    mv_sig_wfdb_free(h);
    mv_sig_ann_free(ra);
    mv_sig_ann_free(ta);
  }
  if (ret == 0) {
    if (json) {
      w |= mv_buf_appends(&out, "],\"gross\":");
      w |= result_line(&out, "gross", &gross, true);
      w |= mv_buf_appends(&out, "}\n");
    } else if (n_rec > 1) {
      w |= result_line(&out, "gross", &gross, false);
    }
    if (w != MV_OK) {
      fprintf(stderr, "medverse ecg score: output too large\n");
      ret = 1;
    } else {
      fputs(mv_buf_cstr(&out), stdout);
    }
  }
  mv_buf_release(&out);
  return ret;
}

/* ---- filter -------------------------------------------------------------- */

static int filter_signal(const struct mv_sig_filter *f,
                         struct mv_sig_wfdb_record *r, int s, int32_t lo,
                         int32_t hi) {
  size_t n = (size_t)r->n_samples;
  if (n == 0)
    return MV_OK;
  double *x = malloc(n * sizeof(double));
  if (!x)
    return MV_ENOMEM;
  int ns = r->n_sig;
  int32_t base = r->sig[s].baseline;
  /* Invalid samples are bridged with the last valid value for the filter
   * and stay invalid in the output. */
  double last = 0;
  for (size_t i = 0; i < n; i++) {
    int32_t v = r->samples[i * (size_t)ns + (size_t)s];
    if (v != MV_SIG_WFDB_INVALID)
      last = (double)v - base;
    x[i] = last;
  }
  mv_sig_filter_zero_phase(f, x, x, n);
  for (size_t i = 0; i < n; i++) {
    int32_t *p = &r->samples[i * (size_t)ns + (size_t)s];
    if (*p == MV_SIG_WFDB_INVALID)
      continue;
    double y = nearbyint(x[i] + base);
    *p = y < lo ? lo : y > hi ? hi : (int32_t)y;
  }
  free(x);
  return MV_OK;
}

static int cmd_filter(int argc, char **argv) {
  const char *record = NULL, *out = NULL;
  double mains = 50, band_lo = 0.5, band_hi = 40;
  int fmt = 0;
  for (int i = 0; i < argc; i++) {
    const char *v;
    if (is_help(argv[i])) {
      usage_filter(stdout);
      return 0;
    } else if ((v = flag_value(argc, argv, &i, "--out"))) {
      out = v;
    } else if ((v = flag_value(argc, argv, &i, "--mains"))) {
      if (!parse_double(v, &mains) ||
          (mains != 0 && mains != 50 && mains != 60)) {
        fprintf(stderr, "medverse ecg filter: --mains: 50, 60 or 0\n");
        return EXIT_USAGE;
      }
    } else if ((v = flag_value(argc, argv, &i, "--band"))) {
      char lo[64];
      const char *comma = strchr(v, ',');
      if (!comma || (size_t)(comma - v) >= sizeof(lo)) {
        fprintf(stderr, "medverse ecg filter: --band: LO,HI in Hz\n");
        return EXIT_USAGE;
      }
      memcpy(lo, v, (size_t)(comma - v));
      lo[comma - v] = '\0';
      if (!parse_double(lo, &band_lo) || !parse_double(comma + 1, &band_hi) ||
          band_lo < 0 || band_hi <= band_lo) {
        fprintf(stderr, "medverse ecg filter: --band: LO,HI in Hz, LO < HI\n");
        return EXIT_USAGE;
      }
    } else if ((v = flag_value(argc, argv, &i, "--format"))) {
      fmt = strcmp(v, "16") == 0 ? 16 : strcmp(v, "212") == 0 ? 212 : -1;
      if (fmt < 0) {
        fprintf(stderr, "medverse ecg filter: --format: 16 or 212\n");
        return EXIT_USAGE;
      }
    } else if (argv[i][0] == '-' || record) {
      fprintf(stderr, "medverse ecg filter: unexpected argument '%s'\n",
              argv[i]);
      usage_filter(stderr);
      return EXIT_USAGE;
    } else {
      record = argv[i];
    }
  }
  if (!record || !out || !*out) {
    usage_filter(stderr);
    return EXIT_USAGE;
  }
  struct mv_diag d;
  mv_diag_clear(&d);
  struct mv_sig_wfdb_record *r = NULL;
  int rc = mv_sig_wfdb_read(record, 0, &r, &d);
  if (rc)
    return report("medverse ecg filter", rc, &d);
  struct mv_sig_filter f;
  struct mv_sig_filter_spec spec = {.fs_hz = r->fs,
                                    .highpass_hz = band_lo,
                                    .lowpass_hz = band_hi,
                                    .notch_hz = mains};
  rc = mv_sig_filter_init(&f, &spec, &d);
  if (rc) {
    fprintf(stderr, "medverse ecg filter: %s (sampling frequency %.12g Hz)\n",
            d.msg[0] ? d.msg : mv_strerror(rc), r->fs);
    mv_sig_wfdb_free(r);
    return EXIT_USAGE;
  }
  if (fmt == 0)
    fmt = r->n_sig > 0 && r->sig[0].fmt == 212 ? 212 : 16;
  for (int s = 1; s < r->n_sig && fmt == 212; s++)
    if (r->sig[s].fmt != 212)
      fmt = 16;
  int32_t lo = fmt == 212 ? -2047 : -32767, hi = fmt == 212 ? 2047 : 32767;
  for (int s = 0; s < r->n_sig && !rc; s++)
    rc = filter_signal(&f, r, s, lo, hi);
  if (rc) {
    fprintf(stderr, "medverse ecg filter: %s\n", mv_strerror(rc));
    mv_sig_wfdb_free(r);
    return 1;
  }
  /* Say what was done, in the header's comments (bounded; dropped if the
   * comments are already full). */
  char note[160];
  snprintf(note, sizeof(note),
           "%s filtered by medverse: band-pass %.6g-%.6g Hz, notch %s",
           r->comments[0] ? "\n" : "", band_lo, band_hi,
           mains > 0 ? (mains == 50 ? "50 Hz" : "60 Hz") : "none");
  if (strlen(r->comments) + strlen(note) < sizeof(r->comments))
    memcpy(r->comments + strlen(r->comments), note, strlen(note) + 1);
  rc = mv_sig_wfdb_write(out, r, fmt, &d);
  mv_sig_wfdb_free(r);
  if (rc)
    return report("medverse ecg filter", rc, &d);
  return 0;
}

int cmd_ecg(int argc, char **argv) {
  if (argc < 1) {
    usage_main(stderr);
    return EXIT_USAGE;
  }
  const char *sub = argv[0];
  if (strcmp(sub, "detect") == 0)
    return cmd_ecg_detect(argc - 1, argv + 1);
  if (strcmp(sub, "info") == 0)
    return cmd_info(argc - 1, argv + 1);
  if (strcmp(sub, "score") == 0)
    return cmd_score(argc - 1, argv + 1);
  if (strcmp(sub, "filter") == 0)
    return cmd_filter(argc - 1, argv + 1);
  if (is_help(sub) || strcmp(sub, "help") == 0) {
    usage_main(stdout);
    return 0;
  }
  fprintf(stderr, "medverse ecg: unknown subcommand '%s'\n", sub);
  usage_main(stderr);
  return EXIT_USAGE;
}
