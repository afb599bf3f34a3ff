/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Farrington flexible (Farrington et al. 1996, J R Stat Soc A 159:547-563;
 * improvements of Noufaily et al. 2013, Stat Med 32:1206-1222) exactly as
 * surveillance 1.20.3's farringtonFlexible computes it: reference windows
 * b years back (calendar years with weekday snapping for dated weekly
 * series), optional seasonal blocks (noPeriods), a quasi-Poisson GLM with
 * optional trend and population offset fitted by glm.c, Anscombe-residual
 * reweighting, the trend test, and the delta-method (Farrington) or
 * negative-binomial plug-in (Noufaily) threshold with the limit54 rule.
 * Quirks reproduced on purpose are listed in docs/SURVEILLANCE.md.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "num_int.h"

/* Per-unit scratch, reused for every time point. */
struct far_work {
  size_t n;
  int *block;     /* n+1: block label of index i (1-based), 0 = none */
  size_t *idx;    /* baseline rows (1-based indices) */
  double *y;      /* response of the baseline rows */
  double *wtime;  /* wtime of the baseline rows */
  double *offset; /* log(population) of the baseline rows */
  int *lev;       /* block label of the baseline rows */
  double *x;      /* design matrix, column-major */
  double *omega;  /* reweighting weights */
  size_t rows;
  int levels[MV_EPI_GLM_MAXP + 2];
  int nlev;
  double first_date; /* date (days) of the first row kept */
};

/* A fitted model as algo.farrington.fitGLM.flexible returns it. */
struct far_model {
  struct mv_epi_glm g;
  bool has_trend;
  double phi;      /* max(1, dispersion) of the final fit */
  double phi_star; /* summary()'s dispersion after the weights overwrite */
};

static int wday(int32_t days) { /* 1970-01-01 was a Thursday (4) */
  int r = (int)(((long long)days + 4) % 7);
  return r < 0 ? r + 7 : r;
}

static long find_date(const int32_t *dates, size_t n, int32_t d) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (dates[mid] < d)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && dates[lo] == d ? (long)lo + 1 : -1;
}

/* Reference time points of k (1-based indices, ref[0] = k), R's
 * algo.farrington.referencetimepoints. */
static int reference_points(const struct mv_epi_series *s, size_t k, int b,
                            long *ref, struct mv_diag *diag) {
  for (int i = 0; i <= b; i++) {
    if (!s->date_days) {
      long long r = (long long)k - (long long)i * s->freq;
      if (r < 1)
        goto missing;
      ref[i] = (long)r;
      continue;
    }
    int32_t now = s->date_days[k - 1];
    int32_t r = mv__epi_date_minus_years(now, i);
    if (s->freq == 52) {
      int32_t a = r - (wday(r) - wday(now));
      int32_t bb = a + (a > r ? -7 : 7);
      if (abs(a - r) > abs(bb - r))
        a = bb;
      r = a;
    }
    long at = find_date(s->date_days, s->n, r);
    if (at < 0)
      goto missing;
    ref[i] = at;
  }
  return MV_OK;
missing:
  mv_diag_set(diag, MV_ERANGE,
              "t=%zu: some reference time points do not exist; decrease b "
              "or postpone the range",
              k);
  mv_diag_set_path(diag, "b");
  return MV_ERANGE;
}

/* R's `from:to` assignment (either direction) of label v, skipping
 * indices outside 1..n (R drops index 0; we never create others). */
static void set_span(int *f, size_t n, long from, long to, int v) {
  long step = from <= to ? 1 : -1;
  for (long i = from;; i += step) {
    if (i >= 1 && (size_t)i <= n)
      f[i] = v;
    if (i == to)
      break;
  }
}

/* surveillance's blocks(): window labels p, gap blocks 1..p-1. */
static int make_blocks(struct far_work *wk, size_t k, const long *ref, int b,
                       int w, int p, struct mv_diag *diag) {
  size_t n = wk->n;
  for (size_t i = 0; i <= n; i++)
    wk->block[i] = 0;
  /* referenceWeeks: the reference indices, decreasing (deduplicated). */
  long rw[128];
  int nr = 0;
  for (int i = 0; i <= b; i++) {
    bool dup = false;
    for (int j = 0; j < nr; j++)
      dup |= rw[j] == ref[i];
    if (!dup)
      rw[nr++] = ref[i];
  }
  for (int i = 1; i < nr; i++)
    for (int j = i; j > 0 && rw[j] > rw[j - 1]; j--) {
      long t = rw[j];
      rw[j] = rw[j - 1];
      rw[j - 1] = t;
    }
  set_span(wk->block, n, (long)k - w, (long)k, p);
  for (int i = 1; i <= b; i++) {
    if (i >= nr)
      break; /* R would index NA here */
    long refw = rw[i];
    set_span(wk->block, n, refw - w, refw + w, p);
    if (p != 1) {
      long period = rw[i - 1] - 2L * w - 1 - refw;
      if (period < (long)p - (2L * w + 1)) {
        mv_diag_set(diag, MV_EINVAL,
                    "t=%zu: number of factors too big for the gaps", k);
        mv_diag_set_path(diag, "no-periods");
        return MV_EINVAL;
      }
      long len = period / (p - 1), rest = period % (p - 1);
      long cum = 0;
      for (int j = 1; j <= p - 1; j++) {
        long l = len + (j <= rest ? 1 : 0);
        long from = refw + w + 1 + cum;
        long to = refw + w + 1 + cum + l - 1;
        set_span(wk->block, n, from, to, j);
        cum += l;
      }
    }
  }
  return MV_OK;
}

/* Baseline rows of time point k: blocks minus the most recent weeks, rows
 * with a missing count dropped; levels of the seasonal factor. */
static void baseline_rows(struct far_work *wk, const struct mv_epi_series *s,
                          size_t k, int past) {
  size_t n = wk->n;
  long lo = (long)k - past;
  int *f = wk->block;
  size_t r = 0;
  double d0 = 0, step = 1;
  bool first = true;
  if (s->date_days && n >= 2)
    step = (double)(s->date_days[1] - s->date_days[0]);
  /* levels: sorted unique labels among the rows before NA removal */
  wk->nlev = 0;
  for (size_t i = 1; i <= n; i++) {
    if (!f[i] || ((long)i >= lo && i <= k))
      continue;
    if (first && s->date_days)
      d0 = (double)s->date_days[i - 1];
    first = false;
    bool seen = false;
    for (int j = 0; j < wk->nlev; j++)
      seen |= wk->levels[j] == f[i];
    if (!seen && wk->nlev < MV_EPI_GLM_MAXP + 1)
      wk->levels[wk->nlev++] = f[i];
    double y = s->observed[i - 1];
    if (isnan(y))
      continue;
    wk->idx[r] = i;
    wk->y[r] = y;
    wk->lev[r] = f[i];
    wk->wtime[r] =
        s->date_days ? ((double)s->date_days[i - 1] - d0) / step : (double)i;
    double pop = s->population ? s->population[i - 1] : 1.0;
    wk->offset[r] = log(pop);
    r++;
  }
  for (int i = 1; i < wk->nlev; i++)
    for (int j = i; j > 0 && wk->levels[j] < wk->levels[j - 1]; j--) {
      int t = wk->levels[j];
      wk->levels[j] = wk->levels[j - 1];
      wk->levels[j - 1] = t;
    }
  wk->rows = r;
  wk->first_date = r && s->date_days ? (double)s->date_days[wk->idx[0] - 1] : 0;
}

/* Columns: (Intercept), [wtime], [seasgroups levels 2..L]. */
static int design(struct far_work *wk, bool trend, bool factors) {
  size_t n = wk->rows;
  int p = 0;
  for (size_t i = 0; i < n; i++)
    wk->x[i] = 1.0;
  p++;
  if (trend) {
    memcpy(wk->x + (size_t)p * n, wk->wtime, n * sizeof(double));
    p++;
  }
  if (factors)
    for (int l = 1; l < wk->nlev; l++) {
      for (size_t i = 0; i < n; i++)
        wk->x[(size_t)p * n + i] = wk->lev[i] == wk->levels[l] ? 1.0 : 0.0;
      p++;
    }
  return p;
}

/* summary.glm's dispersion: sum(w r^2 [w > 0]) / df.r. */
static double dispersion(const double *w, const double *r, size_t n,
                         double df) {
  long double s = 0;
  for (size_t i = 0; i < n; i++)
    if (w[i] > 0)
      s += w[i] * (r[i] * r[i]);
  return df > 0 ? (double)s / df : NAN;
}

/* R's max(x, 1): NaN propagates. */
static double max1(double x) {
  if (isnan(x))
    return x;
  return x > 1 ? x : 1;
}

/* algo.farrington.fitGLM.flexible. MV_OK with *ok false when no model
 * converged (R returns NULL). */
static int fit_flexible(struct far_work *wk, const struct mv_epi_series *s,
                        const struct mv_epi_farrington_ctl *c, bool trend,
                        struct far_model *m, bool *ok) {
  bool factors = c->no_periods != 1;
  bool offset = c->population_offset;
  int rc;
  *ok = false;
  memset(m, 0, sizeof(*m));
  (void)s;
  int p = design(wk, trend, factors);
  struct mv_epi_glm_in in = {.x = wk->x,
                             .y = wk->y,
                             .offset = offset ? wk->offset : NULL,
                             .n = wk->rows,
                             .p = p};
  rc = mv__epi_glm_fit(&in, c->reweight, &m->g);
  if (rc != MV_OK)
    return rc;
  if (!m->g.converged) {
    if (trend) {
      mv__epi_glm_release(&m->g);
      trend = false;
      in.p = p = design(wk, false, factors);
      rc = mv__epi_glm_fit(&in, c->reweight, &m->g);
      if (rc != MV_OK)
        return rc;
    }
    if (!m->g.converged) {
      mv__epi_glm_release(&m->g);
      return MV_OK;
    }
  }
  m->has_trend = trend;
  size_t n = wk->rows;
  double phi =
      max1(dispersion(m->g.weights, m->g.residuals, n, m->g.df_residual));
  if (c->reweight) {
    /* Anscombe residuals (surveillance's anscombe.residuals) and weights
     * (algo.farrington.assign.weights). */
    long double den = 0;
    double thr = c->weights_threshold;
    for (size_t i = 0; i < n; i++) {
      double mu = m->g.mu[i];
      double a = 3.0 / 2 *
                 (mv__epi_rpow(wk->y[i], 2.0 / 3) * mv__epi_rpow(mu, -1.0 / 6) -
                  mv__epi_rpow(mu, 1.0 / 2));
      double si = a / sqrt(phi * (1 - m->g.hat[i]));
      wk->omega[i] = si;
      den += si > thr ? mv__epi_rpow(mv__epi_rpow(si, -2), 1) : 1.0;
    }
    double gamma = (double)n / (double)den;
    for (size_t i = 0; i < n; i++) {
      double si = wk->omega[i];
      wk->omega[i] = si > thr ? gamma * mv__epi_rpow(si, -2) : gamma;
    }
    mv__epi_glm_release(&m->g);
    in.pw = wk->omega;
    rc = mv__epi_glm_fit(&in, false, &m->g);
    if (rc != MV_OK)
      return rc;
    phi = max1(dispersion(m->g.weights, m->g.residuals, n, m->g.df_residual));
    /* surveillance stores omega as the model's weights: later summaries
     * use it in place of the working weights. */
    m->phi_star = dispersion(wk->omega, m->g.residuals, n, m->g.df_residual);
  } else {
    m->phi_star = dispersion(m->g.weights, m->g.residuals, n, m->g.df_residual);
  }
  m->phi = phi;
  *ok = true;
  return MV_OK;
}

/* The covariate vector of the current time point in the model's columns
 * (seasonal level = noPeriods, the reference-window level) and its offset
 * log(population_k) when the model has one. */
static void current_x(const struct far_work *wk, const struct far_model *m,
                      const struct mv_epi_series *s,
                      const struct mv_epi_farrington_ctl *c, size_t k,
                      double *x0, double *offset) {
  int p = 0;
  x0[p++] = 1.0;
  if (m->has_trend)
    x0[p++] = s->date_days ? ((double)s->date_days[k - 1] - wk->first_date) /
                                 (double)(s->date_days[1] - s->date_days[0])
                           : (double)k;
  if (c->no_periods != 1)
    for (int l = 1; l < wk->nlev; l++)
      x0[p++] = wk->levels[l] == c->no_periods ? 1.0 : 0.0;
  *offset =
      c->population_offset && s->population ? log(s->population[k - 1]) : 0.0;
}

/* predict.glm(se.fit = TRUE) on the link scale: fit and se. */
static void predict_link(const struct far_model *m, const double *x0,
                         double off, double *fit, double *se) {
  double scale = sqrt(m->phi_star); /* residual.scale */
  *fit = mv__epi_glm_predict(&m->g, x0) + off;
  *se = sqrt(mv__epi_glm_xvx(&m->g, x0, scale * scale));
}

static double linkinv(double eta) {
  double mu = exp(eta);
  return mu > DBL_EPSILON ? mu : DBL_EPSILON;
}

static void threshold_delta(const struct mv_epi_farrington_ctl *c, double mu0,
                            double se, double phi, double y, double *upper,
                            double *prob, double *score) {
  double tau = phi + (se * se) / mu0, sd, e;
  switch (c->power) {
  case MV_EPI_POWER_NONE:
    sd = sqrt(mu0 * tau);
    e = 1;
    break;
  case MV_EPI_POWER_1_2:
    sd = sqrt(1.0 / 4 * tau);
    e = 1.0 / 2;
    break;
  default:
    sd = sqrt(4.0 / 9 * mv__epi_rpow(mu0, 1.0 / 3) * tau);
    e = 2.0 / 3;
  }
  double z = mv__epi_qnorm(1 - c->alpha, 0, 1, true);
  double base = mv__epi_rpow(mu0, e);
  double lo = mv__epi_rpow(base + (-1 * z) * sd, 1 / e);
  double hi = mv__epi_rpow(base + (1 * z) * sd, 1 / e);
  /* sort(na.last = FALSE): NaN first, then ascending; upper = lu[2] */
  double u;
  if (isnan(lo) && isnan(hi))
    u = NAN;
  else if (isnan(lo) || isnan(hi))
    u = isnan(lo) ? hi : lo;
  else
    u = hi > lo ? hi : lo;
  *upper = u;
  *prob = mv__epi_pnorm(mv__epi_rpow(y, e), base, sd, false);
  *score = isnan(u) ? NAN : (y - mu0) / (u - mu0);
}

/* LAST-RESORT WORKAROUND (remove when num.c's discrete distributions are
 * fast for huge means): the muan plug-in can push the mean to 1e29 when
 * the prediction's standard error is large, and the Poisson/NB quantile
 * search of num.c does not finish there. Above HUGE_MEAN the count
 * distribution is normal to far better than 1e-9 relative: quantile by
 * Cornish-Fisher (mean + z sd + (z^2 - 1) skew / 6, rounded up), upper
 * tail by the continuity-corrected normal. Only diagnostics depend on it
 * in practice (limit54 blanks such bounds unless counts are as large). */
#define HUGE_MEAN 1e15

static void huge_mean_nb(double alpha, double m, double phi, double y,
                         double *upper, double *prob) {
  double var = phi > 1 ? m * phi : m;
  double sd = sqrt(var), z = mv__epi_qnorm(1 - alpha, 0, 1, true);
  double skew = phi > 1 ? (2 * phi - 1) / sd : 1 / sd;
  *upper = ceil(m + z * sd + (z * z - 1) * skew / 6 * sd);
  *prob = mv__epi_pnorm(y - 0.5, m, sd, false);
}

/* threshold.noufaily; returns false when the bound is NA (mean = Inf). */
static bool threshold_nb(const struct mv_epi_farrington_ctl *c, double eta0,
                         double se, double phi, double y, double *upper,
                         double *prob, double *score) {
  double m = c->threshold == MV_EPI_THRESHOLD_NBPLUGIN
                 ? exp(eta0)
                 : exp(mv__epi_qnorm(1 - c->alpha, eta0, se, true));
  if (isinf(m) && m > 0) {
    *upper = NAN;
    *prob = NAN;
    *score = NAN;
    return false;
  }
  double u;
  if (m > HUGE_MEAN) {
    huge_mean_nb(c->alpha, m, phi, y, &u, prob);
  } else {
    if (phi > 1)
      u = mv__epi_qnbinom(1 - c->alpha, m / (phi - 1), 1 / phi, true);
    else
      u = mv__epi_qpois(1 - c->alpha, m, true);
    if (phi != 1)
      *prob = mv__epi_pnbinom(y - 1, m / (phi - 1), 1 / phi, false);
    else
      *prob = mv__epi_ppois(y - 1, m, false);
  }
  *upper = u;
  *score = isnan(u) ? NAN : (y - eta0) / (u - eta0);
  return true; /* NaN from NaN inputs stays NaN, as in R */
}

/* algo.farrington.glm's trend decision: keep the trend iff b >= 3, its
 * t-test p-value (dispersion phi*) is below pThresholdTrend and the
 * prediction does not exceed the largest baseline count. */
static bool keep_trend(const struct far_work *wk, const struct mv_epi_series *s,
                       const struct mv_epi_farrington_ctl *c, size_t k,
                       const struct far_model *m) {
  double x0[MV_EPI_GLM_MAXP], off, fit, se;
  current_x(wk, m, s, c, k, x0, &off);
  predict_link(m, x0, off, &fit, &se);
  double mu = linkinv(fit);
  double var = m->phi_star * mv__epi_glm_cov_unscaled(&m->g, 1);
  double tval = m->g.coef[1] / sqrt(var);
  double pval = 2 * mv__epi_pt(-fabs(tval), m->g.df_residual, true);
  double ymax = -INFINITY;
  for (size_t i = 0; i < wk->rows; i++)
    if (wk->y[i] > ymax)
      ymax = wk->y[i];
  return c->b >= 3 && pval < c->p_threshold_trend && mu <= ymax;
}

/* limit54: at least `cases` cases in the last `period` periods, the current
 * one included; false when one of them is missing (R's sum is NA). */
static bool limit54_enough(const struct mv_epi_series *s,
                           const struct mv_epi_farrington_ctl *c, size_t k) {
  long double sum = 0;
  for (long i = (long)k - c->limit54_period + 1; i <= (long)k; i++) {
    if (i < 1)
      continue;
    double v = s->observed[i - 1];
    if (isnan(v))
      return false;
    sum += v;
  }
  return (double)sum >= c->limit54_cases;
}

/* One time point. */
static int far_point(struct far_work *wk, const struct mv_epi_series *s,
                     const struct mv_epi_farrington_ctl *c, size_t k,
                     struct mv_epi_detect_point *pt, struct mv_diag *diag) {
  long ref[128];
  int rc = reference_points(s, k, c->b, ref, diag);
  if (rc != MV_OK)
    return rc;
  rc = make_blocks(wk, k, ref, c->b, c->w, c->no_periods, diag);
  if (rc != MV_OK)
    return rc;
  int past = c->past_weeks_not_included < 0 ? c->w : c->past_weeks_not_included;
  baseline_rows(wk, s, k, past);
  bool factors = c->no_periods != 1;
  if (wk->rows == 0 || (factors && wk->nlev < 2))
    return MV_OK; /* R errors here; we report NA */
  struct far_model m;
  bool ok;
  rc = fit_flexible(wk, s, c, c->trend, &m, &ok);
  if (rc != MV_OK || !ok)
    return rc;
  double x0[MV_EPI_GLM_MAXP], off;
  bool do_trend = false;
  double coef_time = NAN;
  if (m.has_trend) {
    do_trend = keep_trend(wk, s, c, k, &m);
    if (do_trend) {
      coef_time = m.g.coef[1];
    } else {
      mv__epi_glm_release(&m.g);
      rc = fit_flexible(wk, s, c, false, &m, &ok);
      if (rc != MV_OK || !ok)
        return rc;
    }
  }
  current_x(wk, &m, s, c, k, x0, &off);
  double eta0, se_eta;
  predict_link(&m, x0, off, &eta0, &se_eta);
  double y = s->observed[k - 1], upper, prob, score, fit, se;
  bool have_upper;
  if (c->threshold == MV_EPI_THRESHOLD_DELTA) {
    fit = linkinv(eta0); /* type = "response" */
    se = se_eta * linkinv(eta0);
    threshold_delta(c, fit, se, m.phi, y, &upper, &prob, &score);
    have_upper = !isnan(upper);
  } else {
    fit = eta0;
    se = se_eta;
    have_upper = threshold_nb(c, eta0, se_eta, m.phi, y, &upper, &prob, &score);
  }
  bool enough = limit54_enough(s, c, k);
  pt->upperbound = enough ? upper : NAN;
  pt->upperbound_na =
      !enough || (c->threshold != MV_EPI_THRESHOLD_DELTA && !have_upper);
  /* R: !is.na(X) && X > 1 && y != 0, where X is NA without enough cases
   * (a missing current count makes the limit54 sum NA): FALSE, not NA. */
  pt->alarm = enough && !isnan(score) && score > 1 && y != 0 ? MV_EPI_ALARM_YES
                                                             : MV_EPI_ALARM_NO;
  if (!isnan(upper) && enough)
    pt->expected = c->threshold == MV_EPI_THRESHOLD_DELTA ? fit : exp(fit);
  pt->mu0 = c->threshold == MV_EPI_THRESHOLD_NBPLUGIN
                ? exp(fit)
                : exp(mv__epi_qnorm(1 - c->alpha, fit, se, true));
  pt->phi = m.phi;
  pt->score = score;
  pt->pvalue = prob;
  pt->trend_coef = do_trend ? coef_time : NAN;
  mv__epi_glm_release(&m.g);
  return MV_OK;
}

int mv__epi_farrington_check(const struct mv_epi_series *s,
                             const struct mv_epi_farrington_ctl *c,
                             size_t first, size_t last, struct mv_diag *diag) {
  long ref[128];
  if (c->b + 1 > 128)
    return mv_diag_set(diag, MV_EINVAL, "b too large");
  for (size_t k = first; k <= last; k++) {
    int rc = reference_points(s, k, c->b, ref, diag);
    if (rc != MV_OK)
      return rc;
  }
  return MV_OK;
}

int mv__epi_farrington(const struct mv_epi_series *s,
                       const struct mv_epi_detect_ctl *ctl, size_t first,
                       size_t last, struct mv_epi_detect_point *out,
                       struct mv_diag *diag) {
  const struct mv_epi_farrington_ctl *c = &ctl->farrington;
  struct far_work wk = {.n = s->n};
  size_t n = s->n;
  int rc = MV_OK;
  if (c->b + 1 > 128)
    return mv_diag_set(diag, MV_EINVAL, "b too large");
  wk.block = calloc(n + 1, sizeof(int));
  wk.idx = malloc(n * sizeof(size_t));
  wk.y = malloc(n * sizeof(double));
  wk.wtime = malloc(n * sizeof(double));
  wk.offset = malloc(n * sizeof(double));
  wk.lev = malloc(n * sizeof(int));
  wk.omega = malloc(n * sizeof(double));
  wk.x = malloc(n * (size_t)MV_EPI_GLM_MAXP * sizeof(double));
  if (!wk.block || !wk.idx || !wk.y || !wk.wtime || !wk.offset || !wk.lev ||
      !wk.omega || !wk.x) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  if (s->date_days && n < 2) {
    rc = mv_diag_set(diag, MV_ERANGE, "a dated series needs two dates");
    goto out;
  }
  for (size_t k = first; k <= last; k++) {
    rc = far_point(&wk, s, c, k, &out[k - first], diag);
    if (rc != MV_OK)
      goto out;
  }
out:
  free(wk.block);
  free(wk.idx);
  free(wk.y);
  free(wk.wtime);
  free(wk.offset);
  free(wk.lev);
  free(wk.omega);
  free(wk.x);
  return rc;
}
