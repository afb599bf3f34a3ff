/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rt (src/epi/rt.c) against EpiEstim 2.2-4: our own synthetic fixtures in
 * tests/data/epi (always run) and every deterministic estimate_R golden of
 * the shared surveillance data, with its __lambda and __si_distr sidecars,
 * and the discr_si table (skipped with a message when the shared data is
 * absent). Numbers must agree to 1e-9 relative; NA must stay NA.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "epi_golden.h"
#include "mv_epi.h"

#define REL_TOL 1e-9

static const char *const rt_cols[] = {
    "Mean_R",           "Std_R",      "Quantile_0.025_R", "Quantile_0.05_R",
    "Quantile_0.25_R",  "Median_R",   "Quantile_0.75_R",  "Quantile_0.95_R",
    "Quantile_0.975_R", "shape_post", "scale_post"};

static double row_value(const struct mv_epi_rt_row *r, size_t c) {
  switch (c) {
  case 0:
    return r->mean;
  case 1:
    return r->sd;
  case 9:
    return r->shape;
  case 10:
    return r->scale;
  default:
    return r->q[c - 2];
  }
}

/* Compares a result with an expected table; returns the number of values
 * off by more than tol and prints the first few. */
static int compare_rows(const char *name, const struct mv_epi_rt_result *res,
                        const struct egc_table *want, double *worst) {
  int bad = 0;
  const double *ts = egc_col(want, "t_start"), *te = egc_col(want, "t_end");
  assert_non_null(ts);
  assert_non_null(te);
  if (res->n_rows != want->nrow) {
    printf("%s: %zu rows, want %zu\n", name, res->n_rows, want->nrow);
    return 1;
  }
  for (size_t i = 0; i < want->nrow; i++) {
    if ((double)res->rows[i].t_start != ts[i] ||
        (double)res->rows[i].t_end != te[i])
      bad++;
    for (size_t c = 0; c < MV_ARRAY_LEN(rt_cols); c++) {
      const double *w = egc_col(want, rt_cols[c]);
      assert_non_null(w);
      double d = egc_diff(row_value(&res->rows[i], c), w[i], 0.0);
      if (d > *worst && isfinite(d))
        *worst = d;
      if (!(d <= REL_TOL)) {
        if (bad++ < 5)
          printf("%s row %zu %s: got %.17g want %.17g\n", name, i + 1,
                 rt_cols[c], row_value(&res->rows[i], c), w[i]);
      }
    }
  }
  return bad;
}

static int fixture_path(char *buf, size_t len, const char *file) {
  const char *src = getenv("MV_SOURCE_DIR");
  snprintf(buf, len, "%s/tests/data/epi/%s", src ? src : ".", file);
  return 0;
}

static void rt_parametric_local_imported_matches_fixture(void **state) {
  (void)state;
  char p[1024];
  struct egc_table in, want;
  fixture_path(p, sizeof p, "synth_incidence_li.csv");
  assert_int_equal(egc_read(p, &in), 0);
  fixture_path(p, sizeof p, "synth_rt_parametric_li.csv");
  assert_int_equal(egc_read(p, &want), 0);
  struct mv_epi_rt_opts o = {.si_mean = 4.8, .si_sd = 2.3};
  struct mv_epi_rt_result res;
  struct mv_diag d;
  assert_int_equal(mv_epi_rt_estimate(egc_col(&in, "local"),
                                      egc_col(&in, "imported"), in.nrow, &o,
                                      NULL, &res, &d),
                   MV_OK);
  double worst = 0.0;
  assert_int_equal(compare_rows("synth parametric", &res, &want, &worst), 0);
  printf("synthetic parametric: worst rel %.3g\n", worst);
  mv_epi_rt_release(&res);
  egc_free(&in);
  egc_free(&want);
}

static void rt_nonparametric_windows_prior_and_na_match_fixture(void **state) {
  (void)state;
  char p[1024];
  struct egc_table in, want, si;
  fixture_path(p, sizeof p, "synth_incidence_I.csv");
  assert_int_equal(egc_read(p, &in), 0);
  fixture_path(p, sizeof p, "synth_rt_nonparam_I.csv");
  assert_int_equal(egc_read(p, &want), 0);
  fixture_path(p, sizeof p, "synth_si.csv");
  assert_int_equal(egc_read(p, &si), 0);
  int64_t ts[64], te[64];
  for (size_t i = 0; i < want.nrow; i++) {
    ts[i] = (int64_t)egc_col(&want, "t_start")[i];
    te[i] = (int64_t)egc_col(&want, "t_end")[i];
  }
  struct mv_epi_rt_opts o = {.si_distr = egc_col(&si, "p"),
                             .si_len = si.nrow,
                             .mean_prior = 2,
                             .std_prior = 3,
                             .t_start = ts,
                             .t_end = te,
                             .n_windows = want.nrow};
  struct mv_epi_rt_result res;
  struct mv_epi_qcache *qc;
  assert_int_equal(mv_epi_qcache_new(&qc), MV_OK);
  assert_int_equal(
      mv_epi_rt_estimate(egc_col(&in, "I"), NULL, in.nrow, &o, qc, &res, NULL),
      MV_OK);
  double worst = 0.0;
  assert_true(isnan(res.rows[0].mean));
  assert_int_equal(compare_rows("synth nonparam", &res, &want, &worst), 0);
  mv_epi_rt_release(&res);
  mv_epi_qcache_free(qc);
  egc_free(&in);
  egc_free(&want);
  egc_free(&si);
}

static void rt_rejects_bad_input(void **state) {
  (void)state;
  double inc[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  struct mv_epi_rt_result res;
  struct mv_diag d;
  struct mv_epi_rt_opts o = {.si_mean = 1.0, .si_sd = 2.0};
  assert_int_equal(mv_epi_rt_estimate(inc, NULL, 10, &o, NULL, &res, &d),
                   MV_EINVAL);
  o.si_mean = 3;
  o.si_sd = 0;
  assert_int_equal(mv_epi_rt_estimate(inc, NULL, 10, &o, NULL, &res, &d),
                   MV_EINVAL);
  o.si_sd = 1;
  inc[4] = -1;
  assert_int_equal(mv_epi_rt_estimate(inc, NULL, 10, &o, NULL, &res, &d),
                   MV_EINVAL);
  assert_int_equal(d.line, 5);
  inc[4] = 5;
  double si_bad[4] = {0, 0.5, 0.3, 0.1}; /* sums to 0.9 */
  struct mv_epi_rt_opts o2 = {.si_distr = si_bad, .si_len = 4};
  assert_int_equal(mv_epi_rt_estimate(inc, NULL, 10, &o2, NULL, &res, &d),
                   MV_EINVAL);
  double si_w0[3] = {0.2, 0.5, 0.3};
  o2.si_distr = si_w0;
  o2.si_len = 3;
  assert_int_equal(mv_epi_rt_estimate(inc, NULL, 10, &o2, NULL, &res, &d),
                   MV_EINVAL);
  int64_t s = 1, e = 5;
  struct mv_epi_rt_opts o3 = {
      .si_mean = 3, .si_sd = 1, .t_start = &s, .t_end = &e, .n_windows = 1};
  assert_int_equal(mv_epi_rt_estimate(inc, NULL, 10, &o3, NULL, &res, &d),
                   MV_EINVAL);
  s = 6;
  e = 11;
  assert_int_equal(mv_epi_rt_estimate(inc, NULL, 10, &o3, NULL, &res, &d),
                   MV_EINVAL);
  struct mv_epi_rt_opts o4 = {.si_mean = 3, .si_sd = 1, .window = 10};
  assert_int_equal(mv_epi_rt_estimate(inc, NULL, 10, &o4, NULL, &res, &d),
                   MV_EINVAL);
  assert_null(res.rows);
}

static uint64_t rng_state;
static double rnd(void) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* Random and extreme inputs: an error code from the documented set, or a
 * well-formed table (NA rows, or positive finite means with increasing
 * quantiles); never a crash (ASan/UBSan run this). */
static void rt_survives_random_and_extreme_input(void **state) {
  (void)state;
  static double inc[400], imp[400];
  int ok = 0;
  for (int trial = 0; trial < 400; trial++) {
    rng_state = (uint64_t)trial + 99;
    size_t T = 2 + (size_t)(rnd() * 300);
    double scale = rnd() < 0.1 ? 1e9 : (rnd() < 0.5 ? 5.0 : 200.0);
    for (size_t t = 0; t < T; t++) {
      inc[t] = floor(rnd() * scale);
      imp[t] = rnd() < 0.9 ? 0.0 : floor(rnd() * 5);
      if (rnd() < 0.02)
        inc[t] = NAN;
    }
    if (rnd() < 0.05)
      inc[(size_t)(rnd() * (double)T)] = -1.0;
    if (rnd() < 0.03)
      inc[(size_t)(rnd() * (double)T)] = INFINITY;
    struct mv_epi_rt_opts o = {.si_mean =
                                   rnd() < 0.05 ? 1.0 : 1.0 + rnd() * 40.0,
                               .si_sd = rnd() < 0.05 ? 1e-4 : rnd() * 20.0,
                               .window = (size_t)(rnd() * (double)T),
                               .mean_prior = rnd() < 0.5 ? 0.0 : rnd() * 10.0,
                               .std_prior = rnd() < 0.5 ? 0.0 : rnd() * 10.0};
    struct mv_epi_rt_result res;
    int rc = mv_epi_rt_estimate(inc, rnd() < 0.5 ? imp : NULL, T, &o, NULL,
                                &res, NULL);
    if (rc != MV_OK) {
      assert_true(rc == MV_EINVAL || rc == MV_ERANGE || rc == MV_ETOOBIG);
      assert_null(res.rows);
      continue;
    }
    ok++;
    for (size_t i = 0; i < res.n_rows; i++) {
      const struct mv_epi_rt_row *r = &res.rows[i];
      if (isnan(r->mean))
        continue;
      assert_true(r->mean > 0.0 && isfinite(r->mean));
      assert_true(r->shape > 0.0 && r->scale > 0.0);
      for (int k = 0; k + 1 < MV_EPI_RT_NQ; k++)
        assert_true(r->q[k] <= r->q[k + 1]);
    }
    mv_epi_rt_release(&res);
  }
  printf("%d of 400 random runs accepted\n", ok);
  assert_true(ok > 100);
}

/* ---- shared goldens ---------------------------------------------------- */

static void read_json(const char *path, struct json_object **out) {
  *out = json_object_from_file(path);
}

static const double *int_list(struct json_object *cfg, const char *key,
                              int64_t *buf, size_t cap, size_t *n) {
  struct json_object *a;
  *n = 0;
  if (!json_object_object_get_ex(cfg, key, &a) ||
      !json_object_is_type(a, json_type_array))
    return NULL;
  size_t len = json_object_array_length(a);
  for (size_t i = 0; i < len && i < cap; i++)
    buf[(*n)++] = json_object_get_int64(json_object_array_get_idx(a, i));
  return (const double *)buf;
}

static double cfg_num(struct json_object *cfg, const char *key) {
  struct json_object *v;
  if (!json_object_object_get_ex(cfg, key, &v) || !v)
    return 0.0;
  return json_object_get_double(v);
}

static int check_golden(const char *dir, const char *name, int *checked,
                        double *worst) {
  char p[1200];
  struct json_object *j = NULL, *cfg, *v, *inputs;
  int bad = 0;
  snprintf(p, sizeof p, "%s/golden/%s.json", dir, name);
  read_json(p, &j);
  if (!j)
    return 1;
  const char *method = "";
  if (json_object_object_get_ex(j, "method", &v))
    method = json_object_get_string(v);
  bool stochastic = json_object_object_get_ex(j, "stochastic", &v) &&
                    json_object_get_boolean(v);
  bool param = strcmp(method, "parametric_si") == 0;
  if (stochastic || (!param && strcmp(method, "non_parametric_si") != 0)) {
    json_object_put(j);
    return 0;
  }
  json_object_object_get_ex(j, "config", &cfg);
  json_object_object_get_ex(j, "input", &inputs);
  struct egc_table in, want, si = {0};
  snprintf(p, sizeof p, "%s/%s", dir,
           json_object_get_string(json_object_array_get_idx(inputs, 0)));
  assert_int_equal(egc_read(p, &in), 0);
  snprintf(p, sizeof p, "%s/golden/%s.csv", dir, name);
  assert_int_equal(egc_read(p, &want), 0);
  static int64_t ts[4096], te[4096];
  size_t nts, nte;
  int_list(cfg, "t_start", ts, 4096, &nts);
  int_list(cfg, "t_end", te, 4096, &nte);
  assert_int_equal(nts, nte);
  struct mv_epi_rt_opts o = {.mean_prior = cfg_num(cfg, "mean_prior"),
                             .std_prior = cfg_num(cfg, "std_prior"),
                             .t_start = ts,
                             .t_end = te,
                             .n_windows = nts};
  if (param) {
    o.si_mean = cfg_num(cfg, "mean_si");
    o.si_sd = cfg_num(cfg, "std_si");
  } else {
    snprintf(p, sizeof p, "%s/%s", dir,
             json_object_get_string(json_object_array_get_idx(inputs, 1)));
    assert_int_equal(egc_read(p, &si), 0);
    o.si_distr = egc_col(&si, "p");
    o.si_len = si.nrow;
  }
  const double *I = egc_col(&in, "I");
  const double *loc = I ? I : egc_col(&in, "local");
  const double *imp = I ? NULL : egc_col(&in, "imported");
  struct mv_epi_rt_result res;
  struct mv_diag d;
  int rc = mv_epi_rt_estimate(loc, imp, in.nrow, &o, NULL, &res, &d);
  if (rc != MV_OK) {
    printf("%s: error %s\n", name, d.msg);
    bad++;
    goto out;
  }
  bad += compare_rows(name, &res, &want, worst);
  (*checked)++;
  /* sidecars */
  struct egc_table side;
  snprintf(p, sizeof p, "%s/golden/%s__lambda.csv", dir, name);
  if (egc_read(p, &side) == 0) {
    const double *L = egc_col(&side, "Lambda"), *sl = egc_col(&side, "local"),
                 *si2 = egc_col(&side, "imported");
    assert_int_equal(side.nrow, res.T);
    for (size_t t = 0; t < side.nrow; t++) {
      double dl = egc_diff(res.lambda[t], L[t], 0.0);
      if (isfinite(dl) && dl > *worst)
        *worst = dl;
      if (!(dl <= REL_TOL) || res.local[t] != sl[t] ||
          res.imported[t] != si2[t]) {
        if (bad++ < 5)
          printf("%s lambda t=%zu: got %.17g want %.17g\n", name, t + 1,
                 res.lambda[t], L[t]);
      }
    }
    egc_free(&side);
    (*checked)++;
  }
  snprintf(p, sizeof p, "%s/golden/%s__si_distr.csv", dir, name);
  if (egc_read(p, &side) == 0) {
    const double *w = egc_col(&side, "p");
    assert_int_equal(side.nrow, res.si_len);
    for (size_t k = 0; k < side.nrow; k++) {
      double dl = egc_diff(res.si[k], w[k], 0.0);
      if (!(dl <= REL_TOL) && fabs(res.si[k] - w[k]) > 1e-15) {
        if (bad++ < 5)
          printf("%s si k=%zu: got %.17g want %.17g\n", name, k, res.si[k],
                 w[k]);
      }
    }
    egc_free(&side);
    (*checked)++;
  }
  mv_epi_rt_release(&res);
out:
  egc_free(&in);
  egc_free(&want);
  egc_free(&si);
  json_object_put(j);
  return bad;
}

static void rt_matches_every_deterministic_epiestim_golden(void **state) {
  (void)state;
  char dirbuf[1024];
  const char *dir = egc_dir(dirbuf, sizeof dirbuf);
  if (!dir) {
    printf("SKIP: shared surveillance data absent (MV_SHARED_DATA)\n");
    skip();
  }
  char p[1200];
  snprintf(p, sizeof p, "%s/golden/index.json", dir);
  struct json_object *idx = json_object_from_file(p), *gl;
  assert_non_null(idx);
  assert_true(json_object_object_get_ex(idx, "goldens", &gl));
  int bad = 0, checked = 0;
  double worst = 0.0;
  for (size_t i = 0; i < json_object_array_length(gl); i++) {
    struct json_object *g = json_object_array_get_idx(gl, i), *k, *n;
    if (!json_object_object_get_ex(g, "kind", &k) ||
        strcmp(json_object_get_string(k), "epiestim_estimate_R") != 0)
      continue;
    json_object_object_get_ex(g, "name", &n);
    bad += check_golden(dir, json_object_get_string(n), &checked, &worst);
  }
  json_object_put(idx);
  printf("epiestim goldens: %d files checked, worst relative error %.3g\n",
         checked, worst);
  assert_true(checked >= 10);
  assert_int_equal(bad, 0);
}

static void discr_si_matches_golden_table(void **state) {
  (void)state;
  char dirbuf[1024], p[1200];
  const char *dir = egc_dir(dirbuf, sizeof dirbuf);
  if (!dir) {
    printf("SKIP: shared surveillance data absent (MV_SHARED_DATA)\n");
    skip();
  }
  snprintf(p, sizeof p, "%s/golden/epiestim__discr_si_table.csv", dir);
  struct egc_table t;
  assert_int_equal(egc_read(p, &t), 0);
  const double *mu = egc_col(&t, "mu"), *sg = egc_col(&t, "sigma"),
               *k = egc_col(&t, "k"), *want = egc_col(&t, "p");
  int bad = 0, tiny = 0;
  double worst = 0.0, worst_abs = 0.0;
  for (size_t i = 0; i < t.nrow; i++) {
    size_t n = (size_t)k[i] + 1;
    double w[512];
    assert_true(n <= 512);
    assert_int_equal(mv_epi_discr_si(mu[i], sg[i], n, w, NULL), MV_OK);
    double got = w[n - 1];
    double rel = egc_diff(got, want[i], 0.0);
    double ab = fabs(got - want[i]);
    if (ab > worst_abs)
      worst_abs = ab;
    /* Values within 1e-15 of zero are pgamma rounding noise in both
     * implementations (k F(k) terms of size k cancelling). */
    if (fabs(want[i]) < 1e-15 && ab <= 1e-15) {
      tiny++;
      continue;
    }
    if (rel > worst)
      worst = rel;
    if (!(rel <= REL_TOL)) {
      if (bad++ < 10)
        printf("discr_si(%g; %g, %g): got %.17g want %.17g rel %.3g\n", k[i],
               mu[i], sg[i], got, want[i], rel);
    }
  }
  printf("discr_si: %zu values, worst rel %.3g, worst abs %.3g, %d below "
         "1e-15 compared absolutely\n",
         t.nrow, worst, worst_abs, tiny);
  egc_free(&t);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rt_parametric_local_imported_matches_fixture),
      cmocka_unit_test(rt_nonparametric_windows_prior_and_na_match_fixture),
      cmocka_unit_test(rt_rejects_bad_input),
      cmocka_unit_test(rt_survives_random_and_extreme_input),
      cmocka_unit_test(rt_matches_every_deterministic_epiestim_golden),
      cmocka_unit_test(discr_si_matches_golden_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
