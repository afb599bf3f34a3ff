/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the CSV reader (mv_csv.h). Checks: reading always
 * ends (MV_ENOTFOUND or MV_EPARSE, then MV_ENOTFOUND); no field is longer
 * than the input; record lines never go backwards; never reads past the
 * input (ASan; the input is not NUL-terminated).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1u << 16)
    return 0;
  char *copy = malloc(size ? size : 1);
  struct mv_csv *c = NULL;
  if (!copy)
    abort();
  memcpy(copy, data, size);
  if (mv_csv_open_mem(copy, size, &c) != MV_OK)
    abort();
  char **f;
  size_t n, last = 0, records = 0;
  int rc;
  while ((rc = mv_csv_next(c, &f, &n, NULL)) == MV_OK) {
    if (n == 0 || mv_csv_line(c) < last || ++records > size + 1)
      abort();
    last = mv_csv_line(c);
    for (size_t i = 0; i < n; i++)
      if (strlen(f[i]) > size)
        abort();
  }
  if (rc != MV_ENOTFOUND && rc != MV_EPARSE)
    abort();
  if (mv_csv_next(c, &f, &n, NULL) != MV_ENOTFOUND)
    abort();
  mv_csv_free(c);
  free(copy);
  return 0;
}
