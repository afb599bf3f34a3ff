/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Demo surveillance data for `medverse demo`: twelve synthetic regions with
 * 120 days of influenza-like counts ending today (a weekly reporting
 * pattern and noise), one region with an outbreak (slow growth, then a
 * cluster of cases today) and one in decline, uploaded as the "demo" site and followed by one
 * detection run, so the surveillance page has something to show. Region
 * names are invented; the counts are aggregates, not patients.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd_demo_epi.h"
#include "mv_api.h"
#include "mv_log.h"
#include "mv_store.h"

#define EPI_DAYS 120
#define EPI_DISEASE "influenza"

static const struct {
  const char *name;
  double base; /* mean daily cases */
  int shape;   /* 0 steady, 1 outbreak at the end, 2 declining */
} regions[] = {
    {"Harbor District", 14, 1}, {"North Valley", 30, 2},
    {"Riverside", 18, 0},       {"Old Town", 9, 0},
    {"Eastgate", 22, 0},        {"Hillcrest", 6, 0},
    {"Lakeshore", 12, 0},       {"Westfield", 16, 0},
    {"Southbank", 25, 0},       {"Pine Ridge", 4, 0},
    {"Meadowbrook", 11, 0},     {"Canal Quarter", 8, 0},
};

/* A small deterministic generator (xorshift64*), so the demo is the same
 * every time. */
static double unit_rand(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return (double)((*s * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* Poisson(lambda) by inversion (lambda < ~500 here). */
static int64_t poisson(uint64_t *s, double lambda) {
  double l = exp(-lambda), p = 1;
  int64_t k = 0;
  do {
    k++;
    p *= unit_rand(s);
  } while (p > l && k < 10000);
  return k - 1;
}

int demo_epi_seed(const struct cli_env *env) {
  static struct mv_store_epi_count c[MV_ARRAY_LEN(regions) * EPI_DAYS];
  struct mv_store_epi *db = NULL;
  struct mv_diag d;
  size_t n = 0, series = 0, alerts = 0;
  int32_t today = (int32_t)(time(NULL) / 86400);
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  int rc;
  for (size_t r = 0; r < MV_ARRAY_LEN(regions); r++)
    for (int i = 0; i < EPI_DAYS; i++) {
      double weekly = 1.0 + 0.15 * sin(2 * M_PI * i / 7.0);
      double lam = regions[r].base * weekly;
      int left = EPI_DAYS - 1 - i;
      /* The outbreak: slow growth for ten days, then a cluster today. */
      if (regions[r].shape == 1 && left < 10)
        lam *= exp(0.06 * (10 - left)) * (left == 0 ? 4 : 1);
      if (regions[r].shape == 2)
        lam *= exp(-0.012 * i);
      struct mv_store_epi_count *x = &c[n++];
      memset(x, 0, sizeof(*x));
      snprintf(x->site, sizeof(x->site), "demo");
      snprintf(x->region, sizeof(x->region), "%s", regions[r].name);
      snprintf(x->disease, sizeof(x->disease), EPI_DISEASE);
      x->day = today - (EPI_DAYS - 1) + i;
      x->observed = poisson(&seed, lam);
      x->population = 50000 + 5000.0 * (double)r;
    }
  mv_diag_clear(&d);
  rc = mv_store_epi_open(env->cfg->data_dir, &db, &d);
  if (rc == MV_OK)
    rc = mv_store_epi_put_counts(db, c, n, (int64_t)time(NULL) * 1000000, NULL);
  mv_store_epi_close(db);
  if (rc == MV_OK)
    rc = mv_api_surveillance_run(env->api, &series, &alerts, &d);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse demo: cannot seed surveillance data: %s %s\n",
            mv_strerror(rc), d.msg);
    return rc;
  }
  printf("medverse demo: %zu synthetic regions of surveillance counts, %zu "
         "alert(s); see /surveillance.html\n",
         series, alerts);
  return MV_OK;
}
