/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The renewal-equation forecast (src/epi/forecast.c): our synthetic fixture
 * (computed once in R with EpiEstim's discr_si and estimate_R, see
 * tests/data/epi/README.md) and the shared __renewal_forecast__ goldens
 * (skipped when absent): Lambda and mean to 1e-9 relative, the h = 1
 * negative-binomial quantiles exactly, NA for h > 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "epi_golden.h"
#include "mv_epi.h"

static int compare(const char *name, const struct mv_epi_forecast_row *rows,
                   const struct egc_table *want, double *worst) {
  static const char *const cols[] = {"h",      "t",    "Lambda", "mean",
                                     "q0.025", "q0.5", "q0.975"};
  int bad = 0;
  for (size_t i = 0; i < want->nrow; i++) {
    double got[7] = {(double)rows[i].h, (double)rows[i].t, rows[i].lambda,
                     rows[i].mean,      rows[i].q025,      rows[i].q50,
                     rows[i].q975};
    for (size_t c = 0; c < 7; c++) {
      const double *w = egc_col(want, cols[c]);
      assert_non_null(w);
      double d = egc_diff(got[c], w[i], 0.0);
      double tol = (c == 2 || c == 3) ? 1e-9 : 0.0;
      if (isfinite(d) && d > *worst && tol > 0)
        *worst = d;
      if (!(d <= tol) && bad++ < 5)
        printf("%s h=%zu %s: got %.17g want %.17g\n", name, i + 1, cols[c],
               got[c], w[i]);
    }
  }
  return bad;
}

static void forecast_matches_synthetic_fixture(void **state) {
  (void)state;
  const char *src = getenv("MV_SOURCE_DIR");
  char p[1024];
  struct egc_table in, want;
  snprintf(p, sizeof p, "%s/tests/data/epi/synth_incidence_li.csv",
           src ? src : ".");
  assert_int_equal(egc_read(p, &in), 0);
  snprintf(p, sizeof p, "%s/tests/data/epi/synth_forecast_H10.csv",
           src ? src : ".");
  assert_int_equal(egc_read(p, &want), 0);
  struct mv_epi_forecast_row rows[10];
  double shape, scale, worst = 0.0;
  assert_int_equal(mv_epi_forecast(egc_col(&in, "local"),
                                   egc_col(&in, "imported"), in.nrow, 4.8, 2.3,
                                   0, 0, 10, rows, &shape, &scale, NULL),
                   MV_OK);
  assert_int_equal(want.nrow, 10);
  assert_int_equal(compare("synthetic", rows, &want, &worst), 0);
  printf("synthetic forecast: worst rel %.3g\n", worst);
  egc_free(&in);
  egc_free(&want);
}

static void forecast_rejects_bad_input(void **state) {
  (void)state;
  double inc[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  struct mv_epi_forecast_row rows[400];
  struct mv_diag d;
  assert_int_equal(
      mv_epi_forecast(inc, NULL, 7, 3, 1, 0, 0, 5, rows, NULL, NULL, &d),
      MV_EINVAL);
  assert_int_equal(
      mv_epi_forecast(inc, NULL, 10, 3, 1, 0, 0, 0, rows, NULL, NULL, &d),
      MV_EINVAL);
  assert_int_equal(
      mv_epi_forecast(inc, NULL, 10, 3, 1, 0, 0, 366, rows, NULL, NULL, &d),
      MV_EINVAL);
  assert_int_equal(
      mv_epi_forecast(inc, NULL, 10, 0.5, 1, 0, 0, 5, rows, NULL, NULL, &d),
      MV_EINVAL);
  assert_int_equal(
      mv_epi_forecast(inc, NULL, 10, 3, 1, -1, 0, 5, rows, NULL, NULL, &d),
      MV_EINVAL);
  inc[9] = -2;
  assert_int_equal(
      mv_epi_forecast(inc, NULL, 10, 3, 1, 0, 0, 5, rows, NULL, NULL, &d),
      MV_EINVAL);
  assert_int_equal(d.line, 10);
}

static void forecast_matches_shared_goldens(void **state) {
  (void)state;
  char dirbuf[1024], p[1200];
  const char *dir = egc_dir(dirbuf, sizeof dirbuf);
  if (!dir) {
    printf("SKIP: shared surveillance data absent (MV_SHARED_DATA)\n");
    skip();
  }
  snprintf(p, sizeof p, "%s/golden/index.json", dir);
  struct json_object *idx = json_object_from_file(p), *gl;
  assert_non_null(idx);
  assert_true(json_object_object_get_ex(idx, "goldens", &gl));
  int checked = 0, bad = 0;
  double worst = 0.0;
  for (size_t i = 0; i < json_object_array_length(gl); i++) {
    struct json_object *g = json_object_array_get_idx(gl, i), *n, *j, *cfg,
                       *inputs, *v;
    json_object_object_get_ex(g, "name", &n);
    const char *name = json_object_get_string(n);
    if (!strstr(name, "__renewal_forecast__"))
      continue;
    snprintf(p, sizeof p, "%s/golden/%s.json", dir, name);
    j = json_object_from_file(p);
    assert_non_null(j);
    json_object_object_get_ex(j, "config", &cfg);
    json_object_object_get_ex(j, "input", &inputs);
    double ms = 0, ss = 0, mp = 0, sp = 0;
    int64_t H = 0;
    if (json_object_object_get_ex(cfg, "mean_si", &v))
      ms = json_object_get_double(v);
    if (json_object_object_get_ex(cfg, "std_si", &v))
      ss = json_object_get_double(v);
    if (json_object_object_get_ex(cfg, "mean_prior", &v))
      mp = json_object_get_double(v);
    if (json_object_object_get_ex(cfg, "std_prior", &v))
      sp = json_object_get_double(v);
    if (json_object_object_get_ex(cfg, "H", &v))
      H = json_object_get_int64(v);
    struct egc_table in, want;
    snprintf(p, sizeof p, "%s/%s", dir,
             json_object_get_string(json_object_array_get_idx(inputs, 0)));
    assert_int_equal(egc_read(p, &in), 0);
    snprintf(p, sizeof p, "%s/golden/%s.csv", dir, name);
    assert_int_equal(egc_read(p, &want), 0);
    const double *I = egc_col(&in, "I");
    struct mv_epi_forecast_row rows[64];
    assert_true(H > 0 && H <= 64);
    double shape, scale;
    assert_int_equal(mv_epi_forecast(I ? I : egc_col(&in, "local"),
                                     I ? NULL : egc_col(&in, "imported"),
                                     in.nrow, ms, ss, mp, sp, (size_t)H, rows,
                                     &shape, &scale, NULL),
                     MV_OK);
    if (json_object_object_get_ex(cfg, "posterior_shape", &v) &&
        egc_diff(shape, json_object_get_double(v), 0) > 1e-12)
      bad++;
    if (json_object_object_get_ex(cfg, "posterior_scale", &v) &&
        egc_diff(scale, json_object_get_double(v), 0) > 1e-12)
      bad++;
    assert_int_equal(want.nrow, (size_t)H);
    bad += compare(name, rows, &want, &worst);
    checked++;
    egc_free(&in);
    egc_free(&want);
    json_object_put(j);
  }
  json_object_put(idx);
  printf("forecast goldens: %d checked, worst rel %.3g\n", checked, worst);
  assert_true(checked >= 2);
  assert_int_equal(bad, 0);
}

/* The band of every horizon: ordered, around the mean path, and wider as
 * the horizon grows for a growing epidemic (the paths diverge); at h = 1 it
 * covers the exact NegBin predictive interval. */
static void forecast_band_brackets_the_mean_and_widens(void **state) {
  (void)state;
  double inc[40];
  for (int i = 0; i < 40; i++)
    inc[i] = floor(5.0 * exp(0.05 * i));
  struct mv_epi_forecast_row rows[21];
  struct mv_diag d;
  assert_int_equal(
      mv_epi_forecast(inc, NULL, 40, 2.6, 1.5, 0, 0, 21, rows, NULL, NULL, &d),
      MV_OK);
  double prev_width = -1.0;
  for (int h = 0; h < 21; h++) {
    assert_true(rows[h].band_lo <= rows[h].mean);
    assert_true(rows[h].band_hi >= rows[h].mean);
    assert_true(rows[h].band_lo >= 0.0);
    double width = rows[h].band_hi - rows[h].band_lo;
    assert_true(width >= prev_width - 1.0); /* integer quantiles jitter */
    prev_width = width;
  }
  assert_true(rows[20].band_hi - rows[20].band_lo >
              2.0 * (rows[0].band_hi - rows[0].band_lo));
  assert_true(rows[0].band_lo <= rows[0].q025);
  assert_true(rows[0].band_hi >= rows[0].q975);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(forecast_matches_synthetic_fixture),
      cmocka_unit_test(forecast_rejects_bad_input),
      cmocka_unit_test(forecast_matches_shared_goldens),
      cmocka_unit_test(forecast_band_brackets_the_mean_and_widens),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
