/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark of store group commit: durable writes per second through
 * mv_store_submit at batch_max 1, 10, 100 and 1000, with ~600-byte
 * Observation bodies. A producer thread keeps a bounded window of writes in
 * flight (two batches' worth) so batches fill; the batch delay is generous so
 * batch_max, not the timer, closes them. Commit latencies come from the
 * store's commit observer hook (store_int.h). Run on a real disk: tmpfs has
 * no fsync cost and would make every batch size look alike.
 *
 * Usage: bench_store [DIR]   (default: a temp dir under /tmp, or under the
 * current directory when /tmp is tmpfs). DIR is removed afterwards.
 */
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "mv_log.h"
#include "mv_store.h"
#include "store_int.h"

#define RUN_US 2500000 /* per batch size */
#define MAX_BATCHES 200000
#define TMPFS_MAGIC_NUMBER 0x01021994

struct bench {
  struct mv_store *s;
  unsigned window;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned inflight;
  uint64_t acked, failed;
  int64_t *commit_us; /* per batch, writer thread only */
  size_t n_commits;
};

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_commit(void *ctx, size_t n, int64_t commit_us) {
  struct bench *b = ctx;
  (void)n;
  if (b->n_commits < MAX_BATCHES)
    b->commit_us[b->n_commits++] = commit_us;
}

static void on_done(void *ctx, int status, const struct mv_store_result *res) {
  struct bench *b = ctx;
  (void)res;
  pthread_mutex_lock(&b->mu);
  if (status == MV_OK)
    b->acked++;
  else
    b->failed++;
  b->inflight--;
  pthread_cond_signal(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

/* A realistic heart-rate Observation, about 600 bytes. */
static int make_body(char *buf, size_t len, uint64_t i) {
  return snprintf(
      buf, len,
      "{\"resourceType\":\"Observation\",\"id\":\"hr-%llu\","
      "\"meta\":{\"profile\":[\"http://hl7.org/fhir/StructureDefinition/"
      "heartrate\"]},\"status\":\"final\",\"category\":[{\"coding\":[{"
      "\"system\":\"http://terminology.hl7.org/CodeSystem/observation-"
      "category\",\"code\":\"vital-signs\",\"display\":\"Vital Signs\"}]}],"
      "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
      "\"8867-4\",\"display\":\"Heart rate\"}],\"text\":\"Heart rate\"},"
      "\"subject\":{\"reference\":\"Patient/pat-%llu\"},"
      "\"effectiveDateTime\":\"2026-11-24T23:02:21.123Z\","
      "\"device\":{\"reference\":\"Device/ecg-0042\"},"
      "\"valueQuantity\":{\"value\":%llu,\"unit\":\"beats/minute\","
      "\"system\":\"http://unitsofmeasure.org\",\"code\":\"/min\"},"
      "\"interpretation\":[{\"coding\":[{\"system\":\"http://terminology.hl7."
      "org/CodeSystem/v3-ObservationInterpretation\",\"code\":\"N\"}]}]}",
      (unsigned long long)i, (unsigned long long)(i % 500),
      (unsigned long long)(60 + i % 40));
}

struct producer {
  struct bench *b;
  unsigned batch_max;
  int rc;
};

static void *produce(void *arg) {
  struct producer *p = arg;
  struct bench *b = p->b;
  char body[1024], id[48], patient[32];
  int64_t end = mono_us() + RUN_US;
  for (uint64_t i = 0; mono_us() < end; i++) {
    pthread_mutex_lock(&b->mu);
    while (b->inflight >= b->window)
      pthread_cond_wait(&b->cv, &b->mu);
    b->inflight++;
    pthread_mutex_unlock(&b->mu);
    int n = make_body(body, sizeof(body), i);
    snprintf(id, sizeof(id), "hr-%u-%llu", p->batch_max, (unsigned long long)i);
    snprintf(patient, sizeof(patient), "pat-%llu",
             (unsigned long long)(i % 500));
    struct mv_store_write w = {
        .op = MV_STORE_CREATE,
        .type = "Observation",
        .id = id,
        .body = body,
        .body_len = (size_t)n,
        .patient_id = patient,
        .code = "http://loinc.org|8867-4",
        .date_us = 1795561341123000,
        .status = "final",
    };
    p->rc = mv_store_submit(b->s, &w, on_done, b);
    if (p->rc != MV_OK) {
      on_done(b, p->rc, NULL); /* not queued: release its window slot */
      break;
    }
  }
  return NULL;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static double pct_ms(int64_t *v, size_t n, double q) {
  if (n == 0)
    return 0;
  size_t k = (size_t)(q * (double)(n - 1) + 0.5);
  return (double)v[k] / 1000.0;
}

/* One batch size in a fresh database; returns durable writes/s or -1. */
static double run_size(const char *root, unsigned batch_max) {
  char url[4200];
  struct bench b = {.window = batch_max * 2};
  struct producer p = {.b = &b, .batch_max = batch_max};
  struct mv_diag d;
  pthread_t th;
  double rate = -1;
  mv_diag_clear(&d);
  snprintf(url, sizeof(url), "sqlite:%s/b%u", root, batch_max);
  b.commit_us = calloc(MAX_BATCHES, sizeof(*b.commit_us));
  pthread_mutex_init(&b.mu, NULL);
  pthread_cond_init(&b.cv, NULL);
  struct mv_store_opts o = {.url = url,
                            .batch_max = batch_max,
                            .batch_delay_us = 200000,
                            .queue_cap = batch_max * 4};
  if (!b.commit_us || mv_store_open(&o, &b.s, &d) != MV_OK) {
    fprintf(stderr, "bench_store: open failed: %s\n", d.msg);
    goto out;
  }
  mv__store_set_commit_observer(b.s, on_commit, &b);
  int64_t t0 = mono_us();
  pthread_create(&th, NULL, produce, &p);
  pthread_join(th, NULL);
  if (mv_store_flush(b.s) != MV_OK || p.rc != MV_OK || b.failed) {
    fprintf(stderr, "bench_store: writes failed (%s, %llu failed)\n",
            mv_err_name(p.rc), (unsigned long long)b.failed);
    goto out;
  }
  double secs = (double)(mono_us() - t0) / 1e6;
  rate = (double)b.acked / secs;
  qsort(b.commit_us, b.n_commits, sizeof(*b.commit_us), cmp_i64);
  printf("store group commit batch_max=%u: %.0f durable writes/s, "
         "p50 commit %.2f ms, p99 %.2f ms",
         batch_max, rate, pct_ms(b.commit_us, b.n_commits, 0.50),
         pct_ms(b.commit_us, b.n_commits, 0.99));
out:
  mv_store_close(b.s);
  pthread_cond_destroy(&b.cv);
  pthread_mutex_destroy(&b.mu);
  free(b.commit_us);
  return rate;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Pick a directory on a real disk: /tmp unless it is tmpfs. */
static int make_root(char *buf, size_t len) {
  struct statfs sf;
  const char *base = "/tmp";
  if (statfs(base, &sf) == 0 && (unsigned long)sf.f_type == TMPFS_MAGIC_NUMBER)
    base = ".";
  snprintf(buf, len, "%s/bench-store-XXXXXX", base);
  return mkdtemp(buf) ? 0 : -1;
}

int main(int argc, char **argv) {
  static const unsigned sizes[] = {1, 10, 100, 1000};
  char root[4096];
  int status = 0;
  mv_log_set_level(MV_LOG_WARN);
  if (argc > 1) {
    snprintf(root, sizeof(root), "%s", argv[1]);
  } else if (make_root(root, sizeof(root)) != 0) {
    perror("bench_store: mkdtemp");
    return 1;
  }
  double base = 0;
  for (size_t i = 0; i < MV_ARRAY_LEN(sizes); i++) {
    double r = run_size(root, sizes[i]);
    if (r < 0) {
      status = 1;
      break;
    }
    if (i == 0)
      base = r;
    printf(", %.1fx vs batch_max=1\n", base > 0 ? r / base : 0);
    fflush(stdout);
  }
  nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return status;
}
