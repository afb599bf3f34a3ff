/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the vital-signs synthesiser behind `medverse demo`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "mv_sig.h"

static void run(uint64_t seed, enum mv_sig_vitals_profile p, int steps,
                double dt, struct mv_sig_vitals *out_last,
                struct mv_sig_vitals *out_min, struct mv_sig_vitals *out_max) {
  struct mv_sig_vitals_sim s;
  mv_sig_vitals_sim_init(&s, seed, p);
  struct mv_sig_vitals v = {0}, lo, hi;
  for (int i = 0; i < steps; i++) {
    mv_sig_vitals_sim_step(&s, dt, &v);
    if (i == 0) {
      lo = v;
      hi = v;
    }
#define MINMAX(f)                                                              \
  lo.f = fmin(lo.f, v.f);                                                      \
  hi.f = fmax(hi.f, v.f)
    MINMAX(hr_bpm);
    MINMAX(spo2_pct);
    MINMAX(sbp_mmhg);
    MINMAX(dbp_mmhg);
    MINMAX(rr_bpm);
    MINMAX(temp_c);
  }
  *out_last = v;
  if (out_min)
    *out_min = lo;
  if (out_max)
    *out_max = hi;
}

static void vitals_sim_same_seed_same_series(void **state) {
  (void)state;
  struct mv_sig_vitals a, b, c;
  run(42, MV_SIG_PROFILE_STABLE, 500, 1.0, &a, NULL, NULL);
  run(42, MV_SIG_PROFILE_STABLE, 500, 1.0, &b, NULL, NULL);
  run(43, MV_SIG_PROFILE_STABLE, 500, 1.0, &c, NULL, NULL);
  assert_memory_equal(&a, &b, sizeof(a));
  assert_true(memcmp(&a, &c, sizeof(a)) != 0);
}

static void vitals_sim_stable_stays_in_normal_ranges(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    struct mv_sig_vitals last, lo, hi;
    run(seed, MV_SIG_PROFILE_STABLE, 3600, 1.0, &last, &lo, &hi);
    assert_true(lo.hr_bpm >= 40 && hi.hr_bpm <= 110);
    assert_true(lo.spo2_pct >= 92 && hi.spo2_pct <= 100);
    assert_true(lo.sbp_mmhg >= 90 && hi.sbp_mmhg <= 160);
    assert_true(lo.rr_bpm >= 8 && hi.rr_bpm <= 24);
    assert_true(lo.temp_c >= 35.5 && hi.temp_c <= 38.0);
    assert_true(hi.hr_bpm - lo.hr_bpm > 1.0); /* it does vary */
  }
}

static void vitals_sim_deteriorating_drifts_towards_sepsis(void **state) {
  (void)state;
  struct mv_sig_vitals start, end;
  run(7, MV_SIG_PROFILE_DETERIORATING, 60, 1.0, &start, NULL, NULL);
  run(7, MV_SIG_PROFILE_DETERIORATING, 6 * 3600, 1.0, &end, NULL, NULL);
  assert_true(end.hr_bpm > start.hr_bpm + 20);
  assert_true(end.sbp_mmhg < start.sbp_mmhg - 10);
  assert_true(end.rr_bpm > start.rr_bpm + 4);
  assert_true(end.temp_c > start.temp_c + 1.0);
}

static void vitals_sim_hypoxic_has_low_spo2(void **state) {
  (void)state;
  struct mv_sig_vitals end;
  run(9, MV_SIG_PROFILE_HYPOXIC, 4 * 3600, 1.0, &end, NULL, NULL);
  assert_true(end.spo2_pct < 90);
  assert_true(end.rr_bpm > 20);
}

static void vitals_sim_respects_physiological_limits(void **state) {
  (void)state;
  /* Huge steps push the random walk hard; values must stay clamped and
   * diastolic must stay below systolic. */
  struct mv_sig_vitals_sim s;
  mv_sig_vitals_sim_init(&s, 3, MV_SIG_PROFILE_DETERIORATING);
  for (int i = 0; i < 10000; i++) {
    struct mv_sig_vitals v;
    mv_sig_vitals_sim_step(&s, 600.0, &v);
    assert_true(v.hr_bpm >= 30 && v.hr_bpm <= 200);
    assert_true(v.spo2_pct >= 70 && v.spo2_pct <= 100);
    assert_true(v.dbp_mmhg < v.sbp_mmhg);
    assert_true(v.temp_c >= 33 && v.temp_c <= 42);
    assert_false(isnan(v.hr_bpm) || isnan(v.rr_bpm));
  }
}

static void vitals_sim_nonpositive_dt_is_treated_as_one_second(void **state) {
  (void)state;
  struct mv_sig_vitals_sim a, b;
  struct mv_sig_vitals va, vb;
  mv_sig_vitals_sim_init(&a, 5, MV_SIG_PROFILE_STABLE);
  mv_sig_vitals_sim_init(&b, 5, MV_SIG_PROFILE_STABLE);
  mv_sig_vitals_sim_step(&a, 0.0, &va);
  mv_sig_vitals_sim_step(&b, 1.0, &vb);
  assert_memory_equal(&va, &vb, sizeof(va));
  mv_sig_vitals_sim_step(&a, NAN, &va);
  assert_false(isnan(va.hr_bpm));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(vitals_sim_same_seed_same_series),
      cmocka_unit_test(vitals_sim_stable_stays_in_normal_ranges),
      cmocka_unit_test(vitals_sim_deteriorating_drifts_towards_sepsis),
      cmocka_unit_test(vitals_sim_hypoxic_has_low_spo2),
      cmocka_unit_test(vitals_sim_respects_physiological_limits),
      cmocka_unit_test(vitals_sim_nonpositive_dt_is_treated_as_one_second),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
