/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Limited-memory BFGS for smooth unconstrained minimisation: the two-loop
 * recursion of Nocedal (1980) with the initial Hessian scaling
 * gamma = s'y / y'y (Nocedal & Wright, Numerical Optimization, 2nd ed.,
 * Algorithm 7.4 and eq. 7.20), and a backtracking line search on the
 * Armijo condition (ibid. Algorithm 3.1). Pairs with s'y <= 0 are skipped
 * so the implicit Hessian stays positive definite. Deterministic.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clf_int.h"

static double dot(const double *a, const double *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

/* The history pairs are stored as float: half the memory (the dominant
 * cost for ~10^6 parameters) for a search direction that only needs to be
 * a good descent direction; all sums are in double. */
static double dotf(const float *a, const double *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static double dotff(const float *a, const float *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += (double)a[i] * b[i];
  return s;
}

static double norm_inf(const double *a, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(a[i]) > m)
      m = fabs(a[i]);
  return m;
}

int mv__clf_lbfgs(mv__clf_fg_fn fg, void *ctx, double *x, size_t n,
                  const struct mv__clf_lbfgs_opts *opts, unsigned *out_iter,
                  double *out_f) {
  unsigned m = opts && opts->m ? opts->m : 10;
  unsigned max_iter = opts && opts->max_iter ? opts->max_iter : 300;
  double gtol = opts && opts->gtol > 0 ? opts->gtol : 1e-6;
  double ftol = opts && opts->ftol > 0 ? opts->ftol : 1e-10;
  int rc = MV_ENOMEM;
  double *g = calloc(n, sizeof *g), *d = calloc(n, sizeof *d);
  double *gn = calloc(n, sizeof *gn);
  float *S = calloc((size_t)m * n, sizeof *S);
  float *Y = calloc((size_t)m * n, sizeof *Y);
  double *rho = calloc(m, sizeof *rho), *alpha = calloc(m, sizeof *alpha);
  unsigned iter = 0, k = 0; /* k: pairs stored (ring buffer, newest at
                               (head + k - 1) % m) */
  unsigned head = 0;
  if (!g || !d || !gn || !S || !Y || !rho || !alpha)
    goto out;
  double f = fg(ctx, x, g, n);
  rc = MV_OK;
  for (iter = 0; iter < max_iter; iter++) {
    if (norm_inf(g, n) <= gtol || !isfinite(f))
      break;
    /* d = -H g by the two-loop recursion */
    for (size_t i = 0; i < n; i++)
      d[i] = -g[i];
    for (unsigned t = k; t-- > 0;) {
      unsigned j = (head + t) % m;
      alpha[j] = rho[j] * dotf(S + (size_t)j * n, d, n);
      const float *yj = Y + (size_t)j * n;
      for (size_t i = 0; i < n; i++)
        d[i] -= alpha[j] * yj[i];
    }
    if (k > 0) {
      unsigned j = (head + k - 1) % m;
      const float *sj = S + (size_t)j * n, *yj = Y + (size_t)j * n;
      double gamma = dotff(sj, yj, n) / dotff(yj, yj, n);
      for (size_t i = 0; i < n; i++)
        d[i] *= gamma;
    }
    for (unsigned t = 0; t < k; t++) {
      unsigned j = (head + t) % m;
      double beta = rho[j] * dotf(Y + (size_t)j * n, d, n);
      const float *sj = S + (size_t)j * n;
      for (size_t i = 0; i < n; i++)
        d[i] += (alpha[j] - beta) * sj[i];
    }
    double gd = dot(g, d, n);
    if (!(gd < 0)) { /* not a descent direction: restart on -g */
      for (size_t i = 0; i < n; i++)
        d[i] = -g[i];
      gd = -dot(g, g, n);
      k = 0;
    }
    /* first step: unit length; later: the quasi-Newton step 1 */
    double step = 1.0;
    if (k == 0) {
      double dn = sqrt(dot(d, d, n));
      if (dn > 0)
        step = fmin(1.0, 1.0 / dn);
    }
    /* The trial point is built in x itself (moved by the difference of
     * successive steps; no second parameter vector: for ~10^6 parameters
     * that is the largest buffer after the history). */
    double fn = f, taken = 0;
    bool ok = false;
    for (int ls = 0; ls < 40; ls++) {
      for (size_t i = 0; i < n; i++)
        x[i] += (step - taken) * d[i];
      taken = step;
      fn = fg(ctx, x, gn, n);
      if (isfinite(fn) && fn <= f + 1e-4 * step * gd) {
        ok = true;
        break;
      }
      step *= 0.5;
    }
    if (!ok) {
      for (size_t i = 0; i < n; i++)
        x[i] -= taken * d[i];
      break; /* no progress possible at machine precision */
    }
    /* store the pair s = step d, y = gn - g if curvature is positive */
    double sy = 0, yy = 0;
    for (size_t i = 0; i < n; i++) {
      double si = step * d[i], yi = gn[i] - g[i];
      sy += si * yi;
      yy += yi * yi;
    }
    if (sy > 1e-12 * yy) {
      unsigned slot = k < m ? (head + k) % m : head;
      float *sj = S + (size_t)slot * n, *yj = Y + (size_t)slot * n;
      for (size_t i = 0; i < n; i++) {
        sj[i] = (float)(step * d[i]);
        yj[i] = (float)(gn[i] - g[i]);
      }
      sy = dotff(sj, yj, n); /* consistent with the stored pair */
      if (!(sy > 0)) {
        k = 0; /* rounding broke the pair: restart the history */
        head = 0;
      } else {
        rho[slot] = 1.0 / sy;
        if (k < m)
          k++;
        else
          head = (head + 1) % m;
      }
    }
    double rel = (f - fn) / fmax(fmax(fabs(f), fabs(fn)), 1.0);
    double *t = g; /* the new gradient becomes current */
    g = gn;
    gn = t;
    f = fn;
    if (rel < ftol) {
      iter++;
      break;
    }
  }
  if (out_f)
    *out_f = f;
out:
  if (out_iter)
    *out_iter = iter;
  free(g);
  free(d);
  free(gn);
  free(S);
  free(Y);
  free(rho);
  free(alpha);
  return rc;
}
