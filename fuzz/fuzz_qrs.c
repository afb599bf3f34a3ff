/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the QRS detector (mv_sig_qrs.h). Input: byte 0 picks
 * the sampling frequency (100..1000 Hz), byte 1 the push size, the rest are
 * little-endian int16 samples (0x8000 becomes the invalid-sample marker).
 * Checks: offline (one lead, and the same samples as two interleaved
 * leads) and streaming beats are strictly ascending and inside the
 * signal; every streaming beat is reported within MV_SIG_QRS_DELAY_MAX_S of
 * its sample; nothing crashes or reads out of bounds (ASan).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_err.h"
#include "mv_sig_qrs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2 || size > (1u << 20))
    return 0;
  double fs = 100.0 + 900.0 * data[0] / 255.0;
  size_t chunk = (size_t)data[1] + 1;
  size_t n = (size - 2) / 2;
  int32_t *x = malloc((n ? n : 1) * sizeof(*x));
  if (!x)
    abort();
  for (size_t i = 0; i < n; i++) {
    int16_t v = (int16_t)(data[2 + 2 * i] | (data[3 + 2 * i] << 8));
    x[i] = v == INT16_MIN ? MV_SIG_QRS_INVALID : v;
  }
  int64_t *b = NULL;
  size_t nb = 0;
  if (mv_sig_qrs_detect(x, n, 1, fs, 200.0, 0, &b, &nb) != MV_OK)
    abort();
  for (size_t i = 0; i < nb; i++)
    if (b[i] < 0 || b[i] >= (int64_t)n || (i && b[i] <= b[i - 1]))
      abort();
  free(b);

  /* The same samples read as two interleaved leads (stride 2). */
  struct mv_sig_qrs_lead leads[2] = {{0, 200.0, 0}, {1, 150.0, 10}};
  size_t frames = n / 2;
  b = NULL;
  nb = 0;
  if (mv_sig_qrs_detect_leads(x, frames, 2, fs, leads, 2, &b, &nb) != MV_OK)
    abort();
  for (size_t i = 0; i < nb; i++)
    if (b[i] < 0 || b[i] >= (int64_t)frames || (i && b[i] <= b[i - 1]))
      abort();
  free(b);

  struct mv_sig_qrs *q = NULL;
  if (mv_sig_qrs_new(fs, &q) != MV_OK)
    abort();
  int64_t out[64], last = -1;
  int64_t bound = (int64_t)floor(fs * MV_SIG_QRS_DELAY_MAX_S);
  for (size_t off = 0; off < n; off += chunk) {
    size_t m = n - off < chunk ? n - off : chunk;
    size_t k = mv_sig_qrs_push(q, x + off, m, 200.0, 0, out, 64);
    for (size_t j = 0; j < k; j++) {
      if (out[j] <= last || out[j] >= (int64_t)(off + m))
        abort();
      /* at most one push of slack: the beat may be decided early in it */
      if ((int64_t)(off + m) - out[j] > bound + (int64_t)m)
        abort();
      last = out[j];
    }
  }
  size_t k = mv_sig_qrs_flush(q, out, 64);
  for (size_t j = 0; j < k; j++) {
    if (out[j] <= last || out[j] >= (int64_t)n)
      abort();
    last = out[j];
  }
  mv_sig_qrs_free(q);
  free(x);
  return 0;
}
