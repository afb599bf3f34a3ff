/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EARS C1, C2 and C3 (Hutwagner et al. 2003, "The bioterrorism preparedness
 * and response Early Aberration Reporting System"; Fricker et al. 2008) as
 * surveillance 1.20.3's earsC computes them. C1 compares y_t with the mean
 * and sd of the B previous points, C2 with a window lagged by a 2-point
 * guard band. C3 follows the package's code rather than its help page: the
 * bound is y_t + S_t (z - excess_{t-2} - excess_{t-1}) floored at 0, with
 * IEEE NaN/Inf propagation exactly as R's pmax produces it.
 */
#include <math.h>

#include "detect_int.h"
#include "num_int.h"

/* mean and max(sd, minSigma) of y[from .. from+len-1] (1-based);
 * *na when a reference value is missing (R: NA, not NaN). */
static void window_stats(const double *y, long long from, int len,
                         double min_sigma, double *mean, double *sig,
                         bool *na) {
  const double *w = y + (from - 1);
  *na = false;
  for (int i = 0; i < len; i++)
    if (isnan(w[i]))
      *na = true;
  *mean = mv__epi_mean(w, (size_t)len);
  double sd = sqrt(mv__epi_var(w, (size_t)len));
  /* R's pmax(sd, minSigma) keeps NA/NaN */
  *sig = isnan(sd) ? sd : (sd > min_sigma ? sd : min_sigma);
}

/* R's pmax(0, x): NaN stays NaN. */
static double pmax0(double x) {
  if (isnan(x))
    return x;
  return x > 0 ? x : 0;
}

int mv__epi_ears(const struct mv_epi_series *s,
                 const struct mv_epi_detect_ctl *ctl, size_t first, size_t last,
                 struct mv_epi_detect_point *out, struct mv_diag *diag) {
  const struct mv_epi_ears_ctl *e = &ctl->ears;
  const double *y = s->observed;
  int B = e->baseline;
  double alpha = e->alpha;
  if (isnan(alpha))
    alpha = ctl->method == MV_EPI_EARS_C3 ? 0.025 : 0.001;
  double z = mv__epi_qnorm(1 - alpha, 0, 1, true);
  if (ctl->method != MV_EPI_EARS_C3) {
    /* C1: y[t-B .. t-1]; C2: y[t-B-2 .. t-3]. */
    int lag = ctl->method == MV_EPI_EARS_C1 ? 0 : 2;
    for (size_t t = first; t <= last; t++) {
      struct mv_epi_detect_point *p = &out[t - first];
      double mean, sig;
      bool na;
      window_stats(y, (long long)t - B - lag, B, e->min_sigma, &mean, &sig,
                   &na);
      p->upperbound = mean + z * sig;
      p->upperbound_na = na;
      p->alarm = mv__epi_alarm_gt(p->observed, p->upperbound);
    }
    return MV_OK;
  }
  /* C3 as coded: C2 statistics of t-2 and t-1 enter through their excess
   * over 1; the bound moves with y_t itself. */
  for (size_t t = first; t <= last; t++) {
    struct mv_epi_detect_point *p = &out[t - first];
    double c2[2];
    bool any_na = false;
    for (int j = 0; j < 2; j++) {
      long long i = (long long)t - 2 + j;
      double mean, sig;
      bool na;
      window_stats(y, i - B - 2, B, e->min_sigma, &mean, &sig, &na);
      any_na |= na || isnan(y[i - 1]);
      c2[j] = (y[i - 1] - mean) / sig;
    }
    double mean_t, sig_t;
    bool na_t;
    window_stats(y, (long long)t - B - 2, B, e->min_sigma, &mean_t, &sig_t,
                 &na_t);
    (void)mean_t;
    double part = pmax0(c2[0] - 1) + pmax0(c2[1] - 1);
    double u = y[t - 1] + sig_t * (z - part);
    p->upperbound = pmax0(u);
    p->upperbound_na = any_na || na_t || isnan(y[t - 1]);
    p->alarm = mv__epi_alarm_gt(p->observed, p->upperbound);
  }
  (void)diag;
  return MV_OK;
}
