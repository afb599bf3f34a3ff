/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clinical scenarios for the patient simulator: each vital sign is an
 * Ornstein-Uhlenbeck process (mean-reverting random walk) around a mean
 * trajectory that the scenario moves over hours, and the ECG (ECGSYN) takes
 * its heart rate from that same mean trajectory at every beat, so the ECG
 * and the reported heart rate agree. The trajectories are illustrative, not
 * a physiological model: sepsis follows the direction of the Sepsis-3 /
 * qSOFA signs (tachycardia, tachypnoea, hypotension, fever), hypoxia the
 * compensation of falling saturation (tachypnoea, tachycardia).
 *
 * The artifact scenario is a normal patient seen through a bad sensor:
 * between clean stretches of 10-30 s the ECG gets one of motion noise,
 * a flat line, lead-off or clipping at a +-5 mV front end for a few
 * seconds, and the oximeter occasionally reports motion-corrupted values,
 * each flagged the way a monitor would flag it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mv_err.h"
#include "mv_sig.h"
#include "sim_int.h"

#define ECG_CHUNK 512    /* samples converted per pass */
#define CLIP_RAIL_MV 5.0 /* simulated front-end range for clipping */

enum artifact {
  ART_NONE = 0,
  ART_MOTION,
  ART_FLAT,
  ART_LEAD_OFF,
  ART_CLIP,
};

struct mv_sig_scen {
  enum mv_sig_scenario kind;
  struct sim_rng rng;     /* vital signs */
  struct sim_rng art_rng; /* ECG artifacts */
  double t_s;
  struct mv_sig_vitals base, cur;
  struct mv_sig_ecgsyn *ecg;
  double ecg_fs;
  enum artifact art;
  int64_t art_left; /* samples left in the current segment */
  double art_phase; /* motion: phase of the slow swing */
  double art_hz;
  double flat_mv; /* flat: the value the line is stuck at */
};

static const char *const names[MV_SIG_SCEN_COUNT] = {
    "normal", "sepsis", "afib", "hypoxia", "bradycardia", "artifact"};

int mv_sig_scenario_parse(const char *name, enum mv_sig_scenario *out) {
  for (int i = 0; name && i < MV_SIG_SCEN_COUNT; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = (enum mv_sig_scenario)i;
      return MV_OK;
    }
  return MV_EINVAL;
}

const char *mv_sig_scenario_name(enum mv_sig_scenario s) {
  return (unsigned)s < MV_SIG_SCEN_COUNT ? names[s] : "unknown";
}

static double clampd(double v, double lo, double hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

void mv_sig_scen_mean(const struct mv_sig_scen *sc, double t_s,
                      struct mv_sig_vitals *out) {
  struct mv_sig_vitals t = sc->base;
  double h = t_s / 3600.0;        /* hours */
  double k = 1.0 - exp(-h / 2.0); /* 0 at the start, 0.78 after 3 h */
  switch (sc->kind) {
  case MV_SIG_SCEN_SEPSIS:
    t.hr_bpm += 45 * k;
    t.rr_bpm += 12 * k;
    t.sbp_mmhg -= 35 * k;
    t.dbp_mmhg -= 18 * k;
    t.temp_c += 2.2 * k;
    t.spo2_pct -= 3 * k;
    break;
  case MV_SIG_SCEN_HYPOXIA:
    t.spo2_pct -= 12 * k;
    t.rr_bpm += 12 * k;
    t.hr_bpm += 18 * k;
    break;
  default:
    break;
  }
  *out = t;
}

static double hr_source(void *ctx, double t_s) {
  struct mv_sig_vitals m;
  mv_sig_scen_mean(ctx, t_s, &m);
  return m.hr_bpm;
}

int mv_sig_scen_new(enum mv_sig_scenario s, uint64_t seed, double ecg_fs_hz,
                    struct mv_sig_scen **out) {
  if ((unsigned)s >= MV_SIG_SCEN_COUNT ||
      (ecg_fs_hz != 0 && !(ecg_fs_hz >= MV_SIG_ECGSYN_FS_MIN &&
                           ecg_fs_hz <= MV_SIG_ECGSYN_FS_MAX)))
    return MV_EINVAL;
  struct mv_sig_scen *sc = calloc(1, sizeof(*sc));
  if (!sc)
    return MV_ENOMEM;
  sc->kind = s;
  sim_rng_seed(&sc->rng, seed, 0x5643u);
  sim_rng_seed(&sc->art_rng, seed, 0x4152u);
  struct sim_rng *r = &sc->rng;
  /* Individual baselines around typical resting adult values. */
  sc->base.hr_bpm = 62 + 18 * sim_rng_unif(r);
  sc->base.spo2_pct = 96 + 3 * sim_rng_unif(r);
  sc->base.sbp_mmhg = 112 + 20 * sim_rng_unif(r);
  sc->base.dbp_mmhg = 68 + 12 * sim_rng_unif(r);
  sc->base.rr_bpm = 12 + 5 * sim_rng_unif(r);
  sc->base.temp_c = 36.5 + 0.6 * sim_rng_unif(r);
  if (s == MV_SIG_SCEN_AFIB)
    sc->base.hr_bpm = 118 + 22 * sim_rng_unif(r);
  else if (s == MV_SIG_SCEN_BRADYCARDIA)
    sc->base.hr_bpm = 38 + 5 * sim_rng_unif(r);
  else if (s == MV_SIG_SCEN_HYPOXIA)
    sc->base.spo2_pct = 95 + 2 * sim_rng_unif(r);
  sc->cur = sc->base;
  if (ecg_fs_hz > 0) {
    struct mv_sig_ecgsyn_params p;
    mv_sig_ecgsyn_params_default(&p);
    p.fs_hz = ecg_fs_hz;
    p.hr_bpm = sc->base.hr_bpm;
    p.noise_mv = 0.01;
    p.seed = seed;
    p.rhythm = s == MV_SIG_SCEN_AFIB ? MV_SIG_RHYTHM_AFIB : MV_SIG_RHYTHM_SINUS;
    int rc = mv_sig_ecgsyn_new(&p, NULL, &sc->ecg);
    if (rc != MV_OK) {
      free(sc);
      return rc;
    }
    mv_sig_ecgsyn_set_hr_fn(sc->ecg, hr_source, sc);
    sc->ecg_fs = ecg_fs_hz;
    sc->art_left =
        (int64_t)(ecg_fs_hz * (10 + 20 * sim_rng_unif(&sc->art_rng)));
  }
  *out = sc;
  return MV_OK;
}

void mv_sig_scen_free(struct mv_sig_scen *sc) {
  if (!sc)
    return;
  mv_sig_ecgsyn_free(sc->ecg);
  free(sc);
}

const struct mv_sig_ecgsyn *mv_sig_scen_ecgsyn(const struct mv_sig_scen *sc) {
  return sc->ecg;
}

static double ou(struct sim_rng *r, double x, double mu, double theta,
                 double sigma, double dt) {
  return x + theta * (mu - x) * dt + sigma * sqrt(dt) * sim_rng_gauss(r);
}

void mv_sig_scen_step(struct mv_sig_scen *sc, double dt_s,
                      struct mv_sig_scen_vitals *out) {
  if (!(dt_s > 0) || dt_s > 86400)
    dt_s = 1.0;
  sc->t_s += dt_s;
  struct mv_sig_vitals mu;
  mv_sig_scen_mean(sc, sc->t_s, &mu);
  struct mv_sig_vitals *c = &sc->cur;
  struct sim_rng *r = &sc->rng;
  double hr_lo = 30, hr_hi = 200, hr_sigma = 1.2;
  if (sc->kind == MV_SIG_SCEN_BRADYCARDIA) {
    hr_lo = 35;
    hr_hi = 45;
    hr_sigma = 0.5;
  } else if (sc->kind == MV_SIG_SCEN_AFIB) {
    hr_lo = 105;
    hr_hi = 160;
    hr_sigma = 3.0; /* the averaged rate of an irregular rhythm wanders */
  }
  c->hr_bpm =
      clampd(ou(r, c->hr_bpm, mu.hr_bpm, 0.05, hr_sigma, dt_s), hr_lo, hr_hi);
  c->spo2_pct =
      clampd(ou(r, c->spo2_pct, mu.spo2_pct, 0.08, 0.3, dt_s), 70, 100);
  c->sbp_mmhg =
      clampd(ou(r, c->sbp_mmhg, mu.sbp_mmhg, 0.03, 1.0, dt_s), 60, 220);
  c->dbp_mmhg = clampd(ou(r, c->dbp_mmhg, mu.dbp_mmhg, 0.03, 0.7, dt_s), 30,
                       c->sbp_mmhg - 15);
  c->rr_bpm = clampd(ou(r, c->rr_bpm, mu.rr_bpm, 0.05, 0.3, dt_s), 6, 45);
  c->temp_c = clampd(ou(r, c->temp_c, mu.temp_c, 0.01, 0.02, dt_s), 33, 42);
  memset(out, 0, sizeof(*out));
  out->v = *c;
  /* Rounded the way monitors display them. */
  out->v.hr_bpm = nearbyint(c->hr_bpm);
  out->v.spo2_pct = nearbyint(c->spo2_pct);
  out->v.sbp_mmhg = nearbyint(c->sbp_mmhg);
  out->v.dbp_mmhg = nearbyint(c->dbp_mmhg);
  out->v.rr_bpm = nearbyint(c->rr_bpm);
  out->v.temp_c = nearbyint(c->temp_c * 10) / 10;
  if (sc->kind == MV_SIG_SCEN_ARTIFACT) {
    /* Motion corrupts the optical sensor: a low SpO2 and a jumpy pulse
     * rate, which the device flags as noisy (about 1 reading in 8). */
    double u = sim_rng_unif(r);
    if (u < 0.125) {
      out->v.spo2_pct = nearbyint(out->v.spo2_pct - 5 - 15 * sim_rng_unif(r));
      out->q_spo2 = MV_SIG_SIM_Q_NOISY;
    }
    if (u < 0.08) {
      out->v.hr_bpm = nearbyint(out->v.hr_bpm + 20 + 60 * sim_rng_unif(r));
      out->q_hr = MV_SIG_SIM_Q_NOISY;
    }
  }
}

/* Artifact scenario: pick the next ECG segment. */
static void next_segment(struct mv_sig_scen *sc) {
  struct sim_rng *r = &sc->art_rng;
  if (sc->art != ART_NONE) {
    sc->art = ART_NONE;
    sc->art_left = (int64_t)(sc->ecg_fs * (10 + 20 * sim_rng_unif(r)));
    return;
  }
  sc->art = (enum artifact)(ART_MOTION + (int)(sim_rng_unif(r) * 4) % 4);
  sc->art_left = (int64_t)(sc->ecg_fs * (2 + 4 * sim_rng_unif(r)));
  sc->art_phase = 2 * M_PI * sim_rng_unif(r);
  sc->art_hz = 0.5 + 2.0 * sim_rng_unif(r);
  sc->flat_mv = 0.4 * (sim_rng_unif(r) - 0.5);
}

/* Spoil samples (mV) the artifact scenario's way; returns the flags. */
static uint32_t apply_artifacts(struct mv_sig_scen *sc, double *mv, size_t n) {
  uint32_t flags = 0;
  for (size_t i = 0; i < n; i++) {
    while (sc->art_left <= 0)
      next_segment(sc);
    sc->art_left--;
    switch (sc->art) {
    case ART_MOTION:
      sc->art_phase += 2 * M_PI * sc->art_hz / sc->ecg_fs;
      mv[i] += 1.0 * sin(sc->art_phase) + 0.3 * sim_rng_gauss(&sc->art_rng);
      flags |= MV_SIG_SIM_Q_NOISY;
      break;
    case ART_FLAT:
      mv[i] = sc->flat_mv;
      flags |= MV_SIG_SIM_Q_FLAT;
      break;
    case ART_LEAD_OFF:
      mv[i] = 0.0;
      flags |= MV_SIG_SIM_Q_LEAD_OFF;
      break;
    case ART_CLIP: {
      sc->art_phase += 2 * M_PI * 0.3 / sc->ecg_fs;
      double v = mv[i] * 3.0 + 4.0 * sin(sc->art_phase);
      if (v >= CLIP_RAIL_MV || v <= -CLIP_RAIL_MV) {
        v = v > 0 ? CLIP_RAIL_MV : -CLIP_RAIL_MV;
        flags |= MV_SIG_SIM_Q_CLIPPED;
      }
      mv[i] = v;
      break;
    }
    default:
      break;
    }
  }
  return flags;
}

int mv_sig_scen_ecg(struct mv_sig_scen *sc, int16_t *out, size_t n,
                    int64_t *beats, size_t beats_cap, size_t *out_nbeats,
                    uint32_t *out_flags) {
  if (!sc->ecg || (beats && beats_cap < mv_sig_ecgsyn_beats_max(sc->ecg, n)))
    return MV_EINVAL;
  double mv[ECG_CHUNK];
  int64_t tmp[ECG_CHUNK / 12 + 4]; /* >= beats_max(ECG_CHUNK) at 50 Hz */
  size_t nb = 0;
  uint32_t flags = 0;
  for (size_t done = 0; done < n;) {
    size_t m = n - done < ECG_CHUNK ? n - done : ECG_CHUNK;
    size_t got = 0;
    int rc =
        mv_sig_ecgsyn_generate(sc->ecg, mv, m, tmp, MV_ARRAY_LEN(tmp), &got);
    if (rc != MV_OK)
      return rc;
    for (size_t j = 0; beats && j < got && nb < beats_cap; j++)
      beats[nb++] = tmp[j];
    if (sc->kind == MV_SIG_SCEN_ARTIFACT)
      flags |= apply_artifacts(sc, mv, m);
    if (mv_sig_mv_to_adc(mv, m, MV_SIG_SCEN_ECG_GAIN, 0, out + done) > 0)
      flags |= MV_SIG_SIM_Q_CLIPPED;
    done += m;
  }
  if (out_nbeats)
    *out_nbeats = nb;
  if (out_flags)
    *out_flags = flags;
  return MV_OK;
}
