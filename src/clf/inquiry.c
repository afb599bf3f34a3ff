/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Follow-up question choice for triage. The table holds P(concept present |
 * label), learned by counting current-context mentions in training texts with
 * Laplace's add-one rule. The next question maximises the expected reduction
 * of the label posterior's Shannon entropy (expected information gain, the
 * criterion of Lindley 1956 and of sequential diagnosis since Gorry & Barnett
 * 1968), treating concepts as conditionally independent given the label
 * (naive Bayes), and answers update the posterior by Bayes' rule.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inquiry_int.h"
#include "mv_clf_inquiry.h"

#define INQ_MAGIC "MVIQ"
#define INQ_VERSION 1u
#define INQ_ID_MAX 31u

struct mv_clf_inquiry {
  uint32_t n_c;
  uint32_t n_l;
  char (*ids)[INQ_ID_MAX + 1];
  int32_t *lex; /* lexicon index of each concept, -1 if unknown here */
  double *p;    /* n_c * n_l, row per concept */
};

void mv_clf_inquiry_stop_default(struct mv_clf_inq_stop *out) {
  out->top_p = 0.97;
  out->max_questions = 8;
  out->min_gain_bits = 0.02;
}

void mv_clf_inquiry_free(struct mv_clf_inquiry *inq) {
  if (!inq)
    return;
  free(inq->ids);
  free(inq->lex);
  free(inq->p);
  free(inq);
}

static struct mv_clf_inquiry *inq_alloc(uint32_t n_c, uint32_t n_l) {
  struct mv_clf_inquiry *q = calloc(1, sizeof(*q));
  if (!q)
    return NULL;
  q->n_c = n_c;
  q->n_l = n_l;
  q->ids = calloc(n_c, sizeof(*q->ids));
  q->lex = calloc(n_c, sizeof(*q->lex));
  q->p = calloc((size_t)n_c * n_l, sizeof(*q->p));
  if (!q->ids || !q->lex || !q->p) {
    mv_clf_inquiry_free(q);
    return NULL;
  }
  return q;
}

int mv_clf_inquiry_build(const char *const *texts, const uint32_t *labels,
                         size_t n, size_t n_labels, struct mv_clf_inquiry **out,
                         struct mv_diag *diag) {
  struct mv_clf_inquiry *q = NULL;
  uint32_t *count = NULL, *per_label = NULL;
  uint8_t *present = NULL;
  int rc = MV_OK;
  size_t nc = mv_clf_lexicon_size();
  if (!texts || !labels || !out || n == 0 || n_labels == 0)
    return mv_diag_set(diag, MV_EINVAL, "inquiry: empty training set");
  if (n > MV_LIMIT_CLF_INQ_TRAIN || n_labels > MV_LIMIT_CLF_INQ_LABELS)
    return mv_diag_set(diag, MV_ETOOBIG, "inquiry: too many texts or labels");
  for (size_t i = 0; i < n; i++)
    if (labels[i] >= n_labels || !texts[i])
      return mv_diag_set(diag, MV_EINVAL,
                         "inquiry: text %zu has no valid label", i);
  q = inq_alloc((uint32_t)nc, (uint32_t)n_labels);
  count = calloc(nc * n_labels, sizeof(*count));
  per_label = calloc(n_labels, sizeof(*per_label));
  present = calloc(nc, 1);
  if (!q || !count || !per_label || !present) {
    rc = mv_diag_set(diag, MV_ENOMEM, "inquiry: out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    mv_clf_lexicon_detect(texts[i], strlen(texts[i]), present);
    per_label[labels[i]]++;
    for (size_t c = 0; c < nc; c++)
      count[c * n_labels + labels[i]] += present[c];
  }
  for (size_t c = 0; c < nc; c++) {
    size_t idl = strlen(mv_clf_lexicon_id(c));
    memcpy(q->ids[c], mv_clf_lexicon_id(c),
           idl > INQ_ID_MAX ? INQ_ID_MAX : idl);
    q->lex[c] = (int32_t)c;
    for (size_t l = 0; l < n_labels; l++)
      q->p[c * n_labels + l] = ((double)count[c * n_labels + l] + 1.0) /
                               ((double)per_label[l] + 2.0);
  }
  *out = q;
  q = NULL;
out:
  mv_clf_inquiry_free(q);
  free(count);
  free(per_label);
  free(present);
  return rc;
}

/* --- bytes: little-endian, CRC-32 (IEEE 802.3, reflected 0xEDB88320) --- */

static uint32_t crc32_ieee(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

static void put_u32(uint8_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++)
    b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
         (uint32_t)b[3] << 24;
}

int mv_clf_inquiry_save(const struct mv_clf_inquiry *inq, struct mv_buf *out) {
  uint8_t *b = NULL;
  int rc;
  if (!inq || !out)
    return MV_EINVAL;
  size_t size = 16;
  for (uint32_t c = 0; c < inq->n_c; c++)
    size += 1 + strlen(inq->ids[c]);
  size += (size_t)inq->n_c * inq->n_l * 8 + 4;
  if (size > MV_LIMIT_CLF_INQ_BYTES)
    return MV_ETOOBIG;
  b = malloc(size);
  if (!b)
    return MV_ENOMEM;
  size_t o = 0;
  memcpy(b, INQ_MAGIC, 4);
  put_u32(b + 4, INQ_VERSION);
  put_u32(b + 8, inq->n_c);
  put_u32(b + 12, inq->n_l);
  o = 16;
  for (uint32_t c = 0; c < inq->n_c; c++) {
    size_t l = strlen(inq->ids[c]);
    b[o++] = (uint8_t)l;
    memcpy(b + o, inq->ids[c], l);
    o += l;
  }
  for (size_t i = 0; i < (size_t)inq->n_c * inq->n_l; i++) {
    uint64_t u;
    memcpy(&u, &inq->p[i], 8);
    put_u32(b + o, (uint32_t)u);
    put_u32(b + o + 4, (uint32_t)(u >> 32));
    o += 8;
  }
  put_u32(b + o, crc32_ieee(b, o));
  o += 4;
  rc = mv_buf_append(out, b, o);
  free(b);
  return rc;
}

static int valid_id(const uint8_t *s, size_t n) {
  if (n == 0 || n > INQ_ID_MAX)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
          s[i] == '_'))
      return 0;
  return 1;
}

int mv_clf_inquiry_load(const void *bytes, size_t len,
                        struct mv_clf_inquiry **out, struct mv_diag *diag) {
  const uint8_t *b = bytes;
  struct mv_clf_inquiry *q = NULL;
  int rc = MV_OK;
  if (!out || (!bytes && len))
    return mv_diag_set(diag, MV_EINVAL, "inquiry: no input");
  if (len < 20 || len > MV_LIMIT_CLF_INQ_BYTES)
    return mv_diag_set(diag, MV_ECORRUPT, "inquiry: bad size %zu", len);
  if (memcmp(b, INQ_MAGIC, 4) != 0)
    return mv_diag_set(diag, MV_ECORRUPT, "inquiry: bad magic");
  if (get_u32(b + 4) != INQ_VERSION)
    return mv_diag_set(diag, MV_ECORRUPT, "inquiry: unsupported version %u",
                       (unsigned)get_u32(b + 4));
  if (crc32_ieee(b, len - 4) != get_u32(b + len - 4))
    return mv_diag_set(diag, MV_ECORRUPT, "inquiry: checksum mismatch");
  uint32_t n_c = get_u32(b + 8), n_l = get_u32(b + 12);
  if (n_c == 0 || n_c > MV_LIMIT_CLF_INQ_CONCEPTS || n_l == 0 ||
      n_l > MV_LIMIT_CLF_INQ_LABELS)
    return mv_diag_set(diag, MV_ECORRUPT, "inquiry: bad counts");
  q = inq_alloc(n_c, n_l);
  if (!q)
    return mv_diag_set(diag, MV_ENOMEM, "inquiry: out of memory");
  size_t o = 16, end = len - 4;
  for (uint32_t c = 0; c < n_c; c++) {
    if (o >= end) {
      rc = mv_diag_set(diag, MV_ECORRUPT, "inquiry: truncated ids");
      goto out;
    }
    size_t l = b[o++];
    if (l > end - o || !valid_id(b + o, l)) {
      rc = mv_diag_set(diag, MV_ECORRUPT, "inquiry: bad concept id %u",
                       (unsigned)c);
      goto out;
    }
    memcpy(q->ids[c], b + o, l);
    o += l;
    q->lex[c] = -1;
    for (size_t k = 0; k < mv_clf_lexicon_size(); k++)
      if (strcmp(mv_clf_lexicon_id(k), q->ids[c]) == 0)
        q->lex[c] = (int32_t)k;
    for (uint32_t k = 0; k < c; k++)
      if (strcmp(q->ids[k], q->ids[c]) == 0) {
        rc = mv_diag_set(diag, MV_ECORRUPT, "inquiry: duplicate concept id");
        goto out;
      }
  }
  size_t np = (size_t)n_c * n_l;
  if (end - o != np * 8) {
    rc = mv_diag_set(diag, MV_ECORRUPT, "inquiry: bad table size");
    goto out;
  }
  for (size_t i = 0; i < np; i++, o += 8) {
    uint64_t u = (uint64_t)get_u32(b + o) | (uint64_t)get_u32(b + o + 4) << 32;
    double v;
    memcpy(&v, &u, 8);
    if (!(v > 0.0 && v < 1.0)) {
      rc = mv_diag_set(diag, MV_ECORRUPT, "inquiry: probability out of range");
      goto out;
    }
    q->p[i] = v;
  }
  *out = q;
  q = NULL;
out:
  mv_clf_inquiry_free(q);
  return rc;
}

size_t mv_clf_inquiry_n_labels(const struct mv_clf_inquiry *inq) {
  return inq ? inq->n_l : 0;
}

size_t mv_clf_inquiry_n_concepts(const struct mv_clf_inquiry *inq) {
  return inq ? inq->n_c : 0;
}

const char *mv_clf_inquiry_concept_id(const struct mv_clf_inquiry *inq,
                                      uint32_t c) {
  return (inq && c < inq->n_c) ? inq->ids[c] : NULL;
}

int mv_clf_inquiry_concept_find(const struct mv_clf_inquiry *inq,
                                const char *id, uint32_t *out_c) {
  if (!inq || !id || !out_c)
    return MV_EINVAL;
  for (uint32_t c = 0; c < inq->n_c; c++)
    if (strcmp(inq->ids[c], id) == 0) {
      *out_c = c;
      return MV_OK;
    }
  return MV_ENOTFOUND;
}

double mv_clf_inquiry_p(const struct mv_clf_inquiry *inq, uint32_t c,
                        uint32_t l) {
  if (!inq || c >= inq->n_c || l >= inq->n_l)
    return -1.0;
  return inq->p[(size_t)c * inq->n_l + l];
}

void mv_clf_inquiry_mark_detected(const struct mv_clf_inquiry *inq,
                                  const uint8_t *present, uint8_t *table_mark) {
  if (!inq || !present || !table_mark)
    return;
  for (uint32_t c = 0; c < inq->n_c; c++)
    if (inq->lex[c] >= 0 && present[inq->lex[c]])
      table_mark[c] = 1;
}

/* --- asking --- */

/* Sum of a valid posterior (finite, non-negative, positive sum), or -1. */
static double post_sum(const double *p, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(p[i]) || p[i] < 0.0)
      return -1.0;
    s += p[i];
  }
  return (s > 0.0 && isfinite(s)) ? s : -1.0;
}

/* Entropy in bits of w[0..n) / total. */
static double entropy_bits(const double *w, size_t n, double total) {
  double h = 0.0;
  if (total <= 0.0)
    return 0.0;
  for (size_t i = 0; i < n; i++)
    if (w[i] > 0.0) {
      double q = w[i] / total;
      h -= q * log2(q);
    }
  return h;
}

/* EIG of concept row pc: H(P) - P(yes) H(P|yes) - P(no) H(P|no). */
static double gain_of(const double *post, const double *pc, size_t n, double h0,
                      double *scratch) {
  double *wy = scratch, *wn = scratch + n;
  double py = 0.0, pn = 0.0;
  for (size_t l = 0; l < n; l++) {
    wy[l] = post[l] * pc[l];
    wn[l] = post[l] * (1.0 - pc[l]);
    py += wy[l];
    pn += wn[l];
  }
  return h0 - py * entropy_bits(wy, n, py) - pn * entropy_bits(wn, n, pn);
}

int mv_clf_inquiry_next(const struct mv_clf_inquiry *inq,
                        const double *posterior, size_t n_labels,
                        const uint8_t *asked, enum mv_clf_inq_lang lang,
                        double min_gain_bits, struct mv_clf_inq_question *out) {
  double *post = NULL, *scratch = NULL;
  int rc = MV_ENOTFOUND;
  if (!inq || !posterior || !out || n_labels != inq->n_l)
    return MV_EINVAL;
  double s = post_sum(posterior, n_labels);
  if (s < 0.0)
    return MV_EINVAL;
  post = malloc(n_labels * sizeof(*post));
  scratch = malloc(2 * n_labels * sizeof(*scratch));
  if (!post || !scratch) {
    rc = MV_ENOMEM;
    goto out;
  }
  for (size_t l = 0; l < n_labels; l++)
    post[l] = posterior[l] / s;
  double h0 = entropy_bits(post, n_labels, 1.0);
  double best = min_gain_bits;
  int64_t best_c = -1;
  for (uint32_t c = 0; c < inq->n_c; c++) {
    if ((asked && asked[c]) || inq->lex[c] < 0)
      continue;
    double g =
        gain_of(post, inq->p + (size_t)c * n_labels, n_labels, h0, scratch);
    if (g > best) {
      best = g;
      best_c = c;
    }
  }
  if (best_c >= 0) {
    out->concept = (uint32_t)best_c;
    out->id = mv_clf_lexicon_id((size_t)inq->lex[best_c]);
    out->text = mv_clf_lexicon_question((size_t)inq->lex[best_c], lang);
    out->gain_bits = best;
    rc = MV_OK;
  }
out:
  free(post);
  free(scratch);
  return rc;
}

int mv_clf_inquiry_update(const struct mv_clf_inquiry *inq, double *posterior,
                          size_t n_labels, uint32_t c,
                          enum mv_clf_inq_answer answer) {
  if (!inq || !posterior || n_labels != inq->n_l || c >= inq->n_c)
    return MV_EINVAL;
  if (answer != MV_CLF_INQ_YES && answer != MV_CLF_INQ_NO &&
      answer != MV_CLF_INQ_UNSURE)
    return MV_EINVAL;
  if (post_sum(posterior, n_labels) < 0.0)
    return MV_EINVAL;
  if (answer == MV_CLF_INQ_UNSURE)
    return MV_OK;
  const double *pc = inq->p + (size_t)c * n_labels;
  double s = 0.0;
  for (size_t l = 0; l < n_labels; l++)
    s += posterior[l] * (answer == MV_CLF_INQ_YES ? pc[l] : 1.0 - pc[l]);
  if (!(s > 0.0) || !isfinite(s))
    return MV_ERANGE;
  for (size_t l = 0; l < n_labels; l++)
    posterior[l] =
        posterior[l] * (answer == MV_CLF_INQ_YES ? pc[l] : 1.0 - pc[l]) / s;
  return MV_OK;
}

bool mv_clf_inquiry_should_stop(const double *posterior, size_t n_labels,
                                uint32_t n_asked,
                                const struct mv_clf_inq_stop *rule) {
  struct mv_clf_inq_stop def;
  if (!rule) {
    mv_clf_inquiry_stop_default(&def);
    rule = &def;
  }
  if (n_asked >= rule->max_questions)
    return true;
  double s = posterior ? post_sum(posterior, n_labels) : -1.0;
  if (s < 0.0)
    return true;
  for (size_t l = 0; l < n_labels; l++)
    if (posterior[l] / s >= rule->top_p)
      return true;
  return false;
}

int mv_clf_inq_answer_parse(const char *s, enum mv_clf_inq_answer *out) {
  static const struct {
    const char *s;
    enum mv_clf_inq_answer a;
  } tab[] = {
      {"yes", MV_CLF_INQ_YES},       {"y", MV_CLF_INQ_YES},
      {"是", MV_CLF_INQ_YES},        {"有", MV_CLF_INQ_YES},
      {"no", MV_CLF_INQ_NO},         {"n", MV_CLF_INQ_NO},
      {"否", MV_CLF_INQ_NO},         {"没有", MV_CLF_INQ_NO},
      {"unsure", MV_CLF_INQ_UNSURE}, {"unknown", MV_CLF_INQ_UNSURE},
      {"不确定", MV_CLF_INQ_UNSURE}, {"不知道", MV_CLF_INQ_UNSURE},
  };
  if (!s || !out)
    return MV_EINVAL;
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
    if (strcmp(s, tab[i].s) == 0) {
      *out = tab[i].a;
      return MV_OK;
    }
  return MV_EINVAL;
}
