/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The texts of a triage result: urgency and patient advice (from the
 * classifier's safety layer, mv_clf_triage_from_probs, for the posterior
 * after the answers and the red flags of the text), the
 * clinician summary (differential, red flag, symptoms reported and the
 * answers given) and the "not a diagnosis" statement in the patient's
 * language.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_clf_redflag.h"
#include "mv_clf_triage.h"
#include "triage_int.h"

static const char *const DISCLAIMER_EN =
    "This is an automated triage, not a diagnosis. If you are worried or your "
    "symptoms get worse, contact a doctor; in an emergency call your local "
    "emergency number.";
static const char *const DISCLAIMER_ZH =
    "这是自动分诊结果，不是诊断。如有担心或症状加重，请及时就医；紧急情况请拨打"
    "急救电话（中国大陆120）。";

/* Urgency and advice for the current posterior (after the answers), from
 * the classifier's safety layer; the red flags come from the text. */
static int urgency_advice(const struct api_triage *E,
                          const struct tri_session *t, struct tri_result *out) {
  struct mv_clf_triage_result *r = malloc(sizeof(*r));
  size_t nl = E->model ? mv_clf_n_labels(E->model) : 0;
  int rc;
  if (!r)
    return MV_ENOMEM;
  rc = mv_clf_triage_from_probs(
      t->post ? E->model : NULL, t->post, t->post ? nl : 0, t->text,
      t->text_len, t->lang == MV_CLF_INQ_ZH ? MV_CLF_LANG_ZH : MV_CLF_LANG_EN,
      r);
  if (rc == MV_OK) {
    out->urgency = mv_clf_urgency_id(r->urgency);
    out->advice = strdup(r->advice);
    out->summary = strdup(r->summary);
    out->n_evidence = 0;
    for (size_t i = 0; i < r->n_drivers && i < TRI_EVIDENCE; i++)
      out->evidence[out->n_evidence++] =
          (struct tri_span){r->drivers[i].start, r->drivers[i].len};
    if (!out->urgency)
      rc = MV_EINTERNAL;
    else if (!out->advice || !out->summary)
      rc = MV_ENOMEM;
  }
  free(r);
  return rc;
}

/* The safety layer's summary (urgency, red flag with sources, differential,
 * text drivers) followed by the symptom concepts reported and the answers. */
static int summary(const struct api_triage *E, const struct tri_session *t,
                   const char *base, char **out) {
  struct mv_buf b;
  int rc = MV_OK;
  mv_buf_init(&b, 8192);
  rc |= mv_buf_appends(&b, base);
  size_t nc = E->inq ? mv_clf_inquiry_n_concepts(E->inq) : 0;
  bool first = true;
  for (uint32_t c = 0; c < nc; c++)
    if (t->from_text[c]) {
      rc |= mv_buf_appendf(&b, "%s%s", first ? " Reported: " : ", ",
                           mv_clf_inquiry_concept_id(E->inq, c));
      first = false;
    }
  if (!first)
    rc |= mv_buf_appends(&b, ".");
  for (uint32_t i = 0; i < t->n_answers; i++) {
    uint8_t a = t->answers[i].answer;
    rc |=
        mv_buf_appendf(&b, "%s%s %s", i ? ", " : " Answers: ",
                       mv_clf_inquiry_concept_id(E->inq, t->answers[i].concept),
                       a == MV_CLF_INQ_YES  ? "yes"
                       : a == MV_CLF_INQ_NO ? "no"
                                            : "unsure");
  }
  if (t->n_answers)
    rc |= mv_buf_appends(&b, ".");
  if (rc != MV_OK) {
    mv_buf_release(&b);
    return MV_ENOMEM;
  }
  *out = mv_buf_detach(&b, NULL);
  return *out ? MV_OK : MV_ENOMEM;
}

int tri_result(const struct api_triage *E, const struct tri_session *t,
               struct tri_result *out) {
  char *full = NULL;
  memset(out, 0, sizeof(*out));
  out->disclaimer = t->lang == MV_CLF_INQ_ZH ? DISCLAIMER_ZH : DISCLAIMER_EN;
  int rc = urgency_advice(E, t, out);
  if (rc == MV_OK)
    rc = summary(E, t, out->summary, &full);
  if (rc == MV_OK) {
    free(out->summary);
    out->summary = full;
  }
  if (rc != MV_OK)
    tri_result_release(out);
  return rc;
}

void tri_result_release(struct tri_result *r) {
  free(r->advice);
  free(r->summary);
  r->advice = r->summary = NULL;
}
