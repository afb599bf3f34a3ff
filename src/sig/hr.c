/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heart rate from beat times: RR intervals, instantaneous rate (60 / RR) and
 * an averaged rate robust to ectopic beats: the median of the last
 * MV_SIG_HR_AVG_N accepted RR intervals. An RR is rejected (flagged
 * "ectopic") when it is outside the physiological range or differs from the
 * current median by more than -20 % / +30 % (a premature beat shortens one RR
 * and its compensatory pause lengthens the next; the usual rule of thumb in
 * HRV editing, e.g. Task Force of the ESC/NASPE, Circulation 93:1043 (1996),
 * uses a 20 % deviation from the running average). After 4 rejections in a
 * row the rhythm has really changed (onset of tachycardia, say): the
 * estimator re-seeds from the newest RR. Pure computation.
 */
#include <math.h>
#include <string.h>

#include "mv_err.h"
#include "mv_sig_qrs.h"

#define HR_LO 0.80 /* shortest accepted RR, x median */
#define HR_HI 1.30 /* longest accepted RR, x median */
#define HR_RESEED 4

double mv_sig_hr_from_rr(double rr_s) {
  if (!isfinite(rr_s) || rr_s <= 0.0)
    return 0.0;
  return 60.0 / rr_s;
}

size_t mv_sig_rr_series(const int64_t *beats, size_t n, double fs_hz,
                        double *rr_s) {
  if (!beats || !rr_s || n < 2 || !(fs_hz > 0.0))
    return 0;
  for (size_t i = 1; i < n; i++)
    rr_s[i - 1] = (double)(beats[i] - beats[i - 1]) / fs_hz;
  return n - 1;
}

void mv_sig_hr_init(struct mv_sig_hr *h, double fs_hz) {
  memset(h, 0, sizeof(*h));
  h->fs_hz = fs_hz > 0.0 ? fs_hz : 1.0;
  h->last_beat = -1;
}

static double median(const struct mv_sig_hr *h) {
  double v[MV_SIG_HR_AVG_N];
  unsigned n = h->n_rr;
  memcpy(v, h->rr_s, sizeof(v));
  /* ring holds the n newest values in slots [0, n) while filling and all
   * slots once full; either way the first n slots are the accepted ones */
  for (unsigned i = 1; i < n; i++)
    for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
      double t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  if (n == 0)
    return 0.0;
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void push_rr(struct mv_sig_hr *h, double rr) {
  h->rr_s[h->head] = rr;
  h->head = (h->head + 1) % MV_SIG_HR_AVG_N;
  if (h->n_rr < MV_SIG_HR_AVG_N)
    h->n_rr++;
}

int mv_sig_hr_add_beat(struct mv_sig_hr *h, int64_t beat,
                       struct mv_sig_hr_beat *out) {
  if (!h || !out || beat < 0 || (h->last_beat >= 0 && beat <= h->last_beat))
    return MV_EINVAL;
  struct mv_sig_hr_beat r = {0};
  if (h->last_beat >= 0) {
    double rr = (double)(beat - h->last_beat) / h->fs_hz;
    r.rr_s = rr;
    r.inst_bpm = mv_sig_hr_from_rr(rr);
    int plausible = rr >= MV_SIG_HR_RR_MIN_S && rr <= MV_SIG_HR_RR_MAX_S;
    int accept = plausible;
    if (plausible && h->n_rr > 0) {
      double m = median(h);
      accept = rr >= HR_LO * m && rr <= HR_HI * m;
    }
    if (accept) {
      push_rr(h, rr);
      h->n_rejected_run = 0;
    } else {
      r.ectopic = 1;
      if (plausible && ++h->n_rejected_run >= HR_RESEED) {
        /* sustained change of rhythm: start over from this RR */
        h->n_rr = 0;
        h->head = 0;
        push_rr(h, rr);
        h->n_rejected_run = 0;
      }
    }
  }
  h->last_beat = beat;
  r.avg_bpm = h->n_rr ? mv_sig_hr_from_rr(median(h)) : 0.0;
  *out = r;
  return MV_OK;
}
