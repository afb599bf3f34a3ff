/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QRS detector, streaming and offline, one lead. Designed from the
 * literature, written from the papers (no code copied):
 *
 *  - Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans
 *    Biomed Eng 32(3):230-236 (1985): band-pass around the QRS energy,
 *    derivative, moving-window integration, adaptive thresholds from
 *    running signal and noise peak levels, 200 ms refractory period, T-wave
 *    discrimination by slope within 360 ms, search-back for missed beats.
 *  - Hamilton PS, Tompkins WJ. Quantitative investigation of QRS detection
 *    rules using the MIT/BIH arrhythmia database. IEEE Trans Biomed Eng
 *    33(12):1157-1165 (1986): peak = maximum confirmed when the feature falls
 *    to half of it or after 95 ms; threshold = noise level + 0.3125 x (QRS
 *    level - noise level) with levels as the mean of the last 8 peaks;
 *    search-back at 1.5 x the mean RR with half the threshold; a peak is
 *    held for a short pre-blanking time so that a larger peak right after it
 *    (the real QRS after a P wave, or the larger lobe of a wide complex)
 *    replaces it.
 *  - Chen HC, Chen SW. A moving average based filtering system with its
 *    application to real time QRS detection. Computers in Cardiology
 *    30:585-588 (2003), and Elgendi M. Fast QRS detection with an optimized
 *    knowledge-based method. PLoS ONE 8(9):e73557 (2013): squaring the
 *    band-passed slope and integrating over a window shorter than the QRS
 *    favours the steep QRS over broad P and T waves of similar energy.
 *
 * Pipeline per sample (all O(1), fixed memory):
 *   x (ADC) -> mV -> 2nd-order Butterworth high-pass 7 Hz -> 2nd-order
 *   Butterworth low-pass 20 Hz (band) -> slope over 10 ms -> squared ->
 *   moving sum over 50 ms (feature f) -> peak finder -> hold / decision ->
 *   beat queue.
 * Signal and noise levels are kept on sqrt(f) (an amplitude) so that a few
 * very large ectopic beats do not lift the threshold over the normal beats.
 * A candidate peak is held for 250 ms after its R peak (never more than
 * 295 ms): a larger peak in that time replaces it, which turns "P wave then
 * QRS" (long PR, large P) into one beat. Between close peaks the one nearer
 * to the expected beat time (last beat + mean RR) is preferred. The R peak
 * is located as the largest |band| sample in the window that produced the
 * feature peak, corrected by the band-pass group delay (30 ms).
 *
 * Streaming reports every beat within MV_SIG_QRS_DELAY_MAX_S of its R peak;
 * a beat found later by search-back is counted in the detector state (so
 * the RR average stays right) but not reported, because it would break the
 * delay bound. Offline detection runs the same state machine over the
 * whole record and reports search-back beats too.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mv_err.h"
#include "mv_sig_qrs.h"

/* One parameter set for every record and every sampling frequency, chosen
 * on the pooled MIT-BIH 100-series (docs/QRS.md); times in seconds. The
 * #ifndef guards only let experiments override a value at compile time. */
#ifndef P_HP_HZ
#define P_HP_HZ 7.0 /* band-pass lower edge */
#endif
#ifndef P_LP_HZ
#define P_LP_HZ 20.0 /* band-pass upper edge */
#endif
#ifndef P_DERIV_S
#define P_DERIV_S 0.010 /* derivative span */
#endif
#ifndef P_WIN_S
#define P_WIN_S 0.050 /* integration window (about half a QRS) */
#endif
#ifndef P_MS95
#define P_MS95 0.095 /* peak confirmation time (Hamilton-Tompkins) */
#endif
#ifndef P_HOLD_S
#define P_HOLD_S 0.250 /* pre-blanking after R: wait for a larger peak */
#endif
#ifndef P_REFRACT_S
#define P_REFRACT_S 0.200 /* no two beats closer than this */
#endif
#ifndef P_TWAVE_S
#define P_TWAVE_S 0.360 /* T-wave check window after a beat */
#endif
#ifndef P_TWAVE_SLOPE
#define P_TWAVE_SLOPE 0.50 /* T wave if max squared slope < this x last QRS's */
#endif
#ifndef P_TH
#define P_TH                                                                   \
  0.35 /* threshold: noise + P_TH x (QRS - noise), on sqrt(feature) */
#endif
#ifndef P_SB_RR
#define P_SB_RR 1.5 /* search-back after this x mean RR */
#endif
#ifndef P_SB_TH
#define P_SB_TH 0.6 /* search-back threshold factor */
#endif
#ifndef P_LEARN_S
#define P_LEARN_S 2.0 /* learning period */
#endif
#ifndef P_NBUF
#define P_NBUF 8 /* peaks / RR averaged */
#endif
#ifndef P_RR_INIT_S
#define P_RR_INIT_S 1.0 /* RR assumed before any is measured */
#endif

#ifndef P_DECIDE_MAX_S
#define P_DECIDE_MAX_S 0.295 /* decide at the latest this long after R */
#endif
#ifndef P_PENDING
/* a rising peak above this x the held peak delays the decision */
#define P_PENDING 0.3
#endif
#ifndef P_FLOOR_MV
#define P_FLOOR_MV 0.02 /* RMS 10 ms slope of the smallest QRS accepted, mV */
#endif
#ifndef P_TIMING_K
/* weight of the RR rhythm when choosing between close peaks */
#define P_TIMING_K 4.0
#endif
#ifndef P_GDELAY_S
#define P_GDELAY_S 0.030 /* band-pass peak delay behind the R peak */
#endif
#ifndef P_STEEPER
#define P_STEEPER 1.0 /* replace a held peak when this much steeper */
#endif

#define RING 1024u /* >= 1.0 s at 1000 Hz; power of two */
#define QCAP 32u   /* queued, not yet returned beats */

struct biquad {
  double b0, b1, b2, a1, a2;
  double z1, z2;
};

struct cand {
  double f;     /* feature peak value */
  int64_t t;    /* sample of the feature maximum */
  int64_t r;    /* located R peak */
  double slope; /* max |derivative| in the QRS window */
};

struct mv_sig_qrs {
  double fs;
  int late_ok; /* offline: report search-back beats too */
  /* sizes in samples */
  int kd, w, ms95, hold, decide_max, refract, twave, learn, gdelay;
  struct biquad hp, lp;
  /* rings indexed by sample & (RING-1) */
  float band[RING];
  float slope[RING];
  double fsum; /* moving sum of slope over w */
  int64_t n;   /* samples consumed */
  double y_last;
  double y0; /* first valid sample, subtracted so the filters start at rest */
  int have_y;
  /* peak finder */
  double pmax;
  int64_t pmax_t;
  /* held candidate */
  int have_cand;
  struct cand cand;
  /* levels */
  double qbuf[P_NBUF], nbuf[P_NBUF];
  double qmean, nmean;
  int qi, ni;
  double rrbuf[P_NBUF];
  double rrmean;
  int rri;
  double learn_max, learn_sec_max;
  int learn_secs;
  int learning;
  /* last beat */
  int64_t last_r;
  int64_t last_t;
  double last_slope;
  int have_last;
  /* search-back candidate since the last beat */
  int have_sb;
  struct cand sb;
  /* output queue */
  int64_t q[QCAP];
  float qa[QCAP]; /* amplitude sqrt(feature) of each queued beat */
  unsigned qh, qn;
};

static void biquad_design(struct biquad *b, double fs, double fc, int high) {
  /* RBJ cookbook / bilinear transform, Q = 1/sqrt(2) (Butterworth). */
  double w0 = 2.0 * M_PI * fc / fs, cw = cos(w0), sw = sin(w0);
  double alpha = sw / (2.0 * M_SQRT1_2), a0 = 1.0 + alpha;
  if (high) {
    b->b0 = (1.0 + cw) / 2.0 / a0;
    b->b1 = -(1.0 + cw) / a0;
  } else {
    b->b0 = (1.0 - cw) / 2.0 / a0;
    b->b1 = (1.0 - cw) / a0;
  }
  b->b2 = b->b0;
  b->a1 = -2.0 * cw / a0;
  b->a2 = (1.0 - alpha) / a0;
  b->z1 = b->z2 = 0.0;
}

static inline double biquad_run(struct biquad *b, double x) {
  /* transposed direct form II */
  double y = b->b0 * x + b->z1;
  b->z1 = b->b1 * x - b->a1 * y + b->z2;
  b->z2 = b->b2 * x - b->a2 * y;
  return y;
}

static int samples_of(double fs, double s) {
  int v = (int)lround(fs * s);
  return v < 1 ? 1 : v;
}

static void state_reset(struct mv_sig_qrs *d) {
  double fs = d->fs;
  int late = d->late_ok;
  memset(d, 0, sizeof(*d));
  d->fs = fs;
  d->late_ok = late;
  d->kd = samples_of(fs, P_DERIV_S);
  d->w = samples_of(fs, P_WIN_S);
  d->ms95 = samples_of(fs, P_MS95);
  d->hold = samples_of(fs, P_HOLD_S);
  /* the decision sample itself and a replacement step may add 2 samples */
  d->decide_max = samples_of(fs, P_DECIDE_MAX_S);
  if (d->decide_max > (int)floor(fs * MV_SIG_QRS_DELAY_MAX_S) - 2)
    d->decide_max = (int)floor(fs * MV_SIG_QRS_DELAY_MAX_S) - 2;
  if (d->hold > d->decide_max)
    d->hold = d->decide_max;
  d->refract = samples_of(fs, P_REFRACT_S);
  d->twave = samples_of(fs, P_TWAVE_S);
  d->learn = samples_of(fs, P_LEARN_S);
  /* Delay of the band-pass peak behind the R peak, measured once for this
   * design as the mean offset to the reference beats (30 ms). */
  d->gdelay = (int)lround(fs * P_GDELAY_S);
  biquad_design(&d->hp, fs, P_HP_HZ, 1);
  biquad_design(&d->lp, fs, P_LP_HZ, 0);
  d->learning = 1;
  d->rrmean = P_RR_INIT_S * fs;
  for (int i = 0; i < P_NBUF; i++)
    d->rrbuf[i] = d->rrmean;
}

static void queue_beat(struct mv_sig_qrs *d, int64_t r, double amp) {
  if (d->qn == QCAP) { /* overflow: drop the oldest */
    d->qh = (d->qh + 1) % QCAP;
    d->qn--;
  }
  d->q[(d->qh + d->qn) % QCAP] = r;
  d->qa[(d->qh + d->qn) % QCAP] = (float)amp;
  d->qn++;
}

static double mean8(const double *v) {
  double s = 0;
  for (int i = 0; i < P_NBUF; i++)
    s += v[i];
  return s / P_NBUF;
}

static double threshold(const struct mv_sig_qrs *d) {
  return d->nmean + P_TH * (d->qmean - d->nmean);
}

/* Locate the R peak and the max slope for a feature peak at sample t: the
 * feature at t sums the slope over (t-w, t]; the QRS lies there. */
static void locate(const struct mv_sig_qrs *d, struct cand *c) {
  int64_t lo = c->t - d->w - d->kd, hi = c->t;
  if (lo < 0)
    lo = 0;
  if (hi >= d->n)
    hi = d->n - 1;
  if (d->n - lo > (int64_t)RING)
    lo = d->n - (int64_t)RING + 1;
  float best = -1.0f, smax = 0.0f;
  int64_t at = c->t;
  for (int64_t i = lo; i <= hi; i++) {
    float v = fabsf(d->band[i & (RING - 1)]);
    if (v > best) {
      best = v;
      at = i;
    }
    float s = d->slope[i & (RING - 1)];
    if (s > smax)
      smax = s;
  }
  at -= d->gdelay;
  if (at < 0)
    at = 0;
  c->r = at;
  c->slope = smax;
}

static void accept_beat(struct mv_sig_qrs *d, const struct cand *c, int late) {
  if (d->have_last) {
    double rr = (double)(c->r - d->last_r);
    /* Only physiologically plausible RR (0.2-3 s) feed the mean. */
    if (rr > 0.2 * d->fs && rr < 3.0 * d->fs) {
      d->rrbuf[d->rri] = rr;
      d->rri = (d->rri + 1) % P_NBUF;
      d->rrmean = mean8(d->rrbuf);
    }
  }
  d->qbuf[d->qi] = sqrt(c->f);
  d->qi = (d->qi + 1) % P_NBUF;
  d->qmean = mean8(d->qbuf);
  d->last_r = c->r;
  d->last_t = c->t;
  d->last_slope = c->slope;
  d->have_last = 1;
  d->have_sb = 0;
  if (!late || d->late_ok)
    queue_beat(d, c->r, sqrt(c->f));
}

static void add_noise(struct mv_sig_qrs *d, double f) {
  d->nbuf[d->ni] = sqrt(f);
  d->ni = (d->ni + 1) % P_NBUF;
  d->nmean = mean8(d->nbuf);
}

/* Decide on the held candidate (pre-blanking over). */
static void decide(struct mv_sig_qrs *d, const struct cand *c) {
  if (d->have_last && c->t - d->last_t < d->refract)
    return; /* refractory: part of the last beat */
  double th = threshold(d);
  int is_qrs = sqrt(c->f) > th && sqrt(c->f / d->w) >= P_FLOOR_MV;
  if (is_qrs && d->have_last && c->t - d->last_t < d->twave &&
      c->slope < P_TWAVE_SLOPE * d->last_slope)
    is_qrs = 0; /* T wave: slow and soon after a beat */
  if (is_qrs) {
    accept_beat(d, c, 0);
    return;
  }
  add_noise(d, c->f);
  /* Remember the largest sub-threshold peak, after the T-wave window, as a
   * search-back candidate. */
  if ((!d->have_last || c->t - d->last_t >= d->twave) &&
      (!d->have_sb || c->f > d->sb.f)) {
    d->sb = *c;
    d->have_sb = 1;
  }
}

static void search_back(struct mv_sig_qrs *d) {
  if (!d->have_last || !d->have_sb || d->have_cand)
    return; /* a held peak may still be the missed beat: decide it first */
  if ((double)(d->n - d->last_t) < P_SB_RR * d->rrmean)
    return;
  if (sqrt(d->sb.f) > P_SB_TH * threshold(d) &&
      sqrt(d->sb.f / d->w) >= P_FLOOR_MV) {
    struct cand c = d->sb;
    accept_beat(d, &c, 1); /* a missed beat; late for streaming */
  } else {
    d->have_sb = 0;
  }
}

static void end_learning(struct mv_sig_qrs *d) {
  double q = d->learn_secs ? sqrt(d->learn_max / d->learn_secs) : 0.0;
  for (int i = 0; i < P_NBUF; i++) {
    d->qbuf[i] = q;
    d->nbuf[i] = 0.0;
  }
  d->qmean = q;
  d->nmean = 0.0;
  d->learning = 0;
}

/* Peak size weighted by how close it is to the expected beat time (last
 * beat + mean RR): among peaks close together, the one in rhythm wins
 * unless the other is clearly larger. */
static double timed(const struct mv_sig_qrs *d, const struct cand *c) {
  if (!d->have_last || P_TIMING_K <= 0.0)
    return c->f;
  double dt = fabs((double)(c->r - d->last_r) - d->rrmean) / d->rrmean;
  double w = 1.0 / (1.0 + P_TIMING_K * dt);
  return c->f * w * w;
}

static void on_peak(struct mv_sig_qrs *d, double f, int64_t t) {
  if (d->learning)
    return;
  struct cand c = {.f = f, .t = t};
  if (d->have_cand) {
    if (t - d->cand.r < d->decide_max) {
      locate(d, &c);
      /* A larger or steeper peak in the hold time replaces the held one:
       * the QRS after a large P wave is steeper even when its energy is
       * lower (record 108-like morphologies). */
      if (timed(d, &c) > timed(d, &d->cand) ||
          c.slope > P_STEEPER * d->cand.slope)
        d->cand = c;
      return;
    }
    decide(d, &d->cand);
    d->have_cand = 0;
  }
  locate(d, &c);
  d->cand = c;
  d->have_cand = 1;
}

static inline void step(struct mv_sig_qrs *d, double y) {
  double b = biquad_run(&d->lp, biquad_run(&d->hp, y));
  int64_t n = d->n;
  unsigned k = (unsigned)n & (RING - 1);
  d->band[k] = (float)b;
  double s = 0.0;
  if (n >= d->kd)
    s = fabs(b - d->band[(unsigned)(n - d->kd) & (RING - 1)]);
  /* the ring holds floats: add exactly what will be subtracted later */
  s = (double)(float)(s * s);
  d->slope[k] = (float)s;
  d->fsum += s;
  if (n >= d->w)
    d->fsum -= d->slope[(unsigned)(n - d->w) & (RING - 1)];
  double f = d->fsum;
  d->n = n + 1;

  if (d->learning) {
    /* Hamilton-Tompkins learning: the mean of the per-second maxima is
     * the initial QRS level. Skip the filter start-up (first 0.3 s). */
    if (n > (int64_t)(0.3 * d->fs) && f > d->learn_sec_max)
      d->learn_sec_max = f;
    if ((n + 1) % (int64_t)lround(d->fs) == 0 && n > (int64_t)(0.3 * d->fs)) {
      d->learn_max += d->learn_sec_max;
      d->learn_sec_max = 0.0;
      d->learn_secs++;
    }
    if (n + 1 >= d->learn)
      end_learning(d);
    return;
  }

  /* Peak finder (Hamilton-Tompkins): track the maximum; confirm it when the
   * feature falls to half of it or 95 ms have passed. */
  if (f > d->pmax) {
    d->pmax = f;
    d->pmax_t = n;
  } else if (d->pmax > 0.0 && (f < 0.5 * d->pmax || n - d->pmax_t > d->ms95)) {
    on_peak(d, d->pmax, d->pmax_t);
    d->pmax = 0.0;
  }
  /* Decide once the hold time (counted from the located R peak) is over
   * and no significant peak that might replace the held one is still being
   * confirmed; never later than P_DECIDE_MAX_S after the R peak, which
   * keeps the reporting delay bounded. */
  if (d->have_cand) {
    int64_t age = n - d->cand.r;
    if (age >= d->decide_max && d->pmax > d->cand.f) {
      /* Out of time while a larger peak is still rising: take it now
       * (its remainder falls in the refractory period). */
      double pm = d->pmax;
      d->pmax = 0.0;
      on_peak(d, pm, d->pmax_t);
    } else if (age >= d->decide_max ||
               (age >= d->hold && !(d->pmax > P_PENDING * d->cand.f))) {
      struct cand c = d->cand;
      d->have_cand = 0;
      decide(d, &c);
    }
  }
  if (d->have_sb && !d->have_cand)
    search_back(d);
}

int mv_sig_qrs_new(double fs_hz, struct mv_sig_qrs **out) {
  if (!out)
    return MV_EINVAL;
  if (!(fs_hz >= MV_SIG_QRS_FS_MIN && fs_hz <= MV_SIG_QRS_FS_MAX))
    return MV_ERANGE;
  struct mv_sig_qrs *d = malloc(sizeof(*d));
  if (!d)
    return MV_ENOMEM;
  d->fs = fs_hz;
  d->late_ok = 0;
  state_reset(d);
  *out = d;
  return MV_OK;
}

void mv_sig_qrs_reset(struct mv_sig_qrs *d) {
  if (d)
    state_reset(d);
}

void mv_sig_qrs_free(struct mv_sig_qrs *d) {
  free(d);
}

/* Move queued beats to beats (and their amplitudes to amp, when not
 * NULL). */
static size_t drain_amp(struct mv_sig_qrs *d, int64_t *beats, float *amp,
                        size_t cap) {
  size_t k = 0;
  while (d->qn && k < cap) {
    if (amp)
      amp[k] = d->qa[d->qh];
    beats[k++] = d->q[d->qh];
    d->qh = (d->qh + 1) % QCAP;
    d->qn--;
  }
  return k;
}

static size_t drain(struct mv_sig_qrs *d, int64_t *beats, size_t cap) {
  return drain_amp(d, beats, NULL, cap);
}

static double sane_gain(double g) {
  return (isfinite(g) && g > 0.0) ? g : 200.0;
}

static void feed(struct mv_sig_qrs *d, const int32_t *x, size_t n,
                 size_t stride, double gain, int32_t baseline) {
  double inv = 1.0 / sane_gain(gain);
  for (size_t i = 0; i < n; i++) {
    int32_t v = x[i * stride];
    double y;
    if (v == MV_SIG_QRS_INVALID) {
      y = d->have_y ? d->y_last : 0.0;
    } else {
      y = ((double)v - (double)baseline) * inv;
      if (!d->have_y)
        d->y0 = y;
      y -= d->y0;
      d->y_last = y;
      d->have_y = 1;
    }
    step(d, y);
  }
}

size_t mv_sig_qrs_push(struct mv_sig_qrs *d, const int32_t *x, size_t n,
                       double gain_adu_per_mv, int32_t baseline_adu,
                       int64_t *beats, size_t cap) {
  if (!d)
    return 0;
  if (!beats)
    cap = 0;
  size_t k = 0;
  if (x && n) {
    /* Feed in slices of 1 s (at most 5 beats) and drain between them, so
     * the queue only fills when the caller's buffer is full. */
    size_t slice = (size_t)d->fs;
    for (size_t off = 0; off < n; off += slice) {
      size_t m = n - off < slice ? n - off : slice;
      feed(d, x + off, m, 1, gain_adu_per_mv, baseline_adu);
      k += drain(d, beats + k, cap - k);
    }
  }
  return k + drain(d, beats + k, cap - k);
}

size_t mv_sig_qrs_flush(struct mv_sig_qrs *d, int64_t *beats, size_t cap) {
  if (!d)
    return 0;
  if (d->have_cand) {
    struct cand c = d->cand;
    d->have_cand = 0;
    decide(d, &c);
  }
  return beats ? drain(d, beats, cap) : 0;
}

/* Offline detection on one lead (arguments checked by the caller). When
 * out_amp is not NULL it also returns each beat's amplitude (sqrt of the
 * feature peak), for the multi-lead fusion. */
static int detect_one(const int32_t *x, size_t n, size_t stride, double fs_hz,
                      double gain_adu_per_mv, int32_t baseline_adu,
                      int64_t **out_beats, float **out_amp, size_t *out_n) {
  int rc = MV_OK;
  struct mv_sig_qrs *d = NULL;
  int64_t *v = NULL;
  float *va = NULL;
  size_t nv = 0, capv = 0;
  rc = mv_sig_qrs_new(fs_hz, &d);
  if (rc)
    goto out;
  /* Offline may look ahead: learn the QRS level on the first seconds, then
   * start over at sample 0 already knowing it, so the first beats are not
   * lost to the learning period as they are when streaming. */
  size_t nlearn = (size_t)d->learn;
  if (n > nlearn) {
    feed(d, x, nlearn + 1, stride, gain_adu_per_mv, baseline_adu);
    double q = d->qmean;
    state_reset(d);
    end_learning(d);
    for (int i = 0; i < P_NBUF; i++)
      d->qbuf[i] = q;
    d->qmean = q;
  }
  d->late_ok = 1;
  /* at most one beat per refractory period */
  capv = MV_SIG_QRS_BEATS_MAX(n, fs_hz);
  v = malloc(capv * sizeof(*v));
  if (out_amp)
    va = malloc(capv * sizeof(*va));
  if (!v || (out_amp && !va)) {
    rc = MV_ENOMEM;
    goto out;
  }
  size_t chunk = (size_t)fs_hz; /* 1 s: the queue (32) never overflows */
  for (size_t off = 0; off < n; off += chunk) {
    size_t m = n - off < chunk ? n - off : chunk;
    feed(d, x + off * stride, m, stride, gain_adu_per_mv, baseline_adu);
    nv += drain_amp(d, v + nv, va ? va + nv : NULL, capv - nv);
  }
  if (d->have_cand) { /* end of record: decide the held candidate */
    struct cand c = d->cand;
    d->have_cand = 0;
    decide(d, &c);
  }
  nv += drain_amp(d, v + nv, va ? va + nv : NULL, capv - nv);
  /* Search-back beats arrive after later ones only in theory (they are
   * taken before any newer beat); keep the output sorted regardless. */
  for (size_t i = 1; i < nv; i++)
    for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
      int64_t t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
      if (va) {
        float ta = va[j];
        va[j] = va[j - 1];
        va[j - 1] = ta;
      }
    }
  if (nv == 0) {
    free(v);
    free(va);
    v = NULL;
    va = NULL;
  }
  *out_beats = v;
  if (out_amp)
    *out_amp = va;
  *out_n = nv;
  v = NULL;
  va = NULL;
out:
  free(v);
  free(va);
  mv_sig_qrs_free(d);
  return rc;
}

int mv_sig_qrs_detect(const int32_t *x, size_t n, size_t stride, double fs_hz,
                      double gain_adu_per_mv, int32_t baseline_adu,
                      int64_t **out_beats, size_t *out_n) {
  if (!out_beats || !out_n || (!x && n) || stride == 0)
    return MV_EINVAL;
  if (!(fs_hz >= MV_SIG_QRS_FS_MIN && fs_hz <= MV_SIG_QRS_FS_MAX))
    return MV_ERANGE;
  if (n > MV_SIG_QRS_SAMPLES_MAX)
    return MV_ETOOBIG;
  return detect_one(x, n, stride, fs_hz, gain_adu_per_mv, baseline_adu,
                    out_beats, NULL, out_n);
}

/* ---- Two-lead fusion (offline) -------------------------------------------
 * Each lead is detected on its own; the two beat lists are then merged by
 * a signal quality index of each lead around each beat, the decision-level
 * fusion used by multi-lead detectors (Li Q, Mark RG, Clifford GD. Robust
 * heart rate estimation from multiple asynchronous noisy sources using
 * signal quality indices and a Kalman filter. Physiol Meas 29:15-32
 * (2008); Johnson AEW et al. Multimodal heart beat detection using signal
 * quality indices. Physiol Meas 36:1665-1677 (2015)).
 *
 * Quality of a lead around t, from its own beats within P_FUSE_WIN_S of t:
 * minus (mean relative change between successive RR intervals + P_FUSE_WAMP
 * x standard deviation of the log beat amplitude). Noise on a lead adds
 * false beats and hides real ones, which makes that lead's rhythm irregular
 * and its beat amplitudes scattered; a rhythm seen on both leads (ectopic
 * beats) costs both leads about the same.
 *
 * A beat found on both leads within P_FUSE_MATCH_S is kept (at the first
 * lead's position). A beat found on one lead only is kept when that lead is
 * the better one there, where the second lead must be better by the margin
 * P_FUSE_MARGIN (the first lead is the primary one, e.g. MLII): where both
 * leads are clean the result is the first lead's beats. No two output beats
 * are closer than the refractory period. */
#ifndef P_FUSE_MATCH_S
#define P_FUSE_MATCH_S 0.100 /* same beat on both leads */
#endif
#ifndef P_FUSE_WIN_S
#define P_FUSE_WIN_S 40.0 /* quality window, each side */
#endif
#ifndef P_FUSE_WAMP
#define P_FUSE_WAMP 2.0 /* weight of the amplitude scatter */
#endif
#ifndef P_FUSE_MARGIN
#define P_FUSE_MARGIN 0.15 /* the second lead must be this much better */
#endif

struct lead_beats {
  int64_t *b; /* beats, ascending */
  float *a;   /* their amplitudes */
  size_t n;
};

static double quality_at(const struct lead_beats *l, int64_t t, int64_t w) {
  size_t lo = 0, hi = l->n;
  while (lo < hi) { /* first beat >= t - w */
    size_t m = lo + (hi - lo) / 2;
    if (l->b[m] < t - w)
      lo = m + 1;
    else
      hi = m;
  }
  double irr = 0.0, sa = 0.0, sa2 = 0.0;
  size_t k = 0, kr = 0;
  for (size_t i = lo; i < l->n && l->b[i] <= t + w; i++, k++) {
    double a = log((double)l->a[i] > 1e-9 ? (double)l->a[i] : 1e-9);
    sa += a;
    sa2 += a * a;
    if (i >= lo + 2) {
      double r1 = (double)(l->b[i] - l->b[i - 1]);
      double r0 = (double)(l->b[i - 1] - l->b[i - 2]);
      irr += (r1 > r0 ? r1 / r0 : r0 / r1) - 1.0;
      kr++;
    }
  }
  if (kr == 0)
    return -10.0; /* fewer than 3 beats in 2 x P_FUSE_WIN_S: unusable */
  double m = sa / (double)k, var = sa2 / (double)k - m * m;
  return -(irr / (double)kr + P_FUSE_WAMP * sqrt(var > 0.0 ? var : 0.0));
}

static size_t fuse2(const struct lead_beats *a, const struct lead_beats *b,
                    double fs, int64_t *out) {
  int64_t mw = (int64_t)lround(P_FUSE_MATCH_S * fs);
  int64_t w = (int64_t)lround(P_FUSE_WIN_S * fs);
  int64_t refract = samples_of(fs, P_REFRACT_S);
  size_t i = 0, j = 0, k = 0;
  while (i < a->n || j < b->n) {
    int64_t t;
    int keep;
    if (i < a->n && j < b->n && llabs(a->b[i] - b->b[j]) <= mw) {
      t = a->b[i++];
      j++;
      keep = 1;
    } else if (j >= b->n || (i < a->n && a->b[i] < b->b[j])) {
      t = a->b[i++];
      keep = !(quality_at(b, t, w) > quality_at(a, t, w) + P_FUSE_MARGIN);
    } else {
      t = b->b[j++];
      keep = quality_at(b, t, w) > quality_at(a, t, w) + P_FUSE_MARGIN;
    }
    if (keep && (k == 0 || t - out[k - 1] >= refract))
      out[k++] = t;
  }
  return k;
}

int mv_sig_qrs_detect_leads(const int32_t *x, size_t n, size_t stride,
                            double fs_hz, const struct mv_sig_qrs_lead *leads,
                            size_t n_leads, int64_t **out_beats,
                            size_t *out_n) {
  if (!out_beats || !out_n || (!x && n) || stride == 0 || !leads ||
      n_leads == 0 || n_leads > MV_SIG_QRS_LEADS_MAX)
    return MV_EINVAL;
  for (size_t l = 0; l < n_leads; l++)
    if (leads[l].offset >= stride)
      return MV_EINVAL;
  if (!(fs_hz >= MV_SIG_QRS_FS_MIN && fs_hz <= MV_SIG_QRS_FS_MAX))
    return MV_ERANGE;
  if (n > MV_SIG_QRS_SAMPLES_MAX)
    return MV_ETOOBIG;
  if (n_leads == 1)
    return detect_one(x ? x + leads[0].offset : x, n, stride, fs_hz,
                      leads[0].gain_adu_per_mv, leads[0].baseline_adu,
                      out_beats, NULL, out_n);
  struct lead_beats lb[2] = {{0}};
  int64_t *v = NULL;
  size_t nv = 0;
  int rc = MV_OK;
  for (size_t l = 0; l < 2; l++) {
    rc = detect_one(x ? x + leads[l].offset : x, n, stride, fs_hz,
                    leads[l].gain_adu_per_mv, leads[l].baseline_adu, &lb[l].b,
                    &lb[l].a, &lb[l].n);
    if (rc)
      goto out;
  }
  if (lb[0].n + lb[1].n > 0) {
    v = malloc((lb[0].n + lb[1].n) * sizeof(*v));
    if (!v) {
      rc = MV_ENOMEM;
      goto out;
    }
    nv = fuse2(&lb[0], &lb[1], fs_hz, v);
  }
  if (nv == 0) {
    free(v);
    v = NULL;
  }
  *out_beats = v;
  *out_n = nv;
  v = NULL;
out:
  free(v);
  for (size_t l = 0; l < 2; l++) {
    free(lb[l].b);
    free(lb[l].a);
  }
  return rc;
}

static int prefix_ci(const char *s, const char *p) {
  for (; *p; s++, p++)
    if (!*s || (*s | 0x20) != (*p | 0x20))
      return 0;
  return 1;
}

static int equal_ci(const char *s, const char *p) {
  return prefix_ci(s, p) && s[strlen(p)] == '\0';
}

int mv_sig_qrs_is_ecg_lead(const char *desc, const char *units) {
  if (units && units[0] && !equal_ci(units, "mv") && !equal_ci(units, "uv"))
    return 0;
  if (!desc || !desc[0])
    return 0;
  static const char *const limb[] = {"I", "II", "III", "aVR", "aVL", "aVF"};
  for (size_t i = 0; i < sizeof(limb) / sizeof(limb[0]); i++)
    if (equal_ci(desc, limb[i]))
      return 1;
  if ((desc[0] == 'V' || desc[0] == 'v') && desc[1] >= '1' && desc[1] <= '9' &&
      desc[2] == '\0')
    return 1;
  return prefix_ci(desc, "ML") || prefix_ci(desc, "ECG") ||
         prefix_ci(desc, "EKG");
}
