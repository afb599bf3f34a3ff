/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the synthesisers in src/sig (ECGSYN, scenarios): a small
 * seeded random generator. xorshift64* (Vigna 2016) with Box-Muller
 * normals, in plain integer and IEEE arithmetic, so a seed yields the same
 * numbers on every platform. Not for anything that must be unpredictable
 * (use mv_random_bytes for that).
 */
#ifndef MV_SIG_SIM_INT_H
#define MV_SIG_SIM_INT_H

#include <math.h>
#include <stdint.h>

struct sim_rng {
  uint64_t s;
};

static inline uint64_t sim_rng_u64(struct sim_rng *r) {
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return x * 2685821657736338717ull;
}

/* Seed through splitmix64 so nearby seeds give unrelated streams; stream
 * tells independent generators of one seed apart. */
static inline void sim_rng_seed(struct sim_rng *r, uint64_t seed,
                                uint64_t stream) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  r->s = z ? z : 0x9e3779b97f4a7c15ull;
}

/* Uniform in (0, 1). */
static inline double sim_rng_unif(struct sim_rng *r) {
  return ((double)(sim_rng_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal. */
static inline double sim_rng_gauss(struct sim_rng *r) {
  double u1 = sim_rng_unif(r), u2 = sim_rng_unif(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

#endif
