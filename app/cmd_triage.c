/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse triage`: `train` fits the triage classifier on an id,label,text
 * CSV (with the follow-up question table embedded as the model section
 * "inquiry") and writes the model file; `eval` prints one JSON object of
 * metrics for a model on a labelled CSV; `predict` is in
 * cmd_triage_predict.c. Bad input is reported as FILE:LINE: message or as
 * the flag at fault, exit status 2; runtime failures exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mv_buf.h"
#include "mv_clf.h"
#include "mv_clf_inquiry.h"
#include "mv_csv.h"
#include "mv_limits.h"

/* Read a corpus (mv_clf_corpus_read). Prints FILE:LINE: message and returns
 * EXIT_USAGE on bad input, 1 on memory failure. */
static int corpus_read(const char *path, struct mv_clf_corpus *c) {
  struct mv_diag dg;
  mv_diag_clear(&dg);
  int rc = mv_clf_corpus_read(path, c, &dg);
  if (rc == MV_OK)
    return 0;
  if (dg.line > 0)
    fprintf(stderr, "%s:%d: %s\n", path, dg.line, dg.msg);
  else
    fprintf(stderr, "%s: %s\n", path, dg.msg[0] ? dg.msg : mv_strerror(rc));
  return rc == MV_ENOMEM ? 1 : EXIT_USAGE;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "--name value" flags; returns the index past the flags or -1 (message
 * printed) on an unknown flag or a missing value. */
static int parse_flags(const char *cmd, int argc, char **argv,
                       const char *const *names, const char **vals, size_t nn) {
  for (int i = 0; i < argc; i++) {
    size_t k = 0;
    if (strncmp(argv[i], "--", 2) == 0)
      for (; k < nn; k++)
        if (strcmp(argv[i] + 2, names[k]) == 0)
          break;
    if (strncmp(argv[i], "--", 2) != 0 || k == nn) {
      fprintf(stderr, "medverse triage %s: %s: unknown argument\n", cmd,
              argv[i]);
      return -1;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "medverse triage %s: %s: needs a value\n", cmd, argv[i]);
      return -1;
    }
    vals[k] = argv[++i];
  }
  return argc;
}

struct prog {
  bool tty;
  const char *last;
};

static void on_progress(void *ctx, const char *stage, double frac) {
  struct prog *p = ctx;
  if (!p->tty)
    return;
  fprintf(stderr, "\rtraining: %-10s %3.0f%%", stage, 100 * frac);
  p->last = stage;
  fflush(stderr);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void print_metrics(FILE *f, const struct mv_clf_metrics *m) {
  fprintf(f,
          "{\"n\":%zu,\"accuracy\":%.6f,\"macro_f1\":%.6f,\"top3\":%.6f,"
          "\"ece\":%.6f}\n",
          m->n, m->accuracy, m->macro_f1, m->top3, m->ece);
}

/* Metrics of model on corpus c (labels unknown to the model count as
 * wrong). */
static int eval_corpus(const struct mv_clf_model *m,
                       const struct mv_clf_corpus *c,
                       struct mv_clf_metrics *out) {
  long *y = malloc(c->n * sizeof *y);
  if (!y)
    return MV_ENOMEM;
  for (size_t i = 0; i < c->n; i++)
    y[i] = mv_clf_label_find(m, c->label[i]);
  int rc = mv_clf_evaluate(m, (const char *const *)c->text, y, c->n, out);
  free(y);
  return rc;
}

static int embed_inquiry(struct mv_clf_model *m, const struct mv_clf_corpus *c,
                         const uint32_t *y, size_t K) {
  struct mv_clf_inquiry *inq = NULL;
  struct mv_buf b;
  struct mv_diag dg = {0};
  mv_buf_init(&b, MV_LIMIT_CLF_MODEL);
  int rc =
      mv_clf_inquiry_build((const char *const *)c->text, y, c->n, K, &inq, &dg);
  if (rc == MV_OK)
    rc = mv_clf_inquiry_save(inq, &b);
  if (rc == MV_OK)
    rc = mv_clf_model_set_section(m, "inquiry", b.data, b.len);
  if (rc != MV_OK)
    fprintf(stderr, "medverse triage train: follow-up questions: %s\n",
            dg.msg[0] ? dg.msg : mv_strerror(rc));
  mv_clf_inquiry_free(inq);
  mv_buf_release(&b);
  return rc;
}

static int cmd_train(int argc, char **argv) {
  static const char *const names[] = {
      "train", "dev", "out", "l2", "class-weight", "min-df", "exclude-kinds"};
  const char *v[7] = {0};
  struct mv_clf_corpus tr = {0}, dev = {0};
  char **lab = NULL;
  uint32_t *y = NULL;
  struct mv_clf_model *m = NULL;
  struct mv_diag dg = {0};
  int ret = EXIT_USAGE;
  if (parse_flags("train", argc, argv, names, v, 7) < 0)
    goto out;
  if (!v[0] || !v[2]) {
    fprintf(stderr, "usage: medverse triage train --train FILE.csv "
                    "[--dev FILE.csv] --out MODEL [--l2 X] "
                    "[--class-weight balanced|sqrt|none|auto] [--min-df N] "
                    "[--exclude-kinds MASK]\n");
    goto out;
  }
  struct mv_clf_train_opts o = {.class_weight = MV_CLF_CW_DEFAULT,
                                .tok_exclude = MV_CLF_EXCLUDE_DEFAULT};
  if (v[3]) {
    char *e;
    o.l2 = strtod(v[3], &e);
    if (*e || !(o.l2 > 0 && o.l2 < 1e3)) {
      fprintf(stderr, "medverse triage train: --l2: expected a number in "
                      "(0, 1000)\n");
      goto out;
    }
  }
  if (v[4]) {
    static const char *const cw[] = {"none", "sqrt", "balanced", "auto"};
    int k = 0;
    while (k < 4 && strcmp(v[4], cw[k]) != 0)
      k++;
    if (k == 4) {
      fprintf(stderr, "medverse triage train: --class-weight: expected "
                      "auto, none, sqrt or balanced\n");
      goto out;
    }
    o.class_weight = k == 3 ? -1 : k;
  }
  if (v[5]) {
    char *e;
    unsigned long md = strtoul(v[5], &e, 10);
    if (*e || md < 1 || md > 1000) {
      fprintf(stderr, "medverse triage train: --min-df: expected 1..1000\n");
      goto out;
    }
    o.min_df = (unsigned)md;
  }
  if (v[6]) { /* a bit mask of enum mv_clf_tok_kind, for experiments */
    char *e;
    unsigned long ex = strtoul(v[6], &e, 0);
    if (*e || ex > 0xFF) {
      fprintf(stderr, "medverse triage train: --exclude-kinds: expected a "
                      "bit mask 0..255\n");
      goto out;
    }
    o.tok_exclude = (unsigned)ex;
  }
  if ((ret = corpus_read(v[0], &tr)) != 0)
    goto out;
  if (v[1] && (ret = corpus_read(v[1], &dev)) != 0)
    goto out;
  ret = EXIT_USAGE;
  /* labels: the distinct names in byte order (deterministic) */
  lab = malloc(tr.n * sizeof *lab);
  y = malloc(tr.n * sizeof *y);
  if (!lab || !y) {
    ret = 1;
    fprintf(stderr, "medverse triage train: out of memory\n");
    goto out;
  }
  memcpy(lab, tr.label, tr.n * sizeof *lab);
  qsort(lab, tr.n, sizeof *lab, cmp_str);
  size_t K = 0;
  for (size_t i = 0; i < tr.n; i++)
    if (K == 0 || strcmp(lab[K - 1], lab[i]) != 0)
      lab[K++] = lab[i];
  if (K < 2 || K > MV_LIMIT_CLF_LABELS) {
    fprintf(stderr, "%s: need 2 to %u distinct labels, found %zu\n", v[0],
            MV_LIMIT_CLF_LABELS, K);
    goto out;
  }
  for (size_t i = 0; i < tr.n; i++) {
    char **hit = bsearch(&tr.label[i], lab, K, sizeof *lab, cmp_str);
    y[i] = (uint32_t)(hit - lab);
  }
  struct prog pg = {.tty = isatty(2)};
  o.progress = on_progress;
  o.progress_ctx = &pg;
  double t0 = now_s();
  int rc = mv_clf_train((const char *const *)tr.text, y, tr.n,
                        (const char *const *)lab, K, &o, &m, &dg);
  if (pg.tty)
    fputc('\n', stderr);
  if (rc != MV_OK) {
    ret = rc == MV_EINVAL || rc == MV_ETOOBIG ? EXIT_USAGE : 1;
    fprintf(stderr, "medverse triage train: %s\n",
            dg.msg[0] ? dg.msg : mv_strerror(rc));
    goto out;
  }
  double t1 = now_s();
  if (embed_inquiry(m, &tr, y, K) != MV_OK) {
    ret = 1;
    goto out;
  }
  rc = mv_clf_model_save(m, v[2], &dg);
  if (rc != MV_OK) {
    char b[512];
    fprintf(stderr, "medverse triage train: --out: %s\n",
            mv_diag_format(&dg, b, sizeof b));
    ret = 1;
    goto out;
  }
  fprintf(stderr,
          "trained on %zu rows, %zu labels, %zu features in %.2f s "
          "(temperature %.3f)\n",
          tr.n, K, mv_clf_n_features(m), t1 - t0, mv_clf_temperature(m));
  if (dev.n) {
    struct mv_clf_metrics mt;
    if (eval_corpus(m, &dev, &mt) == MV_OK) {
      fprintf(stderr, "dev (not used for any choice): ");
      print_metrics(stderr, &mt);
    }
  }
  ret = 0;
out:
  mv_clf_corpus_release(&tr);
  mv_clf_corpus_release(&dev);
  free(lab);
  free(y);
  mv_clf_model_free(m);
  return ret;
}

static int cmd_eval(int argc, char **argv) {
  static const char *const names[] = {"model", "data"};
  const char *v[2] = {0};
  struct mv_clf_corpus c = {0};
  struct mv_clf_model *m = NULL;
  struct mv_diag dg = {0};
  int ret = EXIT_USAGE;
  if (parse_flags("eval", argc, argv, names, v, 2) < 0)
    goto out;
  if (!v[0] || !v[1]) {
    fprintf(stderr,
            "usage: medverse triage eval --model MODEL --data FILE.csv\n");
    goto out;
  }
  int rc = mv_clf_model_load(v[0], &m, &dg);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse triage eval: --model: %s: %s\n", v[0],
            dg.msg[0] ? dg.msg : mv_strerror(rc));
    ret = rc == MV_ENOMEM ? 1 : EXIT_USAGE;
    goto out;
  }
  if ((ret = corpus_read(v[1], &c)) != 0)
    goto out;
  struct mv_clf_metrics mt;
  rc = eval_corpus(m, &c, &mt);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse triage eval: %s\n", mv_strerror(rc));
    ret = 1;
    goto out;
  }
  print_metrics(stdout, &mt);
  ret = 0;
out:
  mv_clf_corpus_release(&c);
  mv_clf_model_free(m);
  return ret;
}

int cmd_triage(int argc, char **argv) {
  if (argc >= 1 && strcmp(argv[0], "predict") == 0)
    return cmd_triage_predict(argc - 1, argv + 1);
  if (argc >= 1 && strcmp(argv[0], "train") == 0)
    return cmd_train(argc - 1, argv + 1);
  if (argc >= 1 && strcmp(argv[0], "eval") == 0)
    return cmd_eval(argc - 1, argv + 1);
  fprintf(stderr, "usage: medverse triage train|eval|predict ...\n"
                  "  train --train FILE.csv [--dev FILE.csv] --out MODEL\n"
                  "  eval --model MODEL --data FILE.csv\n"
                  "  predict [--model MODEL] [--lang auto|en|zh] < texts\n");
  return EXIT_USAGE;
}
