/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Poisson / quasi-Poisson GLM with log link, fitted by iteratively
 * reweighted least squares exactly as R's glm.fit does it (McCullagh &
 * Nelder 1989, ch. 2.5): start mu = y + 0.1, at most 25 iterations, stop
 * when |dev - dev_old| / (|dev| + 0.1) < 1e-8, step halving on a non-finite
 * deviance. Each weighted least-squares step is a Householder QR with
 * LINPACK dqrdc2's limited column pivoting (Dongarra et al. 1979, LINPACK
 * Users' Guide ch. 9, as modified for R: columns whose norm falls below
 * 1e-11 of the original move to the end and are aliased). Sums follow the
 * reference BLAS order so results agree with R to the last few ulps; see
 * docs/decisions/0012-epi-detection-glm.md.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"

#define GLM_MAXIT 25
#define GLM_EPS 1e-8
#define QR_TOL 1e-11 /* min(1e-7, epsilon / 1000) in glm.fit */

/* ---- LINPACK-style kernels on column-major n-by-p arrays ---------------- */

static double nrm2(size_t n, const double *x) {
  double s = 0; /* reference BLAS 3.11 dnrm2: plain sum of squares in the
                   unscaled range */
  for (size_t i = 0; i < n; i++)
    s += x[i] * x[i];
  return sqrt(s);
}

static double dot(size_t n, const double *x, const double *y) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += x[i] * y[i];
  return s;
}

/* out[c] = dot(m, v, col_c) for ncol columns at stride ld. */
static void dot_columns(size_t m, const double *v, const double *col, size_t ld,
                        int ncol, double *out) {
  int c = 0;
  for (; c + 4 <= ncol; c += 4) {
    const double *a = col + (size_t)c * ld, *b = a + ld, *d = b + ld,
                 *e = d + ld;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < m; i++) {
      s0 += v[i] * a[i];
      s1 += v[i] * b[i];
      s2 += v[i] * d[i];
      s3 += v[i] * e[i];
    }
    out[c] = s0;
    out[c + 1] = s1;
    out[c + 2] = s2;
    out[c + 3] = s3;
  }
  for (; c < ncol; c++)
    out[c] = dot(m, v, col + (size_t)c * ld);
}

static void axpy(size_t n, double a, const double *x, double *y) {
  for (size_t i = 0; i < n; i++)
    y[i] += a * x[i];
}

/* dqrdc2: QR of x (n-by-p, leading dimension n) in place; returns the rank
 * k; jpvt (0-based) holds the column order. */
static int qr_dqrdc2(double *x, size_t n, int p, double tol, double *qraux,
                     int *jpvt) {
  double work1[MV_EPI_GLM_MAXP], work2[MV_EPI_GLM_MAXP];
  for (int j = 0; j < p; j++) {
    qraux[j] = nrm2(n, x + (size_t)j * n);
    work1[j] = qraux[j];
    work2[j] = qraux[j] == 0 ? 1.0 : qraux[j];
  }
  int lup = (int)((size_t)p < n ? (size_t)p : n);
  int k = p + 1; /* 1-based as in LINPACK */
  for (int l = 0; l < lup; l++) {
    /* Move negligible columns to the right-hand edge (l+1 < k avoids
     * cycling forever). */
    while (l + 1 < k && qraux[l] < work2[l] * tol) {
      for (size_t i = 0; i < n; i++) {
        double t = x[(size_t)l * n + i];
        for (int j = l + 1; j < p; j++)
          x[(size_t)(j - 1) * n + i] = x[(size_t)j * n + i];
        x[(size_t)(p - 1) * n + i] = t;
      }
      int pi = jpvt[l];
      double t = qraux[l], tt = work1[l], ttt = work2[l];
      for (int j = l + 1; j < p; j++) {
        jpvt[j - 1] = jpvt[j];
        qraux[j - 1] = qraux[j];
        work1[j - 1] = work1[j];
        work2[j - 1] = work2[j];
      }
      jpvt[p - 1] = pi;
      qraux[p - 1] = t;
      work1[p - 1] = tt;
      work2[p - 1] = ttt;
      k--;
    }
    if ((size_t)l + 1 == n)
      continue;
    double *xl = x + (size_t)l * n + l;
    size_t m = n - (size_t)l;
    double nrmxl = nrm2(m, xl);
    if (nrmxl == 0)
      continue;
    if (xl[0] != 0)
      nrmxl = copysign(nrmxl, xl[0]);
    double sc = 1.0 / nrmxl;
    for (size_t i = 0; i < m; i++)
      xl[i] = sc * xl[i];
    xl[0] = 1.0 + xl[0];
    /* The dot products of the reflector with the remaining columns are
     * independent: compute them first, four chains at a time (each sum in
     * the sequential order ddot uses, so the result is unchanged). */
    double dots[MV_EPI_GLM_MAXP];
    dot_columns(m, xl, x + (size_t)(l + 1) * n + l, n, p - l - 1, dots + l + 1);
    for (int j = l + 1; j < p; j++) {
      double *xj = x + (size_t)j * n + l;
      double t = -dots[j] / xl[0];
      axpy(m, t, xl, xj);
      if (qraux[j] != 0) {
        double r = fabs(xj[0]) / qraux[j];
        double tt = 1.0 - r * r;
        if (tt < 0)
          tt = 0;
        if (fabs(tt) >= 1e-6) {
          qraux[j] = qraux[j] * sqrt(tt);
        } else {
          qraux[j] = nrm2(m - 1, xj + 1);
          work1[j] = qraux[j];
        }
      }
    }
    qraux[l] = xl[0];
    xl[0] = -nrmxl;
  }
  k = k - 1;
  return (size_t)k < n ? k : (int)n;
}

/* Apply Q' (transpose = true) or Q to v in place (dqrsl qty / qy). */
static void qr_apply(const double *qr, size_t n, int k, const double *qraux,
                     double *v, bool transpose) {
  int ju = (size_t)k < n - 1 ? k : (int)(n - 1);
  for (int jj = 0; jj < ju; jj++) {
    int j = transpose ? jj : ju - 1 - jj;
    if (qraux[j] == 0)
      continue;
    size_t m = n - (size_t)j;
    /* the Householder vector: qraux[j] on the diagonal, then the column */
    const double *col = qr + (size_t)j * n + j;
    double d = qraux[j] * v[j];
    for (size_t i = 1; i < m; i++)
      d += col[i] * v[j + i];
    double t = -d / qraux[j];
    v[j] += t * qraux[j];
    for (size_t i = 1; i < m; i++)
      v[j + i] += t * col[i];
  }
}

/* Solve R b = qty[0..k-1] by column-oriented back substitution (dqrsl). */
static bool qr_backsolve(const double *qr, size_t n, int k, double *b) {
  for (int jj = 0; jj < k; jj++) {
    int j = k - 1 - jj;
    double r = qr[(size_t)j * n + j];
    if (r == 0)
      return false;
    b[j] = b[j] / r;
    if (j > 0)
      axpy((size_t)j, -b[j], qr + (size_t)j * n, b);
  }
  return true;
}

/* ---- IRLS ---------------------------------------------------------------- */

static double linkinv(double eta) {
  double mu = exp(eta);
  return mu > DBL_EPSILON ? mu : DBL_EPSILON; /* pmax(exp, eps) */
}

/* Poisson deviance, summed in long double as R's sum(). */
static double deviance(const double *y, const double *mu, const double *pw,
                       size_t n) {
  long double s = 0;
  for (size_t i = 0; i < n; i++) {
    double wt = pw ? pw[i] : 1.0, r;
    if (y[i] > 0)
      r = 2 * (wt * (y[i] * log(y[i] / mu[i]) - (y[i] - mu[i])));
    else
      r = 2 * (mu[i] * wt);
    s += r;
  }
  return (double)s;
}

/* Scratch of one fit. */
struct irls {
  const struct mv_epi_glm_in *in;
  struct mv_epi_glm *g;
  double *wx, *z, *w;
  size_t *gidx;
  size_t ng;
};

static double prior(const struct mv_epi_glm_in *in, size_t i) {
  return in->pw ? in->pw[i] : 1.0;
}

/* eta = X beta + offset (dgemv order: column by column), mu = linkinv. */
static void set_linear(const struct mv_epi_glm_in *in, const double *beta,
                       struct mv_epi_glm *g) {
  size_t n = in->n;
  for (size_t i = 0; i < n; i++)
    g->eta[i] = 0;
  for (int j = 0; j < in->p; j++) {
    double b = beta[j];
    const double *xj = in->x + (size_t)j * n;
    for (size_t i = 0; i < n; i++)
      g->eta[i] += b * xj[i];
  }
  for (size_t i = 0; i < n; i++) {
    g->eta[i] += in->offset ? in->offset[i] : 0.0;
    g->mu[i] = linkinv(g->eta[i]);
  }
}

static bool all_valid_mu(const double *mu, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(mu[i]) || !(mu[i] > 0))
      return false;
  return true;
}

/* One weighted least-squares solve of glm.fit: working response and
 * weights from the current eta/mu, dqrdc2 + dqrsl (coefficients beyond the
 * rank are 0, as dqrls leaves them). The QR, pivot, rank and weights are
 * kept in g: they are what glm.fit returns. False if a coefficient is not
 * finite (glm.fit then stops, not converged). */
static bool wls_step(struct irls *r, double *beta) {
  const struct mv_epi_glm_in *in = r->in;
  struct mv_epi_glm *g = r->g;
  size_t n = in->n, ng = 0;
  int p = in->p;
  for (size_t i = 0; i < n; i++)
    if (prior(in, i) > 0)
      r->gidx[ng++] = i;
  r->ng = g->n_good = ng;
  if (ng == 0)
    return false;
  for (size_t k = 0; k < ng; k++) {
    size_t i = r->gidx[k];
    double mueta = linkinv(g->eta[i]); /* mu.eta = pmax(exp(eta), eps) */
    double off = in->offset ? in->offset[i] : 0.0;
    r->w[k] = sqrt((prior(in, i) * (mueta * mueta)) / g->mu[i]);
    r->z[k] = ((g->eta[i] - off) + (in->y[i] - g->mu[i]) / mueta) * r->w[k];
  }
  for (int j = 0; j < p; j++)
    for (size_t k = 0; k < ng; k++)
      r->wx[(size_t)j * ng + k] = in->x[(size_t)j * n + r->gidx[k]] * r->w[k];
  int piv[MV_EPI_GLM_MAXP];
  double qraux[MV_EPI_GLM_MAXP], coef[MV_EPI_GLM_MAXP] = {0};
  for (int j = 0; j < p; j++)
    piv[j] = j;
  int rank = qr_dqrdc2(r->wx, ng, p, QR_TOL, qraux, piv);
  bool finite = true;
  if (rank > 0) {
    qr_apply(r->wx, ng, rank, qraux, r->z, true);
    for (int j = 0; j < rank; j++)
      coef[j] = r->z[j];
    finite = qr_backsolve(r->wx, ng, rank, coef);
  }
  memcpy(g->qr, r->wx, ng * (size_t)p * sizeof(double));
  memcpy(g->qraux, qraux, sizeof(qraux));
  memcpy(g->pivot, piv, sizeof(piv));
  g->rank = rank;
  for (size_t i = 0; i < n; i++)
    g->weights[i] = 0;
  for (size_t k = 0; k < ng; k++)
    g->weights[r->gidx[k]] = r->w[k] * r->w[k];
  for (int j = 0; j < p; j++) {
    if (!isfinite(coef[j]))
      finite = false;
    beta[piv[j]] = coef[j];
  }
  return finite;
}

/* glm.fit's step halving towards the previous coefficients while the
 * deviance is not finite (want_dev) or mu is invalid. False when it gives
 * up after maxit halvings (R stops with an error). */
static bool halve(const struct mv_epi_glm_in *in, struct mv_epi_glm *g,
                  double *beta, const double *old, bool want_dev, double *dev) {
  for (int ii = 1;; ii++) {
    bool ok = want_dev ? isfinite(*dev) : all_valid_mu(g->mu, in->n);
    if (ok)
      break;
    if (ii > GLM_MAXIT)
      return false;
    for (int j = 0; j < in->p; j++)
      beta[j] = (beta[j] + old[j]) / 2;
    set_linear(in, beta, g);
    if (want_dev)
      *dev = deviance(in->y, g->mu, in->pw, in->n);
  }
  if (!want_dev)
    *dev = deviance(in->y, g->mu, in->pw, in->n);
  return true;
}

/* The IRLS loop of glm.fit; sets g->converged, g->iter, g->deviance and
 * leaves the final coefficients in beta. */
static void irls(struct irls *r, double *beta) {
  const struct mv_epi_glm_in *in = r->in;
  struct mv_epi_glm *g = r->g;
  double coefold[MV_EPI_GLM_MAXP] = {0};
  bool have_old = false;
  double devold = deviance(in->y, g->mu, in->pw, in->n), dev = devold;
  g->converged = false;
  for (int iter = 1; iter <= GLM_MAXIT; iter++) {
    g->iter = iter;
    if (!wls_step(r, beta))
      break; /* non-finite coefficients: not converged */
    set_linear(in, beta, g);
    dev = deviance(in->y, g->mu, in->pw, in->n);
    if (!isfinite(dev) || !all_valid_mu(g->mu, in->n)) {
      if (!have_old)
        break; /* R stops: no valid set of coefficients */
      if (!halve(in, g, beta, coefold, true, &dev) ||
          !halve(in, g, beta, coefold, false, &dev))
        break;
    }
    if (fabs(dev - devold) / (0.1 + fabs(dev)) < GLM_EPS) {
      g->converged = true;
      break;
    }
    devold = dev;
    memcpy(coefold, beta, sizeof(coefold));
    have_old = true;
  }
  g->deviance = dev;
}

/* After the loop: coefficients (NA when aliased), residual df, working
 * residuals, R^{-1}, and the leverages lm.influence computes
 * (sum_{j<k} (Q e_j)_i^2, 1 within 10 eps of 1). */
static void finish(struct irls *r, const double *beta, bool want_hat) {
  const struct mv_epi_glm_in *in = r->in;
  struct mv_epi_glm *g = r->g;
  size_t n = in->n, ng = r->ng, nok = 0;
  int p = in->p, rank = g->rank;
  for (int j = 0; j < p; j++)
    g->coef[j] = beta[j];
  for (int j = rank; j < p; j++)
    g->coef[g->pivot[j]] = NAN;
  for (size_t i = 0; i < n; i++) {
    nok += prior(in, i) != 0;
    g->residuals[i] = (in->y[i] - g->mu[i]) / linkinv(g->eta[i]);
  }
  g->df_residual = (double)nok - rank;
  for (int c = 0; c < rank; c++) {
    double e[MV_EPI_GLM_MAXP] = {0};
    e[c] = 1;
    (void)qr_backsolve(g->qr, ng, rank, e);
    for (int k = 0; k < rank; k++)
      g->rinv[(size_t)c * MV_EPI_GLM_MAXP + k] = e[k];
  }
  if (!want_hat)
    return;
  for (size_t i = 0; i < n; i++)
    g->hat[i] = 0;
  for (int j = 0; j < rank; j++) {
    for (size_t k = 0; k < ng; k++)
      r->z[k] = 0;
    r->z[j] = 1;
    qr_apply(g->qr, ng, rank, g->qraux, r->z, false);
    for (size_t k = 0; k < ng; k++)
      g->hat[r->gidx[k]] += r->z[k] * r->z[k];
  }
  for (size_t i = 0; i < n; i++)
    if (g->hat[i] >= 1.0 - 10 * DBL_EPSILON)
      g->hat[i] = 1.0;
}

void mv__epi_glm_release(struct mv_epi_glm *g) {
  if (!g)
    return;
  free(g->mu);
  free(g->eta);
  free(g->weights);
  free(g->residuals);
  free(g->hat);
  free(g->qr);
  g->mu = g->eta = g->weights = g->residuals = g->hat = g->qr = NULL;
}

int mv__epi_glm_fit(const struct mv_epi_glm_in *in, bool want_hat,
                    struct mv_epi_glm *g) {
  size_t n = in->n;
  int p = in->p, rc = MV_OK;
  struct irls r = {.in = in, .g = g};
  double beta[MV_EPI_GLM_MAXP] = {0};
  memset(g, 0, sizeof(*g));
  if (n < 1 || p < 1 || p > MV_EPI_GLM_MAXP)
    return MV_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!(in->y[i] >= 0))
      return MV_EINVAL;
  g->mu = malloc(n * sizeof(double));
  g->eta = malloc(n * sizeof(double));
  g->weights = calloc(n, sizeof(double));
  g->residuals = malloc(n * sizeof(double));
  g->qr = malloc(n * (size_t)p * sizeof(double));
  g->hat = want_hat ? malloc(n * sizeof(double)) : NULL;
  r.wx = malloc(n * (size_t)p * sizeof(double));
  r.z = malloc(n * sizeof(double));
  r.w = malloc(n * sizeof(double));
  r.gidx = malloc(n * sizeof(size_t));
  if (!g->mu || !g->eta || !g->weights || !g->residuals || !g->qr || !r.wx ||
      !r.z || !r.w || !r.gidx || (want_hat && !g->hat)) {
    rc = MV_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    g->eta[i] = log(in->y[i] + 0.1); /* mustart = y + 0.1 */
    g->mu[i] = linkinv(g->eta[i]);
  }
  irls(&r, beta);
  finish(&r, beta, want_hat);
out:
  free(r.wx);
  free(r.z);
  free(r.w);
  free(r.gidx);
  if (rc != MV_OK)
    mv__epi_glm_release(g);
  return rc;
}

/* rinv is stored column-major with leading dimension MV_EPI_GLM_MAXP:
 * rinv[c * MAXP + r] = (R^{-1})_{r,c}. */
double mv__epi_glm_xvx(const struct mv_epi_glm *g, const double *x0,
                       double res_var) {
  double ip = 0;
  for (int c = 0; c < g->rank; c++) {
    double v = 0; /* (x0[piv]' R^{-1})_c */
    for (int r = 0; r <= c; r++)
      v += x0[g->pivot[r]] * g->rinv[(size_t)c * MV_EPI_GLM_MAXP + r];
    ip += (v * v) * res_var;
  }
  return ip;
}

double mv__epi_glm_predict(const struct mv_epi_glm *g, const double *x0) {
  double s = 0;
  for (int r = 0; r < g->rank; r++)
    s += x0[g->pivot[r]] * g->coef[g->pivot[r]];
  return s;
}

double mv__epi_glm_cov_unscaled(const struct mv_epi_glm *g, int j) {
  int r = -1;
  for (int i = 0; i < g->rank; i++)
    if (g->pivot[i] == j)
      r = i;
  if (r < 0)
    return NAN;
  double s = 0; /* ((R'R)^{-1})_{rr} = sum_c (R^{-1})_{r,c}^2 */
  for (int c = r; c < g->rank; c++) {
    double v = g->rinv[(size_t)c * MV_EPI_GLM_MAXP + r];
    s += v * v;
  }
  return s;
}
