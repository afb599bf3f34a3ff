/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QRS (heart beat) detection on one ECG lead, streaming and offline, and
 * heart rate from the detected beats. Pure computation, no I/O.
 *
 * Samples are WFDB-style ADC integers: the physical value in mV is
 * (x - baseline_adu) / gain_adu_per_mv. A sample equal to MV_SIG_QRS_INVALID
 * (WFDB's "invalid sample" after widening to 32 bits) is treated as missing:
 * the previous valid value is held. Beats are reported as absolute sample
 * indexes (0 = first sample pushed since new/reset) of the R peak.
 *
 * The algorithm and its sources are described in docs/QRS.md and in the
 * comments of src/sig/qrs.c. One parameter set for every record.
 */
#ifndef MV_SIG_QRS_H
#define MV_SIG_QRS_H

#include <stddef.h>
#include <stdint.h>

#include "mv_common.h"

/* Accepted sampling frequencies, Hz. */
#define MV_SIG_QRS_FS_MIN 100.0
#define MV_SIG_QRS_FS_MAX 1000.0
/* Missing sample marker (hold the previous value). */
#define MV_SIG_QRS_INVALID INT32_MIN
/* A beat is reported no later than this after its R peak (streaming). */
#define MV_SIG_QRS_DELAY_MAX_S 0.300
/* Upper bound on beats one push of n samples can report at fs Hz (the
 * detector never reports two beats closer than 200 ms), plus what may still
 * be queued from earlier calls. Use it to size `beats`. */
#define MV_SIG_QRS_BEATS_MAX(n, fs) ((size_t)((double)(n) / (0.2 * (fs))) + 8u)

/* Opaque streaming detector. Memory is bounded and fixed at creation
 * (a few kilobytes at 1000 Hz); O(1) work per sample. */
struct mv_sig_qrs;

/* Create a detector for fs_hz in [MV_SIG_QRS_FS_MIN, MV_SIG_QRS_FS_MAX].
 * Returns MV_OK and *out (caller frees with mv_sig_qrs_free), MV_ERANGE for
 * a bad frequency, MV_EINVAL for NULL out, MV_ENOMEM. *out untouched on
 * error. */
MV_API MV_NODISCARD int mv_sig_qrs_new(double fs_hz, struct mv_sig_qrs **out);

/* Push n samples (x borrowed for the call; n may be 0 to collect queued
 * beats). gain_adu_per_mv > 0 (a non-positive or non-finite gain is treated
 * as 200). Writes up to cap beat sample indexes, ascending, into beats and
 * returns how many. Beats that do not fit stay queued (a small bounded
 * queue; if it overflows the oldest are dropped) and come out on the next
 * push or flush (the queue holds 32; with cap >= MV_SIG_QRS_BEATS_MAX(n,
 * fs) nothing is ever dropped). Each
 * beat is reported within MV_SIG_QRS_DELAY_MAX_S of its R peak (in samples
 * pushed). The first 2 s are a learning period without beats, and a beat
 * that only search-back finds (later than the bound) is not reported:
 * offline detection (mv_sig_qrs_detect) has both. */
MV_API size_t mv_sig_qrs_push(struct mv_sig_qrs *d, const int32_t *x, size_t n,
                              double gain_adu_per_mv, int32_t baseline_adu,
                              int64_t *beats, size_t cap);

/* End of stream: report any beat still pending (a candidate waiting for its
 * confirmation window). Returns how many were written to beats. */
MV_API size_t mv_sig_qrs_flush(struct mv_sig_qrs *d, int64_t *beats,
                               size_t cap);

/* Forget all state; the next sample pushed has index 0. */
MV_API void mv_sig_qrs_reset(struct mv_sig_qrs *d);

/* Free; accepts NULL. */
MV_API void mv_sig_qrs_free(struct mv_sig_qrs *d);

/* Offline detection over a whole recording. x holds n samples of the lead
 * at x[0], x[stride], x[2*stride], ... (stride >= 1: interleaved
 * multi-signal frames). May look ahead (zero-phase). On MV_OK *out_beats is
 * returned (caller frees with free(); NULL when *out_n is 0) and *out_n set.
 * MV_EINVAL (NULL pointers, stride 0), MV_ERANGE (fs), MV_ETOOBIG (n beyond
 * MV_SIG_QRS_SAMPLES_MAX), MV_ENOMEM. Outputs untouched on error. */
#define MV_SIG_QRS_SAMPLES_MAX ((size_t)1 << 31)
MV_API MV_NODISCARD int mv_sig_qrs_detect(const int32_t *x, size_t n,
                                          size_t stride, double fs_hz,
                                          double gain_adu_per_mv,
                                          int32_t baseline_adu,
                                          int64_t **out_beats, size_t *out_n);

/* Two-lead offline detection (`medverse ecg detect` uses it by default on
 * a record with two or more ECG leads): each lead is detected as by
 * mv_sig_qrs_detect, and the two beat lists are merged by each lead's local
 * signal quality (docs/QRS.md): a beat on both leads is kept, a beat on one
 * lead only is kept when that lead is the better one around it. leads[0] is
 * the primary lead (where both are clean the result is its beats). Lead l's
 * samples are x[leads[l].offset + i * stride], offset < stride. n_leads in
 * [1, MV_SIG_QRS_LEADS_MAX] (1: same as mv_sig_qrs_detect). Outputs and
 * errors as mv_sig_qrs_detect (MV_EINVAL also for a bad lead list). Twice
 * the work of one lead plus O(beats) for the merge. */
#define MV_SIG_QRS_LEADS_MAX 2
struct mv_sig_qrs_lead {
  size_t offset;          /* signal number within the frame */
  double gain_adu_per_mv; /* as for mv_sig_qrs_push */
  int32_t baseline_adu;
};
MV_API MV_NODISCARD int
mv_sig_qrs_detect_leads(const int32_t *x, size_t n, size_t stride, double fs_hz,
                        const struct mv_sig_qrs_lead *leads, size_t n_leads,
                        int64_t **out_beats, size_t *out_n);

/* 1 when a WFDB signal description and units name an ECG lead: units mV,
 * uV or empty, and a description that is a standard or modified lead (I,
 * II, III, aVR, aVL, aVF, V1-V9, MLI/MLII/MLIII and other "ML..." leads,
 * "ECG...", "EKG..."; case-insensitive). NULL counts as empty. */
MV_API int mv_sig_qrs_is_ecg_lead(const char *desc, const char *units);

/* ---- Heart rate ---------------------------------------------------------- */

/* Heart rate in /min for an RR interval in seconds; 0 for rr_s <= 0 or not
 * finite. */
MV_API double mv_sig_hr_from_rr(double rr_s);

/* RR intervals in seconds from n ascending beat sample indexes: writes n-1
 * values (none when n < 2) into rr_s (caller-owned, room for n-1) and
 * returns how many. */
MV_API size_t mv_sig_rr_series(const int64_t *beats, size_t n, double fs_hz,
                               double *rr_s);

/* Plausible RR range; intervals outside are never used for the average. */
#define MV_SIG_HR_RR_MIN_S 0.20 /* 300 /min */
#define MV_SIG_HR_RR_MAX_S 3.00 /* 20 /min */
#define MV_SIG_HR_AVG_N 8 /* averaged HR = median of the last 8 accepted RR */

/* Value type: running heart-rate estimator fed beat by beat. Fields are
 * private by convention (use the functions). */
struct mv_sig_hr {
  double fs_hz;
  int64_t last_beat; /* -1 before the first beat */
  double rr_s[MV_SIG_HR_AVG_N];
  unsigned n_rr;           /* accepted RR in the ring (<= MV_SIG_HR_AVG_N) */
  unsigned head;           /* next ring slot */
  unsigned n_rejected_run; /* consecutive rejections (re-seeds after 4) */
};

/* What one beat tells. */
struct mv_sig_hr_beat {
  double rr_s;     /* RR ending at this beat, s; 0 for the first beat */
  double inst_bpm; /* 60 / rr_s; 0 for the first beat */
  double avg_bpm;  /* median of the last accepted RR; 0 until one is accepted */
  int ectopic;     /* 1 when rr_s was rejected as an outlier (ectopic-looking:
                         < 80 % or > 130 % of the current median, or outside
                         [MV_SIG_HR_RR_MIN_S, MV_SIG_HR_RR_MAX_S]) */
};

/* Initialise for fs_hz (> 0). */
MV_API void mv_sig_hr_init(struct mv_sig_hr *h, double fs_hz);
/* Feed the next beat (sample index, ascending). Returns MV_OK and fills
 * *out; MV_EINVAL for a beat not after the previous one (state unchanged). */
MV_API MV_NODISCARD int mv_sig_hr_add_beat(struct mv_sig_hr *h, int64_t beat,
                                           struct mv_sig_hr_beat *out);

#endif
