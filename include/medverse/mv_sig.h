/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signal processing and synthesis. This first part is the vital-signs
 * synthesiser behind `medverse demo`: plausible, smoothly varying heart
 * rate, SpO2, blood pressure, respiratory rate and temperature per simulated
 * patient, deterministic for a given seed. Pure computation, no I/O.
 * (Filters, QRS detection and WFDB I/O arrive with the ingestion work.)
 */
#ifndef MV_SIG_H
#define MV_SIG_H

#include "mv_common.h"

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

#endif
