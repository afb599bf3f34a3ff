/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Short-term incidence forecast by the renewal equation (Fraser 2007; Cori
 * et al. 2013, eq. 1): R is the posterior of the last weekly window, future
 * incidence follows the mean path m_{T+h} = E[R] Lambda_{T+h} (the exact
 * expectation of the Poisson branching process at fixed R, as in the
 * `projections` R package), and the one-day-ahead predictive distribution is
 * the Gamma-Poisson mixture NegBin(shape, 1/(1 + scale Lambda_{T+1})).
 * For every horizon an approximate band comes from the paths at R's
 * posterior 2.5% and 97.5% quantiles with Poisson noise on top.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "epi_int.h"
#include "mv_limits.h"
#include "num_int.h"

int mv_epi_forecast(const double *local, const double *imported, size_t T,
                    double si_mean, double si_sd, double mean_prior,
                    double std_prior, size_t H,
                    struct mv_epi_forecast_row *out_rows, double *out_shape,
                    double *out_scale, struct mv_diag *diag) {
  double *loc = NULL, *imp = NULL, *w = NULL, *inc = NULL, *lam = NULL;
  double *inc_lo = NULL, *inc_hi = NULL;
  int rc;
  if (!local || !out_rows)
    return mv_diag_set(diag, MV_EINVAL, "missing argument");
  if (T < 8)
    return mv_diag_set(diag, MV_EINVAL,
                       "forecast needs at least 8 days of incidence");
  if (T > MV_LIMIT_EPI_RT_DAYS)
    return mv_diag_set(diag, MV_ETOOBIG, "incidence longer than %u days",
                       MV_LIMIT_EPI_RT_DAYS);
  if (H < 1 || H > MV_LIMIT_EPI_HORIZON)
    return mv_diag_set(diag, MV_EINVAL, "horizon must be 1..%u",
                       MV_LIMIT_EPI_HORIZON);
  double a0 = 0.0, b0 = 0.0; /* set by mv__epi_prior on success */
  rc = mv__epi_prior(mean_prior, std_prior, &a0, &b0, diag);
  if (rc != MV_OK)
    return rc;
  size_t N = T + H;
  loc = malloc(T * sizeof *loc);
  imp = malloc(T * sizeof *imp);
  w = malloc((N + 1) * sizeof *w);
  inc = malloc(N * sizeof *inc);
  lam = malloc(T * sizeof *lam);
  inc_lo = malloc(N * sizeof *inc_lo);
  inc_hi = malloc(N * sizeof *inc_hi);
  if (!loc || !imp || !w || !inc || !lam || !inc_lo || !inc_hi) {
    rc = MV_ENOMEM;
    goto out;
  }
  rc = mv__epi_incidence(local, imported, T, loc, imp, diag);
  if (rc != MV_OK)
    goto out;
  /* w = discr_si(0:(T+H)) */
  rc = mv_epi_discr_si(si_mean, si_sd, N + 1, w, diag);
  if (rc != MV_OK)
    goto out;

  /* Posterior of the last weekly window [T-6, T], as estimate_R with the
   * same (untruncated at T+H, identical below T) serial interval would give:
   * EpiEstim truncates at k = T-1, which only matters for Lambda at t > T. */
  mv__epi_lambda(loc, imp, T, w, T + 1, lam);
  double sl = 0.0, sL = 0.0;
  for (size_t t = T - 7; t < T; t++) {
    sl += loc[t];
    sL += lam[t];
  }
  double shape = a0 + sl;
  if (shape > 1e15) {
    rc = mv_diag_set(diag, MV_ERANGE,
                     "more than 1e15 cases in the last week, beyond the "
                     "supported range");
    goto out;
  }
  double scale = 1.0 / (1.0 / b0 + sL);
  double R = shape * scale;

  double R_lo = mv__epi_qgamma(0.025, shape, scale, true);
  double R_hi = mv__epi_qgamma(0.975, shape, scale, true);
  for (size_t t = 0; t < T; t++)
    inc[t] = inc_lo[t] = inc_hi[t] = loc[t] + imp[t];
  size_t wl = N + 1;
  while (wl > 0 && w[wl - 1] == 0.0)
    wl--;
  for (size_t h = 1; h <= H; h++) {
    size_t t = T + h - 1; /* 0-based index of day T+h */
    double L = 0.0;
    for (size_t k = 1; k <= t && k < wl; k++)
      L += w[k] * inc[t - k];
    double m = R * L, L_lo = 0.0, L_hi = 0.0;
    for (size_t k = 1; k <= t && k < wl; k++) {
      L_lo += w[k] * inc_lo[t - k];
      L_hi += w[k] * inc_hi[t - k];
    }
    inc[t] = m;
    inc_lo[t] = R_lo * L_lo;
    inc_hi[t] = R_hi * L_hi;
    struct mv_epi_forecast_row *row = &out_rows[h - 1];
    row->h = (int64_t)h;
    row->t = (int64_t)(T + h);
    row->lambda = L;
    row->mean = m;
    if (h == 1) {
      double prob = 1.0 / (1.0 + scale * L);
      row->q025 = mv__epi_qnbinom(0.025, shape, prob, true);
      row->q50 = mv__epi_qnbinom(0.5, shape, prob, true);
      row->q975 = mv__epi_qnbinom(0.975, shape, prob, true);
    } else {
      row->q025 = row->q50 = row->q975 = NAN;
    }
    row->band_lo = mv__epi_qpois(0.025, inc_lo[t], true);
    row->band_hi = mv__epi_qpois(0.975, inc_hi[t], true);
  }
  if (out_shape)
    *out_shape = shape;
  if (out_scale)
    *out_scale = scale;
  rc = MV_OK;
out:
  free(loc);
  free(imp);
  free(w);
  free(inc);
  free(lam);
  free(inc_lo);
  free(inc_hi);
  return rc;
}
