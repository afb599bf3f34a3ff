/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Vital-signs synthesiser: each sign is an Ornstein-Uhlenbeck process
 * (mean-reverting random walk) around a baseline; deteriorating profiles move
 * the baseline over time. Random numbers come from xorshift64* with a
 * Box-Muller transform so a seed always yields the same series on every
 * platform. Good enough for a demo and for exercising alerting; the realistic
 * ECG and scenario simulator belongs to the ingestion work.
 */
#include <math.h>

#include "mv_sig.h"

static uint64_t next_u64(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 2685821657736338717ull;
}

static double uniform01(uint64_t *s) {
  return ((double)(next_u64(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double gauss(uint64_t *s) {
  double u1 = uniform01(s), u2 = uniform01(s);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static double clamp(double v, double lo, double hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

void mv_sig_vitals_sim_init(struct mv_sig_vitals_sim *sim, uint64_t seed,
                            enum mv_sig_vitals_profile profile) {
  sim->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 4; i++)
    (void)next_u64(&sim->rng);
  sim->profile = profile;
  sim->t_s = 0;
  /* Individual baselines spread around typical adult resting values. */
  sim->base.hr_bpm = 62 + 20 * uniform01(&sim->rng);
  sim->base.spo2_pct = 96 + 3 * uniform01(&sim->rng);
  sim->base.sbp_mmhg = 110 + 25 * uniform01(&sim->rng);
  sim->base.dbp_mmhg = 65 + 15 * uniform01(&sim->rng);
  sim->base.rr_bpm = 12 + 6 * uniform01(&sim->rng);
  sim->base.temp_c = 36.4 + 0.7 * uniform01(&sim->rng);
  if (profile == MV_SIG_PROFILE_HYPOXIC) {
    sim->base.spo2_pct = 91;
    sim->base.rr_bpm = 22;
  }
  sim->cur = sim->base;
}

/* Where the baseline has drifted to after t_s seconds of the profile. */
static struct mv_sig_vitals target(const struct mv_sig_vitals_sim *sim) {
  struct mv_sig_vitals t = sim->base;
  double h = sim->t_s / 3600.0;   /* hours */
  double k = 1.0 - exp(-h / 2.0); /* approaches 1 over a few hours */
  if (sim->profile == MV_SIG_PROFILE_DETERIORATING) {
    t.hr_bpm += 45 * k;
    t.sbp_mmhg -= 30 * k;
    t.dbp_mmhg -= 15 * k;
    t.rr_bpm += 10 * k;
    t.temp_c += 2.0 * k;
    t.spo2_pct -= 4 * k;
  } else if (sim->profile == MV_SIG_PROFILE_HYPOXIC) {
    t.spo2_pct -= 6 * k;
    t.rr_bpm += 6 * k;
    t.hr_bpm += 20 * k;
  }
  return t;
}

static double ou(uint64_t *rng, double x, double mu, double theta, double sigma,
                 double dt) {
  return x + theta * (mu - x) * dt + sigma * sqrt(dt) * gauss(rng);
}

void mv_sig_vitals_sim_step(struct mv_sig_vitals_sim *sim, double dt_s,
                            struct mv_sig_vitals *out) {
  if (!(dt_s > 0))
    dt_s = 1.0;
  sim->t_s += dt_s;
  struct mv_sig_vitals mu = target(sim);
  struct mv_sig_vitals *c = &sim->cur;
  uint64_t *r = &sim->rng;
  c->hr_bpm = clamp(ou(r, c->hr_bpm, mu.hr_bpm, 0.05, 1.2, dt_s), 30, 200);
  c->spo2_pct =
      clamp(ou(r, c->spo2_pct, mu.spo2_pct, 0.08, 0.3, dt_s), 70, 100);
  c->sbp_mmhg =
      clamp(ou(r, c->sbp_mmhg, mu.sbp_mmhg, 0.03, 1.0, dt_s), 60, 220);
  c->dbp_mmhg = clamp(ou(r, c->dbp_mmhg, mu.dbp_mmhg, 0.03, 0.7, dt_s), 30,
                      c->sbp_mmhg - 15);
  c->rr_bpm = clamp(ou(r, c->rr_bpm, mu.rr_bpm, 0.05, 0.3, dt_s), 6, 45);
  c->temp_c = clamp(ou(r, c->temp_c, mu.temp_c, 0.01, 0.02, dt_s), 33, 42);
  *out = *c;
}
