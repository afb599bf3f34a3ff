/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse epi detect`: outbreak detection on a long-format count CSV.
 * Reads the table (t, [date], unit, observed, [population]), runs one method
 * of mv_epi_detect.h on every unit (or the one named by --unit) and writes
 * `t,unit,observed,upperbound,alarm` to stdout. Flags are surveillance's
 * control fields in kebab case; every unit's parameters are checked before
 * anything is printed, so bad input never leaves half an output. Units run
 * in parallel (one thread per core, at most 8) and print in input order.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mv_epi_detect.h"
#include "mv_csv.h"
#include "mv_limits.h"

#define PROG "medverse epi detect"

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: medverse epi detect --method METHOD --input FILE.csv "
      "[--unit NAME] [options]\n"
      "\n"
      "Outbreak detection as in R surveillance 1.20.3. METHOD is one of\n"
      "ears-c1, ears-c2, ears-c3, cusum, bayes, rki, farrington, noufaily.\n"
      "Input: CSV with columns t (1..n), observed, and optionally unit, date\n"
      "(YYYY-MM-DD), population (long format, one row per t and unit); FILE\n"
      "may be - for stdin. Output on stdout: t,unit,observed,upperbound,alarm\n"
      "(alarm 1, 0 or NA; upperbound NA when not computed, NaN for 0/0).\n"
      "\n"
      "All methods:\n"
      "  --range-first T --range-last T  monitored time points (1-based t)\n"
      "  --freq N                periods per year (default: from the dates,\n"
      "                          else 52)\n"
      "  --diagnostics           add the method's diagnostic columns\n"
      "ears-c1|c2|c3 (earsC):    --baseline 7 --min-sigma 0 --alpha A\n"
      "                          (A: 0.001 for C1/C2, 0.025 for C3)\n"
      "cusum (algo.cusum):       --k 1.04 --h 2.26 --m NUMBER|glm\n"
      "                          --trans standard|anscombe|rossi|anscombe2nd|\n"
      "                          pearsonNegBin|none --alpha 0.1 "
      "(pearsonNegBin)\n"
      "                          (m: mean before the range; default range:\n"
      "                          second half of the series)\n"
      "bayes (algo.bayes):       --b 0 --w 6 --act-y true --alpha 0.05\n"
      "rki (algo.rki):           --b 2 --w 4 --act-y false\n"
      "farrington, noufaily (farringtonFlexible):\n"
      "  --b 5 --w 3 --reweight true --weights-threshold 2.58 --alpha 0.05\n"
      "  --trend true --p-threshold-trend 0.05 --limit54 5,4\n"
      "  --powertrans 2/3|1/2|none --population-offset false\n"
      "  --no-periods 1 --past-weeks-not-included W\n"
      "  --threshold-method delta|nbPlugin|muan\n"
      "  --epoch-as-date true (false: ignore the date column; reference\n"
      "  weeks by index t - i*freq instead of calendar years)\n"
      "  (noufaily presets no-periods 10, past-weeks-not-included 26,\n"
      "  p-threshold-trend 1, threshold-method nbPlugin)\n"
      "\n"
      "Exit status: 0 success, 2 bad flags or input (FILE:LINE: message),\n"
      "1 runtime failure.\n");
}

/* Which methods a flag applies to (bit per enum mv_epi_method). */
#define M_EARS                                                                 \
  ((1u << MV_EPI_EARS_C1) | (1u << MV_EPI_EARS_C2) | (1u << MV_EPI_EARS_C3))
#define M_CUSUM (1u << MV_EPI_CUSUM)
#define M_BAYES (1u << MV_EPI_BAYES)
#define M_RKI (1u << MV_EPI_RKI)
#define M_FAR ((1u << MV_EPI_FARRINGTON) | (1u << MV_EPI_NOUFAILY))
#define M_ALL 0xffffu

enum flag_id {
  F_METHOD,
  F_INPUT,
  F_UNIT,
  F_RANGE_FIRST,
  F_RANGE_LAST,
  F_FREQ,
  F_DIAG,
  F_BASELINE,
  F_MIN_SIGMA,
  F_ALPHA,
  F_K,
  F_H,
  F_M,
  F_TRANS,
  F_B,
  F_W,
  F_ACT_Y,
  F_REWEIGHT,
  F_WEIGHTS_THRESHOLD,
  F_TREND,
  F_P_THRESHOLD_TREND,
  F_LIMIT54,
  F_POWERTRANS,
  F_POPULATION_OFFSET,
  F_NO_PERIODS,
  F_PAST_WEEKS,
  F_THRESHOLD_METHOD,
  F_EPOCH_AS_DATE,
  F_COUNT
};

struct flag_def {
  const char *name;
  unsigned methods;
  int kind; /* 0 value, 1 boolean (value optional), 2 no value */
};

static const struct flag_def flags[F_COUNT] = {
    [F_METHOD] = {"method", M_ALL, 0},
    [F_INPUT] = {"input", M_ALL, 0},
    [F_UNIT] = {"unit", M_ALL, 0},
    [F_RANGE_FIRST] = {"range-first", M_ALL, 0},
    [F_RANGE_LAST] = {"range-last", M_ALL, 0},
    [F_FREQ] = {"freq", M_ALL, 0},
    [F_DIAG] = {"diagnostics", M_ALL, 2},
    [F_BASELINE] = {"baseline", M_EARS, 0},
    [F_MIN_SIGMA] = {"min-sigma", M_EARS, 0},
    [F_ALPHA] = {"alpha", M_EARS | M_CUSUM | M_BAYES | M_FAR, 0},
    [F_K] = {"k", M_CUSUM, 0},
    [F_H] = {"h", M_CUSUM, 0},
    [F_M] = {"m", M_CUSUM, 0},
    [F_TRANS] = {"trans", M_CUSUM, 0},
    [F_B] = {"b", M_BAYES | M_RKI | M_FAR, 0},
    [F_W] = {"w", M_BAYES | M_RKI | M_FAR, 0},
    [F_ACT_Y] = {"act-y", M_BAYES | M_RKI, 1},
    [F_REWEIGHT] = {"reweight", M_FAR, 1},
    [F_WEIGHTS_THRESHOLD] = {"weights-threshold", M_FAR, 0},
    [F_TREND] = {"trend", M_FAR, 1},
    [F_P_THRESHOLD_TREND] = {"p-threshold-trend", M_FAR, 0},
    [F_LIMIT54] = {"limit54", M_FAR, 0},
    [F_POWERTRANS] = {"powertrans", M_FAR, 0},
    [F_POPULATION_OFFSET] = {"population-offset", M_FAR, 1},
    [F_NO_PERIODS] = {"no-periods", M_FAR, 0},
    [F_PAST_WEEKS] = {"past-weeks-not-included", M_FAR, 0},
    [F_THRESHOLD_METHOD] = {"threshold-method", M_FAR, 0},
    [F_EPOCH_AS_DATE] = {"epoch-as-date", M_FAR, 1},
};

static int flag_err(const char *flag, const char *msg) {
  fprintf(stderr, PROG ": --%s: %s\n", flag, msg);
  return EXIT_USAGE;
}

static int parse_bool(const char *v, bool *out) {
  if (!strcmp(v, "true") || !strcmp(v, "TRUE") || !strcmp(v, "1") ||
      !strcmp(v, "yes")) {
    *out = true;
    return 0;
  }
  if (!strcmp(v, "false") || !strcmp(v, "FALSE") || !strcmp(v, "0") ||
      !strcmp(v, "no")) {
    *out = false;
    return 0;
  }
  return -1;
}

static int parse_double(const char *v, double *out) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (end == v || *end || errno == ERANGE || !isfinite(d))
    return -1;
  *out = d;
  return 0;
}

static int parse_int(const char *v, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (end == v || *end || errno == ERANGE || x < lo || x > hi)
    return -1;
  *out = x;
  return 0;
}

/* Apply one flag's value to the control; returns 0 or EXIT_USAGE. */
/* Series options that are not part of the control. */
struct series_opts {
  int freq;     /* 0 = from the input */
  bool undated; /* --epoch-as-date false: ignore the date column */
};

static int apply(enum flag_id id, const char *v, struct mv_epi_detect_ctl *c,
                 struct series_opts *so) {
  const char *name = flags[id].name;
  struct mv_epi_farrington_ctl *f = &c->farrington;
  double d;
  long l;
  bool b;
  switch (id) {
  case F_RANGE_FIRST:
  case F_RANGE_LAST:
    if (parse_int(v, 1, MV_LIMIT_EPI_POINTS, &l))
      return flag_err(name, "expected a time index t >= 1");
    if (id == F_RANGE_FIRST)
      c->range.first = (size_t)l;
    else
      c->range.last = (size_t)l;
    return 0;
  case F_FREQ:
    if (parse_int(v, 1, 366, &l))
      return flag_err(name, "expected periods per year in 1..366");
    so->freq = (int)l;
    return 0;
  case F_BASELINE:
    if (parse_int(v, -100000, 100000, &l))
      return flag_err(name, "expected an integer");
    if (l < 3)
      return flag_err(name, "the minimum baseline is 3");
    c->ears.baseline = (int)l;
    return 0;
  case F_MIN_SIGMA:
    if (parse_double(v, &d) || d < 0)
      return flag_err(name, "expected a number >= 0");
    c->ears.min_sigma = d;
    return 0;
  case F_ALPHA:
    if (parse_double(v, &d) || !(d > 0) ||
        (c->method != MV_EPI_CUSUM && !(d < 1)))
      return flag_err(name, c->method == MV_EPI_CUSUM
                                ? "expected a number > 0"
                                : "expected a probability in (0, 1)");
    c->ears.alpha = d;
    c->cusum.alpha = d;
    c->bayes.alpha = d;
    f->alpha = d;
    return 0;
  case F_K:
  case F_H:
    if (parse_double(v, &d))
      return flag_err(name, "expected a number");
    if (id == F_K)
      c->cusum.k = d;
    else
      c->cusum.h = d;
    return 0;
  case F_M:
    if (!strcmp(v, "glm")) {
      c->cusum.m_glm = true;
      return 0;
    }
    if (parse_double(v, &d) || d < 0)
      return flag_err(name, "expected a number >= 0 or glm");
    c->cusum.m = d;
    return 0;
  case F_TRANS: {
    static const char *const names[] = {"standard",    "anscombe",      "rossi",
                                        "anscombe2nd", "pearsonNegBin", "none"};
    for (size_t i = 0; i < MV_ARRAY_LEN(names); i++)
      if (!strcmp(v, names[i])) {
        c->cusum.trans = (enum mv_epi_cusum_trans)i;
        return 0;
      }
    return flag_err(name, "expected standard, anscombe, rossi, anscombe2nd, "
                          "pearsonNegBin or none");
  }
  case F_B:
    if (parse_int(v, 0, 100, &l))
      return flag_err(name, "expected an integer in 0..100");
    c->bayes.b = c->rki.b = f->b = (int)l;
    return 0;
  case F_W:
    if (parse_int(v, 0, 10000, &l))
      return flag_err(name, "expected an integer in 0..10000");
    c->bayes.w = c->rki.w = f->w = (int)l;
    return 0;
  case F_EPOCH_AS_DATE:
    if (parse_bool(v, &b))
      return flag_err(name, "expected true or false");
    so->undated = !b;
    return 0;
  case F_ACT_Y:
  case F_REWEIGHT:
  case F_TREND:
  case F_POPULATION_OFFSET:
    if (parse_bool(v, &b))
      return flag_err(name, "expected true or false");
    if (id == F_ACT_Y)
      c->bayes.act_y = c->rki.act_y = b;
    else if (id == F_REWEIGHT)
      f->reweight = b;
    else if (id == F_TREND)
      f->trend = b;
    else
      f->population_offset = b;
    return 0;
  case F_WEIGHTS_THRESHOLD:
    if (parse_double(v, &d))
      return flag_err(name, "expected a number");
    f->weights_threshold = d;
    return 0;
  case F_P_THRESHOLD_TREND:
    if (parse_double(v, &d) || d < 0)
      return flag_err(name, "expected a number >= 0");
    f->p_threshold_trend = d;
    return 0;
  case F_LIMIT54: {
    long cases, period;
    char buf[64];
    const char *comma = strchr(v, ',');
    if (!comma || (size_t)(comma - v) >= sizeof(buf))
      return flag_err(name, "expected CASES,PERIOD (e.g. 5,4)");
    memcpy(buf, v, (size_t)(comma - v));
    buf[comma - v] = '\0';
    if (parse_int(buf, 0, 1000000, &cases) ||
        parse_int(comma + 1, 1, 1000000, &period))
      return flag_err(name, "expected CASES >= 0 and PERIOD > 0");
    f->limit54_cases = (int)cases;
    f->limit54_period = (int)period;
    return 0;
  }
  case F_POWERTRANS:
    if (!strcmp(v, "2/3"))
      f->power = MV_EPI_POWER_2_3;
    else if (!strcmp(v, "1/2"))
      f->power = MV_EPI_POWER_1_2;
    else if (!strcmp(v, "none"))
      f->power = MV_EPI_POWER_NONE;
    else
      return flag_err(name, "expected 2/3, 1/2 or none");
    return 0;
  case F_NO_PERIODS:
    if (parse_int(v, 1, 14, &l))
      return flag_err(name, "expected an integer in 1..14");
    f->no_periods = (int)l;
    return 0;
  case F_PAST_WEEKS:
    if (parse_int(v, 0, 100000, &l))
      return flag_err(name, "expected an integer >= 0");
    f->past_weeks_not_included = (int)l;
    return 0;
  case F_THRESHOLD_METHOD:
    if (!strcmp(v, "delta"))
      f->threshold = MV_EPI_THRESHOLD_DELTA;
    else if (!strcmp(v, "nbPlugin") || !strcmp(v, "nb-plugin"))
      f->threshold = MV_EPI_THRESHOLD_NBPLUGIN;
    else if (!strcmp(v, "muan"))
      f->threshold = MV_EPI_THRESHOLD_MUAN;
    else
      return flag_err(name, "expected delta, nbPlugin or muan");
    return 0;
  default:
    return 0;
  }
}

/* Shortest decimal that reads back to the same double; R's spellings for
 * the IEEE specials. */
static void fmt_num(char *buf, size_t len, double x, bool na) {
  if (na) {
    snprintf(buf, len, "NA");
    return;
  }
  if (isnan(x)) {
    snprintf(buf, len, "NaN");
    return;
  }
  if (isinf(x)) {
    snprintf(buf, len, x > 0 ? "Inf" : "-Inf");
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, x);
    if (strtod(buf, NULL) == x)
      return;
  }
}

static void put_field(FILE *out, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static void progress(size_t done, size_t total) {
  int width = 30, fill = (int)(done * (size_t)width / (total ? total : 1));
  fprintf(stderr, "\r[");
  for (int i = 0; i < width; i++)
    fputc(i < fill ? '#' : ' ', stderr);
  fprintf(stderr, "] %zu/%zu units", done, total);
  if (done == total)
    fputc('\n', stderr);
}

static int read_all(const char *path, char **out, size_t *out_len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f)
    return -1;
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  int rc = 0;
  while (buf) {
    if (len == cap) {
      if (cap >= MV_CSV_FILE_MAX) {
        rc = -2;
        break;
      }
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        rc = -3;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (r == 0) {
      if (ferror(f))
        rc = -1;
      break;
    }
  }
  if (!buf)
    rc = -3;
  if (f != stdin)
    fclose(f);
  if (rc) {
    free(buf);
    return rc;
  }
  *out = buf;
  *out_len = len;
  return 0;
}

static void write_point(FILE *out, const char *unit,
                        const struct mv_epi_detect_point *p,
                        enum mv_epi_method m, bool diag) {
  char a[40], b[40];
  fmt_num(a, sizeof(a), p->observed, isnan(p->observed));
  fmt_num(b, sizeof(b), p->upperbound, p->upperbound_na);
  fprintf(out, "%zu,", p->t);
  put_field(out, unit);
  fprintf(out, ",%s,%s,%s", a, b,
          p->alarm == MV_EPI_ALARM_NA    ? "NA"
          : p->alarm == MV_EPI_ALARM_YES ? "1"
                                         : "0");
  if (diag && m == MV_EPI_CUSUM) {
    fmt_num(a, sizeof(a), p->cusum, false);
    fmt_num(b, sizeof(b), p->cusum_m, false);
    fprintf(out, ",%s,%s", a, b);
  } else if (diag && (m == MV_EPI_FARRINGTON || m == MV_EPI_NOUFAILY)) {
    const double v[6] = {p->expected, p->score, p->pvalue,
                         p->mu0,      p->phi,   p->trend_coef};
    for (int i = 0; i < 6; i++) {
      fmt_num(a, sizeof(a), v[i], isnan(v[i]));
      fprintf(out, ",%s", a);
    }
  }
  fputc('\n', out);
}

/* Collect --flag VALUE / --flag=VALUE pairs into vals. Returns 0, -1 after
 * printing --help, or EXIT_USAGE. */
static int parse_argv(int argc, char **argv, const char **vals) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return -1;
    }
    if (strncmp(a, "--", 2) != 0) {
      fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", a);
      return EXIT_USAGE;
    }
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    int id = -1;
    for (int j = 0; j < F_COUNT; j++)
      if (strlen(flags[j].name) == nlen && !strncmp(flags[j].name, name, nlen))
        id = j;
    if (id < 0) {
      fprintf(stderr, PROG ": unknown flag '--%.*s' (see --help)\n",
              (int)(nlen > 64 ? 64 : nlen), name);
      return EXIT_USAGE;
    }
    const char *v = NULL;
    bool tmp;
    if (eq)
      v = eq + 1;
    else if (flags[id].kind == 2)
      v = "";
    else if (flags[id].kind == 1) /* boolean: the value is optional */
      v = i + 1 < argc && parse_bool(argv[i + 1], &tmp) == 0 ? argv[++i]
                                                             : "true";
    else if (i + 1 < argc)
      v = argv[++i];
    else
      return flag_err(flags[id].name, "needs a value");
    if (vals[id])
      return flag_err(flags[id].name, "given more than once");
    vals[id] = v;
  }
  return 0;
}

/* The method's control from R's defaults and the flags given. */
static int build_ctl(const char **vals, struct mv_epi_detect_ctl *ctl,
                     struct series_opts *so) {
  enum mv_epi_method method;
  if (!vals[F_METHOD])
    return flag_err("method", "required (see --help)");
  if (!vals[F_INPUT])
    return flag_err("input", "required (see --help)");
  if (mv_epi_method_parse(vals[F_METHOD], &method) != MV_OK)
    return flag_err("method", "expected ears-c1, ears-c2, ears-c3, cusum, "
                              "bayes, rki, farrington or noufaily");
  mv_epi_detect_defaults(method, ctl);
  so->freq = 0;
  so->undated = false;
  for (int j = 0; j < F_COUNT; j++) {
    if (!vals[j])
      continue;
    if (!(flags[j].methods & (1u << method))) {
      fprintf(stderr, PROG ": --%s: not an option of method %s\n",
              flags[j].name, mv_epi_method_name(method));
      return EXIT_USAGE;
    }
    if (apply((enum flag_id)j, vals[j], ctl, so))
      return EXIT_USAGE;
  }
  if (ctl->range.first && ctl->range.last && ctl->range.first > ctl->range.last)
    return flag_err("range-first", "must not exceed --range-last");
  return 0;
}

/* Read and parse the input table; messages FILE:LINE: ... */
static int load_panel(const char *path, char **text,
                      struct mv_epi_panel **panel) {
  size_t len = 0;
  int r = read_all(path, text, &len);
  if (r) {
    fprintf(stderr, PROG ": --input: %s: %s\n", path,
            r == -2   ? "file too large"
            : r == -3 ? "out of memory"
                      : strerror(errno));
    return r == -3 ? 1 : EXIT_USAGE;
  }
  struct mv_diag d;
  mv_diag_clear(&d);
  int e = mv_epi_panel_parse(*text, len, path, panel, &d);
  if (e == MV_OK)
    return 0;
  if (d.line > 0)
    fprintf(stderr, "%s:%d: %s\n", path, d.line, d.msg);
  else
    fprintf(stderr, "%s: %s\n", path, d.msg[0] ? d.msg : mv_strerror(e));
  return e == MV_ENOMEM ? 1 : EXIT_USAGE;
}

/* Units u0..u1-1 as series (with the --freq override). */
static int unit_series(const struct mv_epi_panel *panel, size_t u,
                       const struct series_opts *so, struct mv_epi_series *s) {
  if (mv_epi_panel_series(panel, u, s) != MV_OK)
    return 1;
  if (so->freq)
    s->freq = so->freq;
  if (so->undated)
    s->date_days = NULL;
  return 0;
}

/* Every unit's range and parameters are checked before anything is
 * printed, so bad input never leaves half an output. */
static int check_units(const struct mv_epi_panel *panel, size_t u0, size_t u1,
                       const struct mv_epi_detect_ctl *ctl,
                       const struct series_opts *so, size_t *maxn) {
  *maxn = 0;
  for (size_t u = u0; u < u1; u++) {
    struct mv_epi_series s;
    size_t first, last;
    struct mv_diag d;
    if (unit_series(panel, u, so, &s))
      return 1;
    mv_diag_clear(&d);
    if (mv_epi_detect_range(&s, ctl, &first, &last, &d) != MV_OK) {
      fprintf(stderr, PROG ": --%s: %s (unit %s)\n",
              d.path[0] ? d.path : "method", d.msg,
              mv_epi_panel_unit(panel, u));
      return EXIT_USAGE;
    }
    if (s.n > *maxn)
      *maxn = s.n;
  }
  return 0;
}

static void write_header(enum mv_epi_method m, bool diag) {
  printf("t,unit,observed,upperbound,alarm");
  if (diag && m == MV_EPI_CUSUM)
    printf(",cusum,m");
  else if (diag && (m == MV_EPI_FARRINGTON || m == MV_EPI_NOUFAILY))
    printf(",expected,score,pvalue,mu0,phi,trend_coef");
  printf("\n");
}

/* Units are computed in batches by a few threads (mv_epi_detect is
 * reentrant) and printed in input order after each batch. */
#define BATCH_UNITS 32
#define MAX_THREADS 8

struct batch {
  const struct mv_epi_panel *panel;
  const struct mv_epi_detect_ctl *ctl;
  const struct series_opts *so;
  size_t first, count, maxn;
  atomic_size_t next;
  struct mv_epi_detect_point *pts; /* count * maxn */
  size_t np[BATCH_UNITS];
  int rc[BATCH_UNITS];
  struct mv_diag diag[BATCH_UNITS];
};

static void *batch_worker(void *arg) {
  struct batch *b = arg;
  for (;;) {
    size_t i = atomic_fetch_add(&b->next, 1);
    if (i >= b->count)
      break;
    struct mv_epi_series s;
    mv_diag_clear(&b->diag[i]);
    b->np[i] = 0;
    if (unit_series(b->panel, b->first + i, b->so, &s)) {
      b->rc[i] = MV_EINTERNAL;
      continue;
    }
    b->rc[i] =
        mv_epi_detect(&s, b->ctl, b->pts + i * b->maxn, &b->np[i], &b->diag[i]);
  }
  return NULL;
}

static int threads_to_use(size_t units) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1)
    n = 1;
  if (n > MAX_THREADS)
    n = MAX_THREADS;
  return units < (size_t)n ? (int)units : (int)n;
}

static int run_batch(struct batch *b, int nthreads) {
  pthread_t th[MAX_THREADS];
  int started = 0;
  atomic_store(&b->next, 0);
  for (int i = 1; i < nthreads; i++)
    if (pthread_create(&th[started], NULL, batch_worker, b) == 0)
      started++;
  batch_worker(b); /* this thread works too */
  for (int i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  return 0;
}

static int run_units(const struct mv_epi_panel *panel, size_t u0, size_t u1,
                     const struct mv_epi_detect_ctl *ctl,
                     const struct series_opts *so, size_t maxn,
                     bool diag_cols) {
  bool show = isatty(STDERR_FILENO) && u1 - u0 > 1;
  int nthreads = threads_to_use(u1 - u0), rc = 0;
  struct batch *b = calloc(1, sizeof(*b));
  if (!b)
    return 1;
  b->pts = malloc(BATCH_UNITS * (maxn ? maxn : 1) * sizeof(*b->pts));
  if (!b->pts) {
    free(b);
    return 1;
  }
  b->panel = panel;
  b->ctl = ctl;
  b->so = so;
  b->maxn = maxn ? maxn : 1;
  write_header(ctl->method, diag_cols);
  for (size_t u = u0; u < u1 && rc == 0; u += BATCH_UNITS) {
    b->first = u;
    b->count = u1 - u < BATCH_UNITS ? u1 - u : BATCH_UNITS;
    run_batch(b, nthreads);
    for (size_t i = 0; i < b->count; i++) {
      const char *unit = mv_epi_panel_unit(panel, u + i);
      const struct mv_diag *d = &b->diag[i];
      if (b->rc[i] != MV_OK) {
        fflush(stdout);
        fprintf(stderr, PROG ": %s%s%s%s (unit %s)\n", d->path[0] ? "--" : "",
                d->path, d->path[0] ? ": " : "", d->msg, unit);
        rc = b->rc[i] == MV_ENOMEM || b->rc[i] == MV_EINTERNAL ? 1 : EXIT_USAGE;
        break;
      }
      const struct mv_epi_detect_point *pts = b->pts + i * b->maxn;
      for (size_t k = 0; k < b->np[i]; k++)
        write_point(stdout, unit, &pts[k], ctl->method, diag_cols);
    }
    if (show && rc == 0)
      progress(u - u0 + b->count, u1 - u0);
  }
  free(b->pts);
  free(b);
  if (rc == 0 && fflush(stdout) != 0) {
    fprintf(stderr, PROG ": writing the output failed\n");
    rc = 1;
  }
  return rc;
}

int cmd_epi_detect(int argc, char **argv) {
  const char *vals[F_COUNT] = {0};
  char *text = NULL;
  struct mv_epi_panel *panel = NULL;
  struct mv_epi_detect_ctl ctl;
  struct series_opts so;
  int rc = parse_argv(argc, argv, vals);
  if (rc)
    return rc < 0 ? 0 : rc;
  rc = build_ctl(vals, &ctl, &so);
  if (rc)
    return rc;
  rc = load_panel(vals[F_INPUT], &text, &panel);
  if (rc)
    goto out;
  size_t u0 = 0, u1 = mv_epi_panel_count(panel), maxn = 0;
  if (vals[F_UNIT]) {
    long ui = mv_epi_panel_find(panel, vals[F_UNIT]);
    if (ui < 0) {
      rc = flag_err("unit", "no such unit in the input");
      goto out;
    }
    u0 = (size_t)ui;
    u1 = u0 + 1;
  }
  rc = check_units(panel, u0, u1, &ctl, &so, &maxn);
  if (rc)
    goto out;
  static char obuf[1 << 16];
  setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
  rc = run_units(panel, u0, u1, &ctl, &so, maxn, vals[F_DIAG] != NULL);
out:
  fflush(stdout);
  mv_epi_panel_free(panel);
  free(text);
  return rc;
}
