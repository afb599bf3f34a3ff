/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/sig/filter.c. Frequency responses are measured on
 * sinusoids pushed through the streaming filter (RMS after the start-up
 * transient), not read back from the design: the mains notch removes 50/60
 * Hz by >= 30 dB and passes 10 Hz within 0.5 dB at 250..1000 Hz; baseline
 * removal kills 0.2 Hz drift and keeps the QRS band; the band-pass keeps
 * 10 Hz and removes 100 Hz. Zero-phase output has no lag (cross-correlation
 * peak at 0), streaming equals block filtering, and nothing goes NaN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <float.h>
#include <stdlib.h>

#include "mv_sig_filter.h"

#define PI 3.14159265358979323846

/* Gain in dB of f at freq_hz, measured on a unit sinusoid: RMS of the last
 * `measure_s` seconds after `settle_s` seconds. */
static double measured_db(const struct mv_sig_filter *f0, double fs,
                          double freq_hz, double settle_s, double measure_s) {
  struct mv_sig_filter f = *f0;
  mv_sig_filter_reset(&f);
  size_t n0 = (size_t)(settle_s * fs), n1 = (size_t)(measure_s * fs);
  double in2 = 0, out2 = 0;
  for (size_t i = 0; i < n0 + n1; i++) {
    double x = sin(2 * PI * freq_hz * (double)i / fs);
    double y = mv_sig_filter_push(&f, x);
    if (i >= n0)
      in2 += x * x, out2 += y * y;
  }
  return 10 * log10(out2 / in2);
}

static void notch_removes_mains_and_passes_10_hz(void **state) {
  (void)state;
  static const double rates[] = {250, 360, 500, 1000};
  static const double mains[] = {50, 60};
  for (size_t r = 0; r < MV_ARRAY_LEN(rates); r++)
    for (size_t m = 0; m < 2; m++) {
      struct mv_sig_filter f;
      assert_int_equal(mv_sig_filter_init_notch(&f, rates[r], mains[m], NULL),
                       MV_OK);
      double stop = measured_db(&f, rates[r], mains[m], 4, 2);
      double pass = measured_db(&f, rates[r], 10, 4, 2);
      print_message("notch fs %4g Hz mains %g Hz: %7.2f dB at mains, "
                    "%+.4f dB at 10 Hz\n",
                    rates[r], mains[m], stop, pass);
      print_message(
          "  design response at mains +-0.1 Hz: %.2f dB, +-0.5 "
          "Hz: %.2f dB\n",
          20 * log10(mv_sig_filter_gain(&f, rates[r], mains[m] + 0.1)),
          20 * log10(mv_sig_filter_gain(&f, rates[r], mains[m] + 0.5)));
      if (stop > -30 || fabs(pass) > 0.5)
        print_error("fs %g mains %g: stop %.2f dB pass %.3f dB\n", rates[r],
                    mains[m], stop, pass);
      assert_true(stop <= -30);
      assert_true(fabs(pass) <= 0.5);
      /* The design function agrees with the measurement. */
      assert_true(
          fabs(20 * log10(mv_sig_filter_gain(&f, rates[r], 10)) - pass) < 0.05);
    }
}

static void baseline_removal_kills_drift_keeps_qrs_band(void **state) {
  (void)state;
  struct mv_sig_filter f;
  assert_int_equal(mv_sig_filter_init_baseline(&f, 360, 0.5, NULL), MV_OK);
  double drift = measured_db(&f, 360, 0.2, 30, 20);
  double qrs10 = measured_db(&f, 360, 10, 5, 2);
  double qrs20 = measured_db(&f, 360, 20, 5, 2);
  print_message("baseline 0.5 Hz at 360 Hz: %.2f dB at 0.2 Hz, %+.4f dB at "
                "10 Hz, %+.4f dB at 20 Hz\n",
                drift, qrs10, qrs20);
  assert_true(drift <= -25);
  assert_true(fabs(qrs10) <= 0.1);
  assert_true(fabs(qrs20) <= 0.1);
}

static void bandpass_keeps_band_removes_outside(void **state) {
  (void)state;
  struct mv_sig_filter f;
  assert_int_equal(mv_sig_filter_init_bandpass(&f, 500, 0.5, 40, NULL), MV_OK);
  double p10 = measured_db(&f, 500, 10, 5, 2);
  double s100 = measured_db(&f, 500, 100, 5, 2);
  double s01 = measured_db(&f, 500, 0.1, 60, 30);
  print_message("band-pass 0.5-40 Hz at 500 Hz: %+.4f dB at 10 Hz, %.2f dB "
                "at 100 Hz, %.2f dB at 0.1 Hz\n",
                p10, s100, s01);
  assert_true(fabs(p10) <= 0.5);
  assert_true(s100 <= -30);
  assert_true(s01 <= -40);
  /* -3 dB at the Butterworth band edges. */
  assert_true(fabs(20 * log10(mv_sig_filter_gain(&f, 500, 40)) + 3.01) < 0.1);
}

/* A pulse train with sharp QRS-like spikes plus drift. */
static void make_ecg_like(double *x, size_t n, double fs) {
  for (size_t i = 0; i < n; i++) {
    double t = (double)i / fs, ph = fmod(t, 0.8) - 0.4;
    x[i] = exp(-ph * ph / (2 * 0.01 * 0.01)) + 0.3 * sin(2 * PI * 0.15 * t) +
           0.1 * sin(2 * PI * 50 * t);
  }
}

static void zero_phase_has_no_lag(void **state) {
  (void)state;
  enum { N = 3600 };
  double *x = malloc(N * sizeof(double)), *y = malloc(N * sizeof(double));
  double *z = malloc(N * sizeof(double));
  struct mv_sig_filter_spec spec = {
      .fs_hz = 360, .highpass_hz = 0.5, .lowpass_hz = 40, .notch_hz = 50};
  struct mv_sig_filter f;
  assert_int_equal(mv_sig_filter_init(&f, &spec, NULL), MV_OK);
  make_ecg_like(x, N, 360);
  mv_sig_filter_zero_phase(&f, x, y, N);
  struct mv_sig_filter g = f;
  mv_sig_filter_run(&g, x, z, N);
  /* Cross-correlate with the clean pulse train over the middle. */
  int best_zp = 99, best_causal = 99;
  double top_zp = -1e300, top_causal = -1e300;
  for (int lag = -20; lag <= 20; lag++) {
    double czp = 0, cc = 0;
    for (size_t i = 400; i < N - 400; i++) {
      double t = (double)i / 360, ph = fmod(t, 0.8) - 0.4;
      double clean = exp(-ph * ph / (2 * 0.01 * 0.01));
      czp += clean * y[(size_t)((int)i + lag)];
      cc += clean * z[(size_t)((int)i + lag)];
    }
    if (czp > top_zp)
      top_zp = czp, best_zp = lag;
    if (cc > top_causal)
      top_causal = cc, best_causal = lag;
  }
  print_message("cross-correlation peak: zero-phase lag %d, causal lag %d "
                "samples at 360 Hz\n",
                best_zp, best_causal);
  assert_int_equal(best_zp, 0);
  assert_true(best_causal > 0); /* the causal filter does lag */
  /* In place gives the same result. */
  mv_sig_filter_zero_phase(&f, x, x, N);
  for (size_t i = 0; i < N; i++)
    assert_true(x[i] == y[i]);
  free(x), free(y), free(z);
}

static void streaming_equals_block_filtering(void **state) {
  (void)state;
  enum { N = 2000 };
  double x[N], y[N];
  struct mv_sig_filter a, b;
  struct mv_sig_filter_spec spec = {
      .fs_hz = 250, .highpass_hz = 0.5, .lowpass_hz = 40, .notch_hz = 60};
  assert_int_equal(mv_sig_filter_init(&a, &spec, NULL), MV_OK);
  b = a;
  make_ecg_like(x, N, 250);
  mv_sig_filter_run(&a, x, y, 1234);
  mv_sig_filter_run(&a, x + 1234, y + 1234, N - 1234);
  for (size_t i = 0; i < N; i++)
    assert_true(mv_sig_filter_push(&b, x[i]) == y[i]);
  /* Reset makes it start over. */
  mv_sig_filter_reset(&b);
  assert_true(mv_sig_filter_push(&b, x[0]) == y[0]);
}

static void prime_removes_the_offset_transient(void **state) {
  (void)state;
  struct mv_sig_filter f;
  assert_int_equal(mv_sig_filter_init_notch(&f, 250, 50, NULL), MV_OK);
  mv_sig_filter_prime(&f, 1000);
  for (int i = 0; i < 100; i++)
    assert_true(fabs(mv_sig_filter_push(&f, 1000) - 1000) < 1e-9);
}

static void extreme_input_never_gives_nan(void **state) {
  (void)state;
  static const double bad[] = {NAN,   INFINITY, -INFINITY, 1e308, -1e308,
                               32767, -32768,   0,         1e300, DBL_MIN};
  struct mv_sig_filter_spec spec = {
      .fs_hz = 2000, .highpass_hz = 0.05, .lowpass_hz = 800, .notch_hz = 50};
  struct mv_sig_filter f;
  assert_int_equal(mv_sig_filter_init(&f, &spec, NULL), MV_OK);
  for (int k = 0; k < 5000; k++) {
    double y = mv_sig_filter_push(&f, bad[k % MV_ARRAY_LEN(bad)]);
    assert_true(isfinite(y));
  }
  double x[64], y[64];
  for (int i = 0; i < 64; i++)
    x[i] = bad[i % MV_ARRAY_LEN(bad)];
  mv_sig_filter_zero_phase(&f, x, y, 64);
  for (int i = 0; i < 64; i++)
    assert_true(isfinite(y[i]));
  mv_sig_filter_zero_phase(&f, x, y, 0); /* empty is fine */
}

static void bad_designs_are_refused(void **state) {
  (void)state;
  struct mv_sig_filter f = {.n = 7};
  struct mv_diag d;
  assert_int_equal(mv_sig_filter_init_notch(&f, 99, 50, &d), MV_EINVAL);
  assert_string_equal(d.path, "fs_hz");
  assert_int_equal(mv_sig_filter_init_notch(&f, 2001, 50, &d), MV_EINVAL);
  assert_int_equal(mv_sig_filter_init_notch(&f, 100, 60, &d), MV_EINVAL);
  assert_string_equal(d.path, "notch_hz");
  assert_int_equal(mv_sig_filter_init_bandpass(&f, 250, 40, 0.5, &d),
                   MV_EINVAL);
  assert_int_equal(mv_sig_filter_init_baseline(&f, 250, -1, &d), MV_EINVAL);
  assert_int_equal(mv_sig_filter_init_baseline(&f, 250, NAN, &d), MV_EINVAL);
  struct mv_sig_filter_spec none = {.fs_hz = 250};
  assert_int_equal(mv_sig_filter_init(&f, &none, &d), MV_EINVAL);
  assert_int_equal(mv_sig_filter_init(&f, NULL, &d), MV_EINVAL);
  assert_int_equal(f.n, 7); /* untouched */
  assert_int_equal(mv_sig_filter_init_notch(&f, 100, 44.9, &d), MV_OK);
  assert_int_equal(mv_sig_filter_init_notch(&f, 2000, 60, &d), MV_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(notch_removes_mains_and_passes_10_hz),
      cmocka_unit_test(baseline_removal_kills_drift_keeps_qrs_band),
      cmocka_unit_test(bandpass_keeps_band_removes_outside),
      cmocka_unit_test(zero_phase_has_no_lag),
      cmocka_unit_test(streaming_equals_block_filtering),
      cmocka_unit_test(prime_removes_the_offset_transient),
      cmocka_unit_test(extreme_input_never_gives_nan),
      cmocka_unit_test(bad_designs_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
