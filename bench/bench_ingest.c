/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark of device ingestion below the network: mv_api_ingest_batch
 * (parse, validate, reference and access checks, index, encrypt, one
 * AuditEvent per batch, the stream cursor, one store transaction) into a
 * store with the ledger on (MV_STORE_LEDGER_ON: a leaf per record, log
 * files appended and synced, a checkpoint signed per group commit), every
 * batch acknowledged only once durable (fsync per group commit).
 *
 * Workloads (the throughput targets):
 *   vitals  one value per Observation (heart rate, SpO2, respiratory rate,
 *           temperature), batches of --batch Observations of one patient;
 *   series  valueSampledData Observations of --samples values each (an
 *           ECG lead at 250 Hz: 250 samples = 1 s), batches of --batch;
 *   mllp    an ORU^R01 message as the MLLP listener stores it: one batch of
 *           4 Observations (4 OBX) per message.
 * Producer threads (--threads) keep a bounded window of batches in flight,
 * each batch with its own device stream cursor. Prints durable
 * Observations/s, values/s, batches/s and the mean group-commit time.
 *
 * Usage: bench_ingest [--mode vitals|series|mllp|all] [--batch N]
 *        [--samples N] [--seconds S] [--threads T] [--patients P]
 *        [--window W] [--fixed-times] [--keep] [DIR]
 * Each Observation's effectiveDateTime is the time it is sent, as from a
 * monitor (--fixed-times: the templates' dates, which repeat, so the
 * date-ordered indexes take inserts all over their ranges).
 * DIR (default: a temp dir under the current directory) is removed
 * afterwards unless --keep. Run on a real disk: tmpfs has no fsync cost.
 */
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_int.h"
#include "mv_log.h"
#include "store_int.h"

#define PRODUCERS_MAX 8u

struct bench {
  struct mv_api *api;
  struct mv_store *s;
  const char *mode;
  unsigned batch, samples, patients, seconds;
  unsigned window;  /* batches in flight per producer */
  bool fixed_times; /* --fixed-times: the templates' dates, not now */
  int64_t deadline_us;
  /* per batch template: items (JSON without ids, reused: each create gets a
   * fresh id) */
  char **json;
  size_t n_json;
  unsigned values_per_obs;
  atomic_uint_fast64_t acked_batches, acked_obs, failed;
  atomic_uint_fast64_t commits, commit_us;
};

struct producer {
  struct bench *b;
  unsigned k;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned inflight;
};

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CPU time of the whole process (every thread), µs. */
static int64_t cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
         ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* CPU time (user + system, clock ticks) of each thread of the process, to
 * find the busiest one: the store's writer thread, which bounds the rate. */
#define TASKS_MAX 64
struct tasks {
  unsigned n;
  long tid[TASKS_MAX];
  unsigned long long ticks[TASKS_MAX];
};

static void tasks_read(struct tasks *t) {
  t->n = 0;
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  if (!d)
    return;
  while ((e = readdir(d)) != NULL && t->n < TASKS_MAX) {
    char path[64], line[512];
    long tid = atol(e->d_name);
    if (tid <= 0)
      continue;
    snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    char *end = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
    fclose(f);
    unsigned long long ut, st;
    /* after "comm)": state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime */
    if (end && sscanf(end + 1,
                      " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                      &ut, &st) == 2) {
      t->tid[t->n] = tid;
      t->ticks[t->n++] = ut + st;
    }
  }
  closedir(d);
}

/* CPU µs of the thread that used the most between a and b. */
static double tasks_busiest_us(const struct tasks *a, const struct tasks *b) {
  unsigned long long best = 0;
  for (unsigned i = 0; i < b->n; i++) {
    unsigned long long before = 0;
    for (unsigned j = 0; j < a->n; j++)
      if (a->tid[j] == b->tid[i])
        before = a->ticks[j];
    if (b->ticks[i] - before > best)
      best = b->ticks[i] - before;
  }
  long hz = sysconf(_SC_CLK_TCK);
  return hz > 0 ? (double)best * 1e6 / (double)hz : 0;
}

/* Bytes the process passed to write calls so far (/proc/self/io wchar);
 * 0 when unknown. */
static uint64_t written_bytes(void) {
  FILE *f = fopen("/proc/self/io", "r");
  char line[128];
  unsigned long long v = 0;
  if (!f)
    return 0;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "wchar: %llu", &v) == 1)
      break;
  fclose(f);
  return v;
}

static void on_commit(void *ctx, size_t n, int64_t us) {
  struct bench *b = ctx;
  (void)n;
  atomic_fetch_add(&b->commits, 1);
  atomic_fetch_add(&b->commit_us, (uint64_t)us);
}

static void on_done(void *ctx, int status, size_t n,
                    const struct mv_api_result *r) {
  struct producer *p = ctx;
  (void)r;
  if (status == MV_OK) {
    atomic_fetch_add(&p->b->acked_batches, 1);
    atomic_fetch_add(&p->b->acked_obs, n);
  } else {
    atomic_fetch_add(&p->b->failed, 1);
  }
  pthread_mutex_lock(&p->mu);
  p->inflight--;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

static const struct {
  const char *loinc, *display, *unit;
  double base;
} VITALS[] = {
    {"8867-4", "Heart rate", "/min", 72},
    {"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%",
     97},
    {"9279-1", "Respiratory rate", "/min", 16},
    {"8310-5", "Body temperature", "Cel", 37},
};

static char *vital_json(const char *pid, unsigned i) {
  char *s = malloc(2048);
  unsigned v = i % 4;
  if (!s)
    return NULL;
  snprintf(
      s, 2048,
      "{\"resourceType\":\"Observation\",\"status\":\"final\","
      "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
      "CodeSystem/observation-category\",\"code\":\"vital-signs\","
      "\"display\":\"Vital Signs\"}]}],"
      "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"%s\","
      "\"display\":\"%s\"}%s],\"text\":\"%s\"},"
      "\"subject\":{\"reference\":\"Patient/%s\"},"
      "\"effectiveDateTime\":\"2026-11-25T05:%02u:%02u.%03uZ\","
      "\"device\":{\"display\":\"monitor-7\"},"
      "\"valueQuantity\":{\"value\":%.1f,\"unit\":\"%s\",\"system\":"
      "\"http://unitsofmeasure.org\",\"code\":\"%s\"}}",
      VITALS[v].loinc, VITALS[v].display,
      v == 1 ? ",{\"system\":\"http://loinc.org\",\"code\":\"2708-6\"}" : "",
      VITALS[v].display, pid, (i / 60) % 60, i % 60, i % 1000,
      VITALS[v].base + (double)(i % 7) * 0.1, VITALS[v].unit, VITALS[v].unit);
  return s;
}

static char *series_json(const char *pid, unsigned i, unsigned samples) {
  size_t cap = 1024 + (size_t)samples * 7;
  char *s = malloc(cap);
  if (!s)
    return NULL;
  int n = snprintf(
      s, cap,
      "{\"resourceType\":\"Observation\",\"status\":\"final\","
      "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
      "CodeSystem/observation-category\",\"code\":\"procedure\"}]}],"
      "\"code\":{\"coding\":[{\"system\":\"urn:oid:2.16.840.1.113883.6.24\","
      "\"code\":\"131330\",\"display\":\"MDC_ECG_ELEC_POTL_II\"}],"
      "\"text\":\"ECG lead II\"},"
      "\"subject\":{\"reference\":\"Patient/%s\"},"
      "\"effectiveDateTime\":\"2026-11-25T05:%02u:%02u.000Z\","
      "\"valueSampledData\":{\"origin\":{\"value\":0,\"unit\":\"mV\","
      "\"system\":\"http://unitsofmeasure.org\",\"code\":\"mV\"},"
      "\"period\":4,\"factor\":0.005,\"dimensions\":1,\"data\":\"",
      pid, (i / 60) % 60, i % 60);
  for (unsigned k = 0; k < samples && (size_t)n + 16 < cap; k++) {
    /* a crude beat shape: baseline noise and an R wave every 200 samples */
    int x = (int)((k * 37u + i) % 11u) - 5 + (k % 200 < 6 ? 200 : 0);
    n += snprintf(s + n, cap - (size_t)n, k ? " %d" : "%d", x);
  }
  snprintf(s + n, cap - (size_t)n, "\"}}");
  return s;
}

/* Overwrite the effectiveDateTime of a copy of a template with the time
 * now (ms), as a monitor reports its measurements: the store's date-ordered
 * indexes then see increasing dates per patient and code, as in use. */
#define EFFECTIVE_KEY "\"effectiveDateTime\":\""
static void stamp_now(char *json) {
  char *at = strstr(json, EFFECTIVE_KEY);
  struct timespec ts;
  struct tm tm;
  char buf[32];
  if (!at)
    return;
  at += strlen(EFFECTIVE_KEY);
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
  /* same width as the template's "2026-11-25T05:MM:SS.mmmZ" */
  if (n == 24 && strlen(at) > 24 && at[23] == 'Z')
    memcpy(at, buf, 24);
}

static void *produce(void *arg) {
  struct producer *p = arg;
  struct bench *b = p->b;
  struct mv_api_item *items = calloc(b->batch, sizeof(*items));
  char **copies = calloc(b->batch, sizeof(*copies));
  char stream[64];
  int64_t seq = 0;
  size_t maxlen = 0;
  for (size_t i = 0; i < b->n_json; i++)
    if (strlen(b->json[i]) > maxlen)
      maxlen = strlen(b->json[i]);
  for (unsigned i = 0; copies && i < b->batch; i++)
    if (!(copies[i] = malloc(maxlen + 1)))
      goto out;
  snprintf(stream, sizeof(stream), "bench:%s:%u", b->mode, p->k);
  while (items && copies && mono_us() < b->deadline_us) {
    pthread_mutex_lock(&p->mu);
    while (p->inflight >= b->window)
      pthread_cond_wait(&p->cv, &p->mu);
    p->inflight++;
    pthread_mutex_unlock(&p->mu);
    /* one batch = one patient's device message(s) */
    size_t pat = (size_t)(seq % b->patients);
    for (unsigned i = 0; i < b->batch; i++) {
      const char *j = b->json[(pat * b->batch + i) % b->n_json];
      if (!b->fixed_times) {
        /* the store copies the items before mv_api_ingest_batch returns */
        memcpy(copies[i], j, strlen(j) + 1);
        stamp_now(copies[i]);
        j = copies[i];
      }
      items[i] = (struct mv_api_item){j, strlen(j)};
    }
    struct mv_api_cursor cur = {stream, ++seq};
    size_t failed;
    struct mv_diag d;
    mv_diag_clear(&d);
    int rc = mv_api_ingest_batch(b->api, items, b->batch, NULL, "Device/bench",
                                 &cur, on_done, p, &failed, &d);
    if (rc != MV_OK) {
      fprintf(stderr, "bench_ingest: batch refused: %s (%s at %s)\n",
              mv_err_name(rc), d.msg, d.path);
      atomic_fetch_add(&b->failed, 1);
      pthread_mutex_lock(&p->mu);
      p->inflight--;
      pthread_mutex_unlock(&p->mu);
      if (rc != MV_EBUSY)
        break;
    }
  }
  pthread_mutex_lock(&p->mu);
  while (p->inflight > 0)
    pthread_cond_wait(&p->cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
out:
  for (unsigned i = 0; copies && i < b->batch; i++)
    free(copies[i]);
  free(copies);
  free(items);
  return NULL;
}

static int run(struct bench *b, unsigned threads) {
  struct producer pr[PRODUCERS_MAX];
  pthread_t t[PRODUCERS_MAX];
  /* the templates: batch items for every patient */
  b->n_json = (size_t)b->patients * b->batch;
  b->json = calloc(b->n_json, sizeof(*b->json));
  if (!b->json)
    return 1;
  for (size_t i = 0; i < b->n_json; i++) {
    char pid[32];
    snprintf(pid, sizeof(pid), "bench-p%zu", i / b->batch);
    b->json[i] = strcmp(b->mode, "series") == 0
                     ? series_json(pid, (unsigned)i, b->samples)
                     : vital_json(pid, (unsigned)i);
    if (!b->json[i])
      return 1;
  }
  b->values_per_obs = strcmp(b->mode, "series") == 0 ? b->samples : 1;
  atomic_store(&b->acked_batches, 0);
  atomic_store(&b->acked_obs, 0);
  atomic_store(&b->failed, 0);
  atomic_store(&b->commits, 0);
  atomic_store(&b->commit_us, 0);
  int64_t t0 = mono_us(), c0 = cpu_us();
  uint64_t w0 = written_bytes();
  struct tasks *ta = malloc(2 * sizeof(*ta));
  if (!ta)
    return 1;
  tasks_read(&ta[0]);
  b->deadline_us = t0 + (int64_t)b->seconds * 1000000;
  for (unsigned i = 0; i < threads; i++) {
    pr[i] = (struct producer){.b = b, .k = i};
    pthread_mutex_init(&pr[i].mu, NULL);
    pthread_cond_init(&pr[i].cv, NULL);
    pthread_create(&t[i], NULL, produce, &pr[i]);
  }
  for (unsigned i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    pthread_cond_destroy(&pr[i].cv);
    pthread_mutex_destroy(&pr[i].mu);
  }
  double secs = (double)(mono_us() - t0) / 1e6;
  double cpu = (double)(cpu_us() - c0);
  double wr = (double)(written_bytes() - w0);
  tasks_read(&ta[1]);
  double busiest = tasks_busiest_us(&ta[0], &ta[1]);
  free(ta);
  uint64_t obs = atomic_load(&b->acked_obs);
  uint64_t batches = atomic_load(&b->acked_batches);
  uint64_t commits = atomic_load(&b->commits);
  printf("%-7s batch %4u%s threads %u window %u: %9.0f Observations/s %10.0f "
         "values/s "
         "%8.0f batches/s, %llu failed, %.0f batches per group commit, "
         "commit %.2f ms, CPU %.1f us (busiest thread %.1f us) and %.1f "
         "kB written per Observation\n",
         b->mode, b->batch, strcmp(b->mode, "series") == 0 ? " (series)" : "",
         threads, b->window, (double)obs / secs,
         (double)obs * b->values_per_obs / secs, (double)batches / secs,
         (unsigned long long)atomic_load(&b->failed),
         commits ? (double)batches / (double)commits : 0,
         commits ? (double)atomic_load(&b->commit_us) / (double)commits / 1e3
                 : 0,
         obs ? cpu / (double)obs : 0, obs ? busiest / (double)obs : 0,
         obs ? wr / (double)obs / 1e3 : 0);
  fflush(stdout);
  for (size_t i = 0; i < b->n_json; i++)
    free(b->json[i]);
  free(b->json);
  b->json = NULL;
  return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int main(int argc, char **argv) {
  struct bench b = {.mode = "all",
                    .batch = 0,
                    .samples = 250,
                    .patients = 50,
                    .seconds = 5,
                    .window = 64};
  unsigned threads = 1;
  bool keep = false;
  const char *dir_arg = NULL;
  char dir[256];
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
      b.mode = argv[++i];
    else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
      b.batch = (unsigned)atoi(argv[++i]);
    else if (strcmp(argv[i], "--samples") == 0 && i + 1 < argc)
      b.samples = (unsigned)atoi(argv[++i]);
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      b.seconds = (unsigned)atoi(argv[++i]);
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = (unsigned)atoi(argv[++i]);
    else if (strcmp(argv[i], "--fixed-times") == 0)
      b.fixed_times = true;
    else if (strcmp(argv[i], "--keep") == 0)
      keep = true;
    else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc)
      b.window = (unsigned)atoi(argv[++i]);
    else if (strcmp(argv[i], "--patients") == 0 && i + 1 < argc)
      b.patients = (unsigned)atoi(argv[++i]);
    else if (argv[i][0] != '-')
      dir_arg = argv[i];
    else {
      fprintf(stderr, "usage: bench_ingest [--mode vitals|series|mllp|all] "
                      "[--batch N] [--samples N] [--seconds S] [--threads T] "
                      "[--patients P] [--window W] [--fixed-times] [--keep] "
                      "[DIR]\n");
      return 2;
    }
  }
  if (threads < 1 || threads > PRODUCERS_MAX || b.patients < 1 ||
      b.patients > 10000 || b.samples < 1 || b.samples > 100000 ||
      b.seconds < 1 || b.window < 1 || b.window > 4096 ||
      b.batch > MV_STORE_TX_MAX - 1) {
    fprintf(stderr, "bench_ingest: argument out of range\n");
    return 2;
  }
  mv_log_set_level(MV_LOG_WARN);
  if (dir_arg) {
    snprintf(dir, sizeof(dir), "%s", dir_arg);
  } else {
    snprintf(dir, sizeof(dir), "./bench-ingest-XXXXXX");
    if (!mkdtemp(dir)) {
      perror("mkdtemp");
      return 1;
    }
  }
  struct mv_store_opts o = {.url = dir, .ledger = MV_STORE_LEDGER_ON};
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_store_open(&o, &b.s, &d);
  if (rc != MV_OK) {
    fprintf(stderr, "bench_ingest: store: %s\n", d.msg);
    return 1;
  }
  mv__store_set_commit_observer(b.s, on_commit, &b);
  struct mv_api api;
  memset(&api, 0, sizeof(api));
  api.store = b.s;
  api.clock = mv_clock_system();
  b.api = &api;
  for (unsigned i = 0; i < b.patients; i++) {
    char body[256];
    int n = snprintf(body, sizeof(body),
                     "{\"resourceType\":\"Patient\",\"id\":\"bench-p%u\","
                     "\"name\":[{\"family\":\"Bench\"}]}",
                     i);
    if ((rc = mv_api_ingest_sync(&api, body, (size_t)n, NULL, NULL, &d)) !=
        MV_OK) {
      fprintf(stderr, "bench_ingest: patient: %s\n", d.msg);
      return 1;
    }
  }
  const char *all[] = {"vitals", "series", "mllp"};
  unsigned batch_arg = b.batch;
  const char *mode = b.mode;
  int err = 0;
  for (size_t m = 0; m < 3 && !err; m++) {
    if (strcmp(mode, "all") != 0 && strcmp(mode, all[m]) != 0)
      continue;
    b.mode = all[m];
    b.batch = strcmp(all[m], "mllp") == 0     ? 4
              : batch_arg                     ? batch_arg
              : strcmp(all[m], "series") == 0 ? 10
                                              : 100;
    err = run(&b, threads);
  }
  mv_store_close(b.s);
  if (!keep)
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return err;
}
