/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the inquiry table loader (mv_clf_inquiry_load) and,
 * on the same bytes read as text, the lexicon detector. Checks: a load either
 * fails with MV_ECORRUPT/MV_ENOMEM and leaves out NULL, or succeeds and the
 * table re-saves to exactly the input bytes and answers next/update with a
 * valid posterior; detection never reads past the input (ASan; the input is
 * not NUL-terminated).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_clf_inquiry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct mv_clf_inquiry *q) {
  size_t nl = mv_clf_inquiry_n_labels(q);
  double *post = malloc(nl * sizeof(*post));
  uint8_t *asked = calloc(mv_clf_inquiry_n_concepts(q), 1);
  if (!post || !asked)
    abort();
  for (size_t l = 0; l < nl; l++)
    post[l] = 1.0 / (double)nl;
  for (int k = 0; k < 3; k++) {
    struct mv_clf_inq_question qu;
    int rc = mv_clf_inquiry_next(q, post, nl, asked, MV_CLF_INQ_ZH, 0.0, &qu);
    if (rc == MV_ENOTFOUND)
      break;
    if (rc != MV_OK || !qu.text || asked[qu.concept] || !(qu.gain_bits > 0.0))
      abort();
    asked[qu.concept] = 1;
    if (mv_clf_inquiry_update(q, post, nl, qu.concept, MV_CLF_INQ_YES) != MV_OK)
      abort();
    double s = 0.0;
    for (size_t l = 0; l < nl; l++)
      s += post[l];
    if (fabs(s - 1.0) > 1e-6)
      abort();
  }
  free(asked);
  free(post);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1u << 20)
    return 0;
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    abort();
  memcpy(copy, data, size);
  struct mv_clf_inquiry *q = NULL;
  int rc = mv_clf_inquiry_load(copy, size, &q, NULL);
  if (rc == MV_OK) {
    struct mv_buf b;
    mv_buf_init(&b, MV_LIMIT_CLF_INQ_BYTES);
    if (mv_clf_inquiry_save(q, &b) != MV_OK || b.len != size ||
        memcmp(b.data, copy, size) != 0)
      abort();
    mv_buf_release(&b);
    exercise(q);
    mv_clf_inquiry_free(q);
  } else if ((rc != MV_ECORRUPT && rc != MV_ENOMEM) || q) {
    abort();
  }
  uint8_t present[MV_LIMIT_CLF_INQ_CONCEPTS];
  size_t found = mv_clf_lexicon_detect((const char *)copy, size, present);
  size_t count = 0;
  for (size_t i = 0; i < mv_clf_lexicon_size(); i++)
    count += present[i];
  if (found != count)
    abort();
  free(copy);
  return 0;
}
