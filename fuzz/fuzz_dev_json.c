/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the device protocol's text decoder
 * (mv_dev_ws_decode_text). Checks: success gives 1..4096 observations of a
 * known kind with finite values, a patient and a seq >= 1 (vitals) or a
 * device (hello); failure gives no observations and a diag error equal to
 * the return code; never reads past the input (ASan: not NUL-terminated).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_dev_ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mv_arena *a = mv_arena_new(64u * 1024u * 1024u);
  struct mv_dev_ws_msg m;
  struct mv_diag d;
  char *copy = malloc(size ? size : 1);
  if (!a || !copy)
    abort();
  memcpy(copy, data, size);
  mv_diag_clear(&d);
  int rc = mv_dev_ws_decode_text(copy, size, "p1", "dev-1", a, &m, &d);
  if (rc == MV_OK) {
    if (m.type == MV_DEV_WS_HELLO) {
      if (!m.device || !*m.device || m.n_obs)
        abort();
    } else {
      if (m.type != MV_DEV_WS_VITALS || m.seq < 1 || m.n_obs < 1 ||
          m.n_obs > MV_DEV_WS_VALUES_MAX)
        abort();
      for (size_t i = 0; i < m.n_obs; i++) {
        const struct mv_dev_obs *o = &m.obs[i];
        if (!o->patient || !o->ucum || o->seq != m.seq)
          abort();
        if (o->kind == MV_DEV_SERIES) {
          if (!o->data || o->n < 1 || !(o->period_ms > 0))
            abort();
          for (size_t k = 0; k < o->n; k++)
            if (!isfinite(o->data[k]))
              abort();
        } else if (!isfinite(o->value) || !isfinite(o->value2)) {
          abort();
        }
      }
    }
  } else if (m.n_obs != 0 || m.obs != NULL || d.err != rc) {
    abort();
  }
  free(copy);
  mv_arena_free(a);
  return 0;
}
