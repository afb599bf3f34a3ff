/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the WFDB header parser (mv_sig_wfdb.h). Checks: the
 * parser never reads past the input (ASan; the input is not
 * NUL-terminated); an error always names the file and a line within the
 * input; a parsed record respects the documented bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_sig_wfdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = malloc(size ? size : 1);
  if (!copy)
    abort();
  memcpy(copy, data, size);
  struct mv_sig_wfdb_record *r = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_sig_wfdb_parse_header(copy, size, "f.hea", &r, &d);
  if (rc == MV_OK) {
    if (!r || r->n_sig < 0 || r->n_sig > MV_SIG_WFDB_MAX_SIGNALS ||
        !(r->fs > 0) || (r->n_sig > 0 && !r->sig) || r->samples)
      abort();
    for (int s = 0; s < r->n_sig; s++)
      if (r->sig[s].spf != 1 || r->sig[s].skew < 0 ||
          r->sig[s].byte_offset < 0 || r->sig[s].gain == 0 ||
          strchr(r->sig[s].file, '/') ||
          strlen(r->sig[s].desc) >= sizeof(r->sig[s].desc))
        abort();
  } else {
    if (r || strcmp(d.path, "f.hea") != 0 || !d.msg[0] || d.line < 0 ||
        (size_t)d.line > size + 1)
      abort();
  }
  mv_sig_wfdb_free(r);
  free(copy);
  return 0;
}
