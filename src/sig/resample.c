/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rational resampling by L/M with a polyphase windowed-sinc filter
 * (Crochiere & Rabiner, "Multirate Digital Signal Processing", 1983, ch.
 * 4): output sample k sits at input position k M / L; its value is the sum
 * of the input around it weighted by a Blackman-windowed sinc, whose L
 * phases are computed once. The cut-off lies below the lower of the two
 * Nyquist frequencies, so downsampling (360 -> 250 Hz, 500 -> 250 Hz) does
 * not alias.
 */
#include <math.h>
#include <stdlib.h>

#include "mv_sig_filter.h"

#define PI 3.14159265358979323846
#define L_MAX 4096u
#define ZERO_CROSSINGS 16.0
#define CUTOFF 0.45
#define TABLE_MAX (1u << 20) /* phase table doubles (8 MiB) */

struct ratio {
  uint64_t l, m;
};

static uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b, b = t;
  }
  return a;
}

/* L/M from the rates in millihertz; false when invalid. */
static bool get_ratio(double fs_in, double fs_out, struct ratio *r) {
  if (!isfinite(fs_in) || !isfinite(fs_out) || fs_in < 0.001 ||
      fs_out < 0.001 || fs_in > 1e7 || fs_out > 1e7)
    return false;
  uint64_t in = (uint64_t)llround(fs_in * 1000);
  uint64_t out = (uint64_t)llround(fs_out * 1000);
  uint64_t g = gcd(in, out);
  r->l = out / g;
  r->m = in / g;
  return r->l <= L_MAX;
}

size_t mv_sig_resample_len(size_t n, double fs_in_hz, double fs_out_hz) {
  struct ratio r;
  if (n == 0 || !get_ratio(fs_in_hz, fs_out_hz, &r))
    return 0;
  return (size_t)(((uint64_t)(n - 1) * r.l) / r.m + 1);
}

static double blackman_sinc(double t, double fc, double half) {
  if (fabs(t) >= half)
    return 0;
  double u = t / half;
  double w = 0.42 + 0.5 * cos(PI * u) + 0.08 * cos(2 * PI * u);
  double a = 2 * PI * fc * t;
  return 2 * fc * (a == 0 ? 1 : sin(a) / a) * w;
}

/* Phase table: row p holds the taps for fractional position p / L, input
 * offsets -(taps/2 - 1) .. taps/2 around floor(position); rows sum to 1. */
static double *make_table(const struct ratio *r, size_t *out_taps) {
  double fc = CUTOFF * fmin(1.0, (double)r->l / (double)r->m);
  double half = ZERO_CROSSINGS / (2 * fc);
  size_t w = (size_t)ceil(half), taps = 2 * w;
  if (taps * r->l > TABLE_MAX)
    return NULL;
  double *t = malloc(taps * r->l * sizeof(double));
  if (!t)
    return NULL;
  for (uint64_t p = 0; p < r->l; p++) {
    double frac = (double)p / (double)r->l, sum = 0;
    double *row = t + p * taps;
    for (size_t k = 0; k < taps; k++) {
      row[k] = blackman_sinc(frac + (double)w - 1 - (double)k, fc, half);
      sum += row[k];
    }
    for (size_t k = 0; k < taps; k++)
      row[k] /= sum;
  }
  *out_taps = taps;
  return t;
}

int mv_sig_resample(const double *x, size_t n, double fs_in_hz,
                    double fs_out_hz, double *y, size_t cap, size_t *out_n,
                    struct mv_diag *diag) {
  struct ratio r;
  if (!x || !y || !out_n || n == 0)
    return mv_diag_set(diag, MV_EINVAL, "no input");
  if (!get_ratio(fs_in_hz, fs_out_hz, &r))
    return mv_diag_set(diag, MV_EINVAL,
                       "rates must be 0.001..1e7 Hz with a reduced ratio "
                       "L/M of L <= %u",
                       L_MAX);
  size_t len = mv_sig_resample_len(n, fs_in_hz, fs_out_hz);
  if (cap < len)
    return mv_diag_set(diag, MV_ETOOBIG, "output needs %zu samples", len);
  size_t taps;
  double *t = make_table(&r, &taps);
  if (!t)
    return mv_diag_set(diag, MV_EINVAL, "resampling factor too extreme");
  long long half = (long long)taps / 2, last = (long long)n - 1;
  for (size_t k = 0; k < len; k++) {
    uint64_t pos = (uint64_t)k * r.m;
    long long j0 = (long long)(pos / r.l);
    const double *row = t + (pos % r.l) * taps;
    double acc = 0;
    for (size_t i = 0; i < taps; i++) {
      long long j = j0 - half + 1 + (long long)i;
      acc += row[i] * x[j < 0 ? 0 : j > last ? last : j];
    }
    y[k] = acc;
  }
  free(t);
  *out_n = len;
  return MV_OK;
}
