/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Poisson/quasi-Poisson IRLS of src/epi/glm.c against R 4.2.2's glm():
 * coefficients, iteration count, deviance, dispersion, hat values, the
 * unscaled covariance and predict(se.fit = TRUE); aliased columns pivoted
 * to the end exactly as dqrdc2 does; prior weights and offsets; the slow
 * all-zero fit that needs 22 of the 25 iterations. Expected numbers were
 * printed by R with 17 significant digits (tests/data/epi/detect/README.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "detect_int.h"

static const double Y[10] = {2, 0, 5, 3, 8, 4, 9, 12, 7, 15};

static void near(double got, double want, double rel) {
  if (!(fabs(got - want) <= rel * fmax(fabs(want), 1e-300))) {
    print_error("got %.17g want %.17g\n", got, want);
    fail();
  }
}

static void design_x(double *x, int extra) {
  for (int i = 0; i < 10; i++) {
    x[i] = 1;
    x[10 + i] = i + 1;
    if (extra)
      x[20 + i] = 2.0 * (i + 1);
  }
}

static void glm_matches_r_quasipoisson(void **state) {
  (void)state;
  double x[20];
  design_x(x, 0);
  struct mv_epi_glm_in in = {.x = x, .y = Y, .n = 10, .p = 2};
  struct mv_epi_glm g;
  assert_int_equal(mv__epi_glm_fit(&in, true, &g), MV_OK);
  assert_true(g.converged);
  assert_int_equal(g.iter, 5);
  assert_int_equal(g.rank, 2);
  near(g.coef[0], 0.5006872784992743, 1e-12);
  near(g.coef[1], 0.2156787429104986, 1e-12);
  near(g.deviance, 11.821534129561236, 1e-12);
  /* summary()$dispersion: sum(W r^2) / df */
  double s = 0;
  for (int i = 0; i < 10; i++)
    s += g.weights[i] * g.residuals[i] * g.residuals[i];
  near(s / g.df_residual, 1.1846728534601583, 1e-12);
  const double hat[10] = {0.21166469392734294, 0.19586525465137838,
                          0.1748438022033065,  0.15052750717953628,
                          0.12692249668226516, 0.11120729518839079,
                          0.11528137402198628, 0.15793638522411829,
                          0.26787480841689271, 0.48787638250478294};
  for (int i = 0; i < 10; i++)
    near(g.hat[i], hat[i], 1e-11);
  near(mv__epi_glm_cov_unscaled(&g, 0), 0.1343336807093122, 1e-11);
  near(mv__epi_glm_cov_unscaled(&g, 1), 0.0023242446752335553, 1e-11);
  double x0[2] = {1, 11};
  near(mv__epi_glm_predict(&g, x0), 2.8731534505147591, 1e-12);
  double disp = s / g.df_residual;
  near(sqrt(mv__epi_glm_xvx(&g, x0, disp)), 0.24281172748558069, 1e-11);
  mv__epi_glm_release(&g);
}

static void glm_aliased_column_goes_last(void **state) {
  (void)state;
  double x[30];
  design_x(x, 1); /* third column = 2 * second */
  struct mv_epi_glm_in in = {.x = x, .y = Y, .n = 10, .p = 3};
  struct mv_epi_glm g;
  assert_int_equal(mv__epi_glm_fit(&in, false, &g), MV_OK);
  assert_true(g.converged);
  assert_int_equal(g.rank, 2);
  assert_int_equal(g.pivot[2], 2);
  near(g.coef[0], 0.5006872784992743, 1e-12);
  near(g.coef[1], 0.2156787429104986, 1e-12);
  assert_true(isnan(g.coef[2]));
  assert_true(isnan(mv__epi_glm_cov_unscaled(&g, 2)));
  mv__epi_glm_release(&g);

  /* A duplicate of the intercept in second place: R's pivot is 1 3 2. */
  double xz[30];
  for (int i = 0; i < 10; i++) {
    xz[i] = 1;
    xz[10 + i] = 1;
    xz[20 + i] = i + 1;
  }
  in.x = xz;
  assert_int_equal(mv__epi_glm_fit(&in, false, &g), MV_OK);
  assert_int_equal(g.rank, 2);
  assert_int_equal(g.pivot[0], 0);
  assert_int_equal(g.pivot[1], 2);
  assert_int_equal(g.pivot[2], 1);
  near(g.coef[0], 0.5006872784992743, 1e-12);
  near(g.coef[2], 0.2156787429104986, 1e-12);
  assert_true(isnan(g.coef[1]));
  mv__epi_glm_release(&g);
}

static void glm_prior_weights_and_offset(void **state) {
  (void)state;
  const double w[10] = {1, 0.5, 2, 1, 1, 3, 0.2, 1, 1, 0.7};
  const double pop[10] = {10, 12, 11, 15, 14, 13, 20, 22, 21, 25};
  double off[10], x[20];
  for (int i = 0; i < 10; i++)
    off[i] = log(pop[i]);
  design_x(x, 0);
  struct mv_epi_glm_in in = {
      .x = x, .y = Y, .pw = w, .offset = off, .n = 10, .p = 2};
  struct mv_epi_glm g;
  assert_int_equal(mv__epi_glm_fit(&in, false, &g), MV_OK);
  assert_true(g.converged);
  assert_int_equal(g.iter, 4);
  near(g.coef[0], -1.4463021333710993, 1e-12);
  near(g.coef[1], 0.080204317042131254, 1e-11);
  const double ww[10] = {2.5511679445943947, 1.6585133339605593,
                         6.5889932953793799, 4.8676160181129235,
                         4.922455015094978,  14.857542971292796,
                         1.65109114043191,   9.8392592615341012,
                         10.176248081775043, 9.1882987517081585};
  double s = 0;
  for (int i = 0; i < 10; i++) {
    near(g.weights[i], ww[i], 1e-11);
    s += g.weights[i] * g.residuals[i] * g.residuals[i];
  }
  near(s / g.df_residual, 1.050100327317004, 1e-11);
  mv__epi_glm_release(&g);
}

static void glm_all_zero_response_converges_slowly(void **state) {
  (void)state;
  double x[16], y[8] = {0};
  for (int i = 0; i < 8; i++) {
    x[i] = 1;
    x[8 + i] = i + 1;
  }
  struct mv_epi_glm_in in = {.x = x, .y = y, .n = 8, .p = 2};
  struct mv_epi_glm g;
  assert_int_equal(mv__epi_glm_fit(&in, false, &g), MV_OK);
  assert_true(g.converged);
  assert_int_equal(g.iter, 22);
  near(g.coef[0], -24.302585092994029, 1e-9);
  assert_true(fabs(g.coef[1]) < 1e-12);
  mv__epi_glm_release(&g);
}

static void glm_rejects_bad_input(void **state) {
  (void)state;
  double x[2] = {1, 1}, y[2] = {-1, 2};
  struct mv_epi_glm_in in = {.x = x, .y = y, .n = 2, .p = 1};
  struct mv_epi_glm g;
  assert_int_equal(mv__epi_glm_fit(&in, false, &g), MV_EINVAL);
  in.p = MV_EPI_GLM_MAXP + 1;
  assert_int_equal(mv__epi_glm_fit(&in, false, &g), MV_EINVAL);
  in.p = 1;
  in.n = 0;
  assert_int_equal(mv__epi_glm_fit(&in, false, &g), MV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(glm_matches_r_quasipoisson),
      cmocka_unit_test(glm_aliased_column_goes_last),
      cmocka_unit_test(glm_prior_weights_and_offset),
      cmocka_unit_test(glm_all_zero_response_converges_slowly),
      cmocka_unit_test(glm_rejects_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
