/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the MIT annotation reader (mv_sig_wfdb.h). Checks:
 * never reads past the input; parsed annotations are in time order, with
 * valid codes and NUL-terminated aux strings inside the returned block.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_sig_wfdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1u << 16)
    return 0;
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    abort();
  memcpy(copy, data, size);
  struct mv_sig_ann *a = NULL;
  size_t n = 0;
  int rc = mv_sig_ann_parse(copy, size, "f.atr", &a, &n, NULL);
  if (rc == MV_OK) {
    for (size_t i = 0; i < n; i++) {
      if (a[i].sample < 0 || a[i].type > MV_SIG_ANN_ACMAX ||
          (i > 0 && a[i].sample < a[i - 1].sample) ||
          (a[i].aux && a[i].aux[a[i].aux_len] != '\0'))
        abort();
    }
  } else if (a) {
    abort();
  }
  mv_sig_ann_free(a);
  free(copy);
  return 0;
}
