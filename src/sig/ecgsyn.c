/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECGSYN, implemented from McSharry, Clifford, Tarassenko and Sharma,
 * "A dynamical model for generating synthetic electrocardiogram signals",
 * IEEE Trans. Biomed. Eng. 50(3):289-294, 2003 (below: "the paper").
 *
 * The state (x, y, z) follows the paper's eq. 3: (x, y) moves on the unit
 * limit cycle at angular speed omega = 2*pi/RR, and z, the ECG, is pushed by
 * five Gaussian events P, Q, R, S, T at angles theta_i with amplitudes a_i
 * and widths b_i (Table 1), and relaxes to the baseline. It is integrated
 * with fourth-order Runge-Kutta at an internal rate of about 1 kHz (an
 * integer multiple of the output rate) and sampled at the output rate, as
 * the paper does. Beat k's RR interval holds from its R peak (theta = 0) to
 * the next, so the R-peak times are known exactly; they are reported as the
 * nearest output sample. The generator runs one output sample ahead so that
 * a beat is always reported with the chunk holding its sample.
 *
 * Deliberate departures from the paper, each for streaming use:
 * - RR intervals: the paper shapes the tachogram's spectrum (eq. 2: two
 *   Gaussians at the Mayer-wave and RSA frequencies, power ratio LF/HF) by
 *   giving random phases to the spectrum's amplitudes and inverting the
 *   FFT. We evaluate the same random-phase sum of cosines directly at each
 *   beat's time, which needs no block and allows a mean rate that changes
 *   over time (scenarios).
 * - Amplitude: the paper rescales the whole finished signal to a range in
 *   mV, which a stream cannot. We map z to mV with a factor measured once
 *   on a calm beat at 60 /min (range 1.6 mV, the paper's -0.4..1.2 mV).
 *   A wave's height is about a_i * b_i^2 / omega; since the widths b_i grow
 *   with sqrt(hr/60) (below), the heights stay the same at any heart rate.
 *   Respiratory baseline wander (the paper's z0) is added in mV at the
 *   output.
 * - Rate dependence: the paper notes the event angles and widths must
 *   follow the heart rate (QT shortening); as in its reference
 *   implementation, widths scale with sqrt(hr/60), the Q and S angles with
 *   sqrt(hr/60) and the P and T angles with its square root. Angles are
 *   updated once per cycle (at theta = pi, between T and P), widths with
 *   each RR interval.
 * - Atrial fibrillation (not in the paper): independent log-normal RR
 *   intervals, no P wave, and small fibrillatory waves (~6 Hz).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mv_err.h"
#include "mv_sig.h"
#include "sim_int.h"

/* Table 1 of the paper: P, Q, R, S, T. */
static const double theta0[5] = {-M_PI / 3.0, -M_PI / 12.0, 0.0, M_PI / 12.0,
                                 M_PI / 2.0};
static const double a0[5] = {1.2, -5.0, 30.0, -7.5, 0.75};
static const double b0[5] = {0.25, 0.1, 0.1, 0.1, 0.4};

#define N_SPECTRAL 128     /* cosines in the RR spectrum, 1/256 Hz apart */
#define PENDING_BEATS 8    /* beats found but not yet reported */
#define AFIB_RR_SIGMA 0.22 /* log-normal sigma of AF RR intervals */
#define AFIB_FWAVE_MV 0.05 /* fibrillatory wave amplitude */
#define AFIB_FWAVE_HZ 6.0
#define RANGE_MV 1.6 /* peak-to-peak of a calm beat (the paper) */

struct morph {
  double theta[5], a[5];
  double bb[5]; /* squared widths, rad^2, for the current omega */
};

struct mv_sig_ecgsyn {
  struct mv_sig_ecgsyn_params p;
  struct sim_rng rng;
  double fs, fsi; /* output and internal rates, Hz */
  unsigned k;     /* internal steps per output sample */
  double x, y, z; /* model state */
  double omega;   /* rad/s of the current RR interval */
  struct morph m; /* event parameters of the current cycle */
  double hr_mean; /* constant mean rate (when no hr_fn) */
  mv_sig_hr_fn hr_fn;
  void *hr_ctx;
  enum mv_sig_rhythm rhythm;
  double mv_per_z; /* output scale */
  double spec_amp[N_SPECTRAL], spec_phase[N_SPECTRAL], spec_f[N_SPECTRAL];
  int64_t step;         /* internal steps done */
  int64_t pos;          /* index of the next output sample */
  double cur_z, next_z; /* z at samples pos and pos + 1 */
  double fwave_phase;
  int64_t pending[PENDING_BEATS];
  unsigned n_pending;
};

static double wrap_pi(double a) {
  a = fmod(a + M_PI, 2.0 * M_PI);
  if (a < 0)
    a += 2.0 * M_PI;
  return a - M_PI;
}

static double clampd(double v, double lo, double hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* Event angles for a cycle at hr_bpm (see the file comment). */
static void morph_for(struct morph *m, double hr_bpm, enum mv_sig_rhythm r) {
  double f = sqrt(hr_bpm / 60.0), f2 = sqrt(f);
  static const double ang_pow[5] = {0.5, 1.0, 0.0, 1.0, 0.5};
  for (int i = 0; i < 5; i++) {
    m->theta[i] = theta0[i] * (ang_pow[i] == 1.0   ? f
                               : ang_pow[i] == 0.5 ? f2
                                                   : 1.0);
    m->a[i] = a0[i];
  }
  if (r == MV_SIG_RHYTHM_AFIB)
    m->a[0] = 0.0; /* no organised atrial activity: no P wave */
}

/* Widths b_i = b0_i * sqrt(hr/60) for the RR interval that starts now, so
 * b_i^2 = b0_i^2 * omega / (2 pi). Following omega itself (not the cycle's
 * rate) keeps every wave's height a_i b_i^2 / omega the same even when
 * consecutive RR intervals differ a lot (atrial fibrillation). */
static void set_omega(struct mv_sig_ecgsyn *g, double omega);

/* The paper's eq. 3 (z0 = 0: respiration is added at the output). */
static void deriv(const struct mv_sig_ecgsyn *g, const double s[3],
                  double d[3]) {
  double x = s[0], y = s[1], z = s[2];
  double alpha = 1.0 - sqrt(x * x + y * y);
  double w = g->omega;
  d[0] = alpha * x - w * y;
  d[1] = alpha * y + w * x;
  double th = atan2(y, x), f = 0.0;
  for (int i = 0; i < 5; i++) {
    double dt = wrap_pi(th - g->m.theta[i]);
    double bb = g->m.bb[i];
    if (dt * dt > 60.0 * bb)
      continue; /* exp(-30): nothing left of this wave */
    f += g->m.a[i] * dt * exp(-dt * dt / (2.0 * bb));
  }
  d[2] = -f - z;
}

static void rk4(struct mv_sig_ecgsyn *g, double h) {
  double s[3] = {g->x, g->y, g->z}, k1[3], k2[3], k3[3], k4[3], t[3];
  deriv(g, s, k1);
  for (int i = 0; i < 3; i++)
    t[i] = s[i] + 0.5 * h * k1[i];
  deriv(g, t, k2);
  for (int i = 0; i < 3; i++)
    t[i] = s[i] + 0.5 * h * k2[i];
  deriv(g, t, k3);
  for (int i = 0; i < 3; i++)
    t[i] = s[i] + h * k3[i];
  deriv(g, t, k4);
  g->x = s[0] + h / 6.0 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]);
  g->y = s[1] + h / 6.0 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]);
  g->z = s[2] + h / 6.0 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2]);
}

static double mean_hr_at(const struct mv_sig_ecgsyn *g, double t_s) {
  double hr = g->hr_fn ? g->hr_fn(g->hr_ctx, t_s) : g->hr_mean;
  if (!(hr == hr)) /* NaN from a source */
    hr = 60.0;
  return clampd(hr, MV_SIG_ECGSYN_HR_MIN, MV_SIG_ECGSYN_HR_MAX);
}

/* The paper's eq. 2 as a random-phase cosine sum with unit variance. */
static void spectrum_init(struct mv_sig_ecgsyn *g) {
  const struct mv_sig_ecgsyn_params *p = &g->p;
  double s1 = p->lf_hf, s2 = 1.0, sum = 0.0;
  for (int j = 0; j < N_SPECTRAL; j++) {
    double f = (j + 1) / 256.0;
    double lf = s1 / sqrt(2 * M_PI * p->c_lf_hz * p->c_lf_hz) *
                exp(-(f - p->f_lf_hz) * (f - p->f_lf_hz) /
                    (2 * p->c_lf_hz * p->c_lf_hz));
    double hf = s2 / sqrt(2 * M_PI * p->c_hf_hz * p->c_hf_hz) *
                exp(-(f - p->f_hf_hz) * (f - p->f_hf_hz) /
                    (2 * p->c_hf_hz * p->c_hf_hz));
    g->spec_f[j] = f;
    g->spec_amp[j] = sqrt(lf + hf);
    g->spec_phase[j] = 2 * M_PI * sim_rng_unif(&g->rng);
    sum += (lf + hf) / 2.0; /* variance of amp*cos(.) is amp^2/2 */
  }
  double norm = sum > 0 ? 1.0 / sqrt(sum) : 0.0;
  for (int j = 0; j < N_SPECTRAL; j++)
    g->spec_amp[j] *= norm;
}

/* RR interval (s) of the beat whose R peak is at t_s. */
static double next_rr(struct mv_sig_ecgsyn *g, double t_s) {
  double hr = mean_hr_at(g, t_s), mean = 60.0 / hr, rr;
  if (g->rhythm == MV_SIG_RHYTHM_AFIB) {
    double s = AFIB_RR_SIGMA;
    rr = mean * exp(s * sim_rng_gauss(&g->rng) - s * s / 2.0);
  } else {
    double v = 0.0;
    for (int j = 0; j < N_SPECTRAL; j++)
      v += g->spec_amp[j] *
           cos(2 * M_PI * g->spec_f[j] * t_s + g->spec_phase[j]);
    rr = mean + 60.0 * g->p.hr_std_bpm / (hr * hr) * v;
  }
  return fmax(rr, MV_SIG_ECGSYN_RR_MIN_S);
}

static void set_omega(struct mv_sig_ecgsyn *g, double omega) {
  g->omega = omega;
  for (int i = 0; i < 5; i++)
    g->m.bb[i] = b0[i] * b0[i] * omega / (2.0 * M_PI);
}

static void push_beat(struct mv_sig_ecgsyn *g, int64_t idx) {
  if (g->n_pending < PENDING_BEATS) /* RR >= 0.25 s: never more than 2 */
    g->pending[g->n_pending++] = idx;
}

/* Integrate one output sample period; return z at its end. */
static double advance(struct mv_sig_ecgsyn *g) {
  double h = 1.0 / g->fsi;
  for (unsigned i = 0; i < g->k; i++) {
    double th0 = atan2(g->y, g->x);
    rk4(g, h);
    g->step++;
    double th1 = atan2(g->y, g->x);
    if (th0 < 0 && th1 >= 0 && th0 > -M_PI / 2) {
      /* R peak: theta crossed 0 inside this step. */
      double frac = -th0 / (th1 - th0);
      double t = ((double)(g->step - 1) + frac) / g->fsi;
      push_beat(g, (int64_t)llround(t * g->fs));
      set_omega(g, 2.0 * M_PI / next_rr(g, t));
    } else if (th0 > M_PI / 2 && th1 < -M_PI / 2) {
      /* A new cycle (between T and P): this beat's morphology. */
      morph_for(&g->m, 60.0 * g->omega / (2.0 * M_PI), g->rhythm);
    }
  }
  return g->z;
}

void mv_sig_ecgsyn_params_default(struct mv_sig_ecgsyn_params *p) {
  memset(p, 0, sizeof(*p));
  p->fs_hz = 250.0;
  p->hr_bpm = 60.0;
  p->hr_std_bpm = 1.0;
  p->lf_hf = 0.5;
  p->f_lf_hz = 0.1;
  p->f_hf_hz = 0.25;
  p->c_lf_hz = 0.01;
  p->c_hf_hz = 0.01;
  p->resp_mv = 0.15;
  p->noise_mv = 0.0;
  p->rhythm = MV_SIG_RHYTHM_SINUS;
  p->seed = 1;
}

static int check(const struct mv_sig_ecgsyn_params *p, struct mv_diag *diag) {
#define BAD(field, cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      mv_diag_set(diag, MV_EINVAL, "ECGSYN parameter out of range");           \
      mv_diag_set_path(diag, field);                                           \
      return MV_EINVAL;                                                        \
    }                                                                          \
  } while (0)
  BAD("fs_hz",
      p->fs_hz >= MV_SIG_ECGSYN_FS_MIN && p->fs_hz <= MV_SIG_ECGSYN_FS_MAX);
  BAD("hr_bpm",
      p->hr_bpm >= MV_SIG_ECGSYN_HR_MIN && p->hr_bpm <= MV_SIG_ECGSYN_HR_MAX);
  BAD("hr_std_bpm", p->hr_std_bpm >= 0 && p->hr_std_bpm <= 30);
  BAD("lf_hf", p->lf_hf >= 0 && p->lf_hf <= 100);
  BAD("f_lf_hz", p->f_lf_hz > 0 && p->f_lf_hz < 0.5);
  BAD("f_hf_hz", p->f_hf_hz > 0 && p->f_hf_hz < 0.5);
  BAD("c_lf_hz", p->c_lf_hz > 0 && p->c_lf_hz <= 0.1);
  BAD("c_hf_hz", p->c_hf_hz > 0 && p->c_hf_hz <= 0.1);
  BAD("resp_mv", p->resp_mv >= 0 && p->resp_mv <= 5);
  BAD("noise_mv", p->noise_mv >= 0 && p->noise_mv <= 5);
  BAD("rhythm",
      p->rhythm == MV_SIG_RHYTHM_SINUS || p->rhythm == MV_SIG_RHYTHM_AFIB);
#undef BAD
  return MV_OK;
}

/* z range of a calm sinus beat at 60 /min (third beat, after the start-up
 * transient), integrated at 1 kHz: the scale from model units to mV. */
static double calibrate(void) {
  struct mv_sig_ecgsyn c;
  memset(&c, 0, sizeof(c));
  c.fsi = 1000.0;
  c.x = -1.0;
  c.y = -1e-9;
  morph_for(&c.m, 60.0, MV_SIG_RHYTHM_SINUS);
  set_omega(&c, 2.0 * M_PI);
  double lo = 0, hi = 0;
  for (int i = 0; i < 3000; i++) {
    rk4(&c, 1.0 / c.fsi);
    if (i >= 2000) {
      lo = fmin(lo, c.z);
      hi = fmax(hi, c.z);
    }
  }
  return hi > lo ? RANGE_MV / (hi - lo) : 1.0;
}

int mv_sig_ecgsyn_new(const struct mv_sig_ecgsyn_params *p,
                      struct mv_diag *diag, struct mv_sig_ecgsyn **out) {
  int rc = check(p, diag);
  if (rc != MV_OK)
    return rc;
  struct mv_sig_ecgsyn *g = calloc(1, sizeof(*g));
  if (!g)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  g->p = *p;
  sim_rng_seed(&g->rng, p->seed, 0x45434753u /* "ECGS" */);
  g->fs = p->fs_hz;
  g->k = (unsigned)ceil(1000.0 / p->fs_hz);
  if (g->k < 1)
    g->k = 1;
  g->fsi = g->fs * g->k;
  g->hr_mean = p->hr_bpm;
  g->rhythm = p->rhythm;
  g->mv_per_z = calibrate();
  spectrum_init(g);
  /* Start at theta = -pi (diastole): the first R peak comes after half an
   * RR interval, with a complete P wave before it. */
  g->x = -1.0;
  g->y = -1e-9;
  g->z = 0.0;
  set_omega(g, 2.0 * M_PI / next_rr(g, 0.0));
  morph_for(&g->m, 60.0 * g->omega / (2.0 * M_PI), g->rhythm);
  g->fwave_phase = 2 * M_PI * sim_rng_unif(&g->rng);
  g->cur_z = g->z;
  g->next_z = advance(g);
  *out = g;
  return MV_OK;
}

void mv_sig_ecgsyn_free(struct mv_sig_ecgsyn *g) {
  free(g);
}

void mv_sig_ecgsyn_set_hr(struct mv_sig_ecgsyn *g, double hr_bpm) {
  if (hr_bpm == hr_bpm)
    g->hr_mean = clampd(hr_bpm, MV_SIG_ECGSYN_HR_MIN, MV_SIG_ECGSYN_HR_MAX);
}

void mv_sig_ecgsyn_set_hr_fn(struct mv_sig_ecgsyn *g, mv_sig_hr_fn fn,
                             void *ctx) {
  g->hr_fn = fn;
  g->hr_ctx = fn ? ctx : NULL;
}

void mv_sig_ecgsyn_set_rhythm(struct mv_sig_ecgsyn *g, enum mv_sig_rhythm r) {
  if (r == MV_SIG_RHYTHM_SINUS || r == MV_SIG_RHYTHM_AFIB)
    g->rhythm = r;
}

size_t mv_sig_ecgsyn_beats_max(const struct mv_sig_ecgsyn *g, size_t n) {
  /* Beats are at least RR_MIN apart; one more for the chunk's edges and the
   * beat found during the look-ahead sample. */
  return (size_t)((double)n / (g->fs * MV_SIG_ECGSYN_RR_MIN_S)) + 2;
}

int64_t mv_sig_ecgsyn_position(const struct mv_sig_ecgsyn *g) {
  return g->pos;
}

int mv_sig_ecgsyn_generate(struct mv_sig_ecgsyn *g, double *out_mv, size_t n,
                           int64_t *beats, size_t beats_cap,
                           size_t *out_nbeats) {
  if (beats && beats_cap < mv_sig_ecgsyn_beats_max(g, n))
    return MV_EINVAL;
  size_t nb = 0;
  const struct mv_sig_ecgsyn_params *p = &g->p;
  for (size_t i = 0; i < n; i++) {
    double t = (double)g->pos / g->fs;
    double v =
        g->mv_per_z * g->cur_z + p->resp_mv * sin(2 * M_PI * p->f_hf_hz * t);
    if (g->rhythm == MV_SIG_RHYTHM_AFIB) {
      /* f waves: a sinusoid whose phase wanders (irregular atrial rate). */
      g->fwave_phase += 2 * M_PI * AFIB_FWAVE_HZ / g->fs *
                        (1.0 + 0.2 * sim_rng_gauss(&g->rng));
      v += AFIB_FWAVE_MV * sin(g->fwave_phase);
    }
    if (p->noise_mv > 0)
      v += p->noise_mv * sim_rng_gauss(&g->rng);
    out_mv[i] = v;
    /* Beats whose nearest sample is this one were found while integrating
     * the look-ahead sample. */
    unsigned keep = 0;
    for (unsigned j = 0; j < g->n_pending; j++) {
      if (g->pending[j] <= g->pos) {
        if (beats && nb < beats_cap)
          beats[nb++] = g->pending[j];
      } else {
        g->pending[keep++] = g->pending[j];
      }
    }
    g->n_pending = keep;
    g->pos++;
    g->cur_z = g->next_z;
    g->next_z = advance(g);
  }
  if (out_nbeats)
    *out_nbeats = nb;
  return MV_OK;
}

size_t mv_sig_mv_to_adc(const double *mv, size_t n, double gain, int baseline,
                        int16_t *out) {
  size_t sat = 0;
  for (size_t i = 0; i < n; i++) {
    double v = nearbyint(mv[i] * gain) + baseline;
    if (!(v == v))
      v = baseline;
    if (v >= INT16_MAX) {
      v = INT16_MAX;
      sat++;
    } else if (v <= INT16_MIN) {
      v = INT16_MIN;
      sat++;
    }
    out[i] = (int16_t)v;
  }
  return sat;
}
