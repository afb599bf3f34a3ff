/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-chunk signal quality: four simple, explainable rules rather than one
 * opaque index, because each flag must say to a clinician why a trace was
 * not trusted. Flat line (peak-to-peak below a floor, or one value held too
 * long: a disconnected or saturated front end), clipping (samples at the
 * ADC rails), out-of-range amplitude (beyond what the body produces) and
 * noise (share of the AC energy above the signal's band, after the
 * "high-frequency noise" criterion of ECG quality indices such as
 * Clifford et al., Physiol. Meas. 33 (2012) 1419, simplified to one band).
 * Thresholds and their boundaries are in docs/SIGNALS.md.
 */
#include <math.h>

#include "mv_dev.h"
#include "mv_sig_filter.h"

void mv_sig_quality_limits_default(struct mv_sig_quality_limits *lim,
                                   enum mv_sig_signal sig) {
  switch (sig) {
  case MV_SIG_PLETH: /* arbitrary units, pulse band < 10 Hz */
    *lim = (struct mv_sig_quality_limits){.flat_p2p = 1e-3,
                                          .flat_run_s = 1.0,
                                          .clip_frac = 0.01,
                                          .abs_max = 1e9,
                                          .noise_hz = 15,
                                          .noise_ratio = 0.3};
    break;
  case MV_SIG_RESP: /* Ohm, breathing band < 2 Hz */
    *lim = (struct mv_sig_quality_limits){.flat_p2p = 1e-3,
                                          .flat_run_s = 0,
                                          .clip_frac = 0.01,
                                          .abs_max = 1e4,
                                          .noise_hz = 10,
                                          .noise_ratio = 0.3};
    break;
  default: /* ECG, mV */
    *lim = (struct mv_sig_quality_limits){.flat_p2p = 0.05,
                                          .flat_run_s = 1.0,
                                          .clip_frac = 0.01,
                                          .abs_max = 5.0,
                                          .noise_hz = 40,
                                          .noise_ratio = 0.3};
    break;
  }
}

static int check_chunk(const struct mv_sig_chunk *c,
                       const struct mv_sig_quality_limits *lim,
                       struct mv_sig_quality *out, struct mv_diag *d) {
  if (!c || !lim || !out || !c->x)
    return mv_diag_set(d, MV_EINVAL, "missing chunk, limits or output");
  if (c->n == 0)
    return mv_diag_set(d, MV_EINVAL, "empty chunk");
  if (!isfinite(c->gain) || c->gain <= 0)
    return mv_diag_set(d, MV_EINVAL, "gain must be > 0");
  if (!isfinite(c->fs_hz) || c->fs_hz <= 0)
    return mv_diag_set(d, MV_EINVAL, "sampling rate must be > 0");
  if (c->adc_min >= c->adc_max)
    return mv_diag_set(d, MV_EINVAL, "adc_min must be < adc_max");
  return MV_OK;
}

static bool at_rail(const struct mv_sig_chunk *c, int32_t v) {
  return v <= c->adc_min || v >= c->adc_max;
}

static double chunk_mean(const struct mv_sig_chunk *c) {
  double sum = 0;
  for (size_t i = 0; i < c->n; i++)
    sum += c->x[i];
  return sum / (double)c->n;
}

/* Amplitude, clipping and flat-run measures in one pass. The amplitude is
 * measured from the chunk's mean, not from the ADC baseline: a DC offset
 * (electrode polarisation, a header's baseline convention) says nothing
 * about the heart, and drift is the baseline filter's business. */
static void measure_levels(const struct mv_sig_chunk *c,
                           struct mv_sig_quality *q) {
  int32_t lo = c->x[0], hi = c->x[0];
  size_t rail = 0, run = 0, best = 0;
  double max_dev = 0, mean = chunk_mean(c);
  for (size_t i = 0; i < c->n; i++) {
    int32_t v = c->x[i];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    max_dev = fmax(max_dev, fabs((double)v - mean));
    if (at_rail(c, v)) {
      rail++;
      run = 0;
      continue;
    }
    run = (i > 0 && c->x[i - 1] == v) ? run + 1 : 1;
    best = run > best ? run : best;
  }
  q->p2p = (double)(hi - lo) / c->gain;
  q->max_abs = max_dev / c->gain;
  q->clip_frac = (double)rail / (double)c->n;
  q->flat_run_s = (double)best / c->fs_hz;
}

/* High-band energy / AC energy; 0 when the rate is outside the filters'
 * 100..2000 Hz, the band edge is not below 0.45 fs, or there is no AC. */
static double measure_noise(const struct mv_sig_chunk *c, double noise_hz) {
  struct mv_sig_filter hp;
  if (mv_sig_filter_init_baseline(&hp, c->fs_hz, noise_hz, NULL) != MV_OK)
    return 0;
  double mean = chunk_mean(c);
  mv_sig_filter_prime(&hp, c->x[0] - mean);
  double ac = 0, high = 0;
  for (size_t i = 0; i < c->n; i++) {
    double v = c->x[i] - mean, h = mv_sig_filter_push(&hp, v);
    ac += v * v;
    high += h * h;
  }
  return ac > 0 ? fmin(1.0, high / ac) : 0;
}

int mv_sig_quality_check(const struct mv_sig_chunk *c,
                         const struct mv_sig_quality_limits *lim,
                         struct mv_sig_quality *out, struct mv_diag *diag) {
  int rc = check_chunk(c, lim, out, diag);
  if (rc != MV_OK)
    return rc;
  struct mv_sig_quality q = {0};
  measure_levels(c, &q);
  q.noise_ratio = measure_noise(c, lim->noise_hz);
  if (q.p2p < lim->flat_p2p ||
      (lim->flat_run_s > 0 && q.flat_run_s >= lim->flat_run_s))
    q.flags |= MV_DEV_Q_FLAT;
  if (q.clip_frac >= lim->clip_frac && q.clip_frac > 0)
    q.flags |= MV_DEV_Q_CLIPPED;
  if (q.max_abs > lim->abs_max)
    q.flags |= MV_DEV_Q_RANGE;
  if (q.noise_ratio > lim->noise_ratio)
    q.flags |= MV_DEV_Q_NOISY;
  *out = q;
  return MV_OK;
}
