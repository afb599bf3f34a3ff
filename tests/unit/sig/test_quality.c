/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/sig/quality.c: each rule at its documented boundary
 * (flat peak-to-peak and held value, clipping fraction, amplitude range,
 * noise ratio), a clean synthetic ECG passes all rules, and bad chunks are
 * refused. With the shared data present (../shared/data, else skipped):
 * MIT-BIH records are rarely flagged, the 0 dB noise-stress record often.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mv_dev.h"
#include "mv_sig_filter.h"
#include "mv_sig_wfdb.h"

#define PI 3.14159265358979323846
#define FS 250.0
#define GAIN 200.0 /* ADC units per mV */
#define N 2500

static int16_t buf[N];

static struct mv_sig_chunk chunk(size_t n) {
  return (struct mv_sig_chunk){.x = buf,
                               .n = n,
                               .fs_hz = FS,
                               .gain = GAIN,
                               .baseline = 0,
                               .adc_min = -32768,
                               .adc_max = 32767};
}

/* Gaussian QRS-like pulses (1 mV, sigma 10 ms) every 0.8 s plus a slow
 * T-like wave: a clean ECG shape. */
static void clean_ecg(size_t n) {
  for (size_t i = 0; i < n; i++) {
    double t = (double)i / FS, ph = fmod(t, 0.8) - 0.4, pt = ph - 0.25;
    double mv = exp(-ph * ph / (2 * 0.01 * 0.01)) +
                0.25 * exp(-pt * pt / (2 * 0.04 * 0.04));
    buf[i] = (int16_t)lrint(mv * GAIN);
  }
}

static struct mv_sig_quality judge(const struct mv_sig_chunk *c) {
  struct mv_sig_quality_limits lim;
  struct mv_sig_quality q;
  mv_sig_quality_limits_default(&lim, MV_SIG_ECG);
  assert_int_equal(mv_sig_quality_check(c, &lim, &q, NULL), MV_OK);
  return q;
}

static void clean_ecg_has_no_flags(void **state) {
  (void)state;
  clean_ecg(N);
  struct mv_sig_chunk c = chunk(N);
  struct mv_sig_quality q = judge(&c);
  print_message("clean ECG: noise ratio %.4f, p2p %.3f mV\n", q.noise_ratio,
                q.p2p);
  assert_int_equal(q.flags, 0);
  assert_true(q.noise_ratio < 0.05);
  assert_true(fabs(q.p2p - 1.0) < 0.02);
}

static void flat_line_boundary(void **state) {
  (void)state;
  /* p2p 0.05 mV = 10 ADC units is not flat; 9 units (0.045 mV) is. A
   * sawtooth keeps values from repeating. */
  for (size_t i = 0; i < N; i++)
    buf[i] = (int16_t)(i % 11);
  struct mv_sig_chunk c = chunk(N);
  assert_int_equal(judge(&c).flags & MV_DEV_Q_FLAT, 0);
  for (size_t i = 0; i < N; i++)
    buf[i] = (int16_t)(i % 10);
  assert_int_equal(judge(&c).flags & MV_DEV_Q_FLAT, MV_DEV_Q_FLAT);
  /* A value held for 1 s (250 samples) is flat, 249 samples is not. */
  clean_ecg(N);
  for (size_t i = 1000; i < 1249; i++)
    buf[i] = 77;
  buf[999] = 76, buf[1249] = 78;
  struct mv_sig_quality q = judge(&c);
  assert_int_equal(q.flags & MV_DEV_Q_FLAT, 0);
  buf[1249] = 77;
  q = judge(&c);
  assert_int_equal(q.flags & MV_DEV_Q_FLAT, MV_DEV_Q_FLAT);
  assert_true(fabs(q.flat_run_s - 1.0) < 1e-12);
}

static void clipping_boundary(void **state) {
  (void)state;
  /* 1 % of samples at a rail is clipped; one fewer is not. Rails of a
   * 12-bit converter. */
  clean_ecg(N);
  struct mv_sig_chunk c = chunk(N);
  c.adc_min = -2048, c.adc_max = 2047;
  for (size_t i = 0; i < 24; i++)
    buf[100 * i + 7] = 2047;
  struct mv_sig_quality q = judge(&c);
  assert_int_equal(q.flags & MV_DEV_Q_CLIPPED, 0);
  buf[2407] = -2048;
  q = judge(&c);
  assert_int_equal(q.flags & MV_DEV_Q_CLIPPED, MV_DEV_Q_CLIPPED);
  assert_true(fabs(q.clip_frac - 0.01) < 1e-12);
  /* Rail runs do not count as a flat line. */
  for (size_t i = 0; i < 300; i++)
    buf[i] = 2047;
  q = judge(&c);
  assert_int_equal(q.flags & MV_DEV_Q_FLAT, 0);
}

static void range_boundary(void **state) {
  (void)state;
  /* Symmetric spikes on a zero line keep the mean at exactly 0. */
  struct mv_sig_chunk c = chunk(N);
  for (size_t i = 0; i < N; i++)
    buf[i] = 0;
  buf[500] = 1000, buf[501] = -1000; /* exactly 5 mV: in range */
  assert_int_equal(judge(&c).flags & MV_DEV_Q_RANGE, 0);
  buf[500] = 1001, buf[501] = -1001; /* 5.005 mV: out */
  struct mv_sig_quality q = judge(&c);
  assert_int_equal(q.flags & MV_DEV_Q_RANGE, MV_DEV_Q_RANGE);
  assert_true(fabs(q.max_abs - 5.005) < 1e-12);
  /* A DC offset does not count: the rule measures from the mean. */
  for (size_t i = 0; i < N; i++)
    buf[i] = (int16_t)(buf[i] + 3000);
  c.baseline = 0;
  assert_true(fabs(judge(&c).max_abs - 5.005) < 1e-12);
  buf[500] = 4000, buf[501] = 2000;
  assert_int_equal(judge(&c).flags & MV_DEV_Q_RANGE, 0);
}

static void noise_is_flagged(void **state) {
  (void)state;
  uint64_t s = 42;
  struct mv_sig_chunk c = chunk(N);
  double levels[] = {0.02, 0.5};
  bool want[] = {false, true};
  for (size_t k = 0; k < 2; k++) {
    clean_ecg(N);
    for (size_t i = 0; i < N; i++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      double u = (double)(s >> 11) / 9007199254740992.0 - 0.5; /* white */
      buf[i] = (int16_t)(buf[i] + lrint(levels[k] * GAIN * 3.46 * u));
    }
    struct mv_sig_quality q = judge(&c);
    print_message("white noise %.2f mV rms: noise ratio %.4f\n", levels[k],
                  q.noise_ratio);
    assert_int_equal((q.flags & MV_DEV_Q_NOISY) != 0, want[k]);
  }
  /* The comparison is strict: ratio == limit is not noisy. */
  struct mv_sig_quality_limits lim;
  struct mv_sig_quality q;
  mv_sig_quality_limits_default(&lim, MV_SIG_ECG);
  assert_int_equal(mv_sig_quality_check(&c, &lim, &q, NULL), MV_OK);
  lim.noise_ratio = q.noise_ratio;
  assert_int_equal(mv_sig_quality_check(&c, &lim, &q, NULL), MV_OK);
  assert_int_equal(q.flags & MV_DEV_Q_NOISY, 0);
  lim.noise_ratio = nextafter(q.noise_ratio, 0);
  assert_int_equal(mv_sig_quality_check(&c, &lim, &q, NULL), MV_OK);
  assert_int_equal(q.flags & MV_DEV_Q_NOISY, MV_DEV_Q_NOISY);
  /* 50 Hz hum at the QRS amplitude is above the noise band too. */
  clean_ecg(N);
  for (size_t i = 0; i < N; i++)
    buf[i] = (int16_t)(buf[i] + lrint(GAIN * sin(2 * PI * 50 * i / FS)));
  assert_true(judge(&c).noise_ratio > 0.3);
}

static void constant_chunk_is_flat_without_noise(void **state) {
  (void)state;
  for (size_t i = 0; i < N; i++)
    buf[i] = 5;
  struct mv_sig_chunk c = chunk(N);
  struct mv_sig_quality q = judge(&c);
  assert_int_equal(q.flags, MV_DEV_Q_FLAT);
  assert_true(q.noise_ratio == 0);
  c.n = 1;
  assert_int_equal(judge(&c).flags, MV_DEV_Q_FLAT);
  c.fs_hz = 50; /* below the filters' range: noise rule skipped */
  c.n = N;
  assert_true(judge(&c).noise_ratio == 0);
}

static void bad_chunks_are_refused(void **state) {
  (void)state;
  struct mv_sig_quality_limits lim;
  struct mv_sig_quality q = {.flags = 99};
  mv_sig_quality_limits_default(&lim, MV_SIG_PLETH);
  struct mv_sig_chunk c = chunk(0);
  assert_int_equal(mv_sig_quality_check(&c, &lim, &q, NULL), MV_EINVAL);
  c = chunk(10);
  c.gain = 0;
  assert_int_equal(mv_sig_quality_check(&c, &lim, &q, NULL), MV_EINVAL);
  c.gain = NAN;
  assert_int_equal(mv_sig_quality_check(&c, &lim, &q, NULL), MV_EINVAL);
  c = chunk(10);
  c.adc_min = c.adc_max;
  assert_int_equal(mv_sig_quality_check(&c, &lim, &q, NULL), MV_EINVAL);
  c = chunk(10);
  c.fs_hz = 0;
  assert_int_equal(mv_sig_quality_check(&c, &lim, &q, NULL), MV_EINVAL);
  assert_int_equal(mv_sig_quality_check(NULL, &lim, &q, NULL), MV_EINVAL);
  assert_int_equal(q.flags, 99);
  mv_sig_quality_limits_default(&lim, MV_SIG_RESP);
  assert_true(lim.flat_run_s == 0);
}

/* ---- shared data: MIT-BIH and the noise stress test ------------------- */

struct flag_count {
  size_t windows, flagged, noisy;
};

/* Judge signal 0 of a WFDB record in 10 s windows with the ECG defaults;
 * false when the record cannot be read. */
static bool judge_record(const char *path, struct flag_count *fc) {
  struct mv_sig_wfdb_record *r = NULL;
  if (mv_sig_wfdb_read(path, MV_SIG_WFDB_LAX_CHECKSUM, &r, NULL) != MV_OK)
    return false;
  const struct mv_sig_wfdb_signal *sg = &r->sig[0];
  int32_t half = 1 << (sg->adc_res - 1);
  size_t w = (size_t)(r->fs * 10);
  int16_t *x = malloc(w * sizeof(int16_t));
  assert_non_null(x);
  struct mv_sig_chunk c = {.x = x,
                           .n = w,
                           .fs_hz = r->fs,
                           .gain = sg->gain,
                           .baseline = sg->baseline,
                           .adc_min = sg->adc_zero - half,
                           .adc_max = sg->adc_zero + half - 1};
  for (int64_t st = 0; st + (int64_t)w <= r->n_samples; st += (int64_t)w) {
    for (size_t i = 0; i < w; i++) {
      int32_t v = r->samples[(st + (int64_t)i) * r->n_sig];
      x[i] = (int16_t)(v == MV_SIG_WFDB_INVALID ? c.adc_min : v);
    }
    struct mv_sig_quality q = judge(&c);
    fc->windows++;
    fc->flagged += q.flags != 0;
    fc->noisy += (q.flags & MV_DEV_Q_NOISY) != 0;
  }
  free(x);
  mv_sig_wfdb_free(r);
  return true;
}

static void mitdb_is_rarely_flagged(void **state) {
  (void)state;
  const char *root = getenv("MV_SHARED_DATA");
  char path[1024];
  struct flag_count all = {0};
  size_t records = 0;
  for (int rec = 100; root && rec <= 234; rec++) {
    struct flag_count fc = {0};
    snprintf(path, sizeof(path), "%s/mitdb/%d", root, rec);
    if (!judge_record(path, &fc))
      continue;
    records++;
    /* No record is more than 5 % flagged... */
    assert_true(fc.flagged * 20 <= fc.windows);
    all.windows += fc.windows, all.flagged += fc.flagged;
  }
  if (records == 0) {
    printf("SKIP: ../shared/data/mitdb absent (MV_SHARED_DATA)\n");
    skip();
  }
  print_message("mitdb: %zu records, %zu of %zu 10-s windows flagged\n",
                records, all.flagged, all.windows);
  /* ... and at most 1 % of all windows. */
  assert_true(all.flagged * 100 <= all.windows);
}

static void nstdb_noisiest_record_is_flagged(void **state) {
  (void)state;
  const char *root = getenv("MV_SHARED_DATA");
  char path[1024];
  struct flag_count fc = {0};
  snprintf(path, sizeof(path), "%s/nstdb/118e00", root ? root : ".");
  if (!root || !judge_record(path, &fc)) {
    printf("SKIP: ../shared/data/nstdb absent (MV_SHARED_DATA)\n");
    skip();
  }
  print_message("nstdb 118e00 (0 dB SNR): %zu of %zu windows flagged, %zu "
                "noisy\n",
                fc.flagged, fc.windows, fc.noisy);
  /* Noise is added from minute 5 on, 2 min on / 2 min off: a quarter of
   * the windows at least must be flagged (measured: clipping and range). */
  assert_true(fc.flagged * 4 >= fc.windows);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(clean_ecg_has_no_flags),
      cmocka_unit_test(flat_line_boundary),
      cmocka_unit_test(clipping_boundary),
      cmocka_unit_test(range_boundary),
      cmocka_unit_test(noise_is_flagged),
      cmocka_unit_test(constant_chunk_is_flat_without_noise),
      cmocka_unit_test(bad_chunks_are_refused),
      cmocka_unit_test(mitdb_is_rarely_flagged),
      cmocka_unit_test(nstdb_noisiest_record_is_flagged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
