/* SPDX-License-Identifier: Apache-2.0 */
/* Heart rate from beats: RR series, instantaneous rate, median-averaged rate
 * with rejection of ectopic-looking RR intervals (src/sig/hr.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>

#include "mv_err.h"
#include "mv_sig_qrs.h"

static void hr_from_rr_and_series(void **st) {
  (void)st;
  assert_float_equal(mv_sig_hr_from_rr(1.0), 60.0, 1e-12);
  assert_float_equal(mv_sig_hr_from_rr(0.4), 150.0, 1e-9);
  assert_float_equal(mv_sig_hr_from_rr(0.0), 0.0, 0.0);
  assert_float_equal(mv_sig_hr_from_rr(-1.0), 0.0, 0.0);
  assert_float_equal(mv_sig_hr_from_rr(NAN), 0.0, 0.0);
  const int64_t b[] = {100, 460, 820, 1000};
  double rr[3] = {0};
  assert_int_equal(mv_sig_rr_series(b, 4, 360.0, rr), 3);
  assert_float_equal(rr[0], 1.0, 1e-12);
  assert_float_equal(rr[2], 0.5, 1e-12);
  assert_int_equal(mv_sig_rr_series(b, 1, 360.0, rr), 0);
  assert_int_equal(mv_sig_rr_series(b, 4, 0.0, rr), 0);
}

static void hr_average_rejects_ectopic(void **st) {
  (void)st;
  struct mv_sig_hr h;
  struct mv_sig_hr_beat o;
  mv_sig_hr_init(&h, 250.0);
  int64_t t = 1000;
  assert_int_equal(mv_sig_hr_add_beat(&h, t, &o), MV_OK);
  assert_float_equal(o.inst_bpm, 0.0, 0.0);
  assert_float_equal(o.avg_bpm, 0.0, 0.0);
  for (int i = 0; i < 10; i++) { /* 75 /min: RR 0.8 s = 200 samples */
    t += 200;
    assert_int_equal(mv_sig_hr_add_beat(&h, t, &o), MV_OK);
    assert_false(o.ectopic);
    assert_float_equal(o.inst_bpm, 75.0, 1e-9);
    assert_float_equal(o.avg_bpm, 75.0, 1e-9);
  }
  /* a premature beat (RR 0.48 s) then its compensatory pause (1.12 s) */
  t += 120;
  assert_int_equal(mv_sig_hr_add_beat(&h, t, &o), MV_OK);
  assert_true(o.ectopic);
  assert_float_equal(o.inst_bpm, 125.0, 1e-9);
  assert_float_equal(o.avg_bpm, 75.0, 1e-9);
  t += 280;
  assert_int_equal(mv_sig_hr_add_beat(&h, t, &o), MV_OK);
  assert_true(o.ectopic);
  assert_float_equal(o.avg_bpm, 75.0, 1e-9);
  /* back to sinus */
  t += 200;
  assert_int_equal(mv_sig_hr_add_beat(&h, t, &o), MV_OK);
  assert_false(o.ectopic);
  /* beats must move forward */
  assert_int_equal(mv_sig_hr_add_beat(&h, t, &o), MV_EINVAL);
  assert_int_equal(mv_sig_hr_add_beat(&h, t - 5, &o), MV_EINVAL);
}

static void hr_follows_sustained_change(void **st) {
  (void)st;
  struct mv_sig_hr h;
  struct mv_sig_hr_beat o;
  mv_sig_hr_init(&h, 100.0);
  int64_t t = 0;
  assert_int_equal(mv_sig_hr_add_beat(&h, t, &o), MV_OK);
  for (int i = 0; i < 8; i++) {
    t += 100; /* 60 /min */
    assert_int_equal(mv_sig_hr_add_beat(&h, t, &o), MV_OK);
  }
  assert_float_equal(o.avg_bpm, 60.0, 1e-9);
  /* sudden tachycardia at 150 /min: a few beats flagged, then followed */
  for (int i = 0; i < 12; i++) {
    t += 40;
    assert_int_equal(mv_sig_hr_add_beat(&h, t, &o), MV_OK);
  }
  assert_false(o.ectopic);
  assert_float_equal(o.avg_bpm, 150.0, 1e-9);
  /* implausible intervals never enter the average */
  t += 1000; /* 10 s pause: 6 /min */
  assert_int_equal(mv_sig_hr_add_beat(&h, t, &o), MV_OK);
  assert_true(o.ectopic);
  assert_float_equal(o.avg_bpm, 150.0, 1e-9);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hr_from_rr_and_series),
      cmocka_unit_test(hr_average_rejects_ectopic),
      cmocka_unit_test(hr_follows_sustained_change),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
