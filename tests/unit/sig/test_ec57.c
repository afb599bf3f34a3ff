/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the EC57 / bxb beat-by-beat comparison, on hand-made lists. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "mv_sig_wfdb.h"

#define MAXA 64

/* Build annotations from sample times, all of one type. */
static size_t mk(struct mv_sig_ann *a, const int64_t *t, size_t n,
                 uint8_t type) {
  memset(a, 0, n * sizeof(*a));
  for (size_t i = 0; i < n; i++) {
    a[i].sample = t[i];
    a[i].type = type;
  }
  return n;
}

static struct mv_sig_ec57_result cmp1000(const int64_t *r, size_t nr,
                                         const int64_t *t, size_t nt,
                                         double start_s, double window_s) {
  struct mv_sig_ann ra[MAXA], ta[MAXA];
  mk(ra, r, nr, MV_SIG_ANN_NORMAL);
  mk(ta, t, nt, MV_SIG_ANN_NORMAL);
  struct mv_sig_ec57_opts o;
  mv_sig_ec57_opts_default(&o, 1000.0);
  o.start_s = start_s;
  o.window_s = window_s;
  struct mv_sig_ec57_result res;
  assert_int_equal(mv_sig_ec57_compare(ra, nr, ta, nt, &o, &res), MV_OK);
  return res;
}

static void ec57_window_is_150_ms_inclusive(void **state) {
  (void)state;
  /* fs 1000 Hz: 150 samples match, 151 do not (either side). */
  int64_t ref[] = {400000, 401000, 402000, 403000};
  int64_t test[] = {400150, 401151, 401850, 402849};
  struct mv_sig_ec57_result r = cmp1000(ref, 4, test, 4, 300.0, 0.150);
  assert_int_equal(r.tp, 2); /* 400150 (+150) and 401850 (-150) */
  assert_int_equal(r.fn, 2); /* 401000 (+151) and 403000 (-151) */
  assert_int_equal(r.fp, 2);
  assert_true(fabs(r.se_pct - 50.0) < 1e-9);
  assert_true(fabs(r.ppv_pct - 50.0) < 1e-9);
  assert_true(fabs(r.der_pct - 100.0) < 1e-9);
}

static void ec57_starts_five_minutes_in(void **state) {
  (void)state;
  /* Beats before 300 s are not scored; the one at exactly 300 s is. */
  int64_t ref[] = {1000, 299999, 300000, 301000};
  int64_t test[] = {5000, 299999, 300000};
  struct mv_sig_ec57_result r = cmp1000(ref, 4, test, 3, 300.0, 0.150);
  assert_int_equal(r.tp, 1);
  assert_int_equal(r.fn, 1); /* 301000 */
  assert_int_equal(r.fp, 0); /* 5000 is in the learning period */
}

static void ec57_test_beat_before_start_may_match_first_ref(void **state) {
  (void)state;
  int64_t ref[] = {300050, 301000};
  int64_t test[] = {299950, 301000};
  struct mv_sig_ec57_result r = cmp1000(ref, 2, test, 2, 300.0, 0.150);
  assert_int_equal(r.tp, 2);
  assert_int_equal(r.fn, 0);
  assert_int_equal(r.fp, 0);
}

static void ec57_test_beat_after_start_matching_unscored_ref(void **state) {
  (void)state;
  /* The reference beat at 299990 is unscored; the test beat at 300010 is
   * its detection, not a false positive (bxb's start rule). */
  int64_t ref[] = {299990, 301000};
  int64_t test[] = {300010, 301000};
  struct mv_sig_ec57_result r = cmp1000(ref, 2, test, 2, 300.0, 0.150);
  assert_int_equal(r.tp, 1);
  assert_int_equal(r.fn, 0);
  assert_int_equal(r.fp, 0);
}

static void ec57_each_beat_is_used_once(void **state) {
  (void)state;
  int64_t ref[] = {1000, 2000};
  int64_t test[] = {990, 1010, 2000};
  struct mv_sig_ec57_result r = cmp1000(ref, 2, test, 3, 0.0, 0.150);
  assert_int_equal(r.tp, 2);
  assert_int_equal(r.fp, 1);
  assert_int_equal(r.fn, 0);
  /* Two reference beats near one test beat: one is missed. */
  int64_t ref2[] = {1000, 1040, 3000};
  int64_t test2[] = {1030, 3000};
  r = cmp1000(ref2, 3, test2, 2, 0.0, 0.150);
  assert_int_equal(r.tp, 2);
  assert_int_equal(r.fn, 1);
  assert_int_equal(r.fp, 0);
}

static void ec57_prefers_the_better_next_pairing(void **state) {
  (void)state;
  /* The example of the bxb 2002 revision: window 37, ref 96 160, test 128
   * 185. Both reference beats are matched. */
  int64_t ref[] = {96, 160};
  int64_t test[] = {128, 185};
  struct mv_sig_ec57_result r = cmp1000(ref, 2, test, 2, 0.0, 0.037);
  assert_int_equal(r.tp, 2);
  assert_int_equal(r.fn, 0);
  assert_int_equal(r.fp, 0);
}

static void ec57_counts_beats_only_labels_need_not_agree(void **state) {
  (void)state;
  struct mv_sig_ann ref[4] = {
      {.sample = 400000, .type = MV_SIG_ANN_RHYTHM},
      {.sample = 400000, .type = MV_SIG_ANN_NORMAL},
      {.sample = 401000, .type = MV_SIG_ANN_NOISE},
      {.sample = 402000, .type = MV_SIG_ANN_PACE},
  };
  struct mv_sig_ann test[3] = {
      {.sample = 400010, .type = MV_SIG_ANN_PVC},
      {.sample = 401000, .type = MV_SIG_ANN_NOTE}, /* not a beat */
      {.sample = 402000, .type = MV_SIG_ANN_NORMAL},
  };
  struct mv_sig_ec57_opts o;
  mv_sig_ec57_opts_default(&o, 1000.0);
  struct mv_sig_ec57_result r;
  assert_int_equal(mv_sig_ec57_compare(ref, 4, test, 3, &o, &r), MV_OK);
  assert_int_equal(r.tp, 2);
  assert_int_equal(r.fn, 0);
  assert_int_equal(r.fp, 0);
}

static void ec57_skips_reference_vf_episodes(void **state) {
  (void)state;
  struct mv_sig_ann ref[6] = {
      {.sample = 400000, .type = MV_SIG_ANN_NORMAL},
      {.sample = 401000, .type = MV_SIG_ANN_VFON},
      {.sample = 402000, .type = MV_SIG_ANN_NORMAL}, /* inside VF: skipped */
      {.sample = 403000, .type = MV_SIG_ANN_VFOFF},
      {.sample = 404000, .type = MV_SIG_ANN_NORMAL},
      {.sample = 405000, .type = MV_SIG_ANN_NORMAL},
  };
  struct mv_sig_ann test[4] = {
      {.sample = 400000, .type = MV_SIG_ANN_NORMAL},
      {.sample = 401500, .type = MV_SIG_ANN_NORMAL}, /* in VF: not an FP */
      {.sample = 404000, .type = MV_SIG_ANN_NORMAL},
      {.sample = 404500, .type = MV_SIG_ANN_NORMAL}, /* a real FP */
  };
  struct mv_sig_ec57_opts o;
  mv_sig_ec57_opts_default(&o, 1000.0);
  struct mv_sig_ec57_result r;
  assert_int_equal(mv_sig_ec57_compare(ref, 6, test, 4, &o, &r), MV_OK);
  assert_int_equal(r.tp, 2);
  assert_int_equal(r.fn, 1); /* 405000 */
  assert_int_equal(r.fp, 1);
}

static void ec57_end_sample_bounds_the_comparison(void **state) {
  (void)state;
  int64_t ref[] = {400000, 500000, 600000};
  int64_t test[] = {400000, 550000, 650000};
  struct mv_sig_ann ra[3], ta[3];
  mk(ra, ref, 3, MV_SIG_ANN_NORMAL);
  mk(ta, test, 3, MV_SIG_ANN_NORMAL);
  struct mv_sig_ec57_opts o;
  mv_sig_ec57_opts_default(&o, 1000.0);
  o.end_sample = 560000;
  struct mv_sig_ec57_result r;
  assert_int_equal(mv_sig_ec57_compare(ra, 3, ta, 3, &o, &r), MV_OK);
  assert_int_equal(r.tp, 1);
  assert_int_equal(r.fn, 1); /* 500000; 600000 is after the end */
  assert_int_equal(r.fp, 1); /* 550000; 650000 is after the end */
  /* Without an end: up to the last reference beat. */
  o.end_sample = -1;
  assert_int_equal(mv_sig_ec57_compare(ra, 3, ta, 3, &o, &r), MV_OK);
  assert_int_equal(r.tp, 1);
  assert_int_equal(r.fn, 2);
  assert_int_equal(r.fp, 1);
}

static void ec57_gross_pools_counts(void **state) {
  (void)state;
  struct mv_sig_ec57_result g = {0};
  struct mv_sig_ec57_result a = {.tp = 990, .fn = 10, .fp = 5};
  struct mv_sig_ec57_result b = {.tp = 1990, .fn = 10, .fp = 15};
  mv_sig_ec57_add(&g, &a);
  mv_sig_ec57_add(&g, &b);
  assert_int_equal(g.tp, 2980);
  assert_int_equal(g.fn, 20);
  assert_int_equal(g.fp, 20);
  assert_true(fabs(g.se_pct - 100.0 * 2980 / 3000) < 1e-9);
  assert_true(fabs(g.ppv_pct - 100.0 * 2980 / 3000) < 1e-9);
  assert_true(fabs(g.der_pct - 100.0 * 40 / 3000) < 1e-9);
}

static void ec57_rejects_bad_input(void **state) {
  (void)state;
  struct mv_sig_ann a[2] = {{.sample = 5, .type = 1}, {.sample = 3, .type = 1}};
  struct mv_sig_ec57_opts o;
  mv_sig_ec57_opts_default(&o, 360.0);
  struct mv_sig_ec57_result r;
  assert_int_equal(mv_sig_ec57_compare(a, 2, a, 1, &o, &r), MV_EINVAL);
  o.fs = 0;
  assert_int_equal(mv_sig_ec57_compare(a, 1, a, 1, &o, &r), MV_EINVAL);
  o.fs = NAN;
  assert_int_equal(mv_sig_ec57_compare(a, 1, a, 1, &o, &r), MV_EINVAL);
  /* Nothing to score: percentages are NaN, not 0 or 100. */
  mv_sig_ec57_opts_default(&o, 360.0);
  assert_int_equal(mv_sig_ec57_compare(NULL, 0, NULL, 0, &o, &r), MV_OK);
  assert_int_equal(r.tp + r.fn + r.fp, 0);
  assert_true(isnan(r.se_pct) && isnan(r.ppv_pct));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ec57_window_is_150_ms_inclusive),
      cmocka_unit_test(ec57_starts_five_minutes_in),
      cmocka_unit_test(ec57_test_beat_before_start_may_match_first_ref),
      cmocka_unit_test(ec57_test_beat_after_start_matching_unscored_ref),
      cmocka_unit_test(ec57_each_beat_is_used_once),
      cmocka_unit_test(ec57_prefers_the_better_next_pairing),
      cmocka_unit_test(ec57_counts_beats_only_labels_need_not_agree),
      cmocka_unit_test(ec57_skips_reference_vf_episodes),
      cmocka_unit_test(ec57_end_sample_bounds_the_comparison),
      cmocka_unit_test(ec57_gross_pools_counts),
      cmocka_unit_test(ec57_rejects_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
