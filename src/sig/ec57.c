/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Beat-by-beat comparison of a test annotation set against a reference, as
 * ANSI/AAMI EC57:1998 specifies and PhysioNet's `bxb` implements (Moody,
 * WFDB Applications Guide): a 150 ms match window, scoring from 5 minutes
 * into the record, each beat paired at most once. Pairing walks both sorted
 * beat lists together; the earlier of the two current beats is paired with
 * the other current beat when it lies inside the window and no closer
 * partner is next in line (bxb's rule, including its 2002 refinement that
 * also compares the two next beats with each other). Written from the
 * published description; the counts are QRS detection only (TP/FN/FP),
 * labels need not agree.
 */
#include <math.h>
#include <stdlib.h>

#include "mv_sig_wfdb.h"

#define HUGE_T (INT64_MAX / 4)

struct beats {
  int64_t *t;
  size_t n;
  int64_t *vf; /* pairs (on, off) of VF episodes, off inclusive */
  size_t n_vf;
};

static void beats_release(struct beats *b) {
  free(b->t);
  free(b->vf);
}

/* Beat times of a, without beats inside VFON..VFOFF (bxb skips those). */
static int collect(const struct mv_sig_ann *a, size_t n, struct beats *b) {
  b->t = malloc((n ? n : 1) * sizeof(int64_t));
  b->vf = malloc((n ? n : 1) * 2 * sizeof(int64_t));
  if (!b->t || !b->vf)
    return MV_ENOMEM;
  int64_t prev = INT64_MIN;
  for (size_t i = 0; i < n; i++) {
    if (a[i].sample < prev || a[i].sample < 0 || a[i].sample >= HUGE_T)
      return MV_EINVAL; /* not sorted, or out of range */
    prev = a[i].sample;
    if (a[i].type == MV_SIG_ANN_VFON) {
      int64_t on = a[i].sample, off = HUGE_T;
      while (++i < n) {
        if (a[i].sample < prev)
          return MV_EINVAL;
        prev = a[i].sample;
        if (a[i].type == MV_SIG_ANN_VFOFF) {
          off = a[i].sample;
          break;
        }
      }
      b->vf[2 * b->n_vf] = on;
      b->vf[2 * b->n_vf + 1] = off;
      b->n_vf++;
      continue;
    }
    if (mv_sig_ann_is_beat(a[i].type))
      b->t[b->n++] = a[i].sample;
  }
  return MV_OK;
}

static bool in_vf(const struct beats *b, int64_t t) {
  for (size_t k = 0; k < b->n_vf; k++)
    if (b->vf[2 * k] <= t && t <= b->vf[2 * k + 1])
      return true;
  return false;
}

static int64_t at(const struct beats *b, size_t k) {
  return k < b->n ? b->t[k] : HUGE_T;
}

static size_t lower_bound(const struct beats *b, int64_t x) {
  size_t lo = 0, hi = b->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (b->t[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int64_t dist(int64_t a, int64_t b) {
  return a > b ? a - b : b - a;
}

static double pct(int64_t num, int64_t den) {
  return den > 0 ? 100.0 * (double)num / (double)den : NAN;
}

static void finish(struct mv_sig_ec57_result *r) {
  r->se_pct = pct(r->tp, r->tp + r->fn);
  r->ppv_pct = pct(r->tp, r->tp + r->fp);
  r->der_pct = pct(r->fn + r->fp, r->tp + r->fn);
}

void mv_sig_ec57_opts_default(struct mv_sig_ec57_opts *o, double fs) {
  o->fs = fs;
  o->window_s = 0.150;
  o->start_s = 300.0;
  o->end_sample = -1;
}

void mv_sig_ec57_add(struct mv_sig_ec57_result *gross,
                     const struct mv_sig_ec57_result *r) {
  gross->tp += r->tp;
  gross->fn += r->fn;
  gross->fp += r->fp;
  finish(gross);
}

int mv_sig_ec57_compare(const struct mv_sig_ann *ref, size_t n_ref,
                        const struct mv_sig_ann *test, size_t n_test,
                        const struct mv_sig_ec57_opts *o,
                        struct mv_sig_ec57_result *out) {
  if (!o || !out || (!ref && n_ref) || (!test && n_test) || !(o->fs > 0) ||
      !isfinite(o->fs) || !(o->window_s >= 0) || !(o->start_s >= 0) ||
      o->window_s * o->fs > 1e12 || o->start_s * o->fs > 1e15)
    return MV_EINVAL;
  struct beats R = {0}, X = {0};
  int rc = collect(ref, n_ref, &R);
  if (!rc)
    rc = collect(test, n_test, &X);
  if (rc)
    goto out;
  /* Window and start in samples, rounded as WFDB's strtim does. */
  const int64_t w = llround(o->window_s * o->fs);
  const int64_t start = llround(o->start_s * o->fs);
  const int64_t end = o->end_sample;
  struct mv_sig_ec57_result res = {0};

  /* The first reference beat at or after start; the last test beat before
   * start may still match it (it lies within the window before it). */
  size_t ri = lower_bound(&R, start);
  size_t first_t = lower_bound(&X, start);
  size_t ti = first_t;
  int64_t T = at(&R, ri);
  bool early = false;
  if (first_t > 0) {
    int64_t t = X.t[first_t - 1], tn = at(&X, first_t);
    if (T != HUGE_T && T - t <= w && T - t < dist(T, tn)) {
      res.tp++;
      ri++;
      early = true;
    }
  }
  if (!early) {
    /* No early match: a test beat just after start that is a worse match
     * for T than the next one belongs to the unscored learning period. */
    int64_t t = at(&X, ti), tn = at(&X, ti + 1);
    if (t != HUGE_T && t - start <= w && dist(T, tn) < dist(T, t))
      ti++;
  }

  for (;;) {
    T = at(&R, ri);
    int64_t Tn = at(&R, ri + 1), t = at(&X, ti), tn = at(&X, ti + 1);
    bool go = end >= 0 ? (T <= end || t <= end) : T != HUGE_T;
    if (!go)
      break;
    if (t < T) { /* the test beat comes first */
      if (T - t <= w && (T - t < dist(T, tn) || dist(Tn, tn) < dist(T, tn))) {
        res.tp++;
        ri++;
        ti++;
      } else {
        if (!in_vf(&R, t))
          res.fp++; /* extra beats during reference VF are not scored */
        ti++;
      }
    } else { /* the reference beat comes first (or both at once) */
      if (t - T <= w && (t - T < dist(t, Tn) || dist(tn, Tn) < dist(t, Tn))) {
        res.tp++;
        ri++;
        ti++;
      } else {
        res.fn++;
        ri++;
      }
    }
  }
  finish(&res);
  *out = res;
out:
  beats_release(&R);
  beats_release(&X);
  return rc;
}
