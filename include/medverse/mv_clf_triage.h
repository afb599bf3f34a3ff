/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The combined triage assessment: red flags first (mv_clf_redflag.h), then
 * the classifier's differential (mv_clf.h) when a model is given, an
 * urgency level (emergency / urgent / soon / self-care) from the red flag
 * and a per-label default table, patient-facing advice in the patient's
 * language (English or Chinese) from templates per condition and urgency, a
 * clinician summary, and the text spans that drove the result. Every advice
 * text states that it is not a diagnosis. Pure computation, thread-safe.
 */
#ifndef MV_CLF_TRIAGE_H
#define MV_CLF_TRIAGE_H

#include "mv_clf.h"
#include "mv_clf_redflag.h"

/* Urgency, least to most urgent. */
enum mv_clf_urgency {
  MV_CLF_URG_SELF_CARE = 0, /* manage at home, pharmacist */
  MV_CLF_URG_SOON = 1,      /* see a doctor within days */
  MV_CLF_URG_URGENT = 2,    /* be seen today */
  MV_CLF_URG_EMERGENCY = 3, /* call emergency services now */
};

/* Static id: "self-care", "soon", "urgent", "emergency"; NULL otherwise. */
MV_API const char *mv_clf_urgency_id(int urgency);

/* The default urgency of a classifier label (the labels of the three
 * corpora: symptom2disease's 24 diseases, toyhom_im's 11 departments,
 * dxy's 5 diseases; matched case-insensitively), or -1 when unknown. */
MV_API int mv_clf_label_urgency(const char *label);

#define MV_CLF_TRIAGE_DRIVERS 8u
#define MV_CLF_TRIAGE_TEXT 2048u /* bytes of advice / summary, NUL included */

struct mv_clf_triage_dx {
  const char *label; /* borrowed from the model (valid for its life) */
  double p;          /* calibrated probability */
  int urgency;       /* the label's default urgency (SOON when unknown) */
};

struct mv_clf_triage_span {
  uint32_t start; /* byte offset in the assessed text */
  uint32_t len;
};

struct mv_clf_triage_result {
  int lang;    /* MV_CLF_LANG_EN or MV_CLF_LANG_ZH (resolved from AUTO) */
  int urgency; /* enum mv_clf_urgency */
  size_t n_dx; /* top-k differential, most probable first (0 without model) */
  struct mv_clf_triage_dx dx[MV_LIMIT_CLF_TRIAGE_TOPK];
  struct mv_clf_rf_result rf; /* red flags; rf.red_flag => EMERGENCY */
  size_t n_drivers;           /* spans that drove the result: red-flag cues
                                 first, then the model's top features */
  struct mv_clf_triage_span drivers[MV_CLF_TRIAGE_DRIVERS];
  char advice[MV_CLF_TRIAGE_TEXT];  /* patient-facing, in lang, UTF-8 */
  char summary[MV_CLF_TRIAGE_TEXT]; /* clinician summary, English */
};

/*
 * Assess text (len bytes, borrowed; only the first MV_LIMIT_CLF_CX_TEXT
 * bytes are read; invalid UTF-8 acts as a separator). model may be NULL
 * (red flags and urgency only, n_dx 0). lang is enum mv_clf_lang (AUTO
 * detects). *out is overwritten. An empty text gives urgency SOON and advice
 * asking for a description. Errors: MV_EINVAL (NULL out, NULL text with
 * len > 0, bad lang), MV_ENOMEM; errors of mv_clf_predict.
 */
MV_API MV_NODISCARD int mv_clf_triage_assess(const struct mv_clf_model *model,
                                             const char *text, size_t len,
                                             int lang,
                                             struct mv_clf_triage_result *out);

/*
 * The same from a posterior the caller already has (e.g. after follow-up
 * questions): probs[0..n) over the model's labels (n == mv_clf_n_labels;
 * model and probs may be NULL with n 0). The red flags and drivers still
 * come from text. Errors as above.
 */
MV_API MV_NODISCARD int
mv_clf_triage_from_probs(const struct mv_clf_model *model, const double *probs,
                         size_t n, const char *text, size_t len, int lang,
                         struct mv_clf_triage_result *out);

#endif
