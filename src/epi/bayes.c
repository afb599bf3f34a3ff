/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Bayes algorithm of surveillance 1.20.3 (algo.bayes; Riebler 2004,
 * "Empirischer Vergleich von statistischen Methoden zur Ausbruchserkennung
 * bei Surveillance Daten"): the counts of a reference window are Poisson
 * with a Gamma(S + 1/2, n) posterior for the rate, so the predictive
 * distribution of y_t is negative binomial and the bound is its (1 - alpha)
 * quantile. Reference values are picked by index arithmetic (t - i*freq),
 * never by date, as the package does.
 */
#include <math.h>
#include <stdlib.h>

#include "detect_int.h"
#include "num_int.h"

int mv__epi_bayes(const struct mv_epi_series *s,
                  const struct mv_epi_detect_ctl *ctl, size_t first,
                  size_t last, struct mv_epi_detect_point *out,
                  struct mv_diag *diag) {
  const struct mv_epi_bayes_ctl *c = &ctl->bayes;
  size_t cap = (size_t)c->w + 2 + (size_t)c->b * (2 * (size_t)c->w + 1);
  double *ref = malloc(cap * sizeof(*ref));
  if (!ref)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  for (size_t t = first; t <= last; t++) {
    struct mv_epi_detect_point *p = &out[t - first];
    size_t k = mv__epi_refvals(s, t, c->b, c->w, c->act_y, ref, cap);
    if (k == (size_t)-1)
      continue;          /* unreachable: the range was checked */
    long double sum = 0; /* R's sum(na.rm = TRUE) */
    size_t n = 0;
    for (size_t i = 0; i < k; i++)
      if (!isnan(ref[i])) {
        sum += ref[i];
        n++;
      }
    double size = (double)sum + 0.5;
    double prob = (double)n / ((double)n + 1);
    p->upperbound = mv__epi_qnbinom(1 - c->alpha, size, prob, true);
    p->upperbound_na = n == 0;
    p->alarm = mv__epi_alarm_gt(p->observed, p->upperbound);
  }
  free(ref);
  return MV_OK;
}
