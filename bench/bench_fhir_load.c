/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bulk loader for the FHIR search benchmark: fills a data directory with N
 * synthetic vital-sign Observations (encrypted and indexed exactly like
 * API writes, through the store's bulk hook) spread over P patients
 * "bench-p0".."bench-p<P-1>", one second apart from 2026-01-01T00:00:00Z.
 * Usage: bench_fhir_load DATA_DIR [N=1000000] [P=1000]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mv_store.h"
#include "store_int.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  struct mv_store *s = NULL;
  struct mv_diag d;
  char msg[512];
  uint64_t written = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: bench_fhir_load DATA_DIR [N] [PATIENTS]\n");
    return 2;
  }
  unsigned long long n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000ull;
  unsigned long p = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000ul;
  if (n == 0 || p == 0 || p > 1000000ul) {
    fprintf(stderr, "bench_fhir_load: N and PATIENTS must be positive\n");
    return 2;
  }
  struct mv_store_opts o = {.url = argv[1]};
  mv_diag_clear(&d);
  if (mv_store_open(&o, &s, &d) != MV_OK) {
    fprintf(stderr, "bench_fhir_load: %s\n",
            mv_diag_format(&d, msg, sizeof(msg)));
    return 1;
  }
  struct mv__store_synth syn = {.id_prefix = "bench-",
                                .first_index = 0,
                                .n = n,
                                .n_patients = (unsigned)p,
                                .t0_us = 1767225600000000LL, /* 2026-01-01 */
                                .step_us = 1000000,
                                .per_tx = 10000};
  double t0 = now_s();
  int rc = mv__store_load_synthetic(s, &syn, &written);
  double dt = now_s() - t0;
  mv_store_close(s);
  if (rc != MV_OK) {
    fprintf(stderr, "bench_fhir_load: %s\n", mv_strerror(rc));
    return 1;
  }
  printf("RESULT fhir_bulk_load rows=%llu patients=%lu seconds=%.1f "
         "rows_per_s=%.0f\n",
         (unsigned long long)written, p, dt, (double)written / dt);
  return 0;
}
