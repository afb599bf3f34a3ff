/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CUSUM (src/epi/cusum.c): the R-computed fixtures (standard, anscombe with
 * m = "glm", a given m), the recursion recomputed here from its definition
 * (S_t = max(0, S_{t-1} + (y - m)/sqrt(m) - k), alarm S_t >= h, no reset,
 * bound ceil(sqrt(m)(h + k - S_{t-1}) + m)), R's 1:0 quirk for a range
 * starting at t = 1, and parameter errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "detect_golden.h"

static void cusum_fixtures_match_r(void **state) {
  (void)state;
  assert_int_equal(dg_fixtures("cusum"), 0);
}

static void cusum_recursion_without_reset(void **state) {
  (void)state;
  const double y[12] = {2, 3, 1, 2, 2, 9, 9, 9, 2, 2, 1, 0};
  struct mv_epi_series s = {
      .observed = y, .n = 12, .freq = 52, .start_epoch = 1};
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[12];
  size_t n;
  mv_epi_detect_defaults(MV_EPI_CUSUM, &c);
  c.range.first = 6;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  assert_int_equal(n, 7);
  double m = (2 + 3 + 1 + 2 + 2) / 5.0, S = 0;
  int alarms = 0;
  for (size_t i = 0; i < n; i++) {
    double x = (y[5 + i] - m) / sqrt(m);
    double ub = ceil(sqrt(m) * (2.26 + 1.04 - S) + m);
    S = fmax(0, S + x - 1.04);
    assert_true(fabs(p[i].cusum - S) < 1e-12);
    assert_true(fabs(p[i].cusum_m - m) < 1e-15);
    assert_true(p[i].upperbound == (ub < 0 ? 0 : ub));
    assert_int_equal(p[i].alarm, S >= 2.26 ? 1 : 0);
    alarms += p[i].alarm;
  }
  /* no reset: the statistic stays above h after the outbreak */
  assert_int_equal(p[3].alarm, 1);
  assert_true(alarms >= 3);
}

static void cusum_range_from_one_uses_first_value(void **state) {
  (void)state;
  const double y[6] = {4, 4, 4, 4, 4, 4};
  struct mv_epi_series s = {.observed = y, .n = 6, .freq = 52};
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[6];
  size_t n;
  mv_epi_detect_defaults(MV_EPI_CUSUM, &c);
  c.range.first = 1; /* R: mean(observed[1:0]) = observed[1] */
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  assert_int_equal(n, 6);
  assert_true(p[0].cusum_m == 4);
  assert_true(p[5].cusum == 0);
}

static void cusum_rejects_bad_parameters(void **state) {
  (void)state;
  const double y[6] = {1, 2, 3, 4, 5, 6};
  struct mv_epi_series s = {.observed = y, .n = 6, .freq = 52};
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[6];
  size_t n;
  struct mv_diag d;
  mv_epi_detect_defaults(MV_EPI_CUSUM, &c);
  c.cusum.h = NAN;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EINVAL);
  assert_string_equal(d.path, "h");
  mv_epi_detect_defaults(MV_EPI_CUSUM, &c);
  c.cusum.m = -2;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EINVAL);
  mv_epi_detect_defaults(MV_EPI_CUSUM, &c);
  c.cusum.m_glm = true;
  c.range.first = 3; /* three parameters need three training points */
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_ERANGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cusum_fixtures_match_r),
      cmocka_unit_test(cusum_recursion_without_reset),
      cmocka_unit_test(cusum_range_from_one_uses_first_value),
      cmocka_unit_test(cusum_rejects_bad_parameters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
