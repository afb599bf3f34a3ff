/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the inquiry part of src/clf: the compiled-in bilingual symptom
 * lexicon (inquiry_lexicon.c) that inquiry.c learns and asks about. Cue lists
 * are '|'-separated; English cues are lower case and match at a word start,
 * Chinese cues match as substrings.
 */
#ifndef MV_CLF_INQUIRY_INT_H
#define MV_CLF_INQUIRY_INT_H

#include <stddef.h>

struct mv__inq_concept {
  const char *id;      /* stable ASCII id, saved in tables */
  const char *name_en; /* display name for clinician summaries */
  const char *name_zh;
  const char *q_en; /* patient-facing question */
  const char *q_zh;
  const char *cues_en; /* '|'-separated, lower case */
  const char *cues_zh; /* '|'-separated */
};

extern const struct mv__inq_concept mv__inq_lexicon[];
extern const size_t mv__inq_lexicon_n;

#endif
