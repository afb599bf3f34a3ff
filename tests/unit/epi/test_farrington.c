/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Farrington flexible and the Noufaily variants (src/epi/farrington.c):
 * R-computed fixtures for undated and dated weekly series (delta, nbPlugin,
 * muan, population offset, powertrans 1/2 and none, no reweighting), the
 * limit54 rule, calendar-year arithmetic of dated reference weeks, and the
 * errors for missing reference weeks and impossible parameters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "detect_golden.h"
#include "detect_int.h"

static void farrington_fixtures_match_r(void **state) {
  (void)state;
  assert_int_equal(dg_fixtures("farringtonFlexible"), 0);
}

static void farrington_limit54_blanks_small_counts(void **state) {
  (void)state;
  /* 5 years of ones: fewer than 5 cases in any 4 weeks */
  double y[300];
  for (int i = 0; i < 300; i++)
    y[i] = i % 3 == 0 ? 1 : 0;
  y[299] = 3;
  struct mv_epi_series s = {.observed = y, .n = 300, .freq = 52};
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[300];
  size_t n;
  mv_epi_detect_defaults(MV_EPI_FARRINGTON, &c);
  c.farrington.b = 3;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  assert_int_equal(p[0].t, 3 * 52 + 3 + 1);
  for (size_t i = 0; i < n; i++) {
    double sum = 0;
    for (size_t j = p[i].t - 3; j <= p[i].t; j++)
      sum += y[j - 1];
    if (sum < 5) {
      assert_true(p[i].upperbound_na);
      assert_int_equal(p[i].alarm, MV_EPI_ALARM_NO);
    } else {
      assert_false(p[i].upperbound_na);
    }
  }
  /* limit54 = (0, 1): always enough cases, the bound is reported */
  c.farrington.limit54_cases = 0;
  c.farrington.limit54_period = 1;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  for (size_t i = 0; i < n; i++)
    assert_false(p[i].upperbound_na);
}

static void farrington_calendar_years(void **state) {
  (void)state;
  int32_t d, r;
  char buf[16];
  assert_int_equal(mv_epi_date_parse("2008-02-29", &d), MV_OK);
  r = mv__epi_date_minus_years(d, 1); /* 2007-02-29 -> 2007-03-01 */
  mv_epi_date_format(r, buf, sizeof(buf));
  assert_string_equal(buf, "2007-03-01");
  r = mv__epi_date_minus_years(d, 4);
  mv_epi_date_format(r, buf, sizeof(buf));
  assert_string_equal(buf, "2004-02-29");
  assert_int_equal(mv_epi_date_parse("1970-01-01", &d), MV_OK);
  assert_int_equal(d, 0);
  assert_int_equal(mv_epi_date_parse("2007-02-29", &d), MV_EPARSE);
  assert_int_equal(mv_epi_date_parse("2007-13-01", &d), MV_EPARSE);
  assert_int_equal(mv_epi_date_parse("2007-1-01", &d), MV_EPARSE);
}

static void farrington_dated_needs_reference_weeks(void **state) {
  (void)state;
  /* 100 weekly dates: b = 5 years back do not exist */
  double y[100];
  int32_t dates[100];
  for (int i = 0; i < 100; i++) {
    y[i] = 5;
    dates[i] = 10000 + 7 * i;
  }
  struct mv_epi_series s = {
      .observed = y, .date_days = dates, .n = 100, .freq = 52};
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[100];
  size_t n;
  struct mv_diag d;
  mv_epi_detect_defaults(MV_EPI_FARRINGTON, &c);
  c.range.first = 90;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_ERANGE);
  c.farrington.b = 1; /* one year back exists */
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_OK);
  assert_int_equal(n, 11);
}

static void farrington_rejects_bad_parameters(void **state) {
  (void)state;
  double y[400] = {0};
  struct mv_epi_series s = {.observed = y, .n = 400, .freq = 52};
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[400];
  size_t n;
  struct mv_diag d;
  mv_epi_detect_defaults(MV_EPI_NOUFAILY, &c);
  c.farrington.population_offset = true; /* no population column */
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EINVAL);
  assert_string_equal(d.path, "population-offset");
  mv_epi_detect_defaults(MV_EPI_FARRINGTON, &c);
  c.farrington.limit54_period = 0;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EINVAL);
  mv_epi_detect_defaults(MV_EPI_FARRINGTON, &c);
  c.farrington.w = 30; /* 2w + 1 > freq */
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EINVAL);
  mv_epi_detect_defaults(MV_EPI_FARRINGTON, &c);
  c.farrington.b = 8; /* 8 years do not fit in 400 weeks */
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_ERANGE);
}

static void farrington_noufaily_defaults(void **state) {
  (void)state;
  struct mv_epi_detect_ctl c;
  mv_epi_detect_defaults(MV_EPI_NOUFAILY, &c);
  assert_int_equal(c.farrington.no_periods, 10);
  assert_int_equal(c.farrington.past_weeks_not_included, 26);
  assert_true(c.farrington.p_threshold_trend == 1);
  assert_int_equal(c.farrington.threshold, MV_EPI_THRESHOLD_NBPLUGIN);
  mv_epi_detect_defaults(MV_EPI_FARRINGTON, &c);
  assert_int_equal(c.farrington.b, 5);
  assert_int_equal(c.farrington.w, 3);
  assert_true(c.farrington.weights_threshold == 2.58);
  assert_int_equal(c.farrington.threshold, MV_EPI_THRESHOLD_DELTA);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(farrington_fixtures_match_r),
      cmocka_unit_test(farrington_limit54_blanks_small_counts),
      cmocka_unit_test(farrington_calendar_years),
      cmocka_unit_test(farrington_dated_needs_reference_weeks),
      cmocka_unit_test(farrington_rejects_bad_parameters),
      cmocka_unit_test(farrington_noufaily_defaults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
