/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the HL7 v2 decoder and the MLLP framer
 * (mv_dev_hl7.h, mv_net_mllp.h). Checks: decoding always ends with MV_OK
 * and AA, or an error with AE/AR and an ERR code; every observation has a
 * patient, a LOINC code and a finite value; an ACK can always be written;
 * the framer consumes every byte and never returns a frame longer than the
 * input; never reads past the input (ASan; it is not NUL-terminated).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_dev_hl7.h"
#include "mv_net_mllp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_decode(const char *msg, size_t size) {
  struct mv_arena *a = mv_arena_new(16u << 20);
  struct mv_hl7_result r;
  struct mv_buf b;
  if (!a)
    abort();
  int rc = mv_hl7_decode(msg, size, a, &r, NULL);
  if (rc == MV_OK) {
    if (r.ack != MV_HL7_AA)
      abort();
    for (size_t i = 0; i < r.n_obs; i++)
      if (!r.obs[i].patient || !r.obs[i].loinc || !isfinite(r.obs[i].value))
        abort();
  } else if (rc != MV_ENOMEM) {
    if (r.ack == MV_HL7_AA || r.err.code == 0 || r.n_obs != 0)
      abort();
  }
  mv_buf_init(&b, 1u << 20);
  if (mv_hl7_ack_write(&r.hdr, r.ack, &r.err, "F1", 0, &b) != MV_OK)
    abort();
  if (b.len < 20 || memcmp(b.data, "MSH|^~\\&|", 9) != 0)
    abort();
  mv_buf_release(&b);
  mv_arena_free(a);
}

static void check_framer(const uint8_t *data, size_t size) {
  struct mv_mllp_framer f;
  mv_mllp_framer_init(&f, 4096);
  size_t off = 0;
  while (off < size) {
    size_t used = 0, len = 0;
    const unsigned char *m = NULL;
    int rc = mv_mllp_framer_feed(&f, data + off, size - off, &used, &m, &len);
    if (used == 0 || used > size - off || (rc != MV_OK && rc != MV_ETOOBIG))
      abort();
    if (m && (len > size || len > 4096))
      abort();
    off += used;
  }
  mv_mllp_framer_release(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1u << 16)
    return 0;
  char *copy = malloc(size ? size : 1);
  if (!copy)
    abort();
  memcpy(copy, data, size);
  check_decode(copy, size);
  check_framer(data, size);
  free(copy);
  return 0;
}
