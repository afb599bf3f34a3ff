/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EARS C1/C2/C3 (src/epi/ears.c): the repository's R-computed fixtures
 * (tests/data/epi/detect/fx_*__earsC_*), a C1/C2 bound recomputed here from
 * its definition, C3's coded rule and its NaN bound on a constant window,
 * R's default ranges and alphas, and the errors for impossible parameters
 * and too-short series.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "detect_golden.h"

static struct mv_epi_series series(const double *y, size_t n) {
  struct mv_epi_series s = {
      .observed = y, .n = n, .freq = 52, .start_epoch = 1};
  return s;
}

static void ears_fixtures_match_r(void **state) {
  (void)state;
  int a = dg_fixtures("earsC_C1"), b = dg_fixtures("earsC_C2");
  int c = dg_fixtures("earsC_C3");
  assert_int_equal(a, 0);
  assert_int_equal(b, 0);
  assert_int_equal(c, 0);
}

/* mean + z * sd of y[from .. from+len-1], two-pass, n-1. */
static double bound(const double *y, int from, int len, double z) {
  double m = 0, v = 0;
  for (int i = 0; i < len; i++)
    m += y[from + i];
  m /= len;
  for (int i = 0; i < len; i++)
    v += (y[from + i] - m) * (y[from + i] - m);
  return m + z * sqrt(v / (len - 1));
}

static void ears_c1_c2_follow_definition(void **state) {
  (void)state;
  const double y[12] = {1, 2, 3, 4, 5, 6, 7, 20, 3, 2, 9, 1};
  struct mv_epi_series s = series(y, 12);
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[12];
  size_t n;
  const double z = 3.090232306167813; /* qnorm(0.999) */
  mv_epi_detect_defaults(MV_EPI_EARS_C1, &c);
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  assert_int_equal(n, 5);
  assert_int_equal(p[0].t, 8);
  for (size_t i = 0; i < n; i++) {
    double u = bound(y, (int)p[i].t - 8, 7, z);
    assert_true(fabs(p[i].upperbound - u) < 1e-12 * u);
    assert_int_equal(p[i].alarm,
                     y[p[i].t - 1] > u ? MV_EPI_ALARM_YES : MV_EPI_ALARM_NO);
  }
  assert_int_equal(p[0].alarm, MV_EPI_ALARM_YES);
  mv_epi_detect_defaults(MV_EPI_EARS_C2, &c);
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  assert_int_equal(p[0].t, 10); /* B + 3 */
  for (size_t i = 0; i < n; i++) {
    double u = bound(y, (int)p[i].t - 10, 7, z);
    assert_true(fabs(p[i].upperbound - u) < 1e-12 * u);
  }
}

static void ears_c3_constant_window_is_nan_alarm_na(void **state) {
  (void)state;
  double y[16] = {0};
  y[13] = 1;
  struct mv_epi_series s = series(y, 16);
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[16];
  size_t n;
  mv_epi_detect_defaults(MV_EPI_EARS_C3, &c);
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  assert_int_equal(p[0].t, 12); /* B + 5 */
  /* t = 12: all-zero windows, C2 = 0/0 -> NaN bound (not NA), alarm NA */
  assert_true(isnan(p[0].upperbound));
  assert_false(p[0].upperbound_na);
  assert_int_equal(p[0].alarm, MV_EPI_ALARM_NA);
  /* with minSigma > 0 the bound is a number again */
  c.ears.min_sigma = 0.5;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  for (size_t i = 0; i < n; i++)
    assert_false(isnan(p[i].upperbound));
}

static void ears_rejects_impossible_parameters(void **state) {
  (void)state;
  double y[20] = {0};
  struct mv_epi_series s = series(y, 20);
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[20];
  size_t n;
  struct mv_diag d;
  mv_epi_detect_defaults(MV_EPI_EARS_C1, &c);
  c.ears.baseline = 2;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EINVAL);
  assert_string_equal(d.path, "baseline");
  mv_epi_detect_defaults(MV_EPI_EARS_C1, &c);
  c.ears.min_sigma = -1;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EINVAL);
  assert_string_equal(d.path, "min-sigma");
  mv_epi_detect_defaults(MV_EPI_EARS_C2, &c);
  c.ears.alpha = 1.5;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EINVAL);
  /* too short: 20 points, baseline 18, C3 needs t - 22 >= 1 */
  mv_epi_detect_defaults(MV_EPI_EARS_C3, &c);
  c.ears.baseline = 18;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_ERANGE);
  /* explicit range reaching before the series */
  mv_epi_detect_defaults(MV_EPI_EARS_C1, &c);
  c.range.first = 5;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_ERANGE);
  assert_string_equal(d.path, "range-first");
  c.range.first = 8;
  c.range.last = 21;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_ERANGE);
  /* negative and fractional counts */
  y[3] = -1;
  mv_epi_detect_defaults(MV_EPI_EARS_C1, &c);
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EPARSE);
  y[3] = 1.5;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EPARSE);
}

static void ears_method_names_round_trip(void **state) {
  (void)state;
  for (int m = 0; m < MV_EPI_METHOD_COUNT; m++) {
    enum mv_epi_method got;
    assert_int_equal(mv_epi_method_parse(mv_epi_method_name(m), &got), MV_OK);
    assert_int_equal(got, m);
  }
  enum mv_epi_method got;
  assert_int_equal(mv_epi_method_parse("ears-c4", &got), MV_ENOTFOUND);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ears_fixtures_match_r),
      cmocka_unit_test(ears_c1_c2_follow_definition),
      cmocka_unit_test(ears_c3_constant_window_is_nan_alarm_na),
      cmocka_unit_test(ears_rejects_impossible_parameters),
      cmocka_unit_test(ears_method_names_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
