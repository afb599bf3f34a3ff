/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Waveform conditioning: IIR filters (baseline-wander removal, mains notch,
 * band-pass) as causal streaming objects and as zero-phase offline
 * functions; per-chunk signal quality (flat line, clipping, out-of-range
 * amplitude, noise) producing the MV_DEV_Q_* bits of mv_dev.h; and rational
 * resampling with an anti-alias filter. Pure computation, no I/O; filters
 * and quality never allocate. Design notes and measured responses are in
 * docs/SIGNALS.md.
 */
#ifndef MV_SIG_FILTER_H
#define MV_SIG_FILTER_H

#include "mv_common.h"
#include "mv_err.h"

/* Sampling rates the filters are designed for, Hz. */
#define MV_SIG_FILTER_FS_MIN 100.0
#define MV_SIG_FILTER_FS_MAX 2000.0
#define MV_SIG_FILTER_MAX_STAGES 8

/* One second-order section (normalised, a0 = 1), transposed direct form II
 * state. */
struct mv_sig_biquad {
  double b0, b1, b2, a1, a2;
  double z1, z2;
};

/* Value type: a cascade of up to MV_SIG_FILTER_MAX_STAGES biquads. Embed it
 * anywhere (no heap); copy it to fork a filter with its state. Fields are
 * private by convention. */
struct mv_sig_filter {
  size_t n;
  struct mv_sig_biquad s[MV_SIG_FILTER_MAX_STAGES];
};

/* What to build. Frequencies in Hz; 0 disables a part. */
struct mv_sig_filter_spec {
  double fs_hz;       /* 100..2000 */
  double highpass_hz; /* baseline-wander removal (ECG: 0.5), 4th-order
                         Butterworth */
  double lowpass_hz;  /* upper band edge (ECG monitoring: 40), 4th-order
                         Butterworth */
  double notch_hz;    /* mains: 50 or 60 (one notch at the fundamental) */
  double notch_q;     /* notch quality factor; 0 = 30 */
};

/* Design the cascade for spec into f (state zeroed). MV_EINVAL (diag says
 * which field) when fs is outside 100..2000 Hz, a frequency is negative, not
 * below 0.45 fs, the band is empty (highpass >= lowpass), or nothing is
 * enabled. f untouched on error. */
MV_API MV_NODISCARD int
mv_sig_filter_init(struct mv_sig_filter *f,
                   const struct mv_sig_filter_spec *spec, struct mv_diag *diag);
/* The usual presets. */
MV_API MV_NODISCARD int mv_sig_filter_init_baseline(struct mv_sig_filter *f,
                                                    double fs_hz, double cut_hz,
                                                    struct mv_diag *diag);
MV_API MV_NODISCARD int mv_sig_filter_init_notch(struct mv_sig_filter *f,
                                                 double fs_hz, double mains_hz,
                                                 struct mv_diag *diag);
MV_API MV_NODISCARD int mv_sig_filter_init_bandpass(struct mv_sig_filter *f,
                                                    double fs_hz, double lo_hz,
                                                    double hi_hz,
                                                    struct mv_diag *diag);

/* Zero the state (as after init). */
MV_API void mv_sig_filter_reset(struct mv_sig_filter *f);
/* Set the state to the steady state for a constant input x (no start-up
 * transient when the signal starts at an offset). */
MV_API void mv_sig_filter_prime(struct mv_sig_filter *f, double x);
/* Causal streaming: one sample in, one out. O(stages), no allocation. A
 * non-finite input is treated as 0 and inputs are clamped to +-1e15, so the
 * output stays finite. */
MV_API double mv_sig_filter_push(struct mv_sig_filter *f, double x);
/* Causal over a block: y[i] = push(x[i]); y may equal x. Same result as
 * pushing one by one. */
MV_API void mv_sig_filter_run(struct mv_sig_filter *f, const double *x,
                              double *y, size_t n);
/* Zero-phase offline filtering (forward-backward, as filtfilt): magnitude
 * response squared, no phase shift, no lag. Uses a copy of f's
 * coefficients (f's state is not used or changed); each pass starts in the
 * steady state of its first sample. y may equal x. */
MV_API void mv_sig_filter_zero_phase(const struct mv_sig_filter *f,
                                     const double *x, double *y, size_t n);
/* The magnitude response |H(e^jw)| at freq_hz (for tests and docs). */
MV_API double mv_sig_filter_gain(const struct mv_sig_filter *f, double fs_hz,
                                 double freq_hz);

/* ---- signal quality -------------------------------------------------------- */

/* Thresholds; physical units are those of the signal (mV for ECG). Every
 * rule is documented with its boundary in docs/SIGNALS.md. */
struct mv_sig_quality_limits {
  double flat_p2p;    /* flat when peak-to-peak < flat_p2p */
  double flat_run_s;  /* ... or when one value repeats for >= this long
                          (rail samples excluded); 0 disables */
  double clip_frac;   /* clipped when the fraction of samples at or beyond
                          an ADC rail >= clip_frac */
  double abs_max;     /* out of range when any |x - mean| / gain > abs_max
                         (mean of the chunk: DC offsets do not count) */
  double noise_hz;    /* the noise band starts here (high-pass) */
  double noise_ratio; /* noisy when energy above noise_hz / total AC
                          energy > noise_ratio */
};

enum mv_sig_signal {
  MV_SIG_ECG = 0,   /* mV */
  MV_SIG_PLETH = 1, /* arbitrary units */
  MV_SIG_RESP = 2,  /* impedance, Ohm */
};

/* Defaults for a signal type (ECG: flat 0.05 mV p2p or 1 s constant, clip
 * 1 %, |x| > 5 mV, > 40 Hz energy ratio 0.3). */
MV_API void mv_sig_quality_limits_default(struct mv_sig_quality_limits *lim,
                                          enum mv_sig_signal sig);

/* One chunk of raw ADC samples. */
struct mv_sig_chunk {
  const int16_t *x; /* samples, ADC units (borrowed) */
  size_t n;         /* >= 1 */
  double fs_hz;     /* 100..2000 for the noise rule; others any > 0 */
  double gain;      /* ADC units per physical unit, > 0 */
  int32_t baseline; /* ADC value of physical 0 (informational: the rules
                       measure from the chunk mean) */
  int32_t adc_min;  /* ADC rails (int16 frames: -32768, 32767) */
  int32_t adc_max;
};

/* What the rules measured, and the verdict. */
struct mv_sig_quality {
  uint32_t flags;     /* MV_DEV_Q_FLAT | _CLIPPED | _RANGE | _NOISY */
  double p2p;         /* peak-to-peak, physical units (rails included) */
  double max_abs;     /* max |x - chunk mean| / gain */
  double clip_frac;   /* fraction of samples at or beyond a rail */
  double flat_run_s;  /* longest run of one repeated non-rail value, s */
  double noise_ratio; /* high-band energy / AC energy, 0 when no AC */
};

/* Judge one chunk. MV_EINVAL for n == 0, gain <= 0 or not finite, fs <= 0,
 * adc_min >= adc_max, or a NULL pointer; out untouched then. */
MV_API MV_NODISCARD int
mv_sig_quality_check(const struct mv_sig_chunk *c,
                     const struct mv_sig_quality_limits *lim,
                     struct mv_sig_quality *out, struct mv_diag *diag);

/* ---- resampling ----------------------------------------------------------- */

/* Output length of mv_sig_resample for n input samples (0 when n == 0 or
 * the rates are invalid). */
MV_API size_t mv_sig_resample_len(size_t n, double fs_in_hz, double fs_out_hz);
/*
 * Resample x (n samples at fs_in_hz) to fs_out_hz by a rational factor
 * L/M (rates rounded to millihertz, reduced by their gcd; L <= 4096) with a
 * Blackman-windowed sinc anti-alias filter, cut-off 0.45 * min(fs_in,
 * fs_out), 16 zero crossings each side, each phase normalised to unit DC
 * gain; samples beyond the ends repeat the edge value. y has room for cap
 * samples (>= mv_sig_resample_len) and must not overlap x; *out_n is the
 * number written. x is borrowed; a phase table is allocated and freed.
 * MV_EINVAL for bad rates or factors, MV_ETOOBIG when cap is too small,
 * MV_ENOMEM.
 */
MV_API MV_NODISCARD int mv_sig_resample(const double *x, size_t n,
                                        double fs_in_hz, double fs_out_hz,
                                        double *y, size_t cap, size_t *out_n,
                                        struct mv_diag *diag);

#endif
