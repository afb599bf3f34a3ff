/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/sig/resample.c on sinusoids: 360 -> 250 Hz, 500 -> 250
 * Hz and 250 -> 500 Hz keep an in-band sine (amplitude and phase, compared
 * with the analytic sine at the output instants), a tone above the new
 * Nyquist frequency is removed instead of aliased, the output length
 * follows the documented formula, and bad arguments are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "mv_sig_filter.h"

#define PI 3.14159265358979323846

/* Max |error| against sin(2 pi f t) over the middle of the output (the
 * first and last 0.2 s see the edge extension) and the output RMS. */
static void run(double fin, double fout, double f, double secs, double *out_err,
                double *out_rms) {
  size_t n = (size_t)(fin * secs);
  double *x = malloc(n * sizeof(double));
  size_t cap = mv_sig_resample_len(n, fin, fout), m = 0;
  double *y = malloc(cap * sizeof(double));
  assert_non_null(x);
  assert_non_null(y);
  for (size_t i = 0; i < n; i++)
    x[i] = sin(2 * PI * f * (double)i / fin);
  assert_int_equal(mv_sig_resample(x, n, fin, fout, y, cap, &m, NULL), MV_OK);
  assert_int_equal(m, cap);
  double err = 0, ss = 0;
  size_t k0 = (size_t)(0.2 * fout), k1 = m - k0, cnt = 0;
  for (size_t k = k0; k < k1; k++) {
    double want = sin(2 * PI * f * (double)k / fout);
    err = fmax(err, fabs(y[k] - want));
    ss += y[k] * y[k];
    cnt++;
  }
  *out_err = err;
  *out_rms = sqrt(ss / (double)cnt);
  free(x);
  free(y);
}

static void in_band_sines_survive(void **state) {
  (void)state;
  static const double cases[][3] = {
      {360, 250, 10}, {360, 250, 40}, {500, 250, 10},
      {500, 250, 60}, {250, 500, 10}, {250, 360, 30},
  };
  for (size_t i = 0; i < MV_ARRAY_LEN(cases); i++) {
    double err, rms;
    run(cases[i][0], cases[i][1], cases[i][2], 4, &err, &rms);
    if (err > 2e-3)
      print_error("%g -> %g Hz, %g Hz sine: max error %g\n", cases[i][0],
                  cases[i][1], cases[i][2], err);
    assert_true(err <= 2e-3);
  }
}

static void tones_above_new_nyquist_are_removed(void **state) {
  (void)state;
  double err, rms;
  run(500, 250, 200, 4, &err, &rms); /* would alias to 50 Hz */
  assert_true(rms < 0.01);
  run(360, 250, 150, 4, &err, &rms); /* would alias to 100 Hz */
  assert_true(rms < 0.01);
}

static void output_length_and_errors(void **state) {
  (void)state;
  assert_int_equal(mv_sig_resample_len(360, 360, 250), 250);
  assert_int_equal(mv_sig_resample_len(361, 360, 250), 251);
  assert_int_equal(mv_sig_resample_len(1000, 500, 250), 500);
  assert_int_equal(mv_sig_resample_len(1, 500, 250), 1);
  assert_int_equal(mv_sig_resample_len(0, 500, 250), 0);
  assert_int_equal(mv_sig_resample_len(10, 0, 250), 0);
  double x[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, y[20];
  size_t m = 99;
  struct mv_diag d;
  assert_int_equal(mv_sig_resample(x, 10, 500, 250, y, 4, &m, &d), MV_ETOOBIG);
  assert_int_equal(mv_sig_resample(x, 10, 500, NAN, y, 20, &m, &d), MV_EINVAL);
  assert_int_equal(mv_sig_resample(x, 0, 500, 250, y, 20, &m, &d), MV_EINVAL);
  /* 1000.001 -> 250 Hz reduces to L = 250000 > 4096. */
  assert_int_equal(mv_sig_resample(x, 10, 1000.001, 250, y, 20, &m, &d),
                   MV_EINVAL);
  assert_int_equal(m, 99);
  /* A constant stays exactly constant (unit DC gain, edge repetition). */
  assert_int_equal(mv_sig_resample(x, 10, 500, 250, y, 20, &m, &d), MV_OK);
  assert_int_equal(m, 5);
  for (size_t i = 0; i < m; i++)
    assert_true(fabs(y[i] - 1) < 1e-12);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(in_band_sines_survive),
      cmocka_unit_test(tones_above_new_nyquist_are_removed),
      cmocka_unit_test(output_length_and_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
