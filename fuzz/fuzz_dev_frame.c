/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the device protocol's binary frame decoder
 * (mv_dev_ws_decode_frame). Checks: success only when the length is
 * exactly 37 + patient_len + 2n, with one series observation of n points
 * whose data are the samples minus the baseline; failure gives no
 * observation; never reads past the input (ASan).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_dev_ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mv_arena *a = mv_arena_new(4u * 1024u * 1024u);
  struct mv_dev_ws_msg m;
  struct mv_diag d;
  unsigned char *copy = malloc(size ? size : 1);
  if (!a || !copy)
    abort();
  memcpy(copy, data, size);
  mv_diag_clear(&d);
  int rc = mv_dev_ws_decode_frame(copy, size, NULL, NULL, a, &m, &d);
  if (rc == MV_OK) {
    size_t p = copy[36];
    const struct mv_dev_obs *o = m.obs;
    if (m.n_obs != 1 || size != 37 + p + 2 * m.frame.n || o->n != m.frame.n ||
        m.seq < 1 || !o->patient || !(o->factor > 0) || !isfinite(o->factor))
      abort();
    for (size_t i = 0; i < o->n; i++)
      if (o->data[i] != (double)m.frame.x[i] - m.frame.baseline)
        abort();
  } else if (m.n_obs != 0 || d.err != rc) {
    abort();
  }
  free(copy);
  mv_arena_free(a);
  return 0;
}
