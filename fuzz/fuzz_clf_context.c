/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for triage context marking and red flags
 * (mv_clf_context.h, mv_clf_redflag.h, mv_clf_triage.h without a model) on
 * arbitrary bytes. Checks: every call succeeds; every context value is a
 * known one; spans cover the analysed bytes contiguously; red-flag hits lie
 * inside the input and red_flag agrees with the hit count; the assessment
 * is "emergency" exactly when a red flag is found and its advice is a
 * NUL-terminated string; never reads past the input (ASan; the input is not
 * NUL-terminated).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_clf_context.h"
#include "mv_clf_redflag.h"
#include "mv_clf_triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1u << 16)
    return 0;
  const char *text = (const char *)data;
  uint8_t *cx = malloc(size ? size : 1);
  struct mv_clf_cx_span *sp = malloc(sizeof *sp * (size + 1));
  struct mv_clf_triage_result *tr = malloc(sizeof *tr);
  if (!cx || !sp || !tr)
    abort();
  if (mv_clf_context_mark(text, size, cx, size) != MV_OK)
    abort();
  for (size_t i = 0; i < size; i++)
    if (cx[i] > MV_CLF_CX_HYPOTHETICAL)
      abort();
  size_t ns = 0, at = 0;
  if (mv_clf_context_spans(text, size, sp, size + 1, &ns) != MV_OK)
    abort();
  for (size_t i = 0; i < ns; i++) {
    if (sp[i].start != at || sp[i].len == 0)
      abort();
    for (size_t k = 0; k < sp[i].len; k++)
      if (cx[sp[i].start + k] != sp[i].cx)
        abort();
    at += sp[i].len;
  }
  if (at != (size < MV_LIMIT_CLF_CX_TEXT ? size : MV_LIMIT_CLF_CX_TEXT))
    abort();
  struct mv_clf_rf_result rf;
  if (mv_clf_redflag_check(text, size, &rf) != MV_OK)
    abort();
  if (rf.red_flag != (rf.n_hits > 0) || rf.n_hits > MV_LIMIT_CLF_RF_HITS)
    abort();
  for (size_t i = 0; i < rf.n_hits; i++)
    if (rf.hits[i].start + (size_t)rf.hits[i].len > size ||
        !mv_clf_rf_id(rf.hits[i].cat))
      abort();
  if (mv_clf_triage_assess(NULL, text, size, MV_CLF_LANG_AUTO, tr) != MV_OK)
    abort();
  if ((tr->urgency == MV_CLF_URG_EMERGENCY) != rf.red_flag ||
      !memchr(tr->advice, 0, sizeof tr->advice) || tr->n_dx != 0)
    abort();
  free(cx);
  free(sp);
  free(tr);
  return 0;
}
