/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Feature extraction: token hashes to term counts, sublinear TF-IDF with L2
 * normalisation (Salton & Buckley 1988; scikit-learn's sublinear_tf and
 * smooth_idf variants), and the sparse dot products that turn a document
 * into class scores. The vocabulary is a table of 64-bit token hashes
 * rather than strings: exact for practical purposes (the chance of any
 * collision among 10^5 features is about 10^-9), smaller and faster than a
 * string vocabulary, and unlike plain feature hashing it keeps per-feature
 * document frequencies, drops rare features and has no bucket collisions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clf_int.h"

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Every token consumes at least one byte of its own (a CJK character is
 * three or four bytes and yields at most three n-grams; a word of two or
 * more bytes plus its separator yields a word and a bigram), so len + 1
 * tokens always suffice. */
static size_t tok_cap(size_t len) {
  if (len > MV_LIMIT_CLF_TEXT)
    len = MV_LIMIT_CLF_TEXT;
  return len + 1 < MV_LIMIT_CLF_TOKENS ? len + 1 : MV_LIMIT_CLF_TOKENS;
}

int mv__clf_text_terms(const char *text, size_t len, unsigned exclude,
                       uint64_t **out_h, uint32_t **out_tf, size_t *out_n) {
  int rc = MV_ENOMEM;
  size_t cap = tok_cap(len);
  struct mv_clf_token *tok = malloc(cap * sizeof *tok);
  uint64_t *h = NULL;
  uint32_t *tf = NULL;
  size_t n = 0, u = 0;
  if (!tok)
    goto out;
  rc = mv_clf_tokenize(text, len, tok, cap, &n);
  if (rc != MV_OK)
    goto out;
  rc = MV_ENOMEM;
  h = malloc((n ? n : 1) * sizeof *h);
  tf = malloc((n ? n : 1) * sizeof *tf);
  if (!h || !tf)
    goto out;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!(exclude & (1u << tok[i].kind)))
      h[m++] = tok[i].hash;
  n = m;
  qsort(h, n, sizeof *h, cmp_u64);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && h[j] == h[i])
      j++;
    h[u] = h[i];
    tf[u++] = (uint32_t)(j - i);
    i = j;
  }
  *out_h = h;
  *out_tf = tf;
  *out_n = u;
  h = NULL;
  tf = NULL;
  rc = MV_OK;
out:
  free(tok);
  free(h);
  free(tf);
  return rc;
}

void mv__clf_tfidf(const uint32_t *idx, const uint32_t *tf, const float *idf,
                   float *val, size_t n) {
  double ss = 0;
  for (size_t i = 0; i < n; i++) {
    double v = (1.0 + log((double)tf[i])) * idf[idx[i]];
    val[i] = (float)v;
    ss += v * v;
  }
  if (ss > 0) {
    double inv = 1.0 / sqrt(ss);
    for (size_t i = 0; i < n; i++)
      val[i] = (float)(val[i] * inv);
  }
}

void mv__clf_scores(const float *w, const float *bias, size_t K,
                    const uint32_t *idx, const float *val, size_t nnz,
                    double *out) {
  for (size_t k = 0; k < K; k++)
    out[k] = bias[k];
  for (size_t j = 0; j < nnz; j++) {
    const float *row = w + (size_t)idx[j] * K;
    double v = val[j];
    for (size_t k = 0; k < K; k++)
      out[k] += v * row[k];
  }
}

/* Small texts are vectorized without heap allocation. */
#define VEC_STACK_TOKENS 512u
#define VEC_STACK_SLOTS 2048u

int mv__clf_vectorize(const struct mv_clf_model *m, const char *text,
                      size_t len, uint32_t *idx, float *val, uint32_t *tf,
                      size_t *out_nnz) {
  struct mv_clf_token stok[VEC_STACK_TOKENS], *tok = stok;
  uint32_t skey[VEC_STACK_SLOTS], spos[VEC_STACK_SLOTS], *key = skey,
                                                         *pos = spos;
  size_t cap = tok_cap(len), n = 0, u = 0, slots = 16;
  int rc = MV_ENOMEM;
  if (cap > VEC_STACK_TOKENS && !(tok = malloc(cap * sizeof *tok)))
    goto out;
  rc = mv_clf_tokenize(text, len, tok, cap, &n);
  if (rc != MV_OK)
    goto out;
  /* term counts through a small open-addressing table keyed by feature
   * index (at most half full): no sort on the hot path */
  while (slots < 2 * n)
    slots <<= 1;
  if (slots > VEC_STACK_SLOTS) {
    key = malloc(slots * sizeof *key);
    pos = malloc(slots * sizeof *pos);
    rc = MV_ENOMEM;
    if (!key || !pos)
      goto out;
  }
  memset(key, 0, slots * sizeof *key);
  for (size_t i = 0; i < n; i++) {
    if (m->meta.tok_flags & (1u << tok[i].kind))
      continue;
    long f =
        mv__clf_vocab_find(m->vkeys, m->vvals, m->meta.vocab_cap, tok[i].hash);
    if (f < 0)
      continue;
    uint32_t k1 = (uint32_t)f + 1,
             h = (k1 * 2654435761u) & (uint32_t)(slots - 1);
    while (key[h] && key[h] != k1)
      h = (h + 1) & (uint32_t)(slots - 1);
    if (key[h]) {
      tf[pos[h]]++;
    } else {
      key[h] = k1;
      pos[h] = (uint32_t)u;
      idx[u] = (uint32_t)f;
      tf[u++] = 1;
    }
  }
  mv__clf_tfidf(idx, tf, m->idf, val, u);
  *out_nnz = u;
  rc = MV_OK;
out:
  if (tok != stok)
    free(tok);
  if (key != skey) {
    free(key);
    free(pos);
  }
  return rc;
}
