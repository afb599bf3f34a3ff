/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Bayes algorithm (src/epi/bayes.c): R-computed fixtures, the bound
 * recomputed here as the smallest x whose negative-binomial CDF (size
 * S + 1/2, prob n/(n+1)), summed term by term, reaches 1 - alpha, the
 * reference-value arithmetic with b > 0, and parameter errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "detect_golden.h"

static void bayes_fixtures_match_r(void **state) {
  (void)state;
  assert_int_equal(dg_fixtures("bayes"), 0);
}

/* Smallest x with P(X <= x) >= p for NB(size r, prob q), by summation. */
static double nb_quantile(double r, double q, double p) {
  double pmf = pow(q, r), cdf = pmf;
  double x = 0;
  while (cdf < p * (1 - 64 * 2.220446049250313e-16)) {
    pmf *= (x + r) / (x + 1) * (1 - q);
    cdf += pmf;
    x++;
  }
  return x;
}

static void bayes_bound_is_negative_binomial_quantile(void **state) {
  (void)state;
  const double y[14] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 20};
  struct mv_epi_series s = {.observed = y, .n = 14, .freq = 52};
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[14];
  size_t n;
  mv_epi_detect_defaults(MV_EPI_BAYES, &c);
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  assert_int_equal(p[0].t, 7); /* w + 1 */
  for (size_t i = 0; i < n; i++) {
    size_t t = p[i].t;
    double S = 0;
    for (size_t j = t - 6; j < t; j++)
      S += y[j - 1];
    double u = nb_quantile(S + 0.5, 6.0 / 7.0, 0.95);
    assert_true(p[i].upperbound == u);
    assert_int_equal(p[i].alarm, y[t - 1] > u ? 1 : 0);
  }
  assert_int_equal(p[n - 1].alarm, 1); /* the 20 */
}

static void bayes_uses_past_years_by_index(void **state) {
  (void)state;
  /* freq 4: reference values of t are y[t-4-w .. t-4+w] (b = 1, no actY) */
  const double y[12] = {0, 10, 0, 0, 0, 10, 0, 0, 0, 10, 0, 0};
  struct mv_epi_series s = {.observed = y, .n = 12, .freq = 4};
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[12];
  size_t n;
  mv_epi_detect_defaults(MV_EPI_BAYES, &c);
  c.bayes.b = 1;
  c.bayes.w = 0;
  c.bayes.act_y = false;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  assert_int_equal(p[0].t, 5);
  /* t = 6 looks at y[2] = 10, t = 7 at y[3] = 0 */
  assert_true(p[1].upperbound == nb_quantile(10.5, 0.5, 0.95));
  assert_true(p[2].upperbound == nb_quantile(0.5, 0.5, 0.95));
}

static void bayes_rejects_bad_parameters(void **state) {
  (void)state;
  const double y[10] = {0};
  struct mv_epi_series s = {.observed = y, .n = 10, .freq = 52};
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[10];
  size_t n;
  struct mv_diag d;
  mv_epi_detect_defaults(MV_EPI_BAYES, &c);
  c.bayes.alpha = 0;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EINVAL);
  assert_string_equal(d.path, "alpha");
  mv_epi_detect_defaults(MV_EPI_BAYES, &c);
  c.bayes.act_y = false; /* b = 0 and no actY: no reference values */
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_EINVAL);
  mv_epi_detect_defaults(MV_EPI_BAYES, &c);
  c.bayes.b = 1; /* needs a year of history */
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, &d), MV_ERANGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bayes_fixtures_match_r),
      cmocka_unit_test(bayes_bound_is_negative_binomial_quantile),
      cmocka_unit_test(bayes_uses_past_years_by_index),
      cmocka_unit_test(bayes_rejects_bad_parameters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
