/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The time-varying reproduction number of Cori, Ferguson, Fraser & Cauchemez
 * (2013, Am J Epidemiol 178:1505, eqs. 1-3), reproducing EpiEstim 2.2-4
 * estimate_R for the parametric and non-parametric serial interval: the
 * incidence preprocessing (day 1 imported), discr_si, the overall
 * infectivity Lambda and the conjugate Gamma posterior per window with
 * EpiEstim's NA rule. Quantiles come from num.c; a small memo of standard
 * gamma quantiles by shape makes panels of thousands of regions cheap.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mv_epi.h"
#include "mv_limits.h"
#include "epi_int.h"
#include "num_int.h"

/* Posterior shapes (cases in one window) above this are refused: window
 * sums must stay exact integers in a double (2^53 ~ 9e15); no epidemic
 * comes near it (the world has under 1e10 people). */
#define RT_MAX_SHAPE 1e15

const double mv_epi_rt_quantiles[MV_EPI_RT_NQ] = {0.025, 0.05, 0.25, 0.5,
                                                  0.75,  0.95, 0.975};

int mv_epi_discr_si(double mu, double sigma, size_t n, double *out_w,
                    struct mv_diag *diag) {
  if (!(mu > 1.0) || !isfinite(mu))
    return mv_diag_set(diag, MV_EINVAL, "si_mean must be > 1");
  if (!(sigma > 0.0) || !isfinite(sigma))
    return mv_diag_set(diag, MV_EINVAL, "si_sd must be > 0");
  if (n > 0 && !out_w)
    return mv_diag_set(diag, MV_EINVAL, "no output buffer");
  /* Cori et al. 2013, Web Appendix 11: SI - 1 ~ Gamma(a, b), the CDF
   * linearly interpolated between integers. Operation order follows
   * EpiEstim's R code so rounding matches as closely as possible. */
  double a = ((mu - 1.0) / sigma) * ((mu - 1.0) / sigma);
  double b = sigma * sigma / (mu - 1.0);
  double ab = a * b;
  for (size_t i = 0; i < n; i++) {
    double k = (double)i;
    if (i >= 2 && mv__epi_pgamma(k - 2.0, a, b, true) == 1.0 &&
        mv__epi_pgamma(k - 2.0, a + 1.0, b, true) == 1.0) {
      /* All six CDFs are exactly 1 from here on, where the formula gives
       * k + (k-2) - 2(k-1) + ab(2-1-1) = 0 exactly: fill instead. */
      for (; i < n; i++)
        out_w[i] = 0.0;
      break;
    }
    double f0 = mv__epi_pgamma(k, a, b, true);
    double f1 = k >= 1.0 ? mv__epi_pgamma(k - 1.0, a, b, true) : 0.0;
    double f2 = k >= 2.0 ? mv__epi_pgamma(k - 2.0, a, b, true) : 0.0;
    double g0 = mv__epi_pgamma(k, a + 1.0, b, true);
    double g1 = k >= 1.0 ? mv__epi_pgamma(k - 1.0, a + 1.0, b, true) : 0.0;
    double g2 = k >= 2.0 ? mv__epi_pgamma(k - 2.0, a + 1.0, b, true) : 0.0;
    double res = k * f0 + (k - 2.0) * f2 - 2.0 * (k - 1.0) * f1;
    res = res + ab * (2.0 * g1 - g2 - g0);
    out_w[i] = res > 0.0 ? res : 0.0;
  }
  return MV_OK;
}

/* ---- standard gamma quantile memo ------------------------------------ */

struct qc_entry {
  double shape; /* NaN = empty */
  double q[MV_EPI_RT_NQ];
};

struct mv_epi_qcache {
  struct qc_entry *slots;
  size_t cap; /* power of two */
  size_t used;
};

int mv_epi_qcache_new(struct mv_epi_qcache **out) {
  struct mv_epi_qcache *c = calloc(1, sizeof *c);
  if (!c)
    return MV_ENOMEM;
  c->cap = 2u * MV_LIMIT_EPI_QCACHE;
  c->slots = malloc(c->cap * sizeof *c->slots);
  if (!c->slots) {
    free(c);
    return MV_ENOMEM;
  }
  for (size_t i = 0; i < c->cap; i++)
    c->slots[i].shape = NAN;
  *out = c;
  return MV_OK;
}

void mv_epi_qcache_free(struct mv_epi_qcache *c) {
  if (!c)
    return;
  free(c->slots);
  free(c);
}

static size_t qc_hash(double shape) {
  uint64_t u;
  memcpy(&u, &shape, sizeof u);
  u ^= u >> 33;
  u *= 0xff51afd7ed558ccdULL;
  u ^= u >> 33;
  return (size_t)u;
}

/* Quantiles of Gamma(shape, 1) at mv_epi_rt_quantiles into q. */
void mv__epi_gamma_quantiles(struct mv_epi_qcache *c, double shape,
                             double q[MV_EPI_RT_NQ]) {
  if (c) {
    size_t mask = c->cap - 1, i = qc_hash(shape) & mask;
    while (!isnan(c->slots[i].shape)) {
      if (c->slots[i].shape == shape) {
        memcpy(q, c->slots[i].q, sizeof c->slots[i].q);
        return;
      }
      i = (i + 1) & mask;
    }
    for (int k = 0; k < MV_EPI_RT_NQ; k++)
      q[k] = mv__epi_qgamma(mv_epi_rt_quantiles[k], shape, 1.0, true);
    if (c->used < MV_LIMIT_EPI_QCACHE) {
      c->slots[i].shape = shape;
      memcpy(c->slots[i].q, q, sizeof c->slots[i].q);
      c->used++;
    }
    return;
  }
  for (int k = 0; k < MV_EPI_RT_NQ; k++)
    q[k] = mv__epi_qgamma(mv_epi_rt_quantiles[k], shape, 1.0, true);
}

/* ---- incidence ------------------------------------------------------- */

int mv__epi_incidence(const double *local, const double *imported, size_t T,
                      double *out_local, double *out_imported,
                      struct mv_diag *diag) {
  for (size_t t = 0; t < T; t++) {
    double l = local[t], m = imported ? imported[t] : 0.0;
    /* NaN is R's NA: EpiEstim sets it to 0. */
    if (isnan(l))
      l = 0.0;
    if (isnan(m))
      m = 0.0;
    if (l < 0.0 || m < 0.0 || !isfinite(l) || !isfinite(m)) {
      mv_diag_set(diag, MV_EINVAL, "incidence must be finite and >= 0");
      if (diag)
        diag->line = (int)(t + 1);
      return MV_EINVAL;
    }
    out_local[t] = l;
    out_imported[t] = m;
  }
  if (T > 0) {
    /* process_I: all day-1 cases are imported (there is no infector). */
    out_imported[0] += out_local[0];
    out_local[0] = 0.0;
  }
  return MV_OK;
}

void mv__epi_lambda(const double *local, const double *imported, size_t T,
                    const double *w, size_t wlen, double *out_lambda) {
  /* Effective support: trailing exact zeros contribute nothing. */
  size_t wl = wlen;
  while (wl > 0 && w[wl - 1] == 0.0)
    wl--;
  if (T > 0)
    out_lambda[0] = NAN;
  for (size_t t = 1; t < T; t++) {
    /* Lambda_t = sum_{s>=1} w_s I_{t-s} (Cori et al. 2013, eq. 1), in
     * EpiEstim's order (s ascending). */
    double s = 0.0;
    size_t smax = wl == 0 ? 0 : (t < wl - 1 ? t : wl - 1);
    for (size_t k = 1; k <= smax; k++)
      s += w[k] * (local[t - k] + imported[t - k]);
    out_lambda[t] = s;
  }
}

void mv_epi_rt_release(struct mv_epi_rt_result *r) {
  if (!r)
    return;
  free(r->rows);
  free(r->local);
  free(r->imported);
  free(r->lambda);
  free(r->si);
  memset(r, 0, sizeof *r);
}

int mv__epi_prior(double mean_prior, double std_prior, double *a0, double *b0,
                  struct mv_diag *diag) {
  if (mean_prior == 0.0)
    mean_prior = 5.0;
  if (std_prior == 0.0)
    std_prior = 5.0;
  if (!(mean_prior > 0.0) || !isfinite(mean_prior))
    return mv_diag_set(diag, MV_EINVAL, "mean_prior must be > 0");
  if (!(std_prior > 0.0) || !isfinite(std_prior))
    return mv_diag_set(diag, MV_EINVAL, "std_prior must be > 0");
  *a0 = (mean_prior / std_prior) * (mean_prior / std_prior);
  *b0 = std_prior * std_prior / mean_prior;
  return MV_OK;
}

static int build_si(const struct mv_epi_rt_opts *o, size_t T, double **out_si,
                    size_t *out_len, struct mv_diag *diag) {
  double *si = NULL;
  size_t len = T + 1;
  int rc;
  if (o->si_distr) {
    if (o->si_len < 2)
      return mv_diag_set(diag, MV_EINVAL, "si_distr needs at least 2 entries");
    if (o->si_len > MV_LIMIT_EPI_SI_LEN)
      return mv_diag_set(diag, MV_ETOOBIG, "si_distr longer than %u",
                         MV_LIMIT_EPI_SI_LEN);
    double sum = 0.0;
    for (size_t k = 0; k < o->si_len; k++) {
      if (!(o->si_distr[k] >= 0.0) || !isfinite(o->si_distr[k])) {
        mv_diag_set(diag, MV_EINVAL, "si_distr must be finite and >= 0");
        if (diag)
          diag->line = (int)(k + 1);
        return MV_EINVAL;
      }
      sum += o->si_distr[k];
    }
    if (o->si_distr[0] != 0.0)
      return mv_diag_set(diag, MV_EINVAL,
                         "si_distr at k = 0 must be 0 (no same-day "
                         "transmission)");
    if (fabs(sum - 1.0) > 0.01)
      return mv_diag_set(diag, MV_EINVAL,
                         "si_distr must sum to 1 (+-0.01), sums to %.6g", sum);
    if (o->si_len > len)
      len = o->si_len;
    si = calloc(len, sizeof *si);
    if (!si)
      return MV_ENOMEM;
    memcpy(si, o->si_distr, o->si_len * sizeof *si);
  } else {
    if (!(o->si_mean > 1.0) || !isfinite(o->si_mean))
      return mv_diag_set(diag, MV_EINVAL, "si_mean must be > 1");
    if (!(o->si_sd > 0.0) || !isfinite(o->si_sd))
      return mv_diag_set(diag, MV_EINVAL, "si_sd must be > 0");
    si = calloc(len, sizeof *si);
    if (!si)
      return MV_ENOMEM;
    /* EpiEstim evaluates k = 0..T-1 and pads one zero. */
    rc = mv_epi_discr_si(o->si_mean, o->si_sd, T, si, diag);
    if (rc != MV_OK) {
      free(si);
      return rc;
    }
  }
  *out_si = si;
  *out_len = len;
  return MV_OK;
}

void mv__epi_posterior_row(double a0, double b0, double sum_local,
                           double sum_lambda, bool na,
                           struct mv_epi_qcache *cache,
                           struct mv_epi_rt_row *row) {
  if (na) {
    row->mean = row->sd = row->shape = row->scale = NAN;
    for (int k = 0; k < MV_EPI_RT_NQ; k++)
      row->q[k] = NAN;
    return;
  }
  /* Cori et al. 2013, eq. 2: Gamma(a + sum I, 1/(1/b + sum Lambda)). */
  double shape = a0 + sum_local;
  double scale = 1.0 / (1.0 / b0 + sum_lambda);
  row->shape = shape;
  row->scale = scale;
  row->mean = shape * scale;
  row->sd = sqrt(shape) * scale;
  double q[MV_EPI_RT_NQ];
  mv__epi_gamma_quantiles(cache, shape, q);
  for (int k = 0; k < MV_EPI_RT_NQ; k++)
    row->q[k] = q[k] * scale;
}

int mv_epi_rt_estimate(const double *local, const double *imported, size_t T,
                       const struct mv_epi_rt_opts *opts,
                       struct mv_epi_qcache *cache,
                       struct mv_epi_rt_result *out, struct mv_diag *diag) {
  struct mv_epi_rt_result r;
  memset(&r, 0, sizeof r);
  int rc = MV_OK;
  if (out)
    memset(out, 0, sizeof *out);
  if (!local || !opts || !out)
    return mv_diag_set(diag, MV_EINVAL, "missing argument");
  if (T < 2)
    return mv_diag_set(diag, MV_EINVAL, "incidence needs at least 2 days");
  if (T > MV_LIMIT_EPI_RT_DAYS)
    return mv_diag_set(diag, MV_ETOOBIG, "incidence longer than %u days",
                       MV_LIMIT_EPI_RT_DAYS);
  double a0 = 0.0, b0 = 0.0; /* set by mv__epi_prior on success */
  rc = mv__epi_prior(opts->mean_prior, opts->std_prior, &a0, &b0, diag);
  if (rc != MV_OK)
    return rc;

  /* windows */
  size_t nw;
  size_t width = opts->window ? opts->window : 7;
  if (opts->t_start) {
    if (!opts->t_end || opts->n_windows == 0)
      return mv_diag_set(diag, MV_EINVAL,
                         "t_start needs t_end of equal length");
    if (opts->n_windows > MV_LIMIT_EPI_RT_WINDOWS)
      return mv_diag_set(diag, MV_ETOOBIG, "more than %u windows",
                         MV_LIMIT_EPI_RT_WINDOWS);
    for (size_t i = 0; i < opts->n_windows; i++) {
      int64_t s = opts->t_start[i], e = opts->t_end[i];
      if (s < 2 || s > e || e > (int64_t)T) {
        mv_diag_set(diag, MV_EINVAL,
                    "window %zu: need 2 <= t_start <= t_end <= %zu", i + 1, T);
        mv_diag_set_path(diag, "t_start");
        return MV_EINVAL;
      }
    }
    nw = opts->n_windows;
  } else {
    if (width < 1 || width + 1 > T)
      return mv_diag_set(diag, MV_EINVAL,
                         "window of %zu days does not fit %zu days of "
                         "incidence (need window <= T - 1)",
                         width, T);
    nw = T - width;
  }

  r.T = T;
  r.local = malloc(T * sizeof *r.local);
  r.imported = malloc(T * sizeof *r.imported);
  r.lambda = malloc(T * sizeof *r.lambda);
  r.rows = calloc(nw, sizeof *r.rows);
  if (!r.local || !r.imported || !r.lambda || !r.rows) {
    rc = MV_ENOMEM;
    goto out;
  }
  rc = mv__epi_incidence(local, imported, T, r.local, r.imported, diag);
  if (rc != MV_OK)
    goto out;
  rc = build_si(opts, T, &r.si, &r.si_len, diag);
  if (rc != MV_OK)
    goto out;
  double m1 = 0.0, m2 = 0.0;
  for (size_t k = 0; k < r.si_len; k++) {
    m1 += (double)k * r.si[k];
    m2 += (double)k * (double)k * r.si[k];
  }
  r.si_mean = m1;
  r.si_sd = sqrt(m2 - m1 * m1);
  mv__epi_lambda(r.local, r.imported, T, r.si, r.si_len, r.lambda);

  for (size_t i = 0; i < nw; i++) {
    int64_t s, e;
    if (opts->t_start) {
      s = opts->t_start[i];
      e = opts->t_end[i];
    } else {
      s = (int64_t)i + 2;
      e = s + (int64_t)width - 1;
    }
    double sl = 0.0, sL = 0.0;
    for (int64_t t = s; t <= e; t++) {
      sl += r.local[t - 1];
      sL += r.lambda[t - 1];
    }
    if (a0 + sl > RT_MAX_SHAPE) {
      rc = mv_diag_set(diag, MV_ERANGE,
                       "window %zu: more than %.0e cases, beyond the "
                       "supported range",
                       i + 1, RT_MAX_SHAPE);
      goto out;
    }
    r.rows[i].t_start = s;
    r.rows[i].t_end = e;
    mv__epi_posterior_row(a0, b0, sl, sL, !((double)e > r.si_mean), cache,
                          &r.rows[i]);
  }
  r.n_rows = nw;
  *out = r;
  memset(&r, 0, sizeof r);
out:
  mv_epi_rt_release(&r);
  return rc;
}
