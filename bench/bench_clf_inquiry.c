/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Follow-up question benchmark (issue 5, "Inquiry"): does asking help, and
 * does expected information gain choose better questions than chance? For
 * each corpus under DATA_ROOT (train.csv, dev.csv) it trains the classifier
 * with the CLI's defaults and builds the inquiry table from train. Each dev
 * row is then cut to its first clause (what a patient types first); the
 * session starts from the classifier's posterior for that clause and asks up
 * to N questions, answered by an oracle that reads the full row (yes when
 * the lexicon finds the concept in current context, else no). Reported:
 * top-1/top-3 accuracy of the clause alone, after EIG questions, after the
 * same number of random questions (seeded), and the full text's accuracy
 * as a ceiling; mean questions asked. Each line "RESULT key=value".
 * Usage: bench_clf_inquiry DATA_ROOT [N_QUESTIONS [CORPUS]]
 * Env: BENCH_INQ_TOP_P overrides the stopping threshold (default 0.90).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_clf.h"
#include "mv_clf_inquiry.h"

static int read_csv(const char *path, struct mv_clf_corpus *c) {
  struct mv_diag dg;
  mv_diag_clear(&dg);
  int rc = mv_clf_corpus_read(path, c, &dg);
  if (rc != MV_OK)
    fprintf(stderr, "%s:%d: %s\n", path, dg.line, dg.msg);
  return rc == MV_OK ? 0 : -1;
}

/* Bytes of the first clause (up to . , ; ! ? or their CJK forms). */
static size_t first_clause(const char *s) {
  static const char *const zh[] = {"。", "，", "；", "！", "？"};
  size_t n = strlen(s);
  for (size_t i = 1; i < n; i++) {
    if (strchr(".,;!?", s[i]))
      return i;
    for (size_t k = 0; k < 5; k++)
      if (strncmp(s + i, zh[k], 3) == 0)
        return i;
  }
  return n;
}

static size_t argmax(const double *p, size_t n) {
  size_t b = 0;
  for (size_t i = 1; i < n; i++)
    if (p[i] > p[b])
      b = i;
  return b;
}

static int in_top3(const double *p, size_t n, size_t y) {
  size_t above = 0;
  for (size_t i = 0; i < n; i++)
    above += p[i] > p[y];
  return above < 3;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void) { /* xorshift64* (Vigna 2016) */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ull;
}

struct tally {
  size_t top1, top3;
};

static void score(struct tally *t, const double *p, size_t n, size_t y) {
  t->top1 += argmax(p, n) == y;
  t->top3 += (size_t)in_top3(p, n, y);
}

static int run(const char *root, const char *name, unsigned nq) {
  char path[4096];
  struct mv_clf_corpus tr, dv;
  snprintf(path, sizeof path, "%s/%s/train.csv", root, name);
  if (read_csv(path, &tr) != 0)
    return 1;
  snprintf(path, sizeof path, "%s/%s/dev.csv", root, name);
  if (read_csv(path, &dv) != 0)
    return 1;
  /* Labels in sorted order, as the CLI numbers them. */
  const char *lab[1024];
  size_t K = 0;
  for (size_t i = 0; i < tr.n; i++) {
    size_t k = 0;
    while (k < K && strcmp(lab[k], tr.label[i]) != 0)
      k++;
    if (k == K && K < 1024)
      lab[K++] = tr.label[i];
  }
  uint32_t *y = malloc(tr.n * sizeof *y);
  for (size_t i = 0; i < tr.n; i++)
    for (size_t k = 0; k < K; k++)
      if (strcmp(lab[k], tr.label[i]) == 0)
        y[i] = (uint32_t)k;
  struct mv_clf_train_opts o = {.class_weight = -1};
  struct mv_clf_model *m = NULL;
  struct mv_clf_inquiry *q = NULL;
  if (mv_clf_train((const char *const *)tr.text, y, tr.n, lab, K, &o, &m,
                   NULL) != MV_OK ||
      mv_clf_inquiry_build((const char *const *)tr.text, y, tr.n, K, &q,
                           NULL) != MV_OK) {
    fprintf(stderr, "bench_clf_inquiry: %s: training failed\n", name);
    return 1;
  }
  size_t nc = mv_clf_inquiry_n_concepts(q), L = mv_clf_n_labels(m);
  double *p0 = malloc(L * sizeof *p0), *pe = malloc(L * sizeof *pe),
         *pr = malloc(L * sizeof *pr), *pf = malloc(L * sizeof *pf);
  uint8_t *present = calloc(mv_clf_lexicon_size(), 1);
  uint8_t *truth = calloc(nc, 1), *known = calloc(nc, 1),
          *rknown = calloc(nc, 1);
  struct tally t0 = {0}, te = {0}, tr_ = {0}, tf = {0};
  size_t n = 0, asked_total = 0;
  for (size_t i = 0; i < dv.n; i++) {
    long yl = mv_clf_label_find(m, dv.label[i]);
    if (yl < 0)
      continue;
    const char *s = dv.text[i];
    size_t cl = first_clause(s);
    if (mv_clf_predict(m, s, cl, MV_CLF_LANG_AUTO, p0, L) != MV_OK ||
        mv_clf_predict(m, s, strlen(s), MV_CLF_LANG_AUTO, pf, L) != MV_OK)
      abort();
    memset(truth, 0, nc);
    mv_clf_lexicon_detect(s, strlen(s), present);
    mv_clf_inquiry_mark_detected(q, present, truth);
    memset(known, 0, nc);
    mv_clf_lexicon_detect(s, cl, present);
    mv_clf_inquiry_mark_detected(q, present, known);
    memcpy(rknown, known, nc);
    memcpy(pe, p0, L * sizeof *pe);
    memcpy(pr, p0, L * sizeof *pr);
    struct mv_clf_inq_stop rule;
    mv_clf_inquiry_stop_default(&rule);
    rule.max_questions = nq;
    if (getenv("BENCH_INQ_TOP_P"))
      rule.top_p = strtod(getenv("BENCH_INQ_TOP_P"), NULL);
    unsigned asked = 0;
    struct mv_clf_inq_question qq;
    while (!mv_clf_inquiry_should_stop(pe, L, asked, &rule) &&
           mv_clf_inquiry_next(q, pe, L, known, MV_CLF_INQ_EN,
                               rule.min_gain_bits, &qq) == MV_OK) {
      known[qq.concept] = 1;
      if (mv_clf_inquiry_update(q, pe, L, qq.concept,
                                truth[qq.concept] ? MV_CLF_INQ_YES
                                                  : MV_CLF_INQ_NO) != MV_OK)
        abort();
      asked++;
    }
    /* The same number of random unasked concepts. */
    for (unsigned k = 0; k < asked; k++) {
      uint32_t c;
      do
        c = (uint32_t)(next_rand() % nc);
      while (rknown[c]);
      rknown[c] = 1;
      if (mv_clf_inquiry_update(
              q, pr, L, c, truth[c] ? MV_CLF_INQ_YES : MV_CLF_INQ_NO) != MV_OK)
        abort();
    }
    score(&t0, p0, L, (size_t)yl);
    score(&te, pe, L, (size_t)yl);
    score(&tr_, pr, L, (size_t)yl);
    score(&tf, pf, L, (size_t)yl);
    asked_total += asked;
    n++;
  }
  double d = n ? (double)n : 1.0;
  printf("RESULT corpus=%s n=%zu max_questions=%u\n", name, n, nq);
  printf("RESULT %s.clause_top1=%.3f clause_top3=%.3f\n", name, t0.top1 / d,
         t0.top3 / d);
  printf("RESULT %s.eig_top1=%.3f eig_top3=%.3f mean_questions=%.2f\n", name,
         te.top1 / d, te.top3 / d, (double)asked_total / d);
  printf("RESULT %s.random_top1=%.3f random_top3=%.3f\n", name, tr_.top1 / d,
         tr_.top3 / d);
  printf("RESULT %s.full_text_top1=%.3f full_text_top3=%.3f\n", name,
         tf.top1 / d, tf.top3 / d);
  free(p0);
  free(pe);
  free(pr);
  free(pf);
  free(present);
  free(truth);
  free(known);
  free(rknown);
  free(y);
  mv_clf_model_free(m);
  mv_clf_inquiry_free(q);
  mv_clf_corpus_release(&tr);
  mv_clf_corpus_release(&dv);
  return 0;
}

int main(int argc, char **argv) {
  static const char *const names[] = {"symptom2disease", "toyhom_im", "dxy"};
  if (argc < 2) {
    fprintf(stderr, "usage: bench_clf_inquiry DATA_ROOT [N_QUESTIONS "
                    "[CORPUS]]\n");
    return 2;
  }
  unsigned nq = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 8u;
  int rc = 0;
  for (size_t i = 0; i < 3; i++)
    if (argc < 4 || strcmp(argv[3], names[i]) == 0)
      rc |= run(argv[1], names[i], nq);
  return rc;
}
