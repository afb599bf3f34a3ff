/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the simulator's clinical scenarios: the trajectories' clinical
 * direction over hours, the ECG's agreement with the heart rate, rhythm
 * regularity, the artifact scenario's flags, and determinism. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mv_err.h"
#include "mv_sig.h"

static struct mv_sig_scen *mk(enum mv_sig_scenario s, uint64_t seed,
                              double fs) {
  struct mv_sig_scen *sc = NULL;
  assert_int_equal(mv_sig_scen_new(s, seed, fs, &sc), MV_OK);
  return sc;
}

/* Mean of the readings over [from_s, to_s) when stepping by 1 s. */
static void run_vitals(enum mv_sig_scenario s, uint64_t seed, int secs,
                       struct mv_sig_vitals *first_min,
                       struct mv_sig_vitals *last_min, struct mv_sig_vitals *lo,
                       struct mv_sig_vitals *hi) {
  struct mv_sig_scen *sc = mk(s, seed, 0);
  memset(first_min, 0, sizeof(*first_min));
  memset(last_min, 0, sizeof(*last_min));
  for (int i = 0; i < secs; i++) {
    struct mv_sig_scen_vitals r;
    mv_sig_scen_step(sc, 1.0, &r);
    struct mv_sig_vitals *acc = i < 600           ? first_min
                                : i >= secs - 600 ? last_min
                                                  : NULL;
    if (acc) {
      acc->hr_bpm += r.v.hr_bpm / 600;
      acc->spo2_pct += r.v.spo2_pct / 600;
      acc->sbp_mmhg += r.v.sbp_mmhg / 600;
      acc->rr_bpm += r.v.rr_bpm / 600;
      acc->temp_c += r.v.temp_c / 600;
    }
    if (i == 0) {
      *lo = r.v;
      *hi = r.v;
    }
    lo->hr_bpm = fmin(lo->hr_bpm, r.v.hr_bpm);
    hi->hr_bpm = fmax(hi->hr_bpm, r.v.hr_bpm);
    lo->spo2_pct = fmin(lo->spo2_pct, r.v.spo2_pct);
    hi->spo2_pct = fmax(hi->spo2_pct, r.v.spo2_pct);
    assert_true(r.v.dbp_mmhg < r.v.sbp_mmhg);
  }
  mv_sig_scen_free(sc);
}

static void scenario_sepsis_deteriorates_over_hours(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 3; seed++) {
    struct mv_sig_vitals a, b, lo, hi;
    run_vitals(MV_SIG_SCEN_SEPSIS, seed, 3 * 3600, &a, &b, &lo, &hi);
    assert_true(b.hr_bpm > a.hr_bpm + 20);
    assert_true(b.rr_bpm > a.rr_bpm + 5);
    assert_true(b.sbp_mmhg < a.sbp_mmhg - 15);
    assert_true(b.temp_c > a.temp_c + 1.0);
    assert_true(b.temp_c > 38.0);
  }
}

static void scenario_hypoxia_saturation_falls(void **state) {
  (void)state;
  struct mv_sig_vitals a, b, lo, hi;
  run_vitals(MV_SIG_SCEN_HYPOXIA, 5, 3 * 3600, &a, &b, &lo, &hi);
  assert_true(a.spo2_pct >= 93);
  assert_true(b.spo2_pct < a.spo2_pct - 6);
  assert_true(b.spo2_pct < 90);
  assert_true(b.rr_bpm > a.rr_bpm + 5);
}

static void scenario_normal_and_bradycardia_stay_in_range(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 5; seed++) {
    struct mv_sig_vitals a, b, lo, hi;
    run_vitals(MV_SIG_SCEN_NORMAL, seed, 3600, &a, &b, &lo, &hi);
    assert_true(lo.hr_bpm >= 45 && hi.hr_bpm <= 100);
    assert_true(lo.spo2_pct >= 92);
    assert_true(fabs(b.hr_bpm - a.hr_bpm) < 10);
    run_vitals(MV_SIG_SCEN_BRADYCARDIA, seed, 3600, &a, &b, &lo, &hi);
    assert_true(lo.hr_bpm >= 35 && hi.hr_bpm <= 45);
    run_vitals(MV_SIG_SCEN_AFIB, seed, 3600, &a, &b, &lo, &hi);
    assert_true(lo.hr_bpm >= 105 && hi.hr_bpm <= 160);
  }
}

/* ECG of a scenario: beats per minute agree with the reported heart rate,
 * and the RR coefficient of variation separates AF from sinus rhythm. */
static void scenario_ecg_matches_rate_and_rhythm(void **state) {
  (void)state;
  static const enum mv_sig_scenario kinds[] = {
      MV_SIG_SCEN_NORMAL, MV_SIG_SCEN_AFIB, MV_SIG_SCEN_BRADYCARDIA};
  for (size_t k = 0; k < MV_ARRAY_LEN(kinds); k++) {
    struct mv_sig_scen *sc = mk(kinds[k], 11, 250);
    int16_t x[250];
    int64_t b[16], prev = -1;
    double hr_sum = 0, rr_s = 0, rr_s2 = 0;
    size_t nrr = 0, nbeats = 0;
    for (int s = 0; s < 180; s++) {
      struct mv_sig_scen_vitals v;
      mv_sig_scen_step(sc, 1.0, &v);
      hr_sum += v.v.hr_bpm;
      size_t nb;
      uint32_t fl;
      assert_int_equal(mv_sig_scen_ecg(sc, x, 250, b, 16, &nb, &fl), MV_OK);
      assert_int_equal(fl, 0);
      for (size_t i = 0; i < nb; i++, nbeats++) {
        assert_true(x[b[i] - (int64_t)s * 250] > 100); /* > 0.5 mV at R */
        if (prev >= 0) {
          double rr = (double)(b[i] - prev) / 250.0;
          rr_s += rr;
          rr_s2 += rr * rr;
          nrr++;
        }
        prev = b[i];
      }
    }
    double ecg_hr = (double)nbeats / 3.0, hr = hr_sum / 180.0;
    double mean = rr_s / (double)nrr;
    double cv = sqrt(rr_s2 / (double)nrr - mean * mean) / mean;
    assert_true(fabs(ecg_hr - hr) < 0.12 * hr);
    if (kinds[k] == MV_SIG_SCEN_AFIB)
      assert_true(cv > 0.15);
    else
      assert_true(cv < 0.1);
    mv_sig_scen_free(sc);
  }
}

static void scenario_artifact_flags_bad_signal(void **state) {
  (void)state;
  struct mv_sig_scen *sc = mk(MV_SIG_SCEN_ARTIFACT, 2, 250);
  int16_t x[250];
  uint32_t seen = 0;
  int flagged_chunks = 0, noisy_spo2 = 0, lead_off_nonzero = 0;
  for (int s = 0; s < 600; s++) {
    struct mv_sig_scen_vitals v;
    mv_sig_scen_step(sc, 1.0, &v);
    noisy_spo2 += v.q_spo2 == MV_SIG_SIM_Q_NOISY;
    uint32_t fl;
    assert_int_equal(mv_sig_scen_ecg(sc, x, 250, NULL, 0, NULL, &fl), MV_OK);
    seen |= fl;
    flagged_chunks += fl != 0;
    if (fl == MV_SIG_SIM_Q_LEAD_OFF) {
      int nz = 0;
      for (int i = 0; i < 250; i++)
        nz += x[i] != 0;
      lead_off_nonzero += nz == 250;
    }
  }
  assert_true(seen & MV_SIG_SIM_Q_NOISY);
  assert_true(seen & MV_SIG_SIM_Q_FLAT);
  assert_true(seen & MV_SIG_SIM_Q_LEAD_OFF);
  assert_true(seen & MV_SIG_SIM_Q_CLIPPED);
  assert_true(flagged_chunks > 30 && flagged_chunks < 400);
  assert_true(noisy_spo2 > 20 && noisy_spo2 < 150);
  assert_int_equal(lead_off_nonzero, 0);
  mv_sig_scen_free(sc);
}

static void scenario_same_seed_same_data(void **state) {
  (void)state;
  struct mv_sig_scen *a = mk(MV_SIG_SCEN_SEPSIS, 9, 250);
  struct mv_sig_scen *b = mk(MV_SIG_SCEN_SEPSIS, 9, 250);
  struct mv_sig_scen *c = mk(MV_SIG_SCEN_SEPSIS, 10, 250);
  int16_t xa[500], xb[500], xc[500];
  struct mv_sig_scen_vitals va, vb, vc;
  for (int i = 0; i < 20; i++) {
    mv_sig_scen_step(a, 1, &va);
    mv_sig_scen_step(b, 1, &vb);
    mv_sig_scen_step(c, 1, &vc);
    assert_memory_equal(&va, &vb, sizeof(va));
    assert_int_equal(mv_sig_scen_ecg(a, xa, 500, NULL, 0, NULL, NULL), MV_OK);
    assert_int_equal(mv_sig_scen_ecg(b, xb, 500, NULL, 0, NULL, NULL), MV_OK);
    assert_int_equal(mv_sig_scen_ecg(c, xc, 500, NULL, 0, NULL, NULL), MV_OK);
    assert_memory_equal(xa, xb, sizeof(xa));
  }
  assert_true(memcmp(xa, xc, sizeof(xa)) != 0);
  mv_sig_scen_free(a);
  mv_sig_scen_free(b);
  mv_sig_scen_free(c);
}

static void scenario_names_and_bad_input(void **state) {
  (void)state;
  enum mv_sig_scenario s;
  for (int i = 0; i < MV_SIG_SCEN_COUNT; i++) {
    assert_int_equal(mv_sig_scenario_parse(
                         mv_sig_scenario_name((enum mv_sig_scenario)i), &s),
                     MV_OK);
    assert_int_equal(s, i);
  }
  assert_int_equal(mv_sig_scenario_parse("flu", &s), MV_EINVAL);
  assert_int_equal(mv_sig_scenario_parse(NULL, &s), MV_EINVAL);
  struct mv_sig_scen *sc = NULL;
  assert_int_equal(mv_sig_scen_new(MV_SIG_SCEN_NORMAL, 1, 10, &sc), MV_EINVAL);
  assert_int_equal(mv_sig_scen_new((enum mv_sig_scenario)42, 1, 0, &sc),
                   MV_EINVAL);
  assert_null(sc);
  sc = mk(MV_SIG_SCEN_NORMAL, 1, 0);
  int16_t x[10];
  assert_int_equal(mv_sig_scen_ecg(sc, x, 10, NULL, 0, NULL, NULL), MV_EINVAL);
  assert_null(mv_sig_scen_ecgsyn(sc));
  mv_sig_scen_free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(scenario_sepsis_deteriorates_over_hours),
      cmocka_unit_test(scenario_hypoxia_saturation_falls),
      cmocka_unit_test(scenario_normal_and_bradycardia_stay_in_range),
      cmocka_unit_test(scenario_ecg_matches_rate_and_rhythm),
      cmocka_unit_test(scenario_artifact_flags_bad_signal),
      cmocka_unit_test(scenario_same_seed_same_data),
      cmocka_unit_test(scenario_names_and_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
