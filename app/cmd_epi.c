/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse epi`: the surveillance subcommands on CSV files. `detect` is in
 * cmd_epi_detect.c; this file has `rt` (EpiEstim estimate_R) and `forecast`
 * (renewal equation). Both read an incidence CSV (t,I or t,local,imported,
 * optionally date), check every row before computing, and write CSV with the
 * reference package's column names to stdout. Bad input is reported as
 * FILE:LINE: message or as the flag at fault, with exit status 2.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mv_csv.h"
#include "mv_epi.h"
#include "mv_limits.h"

/* ---- small parsing helpers -------------------------------------------- */

/* A finite double filling the whole string. */
static bool parse_double(const char *s, double *out) {
  char *e;
  if (!s || !*s)
    return false;
  errno = 0;
  double v = strtod(s, &e);
  if (*e || errno == ERANGE || !isfinite(v))
    return false;
  *out = v;
  return true;
}

static bool parse_i64(const char *s, int64_t *out) {
  char *e;
  if (!s || !*s)
    return false;
  errno = 0;
  long long v = strtoll(s, &e, 10);
  if (*e || errno == ERANGE)
    return false;
  *out = v;
  return true;
}

/* Shortest of %.15g..%.17g that reads back to the same double; NA for NaN. */
static void put_num(FILE *f, double v) {
  char buf[40];
  if (isnan(v)) {
    fputs("NA", f);
    return;
  }
  if (v == 0.0)
    v = 0.0; /* no "-0" */
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  fputs(buf, f);
}

/* ---- incidence CSV ---------------------------------------------------- */

struct incidence {
  double *local;    /* T */
  double *imported; /* T, NULL for a single I column */
  size_t T;
};

static void incidence_release(struct incidence *inc) {
  free(inc->local);
  free(inc->imported);
  memset(inc, 0, sizeof *inc);
}

/* A count field: a non-negative integer, or NA/empty (missing; EpiEstim
 * treats it as 0). */
static bool parse_count(const char *s, double *out) {
  if (!*s || strcmp(s, "NA") == 0) {
    *out = NAN;
    return true;
  }
  double v;
  if (!parse_double(s, &v) || v < 0.0 || v != floor(v) || v > 1e15)
    return false;
  *out = v;
  return true;
}

static int read_incidence(const char *path, struct incidence *inc) {
  struct mv_csv *c = NULL;
  struct mv_diag d;
  char **f;
  size_t n, cap = 0;
  int rc = EXIT_USAGE;
  memset(inc, 0, sizeof *inc);
  mv_diag_clear(&d);
  if (mv_csv_open_file(path, &c, &d) != MV_OK) {
    fprintf(stderr, "%s: %s\n", path, d.msg);
    return EXIT_USAGE;
  }
  if (mv_csv_next(c, &f, &n, &d) != MV_OK) {
    fprintf(stderr, "%s:1: empty file or malformed header\n", path);
    goto out;
  }
  long ct = mv_csv_find(f, n, "t"), ci = mv_csv_find(f, n, "I");
  long cl = mv_csv_find(f, n, "local"), cm = mv_csv_find(f, n, "imported");
  if (ct < 0 || (ci < 0 && (cl < 0 || cm < 0)) || (ci >= 0 && cl >= 0)) {
    fprintf(stderr, "%s:1: header must have t and either I or local,imported\n",
            path);
    goto out;
  }
  size_t ncol = n;
  for (;;) {
    int r = mv_csv_next(c, &f, &n, &d);
    if (r == MV_ENOTFOUND)
      break;
    size_t line = mv_csv_line(c);
    if (r != MV_OK) {
      fprintf(stderr, "%s:%d: %s\n", path, d.line, d.msg);
      goto out;
    }
    if (n != ncol) {
      fprintf(stderr, "%s:%zu: %zu fields, header has %zu\n", path, line, n,
              ncol);
      goto out;
    }
    if (inc->T >= MV_LIMIT_EPI_RT_DAYS) {
      fprintf(stderr, "%s:%zu: more than %u rows\n", path, line,
              MV_LIMIT_EPI_RT_DAYS);
      goto out;
    }
    int64_t t;
    if (!parse_i64(f[ct], &t)) {
      fprintf(stderr, "%s:%zu: t is not an integer\n", path, line);
      goto out;
    }
    if (t != (int64_t)inc->T + 1) {
      fprintf(stderr,
              "%s:%zu: t is %lld, expected %zu (rows must be sorted by t, "
              "starting at 1, without gaps)\n",
              path, line, (long long)t, inc->T + 1);
      goto out;
    }
    if (inc->T == cap) {
      cap = cap ? cap * 2 : 256;
      double *nl = realloc(inc->local, cap * sizeof *nl);
      if (!nl)
        goto oom;
      inc->local = nl;
      if (ci < 0) {
        double *ni = realloc(inc->imported, cap * sizeof *ni);
        if (!ni)
          goto oom;
        inc->imported = ni;
      }
    }
    double a, b = 0.0;
    const char *name = ci >= 0 ? "I" : "local";
    if (!parse_count(f[ci >= 0 ? ci : cl], &a) ||
        (ci < 0 && !parse_count(f[cm], &b))) {
      if (ci < 0 && parse_count(f[cl], &a))
        name = "imported";
      fprintf(stderr,
              "%s:%zu: %s must be a non-negative integer count (or NA)\n", path,
              line, name);
      goto out;
    }
    inc->local[inc->T] = a;
    if (ci < 0)
      inc->imported[inc->T] = b;
    inc->T++;
  }
  if (inc->T < 2) {
    fprintf(stderr, "%s: needs at least 2 rows of incidence\n", path);
    goto out;
  }
  rc = 0;
  goto out;
oom:
  fprintf(stderr, "%s: out of memory\n", path);
  rc = 1;
out:
  mv_csv_free(c);
  if (rc != 0)
    incidence_release(inc);
  return rc;
}

/* Serial interval CSV k,p with k = 0, 1, 2, ... */
static int read_si(const char *path, double **out, size_t *out_n) {
  struct mv_csv *c = NULL;
  struct mv_diag d;
  char **f;
  size_t n, len = 0, cap = 0;
  double *p = NULL, sum = 0.0;
  int rc = EXIT_USAGE;
  mv_diag_clear(&d);
  if (mv_csv_open_file(path, &c, &d) != MV_OK) {
    fprintf(stderr, "%s: %s\n", path, d.msg);
    return EXIT_USAGE;
  }
  if (mv_csv_next(c, &f, &n, &d) != MV_OK) {
    fprintf(stderr, "%s:1: empty file or malformed header\n", path);
    goto out;
  }
  long ck = mv_csv_find(f, n, "k"), cp = mv_csv_find(f, n, "p");
  if (ck < 0 || cp < 0) {
    fprintf(stderr, "%s:1: header must have k,p\n", path);
    goto out;
  }
  size_t ncol = n;
  size_t line = 1;
  for (;;) {
    int r = mv_csv_next(c, &f, &n, &d);
    if (r == MV_ENOTFOUND)
      break;
    line = mv_csv_line(c);
    if (r != MV_OK) {
      fprintf(stderr, "%s:%d: %s\n", path, d.line, d.msg);
      goto out;
    }
    int64_t k;
    double v;
    if (n != ncol || !parse_i64(f[ck], &k) || k != (int64_t)len) {
      fprintf(stderr, "%s:%zu: k must be %zu (rows k = 0, 1, 2, ...)\n", path,
              line, len);
      goto out;
    }
    if (!parse_double(f[cp], &v) || v < 0.0) {
      fprintf(stderr, "%s:%zu: p must be a number >= 0\n", path, line);
      goto out;
    }
    if (k == 0 && v != 0.0) {
      fprintf(stderr,
              "%s:%zu: p at k = 0 must be 0 (no same-day transmission)\n", path,
              line);
      goto out;
    }
    if (len >= MV_LIMIT_EPI_SI_LEN) {
      fprintf(stderr, "%s:%zu: more than %u rows\n", path, line,
              MV_LIMIT_EPI_SI_LEN);
      goto out;
    }
    if (len == cap) {
      cap = cap ? cap * 2 : 64;
      double *np = realloc(p, cap * sizeof *np);
      if (!np) {
        fprintf(stderr, "%s: out of memory\n", path);
        rc = 1;
        goto out;
      }
      p = np;
    }
    p[len++] = v;
    sum += v;
  }
  if (len < 2) {
    fprintf(stderr, "%s: needs at least rows k = 0 and 1\n", path);
    goto out;
  }
  if (fabs(sum - 1.0) > 0.01) {
    fprintf(stderr, "%s: p sums to %.6g, must sum to 1 (+-0.01)\n", path, sum);
    goto out;
  }
  *out = p;
  *out_n = len;
  p = NULL;
  rc = 0;
out:
  free(p);
  mv_csv_free(c);
  return rc;
}

/* Comma-separated integers of --t-start / --t-end. */
static int parse_list(const char *prog, const char *flag, const char *s,
                      int64_t **out, size_t *out_n) {
  size_t n = 1;
  for (const char *q = s; *q; q++)
    n += *q == ',';
  if (n > MV_LIMIT_EPI_RT_WINDOWS) {
    fprintf(stderr, "%s: --%s: more than %u values\n", prog, flag,
            MV_LIMIT_EPI_RT_WINDOWS);
    return EXIT_USAGE;
  }
  int64_t *v = malloc(n * sizeof *v);
  if (!v)
    return 1;
  const char *q = s;
  for (size_t i = 0; i < n; i++) {
    char tok[32];
    const char *e = strchr(q, ',');
    size_t len = e ? (size_t)(e - q) : strlen(q);
    if (len == 0 || len >= sizeof tok) {
      fprintf(stderr, "%s: --%s: value %zu is not an integer\n", prog, flag,
              i + 1);
      free(v);
      return EXIT_USAGE;
    }
    memcpy(tok, q, len);
    tok[len] = '\0';
    if (!parse_i64(tok, &v[i])) {
      fprintf(stderr, "%s: --%s: value %zu is not an integer\n", prog, flag,
              i + 1);
      free(v);
      return EXIT_USAGE;
    }
    q = e ? e + 1 : q + len;
  }
  *out = v;
  *out_n = n;
  return 0;
}

/* ---- flags ------------------------------------------------------------- */

struct flag {
  const char *name;
  const char *value;
};

/* Fills values of known flags (all take a value); --help sets *help. */
static int parse_flags(const char *prog, int argc, char **argv,
                       struct flag *flags, size_t nflags, bool *help) {
  *help = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      *help = true;
      return 0;
    }
    if (strncmp(a, "--", 2) != 0) {
      fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, a);
      return EXIT_USAGE;
    }
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    struct flag *fl = NULL;
    for (size_t k = 0; k < nflags; k++)
      if (strlen(flags[k].name) == nlen &&
          strncmp(flags[k].name, name, nlen) == 0)
        fl = &flags[k];
    if (!fl) {
      fprintf(stderr, "%s: unknown flag --%.*s (see --help)\n", prog, (int)nlen,
              name);
      return EXIT_USAGE;
    }
    if (eq) {
      fl->value = eq + 1;
    } else {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: --%s: needs a value\n", prog, fl->name);
        return EXIT_USAGE;
      }
      fl->value = argv[++i];
    }
  }
  return 0;
}

static const char *flag_value(const struct flag *flags, size_t n,
                              const char *name) {
  for (size_t k = 0; k < n; k++)
    if (strcmp(flags[k].name, name) == 0)
      return flags[k].value;
  return NULL;
}

/* Parses an optional numeric flag; returns false (message printed) if it is
 * present and not a number satisfying `min < v` (strict) . */
static bool num_flag(const char *prog, const struct flag *flags, size_t n,
                     const char *name, double *out, double gt,
                     const char *rule) {
  const char *s = flag_value(flags, n, name);
  if (!s)
    return true;
  double v;
  if (!parse_double(s, &v) || !(v > gt)) {
    fprintf(stderr, "%s: --%s: must be a number %s\n", prog, name, rule);
    return false;
  }
  *out = v;
  return true;
}

/* ---- epi rt ------------------------------------------------------------ */

#define RT_PROG "medverse epi rt"

static void rt_usage(FILE *f) {
  fprintf(
      f,
      "usage: medverse epi rt --incidence FILE.csv\n"
      "         (--si-mean M --si-sd S | --si-distr FILE.csv)\n"
      "         [--window 7 | --t-start LIST --t-end LIST]\n"
      "         [--mean-prior 5 --std-prior 5]\n"
      "\n"
      "Time-varying reproduction number (Cori et al. 2013) exactly as\n"
      "EpiEstim 2.2-4 estimate_R. Incidence CSV: t,I or t,local,imported\n"
      "(t = 1, 2, ... without gaps; other columns such as date are ignored;\n"
      "NA counts are treated as 0 as EpiEstim does; all day-1 cases count as\n"
      "imported). Serial interval: parametric (discretised gamma, mean > 1,\n"
      "sd > 0 days) or a CSV k,p with p(0) = 0 summing to 1. Windows: weekly\n"
      "sliding by default (t_start = 2..T-6), --window W for another width,\n"
      "or explicit comma-separated 1-based --t-start/--t-end lists.\n"
      "\n"
      "Output CSV: t_start,t_end,Mean_R,Std_R,Quantile_0.025_R,"
      "Quantile_0.05_R,\n"
      "Quantile_0.25_R,Median_R,Quantile_0.75_R,Quantile_0.95_R,"
      "Quantile_0.975_R,\n"
      "shape_post,scale_post (NA when t_end <= the serial interval mean).\n"
      "Exit status: 0 success, 2 bad flags or input, 1 runtime failure.\n");
}

/* Windows from --t-start/--t-end (fs, fe; the lists go to *ts and *te, freed
 * by the caller) or the --window width wv, checked against T days. */
static int rt_windows(const char *fs, const char *fe, int64_t wv, size_t T,
                      struct mv_epi_rt_opts *o, int64_t **ts, int64_t **te) {
  if (fs) {
    size_t ns, ne;
    if (parse_list(RT_PROG, "t-start", fs, ts, &ns) != 0 ||
        parse_list(RT_PROG, "t-end", fe, te, &ne) != 0)
      return EXIT_USAGE;
    if (ns != ne) {
      fprintf(stderr, RT_PROG ": --t-end: %zu values, --t-start has %zu\n", ne,
              ns);
      return EXIT_USAGE;
    }
    for (size_t i = 0; i < ns; i++) {
      if ((*ts)[i] < 2 || (*ts)[i] > (int64_t)T) {
        fprintf(stderr,
                RT_PROG ": --t-start: value %zu (%lld) must be in 2..%zu\n",
                i + 1, (long long)(*ts)[i], T);
        return EXIT_USAGE;
      }
      if ((*te)[i] < (*ts)[i] || (*te)[i] > (int64_t)T) {
        fprintf(stderr,
                RT_PROG ": --t-end: value %zu (%lld) must be in %lld..%zu\n",
                i + 1, (long long)(*te)[i], (long long)(*ts)[i], T);
        return EXIT_USAGE;
      }
    }
    o->t_start = *ts;
    o->t_end = *te;
    o->n_windows = ns;
  } else {
    if (wv + 1 > (int64_t)T) {
      fprintf(stderr,
              RT_PROG ": --window: %lld days does not fit %zu days of "
                      "incidence (at most %zu)\n",
              (long long)wv, T, T - 1);
      return EXIT_USAGE;
    }
    o->window = (size_t)wv;
  }
  return 0;
}

/* The estimate_R table on stdout, EpiEstim's column names. */
static void print_rt(const struct mv_epi_rt_result *res) {
  fputs("t_start,t_end,Mean_R,Std_R,Quantile_0.025_R,Quantile_0.05_R,"
        "Quantile_0.25_R,Median_R,Quantile_0.75_R,Quantile_0.95_R,"
        "Quantile_0.975_R,shape_post,scale_post\n",
        stdout);
  for (size_t i = 0; i < res->n_rows; i++) {
    const struct mv_epi_rt_row *r = &res->rows[i];
    printf("%lld,%lld,", (long long)r->t_start, (long long)r->t_end);
    put_num(stdout, r->mean);
    putchar(',');
    put_num(stdout, r->sd);
    for (int k = 0; k < MV_EPI_RT_NQ; k++) {
      putchar(',');
      put_num(stdout, r->q[k]);
    }
    putchar(',');
    put_num(stdout, r->shape);
    putchar(',');
    put_num(stdout, r->scale);
    putchar('\n');
  }
}

static int cmd_epi_rt(int argc, char **argv) {
  struct flag fl[] = {
      {"incidence", NULL}, {"si-mean", NULL},    {"si-sd", NULL},
      {"si-distr", NULL},  {"window", NULL},     {"t-start", NULL},
      {"t-end", NULL},     {"mean-prior", NULL}, {"std-prior", NULL}};
  size_t nf = MV_ARRAY_LEN(fl);
  bool help;
  struct incidence inc = {0};
  double *si = NULL;
  int64_t *ts = NULL, *te = NULL;
  struct mv_epi_rt_result res = {0};
  int rc = parse_flags(RT_PROG, argc, argv, fl, nf, &help);
  if (rc != 0)
    return rc;
  if (help) {
    rt_usage(stdout);
    return 0;
  }
  const char *incf = flag_value(fl, nf, "incidence");
  const char *sif = flag_value(fl, nf, "si-distr");
  const char *sm = flag_value(fl, nf, "si-mean");
  const char *ss = flag_value(fl, nf, "si-sd");
  struct mv_epi_rt_opts o = {0};
  rc = EXIT_USAGE;
  if (!incf) {
    fprintf(stderr, RT_PROG ": --incidence: required (see --help)\n");
    goto out;
  }
  if (sif && (sm || ss)) {
    fprintf(stderr,
            RT_PROG ": --si-distr: give either --si-distr or --si-mean with "
                    "--si-sd, not both\n");
    goto out;
  }
  if (!sif && (!sm || !ss)) {
    fprintf(stderr,
            RT_PROG ": --%s: required (--si-mean and --si-sd, or "
                    "--si-distr)\n",
            sm ? "si-sd" : "si-mean");
    goto out;
  }
  if (!sif) {
    if (!num_flag(RT_PROG, fl, nf, "si-mean", &o.si_mean, 1.0, "> 1") ||
        !num_flag(RT_PROG, fl, nf, "si-sd", &o.si_sd, 0.0, "> 0"))
      goto out;
  }
  if (!num_flag(RT_PROG, fl, nf, "mean-prior", &o.mean_prior, 0.0, "> 0") ||
      !num_flag(RT_PROG, fl, nf, "std-prior", &o.std_prior, 0.0, "> 0"))
    goto out;
  const char *w = flag_value(fl, nf, "window");
  const char *fs = flag_value(fl, nf, "t-start");
  const char *fe = flag_value(fl, nf, "t-end");
  if (w && (fs || fe)) {
    fprintf(stderr,
            RT_PROG ": --window: cannot be combined with --t-start/--t-end\n");
    goto out;
  }
  if ((fs != NULL) != (fe != NULL)) {
    fprintf(stderr, RT_PROG ": --%s: required with --%s\n",
            fs ? "t-end" : "t-start", fs ? "t-start" : "t-end");
    goto out;
  }
  int64_t wv = 7;
  if (w && (!parse_i64(w, &wv) || wv < 1)) {
    fprintf(stderr, RT_PROG ": --window: must be an integer >= 1\n");
    goto out;
  }
  rc = read_incidence(incf, &inc);
  if (rc != 0)
    goto out;
  rc = EXIT_USAGE;
  if (sif) {
    rc = read_si(sif, &si, &o.si_len);
    if (rc != 0)
      goto out;
    o.si_distr = si;
    rc = EXIT_USAGE;
  }
  if (rt_windows(fs, fe, wv, inc.T, &o, &ts, &te) != 0)
    goto out;
  struct mv_diag d;
  mv_diag_clear(&d);
  struct mv_epi_qcache *qc = NULL;
  if (mv_epi_qcache_new(&qc) != MV_OK) {
    rc = 1;
    goto out;
  }
  int er = mv_epi_rt_estimate(inc.local, inc.imported, inc.T, &o, qc, &res, &d);
  mv_epi_qcache_free(qc);
  if (er != MV_OK) {
    fprintf(stderr, RT_PROG ": %s\n", d.msg[0] ? d.msg : mv_strerror(er));
    rc = (er == MV_EINVAL || er == MV_ETOOBIG || er == MV_ERANGE) ? EXIT_USAGE
                                                                  : 1;
    goto out;
  }
  print_rt(&res);
  rc = fflush(stdout) == 0 ? 0 : 1;
out:
  mv_epi_rt_release(&res);
  incidence_release(&inc);
  free(si);
  free(ts);
  free(te);
  return rc;
}

/* ---- epi forecast ------------------------------------------------------ */

#define FC_PROG "medverse epi forecast"

static void fc_usage(FILE *f) {
  fprintf(f,
          "usage: medverse epi forecast --incidence FILE.csv --si-mean M "
          "--si-sd S\n"
          "         [--horizon 14] [--mean-prior 5 --std-prior 5]\n"
          "\n"
          "Short-term forecast by the renewal equation: R from the posterior\n"
          "of the last weekly window (as medverse epi rt), future incidence\n"
          "on the mean path E[R] * Lambda, and for the next day the\n"
          "Gamma-Poisson (negative binomial) predictive 2.5%%, 50%%, 97.5%%\n"
          "quantiles. Incidence CSV as for `medverse epi rt` (at least 8\n"
          "rows); horizon 1..%u days.\n"
          "\n"
          "Output CSV: h,t,Lambda,mean,q0.025,q0.5,q0.975 (quantiles NA for\n"
          "h > 1).\n"
          "Exit status: 0 success, 2 bad flags or input, 1 runtime failure.\n",
          MV_LIMIT_EPI_HORIZON);
}

static int cmd_epi_forecast(int argc, char **argv) {
  struct flag fl[] = {{"incidence", NULL},  {"si-mean", NULL},
                      {"si-sd", NULL},      {"horizon", NULL},
                      {"mean-prior", NULL}, {"std-prior", NULL}};
  size_t nf = MV_ARRAY_LEN(fl);
  bool help;
  struct incidence inc = {0};
  struct mv_epi_forecast_row *rows = NULL;
  int rc = parse_flags(FC_PROG, argc, argv, fl, nf, &help);
  if (rc != 0)
    return rc;
  if (help) {
    fc_usage(stdout);
    return 0;
  }
  rc = EXIT_USAGE;
  const char *incf = flag_value(fl, nf, "incidence");
  double sm = 0, ss = 0, mp = 0, sp = 0;
  int64_t H = 14;
  if (!incf) {
    fprintf(stderr, FC_PROG ": --incidence: required (see --help)\n");
    goto out;
  }
  if (!flag_value(fl, nf, "si-mean") || !flag_value(fl, nf, "si-sd")) {
    fprintf(stderr, FC_PROG ": --%s: required\n",
            flag_value(fl, nf, "si-mean") ? "si-sd" : "si-mean");
    goto out;
  }
  if (!num_flag(FC_PROG, fl, nf, "si-mean", &sm, 1.0, "> 1") ||
      !num_flag(FC_PROG, fl, nf, "si-sd", &ss, 0.0, "> 0") ||
      !num_flag(FC_PROG, fl, nf, "mean-prior", &mp, 0.0, "> 0") ||
      !num_flag(FC_PROG, fl, nf, "std-prior", &sp, 0.0, "> 0"))
    goto out;
  const char *hs = flag_value(fl, nf, "horizon");
  if (hs && (!parse_i64(hs, &H) || H < 1 || H > MV_LIMIT_EPI_HORIZON)) {
    fprintf(stderr, FC_PROG ": --horizon: must be an integer in 1..%u\n",
            MV_LIMIT_EPI_HORIZON);
    goto out;
  }
  rc = read_incidence(incf, &inc);
  if (rc != 0)
    goto out;
  rc = EXIT_USAGE;
  if (inc.T < 8) {
    fprintf(stderr, "%s: forecast needs at least 8 rows of incidence\n", incf);
    goto out;
  }
  rows = calloc((size_t)H, sizeof *rows);
  if (!rows) {
    rc = 1;
    goto out;
  }
  struct mv_diag d;
  mv_diag_clear(&d);
  int er = mv_epi_forecast(inc.local, inc.imported, inc.T, sm, ss, mp, sp,
                           (size_t)H, rows, NULL, NULL, &d);
  if (er != MV_OK) {
    fprintf(stderr, FC_PROG ": %s\n", d.msg[0] ? d.msg : mv_strerror(er));
    rc = (er == MV_EINVAL || er == MV_ETOOBIG || er == MV_ERANGE) ? EXIT_USAGE
                                                                  : 1;
    goto out;
  }
  fputs("h,t,Lambda,mean,q0.025,q0.5,q0.975\n", stdout);
  for (int64_t h = 0; h < H; h++) {
    const struct mv_epi_forecast_row *r = &rows[h];
    printf("%lld,%lld,", (long long)r->h, (long long)r->t);
    put_num(stdout, r->lambda);
    putchar(',');
    put_num(stdout, r->mean);
    putchar(',');
    put_num(stdout, r->q025);
    putchar(',');
    put_num(stdout, r->q50);
    putchar(',');
    put_num(stdout, r->q975);
    putchar('\n');
  }
  rc = fflush(stdout) == 0 ? 0 : 1;
out:
  free(rows);
  incidence_release(&inc);
  return rc;
}

/* ---- dispatcher -------------------------------------------------------- */

static void epi_usage(FILE *f) {
  fprintf(f, "usage: medverse epi detect|rt|forecast [--help] ...\n"
             "\n"
             "  detect    outbreak detection (EARS, CUSUM, Bayes, RKI, "
             "Farrington)\n"
             "  rt        time-varying reproduction number (EpiEstim)\n"
             "  forecast  short-term renewal-equation forecast\n");
}

int cmd_epi(int argc, char **argv) {
  if (argc >= 1 && strcmp(argv[0], "detect") == 0)
    return cmd_epi_detect(argc - 1, argv + 1);
  if (argc >= 1 && strcmp(argv[0], "rt") == 0)
    return cmd_epi_rt(argc - 1, argv + 1);
  if (argc >= 1 && strcmp(argv[0], "forecast") == 0)
    return cmd_epi_forecast(argc - 1, argv + 1);
  if (argc >= 1 &&
      (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
    epi_usage(stdout);
    return 0;
  }
  epi_usage(stderr);
  return EXIT_USAGE;
}
