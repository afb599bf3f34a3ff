/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Follow-up questions for triage (issue 5, "Inquiry"). A compiled-in bilingual
 * symptom lexicon (concepts with English and Chinese cue phrases and a
 * patient-facing question in both languages), a table P(concept present |
 * label) learned from training texts, and the choice of the next question by
 * expected information gain over the label posterior, with a Bayes update per
 * answer. Pure computation: no I/O; the table is saved as versioned, checked
 * bytes that the classifier embeds as its model section "inquiry".
 */
#ifndef MV_CLF_INQUIRY_H
#define MV_CLF_INQUIRY_H

#include <stdbool.h>

#include "mv_buf.h"
#include "mv_err.h"
#include "mv_limits.h"

/* A learned inquiry table (opaque). Immutable after build/load, so one table
 * may be shared by many threads and sessions. */
struct mv_clf_inquiry;

enum mv_clf_inq_lang {
  MV_CLF_INQ_EN = 0,
  MV_CLF_INQ_ZH = 1,
};

enum mv_clf_inq_answer {
  MV_CLF_INQ_NO = 0,
  MV_CLF_INQ_YES = 1,
  MV_CLF_INQ_UNSURE = 2, /* leaves the posterior unchanged */
};

/* A chosen question. All strings are static (compiled-in lexicon), never
 * NULL, valid for the life of the program. */
struct mv_clf_inq_question {
  uint32_t concept; /* index into this table's concepts */
  const char *id;   /* stable concept id, ASCII, e.g. "fever" */
  const char *text; /* the question in the requested language */
  double gain_bits; /* expected entropy reduction of the posterior, bits */
};

/* Stopping rule. mv_clf_inquiry_stop_default() fills sensible values. */
struct mv_clf_inq_stop {
  double top_p;           /* stop when the top posterior >= top_p (0.97) */
  uint32_t max_questions; /* stop after this many asked (8) */
  double min_gain_bits;   /* stop when no question gains more (0.02 bits) */
};

MV_API void mv_clf_inquiry_stop_default(struct mv_clf_inq_stop *out);

/* --- the compiled-in lexicon (independent of any table) --- */

/* Number of concepts in the lexicon (<= MV_LIMIT_CLF_INQ_CONCEPTS). */
MV_API size_t mv_clf_lexicon_size(void);
/* Concept id / question / English display name of lexicon entry i; NULL if
 * i is out of range. Static strings. */
MV_API const char *mv_clf_lexicon_id(size_t i);
MV_API const char *mv_clf_lexicon_question(size_t i, enum mv_clf_inq_lang lang);
MV_API const char *mv_clf_lexicon_name(size_t i, enum mv_clf_inq_lang lang);

/* Mark in present[0..mv_clf_lexicon_size()) (written, 0/1) the concepts the
 * text (len bytes, borrowed, UTF-8, capped at MV_LIMIT_CLF_INQ_TEXT bytes)
 * mentions in current context as marked by mv_clf_context_mark: negated
 * ("no fever", "没有发烧"), family, past-history and hypothetical mentions do
 * not count. Returns the number of concepts marked. Never fails on odd input
 * (invalid UTF-8 acts as a separator); when memory runs out it marks
 * nothing and returns 0. */
MV_API size_t mv_clf_lexicon_detect(const char *text, size_t len,
                                    uint8_t *present);
/* The same for negated mentions ("no fever", "没有发烧"): negated[i] = 1
 * when concept i is mentioned as absent. A session does not ask about them. */
MV_API size_t mv_clf_lexicon_detect_negated(const char *text, size_t len,
                                            uint8_t *negated);

/* --- learning, persistence --- */

/* Learn P(concept present | label) from n training texts (borrowed,
 * NUL-terminated UTF-8) with labels[i] < n_labels, Laplace-smoothed:
 * (count(c, l) + 1) / (count(l) + 2). n_labels in 1..MV_LIMIT_CLF_INQ_LABELS,
 * n in 1..MV_LIMIT_CLF_INQ_TRAIN. *out returned, caller frees with
 * mv_clf_inquiry_free; untouched on error (MV_EINVAL, MV_ETOOBIG, MV_ENOMEM). */
MV_API MV_NODISCARD int mv_clf_inquiry_build(const char *const *texts,
                                             const uint32_t *labels, size_t n,
                                             size_t n_labels,
                                             struct mv_clf_inquiry **out,
                                             struct mv_diag *diag);
/* Accepts NULL. */
MV_API void mv_clf_inquiry_free(struct mv_clf_inquiry *inq);

/* Append the table as versioned bytes ("MVINQ", version, counts, concept ids,
 * probabilities, CRC-32) to out (its max bounds the size). MV_ETOOBIG,
 * MV_ENOMEM; out may hold a partial append on error. */
MV_API MV_NODISCARD int mv_clf_inquiry_save(const struct mv_clf_inquiry *inq,
                                            struct mv_buf *out);
/* Parse bytes from mv_clf_inquiry_save (len bytes borrowed, copied).
 * Strict: bad magic, unknown version, bad checksum, out-of-range counts or
 * probabilities, trailing bytes → MV_ECORRUPT (diag says which). Concept ids
 * unknown to this build's lexicon are kept but never asked. *out returned,
 * caller frees with mv_clf_inquiry_free; untouched on error. */
MV_API MV_NODISCARD int mv_clf_inquiry_load(const void *bytes, size_t len,
                                            struct mv_clf_inquiry **out,
                                            struct mv_diag *diag);

MV_API size_t mv_clf_inquiry_n_labels(const struct mv_clf_inquiry *inq);
MV_API size_t mv_clf_inquiry_n_concepts(const struct mv_clf_inquiry *inq);
/* Concept id of table concept c (static or table-owned string, valid while
 * inq lives); NULL if out of range. */
MV_API const char *mv_clf_inquiry_concept_id(const struct mv_clf_inquiry *inq,
                                             uint32_t c);
/* Find a concept by id; MV_ENOTFOUND if absent. */
MV_API MV_NODISCARD int
mv_clf_inquiry_concept_find(const struct mv_clf_inquiry *inq, const char *id,
                            uint32_t *out_c);
/* P(concept c present | label l), or -1 if out of range. */
MV_API double mv_clf_inquiry_p(const struct mv_clf_inquiry *inq, uint32_t c,
                               uint32_t l);
/* Map lexicon detections (present[] from mv_clf_lexicon_detect) onto this
 * table's concepts: table_mark[c] = 1 for each detected concept (others are
 * left as they are). table_mark has mv_clf_inquiry_n_concepts entries. */
MV_API void mv_clf_inquiry_mark_detected(const struct mv_clf_inquiry *inq,
                                         const uint8_t *present,
                                         uint8_t *table_mark);

/* --- asking --- */

/* Choose the unasked concept (asked[c] == 0; asked may be NULL) with the
 * highest expected information gain H(P) - sum_a P(a) H(P | a) for the
 * posterior (n_labels entries, must sum to ~1). Concepts without a question
 * in this build are skipped. MV_ENOTFOUND when no concept gains more than
 * min_gain_bits; MV_EINVAL on a bad posterior. out untouched on error. */
MV_API MV_NODISCARD int
mv_clf_inquiry_next(const struct mv_clf_inquiry *inq, const double *posterior,
                    size_t n_labels, const uint8_t *asked,
                    enum mv_clf_inq_lang lang, double min_gain_bits,
                    struct mv_clf_inq_question *out);
/* Bayes update of posterior (in/out, n_labels entries) with the answer about
 * concept c: yes multiplies by P(c|l), no by 1 - P(c|l), then renormalises;
 * unsure leaves it unchanged. MV_EINVAL on bad arguments (posterior
 * untouched). */
MV_API MV_NODISCARD int mv_clf_inquiry_update(const struct mv_clf_inquiry *inq,
                                              double *posterior,
                                              size_t n_labels, uint32_t c,
                                              enum mv_clf_inq_answer answer);
/* True when the session should stop asking: top posterior >= rule->top_p or
 * n_asked >= rule->max_questions. (The "no useful question" case is
 * mv_clf_inquiry_next returning MV_ENOTFOUND.) */
MV_API bool mv_clf_inquiry_should_stop(const double *posterior, size_t n_labels,
                                       uint32_t n_asked,
                                       const struct mv_clf_inq_stop *rule);

/* Parse "yes"/"no"/"unsure" (also "y", "n", "unknown", "是", "否", "不确定");
 * MV_EINVAL otherwise. */
MV_API MV_NODISCARD int mv_clf_inq_answer_parse(const char *s,
                                                enum mv_clf_inq_answer *out);

#endif
