/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The model file and prediction. Layout (little-endian): a 32-byte header
 * (magic, format version, section count, file length, CRC-32 of everything
 * after the header), a table of named sections (name, offset, length), then
 * the 8-byte-aligned section data. The whole file is read in one call and
 * every model array points into that image, so loading costs one read and
 * one checksum pass; every offset, length and index is validated before
 * use so a corrupt file is rejected, never trusted.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clf_int.h"

_Static_assert(sizeof(struct mv__clf_meta) == 48, "meta layout");

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

/* CRC-32 as in ISO 3309 / ITU-T V.42 (the zlib and PNG polynomial
 * 0xEDB88320, reflected), table-driven. */
uint32_t mv__clf_crc32(uint32_t crc, const void *data, size_t len) {
  pthread_once(&crc_once, crc_init);
  const uint8_t *p = data;
  crc = ~crc;
  for (size_t i = 0; i < len; i++)
    crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

static void put32(uint8_t *p, uint32_t v) {
  memcpy(p, &v, 4); /* host is little-endian (checked at load) */
}
static void put64(uint8_t *p, uint64_t v) {
  memcpy(p, &v, 8);
}
static uint32_t get32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static bool little_endian(void) {
  uint32_t one = 1;
  uint8_t b;
  memcpy(&b, &one, 1);
  return b == 1;
}

/* ---- serialization ---------------------------------------------------- */

struct sec_in {
  const char *name;
  const void *ptr;
  size_t len;
};

static int write_image(const struct sec_in *s, size_t ns, uint8_t **out,
                       size_t *out_len) {
  if (ns > MV_LIMIT_CLF_SECTIONS)
    return MV_ETOOBIG;
  size_t off = MV__CLF_HDR + ns * MV__CLF_SECENT;
  off = (off + 7) & ~(size_t)7;
  size_t total = off;
  for (size_t i = 0; i < ns; i++)
    total += (s[i].len + 7) & ~(size_t)7;
  if (total > MV_LIMIT_CLF_MODEL)
    return MV_ETOOBIG;
  uint8_t *img = calloc(1, total);
  if (!img)
    return MV_ENOMEM;
  memcpy(img, MV__CLF_MAGIC, 8);
  put32(img + 8, MV__CLF_VERSION);
  put32(img + 12, (uint32_t)ns);
  put64(img + 16, total);
  for (size_t i = 0; i < ns; i++) {
    uint8_t *e = img + MV__CLF_HDR + i * MV__CLF_SECENT;
    strncpy((char *)e, s[i].name, MV__CLF_NAME - 1);
    put64(e + 16, off);
    put64(e + 24, s[i].len);
    if (s[i].len)
      memcpy(img + off, s[i].ptr, s[i].len);
    off += (s[i].len + 7) & ~(size_t)7;
  }
  put32(img + 24, mv__clf_crc32(0, img + MV__CLF_HDR, total - MV__CLF_HDR));
  *out = img;
  *out_len = total;
  return MV_OK;
}

int mv__clf_model_build(const struct mv__clf_parts *p,
                        struct mv_clf_model **out, struct mv_diag *diag) {
  size_t K = p->meta.n_labels, d = p->meta.n_feat, lab_len = 0;
  for (size_t k = 0; k < K; k++) {
    size_t l = strlen(p->labels[k]);
    if (l == 0 || l >= MV_LIMIT_CLF_LABEL)
      return mv_diag_set(diag, MV_EINVAL, "label %zu: empty or too long", k);
    lab_len += l + 1;
  }
  char *lab = malloc(lab_len);
  if (!lab)
    return MV_ENOMEM;
  for (size_t k = 0, o = 0; k < K; k++) {
    size_t l = strlen(p->labels[k]) + 1;
    memcpy(lab + o, p->labels[k], l);
    o += l;
  }
  struct sec_in s[] = {
      {"clf.meta", &p->meta, sizeof p->meta},
      {"clf.labels", lab, lab_len},
      {"clf.vkeys", p->vkeys, p->meta.vocab_cap * sizeof(uint64_t)},
      {"clf.vvals", p->vvals, p->meta.vocab_cap * sizeof(uint32_t)},
      {"clf.idf", p->idf, d * sizeof(float)},
      {"clf.w", p->w, d * K * sizeof(float)},
      {"clf.bias", p->bias, K * sizeof(float)},
  };
  uint8_t *img = NULL;
  size_t len = 0;
  int rc = write_image(s, MV_ARRAY_LEN(s), &img, &len);
  free(lab);
  if (rc != MV_OK)
    return mv_diag_set(diag, rc, "cannot build the model image");
  rc = mv_clf_model_load_mem(img, len, out, diag);
  free(img);
  return rc;
}

int mv_clf_model_serialize(const struct mv_clf_model *m, uint8_t **out,
                           size_t *out_len) {
  if (!m || !out || !out_len)
    return MV_EINVAL;
  struct sec_in s[MV_LIMIT_CLF_SECTIONS];
  for (size_t i = 0; i < m->n_sec; i++)
    s[i] = (struct sec_in){m->sec[i].name, m->sec[i].ptr, m->sec[i].len};
  return write_image(s, m->n_sec, out, out_len);
}

int mv_clf_model_save(const struct mv_clf_model *m, const char *path,
                      struct mv_diag *diag) {
  uint8_t *img = NULL;
  size_t len = 0;
  char tmp[4096];
  if (!path || snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return mv_diag_set(diag, MV_EINVAL, "model path too long");
  int rc = mv_clf_model_serialize(m, &img, &len);
  if (rc != MV_OK)
    return mv_diag_set(diag, rc, "cannot serialize the model");
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    rc = mv_diag_set(diag, MV_EIO, "cannot create: %s", strerror(errno));
    goto out;
  }
  bool ok = fwrite(img, 1, len, f) == len;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    rc = mv_diag_set(diag, MV_EIO, "cannot write: %s", strerror(errno));
    remove(tmp);
    goto out;
  }
  rc = MV_OK;
out:
  if (rc != MV_OK)
    mv_diag_set_path(diag, path);
  free(img);
  return rc;
}

/* ---- loading ----------------------------------------------------------- */

static const struct mv__clf_section *find_sec(const struct mv_clf_model *m,
                                              const char *name) {
  for (size_t i = 0; i < m->n_sec; i++)
    if (strcmp(m->sec[i].name, name) == 0)
      return &m->sec[i];
  return NULL;
}

#define CORRUPT(...)                                                           \
  do {                                                                         \
    rc = mv_diag_set(diag, MV_ECORRUPT, __VA_ARGS__);                          \
    goto out;                                                                  \
  } while (0)

/* Fetch a required section of exactly want bytes (want 0: any length). */
static const void *need(const struct mv_clf_model *m, const char *name,
                        size_t want, size_t *got) {
  const struct mv__clf_section *s = find_sec(m, name);
  if (!s || (want && s->len != want))
    return NULL;
  if (got)
    *got = s->len;
  return s->ptr;
}

int mv_clf_model_load_mem(const void *bytes, size_t len,
                          struct mv_clf_model **out, struct mv_diag *diag) {
  int rc = MV_ENOMEM;
  struct mv_clf_model *m = NULL;
  if (!out || (!bytes && len))
    return mv_diag_set(diag, MV_EINVAL, "no model bytes");
  if (!little_endian())
    return mv_diag_set(diag, MV_EUNSUPPORTED, "big-endian hosts unsupported");
  if (len > MV_LIMIT_CLF_MODEL)
    return mv_diag_set(diag, MV_ETOOBIG, "model file larger than %u bytes",
                       MV_LIMIT_CLF_MODEL);
  m = calloc(1, sizeof *m);
  if (!m)
    goto out;
  m->image = malloc(len ? len : 1); /* malloc alignment >= 8 */
  if (!m->image)
    goto out;
  memcpy(m->image, bytes, len);
  m->image_len = len;
  const uint8_t *img = m->image;
  if (len < MV__CLF_HDR || memcmp(img, MV__CLF_MAGIC, 8) != 0)
    CORRUPT("not a medverse classifier model (bad magic)");
  if (get32(img + 8) != MV__CLF_VERSION) {
    rc = mv_diag_set(diag, MV_EUNSUPPORTED,
                     "model format version %u, this build reads version %u",
                     get32(img + 8), MV__CLF_VERSION);
    goto out;
  }
  uint32_t ns = get32(img + 12);
  if (get64(img + 16) != len)
    CORRUPT("model file truncated or padded (%zu bytes, header says %llu)", len,
            (unsigned long long)get64(img + 16));
  if (get32(img + 24) != mv__clf_crc32(0, img + MV__CLF_HDR, len - MV__CLF_HDR))
    CORRUPT("model checksum mismatch");
  if (ns > MV_LIMIT_CLF_SECTIONS || MV__CLF_HDR + ns * MV__CLF_SECENT > len)
    CORRUPT("bad section count %u", ns);
  for (uint32_t i = 0; i < ns; i++) {
    const uint8_t *e = img + MV__CLF_HDR + (size_t)i * MV__CLF_SECENT;
    uint64_t off = get64(e + 16), sl = get64(e + 24);
    if (memchr(e, 0, MV__CLF_NAME) == NULL || e[0] == 0)
      CORRUPT("section %u: bad name", i);
    if (off % 8 || off > len || sl > len - off)
      CORRUPT("section %u: out of bounds", i);
    struct mv__clf_section *s = &m->sec[m->n_sec];
    memcpy(s->name, e, MV__CLF_NAME);
    if (find_sec(m, s->name))
      CORRUPT("section %u: duplicate name", i);
    s->ptr = img + off;
    s->len = (size_t)sl;
    m->n_sec++;
  }
  const void *meta = need(m, "clf.meta", sizeof m->meta, NULL);
  if (!meta)
    CORRUPT("missing or bad section clf.meta");
  memcpy(&m->meta, meta, sizeof m->meta);
  size_t K = m->meta.n_labels, d = m->meta.n_feat, cap = m->meta.vocab_cap;
  if (K < 2 || K > MV_LIMIT_CLF_LABELS || d > MV_LIMIT_CLF_FEATURES ||
      cap < 2 || (cap & (cap - 1)) || cap <= d ||
      !(m->meta.temperature >= 1e-4 && m->meta.temperature <= 1e4))
    CORRUPT("bad model dimensions");
  size_t lab_len = 0;
  const char *lab = need(m, "clf.labels", 0, &lab_len);
  m->vkeys = need(m, "clf.vkeys", cap * 8, NULL);
  m->vvals = need(m, "clf.vvals", cap * 4, NULL);
  m->idf = need(m, "clf.idf", d * 4, NULL);
  m->w = need(m, "clf.w", d * K * 4, NULL);
  m->bias = need(m, "clf.bias", K * 4, NULL);
  if (!lab || !m->vkeys || !m->vvals || !m->idf || !m->w || !m->bias ||
      (d == 0 && !find_sec(m, "clf.w")))
    CORRUPT("missing or mis-sized model section");
  if (lab_len == 0 || lab[lab_len - 1] != '\0')
    CORRUPT("bad label table");
  m->labels = calloc(K, sizeof *m->labels);
  if (!m->labels) {
    rc = MV_ENOMEM;
    goto out;
  }
  size_t k = 0;
  for (size_t o = 0; o < lab_len; k++) {
    size_t l = strlen(lab + o);
    if (k >= K || l == 0 || l >= MV_LIMIT_CLF_LABEL)
      CORRUPT("bad label table");
    m->labels[k] = lab + o;
    o += l + 1;
  }
  if (k != K)
    CORRUPT("label count mismatch");
  size_t used = 0;
  for (size_t i = 0; i < cap; i++) {
    if (!m->vkeys[i])
      continue;
    if (m->vvals[i] >= d)
      CORRUPT("bad vocabulary entry");
    used++;
  }
  if (used != d)
    CORRUPT("vocabulary size mismatch");
  /* every key must be reachable by its probe sequence from its home slot:
   * no empty slot between home and position */
  for (size_t i = 0; i < cap; i++) {
    if (!m->vkeys[i])
      continue;
    if (mv__clf_vocab_find(m->vkeys, m->vvals, (uint32_t)cap, m->vkeys[i]) !=
        (long)m->vvals[i])
      CORRUPT("bad vocabulary table");
  }
  for (size_t j = 0; j < d; j++)
    if (!isfinite(m->idf[j]) || m->idf[j] < 0)
      CORRUPT("bad idf");
  for (size_t j = 0; j < d * K; j++)
    if (!isfinite(m->w[j]))
      CORRUPT("bad weights");
  for (size_t j = 0; j < K; j++)
    if (!isfinite(m->bias[j]))
      CORRUPT("bad bias");
  *out = m;
  m = NULL;
  rc = MV_OK;
out:
  if (rc == MV_ENOMEM)
    mv_diag_set(diag, rc, "out of memory loading the model");
  mv_clf_model_free(m);
  return rc;
}

int mv_clf_model_load(const char *path, struct mv_clf_model **out,
                      struct mv_diag *diag) {
  if (!path || !out)
    return mv_diag_set(diag, MV_EINVAL, "no model path");
  int rc;
  uint8_t *buf = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    rc = mv_diag_set(diag, MV_EIO, "cannot open: %s", strerror(errno));
    goto out;
  }
  long sz = -1;
  if (fseek(f, 0, SEEK_END) == 0)
    sz = ftell(f);
  if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
    rc = mv_diag_set(diag, MV_EIO, "cannot read: not a regular file");
    goto out;
  }
  if ((unsigned long)sz > MV_LIMIT_CLF_MODEL) {
    rc = mv_diag_set(diag, MV_ETOOBIG, "model file larger than %u bytes",
                     MV_LIMIT_CLF_MODEL);
    goto out;
  }
  buf = malloc(sz ? (size_t)sz : 1);
  if (!buf) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  if (fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
    rc = mv_diag_set(diag, MV_EIO, "cannot read: short read");
    goto out;
  }
  rc = mv_clf_model_load_mem(buf, (size_t)sz, out, diag);
out:
  if (f)
    fclose(f);
  free(buf);
  if (rc != MV_OK)
    mv_diag_set_path(diag, path);
  return rc;
}

void mv_clf_model_free(struct mv_clf_model *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->n_sec; i++)
    free(m->sec[i].owned);
  free(m->labels);
  free(m->image);
  free(m);
}

/* ---- accessors and sections ------------------------------------------- */

size_t mv_clf_n_labels(const struct mv_clf_model *m) {
  return m ? m->meta.n_labels : 0;
}

const char *mv_clf_label(const struct mv_clf_model *m, size_t i) {
  return m && i < m->meta.n_labels ? m->labels[i] : NULL;
}

long mv_clf_label_find(const struct mv_clf_model *m, const char *name) {
  if (!m || !name)
    return -1;
  for (size_t k = 0; k < m->meta.n_labels; k++)
    if (strcmp(m->labels[k], name) == 0)
      return (long)k;
  return -1;
}

double mv_clf_temperature(const struct mv_clf_model *m) {
  return m ? m->meta.temperature : 0;
}

size_t mv_clf_n_features(const struct mv_clf_model *m) {
  return m ? m->meta.n_feat : 0;
}

int mv_clf_model_section(const struct mv_clf_model *m, const char *name,
                         const void **out_ptr, size_t *out_len) {
  if (!m || !name || !out_ptr || !out_len)
    return MV_EINVAL;
  const struct mv__clf_section *s = find_sec(m, name);
  if (!s)
    return MV_ENOTFOUND;
  *out_ptr = s->ptr;
  *out_len = s->len;
  return MV_OK;
}

int mv_clf_model_set_section(struct mv_clf_model *m, const char *name,
                             const void *data, size_t len) {
  if (!m || !name || !name[0] || strlen(name) >= MV__CLF_NAME ||
      strncmp(name, "clf.", 4) == 0 || (!data && len))
    return MV_EINVAL;
  if (len > MV_LIMIT_CLF_MODEL)
    return MV_ETOOBIG;
  struct mv__clf_section *s = (struct mv__clf_section *)find_sec(m, name);
  if (!s) {
    if (m->n_sec >= MV_LIMIT_CLF_SECTIONS)
      return MV_ETOOBIG;
    s = &m->sec[m->n_sec];
    memset(s, 0, sizeof *s);
    memcpy(s->name, name, strlen(name) + 1);
    m->n_sec++;
  }
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy)
    return MV_ENOMEM;
  if (len)
    memcpy(copy, data, len);
  free(s->owned);
  s->owned = copy;
  s->ptr = copy;
  s->len = len;
  return MV_OK;
}

/* ---- prediction --------------------------------------------------------- */

/* Scratch for one text: idx, val and tf arrays of len + 1 entries. On the
 * stack for typical texts, on the heap beyond. */
#define STACK_TERMS 1024u

int mv_clf_predict(const struct mv_clf_model *m, const char *text, size_t len,
                   int lang, double *out_probs, size_t n) {
  (void)lang; /* the tokenizer handles both scripts in any text */
  if (!m || (!text && len) || !out_probs || n != m->meta.n_labels)
    return MV_EINVAL;
  if (len > MV_LIMIT_CLF_TEXT)
    len = MV_LIMIT_CLF_TEXT;
  uint32_t sidx[STACK_TERMS], stf[STACK_TERMS];
  float sval[STACK_TERMS];
  uint32_t *idx = sidx, *tf = stf;
  float *val = sval;
  if (len + 1 > STACK_TERMS) {
    idx = malloc((len + 1) * sizeof *idx);
    tf = malloc((len + 1) * sizeof *tf);
    val = malloc((len + 1) * sizeof *val);
  }
  int rc = MV_ENOMEM;
  size_t nnz = 0;
  if (!idx || !tf || !val)
    goto out;
  rc = mv__clf_vectorize(m, text ? text : "", len, idx, val, tf, &nnz);
  if (rc != MV_OK)
    goto out;
  mv__clf_scores(m->w, m->bias, n, idx, val, nnz, out_probs);
  mv__clf_softmax(out_probs, n, m->meta.temperature);
out:
  if (idx != sidx) {
    free(idx);
    free(tf);
    free(val);
  }
  return rc;
}

static int cmp_contrib(const void *a, const void *b) {
  const struct mv_clf_contrib *x = a, *y = b;
  if (x->weight != y->weight)
    return x->weight < y->weight ? 1 : -1;
  return (x->start > y->start) - (x->start < y->start);
}

int mv_clf_explain(const struct mv_clf_model *m, const char *text, size_t len,
                   size_t label, struct mv_clf_contrib *out, size_t cap,
                   size_t *out_n) {
  if (!m || (!text && len) || (!out && cap) || !out_n ||
      label >= m->meta.n_labels)
    return MV_EINVAL;
  if (len > MV_LIMIT_CLF_TEXT)
    len = MV_LIMIT_CLF_TEXT;
  size_t K = m->meta.n_labels, nt = 0, nnz = 0, nc = 0;
  int rc = MV_ENOMEM;
  struct mv_clf_token *tok = malloc((len + 1) * sizeof *tok);
  uint32_t *idx = malloc((len + 1) * sizeof *idx);
  uint32_t *tf = malloc((len + 1) * sizeof *tf);
  float *val = malloc((len + 1) * sizeof *val);
  struct mv_clf_contrib *c = malloc((len + 1) * sizeof *c);
  if (!tok || !idx || !tf || !val || !c)
    goto out;
  rc = mv__clf_vectorize(m, text ? text : "", len, idx, val, tf, &nnz);
  if (rc == MV_OK)
    rc = mv_clf_tokenize(text ? text : "", len, tok, len + 1, &nt);
  if (rc != MV_OK)
    goto out;
  /* contribution of feature j: val_j * (w_j,label - mean_k w_j,k), i.e. how
   * much it moves this label's logit relative to the others */
  size_t next = 0; /* vectorize lists features by first occurrence */
  for (size_t t = 0; t < nt; t++) {
    if (m->meta.tok_flags & (1u << tok[t].kind))
      continue;
    long f =
        mv__clf_vocab_find(m->vkeys, m->vvals, m->meta.vocab_cap, tok[t].hash);
    if (f < 0 || next >= nnz || idx[next] != (uint32_t)f)
      continue; /* unknown, or a repeat of a feature already seen */
    size_t lo = next++;
    /* only current mentions explain a prediction: never show "fever" as a
     * reason when the text says "no fever" or "fever ten years ago" */
    if (tok[t].ctx != MV_CLF_CTX_CURRENT)
      continue;
    const float *row = m->w + (size_t)f * K;
    double mean = 0;
    for (size_t k = 0; k < K; k++)
      mean += row[k];
    mean /= (double)K;
    double wgt = val[lo] * (row[label] - mean);
    if (wgt > 0)
      c[nc++] = (struct mv_clf_contrib){tok[t].start, tok[t].len, wgt};
  }
  qsort(c, nc, sizeof *c, cmp_contrib);
  if (nc > cap)
    nc = cap;
  if (nc)
    memcpy(out, c, nc * sizeof *c);
  *out_n = nc;
out:
  free(tok);
  free(idx);
  free(tf);
  free(val);
  free(c);
  return rc;
}
