/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for ECGSYN (McSharry et al. 2003): determinism, streaming, beat
 * times against the signal's own peaks, heart rate and RR variability, the
 * missing P wave of atrial fibrillation, and parameter checks. */
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

#define MAXB 2048

struct run {
  double *x;
  size_t n;
  int64_t beats[MAXB];
  size_t nb;
};

/* Generate secs seconds in chunks of chunk samples. */
static void gen(const struct mv_sig_ecgsyn_params *p, double secs, size_t chunk,
                struct run *r) {
  struct mv_sig_ecgsyn *g = NULL;
  assert_int_equal(mv_sig_ecgsyn_new(p, NULL, &g), MV_OK);
  r->n = (size_t)(p->fs_hz * secs);
  r->x = malloc(r->n * sizeof(double));
  assert_non_null(r->x);
  r->nb = 0;
  int64_t tmp[MAXB];
  for (size_t done = 0; done < r->n;) {
    size_t m = r->n - done < chunk ? r->n - done : chunk;
    size_t nb = 0;
    assert_int_equal(mv_sig_ecgsyn_generate(g, r->x + done, m, tmp, MAXB, &nb),
                     MV_OK);
    for (size_t i = 0; i < nb; i++) {
      /* Each beat is reported with the chunk that holds its sample. */
      assert_true(tmp[i] >= (int64_t)done && tmp[i] < (int64_t)(done + m));
      assert_true(r->nb < MAXB);
      r->beats[r->nb++] = tmp[i];
    }
    done += m;
  }
  assert_int_equal(mv_sig_ecgsyn_position(g), (int64_t)r->n);
  mv_sig_ecgsyn_free(g);
}

static void rr_stats(const struct run *r, double fs, double *mean, double *cv) {
  double s = 0, s2 = 0;
  size_t k = r->nb - 1;
  for (size_t i = 1; i < r->nb; i++) {
    double rr = (double)(r->beats[i] - r->beats[i - 1]) / fs;
    s += rr;
    s2 += rr * rr;
  }
  *mean = s / (double)k;
  *cv = sqrt(fmax(0, s2 / (double)k - *mean * *mean)) / *mean;
}

static void ecgsyn_same_seed_same_signal_any_chunking(void **state) {
  (void)state;
  struct mv_sig_ecgsyn_params p;
  mv_sig_ecgsyn_params_default(&p);
  p.noise_mv = 0.02;
  p.seed = 7;
  struct run a, b, c;
  gen(&p, 20, 5000, &a);
  gen(&p, 20, 7, &b);
  assert_int_equal(a.nb, b.nb);
  assert_memory_equal(a.beats, b.beats, a.nb * sizeof(int64_t));
  assert_memory_equal(a.x, b.x, a.n * sizeof(double));
  p.seed = 8;
  gen(&p, 20, 250, &c);
  assert_true(memcmp(a.x, c.x, a.n * sizeof(double)) != 0);
  free(a.x);
  free(b.x);
  free(c.x);
}

/* The reported beat is the R peak: the largest sample within 40 ms of it is
 * at most one sample away, and it is 0.8-1.6 mV high. At 250, 360, 500 Hz
 * and rates from 40 to 180 /min the beat count follows the rate. */
static void ecgsyn_beats_are_the_r_peaks(void **state) {
  (void)state;
  static const double fs[] = {250, 360, 500};
  static const double hr[] = {40, 72, 120, 180};
  for (size_t i = 0; i < MV_ARRAY_LEN(fs); i++) {
    for (size_t j = 0; j < MV_ARRAY_LEN(hr); j++) {
      struct mv_sig_ecgsyn_params p;
      mv_sig_ecgsyn_params_default(&p);
      p.fs_hz = fs[i];
      p.hr_bpm = hr[j];
      p.seed = 100 + i * 10 + j;
      struct run r;
      gen(&p, 60, 250, &r);
      assert_true(fabs((double)r.nb - hr[j]) <= 2.0);
      long w = (long)(0.04 * fs[i]);
      for (size_t b = 0; b < r.nb; b++) {
        long at = (long)r.beats[b], best = at;
        for (long k = at - w; k <= at + w; k++)
          if (k >= 0 && k < (long)r.n && r.x[k] > r.x[best])
            best = k;
        assert_true(labs(best - at) <= 1);
        assert_true(r.x[at] > 0.8 && r.x[at] < 1.6);
      }
      double mean, cv;
      rr_stats(&r, fs[i], &mean, &cv);
      assert_true(fabs(mean - 60.0 / hr[j]) < 0.02 * 60.0 / hr[j]);
      free(r.x);
    }
  }
}

/* Sinus rhythm: small RR variability (the paper's HRV, std ~1 /min);
 * atrial fibrillation: irregularly irregular (CV > 0.15) and no P wave. */
static void ecgsyn_afib_is_irregular_without_p_waves(void **state) {
  (void)state;
  double pmax[2], cvs[2];
  for (int afib = 0; afib < 2; afib++) {
    struct mv_sig_ecgsyn_params p;
    mv_sig_ecgsyn_params_default(&p);
    p.hr_bpm = 70;
    p.resp_mv = 0;
    p.rhythm = afib ? MV_SIG_RHYTHM_AFIB : MV_SIG_RHYTHM_SINUS;
    p.seed = 3;
    struct run r;
    gen(&p, 120, 250, &r);
    double mean;
    rr_stats(&r, p.fs_hz, &mean, &cvs[afib]);
    /* Average of the P-wave window maxima (250-100 ms before each R). */
    double s = 0;
    size_t k = 0;
    for (size_t b = 1; b < r.nb; b++) {
      double m = -10;
      for (int64_t t = r.beats[b] - 62; t < r.beats[b] - 25; t++)
        m = fmax(m, r.x[t]);
      s += m;
      k++;
    }
    pmax[afib] = s / (double)k;
    free(r.x);
  }
  assert_true(cvs[0] < 0.05);
  assert_true(cvs[1] > 0.15);
  assert_true(pmax[0] > 0.1);  /* P wave ~0.2 mV */
  assert_true(pmax[1] < 0.05); /* only f waves */
}

static double ramp(void *ctx, double t_s) {
  (void)ctx;
  return 60.0 + t_s; /* 60 /min at the start, 120 /min after a minute */
}

static void ecgsyn_follows_a_heart_rate_source(void **state) {
  (void)state;
  struct mv_sig_ecgsyn_params p;
  mv_sig_ecgsyn_params_default(&p);
  struct mv_sig_ecgsyn *g = NULL;
  assert_int_equal(mv_sig_ecgsyn_new(&p, NULL, &g), MV_OK);
  mv_sig_ecgsyn_set_hr_fn(g, ramp, NULL);
  double x[250];
  int64_t b[64], last[2] = {-1, -1};
  size_t first_min = 0, second_min = 0;
  for (int s = 0; s < 120; s++) {
    size_t nb;
    assert_int_equal(mv_sig_ecgsyn_generate(g, x, 250, b, 64, &nb), MV_OK);
    for (size_t i = 0; i < nb; i++) {
      if (s < 60)
        first_min++;
      else
        second_min++;
      last[0] = last[1];
      last[1] = b[i];
    }
  }
  /* Mean rate 90 /min over the first minute, then capped ramp to 180. */
  assert_true(first_min >= 85 && first_min <= 95);
  assert_true(second_min >= 140 && second_min <= 160);
  assert_true(last[1] - last[0] < 250 * 60 / 170);
  mv_sig_ecgsyn_free(g);
}

static void ecgsyn_rejects_bad_parameters(void **state) {
  (void)state;
  struct mv_sig_ecgsyn_params p;
  struct mv_sig_ecgsyn *g = NULL;
  struct mv_diag d;
  mv_sig_ecgsyn_params_default(&p);
  p.fs_hz = 10;
  mv_diag_clear(&d);
  assert_int_equal(mv_sig_ecgsyn_new(&p, &d, &g), MV_EINVAL);
  assert_string_equal(d.path, "fs_hz");
  assert_null(g);
  mv_sig_ecgsyn_params_default(&p);
  p.hr_bpm = NAN;
  assert_int_equal(mv_sig_ecgsyn_new(&p, &d, &g), MV_EINVAL);
  assert_string_equal(d.path, "hr_bpm");
  mv_sig_ecgsyn_params_default(&p);
  assert_int_equal(mv_sig_ecgsyn_new(&p, NULL, &g), MV_OK);
  double x[1000];
  int64_t b[2];
  assert_int_equal(mv_sig_ecgsyn_generate(g, x, 1000, b, 2, NULL), MV_EINVAL);
  assert_int_equal(mv_sig_ecgsyn_position(g), 0);
  assert_int_equal(mv_sig_ecgsyn_generate(g, x, 1000, NULL, 0, NULL), MV_OK);
  mv_sig_ecgsyn_free(g);
  mv_sig_ecgsyn_free(NULL);
}

static void ecgsyn_adc_conversion_saturates(void **state) {
  (void)state;
  double mv[4] = {1.0, -0.5, 400.0, -400.0};
  int16_t out[4];
  assert_int_equal(mv_sig_mv_to_adc(mv, 4, 200.0, 10, out), 2);
  assert_int_equal(out[0], 210);
  assert_int_equal(out[1], -90);
  assert_int_equal(out[2], INT16_MAX);
  assert_int_equal(out[3], INT16_MIN);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ecgsyn_same_seed_same_signal_any_chunking),
      cmocka_unit_test(ecgsyn_beats_are_the_r_peaks),
      cmocka_unit_test(ecgsyn_afib_is_irregular_without_p_waves),
      cmocka_unit_test(ecgsyn_follows_a_heart_rate_source),
      cmocka_unit_test(ecgsyn_rejects_bad_parameters),
      cmocka_unit_test(ecgsyn_adc_conversion_saturates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
