/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The L-BFGS minimiser: an ill-conditioned convex quadratic (known
 * minimiser), the Rosenbrock function (curved valley), and softmax
 * regression through mv_clf_train on a tiny separable problem, which must
 * fit its training data exactly and deterministically.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clf_int.h"

#define NQ 50

/* f = sum_i c_i (x_i - b_i)^2 with c_i from 1 to 10^4 */
static double quad(void *ctx, const double *x, double *g, size_t n) {
  (void)ctx;
  double f = 0;
  for (size_t i = 0; i < n; i++) {
    double c = pow(10.0, 4.0 * (double)i / (double)(n - 1));
    double b = (double)i / 7.0 - 3.0;
    f += c * (x[i] - b) * (x[i] - b);
    g[i] = 2 * c * (x[i] - b);
  }
  return f;
}

static void lbfgs_minimises_ill_conditioned_quadratic(void **st) {
  (void)st;
  double x[NQ] = {0};
  unsigned it = 0;
  double f = -1;
  struct mv__clf_lbfgs_opts o = {.max_iter = 3000, .gtol = 1e-5, .ftol = 1e-30};
  assert_int_equal(mv__clf_lbfgs(quad, NULL, x, NQ, &o, &it, &f), MV_OK);
  for (size_t i = 0; i < NQ; i++)
    assert_true(fabs(x[i] - ((double)i / 7.0 - 3.0)) < 1e-5);
  assert_true(f < 1e-10);
  printf("quadratic: %u iterations\n", it);
  assert_true(it > 1 && it < 3000); /* stopped by gtol, not the cap */
}

static double rosen(void *ctx, const double *x, double *g, size_t n) {
  (void)ctx;
  (void)n;
  double a = 1 - x[0], b = x[1] - x[0] * x[0];
  g[0] = -2 * a - 400 * x[0] * b;
  g[1] = 200 * b;
  return a * a + 100 * b * b;
}

static void lbfgs_follows_the_rosenbrock_valley(void **st) {
  (void)st;
  double x[2] = {-1.2, 1.0};
  struct mv__clf_lbfgs_opts o = {.max_iter = 2000, .gtol = 1e-8, .ftol = 1e-30};
  assert_int_equal(mv__clf_lbfgs(rosen, NULL, x, 2, &o, NULL, NULL), MV_OK);
  assert_true(fabs(x[0] - 1) < 1e-4);
  assert_true(fabs(x[1] - 1) < 1e-4);
}

static void softmax_regression_separates_a_tiny_problem(void **st) {
  (void)st;
  static const char *const texts[] = {
      "fever chills", "fever aches",     "high fever", "chills fever night",
      "rash itchy",   "itchy rash arms", "red rash",   "rash spreading itchy",
      "咳嗽咳痰",     "咳嗽三天",        "干咳咳嗽",   "夜里咳嗽"};
  static const uint32_t y[] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
  static const char *const names[] = {"flu", "eczema", "bronchitis"};
  struct mv_clf_train_opts o = {
      .l2 = 1e-4, .temperature = 1.0, .min_df = 1, .class_weight = 0};
  struct mv_clf_model *m = NULL, *m2 = NULL;
  assert_int_equal(mv_clf_train(texts, y, 12, names, 3, &o, &m, NULL), MV_OK);
  assert_int_equal(mv_clf_train(texts, y, 12, names, 3, &o, &m2, NULL), MV_OK);
  for (size_t i = 0; i < 12; i++) {
    double p[3];
    assert_int_equal(mv_clf_predict(m, texts[i], strlen(texts[i]), 0, p, 3),
                     MV_OK);
    assert_true(fabs(p[0] + p[1] + p[2] - 1) < 1e-9);
    assert_true(p[y[i]] > 0.5);
  }
  /* deterministic: the same bytes twice */
  uint8_t *a = NULL, *b = NULL;
  size_t la = 0, lb = 0;
  assert_int_equal(mv_clf_model_serialize(m, &a, &la), MV_OK);
  assert_int_equal(mv_clf_model_serialize(m2, &b, &lb), MV_OK);
  assert_int_equal(la, lb);
  assert_memory_equal(a, b, la);
  free(a);
  free(b);
  mv_clf_model_free(m);
  mv_clf_model_free(m2);
}

static void train_rejects_bad_arguments(void **st) {
  (void)st;
  static const char *const texts[] = {"a b", "c d"};
  static const uint32_t y[] = {0, 5};
  static const char *const names[] = {"x", "y"};
  struct mv_clf_model *m = NULL;
  assert_int_equal(mv_clf_train(texts, y, 2, names, 2, NULL, &m, NULL),
                   MV_EINVAL);
  assert_int_equal(mv_clf_train(texts, y, 1, names, 2, NULL, &m, NULL),
                   MV_EINVAL);
  assert_null(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lbfgs_minimises_ill_conditioned_quadratic),
      cmocka_unit_test(lbfgs_follows_the_rosenbrock_valley),
      cmocka_unit_test(softmax_regression_separates_a_tiny_problem),
      cmocka_unit_test(train_rejects_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
