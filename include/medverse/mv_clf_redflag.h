/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Red flags: a transparent table of English and Chinese cue phrases for the
 * emergencies in which a patient must call emergency services, each row
 * citing its source (NHS "When to call 999", AHA warning signs, Manchester
 * Triage System discriminators, 中国急诊预检分诊专家共识). A cue counts only
 * in current context (mv_clf_context.h): negated, historical, family and
 * hypothetical mentions do not trigger. Recall comes first: when in doubt
 * the table errs towards a flag. Pure computation, thread-safe.
 */
#ifndef MV_CLF_REDFLAG_H
#define MV_CLF_REDFLAG_H

#include "mv_err.h"
#include "mv_limits.h"

/* Categories, exactly those of issue 5. NONE is 0. */
enum mv_clf_rf_cat {
  MV_CLF_RF_NONE = 0,
  MV_CLF_RF_HEART_ATTACK,
  MV_CLF_RF_STROKE,
  MV_CLF_RF_BREATHING,   /* severe breathing difficulty */
  MV_CLF_RF_BLEEDING,    /* major bleeding */
  MV_CLF_RF_UNCONSCIOUS, /* loss of consciousness */
  MV_CLF_RF_SEIZURE,
  MV_CLF_RF_ANAPHYLAXIS,
  MV_CLF_RF_SEPSIS,
  MV_CLF_RF_ABDOMEN,     /* acute abdomen */
  MV_CLF_RF_THUNDERCLAP, /* thunderclap headache */
  MV_CLF_RF_TRAUMA,      /* major trauma */
  MV_CLF_RF_POISONING,   /* poisoning or overdose */
  MV_CLF_RF_SUICIDE,     /* suicidal thoughts or self-harm */
  MV_CLF_RF_CHILD,       /* a seriously ill child */
  MV_CLF_RF_PREGNANCY,   /* pregnancy emergency */
  MV_CLF_RF_N_CAT
};

/* Static snake_case id used in JSON ("heart_attack", "stroke",
 * "breathing_difficulty", "major_bleeding", "loss_of_consciousness",
 * "seizure", "anaphylaxis", "sepsis", "acute_abdomen",
 * "thunderclap_headache", "major_trauma", "poisoning_overdose",
 * "suicide_self_harm", "seriously_ill_child", "pregnancy_emergency"); "none"
 * for NONE, NULL for out-of-range values. */
MV_API const char *mv_clf_rf_id(int cat);
/* Category from its id, MV_CLF_RF_NONE for "none", -1 when unknown. */
MV_API int mv_clf_rf_from_id(const char *id);
/* Static display title in English (zh false) or Chinese (zh true). */
MV_API const char *mv_clf_rf_title(int cat, bool zh);

/* One matched cue. start/len index the caller's text. */
struct mv_clf_rf_hit {
  int cat;            /* enum mv_clf_rf_cat */
  uint32_t start;     /* byte offset of the cue in the text */
  uint32_t len;       /* bytes */
  unsigned row;       /* index of the table row that matched */
  const char *source; /* static citation of that row */
};

struct mv_clf_rf_result {
  bool red_flag; /* at least one cue matched in current context */
  int category;  /* the primary category (see below), NONE when none */
  size_t n_hits; /* matches stored in hits (at most one per category) */
  struct mv_clf_rf_hit hits[MV_LIMIT_CLF_RF_HITS];
};

/*
 * Check text (len bytes, borrowed, need not be NUL-terminated; only the first
 * MV_LIMIT_CLF_CX_TEXT bytes are read; invalid UTF-8 acts as a separator).
 * *out is overwritten. The primary category is the first that matched in
 * this order, most specific first: suicide/self-harm, pregnancy, seriously
 * ill child, anaphylaxis, sepsis, poisoning, trauma, heart attack, stroke,
 * thunderclap headache, seizure, bleeding, acute abdomen, breathing,
 * loss of consciousness (a child's seizure reports "seriously_ill_child";
 * every matched category is in hits). Errors: MV_EINVAL (NULL out, or NULL text with len > 0),
 * MV_ENOMEM.
 */
MV_API MV_NODISCARD int mv_clf_redflag_check(const char *text, size_t len,
                                             struct mv_clf_rf_result *out);

/* Number of rows in the rule table, and row i's category and source (for
 * documentation and tests); NULL/-1 when out of range. */
MV_API size_t mv_clf_rf_rows(void);
MV_API int mv_clf_rf_row_cat(size_t i);
MV_API const char *mv_clf_rf_row_source(size_t i);

#endif
