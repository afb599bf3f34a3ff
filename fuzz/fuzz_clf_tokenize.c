/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the triage tokenizer (mv_clf.h). Checks: never
 * fails on content; token count within the cap; every span inside the
 * (capped) input; no zero hash; a smaller cap gives a prefix of the same
 * tokens; language detection always answers EN or ZH. The input is not
 * NUL-terminated (ASan catches over-reads).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_clf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1u << 16)
    return 0;
  char *copy = malloc(size ? size : 1);
  struct mv_clf_token *t = malloc((size + 1) * sizeof *t);
  struct mv_clf_token *u = malloc((size + 1) * sizeof *u);
  if (!copy || !t || !u)
    abort();
  memcpy(copy, data, size);
  size_t n = 0, m = 0, cap = size + 1;
  if (mv_clf_tokenize(copy, size, t, cap, &n) != MV_OK || n > cap)
    abort();
  for (size_t i = 0; i < n; i++)
    if (t[i].hash == 0 || t[i].len == 0 || t[i].start > size ||
        t[i].len > size - t[i].start || t[i].kind < MV_CLF_TOK_WORD ||
        t[i].kind > MV_CLF_TOK_CJK3)
      abort();
  size_t half = n / 2;
  if (mv_clf_tokenize(copy, size, u, half, &m) != MV_OK || m != half ||
      (half && memcmp(t, u, half * sizeof *t) != 0))
    abort();
  int lang = mv_clf_detect_lang(copy, size);
  if (lang != MV_CLF_LANG_EN && lang != MV_CLF_LANG_ZH)
    abort();
  free(copy);
  free(t);
  free(u);
  return 0;
}
