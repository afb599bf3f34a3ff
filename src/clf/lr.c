/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Training: builds the vocabulary (token hashes in at least min_df
 * documents) and sublinear TF-IDF rows, then fits a multinomial logistic
 * regression (softmax) by L-BFGS on the class-weighted mean cross-entropy
 * plus (l2/2)||W||^2 (bias not penalised). The L2 strength and the class
 * weighting are chosen on a deterministic stratified 20% split of the
 * training data (every fifth document of each label), warm-starting along
 * a decreasing L2 path; the temperature is fitted on the same split
 * (Guo et al. 2017); the final model is refitted on all training rows. The
 * caller's dev data is never used for any choice.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "clf_int.h"

struct lr_data {
  size_t n, d, K;
  const size_t *rowp; /* n + 1 */
  const uint32_t *idx;
  const float *val;
  const uint32_t *y;
};

struct lr_obj {
  const struct lr_data *X;
  const size_t *rows; /* the rows this fit uses */
  size_t n_rows;
  const double *cw; /* per-class weight */
  double l2;
  double *s; /* K scratch */
};

double mv__clf_softmax(double *s, size_t K, double T) {
  double mx = -INFINITY;
  for (size_t k = 0; k < K; k++) {
    s[k] /= T;
    if (s[k] > mx)
      mx = s[k];
  }
  double z = 0;
  for (size_t k = 0; k < K; k++) {
    s[k] = exp(s[k] - mx);
    z += s[k];
  }
  for (size_t k = 0; k < K; k++)
    s[k] /= z;
  return mx + log(z);
}

static void row_scores(const struct lr_data *X, const double *x, size_t r,
                       double *s) {
  size_t K = X->K;
  const double *b = x + X->d * K;
  for (size_t k = 0; k < K; k++)
    s[k] = b[k];
  for (size_t p = X->rowp[r]; p < X->rowp[r + 1]; p++) {
    const double *w = x + (size_t)X->idx[p] * K;
    double v = X->val[p];
    for (size_t k = 0; k < K; k++)
      s[k] += v * w[k];
  }
}

static double lr_fg(void *ctx, const double *x, double *g, size_t n) {
  struct lr_obj *o = ctx;
  const struct lr_data *X = o->X;
  size_t K = X->K, dK = X->d * K;
  double f = 0, wsum = 0;
  memset(g, 0, n * sizeof *g);
  for (size_t t = 0; t < o->n_rows; t++)
    wsum += o->cw[X->y[o->rows[t]]];
  double inv = 1.0 / wsum;
  for (size_t t = 0; t < o->n_rows; t++) {
    size_t r = o->rows[t];
    uint32_t y = X->y[r];
    double c = o->cw[y] * inv;
    row_scores(X, x, r, o->s);
    double sy = o->s[y];
    double lse = mv__clf_softmax(o->s, K, 1.0);
    f += c * (lse - sy);
    o->s[y] -= 1.0;
    for (size_t k = 0; k < K; k++)
      o->s[k] *= c;
    for (size_t p = X->rowp[r]; p < X->rowp[r + 1]; p++) {
      double *gw = g + (size_t)X->idx[p] * K;
      double v = X->val[p];
      for (size_t k = 0; k < K; k++)
        gw[k] += v * o->s[k];
    }
    double *gb = g + dK;
    for (size_t k = 0; k < K; k++)
      gb[k] += o->s[k];
  }
  double reg = 0;
  for (size_t i = 0; i < dK; i++) {
    reg += x[i] * x[i];
    g[i] += o->l2 * x[i];
  }
  return f + 0.5 * o->l2 * reg;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Index of h in the sorted vocabulary, or -1. */
static long vocab_bsearch(const uint64_t *v, size_t d, uint64_t h) {
  size_t lo = 0, hi = d;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid] < h)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < d && v[lo] == h ? (long)lo : -1;
}

static void progress(const struct mv_clf_train_opts *o, const char *stage,
                     double frac) {
  if (o && o->progress)
    o->progress(o->progress_ctx, stage, frac);
}

static void class_weights(const uint32_t *y, const size_t *rows, size_t n,
                          size_t K, int mode, double *cw) {
  double *cnt = calloc(K, sizeof *cnt);
  for (size_t k = 0; k < K; k++)
    cw[k] = 1.0;
  if (!cnt || mode == 0) {
    free(cnt);
    return;
  }
  for (size_t t = 0; t < n; t++)
    cnt[y[rows[t]]] += 1;
  double pw = mode == 2 ? 1.0 : 0.5, tot = 0;
  for (size_t k = 0; k < K; k++) {
    cw[k] = cnt[k] > 0 ? pow((double)n / ((double)K * cnt[k]), pw) : 1.0;
    tot += cw[k] * cnt[k];
  }
  for (size_t k = 0; k < K; k++) /* keep the mean weight per row at 1 */
    cw[k] *= (double)n / tot;
  free(cnt);
}

/* Selection score of out-of-fold logits (rows with val[i] set): the
 * targets weigh accuracy first; macro-F1 keeps the rare classes of
 * imbalanced corpora in view; the NLL breaks exact ties. */
static double oof_score(const double *logits, const uint32_t *y,
                        const bool *val, size_t n, size_t K) {
  double *pr = malloc((n ? n : 1) * K * sizeof *pr);
  long *yy = malloc((n ? n : 1) * sizeof *yy);
  struct mv_clf_metrics m = {0};
  size_t k = 0;
  if (pr && yy) {
    for (size_t i = 0; i < n; i++) {
      if (!val[i])
        continue;
      memcpy(pr + k * K, logits + i * K, K * sizeof *pr);
      mv__clf_softmax(pr + k * K, K, 1.0);
      yy[k++] = y[i];
    }
    mv__clf_metrics(pr, yy, k, K, &m);
  }
  free(pr);
  free(yy);
  return m.accuracy + 0.25 * m.macro_f1 - 1e-3 * m.nll;
}

/* Model selection by stratified k-fold cross-validation on the training
 * rows (Kohavi 1995): fold of a row = its rank within its label mod 5.
 * With folds == 1 only fold 2 is held out (a single 20% split, for large
 * corpora). Along each fold's L2 path (strongest first) every fit
 * warm-starts from the previous one. Writes the chosen l2 and class weight
 * mode, and the temperature fitted on the chosen out-of-fold logits. */
struct search {
  const struct lr_data *X;
  size_t np;
  unsigned folds;
  const double *grid;
  size_t n_grid;
  int cw_lo, cw_hi;
  const struct mv__clf_lbfgs_opts *lo;
  const struct mv_clf_train_opts *opts;
  double *x; /* np parameters of scratch (the caller's buffer) */
  double l2, T;
  int cw;
};

static int select_cv(struct search *S) {
  const struct lr_data *X = S->X;
  size_t n = X->n, K = X->K, ncw = (size_t)(S->cw_hi - S->cw_lo + 1);
  size_t combos = ncw * S->n_grid, steps = combos * S->folds, st = 0;
  int rc = MV_ENOMEM;
  uint8_t *fold = malloc(n);
  uint32_t *seen = calloc(K, sizeof *seen);
  bool *val = calloc(n, sizeof *val);
  size_t *rows = malloc(n * sizeof *rows);
  double *x = S->x, *s = malloc(K * sizeof *s);
  double *cw = malloc(K * sizeof *cw);
  double *oof = calloc(combos * n * K, sizeof *oof);
  uint32_t *yv = malloc(n * sizeof *yv);
  if (!fold || !seen || !val || !rows || !x || !s || !cw || !oof || !yv)
    goto out;
  for (size_t i = 0; i < n; i++)
    fold[i] = (uint8_t)(seen[X->y[i]]++ % 5);
  /* selection compares settings, so a looser stop suffices */
  struct mv__clf_lbfgs_opts los = *S->lo;
  los.ftol = 1e-6;
  for (int c = S->cw_lo; c <= S->cw_hi; c++) {
    for (unsigned f = 0; f < S->folds; f++) {
      unsigned hold = S->folds == 1 ? 2 : f;
      size_t nf = 0;
      for (size_t i = 0; i < n; i++) {
        if (fold[i] == hold)
          val[i] = true;
        else
          rows[nf++] = i;
      }
      class_weights(X->y, rows, nf, K, c, cw);
      memset(x, 0, S->np * sizeof *x);
      for (size_t gi = 0; gi < S->n_grid; gi++) {
        struct lr_obj o = {.X = X,
                           .rows = rows,
                           .n_rows = nf,
                           .cw = cw,
                           .l2 = S->grid[gi],
                           .s = s};
        progress(S->opts, "select l2", (double)st++ / (double)steps);
        rc = mv__clf_lbfgs(lr_fg, &o, x, S->np, &los, NULL, NULL);
        if (rc != MV_OK)
          goto out;
        double *L = oof + ((size_t)(c - S->cw_lo) * S->n_grid + gi) * n * K;
        for (size_t i = 0; i < n; i++)
          if (fold[i] == hold)
            row_scores(X, x, i, L + i * K);
      }
    }
  }
  double best = -INFINITY;
  size_t bi = 0;
  for (size_t ci = 0; ci < combos; ci++) {
    double sc = oof_score(oof + ci * n * K, X->y, val, n, K);
    if (sc > best) {
      best = sc;
      bi = ci;
    }
  }
  S->cw = S->cw_lo + (int)(bi / S->n_grid);
  S->l2 = S->grid[bi % S->n_grid];
  /* the temperature on the chosen out-of-fold logits */
  size_t nv = 0;
  const double *L = oof + bi * n * K;
  for (size_t i = 0; i < n; i++)
    if (val[i]) {
      memmove(oof + nv * K, L + i * K, K * sizeof *oof);
      yv[nv++] = X->y[i];
    }
  progress(S->opts, "calibrate", 0);
  S->T = mv__clf_fit_temperature(oof, yv, nv, K);
  rc = MV_OK;
out:
  free(fold);
  free(seen);
  free(val);
  free(rows);
  free(s);
  free(cw);
  free(oof);
  free(yv);
  return rc;
}

/* The vocabulary: token hashes in at least min_df documents (words: one),
 * in hash order (deterministic), with smooth idf ln((1+n)/(1+df)) + 1.
 * *out_vocab and *out_idf returned (caller frees), *out_d entries. */
static int build_vocab(uint64_t *const *dh, const size_t *dn, size_t n,
                       size_t total, unsigned min_df, uint64_t **out_vocab,
                       float **out_idf, size_t *out_d, struct mv_diag *diag) {
  int rc = MV_ENOMEM;
  uint64_t *all = malloc((total ? total : 1) * sizeof *all), *vocab = NULL;
  uint32_t *dfc = NULL;
  float *idf = NULL;
  size_t d = 0;
  if (!all)
    goto out;
  for (size_t i = 0, p = 0; i < n; i++) {
    memcpy(all + p, dh[i], dn[i] * sizeof *all);
    p += dn[i];
  }
  qsort(all, total, sizeof *all, cmp_u64);
  /* two passes (count, then fill) keep the peak memory at one copy */
  for (int pass = 0; pass < 2; pass++) {
    d = 0;
    for (size_t i = 0; i < total;) {
      size_t j = i;
      while (j < total && all[j] == all[i])
        j++;
      if (j - i >= ((all[i] & 1) ? 1 : min_df)) {
        if (pass) {
          vocab[d] = all[i];
          dfc[d] = (uint32_t)(j - i);
        }
        d++;
      }
      i = j;
    }
    if (pass == 0) {
      vocab = malloc((d ? d : 1) * sizeof *vocab);
      dfc = malloc((d ? d : 1) * sizeof *dfc);
      if (!vocab || !dfc)
        goto out;
    }
  }
  if (d > MV_LIMIT_CLF_FEATURES) {
    rc = mv_diag_set(diag, MV_ETOOBIG, "vocabulary of %zu features", d);
    goto out;
  }
  idf = malloc((d ? d : 1) * sizeof *idf);
  if (!idf)
    goto out;
  for (size_t j = 0; j < d; j++)
    idf[j] = (float)(log((1.0 + (double)n) / (1.0 + dfc[j])) + 1.0);
  *out_vocab = vocab;
  *out_idf = idf;
  *out_d = d;
  vocab = NULL;
  idf = NULL;
  rc = MV_OK;
out:
  if (rc == MV_ENOMEM)
    mv_diag_set(diag, rc, "out of memory while training");
  free(all);
  free(vocab);
  free(dfc);
  free(idf);
  return rc;
}

/* Sparse TF-IDF rows (CSR) of the n documents over the vocabulary; frees
 * and clears dh[i] / dtf[i] as each row is built. *out_rowp (n + 1),
 * *out_idx and *out_val returned (caller frees). MV_ENOMEM. */
static int build_rows(uint64_t **dh, uint32_t **dtf, const size_t *dn, size_t n,
                      size_t total, const uint64_t *vocab, size_t d,
                      const float *idf, size_t **out_rowp, uint32_t **out_idx,
                      float **out_val) {
  size_t maxdn = 1, nnz = 0;
  for (size_t i = 0; i < n; i++)
    maxdn = dn[i] > maxdn ? dn[i] : maxdn;
  size_t *rowp = malloc((n + 1) * sizeof *rowp);
  uint32_t *idx = malloc((total ? total : 1) * sizeof *idx);
  uint32_t *tfb = malloc(maxdn * sizeof *tfb); /* one row's term counts */
  float *val = malloc((total ? total : 1) * sizeof *val);
  if (!rowp || !idx || !tfb || !val) {
    free(rowp);
    free(idx);
    free(tfb);
    free(val);
    return MV_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    rowp[i] = nnz;
    for (size_t t = 0; t < dn[i]; t++) {
      long f = vocab_bsearch(vocab, d, dh[i][t]);
      if (f >= 0) { /* hashes sorted, so indices come out sorted */
        idx[nnz] = (uint32_t)f;
        tfb[nnz++ - rowp[i]] = dtf[i][t];
      }
    }
    mv__clf_tfidf(idx + rowp[i], tfb, idf, val + rowp[i], nnz - rowp[i]);
    free(dh[i]);
    free(dtf[i]);
    dh[i] = NULL;
    dtf[i] = NULL;
  }
  rowp[n] = nnz;
  free(tfb);
  uint32_t *idx_fit = realloc(idx, (nnz ? nnz : 1) * sizeof *idx);
  if (idx_fit)
    idx = idx_fit;
  float *val_fit = realloc(val, (nnz ? nnz : 1) * sizeof *val);
  if (val_fit)
    val = val_fit;
  *out_rowp = rowp;
  *out_idx = idx;
  *out_val = val;
  return MV_OK;
}

/* Pack a fitted model: weights as float, the vocabulary as an
 * open-addressing table (linear probing from bits 17.. of the hash) of
 * power-of-two size at most 3/4 full. meta->vocab_cap is set here. */
static int pack_model(struct mv__clf_meta *meta, const char *const *label_names,
                      const uint64_t *vocab, const float *idf, const double *x,
                      struct mv_clf_model **out, struct mv_diag *diag) {
  size_t d = meta->n_feat, K = meta->n_labels;
  uint32_t cap = 16;
  while ((double)cap * 0.75 < (double)d + 1)
    cap <<= 1;
  meta->vocab_cap = cap;
  int rc = MV_ENOMEM;
  uint64_t *vkeys = calloc(cap, sizeof *vkeys);
  uint32_t *vvals = calloc(cap, sizeof *vvals);
  float *wf = malloc((d ? d * K : 1) * sizeof *wf);
  float *bf = malloc(K * sizeof *bf);
  if (!vkeys || !vvals || !wf || !bf) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory while training");
    goto out;
  }
  for (size_t j = 0; j < d; j++) {
    uint32_t i = (uint32_t)(vocab[j] >> 17) & (cap - 1);
    while (vkeys[i])
      i = (i + 1) & (cap - 1);
    vkeys[i] = vocab[j];
    vvals[i] = (uint32_t)j;
  }
  for (size_t i = 0; i < d * K; i++)
    wf[i] = (float)x[i];
  for (size_t k = 0; k < K; k++)
    bf[k] = (float)x[d * K + k];
  struct mv__clf_parts parts = {.meta = *meta,
                                .labels = label_names,
                                .vkeys = vkeys,
                                .vvals = vvals,
                                .idf = idf,
                                .w = wf,
                                .bias = bf};
  rc = mv__clf_model_build(&parts, out, diag);
out:
  free(vkeys);
  free(vvals);
  free(wf);
  free(bf);
  return rc;
}

int mv_clf_train(const char *const *texts, const uint32_t *labels, size_t n,
                 const char *const *label_names, size_t n_labels,
                 const struct mv_clf_train_opts *opts,
                 struct mv_clf_model **out, struct mv_diag *diag) {
  int rc = MV_ENOMEM;
  uint64_t **dh = NULL, *vocab = NULL;
  uint32_t **dtf = NULL, *idx = NULL;
  size_t *dn = NULL, *rowp = NULL, *rows_all = NULL;
  float *val = NULL, *idf = NULL;
  double *x = NULL, *s = NULL, *cw = NULL;
  size_t K = n_labels, d = 0, total = 0;
  if (!texts || !labels || !label_names || !out || n < 2 || K < 2)
    return mv_diag_set(diag, MV_EINVAL, "need at least 2 documents and labels");
  if (n > MV_LIMIT_CLF_ROWS || K > MV_LIMIT_CLF_LABELS)
    return mv_diag_set(diag, MV_ETOOBIG, "too many documents or labels");
  for (size_t i = 0; i < n; i++)
    if (labels[i] >= K || !texts[i])
      return mv_diag_set(diag, MV_EINVAL, "document %zu: bad label", i);
  unsigned min_df = opts && opts->min_df ? opts->min_df : 2;
  unsigned tok_ex = opts ? opts->tok_exclude & 0xFFu : 0;
  dh = calloc(n, sizeof *dh);
  dtf = calloc(n, sizeof *dtf);
  dn = calloc(n, sizeof *dn);
  if (!dh || !dtf || !dn)
    goto nomem;
  /* 1. terms per document */
  for (size_t i = 0; i < n; i++) {
    rc = mv__clf_text_terms(texts[i], strlen(texts[i]), tok_ex, &dh[i], &dtf[i],
                            &dn[i]);
    if (rc != MV_OK)
      goto out;
    total += dn[i];
    if ((i & 255) == 0)
      progress(opts, "features", (double)i / (double)n);
  }
  /* 2. vocabulary and idf */
  rc = build_vocab(dh, dn, n, total, min_df, &vocab, &idf, &d, diag);
  if (rc != MV_OK)
    goto out;
  /* 3. TF-IDF rows (frees the per-document terms as it goes) */
  rc = build_rows(dh, dtf, dn, n, total, vocab, d, idf, &rowp, &idx, &val);
  if (rc != MV_OK)
    goto nomem;
#ifdef __GLIBC__
  /* The per-document term arrays just freed are thousands of small blocks
   * in the middle of the heap, which glibc keeps resident; the optimiser's
   * vectors come next from fresh mappings, so hand those pages back first
   * (peak RSS of `medverse triage train` on toyhom_im: 60 -> 51 MB). */
  (void)malloc_trim(0);
#endif
  struct lr_data X = {.n = n,
                      .d = d,
                      .K = K,
                      .rowp = rowp,
                      .idx = idx,
                      .val = val,
                      .y = labels};
  /* 4. model selection, unless fully given */
  size_t np = d * K + K;
  x = calloc(np, sizeof *x);
  s = calloc(K, sizeof *s);
  cw = calloc(K, sizeof *cw);
  rows_all = malloc(n * sizeof *rows_all);
  if (!x || !s || !cw || !rows_all)
    goto nomem;
  for (size_t i = 0; i < n; i++)
    rows_all[i] = i;
  struct mv__clf_lbfgs_opts lo = {
      .m = 4,
      .max_iter = opts && opts->max_iter ? opts->max_iter : 300,
      .gtol = 1e-5,
      .ftol = 1e-8};
  static const double grid[] = {1e-4, 3e-5, 1e-5, 3e-6, 1e-6};
  double l2 = opts && opts->l2 > 0 ? opts->l2 : 0;
  int cwm = opts ? opts->class_weight : 0;
  double T = opts && opts->temperature > 0 ? opts->temperature : 0;
  double best_l2 = l2 > 0 ? l2 : 1e-5;
  int best_cw = cwm < 0 ? 2 : cwm;
  if ((l2 == 0 || cwm < 0 || T == 0) && n >= 10) {
    struct search S = {.X = &X,
                       .np = np,
                       .folds = n < 2000 ? 5 : 1,
                       .grid = l2 > 0 ? &l2 : grid,
                       .n_grid = l2 > 0 ? 1 : MV_ARRAY_LEN(grid),
                       .cw_lo = cwm < 0 ? 0 : cwm,
                       .cw_hi = cwm < 0 ? 2 : cwm,
                       .lo = &lo,
                       .opts = opts,
                       .x = x};
    rc = select_cv(&S);
    if (rc != MV_OK)
      goto nomem;
    memset(x, 0, np * sizeof *x); /* the final fit starts from zero */
    best_l2 = S.l2;
    best_cw = S.cw;
    if (T == 0)
      T = S.T;
  }
  if (T == 0)
    T = 1.0;
  T = fmin(fmax(T, 1e-3), 1e3); /* the range the loader accepts */
  /* 5. refit on every training row */
  progress(opts, "fit", 0);
  class_weights(labels, rows_all, n, K, best_cw, cw);
  struct lr_obj o = {
      .X = &X, .rows = rows_all, .n_rows = n, .cw = cw, .l2 = best_l2, .s = s};
  rc = mv__clf_lbfgs(lr_fg, &o, x, np, &lo, NULL, NULL);
  if (rc != MV_OK)
    goto out;
  progress(opts, "fit", 1);
  /* 6. pack into the model file layout */
  struct mv__clf_meta meta = {.n_labels = (uint32_t)K,
                              .n_feat = (uint32_t)d,
                              .tok_flags = tok_ex,
                              .temperature = T,
                              .l2 = best_l2,
                              .reserved = {(double)best_cw, 0}};
  rc = pack_model(&meta, label_names, vocab, idf, x, out, diag);
  goto out;
nomem:
  rc = mv_diag_set(diag, MV_ENOMEM, "out of memory while training");
out:
  if (dh)
    for (size_t i = 0; i < n; i++)
      free(dh[i]);
  if (dtf)
    for (size_t i = 0; i < n; i++)
      free(dtf[i]);
  free(dh);
  free(dtf);
  free(dn);
  free(vocab);
  free(idf);
  free(rowp);
  free(idx);
  free(val);
  free(rows_all);
  free(x);
  free(s);
  free(cw);
  return rc;
}
