/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface of the triage classifier (src/clf): the feature hash,
 * the in-memory model layout (every array points into one file image), the
 * sparse document representation shared by training and prediction, the
 * L-BFGS minimiser and the softmax/calibration helpers.
 */
#ifndef MV_CLF_INT_H
#define MV_CLF_INT_H

#include "mv_clf.h"
#include "mv_limits.h"

/* ---- model file (model.c) ------------------------------------------- */

#define MV__CLF_MAGIC "MVCLF\r\n\x1a" /* 8 bytes, PNG-style line-end guard */
#define MV__CLF_VERSION 1u
#define MV__CLF_HDR 32u    /* magic, version, n_sections, file_len, crc */
#define MV__CLF_SECENT 32u /* name[16], offset u64, len u64 */
#define MV__CLF_NAME 16u

/* The "clf.meta" section. */
struct mv__clf_meta {
  uint32_t n_labels;
  uint32_t n_feat;
  uint32_t vocab_cap; /* power of two > n_feat */
  uint32_t tok_flags; /* token kinds excluded: bit (1 << kind) */
  double temperature;
  double l2;
  double reserved[2];
};

struct mv__clf_section {
  char name[MV__CLF_NAME]; /* NUL-terminated */
  const uint8_t *ptr;
  size_t len;
  uint8_t *owned; /* non-NULL when set by mv_clf_model_set_section */
};

struct mv_clf_model {
  uint8_t *image; /* the file image all pointers below point into */
  size_t image_len;
  struct mv__clf_section sec[MV_LIMIT_CLF_SECTIONS];
  size_t n_sec;
  struct mv__clf_meta meta;
  const char **labels;   /* n_labels pointers into the image */
  const uint64_t *vkeys; /* vocab_cap feature hashes, 0 = empty slot */
  const uint32_t *vvals; /* vocab_cap feature indices */
  const float *idf;      /* n_feat */
  const float *w;        /* n_feat x n_labels, feature-major */
  const float *bias;     /* n_labels */
};

/* Plain arrays for building a model file (training). */
struct mv__clf_parts {
  struct mv__clf_meta meta;
  const char *const *labels;
  const uint64_t *vkeys;
  const uint32_t *vvals;
  const float *idf, *w, *bias;
};
int mv__clf_model_build(const struct mv__clf_parts *p,
                        struct mv_clf_model **out, struct mv_diag *diag);

/* CRC-32 (IEEE 802.3, reflected, as in zlib/PNG) continued from crc. */
uint32_t mv__clf_crc32(uint32_t crc, const void *data, size_t len);

/* Vocabulary lookup: the feature index of hash h, or -1. */
static inline long mv__clf_vocab_find(const uint64_t *keys,
                                      const uint32_t *vals, uint32_t cap,
                                      uint64_t h) {
  uint32_t mask = cap - 1, i = (uint32_t)(h >> 17) & mask;
  for (;;) {
    uint64_t k = keys[i];
    if (k == h)
      return (long)vals[i];
    if (k == 0)
      return -1;
    i = (i + 1) & mask;
  }
}

/* ---- features (features.c) ------------------------------------------ */

/* A sparse document: nnz (index, value) pairs sorted by index. */
struct mv__clf_doc {
  uint32_t *idx;
  float *val;
  uint32_t nnz;
};

/* Hash of a normalised token; never 0. */
uint64_t mv__clf_hash(const void *bytes, size_t len, unsigned kind,
                      unsigned ctx);

/* Sorted unique token hashes of text with counts (tf): *out_h / *out_tf
 * returned (caller frees both with free()), *out_n entries. Token kinds
 * with bit (1 << kind) set in exclude are skipped. */
int mv__clf_text_terms(const char *text, size_t len, unsigned exclude,
                       uint64_t **out_h, uint32_t **out_tf, size_t *out_n);

/* Sublinear TF-IDF, L2-normalised: val = (1 + ln tf) * idf, then / ||.||.
 * Works in place on parallel arrays of n entries. */
void mv__clf_tfidf(const uint32_t *idx, const uint32_t *tf, const float *idf,
                   float *val, size_t n);

/* Scores (uncalibrated logits) of a sparse vector: out[k] = b[k] +
 * sum_j val[j] * w[idx[j] * K + k]. */
void mv__clf_scores(const float *w, const float *bias, size_t K,
                    const uint32_t *idx, const float *val, size_t nnz,
                    double *out);

/* Vectorize text with a model's vocabulary into caller buffers of
 * min(len, MV_LIMIT_CLF_TEXT) + 1 entries: *out_nnz unique features in
 * order of first occurrence (not sorted). */
int mv__clf_vectorize(const struct mv_clf_model *m, const char *text,
                      size_t len, uint32_t *idx, float *val, uint32_t *tf,
                      size_t *out_nnz);

/* ---- optimisation (lbfgs.c) ----------------------------------------- */

/* f(x) with gradient g (n entries); returns f. */
typedef double (*mv__clf_fg_fn)(void *ctx, const double *x, double *g,
                                size_t n);

struct mv__clf_lbfgs_opts {
  unsigned m;        /* history pairs (0 = 10) */
  unsigned max_iter; /* (0 = 300) */
  double gtol;       /* stop when ||g||_inf <= gtol (0 = 1e-6) */
  double ftol;       /* stop when relative decrease < ftol (0 = 1e-10) */
};

/* Minimise f from x (in/out) with limited-memory BFGS (Nocedal 1980; Liu &
 * Nocedal 1989, two-loop recursion) and a backtracking Armijo line search.
 * *out_iter (may be NULL) gets the iterations done, *out_f the final f.
 * MV_OK on convergence or after max_iter; MV_ENOMEM. */
int mv__clf_lbfgs(mv__clf_fg_fn fg, void *ctx, double *x, size_t n,
                  const struct mv__clf_lbfgs_opts *opts, unsigned *out_iter,
                  double *out_f);

/* ---- softmax and calibration (lr.c, calibrate.c) --------------------- */

/* In place: p = softmax(s / T); returns log-sum-exp of s / T. */
double mv__clf_softmax(double *s, size_t K, double T);

/* Temperature minimising the mean NLL of logits (n x K, row-major) with
 * true labels y (Guo et al. 2017), searched on log T in [0.02, 50]. */
double mv__clf_fit_temperature(const double *logits, const uint32_t *y,
                               size_t n, size_t K);

/* Metrics from probability rows (n x K) and labels (-1 = unknown). */
void mv__clf_metrics(const double *probs, const long *y, size_t n, size_t K,
                     struct mv_clf_metrics *out);

#endif
