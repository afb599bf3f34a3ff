/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RKI algorithm of surveillance 1.20.3 (algo.rki; Robert Koch Institute
 * practice described by Altmann 2003): above a reference mean of 20 the
 * bound is mean + 2 sd, below it a fixed table of upper limits indexed by
 * the floor of the mean (the package's CIdata, column O, reproduced here
 * from the table shipped with the goldens).
 */
#include <math.h>
#include <stdlib.h>

#include "detect_int.h"

const double mv__epi_rki_table[21] = {
    3.285,  5.323,  6.686,  8.102,  9.598,  11.177, 12.817,
    13.765, 14.921, 16.768, 17.633, 19.05,  20.335, 21.364,
    22.945, 23.762, 25.4,   26.306, 27.735, 28.966, 30.017,
};

int mv__epi_rki(const struct mv_epi_series *s,
                const struct mv_epi_detect_ctl *ctl, size_t first, size_t last,
                struct mv_epi_detect_point *out, struct mv_diag *diag) {
  const struct mv_epi_rki_ctl *c = &ctl->rki;
  size_t cap = (size_t)c->w + 2 + (size_t)c->b * (2 * (size_t)c->w + 1);
  double *ref = malloc(cap * sizeof(*ref));
  if (!ref)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  for (size_t t = first; t <= last; t++) {
    struct mv_epi_detect_point *p = &out[t - first];
    size_t k = mv__epi_refvals(s, t, c->b, c->w, c->act_y, ref, cap);
    if (k == (size_t)-1 || k == 0)
      continue;
    double mu = mv__epi_mean(ref, k);
    if (isnan(mu))
      continue; /* R stops on a missing reference value; we report NA */
    if (mu > 20) {
      p->upperbound = mu + 2 * sqrt(mv__epi_var(ref, k));
    } else {
      p->upperbound = mv__epi_rki_table[(int)floor(mu)];
    }
    p->upperbound_na = false;
    p->alarm = mv__epi_alarm_gt(p->observed, p->upperbound);
  }
  free(ref);
  return MV_OK;
}
