/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IIR filters as cascades of biquads. Coefficients follow R. Bristow-
 * Johnson, "Cookbook formulae for audio EQ biquad filter coefficients"
 * (the bilinear transform with the design frequency pre-warped, so cut-offs
 * and the notch centre are exact at any sampling rate). A 4th-order
 * Butterworth high- or low-pass is two sections with Q = 1 / (2 cos(pi/8))
 * and 1 / (2 cos(3 pi/8)). Sections run in transposed direct form II, which
 * keeps the state small and is well conditioned in double precision even
 * for a 0.5 Hz high-pass at 2 kHz. Zero-phase filtering runs the cascade
 * forward then backward (as MATLAB/SciPy filtfilt) with each pass started
 * in the steady state of its first sample, which removes most of the
 * start-up transient without padding.
 */
#include <complex.h>
#include <math.h>
#include <string.h>

#include "mv_sig_filter.h"

#define PI 3.14159265358979323846
#define IN_MAX 1e15
#define NOTCH_Q_DEFAULT 30.0

enum shape { LOWPASS, HIGHPASS, NOTCH };

static struct mv_sig_biquad rbj(enum shape sh, double fs, double f0, double q) {
  double w0 = 2 * PI * f0 / fs, c = cos(w0), alpha = sin(w0) / (2 * q);
  double b0, b1, b2, a0 = 1 + alpha, a1 = -2 * c, a2 = 1 - alpha;
  switch (sh) {
  case LOWPASS:
    b0 = (1 - c) / 2, b1 = 1 - c, b2 = (1 - c) / 2;
    break;
  case HIGHPASS:
    b0 = (1 + c) / 2, b1 = -(1 + c), b2 = (1 + c) / 2;
    break;
  default:
    b0 = 1, b1 = -2 * c, b2 = 1;
    break;
  }
  return (struct mv_sig_biquad){b0 / a0, b1 / a0, b2 / a0, a1 / a0,
                                a2 / a0, 0,       0};
}

/* Two sections of a 4th-order Butterworth. */
static void butter4(struct mv_sig_filter *f, enum shape sh, double fs,
                    double fc) {
  f->s[f->n++] = rbj(sh, fs, fc, 1 / (2 * cos(PI / 8)));
  f->s[f->n++] = rbj(sh, fs, fc, 1 / (2 * cos(3 * PI / 8)));
}

static int check_freq(double v, double fs, const char *name,
                      struct mv_diag *d) {
  if (!isfinite(v) || v < 0 || (v > 0 && v >= 0.45 * fs)) {
    mv_diag_set(d, MV_EINVAL, "%s must be 0 (off) or in (0, 0.45 fs)", name);
    mv_diag_set_path(d, name);
    return MV_EINVAL;
  }
  return MV_OK;
}

static int check_spec(const struct mv_sig_filter_spec *sp, struct mv_diag *d) {
  if (!sp || !isfinite(sp->fs_hz) || sp->fs_hz < MV_SIG_FILTER_FS_MIN ||
      sp->fs_hz > MV_SIG_FILTER_FS_MAX) {
    mv_diag_set(d, MV_EINVAL, "sampling rate must be 100..2000 Hz");
    mv_diag_set_path(d, "fs_hz");
    return MV_EINVAL;
  }
  if (check_freq(sp->highpass_hz, sp->fs_hz, "highpass_hz", d) ||
      check_freq(sp->lowpass_hz, sp->fs_hz, "lowpass_hz", d) ||
      check_freq(sp->notch_hz, sp->fs_hz, "notch_hz", d))
    return MV_EINVAL;
  if (sp->highpass_hz > 0 && sp->lowpass_hz > 0 &&
      sp->highpass_hz >= sp->lowpass_hz)
    return mv_diag_set(d, MV_EINVAL, "empty band: highpass >= lowpass");
  if (sp->highpass_hz == 0 && sp->lowpass_hz == 0 && sp->notch_hz == 0)
    return mv_diag_set(d, MV_EINVAL, "no filter part enabled");
  if (!isfinite(sp->notch_q) || sp->notch_q < 0)
    return mv_diag_set(d, MV_EINVAL, "notch_q must be >= 0");
  return MV_OK;
}

int mv_sig_filter_init(struct mv_sig_filter *f,
                       const struct mv_sig_filter_spec *spec,
                       struct mv_diag *diag) {
  int rc = check_spec(spec, diag);
  if (rc != MV_OK)
    return rc;
  struct mv_sig_filter g = {0};
  double fs = spec->fs_hz;
  if (spec->highpass_hz > 0)
    butter4(&g, HIGHPASS, fs, spec->highpass_hz);
  if (spec->notch_hz > 0)
    g.s[g.n++] = rbj(NOTCH, fs, spec->notch_hz,
                     spec->notch_q > 0 ? spec->notch_q : NOTCH_Q_DEFAULT);
  if (spec->lowpass_hz > 0)
    butter4(&g, LOWPASS, fs, spec->lowpass_hz);
  *f = g;
  return MV_OK;
}

int mv_sig_filter_init_baseline(struct mv_sig_filter *f, double fs_hz,
                                double cut_hz, struct mv_diag *diag) {
  struct mv_sig_filter_spec s = {.fs_hz = fs_hz, .highpass_hz = cut_hz};
  if (!(cut_hz > 0))
    return mv_diag_set(diag, MV_EINVAL, "cut-off must be > 0");
  return mv_sig_filter_init(f, &s, diag);
}

int mv_sig_filter_init_notch(struct mv_sig_filter *f, double fs_hz,
                             double mains_hz, struct mv_diag *diag) {
  struct mv_sig_filter_spec s = {.fs_hz = fs_hz, .notch_hz = mains_hz};
  if (!(mains_hz > 0))
    return mv_diag_set(diag, MV_EINVAL, "mains frequency must be > 0");
  return mv_sig_filter_init(f, &s, diag);
}

int mv_sig_filter_init_bandpass(struct mv_sig_filter *f, double fs_hz,
                                double lo_hz, double hi_hz,
                                struct mv_diag *diag) {
  struct mv_sig_filter_spec s = {
      .fs_hz = fs_hz, .highpass_hz = lo_hz, .lowpass_hz = hi_hz};
  if (!(lo_hz > 0) || !(hi_hz > 0))
    return mv_diag_set(diag, MV_EINVAL, "band edges must be > 0");
  return mv_sig_filter_init(f, &s, diag);
}

void mv_sig_filter_reset(struct mv_sig_filter *f) {
  for (size_t i = 0; i < f->n; i++)
    f->s[i].z1 = f->s[i].z2 = 0;
}

void mv_sig_filter_prime(struct mv_sig_filter *f, double x) {
  double u = isfinite(x) ? fmax(-IN_MAX, fmin(IN_MAX, x)) : 0;
  for (size_t i = 0; i < f->n; i++) {
    struct mv_sig_biquad *s = &f->s[i];
    double g = (s->b0 + s->b1 + s->b2) / (1 + s->a1 + s->a2);
    double y = g * u;
    s->z2 = s->b2 * u - s->a2 * y;
    s->z1 = s->b1 * u - s->a1 * y + s->z2;
    u = y;
  }
}

double mv_sig_filter_push(struct mv_sig_filter *f, double x) {
  double v = isfinite(x) ? fmax(-IN_MAX, fmin(IN_MAX, x)) : 0;
  for (size_t i = 0; i < f->n; i++) {
    struct mv_sig_biquad *s = &f->s[i];
    double y = s->b0 * v + s->z1;
    s->z1 = s->b1 * v - s->a1 * y + s->z2;
    s->z2 = s->b2 * v - s->a2 * y;
    v = y;
  }
  return v;
}

void mv_sig_filter_run(struct mv_sig_filter *f, const double *x, double *y,
                       size_t n) {
  for (size_t i = 0; i < n; i++)
    y[i] = mv_sig_filter_push(f, x[i]);
}

void mv_sig_filter_zero_phase(const struct mv_sig_filter *f, const double *x,
                              double *y, size_t n) {
  if (n == 0)
    return;
  struct mv_sig_filter g = *f;
  mv_sig_filter_prime(&g, x[0]);
  mv_sig_filter_run(&g, x, y, n);
  g = *f;
  mv_sig_filter_prime(&g, y[n - 1]);
  for (size_t i = n; i-- > 0;)
    y[i] = mv_sig_filter_push(&g, y[i]);
}

double mv_sig_filter_gain(const struct mv_sig_filter *f, double fs_hz,
                          double freq_hz) {
  double complex z1 = cexp(-I * 2 * PI * freq_hz / fs_hz), z2 = z1 * z1;
  double complex h = 1;
  for (size_t i = 0; i < f->n; i++) {
    const struct mv_sig_biquad *s = &f->s[i];
    h *= (s->b0 + s->b1 * z1 + s->b2 * z2) / (1 + s->a1 * z1 + s->a2 * z2);
  }
  return cabs(h);
}
