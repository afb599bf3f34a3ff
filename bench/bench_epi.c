/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Surveillance benchmark: a deterministic synthetic panel (default 3,000
 * regions x 5 years of daily counts), EARS C1, C2 and C3 (mv_epi_detect.h)
 * and Rt with a parametric serial interval on weekly sliding windows
 * (mv_epi.h) for every region, spread over worker threads. Prints wall time
 * and checksums; with --r-csv it also writes the first --r-regions regions
 * in long format so bench/epi.sh can time R on the same data and compare
 * the checksums (sum of finite EARS upper bounds, sum of Rt posterior means).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mv_epi.h"
#include "mv_epi_detect.h"

#define SI_MEAN 4.8
#define SI_SD 2.3

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double unif(uint64_t *s) {
  return (double)(splitmix(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Poisson draw: multiplication method (Knuth) for small means, a rounded
 * normal approximation above 30 (the panel only needs plausible counts). */
static double poisson(uint64_t *s, double lambda) {
  if (lambda < 30.0) {
    double L = exp(-lambda), p = 1.0;
    int k = 0;
    do {
      k++;
      p *= unif(s);
    } while (p > L);
    return (double)(k - 1);
  }
  double u1 = unif(s), u2 = unif(s);
  double z = sqrt(-2.0 * log(u1 + 1e-300)) * cos(6.283185307179586 * u2);
  double v = floor(lambda + sqrt(lambda) * z + 0.5);
  return v < 0 ? 0 : v;
}

/* Region r's daily counts: a base level, yearly seasonality and one
 * outbreak wave. Deterministic in (r, days). */
static void gen_region(size_t r, size_t days, double *y) {
  uint64_t s = 0x5eed0000ULL + r;
  double base = 1.0 + 39.0 * unif(&s);
  double phase = 6.283185307179586 * unif(&s);
  double peak = (double)days * unif(&s), width = 10.0 + 30.0 * unif(&s);
  double height = base * (1.0 + 4.0 * unif(&s));
  for (size_t t = 0; t < days; t++) {
    double d = ((double)t - peak) / width;
    double lam =
        base *
            (1.0 + 0.5 * sin(6.283185307179586 * (double)t / 365.25 + phase)) +
        height * exp(-d * d);
    y[t] = poisson(&s, lam);
  }
}

struct job {
  size_t regions, days;
  atomic_size_t next;
  double *check_ears; /* per region */
  double *check_rt;
  int failed;
};

static void *worker(void *arg) {
  struct job *j = arg;
  double *y = malloc(j->days * sizeof *y);
  struct mv_epi_detect_point *pts = malloc(j->days * sizeof *pts);
  struct mv_epi_qcache *qc = NULL;
  if (!y || !pts || mv_epi_qcache_new(&qc) != MV_OK) {
    j->failed = 1;
    goto out;
  }
  for (;;) {
    size_t r = atomic_fetch_add(&j->next, 1);
    if (r >= j->regions)
      break;
    gen_region(r, j->days, y);
    struct mv_epi_series s = {.observed = y, .n = j->days, .freq = 365};
    double ce = 0.0;
    for (int m = MV_EPI_EARS_C1; m <= MV_EPI_EARS_C3; m++) {
      struct mv_epi_detect_ctl ctl;
      mv_epi_detect_defaults((enum mv_epi_method)m, &ctl);
      size_t n = 0;
      if (mv_epi_detect(&s, &ctl, pts, &n, NULL) != MV_OK) {
        j->failed = 1;
        break;
      }
      for (size_t k = 0; k < n; k++)
        if (isfinite(pts[k].upperbound))
          ce += pts[k].upperbound;
    }
    struct mv_epi_rt_opts o = {.si_mean = SI_MEAN, .si_sd = SI_SD};
    struct mv_epi_rt_result res;
    if (mv_epi_rt_estimate(y, NULL, j->days, &o, qc, &res, NULL) != MV_OK) {
      j->failed = 1;
      break;
    }
    double cr = 0.0;
    for (size_t k = 0; k < res.n_rows; k++)
      if (!isnan(res.rows[k].mean))
        cr += res.rows[k].mean;
    mv_epi_rt_release(&res);
    j->check_ears[r] = ce;
    j->check_rt[r] = cr;
  }
out:
  mv_epi_qcache_free(qc);
  free(y);
  free(pts);
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int write_csv(const char *path, size_t regions, size_t days) {
  FILE *f = fopen(path, "w");
  double *y = malloc(days * sizeof *y);
  if (!f || !y) {
    if (f)
      fclose(f);
    free(y);
    return -1;
  }
  fprintf(f, "region,t,observed\n");
  for (size_t r = 0; r < regions; r++) {
    gen_region(r, days, y);
    for (size_t t = 0; t < days; t++)
      fprintf(f, "r%zu,%zu,%.0f\n", r, t + 1, y[t]);
  }
  free(y);
  return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  size_t regions = 3000, days = 1826, threads = 2, r_regions = 20;
  const char *r_csv = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--regions") == 0)
      regions = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--days") == 0)
      days = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--threads") == 0)
      threads = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--r-regions") == 0)
      r_regions = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--r-csv") == 0)
      r_csv = argv[i + 1];
    else {
      fprintf(stderr, "usage: bench_epi [--regions N] [--days N] "
                      "[--threads N] [--r-regions N --r-csv FILE]\n");
      return 2;
    }
  }
  if (regions < 1 || days < 30 || threads < 1 || threads > 64) {
    fprintf(stderr, "bench_epi: bad sizes\n");
    return 2;
  }
  if (r_regions > regions)
    r_regions = regions;
  struct job j = {.regions = regions, .days = days};
  atomic_init(&j.next, 0);
  j.check_ears = calloc(regions, sizeof *j.check_ears);
  j.check_rt = calloc(regions, sizeof *j.check_rt);
  pthread_t th[64];
  if (!j.check_ears || !j.check_rt)
    return 1;
  double t0 = now_s(), c0 = cpu_s();
  for (size_t k = 0; k < threads; k++)
    pthread_create(&th[k], NULL, worker, &j);
  for (size_t k = 0; k < threads; k++)
    pthread_join(th[k], NULL);
  double el = now_s() - t0, cpu = cpu_s() - c0;
  if (j.failed) {
    fprintf(stderr, "bench_epi: a region failed\n");
    return 1;
  }
  double ce = 0, cr = 0, se = 0, sr = 0;
  for (size_t r = 0; r < regions; r++) {
    ce += j.check_ears[r];
    cr += j.check_rt[r];
    if (r < r_regions) {
      se += j.check_ears[r];
      sr += j.check_rt[r];
    }
  }
  printf("regions=%zu days=%zu threads=%zu (EARS C1-C3 + Rt weekly, "
         "parametric SI mean %.1f sd %.1f; panel generation included)\n",
         regions, days, threads, SI_MEAN, SI_SD);
  printf("C_SECONDS=%.3f\nC_CPU_SECONDS=%.3f\n", el, cpu);
  printf("C_CHECK_EARS=%.10g\nC_CHECK_RT=%.10g\n", ce, cr);
  printf("C_SUBSET_REGIONS=%zu\nC_SUBSET_CHECK_EARS=%.12g\n"
         "C_SUBSET_CHECK_RT=%.12g\n",
         r_regions, se, sr);
  if (r_csv && write_csv(r_csv, r_regions, days) != 0) {
    fprintf(stderr, "bench_epi: cannot write %s\n", r_csv);
    return 1;
  }
  free(j.check_ears);
  free(j.check_rt);
  return 0;
}
