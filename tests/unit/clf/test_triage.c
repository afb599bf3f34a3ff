/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The combined assessment and advice (src/clf/triage.c, advice.c): red
 * flags force "emergency" with the emergency number in the patient's
 * language; the per-label urgency table knows every label of the three
 * shared corpora (skipped when /work/shared/data is absent); a plausible
 * more urgent label raises the urgency; the advice always says it is not a
 * diagnosis; a tiny model trained here gives a sorted differential and
 * drivers inside the text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mv_clf_triage.h"
#include "mv_csv.h"

static struct mv_clf_triage_result res;

static void assess(const char *t, int lang) {
  assert_int_equal(mv_clf_triage_assess(NULL, t, strlen(t), lang, &res), MV_OK);
}

static void triage_red_flag_is_emergency(void **state) {
  (void)state;
  assess("I have crushing chest pain", MV_CLF_LANG_AUTO);
  assert_int_equal(res.urgency, MV_CLF_URG_EMERGENCY);
  assert_true(res.rf.red_flag);
  assert_int_equal(res.lang, MV_CLF_LANG_EN);
  assert_non_null(strstr(res.advice, "999"));
  assert_non_null(strstr(res.advice, "not a diagnosis"));
  assert_non_null(strstr(res.summary, "heart_attack"));
  assert_int_equal(res.n_dx, 0);
  assert_true(res.n_drivers >= 1);
  assert_true(res.drivers[0].start + res.drivers[0].len <= 26);

  assess("胸口痛得厉害", MV_CLF_LANG_AUTO);
  assert_int_equal(res.urgency, MV_CLF_URG_EMERGENCY);
  assert_int_equal(res.lang, MV_CLF_LANG_ZH);
  assert_non_null(strstr(res.advice, "120"));
  assert_non_null(strstr(res.advice, "不是诊断"));

  assess("我不想活了", MV_CLF_LANG_AUTO);
  assert_non_null(strstr(res.advice, "12356"));
  assess("I want to end my life", MV_CLF_LANG_EN);
  assert_non_null(strstr(res.advice, "116 123"));
  assert_non_null(strstr(res.advice, "988"));
}

static void triage_no_model_no_flag(void **state) {
  (void)state;
  assess("no chest pain, just a runny nose", MV_CLF_LANG_AUTO);
  assert_false(res.rf.red_flag);
  assert_int_equal(res.urgency, MV_CLF_URG_SOON);
  assert_non_null(strstr(res.advice, "not a diagnosis"));
  assess("   ", MV_CLF_LANG_AUTO);
  assert_int_equal(res.urgency, MV_CLF_URG_SOON);
  assert_non_null(strstr(res.advice, "describe"));
  assess("I have a cough", MV_CLF_LANG_ZH); /* forced language */
  assert_int_equal(res.lang, MV_CLF_LANG_ZH);
  assert_non_null(strstr(res.advice, "不是诊断"));
  assert_int_equal(mv_clf_triage_assess(NULL, "x", 1, 7, &res), MV_EINVAL);
  assert_int_equal(mv_clf_triage_assess(NULL, NULL, 1, 0, &res), MV_EINVAL);
  assert_int_equal(mv_clf_triage_assess(NULL, "x", 1, 0, NULL), MV_EINVAL);
  assert_int_equal(mv_clf_triage_assess(NULL, NULL, 0, 0, &res), MV_OK);
}

static void triage_urgency_table(void **state) {
  (void)state;
  assert_string_equal(mv_clf_urgency_id(MV_CLF_URG_SELF_CARE), "self-care");
  assert_string_equal(mv_clf_urgency_id(MV_CLF_URG_EMERGENCY), "emergency");
  assert_null(mv_clf_urgency_id(4));
  assert_int_equal(mv_clf_label_urgency("Pneumonia"), MV_CLF_URG_URGENT);
  assert_int_equal(mv_clf_label_urgency("pneumonia"), MV_CLF_URG_URGENT);
  assert_int_equal(mv_clf_label_urgency("Common Cold"), MV_CLF_URG_SELF_CARE);
  assert_int_equal(mv_clf_label_urgency("肺炎"), MV_CLF_URG_URGENT);
  assert_int_equal(mv_clf_label_urgency("no such label"), -1);
  assert_int_equal(mv_clf_label_urgency(NULL), -1);

  const char *root = getenv("MV_SHARED_DATA");
  static const char *const corpora[] = {"symptom2disease", "toyhom_im", "dxy"};
  char path[1024];
  for (size_t c = 0; c < MV_ARRAY_LEN(corpora); c++) {
    snprintf(path, sizeof path, "%s/triage/%s/train.csv", root ? root : "",
             corpora[c]);
    struct mv_csv *csv = NULL;
    if (!root || mv_csv_open_file(path, &csv, NULL) != MV_OK) {
      printf("SKIP: %s not available (MV_SHARED_DATA)\n", path);
      skip();
    }
    char **f;
    size_t nf, rows = 0;
    long li = -1;
    while (mv_csv_next(csv, &f, &nf, NULL) == MV_OK) {
      if (li < 0) {
        li = mv_csv_find(f, nf, "label");
        assert_true(li >= 0);
        continue;
      }
      if (mv_clf_label_urgency(f[li]) < 0)
        fail_msg("%s: label %s has no default urgency", corpora[c], f[li]);
      rows++;
    }
    assert_true(rows > 0);
    mv_csv_free(csv);
  }
}

static void triage_with_model(void **state) {
  (void)state;
  static const char *const texts[] = {
      "runny nose sneezing sore throat mild cough",
      "sneezing and a runny nose with a sore throat",
      "blocked nose, sneezing, scratchy throat",
      "high fever, cough with green phlegm, chest hurts when breathing",
      "fever and productive cough with phlegm, breathless on walking",
      "cough with phlegm, fever, chills and breathless",
      "流鼻涕打喷嚏嗓子疼",
      "高烧咳嗽有痰气促",
  };
  static const uint32_t labels[] = {0, 0, 0, 1, 1, 1, 0, 1};
  static const char *const names[] = {"Common Cold", "Pneumonia"};
  struct mv_clf_train_opts opts = {
      .l2 = 0.1, .temperature = 1.0, .class_weight = 0, .min_df = 1};
  struct mv_clf_model *m = NULL;
  assert_int_equal(mv_clf_train(texts, labels, 8, names, 2, &opts, &m, NULL),
                   MV_OK);
  const char *t = "runny nose and sneezing";
  assert_int_equal(
      mv_clf_triage_assess(m, t, strlen(t), MV_CLF_LANG_AUTO, &res), MV_OK);
  assert_int_equal(res.n_dx, 2);
  assert_string_equal(res.dx[0].label, "Common Cold");
  assert_true(res.dx[0].p >= res.dx[1].p);
  assert_true(res.dx[0].p + res.dx[1].p <= 1.0 + 1e-9);
  for (size_t i = 0; i < res.n_drivers; i++)
    assert_true(res.drivers[i].start + res.drivers[i].len <= strlen(t));
  assert_non_null(strstr(res.summary, "Differential"));

  /* the differential's plausible urgent label raises the urgency */
  double probs[2] = {0.6, 0.4};
  assert_int_equal(
      mv_clf_triage_from_probs(m, probs, 2, t, strlen(t), MV_CLF_LANG_EN, &res),
      MV_OK);
  assert_int_equal(res.urgency, MV_CLF_URG_URGENT);
  probs[0] = 0.9, probs[1] = 0.1;
  assert_int_equal(
      mv_clf_triage_from_probs(m, probs, 2, t, strlen(t), MV_CLF_LANG_EN, &res),
      MV_OK);
  assert_int_equal(res.urgency, MV_CLF_URG_SELF_CARE);
  /* a red flag overrides the classifier */
  const char *e = "runny nose and now crushing chest pain";
  assert_int_equal(
      mv_clf_triage_from_probs(m, probs, 2, e, strlen(e), MV_CLF_LANG_EN, &res),
      MV_OK);
  assert_int_equal(res.urgency, MV_CLF_URG_EMERGENCY);
  assert_int_equal(
      mv_clf_triage_from_probs(m, probs, 1, e, strlen(e), MV_CLF_LANG_EN, &res),
      MV_EINVAL);
  mv_clf_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(triage_red_flag_is_emergency),
      cmocka_unit_test(triage_no_model_no_flag),
      cmocka_unit_test(triage_urgency_table),
      cmocka_unit_test(triage_with_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
