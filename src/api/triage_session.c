/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Triage sessions in memory: a bounded table of conversations, each holding
 * the patient's text, the label posterior and the follow-up questions asked.
 * The first posterior is the classifier's calibrated output for the text;
 * each answer then multiplies it by P(answer | label) from the model's
 * inquiry table and renormalises (Bayes' rule, treating the answer as
 * independent of the text given the label, as naive Bayes does). Questions
 * are chosen by expected information gain (mv_clf_inquiry_next). Concepts
 * the text already mentions in current context are never asked again, so
 * they are not counted twice; nor are those the text denies. A red flag
 * ends the session at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_clf_redflag.h"
#include "mv_json.h"
#include "mv_rand.h"
#include "triage_int.h"

void tri_session_free(struct tri_session *t) {
  if (!t)
    return;
  if (t->text) {
    /* The patient's words: wipe before giving the memory back. */
    memset(t->text, 0, t->text_len);
    free(t->text);
  }
  free(t->post);
  free(t->known);
  free(t->from_text);
  free(t);
}

void tri_sweep(struct api_triage *E, int64_t now_us) {
  size_t w = 0;
  int64_t idle_us = (int64_t)E->idle_s * 1000000;
  for (size_t i = 0; i < E->n; i++) {
    struct tri_session *t = E->s[i];
    if (!t->storing && now_us - t->touched_us > idle_us)
      tri_session_free(t);
    else
      E->s[w++] = t;
  }
  E->n = w;
}

struct tri_session *tri_find(struct api_triage *E, const char *id) {
  if (!id || strlen(id) != TRI_ID_LEN)
    return NULL;
  for (size_t i = 0; i < E->n; i++)
    if (strcmp(E->s[i]->id, id) == 0)
      return E->s[i];
  return NULL;
}

static size_t n_labels(const struct api_triage *E) {
  return E->model ? mv_clf_n_labels(E->model) : 0;
}

static size_t n_concepts(const struct api_triage *E) {
  return E->inq ? mv_clf_inquiry_n_concepts(E->inq) : 0;
}

static void stop_rule(struct mv_clf_inq_stop *r) {
  mv_clf_inquiry_stop_default(r);
  if (r->max_questions > MV_LIMIT_TRIAGE_QUESTIONS)
    r->max_questions = MV_LIMIT_TRIAGE_QUESTIONS;
}

/* Pick the next question or complete the session. */
static void advance(struct api_triage *E, struct tri_session *t) {
  struct mv_clf_inq_stop rule;
  struct mv_clf_inq_question q;
  stop_rule(&rule);
  t->pending = -1;
  t->pending_gain = 0.0;
  if (t->red_flag || !E->inq || !t->post ||
      mv_clf_inquiry_should_stop(t->post, n_labels(E), t->n_answers, &rule) ||
      mv_clf_inquiry_next(E->inq, t->post, n_labels(E), t->known,
                          (enum mv_clf_inq_lang)t->lang, rule.min_gain_bits,
                          &q) != MV_OK) {
    t->status = TRI_COMPLETE;
    return;
  }
  t->pending = q.concept;
  t->pending_gain = q.gain_bits;
  t->status = TRI_ASKING;
}

static int new_id(char out[TRI_ID_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  uint8_t b[TRI_ID_LEN / 2];
  int rc = mv_random_bytes(b, sizeof(b));
  if (rc != MV_OK)
    return rc;
  for (size_t i = 0; i < sizeof(b); i++) {
    out[2 * i] = hex[b[i] >> 4];
    out[2 * i + 1] = hex[b[i] & 15];
  }
  out[TRI_ID_LEN] = '\0';
  return MV_OK;
}

int tri_start(struct api_triage *E, const char *owner, const char *patient_id,
              const char *agent_ref, const char *text, size_t len, int lang,
              int64_t now_us, struct tri_session **out) {
  struct tri_session *t = NULL;
  uint8_t *present = NULL;
  struct mv_clf_rf_result rf;
  size_t mine = 0;
  int rc;
  tri_sweep(E, now_us);
  for (size_t i = 0; i < E->n; i++)
    mine += strcmp(E->s[i]->owner, owner) == 0;
  if (mine >= TRI_PER_PRINCIPAL)
    return MV_ERATE;
  if (E->n >= MV_LIMIT_TRIAGE_SESSIONS)
    return MV_EBUSY;
  if (!(t = calloc(1, sizeof(*t))))
    return MV_ENOMEM;
  rc = MV_ENOMEM;
  if (!(t->text = malloc(len + 1)))
    goto out;
  memcpy(t->text, text, len);
  t->text[len] = '\0';
  t->text_len = len;
  if ((rc = new_id(t->id)) != MV_OK)
    goto out;
  snprintf(t->owner, sizeof(t->owner), "%s", owner);
  snprintf(t->patient_id, sizeof(t->patient_id), "%s",
           patient_id ? patient_id : "");
  snprintf(t->agent_ref, sizeof(t->agent_ref), "%s",
           agent_ref ? agent_ref : "");
  t->lang = lang;
  t->created_us = t->touched_us = now_us;
  t->pending = -1;
  if ((rc = mv_clf_redflag_check(text, len, &rf)) != MV_OK)
    goto out;
  t->red_flag = rf.red_flag;
  t->rf_cat = rf.category;
  rc = MV_ENOMEM;
  if (E->model) {
    size_t nl = n_labels(E);
    if (!(t->post = calloc(nl, sizeof(*t->post))))
      goto out;
    rc = mv_clf_predict(E->model, text, len,
                        lang == MV_CLF_INQ_ZH ? MV_CLF_LANG_ZH : MV_CLF_LANG_EN,
                        t->post, nl);
    if (rc != MV_OK)
      goto out;
  }
  if (E->inq) {
    size_t nc = n_concepts(E);
    rc = MV_ENOMEM;
    if (!(t->known = calloc(nc, 1)) || !(t->from_text = calloc(nc, 1)) ||
        !(present = calloc(mv_clf_lexicon_size(), 1)))
      goto out;
    mv_clf_lexicon_detect(text, len, present);
    mv_clf_inquiry_mark_detected(E->inq, present, t->from_text);
    memcpy(t->known, t->from_text, nc);
    /* Symptoms the patient denied are not asked about either; the
     * classifier has already seen the denial. */
    mv_clf_lexicon_detect_negated(text, len, present);
    mv_clf_inquiry_mark_detected(E->inq, present, t->known);
  }
  advance(E, t);
  E->s[E->n++] = t;
  *out = t;
  t = NULL;
  rc = MV_OK;
out:
  free(present);
  tri_session_free(t);
  return rc;
}

int tri_answer(struct api_triage *E, struct tri_session *t, const char *concept,
               enum mv_clf_inq_answer a, struct mv_diag *diag) {
  uint32_t c;
  if (t->status != TRI_ASKING)
    return mv_diag_set(diag, MV_ECONFLICT, "the session has ended");
  if (!E->inq || mv_clf_inquiry_concept_find(E->inq, concept, &c) != MV_OK)
    return mv_diag_set(diag, MV_ENOTFOUND, "unknown concept");
  if (t->known[c])
    return mv_diag_set(diag, MV_EEXISTS, "that concept is already answered");
  if (t->n_answers >= MV_LIMIT_TRIAGE_QUESTIONS)
    return mv_diag_set(diag, MV_ECONFLICT, "too many answers");
  int rc = mv_clf_inquiry_update(E->inq, t->post, n_labels(E), c, a);
  if (rc != MV_OK)
    return mv_diag_set(diag, rc, "cannot apply the answer");
  t->known[c] = 1;
  t->answers[t->n_answers].concept = c;
  t->answers[t->n_answers].answer = (uint8_t)a;
  t->n_answers++;
  t->version++;
  advance(E, t);
  return MV_OK;
}

void tri_finish(struct api_triage *E, struct tri_session *t) {
  (void)E;
  if (t->status == TRI_COMPLETE)
    return;
  t->status = TRI_COMPLETE;
  t->pending = -1;
  t->version++;
}

size_t tri_topk(const struct api_triage *E, const struct tri_session *t,
                size_t *idx, size_t k) {
  size_t nl = n_labels(E), n = 0;
  if (!t->post)
    return 0;
  /* Partial selection: k is tiny. Ties keep the lower label index. */
  for (size_t r = 0; r < k && r < nl; r++) {
    size_t best = nl;
    for (size_t l = 0; l < nl; l++) {
      bool used = false;
      for (size_t j = 0; j < n; j++)
        used |= idx[j] == l;
      if (!used && (best == nl || t->post[l] > t->post[best]))
        best = l;
    }
    idx[n++] = best;
  }
  return n;
}

static const char *answer_name(uint8_t a) {
  return a == MV_CLF_INQ_YES ? "yes" : a == MV_CLF_INQ_NO ? "no" : "unsure";
}

static struct json_object *concept_json(const struct api_triage *E,
                                        const struct tri_session *t,
                                        uint32_t c) {
  const char *id = mv_clf_inquiry_concept_id(E->inq, c);
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "concept", json_object_new_string(id));
  for (size_t k = 0; k < mv_clf_lexicon_size(); k++)
    if (strcmp(mv_clf_lexicon_id(k), id) == 0) {
      json_object_object_add(o, "name",
                             json_object_new_string(mv_clf_lexicon_name(
                                 k, (enum mv_clf_inq_lang)t->lang)));
      json_object_object_add(o, "question",
                             json_object_new_string(mv_clf_lexicon_question(
                                 k, (enum mv_clf_inq_lang)t->lang)));
    }
  return o;
}

static void add_time(struct json_object *o, const char *key, int64_t us) {
  char b[40];
  if (mv_time_format_rfc3339(us, b, sizeof(b)))
    json_object_object_add(o, key, json_object_new_string(b));
}

struct json_object *tri_view(const struct api_triage *E,
                             const struct tri_session *t) {
  struct json_object *o = json_object_new_object(), *arr;
  struct tri_result res;
  size_t idx[TRI_TOPK], k;
  json_object_object_add(o, "id", json_object_new_string(t->id));
  json_object_object_add(
      o, "status",
      json_object_new_string(t->status == TRI_ASKING ? "asking" : "complete"));
  json_object_object_add(
      o, "lang",
      json_object_new_string(t->lang == MV_CLF_INQ_ZH ? "zh" : "en"));
  if (t->patient_id[0]) {
    char ref[TRI_REF_MAX];
    snprintf(ref, sizeof(ref), "Patient/%s", t->patient_id);
    json_object_object_add(o, "patient", json_object_new_string(ref));
  }
  add_time(o, "createdAt", t->created_us);
  add_time(o, "expiresAt", t->touched_us + (int64_t)E->idle_s * 1000000);
  json_object_object_add(o, "version",
                         json_object_new_int64((int64_t)t->version));
  json_object_object_add(o, "modelLoaded",
                         json_object_new_boolean(E->model != NULL));
  json_object_object_add(o, "redFlag", json_object_new_boolean(t->red_flag));
  json_object_object_add(
      o, "redFlagCategory",
      t->red_flag ? json_object_new_string(mv_clf_rf_id(t->rf_cat)) : NULL);
  arr = json_object_new_array();
  k = tri_topk(E, t, idx, TRI_TOPK);
  for (size_t i = 0; i < k; i++) {
    struct json_object *d = json_object_new_object();
    json_object_object_add(
        d, "label", json_object_new_string(mv_clf_label(E->model, idx[i])));
    json_object_object_add(d, "p", json_object_new_double(t->post[idx[i]]));
    json_object_array_add(arr, d);
  }
  json_object_object_add(o, "differential", arr);
  if (t->pending >= 0) {
    struct json_object *q = concept_json(E, t, (uint32_t)t->pending);
    json_object_object_add(q, "gainBits",
                           json_object_new_double(t->pending_gain));
    json_object_object_add(o, "question", q);
  } else {
    json_object_object_add(o, "question", NULL);
  }
  arr = json_object_new_array();
  for (uint32_t i = 0; i < t->n_answers; i++) {
    struct json_object *a = concept_json(E, t, t->answers[i].concept);
    json_object_object_add(
        a, "answer", json_object_new_string(answer_name(t->answers[i].answer)));
    json_object_array_add(arr, a);
  }
  json_object_object_add(o, "answers", arr);
  /* Drivers: symptoms in the text (current context) and answered yes. */
  arr = json_object_new_array();
  for (uint32_t c = 0; c < n_concepts(E); c++) {
    bool yes = false;
    for (uint32_t i = 0; i < t->n_answers; i++)
    yes |= t->answers[i].concept == c && t->answers[i].answer == MV_CLF_INQ_YES;
    if (!t->from_text[c] && !yes)
      continue;
    struct json_object *d = concept_json(E, t, c);
    json_object_object_del(d, "question");
    json_object_object_add(
        d, "source",
        json_object_new_string(t->from_text[c] ? "text" : "answer"));
    json_object_array_add(arr, d);
  }
  json_object_object_add(o, "drivers", arr);
  if (tri_result(E, t, &res) == MV_OK) {
    json_object_object_add(o, "urgency", json_object_new_string(res.urgency));
    json_object_object_add(o, "advice", json_object_new_string(res.advice));
    json_object_object_add(o, "clinicianSummary",
                           json_object_new_string(res.summary));
    json_object_object_add(o, "disclaimer",
                           json_object_new_string(res.disclaimer));
    arr = json_object_new_array();
    for (size_t i = 0; i < res.n_evidence; i++)
      if (res.evidence[i].start < t->text_len &&
          res.evidence[i].len <= t->text_len - res.evidence[i].start)
        json_object_array_add(
            arr, json_object_new_string_len(t->text + res.evidence[i].start,
                                            (int)res.evidence[i].len));
    json_object_object_add(o, "evidence", arr);
    tri_result_release(&res);
  }
  if (t->stored) {
    char ref[TRI_REF_MAX];
    snprintf(ref, sizeof(ref), "DiagnosticReport/%s", t->report_id);
    json_object_object_add(o, "report", json_object_new_string(ref));
    arr = json_object_new_array();
    for (size_t i = 0; i < t->n_conditions; i++) {
      snprintf(ref, sizeof(ref), "Condition/%s", t->condition_ids[i]);
      json_object_array_add(arr, json_object_new_string(ref));
    }
    json_object_object_add(o, "conditions", arr);
  }
  return o;
}
