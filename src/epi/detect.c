/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entry point of aberration detection: R's default controls per method,
 * method names, the default monitoring range of each surveillance 1.20.3
 * function, validation of the series and of impossible parameters, and
 * dispatch to the per-method files. Also the summary statistics every
 * method shares, computed the way R computes them (long-double sums and
 * the two-pass refinement of R's summary.c / cov.c) so that thresholds tie
 * and break exactly where R's do.
 */
#include <math.h>
#include <string.h>

#include "detect_int.h"
#include "mv_limits.h"

static const char *const method_names[MV_EPI_METHOD_COUNT] = {
    "ears-c1", "ears-c2", "ears-c3",    "cusum",
    "bayes",   "rki",     "farrington", "noufaily",
};

const char *mv_epi_method_name(enum mv_epi_method method) {
  if ((unsigned)method >= MV_EPI_METHOD_COUNT)
    return "?";
  return method_names[method];
}

int mv_epi_method_parse(const char *name, enum mv_epi_method *out) {
  if (!name || !out)
    return MV_EINVAL;
  for (int i = 0; i < MV_EPI_METHOD_COUNT; i++)
    if (strcmp(name, method_names[i]) == 0) {
      *out = (enum mv_epi_method)i;
      return MV_OK;
    }
  return MV_ENOTFOUND;
}

void mv_epi_detect_defaults(enum mv_epi_method method,
                            struct mv_epi_detect_ctl *out) {
  memset(out, 0, sizeof(*out));
  out->method = method;
  out->ears.baseline = 7;
  out->ears.min_sigma = 0;
  out->ears.alpha = NAN;
  out->cusum.k = 1.04;
  out->cusum.h = 2.26;
  out->cusum.m = NAN;
  out->cusum.m_glm = false;
  out->cusum.trans = MV_EPI_CUSUM_STANDARD;
  out->cusum.alpha = 0.1;
  out->bayes.b = 0;
  out->bayes.w = 6;
  out->bayes.act_y = true;
  out->bayes.alpha = 0.05;
  out->rki.b = 2;
  out->rki.w = 4;
  out->rki.act_y = false;
  struct mv_epi_farrington_ctl *f = &out->farrington;
  f->b = 5;
  f->w = 3;
  f->reweight = true;
  f->weights_threshold = 2.58;
  f->alpha = 0.05;
  f->trend = true;
  f->p_threshold_trend = 0.05;
  f->limit54_cases = 5;
  f->limit54_period = 4;
  f->power = MV_EPI_POWER_2_3;
  f->population_offset = false;
  f->no_periods = 1;
  f->past_weeks_not_included = -1;
  f->threshold = MV_EPI_THRESHOLD_DELTA;
  if (method == MV_EPI_NOUFAILY) {
    /* Noufaily et al. (2013) as surveillance documents it. */
    f->no_periods = 10;
    f->past_weeks_not_included = 26;
    f->p_threshold_trend = 1;
    f->threshold = MV_EPI_THRESHOLD_NBPLUGIN;
  }
}

void mv__epi_point_init(struct mv_epi_detect_point *p,
                        const struct mv_epi_series *s, size_t t) {
  p->t = t;
  p->observed = s->observed[t - 1];
  p->upperbound = NAN;
  p->upperbound_na = true;
  p->alarm = MV_EPI_ALARM_NA;
  p->cusum = NAN;
  p->cusum_m = NAN;
  p->expected = NAN;
  p->score = NAN;
  p->pvalue = NAN;
  p->mu0 = NAN;
  p->phi = NAN;
  p->trend_coef = NAN;
}

enum mv_epi_alarm mv__epi_alarm_gt(double observed, double upper) {
  if (isnan(observed) || isnan(upper))
    return MV_EPI_ALARM_NA;
  return observed > upper ? MV_EPI_ALARM_YES : MV_EPI_ALARM_NO;
}

double mv__epi_rpow(double x, double y) {
  if (y == 2.0)
    return x * x;
  if (x == 1. || y == 0.)
    return 1.;
  if (x == 0.) {
    if (y > 0.)
      return 0.;
    return y < 0 ? INFINITY : y;
  }
  return pow(x, y);
}

/* R's do_summary mean: long-double sum / n, then add the mean residual. */
double mv__epi_mean(const double *x, size_t n) {
  if (n == 0)
    return NAN;
  long double s = 0;
  for (size_t i = 0; i < n; i++)
    s += x[i];
  s /= (long double)n;
  if (isfinite((double)s)) {
    long double t = 0;
    for (size_t i = 0; i < n; i++)
      t += x[i] - s;
    s += t / (long double)n;
  }
  return (double)s;
}

/* R's cov.c (complete cases, one column): the same refined mean, then the
 * long-double sum of squared deviations over n-1. */
double mv__epi_var(const double *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (isnan(x[i]))
      return NAN;
  if (n < 2)
    return NAN;
  long double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += x[i];
  long double tmp = sum / (long double)n;
  if (isfinite((double)tmp)) {
    sum = 0;
    for (size_t i = 0; i < n; i++)
      sum += x[i] - tmp;
    tmp = tmp + sum / (long double)n;
  }
  double xm = (double)tmp;
  long double ss = 0;
  for (size_t i = 0; i < n; i++) {
    double d = x[i] - xm;
    ss += d * d; /* double product, long-double sum (cov.c) */
  }
  return (double)(ss / (long double)(n - 1));
}

size_t mv__epi_refvals(const struct mv_epi_series *s, size_t t, int b, int w,
                       bool act_y, double *ref, size_t cap) {
  long long tt = (long long)t, freq = s->freq;
  if (tt - (long long)b * freq - w < 1)
    return (size_t)-1;
  size_t k = 0;
  if (act_y && w >= 1) {
    /* R's (t-w):(t-1) */
    for (long long i = tt - w; i <= tt - 1 && k < cap; i++)
      ref[k++] = s->observed[i - 1];
  } else if (act_y && w == 0) {
    /* (t-0):(t-1) counts down in R: y[t], y[t-1]. */
    ref[k++] = s->observed[tt - 1];
    if (tt - 1 >= 1 && k < cap)
      ref[k++] = s->observed[tt - 2];
  }
  for (int i = 1; i <= b; i++) {
    long long c = tt - (long long)i * freq;
    for (long long j = c - w; j <= c + w && k < cap; j++)
      ref[k++] = s->observed[j - 1];
  }
  return k;
}

static int check_counts(const struct mv_epi_series *s, struct mv_diag *diag) {
  for (size_t i = 0; i < s->n; i++) {
    double y = s->observed[i];
    if (isnan(y))
      continue;
    if (!(y >= 0) || y != floor(y) || isinf(y)) {
      mv_diag_set(diag, MV_EPARSE,
                  "t=%zu: count must be a non-negative integer", i + 1);
      return MV_EPARSE;
    }
    if (y > MV_LIMIT_EPI_COUNT) {
      mv_diag_set(diag, MV_ERANGE, "t=%zu: count above %u", i + 1,
                  MV_LIMIT_EPI_COUNT);
      return MV_ERANGE;
    }
  }
  if (s->population)
    for (size_t i = 0; i < s->n; i++)
      if (!(s->population[i] >= 0) && !isnan(s->population[i])) {
        mv_diag_set(diag, MV_EPARSE, "t=%zu: population must be >= 0", i + 1);
        return MV_EPARSE;
      }
  return MV_OK;
}

static int bad(struct mv_diag *diag, const char *flag, const char *msg) {
  mv_diag_set(diag, MV_EINVAL, "%s", msg);
  mv_diag_set_path(diag, flag);
  return MV_EINVAL;
}

/* Validates the method's parameters; *lookback is how far back time point
 * `first` must reach (first - lookback >= 1), *dflt the default first. */
static int check_params(const struct mv_epi_series *s,
                        const struct mv_epi_detect_ctl *c, long long *lookback,
                        long long *dflt, struct mv_diag *diag) {
  long long freq = s->freq;
  switch (c->method) {
  case MV_EPI_EARS_C1:
  case MV_EPI_EARS_C2:
  case MV_EPI_EARS_C3: {
    const struct mv_epi_ears_ctl *e = &c->ears;
    if (e->baseline < 3 || e->baseline > 100000)
      return bad(diag, "baseline", "baseline must be >= 3");
    if (!(e->min_sigma >= 0) || isinf(e->min_sigma))
      return bad(diag, "min-sigma", "min-sigma must be >= 0");
    if (!isnan(e->alpha) && !(e->alpha > 0 && e->alpha < 1))
      return bad(diag, "alpha", "alpha must be in (0, 1)");
    int extra = c->method == MV_EPI_EARS_C1   ? 0
                : c->method == MV_EPI_EARS_C2 ? 2
                                              : 4;
    *lookback = e->baseline + extra;
    *dflt = *lookback + 1;
    return MV_OK;
  }
  case MV_EPI_CUSUM: {
    const struct mv_epi_cusum_ctl *u = &c->cusum;
    if (!isfinite(u->k))
      return bad(diag, "k", "k must be a finite number");
    if (!isfinite(u->h))
      return bad(diag, "h", "h must be a finite number");
    if (!isnan(u->m) && !(u->m >= 0 && isfinite(u->m)))
      return bad(diag, "m", "m must be a number >= 0 or glm");
    if ((unsigned)u->trans > MV_EPI_CUSUM_NONE)
      return bad(diag, "trans",
                 "trans must be standard, anscombe, rossi, anscombe2nd, "
                 "pearsonNegBin or none");
    if (!isfinite(u->alpha))
      return bad(diag, "alpha", "alpha must be a finite number");
    if (u->m_glm && freq < 1)
      return bad(diag, "freq", "m=glm needs freq >= 1");
    *lookback = u->m_glm ? 3 : 0; /* R: 1:0 is c(1, 0) */
    *dflt = (long long)(s->n / 2) + 1;
    if (*dflt < *lookback + 1)
      *dflt = *lookback + 1;
    return MV_OK;
  }
  case MV_EPI_BAYES:
  case MV_EPI_RKI: {
    int b = c->method == MV_EPI_BAYES ? c->bayes.b : c->rki.b;
    int w = c->method == MV_EPI_BAYES ? c->bayes.w : c->rki.w;
    bool act = c->method == MV_EPI_BAYES ? c->bayes.act_y : c->rki.act_y;
    if (b < 0 || b > 100)
      return bad(diag, "b", "b must be in 0..100");
    if (w < 0 || w > 10000)
      return bad(diag, "w", "w must be in 0..10000");
    if (b == 0 && !act)
      return bad(diag, "act-y",
                 "b = 0 needs act-y: there would be no reference values");
    if (c->method == MV_EPI_BAYES &&
        !(c->bayes.alpha > 0 && c->bayes.alpha < 1))
      return bad(diag, "alpha", "alpha must be in (0, 1)");
    if (b > 0 && freq < 1)
      return bad(diag, "freq", "freq must be >= 1");
    *lookback = (long long)b * freq + w;
    *dflt = *lookback + 1;
    return MV_OK;
  }
  case MV_EPI_FARRINGTON:
  case MV_EPI_NOUFAILY: {
    const struct mv_epi_farrington_ctl *f = &c->farrington;
    if (f->b < 1 || f->b > 100)
      return bad(diag, "b", "b must be in 1..100");
    if (f->w < 0 || (freq > 0 && 2LL * f->w + 1 > freq))
      return bad(diag, "w", "w must be >= 0 and 2w+1 <= freq");
    if (f->no_periods < 1 || f->no_periods > MV_EPI_GLM_MAXP - 2)
      return bad(diag, "no-periods", "no-periods must be in 1..14");
    if (!(f->alpha > 0 && f->alpha < 1))
      return bad(diag, "alpha", "alpha must be in (0, 1)");
    if (isnan(f->weights_threshold))
      return bad(diag, "weights-threshold", "weights-threshold is NaN");
    if (isnan(f->p_threshold_trend))
      return bad(diag, "p-threshold-trend", "p-threshold-trend is NaN");
    if (f->limit54_cases < 0 || f->limit54_period <= 0)
      return bad(diag, "limit54", "limit54 needs cases >= 0 and period > 0");
    if (f->past_weeks_not_included < -1)
      return bad(diag, "past-weeks-not-included",
                 "past-weeks-not-included must be >= 0");
    if ((unsigned)f->power > MV_EPI_POWER_NONE)
      return bad(diag, "powertrans", "powertrans must be 2/3, 1/2 or none");
    if ((unsigned)f->threshold > MV_EPI_THRESHOLD_MUAN)
      return bad(diag, "threshold-method",
                 "threshold-method must be delta, nbPlugin or muan");
    if (f->population_offset && !s->population)
      return bad(diag, "population-offset",
                 "population-offset needs a population column");
    if (freq < 1)
      return bad(diag, "freq", "freq must be >= 1");
    *lookback = (long long)f->b * freq + f->w;
    if (s->date_days)
      *lookback = 1; /* checked per time point against the dates */
    *dflt = (long long)f->b * freq + f->w + 1;
    return MV_OK;
  }
  default:
    return bad(diag, "method", "unknown method");
  }
}

int mv_epi_detect_range(const struct mv_epi_series *s,
                        const struct mv_epi_detect_ctl *ctl, size_t *out_first,
                        size_t *out_last, struct mv_diag *diag) {
  if (!s || !ctl || !s->observed || s->n == 0)
    return mv_diag_set(diag, MV_EINVAL, "empty series");
  if (s->n > MV_LIMIT_EPI_POINTS)
    return mv_diag_set(diag, MV_ETOOBIG, "series too long");
  long long lookback = 0, dflt = 1;
  int rc = check_params(s, ctl, &lookback, &dflt, diag);
  if (rc != MV_OK)
    return rc;
  long long first = ctl->range.first ? (long long)ctl->range.first : dflt;
  long long last =
      ctl->range.last ? (long long)ctl->range.last : (long long)s->n;
  if (ctl->range.first && ctl->range.first > s->n) {
    mv_diag_set(diag, MV_ERANGE, "range-first %zu is beyond the series (%zu)",
                ctl->range.first, s->n);
    mv_diag_set_path(diag, "range-first");
    return MV_ERANGE;
  }
  if (last > (long long)s->n) {
    mv_diag_set(diag, MV_ERANGE, "range-last %lld is beyond the series (%zu)",
                last, s->n);
    mv_diag_set_path(diag, "range-last");
    return MV_ERANGE;
  }
  if (first > last) {
    mv_diag_set(diag, MV_ERANGE,
                "the series (%zu points) is too short for the baseline: "
                "the range would start at %lld",
                s->n, first);
    mv_diag_set_path(diag, ctl->range.first                ? "range-first"
                           : ctl->method <= MV_EPI_EARS_C3 ? "baseline"
                           : ctl->method == MV_EPI_CUSUM   ? "range-first"
                                                           : "b");
    return MV_ERANGE;
  }
  if (first - lookback < 1) {
    mv_diag_set(diag, MV_ERANGE,
                "range-first %lld needs %lld earlier time points (series too "
                "short for the baseline)",
                first, lookback);
    mv_diag_set_path(diag, "range-first");
    return MV_ERANGE;
  }
  if ((ctl->method == MV_EPI_FARRINGTON || ctl->method == MV_EPI_NOUFAILY) &&
      s->date_days) {
    rc = mv__epi_farrington_check(s, &ctl->farrington, (size_t)first,
                                  (size_t)last, diag);
    if (rc != MV_OK)
      return rc;
  }
  *out_first = (size_t)first;
  *out_last = (size_t)last;
  return MV_OK;
}

int mv_epi_detect(const struct mv_epi_series *s,
                  const struct mv_epi_detect_ctl *ctl,
                  struct mv_epi_detect_point *out, size_t *out_n,
                  struct mv_diag *diag) {
  size_t first = 0, last = 0;
  if (!out || !out_n)
    return mv_diag_set(diag, MV_EINVAL, "no output buffer");
  int rc = mv_epi_detect_range(s, ctl, &first, &last, diag);
  if (rc != MV_OK)
    return rc;
  rc = check_counts(s, diag);
  if (rc != MV_OK)
    return rc;
  for (size_t t = first; t <= last; t++)
    mv__epi_point_init(&out[t - first], s, t);
  switch (ctl->method) {
  case MV_EPI_EARS_C1:
  case MV_EPI_EARS_C2:
  case MV_EPI_EARS_C3:
    rc = mv__epi_ears(s, ctl, first, last, out, diag);
    break;
  case MV_EPI_CUSUM:
    rc = mv__epi_cusum(s, ctl, first, last, out, diag);
    break;
  case MV_EPI_BAYES:
    rc = mv__epi_bayes(s, ctl, first, last, out, diag);
    break;
  case MV_EPI_RKI:
    rc = mv__epi_rki(s, ctl, first, last, out, diag);
    break;
  case MV_EPI_FARRINGTON:
  case MV_EPI_NOUFAILY:
    rc = mv__epi_farrington(s, ctl, first, last, out, diag);
    break;
  default:
    rc = mv_diag_set(diag, MV_EINVAL, "unknown method");
  }
  if (rc == MV_OK)
    *out_n = last - first + 1;
  return rc;
}
