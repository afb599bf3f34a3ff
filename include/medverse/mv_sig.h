/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signal synthesis, pure computation, no I/O: the vital-signs synthesiser
 * (plausible, smoothly varying heart rate, SpO2, blood pressure,
 * respiratory rate and temperature per patient), the ECGSYN dynamical ECG
 * model with known beat times (McSharry et al. 2003), and clinical scenarios
 * (normal, sepsis, atrial fibrillation, ...) that drive both over hours.
 * Everything is deterministic for a seed, on every platform. Filters, QRS
 * detection and WFDB I/O have their own headers (mv_sig_*.h).
 */
#ifndef MV_SIG_H
#define MV_SIG_H

#include "mv_common.h"

struct mv_diag;

/* One set of vital signs, in the units their names say. */
struct mv_sig_vitals {
  double hr_bpm;   /* heart rate, /min */
  double spo2_pct; /* oxygen saturation, % */
  double sbp_mmhg; /* systolic blood pressure, mm[Hg] */
  double dbp_mmhg; /* diastolic blood pressure, mm[Hg] */
  double rr_bpm;   /* respiratory rate, /min */
  double temp_c;   /* body temperature, Cel */
};

enum mv_sig_vitals_profile {
  MV_SIG_PROFILE_STABLE = 0,        /* healthy adult at rest */
  MV_SIG_PROFILE_DETERIORATING = 1, /* drifts towards a sepsis-like picture */
  MV_SIG_PROFILE_HYPOXIC = 2,       /* low and falling SpO2, fast breathing */
};

/* Value type: state of one simulated patient. Fields are private by
 * convention (read them only through mv_sig_vitals_sim_step). */
struct mv_sig_vitals_sim {
  uint64_t rng;
  enum mv_sig_vitals_profile profile;
  double t_s;
  struct mv_sig_vitals base;
  struct mv_sig_vitals cur;
};

/* Initialise for a profile with a seed (same seed, same series). */
MV_API void mv_sig_vitals_sim_init(struct mv_sig_vitals_sim *sim, uint64_t seed,
                                   enum mv_sig_vitals_profile profile);
/* Advance by dt_s seconds (> 0) and write the new readings to out. Values
 * stay inside physiological limits; the random walk reverts to the profile's
 * (possibly drifting) baseline. */
MV_API void mv_sig_vitals_sim_step(struct mv_sig_vitals_sim *sim, double dt_s,
                                   struct mv_sig_vitals *out);

/* ---- ECGSYN: synthetic ECG (McSharry, Clifford, Tarassenko, Sharma 2003,
 * "A dynamical model for generating synthetic electrocardiogram signals",
 * IEEE Trans. Biomed. Eng. 50(3):289-294). A point moves on a limit cycle in
 * (x, y) at angular speed 2*pi/RR; z is pushed by five Gaussian events
 * (P, Q, R, S, T) at fixed angles and relaxes to a respiratory baseline.
 * The RR intervals follow the paper's bimodal (Mayer wave / RSA) spectrum,
 * or, for atrial fibrillation, are irregularly irregular with no P wave.
 * Generation is streaming: any chunking of the same stream yields the same
 * samples and beats. */

/* Limits of the generator's inputs. */
#define MV_SIG_ECGSYN_FS_MIN 50.0 /* output rate, Hz */
#define MV_SIG_ECGSYN_FS_MAX 2000.0
#define MV_SIG_ECGSYN_HR_MIN 20.0 /* /min */
#define MV_SIG_ECGSYN_HR_MAX 240.0
#define MV_SIG_ECGSYN_RR_MIN_S 0.25 /* no RR interval is shorter */

enum mv_sig_rhythm {
  MV_SIG_RHYTHM_SINUS = 0, /* sinus rhythm with the paper's HRV spectrum */
  MV_SIG_RHYTHM_AFIB = 1,  /* atrial fibrillation: independent RR draws
                              (coefficient of variation ~0.2), no P wave,
                              small fibrillatory (f) waves */
};

/* Value type: the generator's parameters. Start from
 * mv_sig_ecgsyn_params_default() and change what you need. */
struct mv_sig_ecgsyn_params {
  double fs_hz;      /* output sampling rate, Hz (e.g. 250, 360, 500) */
  double hr_bpm;     /* mean heart rate, /min, until changed */
  double hr_std_bpm; /* standard deviation of the heart rate (HRV), /min */
  double lf_hf;      /* LF/HF power ratio of the RR spectrum (paper: 0.5) */
  double f_lf_hz;    /* Mayer-wave centre, Hz (0.1) */
  double f_hf_hz;    /* RSA centre = respiratory frequency, Hz (0.25) */
  double c_lf_hz;    /* spectral widths, Hz (0.01 each) */
  double c_hf_hz;
  double resp_mv;  /* baseline wander amplitude at f_hf_hz, mV (0.15) */
  double noise_mv; /* standard deviation of added white noise, mV */
  enum mv_sig_rhythm rhythm;
  uint64_t seed; /* same seed and parameters, same signal */
};

/* The paper's defaults at 250 Hz, 60 /min, HRV 1 /min, no noise. */
MV_API void mv_sig_ecgsyn_params_default(struct mv_sig_ecgsyn_params *p);

/* Heart-rate source: called at every beat with the stream time (s since
 * sample 0) and returns the mean heart rate (/min) to use for that beat.
 * Lets a scenario drive the ECG from its trajectory. */
typedef double (*mv_sig_hr_fn)(void *ctx, double t_s);

struct mv_sig_ecgsyn;

/* Create a generator. MV_EINVAL (with diag path naming the field) when a
 * parameter is outside its range. *out is returned, caller frees with
 * mv_sig_ecgsyn_free; untouched on error. */
MV_API MV_NODISCARD int mv_sig_ecgsyn_new(const struct mv_sig_ecgsyn_params *p,
                                          struct mv_diag *diag,
                                          struct mv_sig_ecgsyn **out);
MV_API void mv_sig_ecgsyn_free(struct mv_sig_ecgsyn *g);

/* Change the mean heart rate (clamped to the limits) for the following
 * beats, or install a heart-rate source (fn NULL removes it; the constant
 * rate applies again). ctx is borrowed until removed or freed. */
MV_API void mv_sig_ecgsyn_set_hr(struct mv_sig_ecgsyn *g, double hr_bpm);
MV_API void mv_sig_ecgsyn_set_hr_fn(struct mv_sig_ecgsyn *g, mv_sig_hr_fn fn,
                                    void *ctx);
MV_API void mv_sig_ecgsyn_set_rhythm(struct mv_sig_ecgsyn *g,
                                     enum mv_sig_rhythm r);

/* The most beats any n samples can contain (a safe beats_cap). */
MV_API size_t mv_sig_ecgsyn_beats_max(const struct mv_sig_ecgsyn *g, size_t n);

/* Generate the next n samples, in mV, into out_mv (n doubles). The R peaks
 * whose nearest sample lies in this chunk are written to beats as absolute
 * sample indexes (0 = the stream's first sample), ascending, at most
 * beats_cap; *out_nbeats (may be NULL with beats NULL) says how many.
 * MV_EINVAL if beats_cap < mv_sig_ecgsyn_beats_max(g, n) while beats is
 * non-NULL (nothing is generated then). */
MV_API MV_NODISCARD int mv_sig_ecgsyn_generate(struct mv_sig_ecgsyn *g,
                                               double *out_mv, size_t n,
                                               int64_t *beats, size_t beats_cap,
                                               size_t *out_nbeats);
/* Samples generated so far (the index of the next one). */
MV_API int64_t mv_sig_ecgsyn_position(const struct mv_sig_ecgsyn *g);

/* mV to int16 ADC units: round(mv * gain) + baseline, saturated at the
 * int16 rails. Returns how many samples were saturated. */
MV_API size_t mv_sig_mv_to_adc(const double *mv, size_t n, double gain,
                               int baseline, int16_t *out);

/* ---- Scenarios: vital-sign trajectories over hours with an ECG that
 * follows their heart rate. */

enum mv_sig_scenario {
  MV_SIG_SCEN_NORMAL = 0,      /* healthy adult at rest */
  MV_SIG_SCEN_SEPSIS = 1,      /* over hours: HR and RR rise, BP falls, fever */
  MV_SIG_SCEN_AFIB = 2,        /* atrial fibrillation, HR ~110-150 */
  MV_SIG_SCEN_HYPOXIA = 3,     /* SpO2 falls, RR and HR rise */
  MV_SIG_SCEN_BRADYCARDIA = 4, /* HR 35-45 */
  MV_SIG_SCEN_ARTIFACT = 5,    /* normal patient, bad signals: motion bursts,
                                  flat segments, lead-off, clipping */
};
#define MV_SIG_SCEN_COUNT 6

/* Quality flags the scenarios set on what they produce. The bits are those
 * of enum mv_dev_quality (mv_dev.h) and of the signal-quality code. */
enum mv_sig_sim_quality {
  MV_SIG_SIM_Q_FLAT = 1u << 0,
  MV_SIG_SIM_Q_CLIPPED = 1u << 1,
  MV_SIG_SIM_Q_RANGE = 1u << 2,
  MV_SIG_SIM_Q_NOISY = 1u << 3,
  MV_SIG_SIM_Q_LEAD_OFF = 1u << 4,
  MV_SIG_SIM_Q_DEVICE = 1u << 5,
};

/* "normal", "sepsis", ... <-> enum. parse: MV_EINVAL on an unknown name. */
MV_API MV_NODISCARD int mv_sig_scenario_parse(const char *name,
                                              enum mv_sig_scenario *out);
MV_API const char *mv_sig_scenario_name(enum mv_sig_scenario s);

/* One reading of the vital signs with a quality word per sign. */
struct mv_sig_scen_vitals {
  struct mv_sig_vitals v;
  uint32_t q_hr, q_spo2, q_bp, q_rr, q_temp; /* mv_sig_sim_quality bits */
};

/* The ECG scale the scenarios use: ADC units per mV, baseline 0. */
#define MV_SIG_SCEN_ECG_GAIN 200.0

struct mv_sig_scen;

/* A simulated patient in scenario s. ecg_fs_hz 0 = no ECG, else the ECG's
 * output rate (within the ECGSYN limits). *out returned, caller frees with
 * mv_sig_scen_free; untouched on error (MV_EINVAL, MV_ENOMEM). */
MV_API MV_NODISCARD int mv_sig_scen_new(enum mv_sig_scenario s, uint64_t seed,
                                        double ecg_fs_hz,
                                        struct mv_sig_scen **out);
MV_API void mv_sig_scen_free(struct mv_sig_scen *sc);

/* The trajectory's mean (noise-free) vital signs at t_s seconds from the
 * start: what the readings revert to. */
MV_API void mv_sig_scen_mean(const struct mv_sig_scen *sc, double t_s,
                             struct mv_sig_vitals *out);

/* Advance the vital signs by dt_s seconds (> 0; other values count as 1)
 * and write the new reading. */
MV_API void mv_sig_scen_step(struct mv_sig_scen *sc, double dt_s,
                             struct mv_sig_scen_vitals *out);

/* Next n ECG samples (lead II, int16 ADC units, gain MV_SIG_SCEN_ECG_GAIN,
 * baseline 0) into out; beats as for mv_sig_ecgsyn_generate (NULL allowed);
 * *out_flags (may be NULL) gets the chunk's quality bits (artifact: NOISY,
 * FLAT, LEAD_OFF, CLIPPED). MV_EINVAL without an ECG or on a small
 * beats_cap. The ECG's heart rate follows the trajectory's mean. */
MV_API MV_NODISCARD int mv_sig_scen_ecg(struct mv_sig_scen *sc, int16_t *out,
                                        size_t n, int64_t *beats,
                                        size_t beats_cap, size_t *out_nbeats,
                                        uint32_t *out_flags);
/* The ECG generator (NULL without ECG), e.g. for mv_sig_ecgsyn_beats_max. */
MV_API const struct mv_sig_ecgsyn *
mv_sig_scen_ecgsyn(const struct mv_sig_scen *sc);

#endif
