/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Triage classifier benchmark (issue 5): for each corpus under DATA_ROOT
 * (symptom2disease, toyhom_im, dxy: train.csv and dev.csv) trains with the
 * CLI's defaults, then reports training time, dev accuracy / macro-F1 /
 * top-3 / ECE, model size, median single-query latency, batched queries/s
 * on one core and peak RSS, each as "RESULT key=value" with the ratio to
 * the target. The dev split is used only for reporting. For the
 * small corpora also the ECE of 5-fold cross-validated predictions over the
 * training rows (a calibration estimate with five times the rows of dev).
 * Env: BENCH_CLF_L2, BENCH_CLF_CW (0..2, -1 auto), BENCH_CLF_EXCLUDE,
 * BENCH_CLF_MIN_DF override the training options for experiments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mv_clf.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: throughput per CPU-second is what "one core"
 * means, and unlike wall time it does not count other processes' turns on
 * a shared machine. */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int read_csv(const char *path, struct mv_clf_corpus *c) {
  struct mv_diag dg;
  mv_diag_clear(&dg);
  int rc = mv_clf_corpus_read(path, c, &dg);
  if (rc != MV_OK)
    fprintf(stderr, "%s:%d: %s\n", path, dg.line, dg.msg);
  return rc == MV_OK ? 0 : -1;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double env_d(const char *k, double dflt) {
  const char *v = getenv(k);
  return v && *v ? strtod(v, NULL) : dflt;
}

struct target {
  const char *name;
  double acc, f1; /* the floor (scikit-learn's best on dev) */
  double top3;
};

static const struct target targets[] = {
    {"symptom2disease", 0.989, 0, 0.99},
    {"toyhom_im", 0.977, 0.870, 0.99},
    {"dxy", 0.833, 0, 0.96},
};

/* ECE with 15 equal-width bins of top-1 confidence (as mv_clf_evaluate)
 * over n probability rows of K labels; *out_acc the accuracy. */
static double ece15(const double *P, const uint32_t *y, size_t n, size_t K,
                    double *out_acc) {
  double bc[15] = {0}, ba[15] = {0}, e = 0;
  size_t ok = 0;
  for (size_t i = 0; i < n; i++) {
    const double *p = P + i * K;
    size_t am = 0;
    for (size_t k = 1; k < K; k++)
      am = p[k] > p[am] ? k : am;
    size_t b = (size_t)(p[am] * 15);
    b = b > 14 ? 14 : b;
    bc[b] += p[am];
    ba[b] += am == y[i];
    ok += am == y[i];
  }
  for (size_t b = 0; b < 15; b++)
    e += (ba[b] > bc[b] ? ba[b] - bc[b] : bc[b] - ba[b]) / (double)n;
  *out_acc = (double)ok / (double)n;
  return e;
}

/* Calibration measured with more rows than the dev split: 5-fold
 * cross-validation of the whole training procedure over the training rows
 * (fold = rank of a row within its label mod 5, as lr.c's model selection;
 * each fold model runs its own inner selection and temperature fit), then
 * the ECE of the pooled out-of-fold predictions. Small corpora only (five
 * more trainings). */
static void oof_cv5(const struct mv_clf_corpus *tr, const uint32_t *y,
                    char **lab, size_t K, const struct mv_clf_train_opts *o,
                    const char *c) {
  size_t n = tr->n, *seen = calloc(K, sizeof *seen);
  double *P = malloc(n * K * sizeof *P);
  const char **tx = malloc(n * sizeof *tx);
  uint32_t *yy = malloc(n * sizeof *yy), *fold = malloc(n * sizeof *fold);
  if (!seen || !P || !tx || !yy || !fold)
    abort();
  for (size_t i = 0; i < n; i++)
    fold[i] = (uint32_t)(seen[y[i]]++ % 5);
  for (uint32_t f = 0; f < 5; f++) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (fold[i] != f) {
        tx[m] = tr->text[i];
        yy[m++] = y[i];
      }
    struct mv_clf_model *fm = NULL;
    if (mv_clf_train(tx, yy, m, (const char *const *)lab, K, o, &fm, NULL) !=
        MV_OK)
      abort();
    for (size_t i = 0; i < n; i++)
      if (fold[i] == f && mv_clf_predict(fm, tr->text[i], strlen(tr->text[i]),
                                         0, P + i * K, K) != MV_OK)
        abort();
    mv_clf_model_free(fm);
  }
  double acc, e = ece15(P, y, n, K, &acc);
  printf("RESULT %s.oof_cv5_n=%zu accuracy=%.4f ece=%.4f ratio_to_0.05=%.2f\n",
         c, n, acc, e, e / 0.05);
  free(seen);
  free(P);
  free(tx);
  free(yy);
  free(fold);
}

static int run(const char *root, const struct target *tg) {
  char p[4096];
  struct mv_clf_corpus tr, dv;
  snprintf(p, sizeof p, "%s/%s/train.csv", root, tg->name);
  if (read_csv(p, &tr) != 0)
    return 1;
  snprintf(p, sizeof p, "%s/%s/dev.csv", root, tg->name);
  if (read_csv(p, &dv) != 0)
    return 1;
  char **lab = malloc(tr.n * sizeof *lab);
  uint32_t *y = malloc(tr.n * sizeof *y);
  long *yd = malloc(dv.n * sizeof *yd);
  if (!lab || !y || !yd)
    abort();
  memcpy(lab, tr.label, tr.n * sizeof *lab);
  qsort(lab, tr.n, sizeof *lab, cmp_str);
  size_t K = 0;
  for (size_t i = 0; i < tr.n; i++)
    if (K == 0 || strcmp(lab[K - 1], lab[i]) != 0)
      lab[K++] = lab[i];
  for (size_t i = 0; i < tr.n; i++)
    y[i] = (uint32_t)((char **)bsearch(&tr.label[i], lab, K, sizeof *lab,
                                       cmp_str) -
                      lab);
  struct mv_clf_train_opts o = {
      .l2 = env_d("BENCH_CLF_L2", 0),
      .class_weight = (int)env_d("BENCH_CLF_CW", MV_CLF_CW_DEFAULT),
      .tok_exclude =
          (unsigned)env_d("BENCH_CLF_EXCLUDE", MV_CLF_EXCLUDE_DEFAULT),
      .min_df = (unsigned)env_d("BENCH_CLF_MIN_DF", 0),
      .temperature = env_d("BENCH_CLF_T", 0)};
  struct mv_clf_model *m = NULL;
  struct mv_diag dg = {0};
  double t0 = now_s(), tc0 = cpu_s();
  if (mv_clf_train((const char *const *)tr.text, y, tr.n,
                   (const char *const *)lab, K, &o, &m, &dg) != MV_OK) {
    fprintf(stderr, "bench_clf: %s: train: %s\n", tg->name, dg.msg);
    return 1;
  }
  double t_train = now_s() - t0, t_train_cpu = cpu_s() - tc0;
  uint8_t *img = NULL;
  size_t img_len = 0;
  if (mv_clf_model_serialize(m, &img, &img_len) != MV_OK)
    abort();
  free(img);
  for (size_t i = 0; i < dv.n; i++)
    yd[i] = mv_clf_label_find(m, dv.label[i]);
  struct mv_clf_metrics mt;
  if (mv_clf_evaluate(m, (const char *const *)dv.text, yd, dv.n, &mt) != MV_OK)
    abort();
  /* ECE noise floor: the mean ECE of a perfectly calibrated model with
   * these confidences on this many rows (correctness drawn as
   * Bernoulli(confidence), 2000 draws, fixed xorshift seed) */
  double *conf = malloc(dv.n * sizeof *conf), ece_floor = 0;
  if (!conf || K > 1024)
    abort();
  for (size_t i = 0; i < dv.n; i++) {
    double pr[1024];
    if (mv_clf_predict(m, dv.text[i], strlen(dv.text[i]), 0, pr, K))
      abort();
    conf[i] = 0;
    for (size_t k = 0; k < K; k++)
      conf[i] = pr[k] > conf[i] ? pr[k] : conf[i];
  }
  uint64_t rs = 0x9e3779b97f4a7c15ull;
  for (int d = 0; d < 2000; d++) {
    double bc[15] = {0}, ba[15] = {0};
    for (size_t i = 0; i < dv.n; i++) {
      rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
      double u = (double)(rs >> 11) / 9007199254740992.0;
      size_t b = (size_t)(conf[i] * 15);
      b = b > 14 ? 14 : b;
      bc[b] += conf[i];
      ba[b] += u < conf[i];
    }
    for (size_t b = 0; b < 15; b++)
      ece_floor += (ba[b] > bc[b] ? ba[b] - bc[b] : bc[b] - ba[b]) /
                   (double)dv.n / 2000.0;
  }
  free(conf);
  /* latency: every dev text predicted alone, 5 rounds, median */
  size_t nl = dv.n * 5;
  double *lat = malloc(nl * sizeof *lat), probs[1024];
  if (!lat || K > 1024)
    abort();
  for (size_t r = 0, k = 0; r < 5; r++)
    for (size_t i = 0; i < dv.n; i++, k++) {
      double a = now_s();
      if (mv_clf_predict(m, dv.text[i], strlen(dv.text[i]), 0, probs, K))
        abort();
      lat[k] = now_s() - a;
    }
  qsort(lat, nl, sizeof *lat, cmp_dbl);
  double med_ms = lat[nl / 2] * 1e3, p99_ms = lat[nl * 99 / 100] * 1e3;
  /* batched: loop over the dev texts for at least one second */
  size_t q = 0;
  t0 = now_s();
  double c0 = cpu_s(), el = 0, cpu = 0, sink = 0;
  while (cpu < 1.0) {
    for (size_t i = 0; i < dv.n; i++, q++) {
      if (mv_clf_predict(m, dv.text[i], strlen(dv.text[i]), 0, probs, K))
        abort();
      sink += probs[0];
    }
    cpu = cpu_s() - c0;
  }
  el = now_s() - t0;
  double qps = (double)q / cpu, qps_wall = (double)q / el;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double rss_mb = (double)ru.ru_maxrss / 1024.0;
  const char *c = tg->name;
  printf("RESULT %s.train_cpu_s=%.3f ratio_to_10s=%.2f (wall %.3f s)\n", c,
         t_train_cpu, t_train_cpu / 10.0, t_train);
  printf("RESULT %s.features=%zu temperature=%.4f\n", c, mv_clf_n_features(m),
         mv_clf_temperature(m));
  printf("RESULT %s.dev_n=%zu accuracy=%.4f ratio_to_sklearn_%.3f=%.4f\n", c,
         mt.n, mt.accuracy, tg->acc, mt.accuracy / tg->acc);
  if (tg->f1 > 0)
    printf("RESULT %s.macro_f1=%.4f ratio_to_sklearn_%.3f=%.4f\n", c,
           mt.macro_f1, tg->f1, mt.macro_f1 / tg->f1);
  else
    printf("RESULT %s.macro_f1=%.4f\n", c, mt.macro_f1);
  printf("RESULT %s.top3=%.4f ratio_to_%.2f=%.4f\n", c, mt.top3, tg->top3,
         mt.top3 / tg->top3);
  printf("RESULT %s.ece=%.4f ratio_to_0.05=%.2f nll=%.4f "
         "ece_if_perfectly_calibrated=%.4f\n",
         c, mt.ece, mt.ece / 0.05, mt.nll, ece_floor);
  printf("RESULT %s.model_bytes=%zu ratio_to_4MB=%.3f\n", c, img_len,
         (double)img_len / (4.0 * 1024 * 1024));
  printf("RESULT %s.latency_median_ms=%.4f p99_ms=%.4f ratio_to_0.1ms=%.3f\n",
         c, med_ms, p99_ms, med_ms / 0.1);
  printf("RESULT %s.batched_qps_per_cpu_s=%.0f ratio_to_50000=%.2f "
         "(wall %.0f/s)%s\n",
         c, qps, qps / 50000.0, qps_wall, sink < 0 ? "?" : "");
  printf("RESULT %s.peak_rss_mb=%.1f ratio_to_64MB=%.2f (process so far)\n", c,
         rss_mb, rss_mb / 64.0);
  fflush(stdout);
  if (tr.n < 2000)
    oof_cv5(&tr, y, lab, K, &o, c);
  free(lat);
  mv_clf_model_free(m);
  free(lab);
  free(y);
  free(yd);
  mv_clf_corpus_release(&tr);
  mv_clf_corpus_release(&dv);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_clf DATA_ROOT [corpus...]\n");
    return 2;
  }
  int rc = 0;
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
    bool want = argc == 2;
    for (int a = 2; a < argc; a++)
      want |= strcmp(argv[a], targets[i].name) == 0;
    if (want)
      rc |= run(argv[1], &targets[i]);
  }
  return rc;
}
