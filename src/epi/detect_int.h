/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface between the aberration-detection files of src/epi:
 * per-method entry points called by detect.c after the range has been
 * resolved and the series validated, R-faithful summary statistics (mean
 * and var with R's long-double two-pass algorithms), and the quasi-Poisson
 * GLM (glm.c) that Farrington and CUSUM m = "glm" fit.
 */
#ifndef MV_EPI_DETECT_INT_H
#define MV_EPI_DETECT_INT_H

#include "mv_epi_detect.h"

/* R's NA_real_ vs computed NaN are told apart by upperbound_na; helpers
 * to reset a point to "nothing computed". */
void mv__epi_point_init(struct mv_epi_detect_point *p,
                        const struct mv_epi_series *s, size_t t);
/* Alarm from observed > upper (NA when either is NaN). */
enum mv_epi_alarm mv__epi_alarm_gt(double observed, double upper);

/* R's x^y (R_pow: x*x for y = 2, 1 for x = 1 or y = 0, else pow). */
double mv__epi_rpow(double x, double y);

/* R's mean(x) (long-double sum, then one refinement pass); NaN if any x is
 * NaN or n = 0. */
double mv__epi_mean(const double *x, size_t n);
/* R's var(x) (denominator n-1; NA if n < 2 or any x is NaN). */
double mv__epi_var(const double *x, size_t n);

/* Per-method runners. t ranges over [first, last] (1-based, validated
 * against the series and the method's look-back); out has last-first+1
 * points. Return MV_OK or an error with diag set. */
int mv__epi_ears(const struct mv_epi_series *s,
                 const struct mv_epi_detect_ctl *ctl, size_t first, size_t last,
                 struct mv_epi_detect_point *out, struct mv_diag *diag);
int mv__epi_cusum(const struct mv_epi_series *s,
                  const struct mv_epi_detect_ctl *ctl, size_t first,
                  size_t last, struct mv_epi_detect_point *out,
                  struct mv_diag *diag);
int mv__epi_bayes(const struct mv_epi_series *s,
                  const struct mv_epi_detect_ctl *ctl, size_t first,
                  size_t last, struct mv_epi_detect_point *out,
                  struct mv_diag *diag);
int mv__epi_rki(const struct mv_epi_series *s,
                const struct mv_epi_detect_ctl *ctl, size_t first, size_t last,
                struct mv_epi_detect_point *out, struct mv_diag *diag);
int mv__epi_farrington(const struct mv_epi_series *s,
                       const struct mv_epi_detect_ctl *ctl, size_t first,
                       size_t last, struct mv_epi_detect_point *out,
                       struct mv_diag *diag);

/* Every reference time point of first..last exists (dated series: the
 * calendar dates b years back are in the series). MV_ERANGE otherwise. */
int mv__epi_farrington_check(const struct mv_epi_series *s,
                             const struct mv_epi_farrington_ctl *c,
                             size_t first, size_t last, struct mv_diag *diag);

/* Shared look-back of bayes/rki: reference values of time point t (1-based)
 * into ref (capacity cap); returns the count, or (size_t)-1 when t does not
 * have enough history (t - b*freq - w < 1). */
size_t mv__epi_refvals(const struct mv_epi_series *s, size_t t, int b, int w,
                       bool act_y, double *ref, size_t cap);

/* R's seq(date, by = "-1 year")[years + 1] on days since 1970-01-01
 * (panel.c): year field decremented, 29 Feb -> 1 Mar. */
int32_t mv__epi_date_minus_years(int32_t days, int years);

/* ---- GLM (glm.c): R's glm.fit for the Poisson/quasi-Poisson log link ---- */

#define MV_EPI_GLM_MAXP 16 /* columns of the design matrix */

/* Inputs (all borrowed): x is n-by-p column-major (x[j*n + i]), y the
 * responses (>= 0), prior weights pw (NULL = 1), offset (NULL = 0). */
struct mv_epi_glm_in {
  const double *x;
  const double *y;
  const double *pw;
  const double *offset;
  size_t n;
  int p;
};

/* The fit, as glm.fit returns it. Arrays of length n are owned by the
 * struct (free with mv__epi_glm_release). */
struct mv_epi_glm {
  bool converged;
  int iter;
  int rank;
  int pivot[MV_EPI_GLM_MAXP];   /* 0-based column order after pivoting */
  double coef[MV_EPI_GLM_MAXP]; /* NAN for aliased columns */
  double rinv[MV_EPI_GLM_MAXP * MV_EPI_GLM_MAXP]; /* R^{-1} (pivoted,
                                     rank-by-rank, column-major) */
  double deviance;
  double df_residual;
  double *mu;        /* fitted values */
  double *eta;       /* linear predictor (with offset) */
  double *weights;   /* working weights of the last WLS solve (w^2) */
  double *residuals; /* working residuals (y - mu) / mu */
  double *hat;       /* leverages from the last QR (if requested) */
  double *qr;        /* n_good-by-p Householder QR of sqrt(W) X (dqrdc2) */
  size_t n_good;     /* rows with prior weight > 0 (the QR's rows) */
  double qraux[MV_EPI_GLM_MAXP];
};

/* Fit; want_hat computes hat values. MV_ENOMEM, MV_EINVAL (p out of
 * range, n < 1); a non-converged fit is MV_OK with converged false. */
int mv__epi_glm_fit(const struct mv_epi_glm_in *in, bool want_hat,
                    struct mv_epi_glm *out);
void mv__epi_glm_release(struct mv_epi_glm *g);
/* res_var * x0' (R'R)^{-1} x0 over the non-aliased columns (x0 has p
 * entries in the original column order): the variance of x0'beta as
 * predict.lm computes it (sum of res_var * (x0[piv]' R^{-1})_c^2). */
double mv__epi_glm_xvx(const struct mv_epi_glm *g, const double *x0,
                       double res_var);
/* x0'beta over non-aliased columns, in pivot order (predict.lm). */
double mv__epi_glm_predict(const struct mv_epi_glm *g, const double *x0);
/* Diagonal element j (original column) of (R'R)^{-1}; NAN if aliased. */
double mv__epi_glm_cov_unscaled(const struct mv_epi_glm *g, int j);

/* The RKI method's fixed upper-limit table (surveillance's CIdata, column
 * O) for floor(mean) = 0..20. */
extern const double mv__epi_rki_table[21];

#endif
