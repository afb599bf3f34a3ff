/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QRS detector on synthetic ECG generated here with known beat times: a sum
 * of Gaussian waves per beat (P, Q, R, S, T; the T wave moves with the RR as
 * in Bazett's QT scaling), in ADC units (gain 200 adu/mV, baseline 1024 like
 * MIT-BIH), with optional white noise, baseline wander and mains hum. Checks
 * every true beat is found within 50 ms and nothing else is, at normal,
 * tachycardic (200 /min) and bradycardic (30 /min) rates and at 128-1000 Hz;
 * a flat line gives no beats; streaming equals offline; the streaming delay
 * bound; the API's argument checks and the bounded output queue.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mv_err.h"
#include "mv_sig_qrs.h"

#define GAIN 200.0
#define BASE 1024

static uint64_t rng_state;
static double urand(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}
static double nrand(void) {
  double u1 = urand() + 1e-12, u2 = urand();
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

struct synth {
  double fs, dur_s, hr_bpm, rr_jitter; /* relative RR jitter (uniform +-) */
  double noise_mv, wander_mv, mains_mv, amp;
  uint64_t seed;
};

/* Generates the signal (returned, caller frees) and the true R peak sample
 * indexes (*out_r, caller frees). */
static int32_t *synth_ecg(const struct synth *s, size_t *out_n, int64_t **out_r,
                          size_t *out_nr) {
  size_t n = (size_t)(s->fs * s->dur_s);
  double *y = calloc(n, sizeof(*y));
  int64_t *r = calloc(n / 10 + 16, sizeof(*r));
  size_t nr = 0;
  assert_non_null(y);
  assert_non_null(r);
  rng_state = s->seed ? s->seed : 1;
  double rr0 = 60.0 / s->hr_bpm, t = 0.4;
  double amp = s->amp > 0 ? s->amp : 1.0;
  while (t < s->dur_s - 0.1) {
    double rr = rr0 * (1.0 + s->rr_jitter * (2.0 * urand() - 1.0));
    double sq = sqrt(rr);
    /* (offset s, amplitude mV, width s) */
    const double w[5][3] = {{-0.16 * sq, 0.12, 0.022},
                            {-0.025, -0.12, 0.008},
                            {0.0, 1.0, 0.009},
                            {0.025, -0.25, 0.009},
                            {0.26 * sq, 0.30, 0.045 * sq}};
    int64_t ri = (int64_t)llround(t * s->fs);
    r[nr++] = ri;
    for (int k = 0; k < 5; k++) {
      double c = t + w[k][0], a = amp * w[k][1], sd = w[k][2];
      int64_t lo = (int64_t)((c - 5 * sd) * s->fs),
              hi = (int64_t)((c + 5 * sd) * s->fs);
      for (int64_t i = lo < 0 ? 0 : lo; i <= hi && i < (int64_t)n; i++) {
        double dt = (double)i / s->fs - c;
        y[i] += a * exp(-0.5 * dt * dt / (sd * sd));
      }
    }
    t += rr;
  }
  int32_t *x = malloc(n * sizeof(*x));
  assert_non_null(x);
  for (size_t i = 0; i < n; i++) {
    double ts = (double)i / s->fs;
    double v = y[i] + s->noise_mv * nrand() +
               s->wander_mv * sin(2 * M_PI * 0.3 * ts) +
               0.5 * s->wander_mv * sin(2 * M_PI * 0.07 * ts + 1.0) +
               s->mains_mv * sin(2 * M_PI * 50.0 * ts);
    x[i] = (int32_t)lround(v * GAIN) + BASE;
  }
  free(y);
  *out_n = n;
  *out_r = r;
  *out_nr = nr;
  return x;
}

/* Count true beats after skip_s matched within 50 ms (one-to-one) and
 * detections after skip_s that match nothing. */
static void score(const int64_t *ref, size_t nref, const int64_t *det,
                  size_t ndet, double fs, double skip_s, size_t *tp, size_t *fn,
                  size_t *fp) {
  int64_t win = (int64_t)(0.05 * fs), skip = (int64_t)(skip_s * fs);
  char *used = calloc(ndet + 1, 1);
  assert_non_null(used);
  *tp = *fn = *fp = 0;
  for (size_t i = 0; i < nref; i++) {
    long best = -1;
    int64_t bd = win + 1;
    for (size_t j = 0; j < ndet; j++) {
      int64_t dd = llabs(det[j] - ref[i]);
      if (!used[j] && dd < bd) {
        bd = dd;
        best = (long)j;
      }
    }
    if (best >= 0)
      used[best] = 1;
    if (ref[i] < skip)
      continue;
    if (best >= 0)
      (*tp)++;
    else
      (*fn)++;
  }
  for (size_t j = 0; j < ndet; j++)
    if (!used[j] && det[j] >= skip)
      (*fp)++;
  free(used);
}

static void run_case(const struct synth *s) {
  size_t n, nr, nd, tp, fn, fp;
  int64_t *r, *d = NULL;
  int32_t *x = synth_ecg(s, &n, &r, &nr);
  assert_int_equal(mv_sig_qrs_detect(x, n, 1, s->fs, GAIN, BASE, &d, &nd),
                   MV_OK);
  score(r, nr, d, nd, s->fs, 0.3, &tp, &fn, &fp); /* offline: from the start */
  if (fn || fp)
    print_message("fs=%g hr=%g noise=%g: tp=%zu fn=%zu fp=%zu\n", s->fs,
                  s->hr_bpm, s->noise_mv, tp, fn, fp);
  assert_true(tp > 0);
  assert_int_equal(fn, 0);
  assert_int_equal(fp, 0);
  free(x);
  free(r);
  free(d);
}

static void qrs_clean_normal_rate(void **st) {
  (void)st;
  struct synth s = {
      .fs = 360, .dur_s = 120, .hr_bpm = 72, .rr_jitter = 0.05, .seed = 7};
  run_case(&s);
}

static void qrs_noise_wander_mains(void **st) {
  (void)st;
  struct synth s = {.fs = 360,
                    .dur_s = 120,
                    .hr_bpm = 80,
                    .rr_jitter = 0.08,
                    .noise_mv = 0.04,
                    .wander_mv = 0.8,
                    .mains_mv = 0.1,
                    .seed = 11};
  run_case(&s);
}

static void qrs_tachycardia_200(void **st) {
  (void)st;
  struct synth s = {.fs = 360,
                    .dur_s = 60,
                    .hr_bpm = 200,
                    .rr_jitter = 0.02,
                    .noise_mv = 0.01,
                    .seed = 3};
  run_case(&s);
}

static void qrs_bradycardia_30(void **st) {
  (void)st;
  struct synth s = {.fs = 360,
                    .dur_s = 120,
                    .hr_bpm = 30,
                    .rr_jitter = 0.05,
                    .noise_mv = 0.01,
                    .seed = 5};
  run_case(&s);
}

static void qrs_other_rates_and_gains(void **st) {
  (void)st;
  const double fss[] = {128, 250, 500, 1000};
  for (size_t i = 0; i < sizeof(fss) / sizeof(fss[0]); i++) {
    struct synth s = {.fs = fss[i],
                      .dur_s = 60,
                      .hr_bpm = 65,
                      .rr_jitter = 0.05,
                      .noise_mv = 0.01,
                      .seed = 13 + i,
                      .amp = i % 2 ? 0.3 : 2.0};
    run_case(&s);
  }
}

static void qrs_flat_line_no_beats(void **st) {
  (void)st;
  size_t n = 360 * 60, nd = 99;
  int32_t *x = malloc(n * sizeof(*x));
  int64_t *d = NULL;
  assert_non_null(x);
  for (size_t i = 0; i < n; i++)
    x[i] = 1024;
  assert_int_equal(mv_sig_qrs_detect(x, n, 1, 360, GAIN, BASE, &d, &nd), MV_OK);
  assert_int_equal(nd, 0);
  assert_null(d);
  /* all samples invalid, and a flat line with tiny noise */
  for (size_t i = 0; i < n; i++)
    x[i] = MV_SIG_QRS_INVALID;
  assert_int_equal(mv_sig_qrs_detect(x, n, 1, 360, GAIN, BASE, &d, &nd), MV_OK);
  assert_int_equal(nd, 0);
  rng_state = 99;
  for (size_t i = 0; i < n; i++)
    x[i] = 1024 + (urand() < 0.5 ? 0 : 1);
  assert_int_equal(mv_sig_qrs_detect(x, n, 1, 360, GAIN, BASE, &d, &nd), MV_OK);
  assert_true(nd <= 2);
  free(d);
  free(x);
}

/* Offline beats before the first streaming one (the streaming learning
 * period, 2 s); the first streaming beat must come within 3 s. */
static size_t offline_skip(const int64_t *off, size_t noff, const int64_t *str,
                           size_t nstr, double fs) {
  assert_true(nstr > 0);
  assert_true((double)str[0] < 3.0 * fs);
  size_t k = 0;
  while (k < noff && off[k] < str[0] - 2)
    k++;
  return k;
}

/* Streaming with odd chunk sizes gives the same beats as offline when no
 * search-back is needed, and every beat comes within the delay bound. */
static void qrs_streaming_matches_offline_and_delay(void **st) {
  (void)st;
  struct synth s = {.fs = 250,
                    .dur_s = 120,
                    .hr_bpm = 95,
                    .rr_jitter = 0.1,
                    .noise_mv = 0.02,
                    .wander_mv = 0.3,
                    .seed = 21};
  size_t n, nr, nd;
  int64_t *r, *d = NULL;
  int32_t *x = synth_ecg(&s, &n, &r, &nr);
  assert_int_equal(mv_sig_qrs_detect(x, n, 1, s.fs, GAIN, BASE, &d, &nd),
                   MV_OK);

  struct mv_sig_qrs *q = NULL;
  assert_int_equal(mv_sig_qrs_new(s.fs, &q), MV_OK);
  int64_t *sb = calloc(nd + 64, sizeof(*sb));
  assert_non_null(sb);
  size_t ns = 0, off = 0, step = 1;
  int64_t max_delay = 0;
  while (off < n) {
    size_t m = step < n - off ? step : n - off;
    size_t k =
        mv_sig_qrs_push(q, x + off, m, GAIN, BASE, sb + ns, nd + 64 - ns);
    off += m;
    for (size_t i = 0; i < k; i++) {
      int64_t delay = (int64_t)off - sb[ns + i];
      if (delay > max_delay)
        max_delay = delay;
    }
    ns += k;
    step = step * 7 % 61 + 1; /* 1..61 samples per push */
  }
  ns += mv_sig_qrs_flush(q, sb + ns, nd + 64 - ns);
  /* streaming learns for 2 s; offline primes itself and also has those */
  size_t skip = offline_skip(d, nd, sb, ns, s.fs);
  assert_int_equal(ns + skip, nd);
  for (size_t i = 0; i < ns; i++)
    assert_true(llabs(sb[i] - d[i + skip]) <= 2);
  /* chunked pushes can overshoot by the chunk (61 samples) */
  assert_true(max_delay <= (int64_t)(MV_SIG_QRS_DELAY_MAX_S * s.fs) + 61);

  /* sample by sample: the bound itself, measured against the true R peaks */
  mv_sig_qrs_reset(q);
  max_delay = 0;
  size_t found = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t b[4];
    size_t k = mv_sig_qrs_push(q, x + i, 1, GAIN, BASE, b, 4);
    for (size_t j = 0; j < k; j++) {
      /* nearest true beat */
      int64_t best = INT64_MAX;
      for (size_t t = 0; t < nr; t++)
        if (llabs(r[t] - b[j]) < llabs(best - b[j]))
          best = r[t];
      int64_t delay = (int64_t)(i + 1) - best;
      if (delay > max_delay)
        max_delay = delay;
      found++;
    }
  }
  assert_true(found + 3 >= nr); /* first ~2 s are the learning period */
  print_message("max streaming delay %.1f ms\n",
                1000.0 * (double)max_delay / s.fs);
  assert_true((double)max_delay <= MV_SIG_QRS_DELAY_MAX_S * s.fs);
  mv_sig_qrs_free(q);
  free(sb);
  free(x);
  free(r);
  free(d);
}

static void qrs_small_cap_keeps_beats(void **st) {
  (void)st;
  struct synth s = {.fs = 360, .dur_s = 60, .hr_bpm = 120, .seed = 4};
  size_t n, nr, nd;
  int64_t *r, *d = NULL;
  int32_t *x = synth_ecg(&s, &n, &r, &nr);
  assert_int_equal(mv_sig_qrs_detect(x, n, 1, s.fs, GAIN, BASE, &d, &nd),
                   MV_OK);
  struct mv_sig_qrs *q = NULL;
  assert_int_equal(mv_sig_qrs_new(s.fs, &q), MV_OK);
  /* push 10 s at a time but take at most 1 beat per call: the queue keeps
   * the rest (bounded, 32), drained by later calls with n = 0 */
  int64_t got[256];
  size_t ng = 0;
  for (size_t off = 0; off < n; off += 3600) {
    size_t m = n - off < 3600 ? n - off : 3600;
    ng += mv_sig_qrs_push(q, x + off, m, GAIN, BASE, got + ng, 1);
    size_t k;
    while ((k = mv_sig_qrs_push(q, NULL, 0, GAIN, BASE, got + ng, 1)) > 0)
      ng += k;
  }
  ng += mv_sig_qrs_flush(q, got + ng, 256 - ng);
  size_t skip = offline_skip(d, nd, got, ng, s.fs);
  assert_int_equal(ng + skip, nd);
  for (size_t i = 0; i < ng; i++)
    assert_true(llabs(got[i] - d[i + skip]) <= 2);
  mv_sig_qrs_free(q);
  free(x);
  free(r);
  free(d);
}

static void qrs_interleaved_stride(void **st) {
  (void)st;
  struct synth s = {.fs = 360, .dur_s = 30, .hr_bpm = 70, .seed = 8};
  size_t n, nr, n1, n2;
  int64_t *r, *d1 = NULL, *d2 = NULL;
  int32_t *x = synth_ecg(&s, &n, &r, &nr);
  int32_t *y = malloc(2 * n * sizeof(*y));
  assert_non_null(y);
  for (size_t i = 0; i < n; i++) {
    y[2 * i] = 0;
    y[2 * i + 1] = x[i];
  }
  assert_int_equal(mv_sig_qrs_detect(x, n, 1, s.fs, GAIN, BASE, &d1, &n1),
                   MV_OK);
  assert_int_equal(mv_sig_qrs_detect(y + 1, n, 2, s.fs, GAIN, BASE, &d2, &n2),
                   MV_OK);
  assert_int_equal(n1, n2);
  assert_memory_equal(d1, d2, n1 * sizeof(*d1));
  free(y);
  free(x);
  free(r);
  free(d1);
  free(d2);
}

static void qrs_bad_arguments(void **st) {
  (void)st;
  struct mv_sig_qrs *q = (struct mv_sig_qrs *)0x1;
  assert_int_equal(mv_sig_qrs_new(50.0, &q), MV_ERANGE);
  assert_int_equal(mv_sig_qrs_new(2000.0, &q), MV_ERANGE);
  assert_int_equal(mv_sig_qrs_new(NAN, &q), MV_ERANGE);
  assert_ptr_equal(q, (struct mv_sig_qrs *)0x1); /* untouched */
  assert_int_equal(mv_sig_qrs_new(360, NULL), MV_EINVAL);
  int32_t x[4] = {0};
  int64_t *d = NULL;
  size_t nd = 0;
  assert_int_equal(mv_sig_qrs_detect(x, 4, 0, 360, GAIN, 0, &d, &nd),
                   MV_EINVAL);
  assert_int_equal(mv_sig_qrs_detect(NULL, 4, 1, 360, GAIN, 0, &d, &nd),
                   MV_EINVAL);
  assert_int_equal(mv_sig_qrs_detect(x, 4, 1, 360, GAIN, 0, NULL, &nd),
                   MV_EINVAL);
  assert_int_equal(mv_sig_qrs_detect(x, 4, 1, 10, GAIN, 0, &d, &nd), MV_ERANGE);
  assert_int_equal(mv_sig_qrs_detect(x, 0, 1, 360, GAIN, 0, &d, &nd), MV_OK);
  assert_int_equal(nd, 0);
  /* NULL detector and bad gains are harmless */
  assert_int_equal(mv_sig_qrs_push(NULL, x, 4, GAIN, 0, NULL, 0), 0);
  assert_int_equal(mv_sig_qrs_flush(NULL, NULL, 0), 0);
  mv_sig_qrs_free(NULL);
  mv_sig_qrs_reset(NULL);
  assert_int_equal(mv_sig_qrs_new(360, &q), MV_OK);
  assert_int_equal(mv_sig_qrs_push(q, x, 4, NAN, 0, NULL, 0), 0);
  assert_int_equal(mv_sig_qrs_push(q, x, 4, -5, 0, NULL, 0), 0);
  mv_sig_qrs_free(q);
}

/* Two leads interleaved: lead 0 = a, lead 1 = b. */
static int32_t *interleave(const int32_t *a, const int32_t *b, size_t n) {
  int32_t *y = malloc(2 * n * sizeof(*y));
  assert_non_null(y);
  for (size_t i = 0; i < n; i++) {
    y[2 * i] = a[i];
    y[2 * i + 1] = b[i];
  }
  return y;
}

/* Two clean leads: the fused result is the primary lead's beats; one lead
 * through mv_sig_qrs_detect_leads is mv_sig_qrs_detect. */
static void qrs_two_leads_clean(void **st) {
  (void)st;
  struct synth s0 = {.fs = 360,
                     .dur_s = 60,
                     .hr_bpm = 75,
                     .rr_jitter = 0.05,
                     .noise_mv = 0.01,
                     .seed = 21};
  struct synth s1 = s0;
  s1.amp = 0.5;
  s1.noise_mv = 0.02;
  size_t n, nr, nd0, nd1, ndf;
  int64_t *r0, *r1, *d0 = NULL, *d1 = NULL, *df = NULL;
  int32_t *a = synth_ecg(&s0, &n, &r0, &nr);
  int32_t *b = synth_ecg(&s1, &n, &r1, &nr);
  int32_t *y = interleave(a, b, n);
  struct mv_sig_qrs_lead L[2] = {{0, GAIN, BASE}, {1, GAIN, BASE}};
  assert_int_equal(mv_sig_qrs_detect(y, n, 2, s0.fs, GAIN, BASE, &d0, &nd0),
                   MV_OK);
  assert_int_equal(mv_sig_qrs_detect_leads(y, n, 2, s0.fs, L, 1, &d1, &nd1),
                   MV_OK);
  assert_int_equal(nd0, nd1);
  assert_memory_equal(d0, d1, nd0 * sizeof(*d0));
  assert_int_equal(mv_sig_qrs_detect_leads(y, n, 2, s0.fs, L, 2, &df, &ndf),
                   MV_OK);
  assert_int_equal(nd0, ndf);
  assert_memory_equal(d0, df, nd0 * sizeof(*d0));
  free(a);
  free(b);
  free(y);
  free(r0);
  free(r1);
  free(d0);
  free(d1);
  free(df);
}

/* Lead 0 carries bursts of in-band noise larger than its QRS, lead 1 is
 * clean: lead 0 alone makes many errors, the two-lead detector follows lead
 * 1 through the bursts (what remains is at the burst edges, where the
 * quality window straddles clean and noisy signal). */
#define NOISE_K 3.0
static void qrs_two_leads_noisy_primary(void **st) {
  (void)st;
  struct synth s0 = {.fs = 360,
                     .dur_s = 240,
                     .hr_bpm = 72,
                     .rr_jitter = 0.05,
                     .noise_mv = 0.01,
                     .seed = 33};
  struct synth s1 = s0;
  s1.amp = 0.6;
  size_t n, nr, nd0, ndf, tp, fn0, fp0, fn, fp;
  int64_t *r, *r1, *d0 = NULL, *df = NULL;
  int32_t *a = synth_ecg(&s0, &n, &r, &nr);
  int32_t *b = synth_ecg(&s1, &n, &r1, &nr);
  /* bursts 60-120 s and 160-200 s: 5-25 Hz noise (difference of two
   * moving averages of white noise), about 1 mV */
  rng_state = 99;
  double m1 = 0, m2 = 0;
  for (size_t i = 0; i < n; i++) {
    double t = (double)i / s0.fs, w = nrand();
    m1 += 0.35 * (w - m1);
    m2 += 0.06 * (m1 - m2);
    if ((t >= 60 && t < 120) || (t >= 160 && t < 200))
      a[i] += (int32_t)lround(NOISE_K * (m1 - m2) * GAIN);
  }
  int32_t *y = interleave(a, b, n);
  struct mv_sig_qrs_lead L[2] = {{0, GAIN, BASE}, {1, GAIN, BASE}};
  assert_int_equal(mv_sig_qrs_detect(y, n, 2, s0.fs, GAIN, BASE, &d0, &nd0),
                   MV_OK);
  assert_int_equal(mv_sig_qrs_detect_leads(y, n, 2, s0.fs, L, 2, &df, &ndf),
                   MV_OK);
  score(r, nr, d0, nd0, s0.fs, 0.3, &tp, &fn0, &fp0);
  score(r, nr, df, ndf, s0.fs, 0.3, &tp, &fn, &fp);
  print_message("noisy lead 0 alone: fn=%zu fp=%zu; two leads: fn=%zu fp=%zu "
                "(of %zu beats)\n",
                fn0, fp0, fn, fp, nr);
  assert_true(fn0 + fp0 >= 50); /* the bursts really hurt lead 0 */
  assert_true(fn + fp <= (fn0 + fp0) / 5);
  assert_true(fn + fp <= nr / 10);
  free(a);
  free(b);
  free(y);
  free(r);
  free(r1);
  free(d0);
  free(df);
}

static void qrs_two_leads_bad_arguments(void **st) {
  (void)st;
  int32_t x[8] = {0};
  int64_t *d = (int64_t *)0x1;
  size_t nd = 7;
  struct mv_sig_qrs_lead L[3] = {{0, GAIN, 0}, {1, GAIN, 0}, {1, GAIN, 0}};
  assert_int_equal(mv_sig_qrs_detect_leads(x, 4, 2, 360, L, 0, &d, &nd),
                   MV_EINVAL);
  assert_int_equal(mv_sig_qrs_detect_leads(x, 4, 2, 360, L, 3, &d, &nd),
                   MV_EINVAL);
  assert_int_equal(mv_sig_qrs_detect_leads(x, 4, 2, 360, NULL, 2, &d, &nd),
                   MV_EINVAL);
  assert_int_equal(mv_sig_qrs_detect_leads(x, 4, 1, 360, L, 2, &d, &nd),
                   MV_EINVAL); /* offset 1 >= stride 1 */
  assert_int_equal(mv_sig_qrs_detect_leads(x, 4, 0, 360, L, 2, &d, &nd),
                   MV_EINVAL);
  assert_int_equal(mv_sig_qrs_detect_leads(NULL, 4, 2, 360, L, 2, &d, &nd),
                   MV_EINVAL);
  assert_int_equal(mv_sig_qrs_detect_leads(x, 4, 2, 20, L, 2, &d, &nd),
                   MV_ERANGE);
  assert_ptr_equal(d, (int64_t *)0x1); /* untouched on error */
  assert_int_equal(nd, 7);
  assert_int_equal(mv_sig_qrs_detect_leads(x, 4, 2, 360, L, 2, &d, &nd), MV_OK);
  assert_int_equal(nd, 0);
  assert_null(d);
  /* a flat pair of leads gives no beats */
  assert_int_equal(mv_sig_qrs_detect_leads(x, 0, 2, 360, L, 2, &d, &nd), MV_OK);
  assert_int_equal(nd, 0);
}

static void qrs_ecg_lead_names(void **st) {
  (void)st;
  assert_true(mv_sig_qrs_is_ecg_lead("MLII", "mV"));
  assert_true(mv_sig_qrs_is_ecg_lead("V1", "mV"));
  assert_true(mv_sig_qrs_is_ecg_lead("v5", ""));
  assert_true(mv_sig_qrs_is_ecg_lead("aVF", NULL));
  assert_true(mv_sig_qrs_is_ecg_lead("II", "uV"));
  assert_true(mv_sig_qrs_is_ecg_lead("ECG lead 2", "mV"));
  assert_false(mv_sig_qrs_is_ecg_lead("ABP", "mmHg"));
  assert_false(mv_sig_qrs_is_ecg_lead("MLII", "mmHg"));
  assert_false(mv_sig_qrs_is_ecg_lead("RESP", "mV"));
  assert_false(mv_sig_qrs_is_ecg_lead("V10", "mV"));
  assert_false(mv_sig_qrs_is_ecg_lead("IV", "mV"));
  assert_false(mv_sig_qrs_is_ecg_lead("", "mV"));
  assert_false(mv_sig_qrs_is_ecg_lead(NULL, NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(qrs_clean_normal_rate),
      cmocka_unit_test(qrs_noise_wander_mains),
      cmocka_unit_test(qrs_tachycardia_200),
      cmocka_unit_test(qrs_bradycardia_30),
      cmocka_unit_test(qrs_other_rates_and_gains),
      cmocka_unit_test(qrs_flat_line_no_beats),
      cmocka_unit_test(qrs_streaming_matches_offline_and_delay),
      cmocka_unit_test(qrs_small_cap_keeps_beats),
      cmocka_unit_test(qrs_interleaved_stride),
      cmocka_unit_test(qrs_bad_arguments),
      cmocka_unit_test(qrs_two_leads_clean),
      cmocka_unit_test(qrs_two_leads_noisy_primary),
      cmocka_unit_test(qrs_two_leads_bad_arguments),
      cmocka_unit_test(qrs_ecg_lead_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
