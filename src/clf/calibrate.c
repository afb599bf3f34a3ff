/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calibration and evaluation: temperature scaling (Guo, Pleiss, Sun &
 * Weinberger 2017, "On Calibration of Modern Neural Networks", section 4.2)
 * fitted by golden-section search on log T, which is enough because the
 * NLL is unimodal in T; and the reported metrics: accuracy, macro-F1,
 * top-3 accuracy, mean NLL and the expected calibration error with 15
 * equal-width confidence bins (ibid. eq. 3; Naeini et al. 2015).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clf_int.h"

static double nll_at(const double *logits, const uint32_t *y, size_t n,
                     size_t K, double T, double *s) {
  double f = 0;
  for (size_t i = 0; i < n; i++) {
    memcpy(s, logits + i * K, K * sizeof *s);
    double sy = s[y[i]] / T;
    f += mv__clf_softmax(s, K, T) - sy;
  }
  return n ? f / (double)n : 0;
}

double mv__clf_fit_temperature(const double *logits, const uint32_t *y,
                               size_t n, size_t K) {
  double *s = malloc(K * sizeof *s);
  if (!s || n == 0) {
    free(s);
    return 1.0;
  }
  const double phi = 0.6180339887498949;
  double a = log(0.02), b = log(50.0);
  double c = b - phi * (b - a), d = a + phi * (b - a);
  double fc = nll_at(logits, y, n, K, exp(c), s);
  double fd = nll_at(logits, y, n, K, exp(d), s);
  for (int it = 0; it < 60 && b - a > 1e-5; it++) {
    if (fc < fd) {
      b = d, d = c, fd = fc;
      c = b - phi * (b - a);
      fc = nll_at(logits, y, n, K, exp(c), s);
    } else {
      a = c, c = d, fc = fd;
      d = a + phi * (b - a);
      fd = nll_at(logits, y, n, K, exp(d), s);
    }
  }
  free(s);
  return exp(0.5 * (a + b));
}

void mv__clf_metrics(const double *probs, const long *y, size_t n, size_t K,
                     struct mv_clf_metrics *out) {
  enum { BINS = 15 };
  double bin_conf[BINS] = {0}, bin_acc[BINS] = {0};
  size_t bin_n[BINS] = {0}, correct = 0, top3 = 0;
  double nll = 0;
  size_t *tp = calloc(K, sizeof *tp), *fp = calloc(K, sizeof *fp),
         *fn = calloc(K, sizeof *fn);
  memset(out, 0, sizeof *out);
  out->n = n;
  if (!tp || !fp || !fn || n == 0)
    goto out;
  for (size_t i = 0; i < n; i++) {
    const double *p = probs + i * K;
    size_t am = 0;
    for (size_t k = 1; k < K; k++)
      if (p[k] > p[am])
        am = k;
    bool ok = y[i] >= 0 && (size_t)y[i] == am;
    correct += ok;
    if (y[i] >= 0) {
      size_t rank = 0;
      for (size_t k = 0; k < K; k++)
        if (p[k] > p[y[i]] || (p[k] == p[y[i]] && k < (size_t)y[i]))
          rank++;
      top3 += rank < 3;
      nll -= log(fmax(p[y[i]], 1e-300));
    } else {
      nll += 700; /* an unknown label: -log of the smallest double */
    }
    if (ok) {
      tp[am]++;
    } else {
      fp[am]++;
      if (y[i] >= 0)
        fn[y[i]]++;
    }
    size_t b = (size_t)(p[am] * BINS);
    if (b >= BINS)
      b = BINS - 1;
    bin_n[b]++;
    bin_conf[b] += p[am];
    bin_acc[b] += ok;
  }
  out->accuracy = (double)correct / (double)n;
  out->top3 = (double)top3 / (double)n;
  out->nll = nll / (double)n;
  double ece = 0;
  for (size_t b = 0; b < BINS; b++)
    if (bin_n[b])
      ece += fabs(bin_acc[b] - bin_conf[b]) / (double)n;
  out->ece = ece;
  /* macro-F1 over labels present in the data or predicted (as
   * scikit-learn's f1_score(average="macro") over the observed labels) */
  double f1 = 0;
  size_t nl = 0;
  for (size_t k = 0; k < K; k++) {
    if (tp[k] + fp[k] + fn[k] == 0)
      continue;
    nl++;
    f1 += 2.0 * (double)tp[k] / (double)(2 * tp[k] + fp[k] + fn[k]);
  }
  out->macro_f1 = nl ? f1 / (double)nl : 0;
out:
  free(tp);
  free(fp);
  free(fn);
}

int mv_clf_evaluate(const struct mv_clf_model *m, const char *const *texts,
                    const long *labels, size_t n, struct mv_clf_metrics *out) {
  if (!m || (!texts && n) || (!labels && n) || !out)
    return MV_EINVAL;
  size_t K = mv_clf_n_labels(m);
  double *pr = malloc((n ? n : 1) * K * sizeof *pr);
  if (!pr)
    return MV_ENOMEM;
  int rc = MV_OK;
  for (size_t i = 0; i < n && rc == MV_OK; i++)
    rc = mv_clf_predict(m, texts[i], strlen(texts[i]), MV_CLF_LANG_AUTO,
                        pr + i * K, K);
  if (rc == MV_OK)
    mv__clf_metrics(pr, labels, n, K, out);
  free(pr);
  return rc;
}
