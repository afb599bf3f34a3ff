/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Distribution functions of R's stats package (gamma, normal, Student t,
 * Poisson, negative binomial, binomial) to about 1e-14 relative accuracy,
 * with R's conventions, so that EpiEstim and surveillance outputs can be
 * reproduced to 1e-9: saddle-point densities (Loader 2000), series and
 * continued fractions for the incomplete gamma and beta, Temme's uniform
 * expansion for large shapes, pmf sums for near-Poisson negative binomials.
 * Continuous quantiles are solved by safeguarded Newton/Halley iteration on
 * the CDF; discrete quantiles are the smallest integer x with
 * F(x) >= p(1 - 64 DBL_EPSILON), R's left-continuity fuzz.
 */
#include <float.h>
#include <math.h>

#include "num_int.h"

#define LN_SQRT_2PI 0.918938533204672741780329736406
#define M_2PI_ 6.283185307179586476925286766559

double mv__epi_lgamma(double x) {
  int sign = 0;
  if (isnan(x))
    return x;
  /* lgamma_r: the reentrant variant, so two threads may call it. */
  return lgamma_r(x, &sign);
}

/* Stirling error lgamma(a+1) - (a+.5)log(a) + a - log(sqrt(2pi)); the
 * asymptotic series (Abramowitz & Stegun 6.1.41) for a > 15, where the
 * direct difference would cancel. */
static double stirlerr(double a) {
  if (a <= 15.0)
    return mv__epi_lgamma(a + 1.0) - (a + 0.5) * log(a) + a - LN_SQRT_2PI;
  double a2 = a * a;
  return (1.0 / 12.0 -
          (1.0 / 360.0 -
           (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / (1188.0 * a2)) / a2) / a2) /
              a2) /
         a;
}

/* bd0(x, m) = x log(x/m) + m - x, Loader's (2000) deviance term, summed as
 * a series when x is near m where the closed form would cancel. */
static double bd0(double x, double m) {
  if (fabs(x - m) < 0.1 * (x + m)) {
    double v = (x - m) / (x + m);
    double s = (x - m) * v;
    double ej = 2.0 * x * v;
    v = v * v;
    for (int j = 1; j < 1000; j++) {
      ej *= v;
      double s1 = s + ej / (double)(2 * j + 1);
      if (s1 == s)
        return s1;
      s = s1;
    }
    return s;
  }
  return x * log(x / m) + m - x;
}

/* D(a, x) = x^a e^-x / Gamma(a+1) (the Poisson density at non-integer a),
 * accurate for large a through the saddle-point form (Loader 2000). */
static double dpois_raw(double a, double x) {
  if (x <= 0.0)
    return a == 0.0 ? 1.0 : 0.0;
  if (a == 0.0)
    return exp(-x);
  if (a < 10.0)
    return exp(a * log(x) - x - mv__epi_lgamma(a + 1.0));
  return exp(-stirlerr(a) - bd0(a, x)) / sqrt(M_2PI_ * a);
}

/* Temme's uniform asymptotic expansion for large a (DLMF 8.12.3-8.12.11):
 * Q = erfc(eta sqrt(a/2))/2 + R, P = erfc(-eta sqrt(a/2))/2 - R,
 * R = exp(-a eta^2/2)/sqrt(2 pi a) (c0(eta) + c1(eta)/a), with
 * eta^2/2 = lambda - 1 - log(lambda), lambda = x/a. The next term is
 * O(a^-5/2) relative, below 1e-15 for a >= TEMME_MIN_A; c0 and c1 cancel
 * badly near lambda = 1, hence long double and their Taylor values there. */
#define TEMME_MIN_A 1e5

static void gamma_pq_temme(double a, double x, double *P, double *Q) {
  long double d = ((long double)x - (long double)a) / (long double)a;
  long double h; /* lambda - 1 - log(lambda) */
  if (fabsl(d) < 0.1L) {
    long double term = d * d / 2.0L, sum = 0.0L;
    for (int k = 2; k < 80; k++) {
      sum += term;
      term *= -d * (long double)k / (long double)(k + 1);
      if (fabsl(term) < 1e-21L * fabsl(sum))
        break;
    }
    h = sum;
  } else {
    h = d - log1pl(d);
  }
  long double eta = sqrtl(2.0L * h);
  if (d < 0)
    eta = -eta;
  long double c0, c1;
  if (fabsl(d) < 1e-4L) {
    c0 = -1.0L / 3.0L + eta / 12.0L;
    c1 = -1.0L / 540.0L - eta / 288.0L;
  } else {
    c0 = 1.0L / d - 1.0L / eta;
    c1 = 1.0L / (eta * eta * eta) - 1.0L / (d * d * d) - 1.0L / (d * d) -
         1.0L / (12.0L * d);
  }
  long double la = (long double)a;
  long double R =
      expl(-0.5L * la * eta * eta) / sqrtl(2.0L * M_PI * la) * (c0 + c1 / la);
  long double s = eta * sqrtl(la / 2.0L);
  long double q = 0.5L * erfcl(s) + R;
  long double p = 0.5L * erfcl(-s) - R;
  *Q = q < 0.0L ? 0.0 : (q > 1.0L ? 1.0 : (double)q);
  *P = p < 0.0L ? 0.0 : (p > 1.0L ? 1.0 : (double)p);
}

/* Regularised incomplete gamma P(a, x) and Q(a, x): the power series for
 * x < a + 1, Legendre's continued fraction (DLMF 8.9.2, modified Lentz)
 * otherwise. */
static void gamma_pq(double a, double x, double *P, double *Q) {
  if (x <= 0.0) {
    *P = 0.0;
    *Q = 1.0;
    return;
  }
  if (a == 0.0) {
    *P = 1.0;
    *Q = 0.0;
    return;
  }
  if (isinf(x)) {
    *P = 1.0;
    *Q = 0.0;
    return;
  }
  if (a >= TEMME_MIN_A) {
    gamma_pq_temme(a, x, P, Q);
    return;
  }
  double D = dpois_raw(a, x);
  if (x < a + 1.0) {
    double term = 1.0, sum = 1.0;
    for (int n = 1; n < 2000000; n++) {
      term *= x / (a + n);
      sum += term;
      if (term < sum * 1e-17)
        break;
    }
    double p = D * sum;
    if (p > 1.0)
      p = 1.0;
    *P = p;
    *Q = 1.0 - p;
    if (p > 0.9) {
      /* Q via the continued fraction would also work here; 1-P is exact to
       * the absolute error of P, enough for our uses. */
    }
    return;
  }
  const double tiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 2000000; i++) {
    double an = -(double)i * ((double)i - a);
    b += 2.0;
    d = an * d + b;
    if (fabs(d) < tiny)
      d = tiny;
    c = b + an / c;
    if (fabs(c) < tiny)
      c = tiny;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1.0) < 1e-16)
      break;
  }
  /* x^a e^-x / Gamma(a) = D(a,x) * a */
  double q = D * a * h;
  if (q > 1.0)
    q = 1.0;
  *Q = q;
  *P = 1.0 - q;
}

double mv__epi_pgamma(double x, double shape, double scale, bool lower) {
  if (isnan(x) || isnan(shape) || isnan(scale))
    return x + shape + scale;
  if (shape < 0.0 || scale <= 0.0)
    return NAN;
  double P, Q;
  gamma_pq(shape, x / scale, &P, &Q);
  return lower ? P : Q;
}

/* Density of the standard gamma at x. */
static double dgamma_std(double a, double x) {
  if (x <= 0.0)
    return 0.0;
  return dpois_raw(a, x) * a / x;
}

double mv__epi_qgamma(double p, double shape, double scale, bool lower) {
  if (isnan(p) || isnan(shape) || isnan(scale))
    return p + shape + scale;
  if (p < 0.0 || p > 1.0 || shape < 0.0 || scale <= 0.0)
    return NAN;
  double pl = lower ? p : 1.0 - p; /* lower-tail probability */
  double pu = lower ? 1.0 - p : p; /* upper-tail probability */
  if (shape == 0.0)
    return 0.0;
  if (pl == 0.0)
    return 0.0;
  if (pu == 0.0)
    return INFINITY;
  double a = shape;
  bool use_upper = pu < pl;
  /* Start: Wilson-Hilferty for a >= 1 (and away from the far lower tail),
   * the small-x power law x ~ (p Gamma(a+1))^(1/a) otherwise. */
  double x;
  double z = mv__epi_qnorm(pl, 0.0, 1.0, true);
  double c = 1.0 / (9.0 * a);
  double wh = 1.0 - c + z * sqrt(c);
  if (a >= 1.0 && wh > 0.3)
    x = a * wh * wh * wh;
  else {
    x = exp((log(pl) + mv__epi_lgamma(a + 1.0)) / a);
    if (!(x > 0.0) || !isfinite(x))
      x = a;
    if (use_upper) {
      /* far upper tail: Q ~ x^(a-1) e^-x / Gamma(a) */
      double xu = -log(pu) + (a - 1.0) * log(fmax(a, 1.0)) - mv__epi_lgamma(a);
      if (xu > x)
        x = xu;
    }
  }
  if (!(x > 0.0))
    x = DBL_MIN;
  double lo = 0.0, hi = INFINITY;
  for (int it = 0; it < 200; it++) {
    double P, Q;
    gamma_pq(a, x, &P, &Q);
    double f = use_upper ? -(Q - pu) : (P - pl); /* increasing in x */
    if (f == 0.0)
      break;
    if (f > 0.0)
      hi = x;
    else
      lo = x;
    double dens = dgamma_std(a, x);
    double xn;
    if (dens > 0.0 && isfinite(dens)) {
      double t = f / dens;
      /* Halley: f''/f' = (a-1)/x - 1 */
      double corr = 1.0 - 0.5 * t * ((a - 1.0) / x - 1.0);
      if (corr > 0.5 && corr < 2.0)
        t /= corr;
      xn = x - t;
    } else {
      xn = NAN;
    }
    if (!(xn > lo && xn < hi)) {
      /* bisect the bracket, geometrically when it spans decades */
      if (isinf(hi))
        xn = x * 2.0 + 1.0;
      else if (lo > 0.0 && hi / lo > 4.0)
        xn = sqrt(lo * hi);
      else
        xn = 0.5 * (lo + hi);
    }
    if (fabs(xn - x) <= 4e-16 * x) {
      x = xn;
      break;
    }
    x = xn;
  }
  return x * scale;
}

double mv__epi_pnorm(double x, double mean, double sd, bool lower) {
  if (isnan(x) || isnan(mean) || isnan(sd))
    return x + mean + sd;
  if (sd < 0.0)
    return NAN;
  double z = (x - mean) / sd;
  if (sd == 0.0)
    z = x < mean ? -INFINITY : INFINITY;
  if (!lower)
    z = -z;
  return 0.5 * erfc(-z * 0.70710678118654752440084436210485);
}

/* Lower-tail standard normal quantile for 0 < p <= 0.5 (result <= 0):
 * Abramowitz & Stegun 26.2.23 start, then Halley steps on erfc. */
static double qnorm_lower_half(double p) {
  double t = sqrt(-2.0 * log(p));
  double x =
      -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
  for (int it = 0; it < 8; it++) {
    double F = 0.5 * erfc(-x * 0.70710678118654752440084436210485);
    double dens = exp(-0.5 * x * x - LN_SQRT_2PI);
    if (!(dens > 0.0))
      break;
    double u = (F - p) / dens;
    double xn = x - u / (1.0 + 0.5 * x * u);
    if (fabs(xn - x) <= 1e-16 * fabs(x)) {
      x = xn;
      break;
    }
    x = xn;
  }
  return x;
}

double mv__epi_qnorm(double p, double mean, double sd, bool lower) {
  if (isnan(p) || isnan(mean) || isnan(sd))
    return p + mean + sd;
  if (p < 0.0 || p > 1.0 || sd < 0.0)
    return NAN;
  /* Work with the smaller tail so an upper-tail p near 0 keeps its digits. */
  double sign = lower ? 1.0 : -1.0;
  if (p == 0.0)
    return sign * -INFINITY;
  if (p == 1.0)
    return sign * INFINITY;
  if (sd == 0.0)
    return mean;
  double z;
  if (p == 0.5)
    z = 0.0;
  else if (p < 0.5)
    z = qnorm_lower_half(p);
  else
    z = -qnorm_lower_half(1.0 - p);
  return mean + sd * sign * z;
}

/* log Beta(a, b) */
static double lbeta(double a, double b) {
  return mv__epi_lgamma(a) + mv__epi_lgamma(b) - mv__epi_lgamma(a + b);
}

/* Continued fraction of the incomplete beta (DLMF 8.17.22), modified
 * Lentz; converges fast for x < (a+1)/(a+b+2). */
static double betacf(double a, double b, double x) {
  const double tiny = 1e-300;
  double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0, d = 1.0 - qab * x / qap;
  if (fabs(d) < tiny)
    d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m < 2000000; m++) {
    double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (fabs(d) < tiny)
      d = tiny;
    c = 1.0 + aa / c;
    if (fabs(c) < tiny)
      c = tiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (fabs(d) < tiny)
      d = tiny;
    c = 1.0 + aa / c;
    if (fabs(c) < tiny)
      c = tiny;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1.0) < 1e-16)
      break;
  }
  return h;
}

/* Regularised incomplete beta I_x(a, b) (lower) or 1 - I_x(a, b) (upper);
 * xc = 1 - x given separately to keep precision near 1. */
static double pbeta_raw(double x, double xc, double a, double b, bool lower) {
  if (x <= 0.0)
    return lower ? 0.0 : 1.0;
  if (xc <= 0.0)
    return lower ? 1.0 : 0.0;
  if (a == 0.0 || b == 0.0 || isinf(a) || isinf(b)) {
    /* degenerate limits as R's pbeta_raw */
    if (a == 0.0 && b == 0.0)
      return lower ? 0.5 : 0.5;
    if (a == 0.0 || a / b == 0.0)
      return lower ? 1.0 : 0.0;
    if (b == 0.0 || b / a == 0.0)
      return lower ? 0.0 : 1.0;
    return x < 0.5 ? (lower ? 0.0 : 1.0) : (lower ? 1.0 : 0.0);
  }
  /* front = x^a (1-x)^b / B(a, b); for large a, b through the binomial
   * saddle-point form (Loader 2000) to avoid cancellation in lbeta. */
  double front;
  if (a >= 1.0 && b >= 1.0 && a + b > 20.0) {
    double n = a + b;
    double lf = stirlerr(n) - stirlerr(a) - stirlerr(b) - bd0(a, n * x) -
                bd0(b, n * xc);
    front = exp(lf) * sqrt(n / (M_2PI_ * a * b)) * a * b / n;
  } else {
    front = exp(a * log(x) + b * log(xc) - lbeta(a, b));
  }
  if (x < (a + 1.0) / (a + b + 2.0)) {
    double v = front * betacf(a, b, x) / a;
    return lower ? v : 1.0 - v;
  }
  double v = front * betacf(b, a, xc) / b;
  return lower ? 1.0 - v : v;
}

double mv__epi_pt(double x, double df, bool lower) {
  if (isnan(x) || isnan(df))
    return x + df;
  if (df <= 0.0)
    return NAN;
  if (isinf(x))
    return (x < 0) == lower ? 0.0 : 1.0;
  if (isinf(df))
    return mv__epi_pnorm(x, 0.0, 1.0, lower);
  double val;
  double nx = 1.0 + (x / df) * x;
  if (nx > 1e100) {
    double lval = -0.5 * df * (2.0 * log(fabs(x)) - log(df)) -
                  lbeta(0.5 * df, 0.5) - log(0.5 * df);
    val = exp(lval);
  } else if (df > x * x) {
    /* upper tail of Beta(1/2, df/2) at x^2/(df+x^2) */
    val = pbeta_raw(x * x / (df + x * x), df / (df + x * x), 0.5, df / 2.0,
                    false);
  } else {
    val = pbeta_raw(1.0 / nx, (x * x / df) / nx, df / 2.0, 0.5, true);
  }
  /* val = P(|T| > |x|) */
  if (x <= 0.0)
    lower = !lower;
  return lower ? 1.0 - 0.5 * val : 0.5 * val;
}

static double dt_density(double x, double df) {
  double l = mv__epi_lgamma(0.5 * (df + 1.0)) - mv__epi_lgamma(0.5 * df) -
             0.5 * log(df * M_PI) - 0.5 * (df + 1.0) * log1p(x * x / df);
  return exp(l);
}

double mv__epi_qt(double p, double df, bool lower) {
  if (isnan(p) || isnan(df))
    return p + df;
  if (p < 0.0 || p > 1.0 || df <= 0.0)
    return NAN;
  double pl = lower ? p : 1.0 - p;
  if (pl == 0.0)
    return -INFINITY;
  if (pl == 1.0)
    return INFINITY;
  if (pl == 0.5)
    return 0.0;
  if (isinf(df))
    return mv__epi_qnorm(pl, 0.0, 1.0, true);
  /* Solve in the lower half (symmetry), Newton with bisection fallback on
   * an expanding bracket. */
  bool neg = pl < 0.5;
  double q = neg ? pl : (lower ? 1.0 - p : p); /* tail prob, <= .5 */
  double z = mv__epi_qnorm(q, 0.0, 1.0, true); /* <= 0 */
  double x = z;
  double lo = -INFINITY, hi = 0.0;
  for (int it = 0; it < 300; it++) {
    double F = mv__epi_pt(x, df, true);
    double f = F - q;
    if (f == 0.0)
      break;
    if (f > 0.0)
      hi = x;
    else
      lo = x;
    double dens = dt_density(x, df);
    double xn = (dens > 0.0) ? x - f / dens : NAN;
    if (!(xn > lo && xn < hi)) {
      if (isinf(lo))
        xn = x * 2.0 - 1.0;
      else if (hi < -1.0 && lo / hi > 4.0)
        xn = -sqrt(lo * hi);
      else
        xn = 0.5 * (lo + hi);
    }
    if (fabs(xn - x) <= 4e-16 * fabs(x)) {
      x = xn;
      break;
    }
    x = xn;
  }
  return neg ? x : -x;
}

double mv__epi_ppois(double x, double lambda, bool lower) {
  if (isnan(x) || isnan(lambda))
    return x + lambda;
  if (lambda < 0.0)
    return NAN;
  if (x < 0.0)
    return lower ? 0.0 : 1.0;
  if (lambda == 0.0 || isinf(x))
    return lower ? 1.0 : 0.0;
  x = floor(x + 1e-7);
  /* P(X <= x) = Q(x+1, lambda) */
  double P, Q;
  gamma_pq(x + 1.0, lambda, &P, &Q);
  return lower ? Q : P;
}

/* NegBin(size, prob) pmf at integer k >= 0 through the binomial
 * saddle-point form (Loader 2000), as R's dnbinom: C(n, size) prob^size
 * q^k size/n with n = size + k, q = 1 - prob. */
static double dnbinom_raw(double k, double size, double prob, double q) {
  if (k == 0.0)
    return exp(size * log1p(-q));
  double n = size + k;
  double lc = stirlerr(n) - stirlerr(size) - stirlerr(k) - bd0(size, n * prob) -
              bd0(k, n * q);
  return exp(lc) / sqrt(M_2PI_ * size * k / n) * size / n;
}

/* P(X <= x) or P(X > x) for large size by summing the pmf from x away from
 * the mode (terms shrink geometrically), the smaller tail directly. Used
 * where the beta continued fraction cancels (size large, prob near 1: a
 * dispersion close to 1). Terms follow p_{k+1} = p_k (size+k)/(k+1) q. */
static double pnbinom_sum(double x, double size, double prob, bool lower) {
  double q = 1.0 - prob;
  double mode = size > 1.0 ? floor((size - 1.0) * q / prob) : 0.0;
  double p = dnbinom_raw(x, size, prob, q), sum = 0.0;
  bool low_tail = x <= mode;
  if (low_tail) {
    for (double k = x;; k -= 1.0) {
      sum += p;
      if (k <= 0.0 || p < sum * 1e-18)
        break;
      p *= k / ((size + k - 1.0) * q);
    }
  } else {
    for (double k = x;; k += 1.0) {
      p *= (size + k) / (k + 1.0) * q; /* pmf at k + 1 */
      sum += p;
      if (p < sum * 1e-18 || p == 0.0)
        break;
    }
  }
  if (sum > 1.0)
    sum = 1.0;
  return low_tail == lower ? sum : 1.0 - sum;
}

double mv__epi_pnbinom(double x, double size, double prob, bool lower) {
  if (isnan(x) || isnan(size) || isnan(prob))
    return x + size + prob;
  if (!isfinite(size) || !isfinite(prob) || size < 0.0 || prob <= 0.0 ||
      prob > 1.0)
    return NAN;
  if (size == 0.0)
    return x >= 0.0 ? (lower ? 1.0 : 0.0) : (lower ? 0.0 : 1.0);
  if (x < 0.0)
    return lower ? 0.0 : 1.0;
  if (isinf(x))
    return lower ? 1.0 : 0.0;
  x = floor(x + 1e-7);
  if (size > 1e4 && sqrt(size * (1.0 - prob)) / prob < 1e5)
    return pnbinom_sum(x, size, prob, lower);
  /* P(X <= x) = I_prob(size, x + 1) */
  return pbeta_raw(prob, 1.0 - prob, size, x + 1.0, lower);
}

double mv__epi_pbinom(double x, double n, double prob, bool lower) {
  if (isnan(x) || isnan(n) || isnan(prob))
    return x + n + prob;
  if (!isfinite(n) || !isfinite(prob))
    return NAN;
  double nr = nearbyint(n);
  if (fabs(n - nr) > 1e-7 * fmax(1.0, fabs(n)))
    return NAN;
  n = nr;
  if (n < 0.0 || prob < 0.0 || prob > 1.0)
    return NAN;
  if (x < 0.0)
    return lower ? 0.0 : 1.0;
  x = floor(x + 1e-7);
  if (n <= x)
    return lower ? 1.0 : 0.0;
  /* P(X <= x) = I_{1-p}(n - x, x + 1) */
  return pbeta_raw(1.0 - prob, prob, n - x, x + 1.0, lower);
}

/* Smallest integer y >= 0 with cdf(y) >= p (lower tail), searching from a
 * Cornish-Fisher start y0: R's do_search, written as its definition. The
 * caller applies the fuzz to p. */
typedef double (*cdf_fn)(double y, const double *par);

static double discrete_search(double y0, double p, cdf_fn cdf,
                              const double *par) {
  double y = y0 < 0.0 ? 0.0 : floor(y0);
  if (cdf(y, par) >= p) {
    /* go left: find largest step down that stays >= p */
    double step = fmax(1.0, floor(y / 1000.0));
    while (y > 0.0) {
      double yn = y - step;
      if (yn < 0.0)
        yn = 0.0;
      if (yn == y) /* past 2^53 a unit step is lost: y is as exact as it gets */
        break;
      if (cdf(yn, par) >= p) {
        y = yn;
      } else if (step > 1.0) {
        step = fmax(1.0, floor(step / 100.0));
      } else {
        break;
      }
    }
    return y;
  }
  /* go right */
  double step = fmax(1.0, floor(y / 1000.0));
  for (;;) {
    double yn = y + step;
    if (yn == y) /* past 2^53: no representable integer between */
      return y;
    if (cdf(yn, par) >= p) {
      if (step > 1.0) {
        step = fmax(1.0, floor(step / 100.0));
        continue;
      }
      return yn;
    }
    y = yn;
    if (isinf(y))
      return y;
  }
}

static double cdf_pois(double y, const double *par) {
  return mv__epi_ppois(y, par[0], true);
}

static double cdf_nbinom(double y, const double *par) {
  return mv__epi_pnbinom(y, par[0], par[1], true);
}

/* R's fuzz: lower tail p *= 1 - 64 eps; an upper-tail q becomes the lower
 * p = 1 - q after q *= 1 + 64 eps (when 1 - q > 32*64 eps). */
static double fuzz_lower(double p, bool lower) {
  const double e = 64.0 * DBL_EPSILON;
  if (lower)
    return p * (1.0 - e);
  if (1.0 - p > 32.0 * e)
    p *= 1.0 + e;
  return 1.0 - p;
}

double mv__epi_qpois(double p, double lambda, bool lower) {
  if (isnan(p) || isnan(lambda))
    return p + lambda;
  if (!isfinite(lambda) || lambda < 0.0 || p < 0.0 || p > 1.0)
    return NAN;
  if (lambda == 0.0)
    return 0.0;
  double pl = lower ? p : 1.0 - p;
  if (pl == 0.0)
    return 0.0;
  if (pl == 1.0)
    return INFINITY;
  double mu = lambda, sigma = sqrt(lambda), gam = 1.0 / sigma;
  double z = mv__epi_qnorm(p, 0.0, 1.0, lower);
  double y = nearbyint(mu + sigma * (z + gam * (z * z - 1.0) / 6.0));
  double par[1] = {lambda};
  return discrete_search(y, fuzz_lower(p, lower), cdf_pois, par);
}

double mv__epi_qnbinom(double p, double size, double prob, bool lower) {
  if (isnan(p) || isnan(size) || isnan(prob))
    return p + size + prob;
  if (prob == 0.0 && size == 0.0)
    return 0.0;
  if (prob <= 0.0 || prob > 1.0 || size < 0.0 || p < 0.0 || p > 1.0)
    return NAN;
  if (prob == 1.0 || size == 0.0)
    return 0.0;
  double pl = lower ? p : 1.0 - p;
  if (pl == 0.0)
    return 0.0;
  if (pl == 1.0)
    return INFINITY;
  double Q = 1.0 / prob, P = (1.0 - prob) * Q;
  double mu = size * P, sigma = sqrt(size * P * Q), gam = (Q + P) / sigma;
  double z = mv__epi_qnorm(p, 0.0, 1.0, lower);
  double y = nearbyint(mu + sigma * (z + gam * (z * z - 1.0) / 6.0));
  double par[2] = {size, prob};
  return discrete_search(y, fuzz_lower(p, lower), cdf_nbinom, par);
}
