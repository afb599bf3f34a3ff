/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the triage session table (src/api/triage_session.c) without a
 * server: a tiny model trained in the test, sessions started, answered and
 * finished, red flags ending a session at once, concepts mentioned or denied
 * in the text never asked, the per-account and global caps, idle expiry, and
 * the JSON view (differential, question, drivers, disclaimer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "triage_int.h"

static const char *const TEXTS[] = {
    "fever and cough",         "high fever and chills",
    "cough and fever",         "fever, cough, chills",
    "diarrhea and vomiting",   "vomiting and nausea",
    "diarrhea since monday",   "nausea and diarrhea",
    "sneezing and runny nose", "runny nose, sneezing",
    "sneezing and itchy eyes", "itchy eyes and sneezing",
    "tired and unwell",        "tired and unwell",
    "tired and unwell",
};
static const uint32_t LABELS[] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 1, 2};
static const char *const NAMES[] = {"flu", "gastro", "allergy"};
#define N_TEXTS (sizeof(TEXTS) / sizeof(TEXTS[0]))
#define T0 1700000000000000LL

static int setup(void **state) {
  struct api_triage *E = calloc(1, sizeof(*E));
  struct mv_clf_train_opts o = {.l2 = 0.1, .temperature = 1.0};
  assert_non_null(E);
  E->s = calloc(MV_LIMIT_TRIAGE_SESSIONS, sizeof(*E->s));
  assert_non_null(E->s);
  E->idle_s = 60;
  assert_int_equal(
      mv_clf_train(TEXTS, LABELS, N_TEXTS, NAMES, 3, &o, &E->model, NULL),
      MV_OK);
  assert_int_equal(
      mv_clf_inquiry_build(TEXTS, LABELS, N_TEXTS, 3, &E->inq, NULL), MV_OK);
  *state = E;
  return 0;
}

static int teardown(void **state) {
  struct api_triage *E = *state;
  for (size_t i = 0; i < E->n; i++)
    tri_session_free(E->s[i]);
  free(E->s);
  mv_clf_model_free(E->model);
  mv_clf_inquiry_free(E->inq);
  free(E);
  return 0;
}

static struct tri_session *start(struct api_triage *E, const char *owner,
                                 const char *text, int64_t now) {
  struct tri_session *t = NULL;
  assert_int_equal(tri_start(E, owner, "pat-a", "Patient/pat-a", text,
                             strlen(text), MV_CLF_INQ_EN, now, &t),
                   MV_OK);
  return t;
}

static double sum(const double *p, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += p[i];
  return s;
}

static void vague_text_asks_and_answers_move_posterior(void **state) {
  struct api_triage *E = *state;
  struct tri_session *t = start(E, "u1", "tired and unwell", T0);
  assert_int_equal(t->status, TRI_ASKING);
  assert_true(t->pending >= 0);
  double before[3];
  memcpy(before, t->post, sizeof(before));
  const char *c = mv_clf_inquiry_concept_id(E->inq, (uint32_t)t->pending);
  assert_int_equal(tri_answer(E, t, c, MV_CLF_INQ_YES, NULL), MV_OK);
  assert_int_equal(t->n_answers, 1);
  assert_true(memcmp(before, t->post, sizeof(before)) != 0);
  assert_true(sum(t->post, 3) > 0.999999 && sum(t->post, 3) < 1.000001);
  /* The same concept again: already known. */
  assert_int_equal(tri_answer(E, t, c, MV_CLF_INQ_NO, NULL), MV_EEXISTS);
  assert_int_equal(tri_answer(E, t, "no_such", MV_CLF_INQ_NO, NULL),
                   MV_ENOTFOUND);
  tri_finish(E, t);
  assert_int_equal(t->status, TRI_COMPLETE);
  assert_true(t->pending < 0);
  assert_int_equal(tri_answer(E, t, "fever", MV_CLF_INQ_NO, NULL),
                   MV_ECONFLICT);
}

static void red_flag_completes_at_once(void **state) {
  struct api_triage *E = *state;
  struct tri_session *t =
      start(E, "u2", "crushing chest pain spreading to my left arm", T0);
  assert_true(t->red_flag);
  assert_int_equal(t->status, TRI_COMPLETE);
  assert_true(t->pending < 0);
  struct tri_result r;
  assert_int_equal(tri_result(E, t, &r), MV_OK);
  assert_string_equal(r.urgency, "emergency");
  assert_non_null(strstr(r.disclaimer, "not a diagnosis"));
  tri_result_release(&r);
}

static void mentioned_and_denied_concepts_are_not_asked(void **state) {
  struct api_triage *E = *state;
  struct tri_session *t = start(E, "u3", "tired and unwell, no diarrhea", T0);
  uint32_t diarrhoea, fatigue;
  assert_int_equal(mv_clf_inquiry_concept_find(E->inq, "diarrhoea", &diarrhoea),
                   MV_OK);
  assert_int_equal(mv_clf_inquiry_concept_find(E->inq, "fatigue", &fatigue),
                   MV_OK);
  assert_true(t->known[diarrhoea]);
  assert_false(t->from_text[diarrhoea]);
  assert_true(t->from_text[fatigue]);
  for (int k = 0; k < 20 && t->status == TRI_ASKING; k++) {
    assert_int_not_equal(t->pending, (int64_t)diarrhoea);
    assert_int_not_equal(t->pending, (int64_t)fatigue);
    const char *c = mv_clf_inquiry_concept_id(E->inq, (uint32_t)t->pending);
    assert_int_equal(tri_answer(E, t, c, MV_CLF_INQ_UNSURE, NULL), MV_OK);
  }
  assert_int_equal(t->status, TRI_COMPLETE);
  assert_true(t->n_answers <= MV_LIMIT_TRIAGE_QUESTIONS);
}

static void caps_and_expiry(void **state) {
  struct api_triage *E = *state;
  struct tri_session *t = NULL;
  size_t base = E->n;
  for (size_t i = 0; i < TRI_PER_PRINCIPAL; i++)
    (void)start(E, "busy", "sneezing", T0);
  assert_int_equal(tri_start(E, "busy", "", "", "x", 1, MV_CLF_INQ_EN, T0, &t),
                   MV_ERATE);
  assert_int_equal(E->n, base + TRI_PER_PRINCIPAL);
  /* Idle past the limit: all forgotten by the next sweep. */
  struct tri_session *one = start(E, "u4", "sneezing", T0);
  char id[TRI_ID_LEN + 1];
  memcpy(id, one->id, sizeof(id));
  assert_ptr_equal(tri_find(E, id), one);
  tri_sweep(E, T0 + 59 * 1000000LL);
  assert_ptr_equal(tri_find(E, id), one);
  tri_sweep(E, T0 + 61 * 1000000LL);
  assert_null(tri_find(E, id));
  assert_int_equal(E->n, 0);
  /* The global cap. */
  char owner[16];
  for (size_t i = 0; i < MV_LIMIT_TRIAGE_SESSIONS; i++) {
    snprintf(owner, sizeof(owner), "o%zu", i / TRI_PER_PRINCIPAL);
    (void)start(E, owner, "sneezing", T0 + 100 * 1000000LL);
  }
  assert_int_equal(tri_start(E, "late", "", "", "x", 1, MV_CLF_INQ_EN,
                             T0 + 100 * 1000000LL, &t),
                   MV_EBUSY);
}

static void view_has_the_contract(void **state) {
  struct api_triage *E = *state;
  struct tri_session *t = start(E, "u5", "tired and unwell", T0);
  struct json_object *v = tri_view(E, t), *x;
  assert_true(json_object_object_get_ex(v, "differential", &x));
  assert_int_equal(json_object_array_length(x), 3);
  double p0 = json_object_get_double(
      json_object_object_get(json_object_array_get_idx(x, 0), "p"));
  double p1 = json_object_get_double(
      json_object_object_get(json_object_array_get_idx(x, 1), "p"));
  assert_true(p0 >= p1);
  assert_true(json_object_object_get_ex(v, "question", &x));
  assert_non_null(
      json_object_get_string(json_object_object_get(x, "question")));
  assert_string_equal(
      json_object_get_string(json_object_object_get(v, "status")), "asking");
  assert_string_equal(
      json_object_get_string(json_object_object_get(v, "patient")),
      "Patient/pat-a");
  assert_non_null(
      strstr(json_object_get_string(json_object_object_get(v, "disclaimer")),
             "not a diagnosis"));
  assert_true(json_object_object_get_ex(v, "drivers", &x));
  assert_true(json_object_array_length(x) >= 1);
  json_object_put(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(vague_text_asks_and_answers_move_posterior),
      cmocka_unit_test(red_flag_completes_at_once),
      cmocka_unit_test(mentioned_and_denied_concepts_are_not_asked),
      cmocka_unit_test(view_has_the_contract),
      cmocka_unit_test(caps_and_expiry),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
