/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for outbreak detection (mv_epi_detect.h). Input: one
 * control byte block (method, b, w, baseline, flags, range) followed either
 * by CSV text (parsed by mv_epi_panel_parse, then every unit is run) or by
 * raw bytes taken as counts. Checks: never crashes or hangs; every call
 * returns MV_OK or a documented error; on success the points are the
 * resolved range in order, alarms are 0, 1 or NA, and an alarm is never
 * raised on a missing count.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_epi_detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct mv_epi_series *s,
                  const struct mv_epi_detect_ctl *c) {
  struct mv_epi_detect_point *p = malloc((s->n ? s->n : 1) * sizeof(*p));
  size_t n = 0, first = 0, last = 0;
  struct mv_diag d;
  if (!p)
    abort();
  int rc = mv_epi_detect(s, c, p, &n, &d);
  if (rc == MV_OK) {
    if (mv_epi_detect_range(s, c, &first, &last, NULL) != MV_OK)
      abort();
    if (n != last - first + 1 || n > s->n)
      abort();
    for (size_t i = 0; i < n; i++) {
      if (p[i].t != first + i)
        abort();
      if (p[i].alarm != MV_EPI_ALARM_NA && p[i].alarm != MV_EPI_ALARM_NO &&
          p[i].alarm != MV_EPI_ALARM_YES)
        abort();
      if (isnan(p[i].observed) && p[i].alarm == MV_EPI_ALARM_YES)
        abort();
    }
  } else if (rc != MV_EINVAL && rc != MV_ERANGE && rc != MV_EPARSE &&
             rc != MV_ETOOBIG) {
    abort();
  }
  free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 8 || size > 1u << 14)
    return 0;
  enum mv_epi_method m = (enum mv_epi_method)(data[0] % MV_EPI_METHOD_COUNT);
  struct mv_epi_detect_ctl c;
  mv_epi_detect_defaults(m, &c);
  int b = data[1] % 4, w = data[2] % 5, freq = 4 + data[3] % 53;
  c.ears.baseline = 2 + data[4] % 12;
  c.ears.min_sigma = (data[5] & 1) ? 0.5 : 0;
  c.bayes.b = c.rki.b = b;
  c.bayes.w = c.rki.w = w;
  c.bayes.act_y = c.rki.act_y = (data[5] & 2) != 0;
  c.farrington.b = 1 + b;
  c.farrington.w = w;
  c.farrington.no_periods = 1 + (data[5] >> 4) % 4;
  c.farrington.reweight = (data[5] & 4) != 0;
  c.cusum.m_glm = (data[5] & 8) != 0;
  c.cusum.trans = (data[6] & 1) ? MV_EPI_CUSUM_ANSCOMBE : MV_EPI_CUSUM_STANDARD;
  c.range.first = data[6] >> 1 ? (size_t)(data[6] >> 1) : 0;
  c.range.last = 0;
  bool csv = data[7] == 't';
  data += 7;
  size -= 7;
  if (csv) {
    struct mv_epi_panel *pn = NULL;
    if (mv_epi_panel_parse((const char *)data, size, "fuzz", &pn, NULL) !=
        MV_OK)
      return 0;
    for (size_t u = 0; u < mv_epi_panel_count(pn) && u < 4; u++) {
      struct mv_epi_series s;
      if (mv_epi_panel_series(pn, u, &s) != MV_OK)
        abort();
      if (s.n > 400 && (m == MV_EPI_FARRINGTON || m == MV_EPI_NOUFAILY))
        continue; /* keep each run fast */
      check(&s, &c);
    }
    mv_epi_panel_free(pn);
    return 0;
  }
  size_t n = size;
  if (n > 400 && (m == MV_EPI_FARRINGTON || m == MV_EPI_NOUFAILY))
    n = 400; /* keep each run fast */
  double *y = malloc(n * sizeof(double));
  if (!y)
    abort();
  for (size_t i = 0; i < n; i++)
    y[i] = data[i] == 255 ? NAN : (double)(data[i] % 64);
  struct mv_epi_series s = {
      .observed = y, .n = n, .freq = freq, .start_epoch = 1};
  check(&s, &c);
  free(y);
  return 0;
}
