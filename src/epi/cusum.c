/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CUSUM for counts as surveillance 1.20.3's algo.cusum computes it (Page
 * 1954; Rossi, Lampugnani & Marchi 1999 for the transformations): the
 * counts are standardised against a reference value m (the mean before the
 * range, a given number, or a Poisson GLM with one yearly harmonic), then
 * S_t = max(0, S_{t-1} + x_t - k) raises an alarm while S_t >= h. As coded
 * in the package there is no reset after an alarm; the reported bound is
 * the count that would have made S_t reach h.
 */
#include <math.h>
#include <stdlib.h>

#include "detect_int.h"

/* R's max(0, x): NaN/NA propagate. */
static double max0(double x) {
  if (isnan(x))
    return x;
  return x > 0 ? x : 0;
}

/* m = "glm": glm(x ~ 1 + cos(2 pi/p t) + sin(2 pi/p t), poisson) on the
 * training points 1..first-1 (rows with a missing count dropped, as
 * na.omit does), predicted on the response scale for t in range. */
static int glm_m(const struct mv_epi_series *s, size_t first, size_t last,
                 double *m, struct mv_diag *diag) {
  size_t ntr = first - 1, n = 0;
  double *x = malloc(3 * ntr * sizeof(double));
  double *y = malloc(ntr * sizeof(double));
  struct mv_epi_glm g;
  int rc = MV_OK;
  if (!x || !y) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  double w = 2 * M_PI / s->freq; /* R: 2 * pi/p * t */
  for (size_t i = 1; i <= ntr; i++) {
    if (isnan(s->observed[i - 1]))
      continue;
    y[n++] = s->observed[i - 1];
  }
  size_t r = 0;
  for (size_t i = 1; i <= ntr; i++) {
    if (isnan(s->observed[i - 1]))
      continue;
    double t = (double)s->start_epoch + (double)i - 1;
    x[r] = 1;
    x[n + r] = cos(w * t);
    x[2 * n + r] = sin(w * t);
    r++;
  }
  struct mv_epi_glm_in in = {.x = x, .y = y, .n = n, .p = 3};
  if (n == 0) {
    rc = mv_diag_set(diag, MV_ERANGE, "no counts before the range for m=glm");
    goto out;
  }
  rc = mv__epi_glm_fit(&in, false, &g);
  if (rc != MV_OK) {
    mv_diag_set(diag, rc, "m=glm: the GLM could not be fitted");
    goto out;
  }
  for (size_t t = first; t <= last; t++) {
    double tt = (double)s->start_epoch + (double)t - 1;
    double x0[3] = {1, cos(w * tt), sin(w * tt)};
    double eta = mv__epi_glm_predict(&g, x0);
    double mu = exp(eta);
    m[t - first] = mu > 2.220446049250313e-16 ? mu : 2.220446049250313e-16;
  }
  mv__epi_glm_release(&g);
out:
  free(x);
  free(y);
  return rc;
}

/* The standardised count of algo.cusum's `trans` (R's operation order). */
static double standardise(const struct mv_epi_cusum_ctl *c, double x,
                          double m) {
  switch (c->trans) {
  case MV_EPI_CUSUM_ANSCOMBE:
    return 3.0 / 2 * (mv__epi_rpow(x, 2.0 / 3) - mv__epi_rpow(m, 2.0 / 3)) /
           mv__epi_rpow(m, 1.0 / 6);
  case MV_EPI_CUSUM_ROSSI:
    return (x - 3 * m + 2 * sqrt(x * m)) / (2 * sqrt(m));
  case MV_EPI_CUSUM_ANSCOMBE2ND:
    return (mv__epi_rpow(x, 2.0 / 3) -
            (mv__epi_rpow(m, 2.0 / 3) - mv__epi_rpow(m, -1.0 / 3) / 9)) /
           (2.0 / 3 * mv__epi_rpow(m, 1.0 / 6));
  case MV_EPI_CUSUM_PEARSON_NEGBIN:
    return (x - m) / sqrt(m + c->alpha * (m * m));
  case MV_EPI_CUSUM_NONE:
    return x;
  default:
    return (x - m) / sqrt(m);
  }
}

/* The count that would have taken the statistic to h (algo.cusum's
 * upperbound; for anscombe2nd the package uses m^(1/3)/9 here, not the
 * m^(-1/3)/9 of the transformation, and so do we). */
static double bound(const struct mv_epi_cusum_ctl *c, double m, double prev,
                    double cur) {
  double h = c->h, k = c->k, base;
  switch (c->trans) {
  case MV_EPI_CUSUM_ANSCOMBE:
    base = 2.0 / 3 * mv__epi_rpow(m, 1.0 / 6) * (h + k - prev) +
           mv__epi_rpow(m, 2.0 / 3);
    return isnan(base) ? base : (base < 0 ? 0 : mv__epi_rpow(base, 3.0 / 2));
  case MV_EPI_CUSUM_ANSCOMBE2ND:
    base = 2.0 / 3 * mv__epi_rpow(m, 1.0 / 6) * (h + k - prev) +
           (mv__epi_rpow(m, 2.0 / 3) - mv__epi_rpow(m, 1.0 / 3) / 9);
    return isnan(base) ? base : (base < 0 ? 0 : mv__epi_rpow(base, 3.0 / 2));
  case MV_EPI_CUSUM_ROSSI: {
    double r = sqrt(m), m32 = mv__epi_rpow(m, 3.0 / 2);
    return 2 * h * r + 2 * k * r - 2 * prev * r + 5 * m -
           2 * sqrt(4 * (m * m) + 2 * m32 * h + 2 * m32 * k - 2 * m32 * prev);
  }
  case MV_EPI_CUSUM_PEARSON_NEGBIN:
    return sqrt(m + c->alpha * (m * m)) * (h + k - prev) + m;
  case MV_EPI_CUSUM_NONE:
    return h - cur;
  default:
    return ceil(sqrt(m) * (h + k - prev) + m);
  }
}

int mv__epi_cusum(const struct mv_epi_series *s,
                  const struct mv_epi_detect_ctl *ctl, size_t first,
                  size_t last, struct mv_epi_detect_point *out,
                  struct mv_diag *diag) {
  const struct mv_epi_cusum_ctl *c = &ctl->cusum;
  size_t len = last - first + 1;
  double *m = malloc(len * sizeof(double));
  if (!m)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  int rc = MV_OK;
  if (c->m_glm) {
    rc = glm_m(s, first, last, m, diag);
    if (rc != MV_OK)
      goto out;
  } else {
    double mm = c->m;
    if (isnan(mm)) /* R: mean(observed[1:(first-1)]); 1:0 is c(1, 0) */
      mm = mv__epi_mean(s->observed, first > 1 ? first - 1 : 1);
    for (size_t i = 0; i < len; i++)
      m[i] = mm;
  }
  double h = c->h, k = c->k, prev = 0;
  for (size_t i = 0; i < len; i++) {
    struct mv_epi_detect_point *p = &out[i];
    double x = p->observed, mi = m[i];
    double cur = max0(prev + (standardise(c, x, mi) - k));
    double ub = bound(c, mi, prev, cur);
    if (isnan(ub) || ub < 0)
      ub = 0; /* upperbound[is.na] <- 0; upperbound[< 0] <- 0 */
    p->upperbound = ub;
    p->upperbound_na = false;
    p->cusum = cur;
    p->cusum_m = mi;
    p->alarm = isnan(cur) ? MV_EPI_ALARM_NA
                          : (cur >= h ? MV_EPI_ALARM_YES : MV_EPI_ALARM_NO);
    prev = cur;
  }
out:
  free(m);
  return rc;
}
