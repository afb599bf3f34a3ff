/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the classifier's model loader (mv_clf.h). Checks:
 * any bytes either load or fail with MV_ECORRUPT / MV_EUNSUPPORTED /
 * MV_ETOOBIG and a message; a loaded model predicts probabilities that
 * sum to 1 on a bilingual text, explains within the text, and serializes
 * to bytes that load again to the same predictions. Each input is tried
 * twice: as is, and with the header's CRC-32 recomputed, so mutations reach
 * the structural checks behind the checksum.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_clf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_predict(const struct mv_clf_model *m, double *p) {
  static const char text[] = "fever and cough 发烧咳嗽 no rash 没有皮疹";
  size_t K = mv_clf_n_labels(m);
  if (mv_clf_predict(m, text, sizeof text - 1, MV_CLF_LANG_AUTO, p, K) != MV_OK)
    abort();
  double s = 0;
  for (size_t k = 0; k < K; k++) {
    if (!(p[k] >= 0 && p[k] <= 1))
      abort();
    s += p[k];
  }
  if (fabs(s - 1) > 1e-6)
    abort();
  struct mv_clf_contrib c[8];
  size_t n = 0;
  if (mv_clf_explain(m, text, sizeof text - 1, 0, c, 8, &n) != MV_OK || n > 8)
    abort();
  for (size_t i = 0; i < n; i++)
    if (c[i].start + c[i].len > sizeof text - 1)
      abort();
}

/* CRC-32 (zlib polynomial), bitwise: the file format's checksum. */
static uint32_t crc32_bitwise(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

static void one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1u << 22)
    return 0;
  one(data, size);
  if (size > 32) { /* header: magic 8, version 4, count 4, length 8, crc 4 */
    uint8_t *c = malloc(size);
    if (!c)
      abort();
    memcpy(c, data, size);
    uint32_t crc = crc32_bitwise(c + 32, size - 32);
    memcpy(c + 24, &crc, 4);
    one(c, size);
    free(c);
  }
  return 0;
}

static void one(const uint8_t *data, size_t size) {
  struct mv_clf_model *m = NULL, *m2 = NULL;
  struct mv_diag dg = {0};
  int rc = mv_clf_model_load_mem(data, size, &m, &dg);
  if (rc != MV_OK) {
    if ((rc != MV_ECORRUPT && rc != MV_EUNSUPPORTED && rc != MV_ETOOBIG &&
         rc != MV_ENOMEM) ||
        m || !dg.msg[0])
      abort();
    return;
  }
  size_t K = mv_clf_n_labels(m);
  double *p = malloc(K * sizeof *p), *q = malloc(K * sizeof *q);
  if (!p || !q)
    abort();
  for (size_t k = 0; k < K; k++)
    if (!mv_clf_label(m, k))
      abort();
  check_predict(m, p);
  uint8_t *img = NULL;
  size_t len = 0;
  if (mv_clf_model_serialize(m, &img, &len) != MV_OK ||
      mv_clf_model_load_mem(img, len, &m2, NULL) != MV_OK)
    abort();
  check_predict(m2, q);
  if (memcmp(p, q, K * sizeof *p) != 0)
    abort();
  free(img);
  free(p);
  free(q);
  mv_clf_model_free(m);
  mv_clf_model_free(m2);
}
