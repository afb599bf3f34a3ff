/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface between triage.c (assessment) and advice.c (urgency
 * table, advice templates, clinician summary).
 */
#ifndef MV_CLF_TRIAGE_INT_H
#define MV_CLF_TRIAGE_INT_H

#include "mv_clf_triage.h"

/* Fill r->advice from r's urgency, red flags, differential and language;
 * empty says the text had no content. */
void mv__triage_advice(struct mv_clf_triage_result *r, bool empty);
/* Fill r->summary (English) quoting driver spans of text. */
void mv__triage_summary(struct mv_clf_triage_result *r, const char *text,
                        size_t len);

#endif
