/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the follow-up question engine (mv_clf_inquiry.h): lexicon
 * detection in context (English and Chinese), learning P(concept | label),
 * the expected-information-gain choice on a hand-made 3-label table, the
 * Bayes update, the stopping rule, and the saved bytes (round trip, every
 * kind of corruption rejected).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mv_clf_inquiry.h"

#define assert_near(a, b, tol)                                                 \
  assert_true(fabs((double)(a) - (double)(b)) <= (tol))

static long lex_index(const char *id) {
  for (size_t i = 0; i < mv_clf_lexicon_size(); i++)
    if (strcmp(mv_clf_lexicon_id(i), id) == 0)
      return (long)i;
  return -1;
}

static int detects(const char *text, const char *id) {
  uint8_t present[256];
  long k = lex_index(id);
  assert_true(k >= 0);
  mv_clf_lexicon_detect(text, strlen(text), present);
  return present[k];
}

static void lexicon_has_bilingual_questions(void **state) {
  (void)state;
  size_t n = mv_clf_lexicon_size();
  assert_true(n >= 60 && n <= 256);
  for (size_t i = 0; i < n; i++) {
    assert_non_null(mv_clf_lexicon_question(i, MV_CLF_INQ_EN));
    assert_non_null(mv_clf_lexicon_question(i, MV_CLF_INQ_ZH));
    assert_true(strchr(mv_clf_lexicon_question(i, MV_CLF_INQ_EN), '?') != NULL);
    assert_non_null(strstr(mv_clf_lexicon_question(i, MV_CLF_INQ_ZH), "？"));
    for (size_t j = 0; j < i; j++)
      assert_string_not_equal(mv_clf_lexicon_id(i), mv_clf_lexicon_id(j));
  }
  assert_null(mv_clf_lexicon_id(n));
}

static void detect_respects_context_en(void **state) {
  (void)state;
  assert_true(detects("I have had a high fever since yesterday", "fever"));
  assert_true(detects("Fever and a dry COUGH", "cough"));
  assert_false(detects("No fever, just tired", "fever"));
  assert_true(detects("No fever, just tired", "fatigue"));
  assert_false(detects("I deny any chest pain", "chest_pain"));
  assert_false(detects("My father had a stroke years ago", "stroke_hist"));
  assert_true(detects("I have no appetite", "appetite_loss"));
  assert_false(detects("the diarrhea is gone", "fever"));
}

static void detect_respects_context_zh(void **state) {
  (void)state;
  assert_true(detects("孩子昨天开始发烧，咳嗽", "fever"));
  assert_true(detects("孩子昨天开始发烧，咳嗽", "cough"));
  assert_false(detects("没有发烧，有点咳嗽", "fever"));
  assert_true(detects("没有发烧，有点咳嗽", "cough"));
  assert_false(detects("否认胸痛", "chest_pain"));
  assert_false(detects("十年前中风过", "stroke_hist"));
  assert_false(detects("无呼吸困难", "breathless"));
  assert_true(detects("无明显诱因出现发热", "fever"));
  assert_true(detects("咳嗽不止", "cough"));
  uint8_t neg[256];
  const char *t = "没有发烧，有点咳嗽";
  mv_clf_lexicon_detect_negated(t, strlen(t), neg);
  assert_true(neg[lex_index("fever")]);
  assert_false(neg[lex_index("cough")]);
}

/* A 3-label table: "a" always has fever, "b" and "c" never; "b" always has
 * a rash, "c" never. Learned from texts so build() is exercised too. */
static struct mv_clf_inquiry *table3(void) {
  static const char *const texts[] = {
      "fever and cough", "fever and cough", "fever and cough",
      "fever and cough", "rash and cough",  "rash and cough",
      "rash and cough",  "rash and cough",  "cough only",
      "cough only",      "cough only",      "cough only",
  };
  static const uint32_t labels[] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
  struct mv_clf_inquiry *q = NULL;
  assert_int_equal(mv_clf_inquiry_build(texts, labels, 12, 3, &q, NULL), MV_OK);
  return q;
}

static void build_learns_laplace_probabilities(void **state) {
  (void)state;
  struct mv_clf_inquiry *q = table3();
  uint32_t fever, rash, cough;
  assert_int_equal(mv_clf_inquiry_concept_find(q, "fever", &fever), MV_OK);
  assert_int_equal(mv_clf_inquiry_concept_find(q, "rash", &rash), MV_OK);
  assert_int_equal(mv_clf_inquiry_concept_find(q, "cough", &cough), MV_OK);
  assert_int_equal(mv_clf_inquiry_concept_find(q, "nonexistent", &cough),
                   MV_ENOTFOUND);
  assert_int_equal(mv_clf_inquiry_concept_find(q, "cough", &cough), MV_OK);
  /* (4 + 1) / (4 + 2) and (0 + 1) / (4 + 2). */
  assert_near(mv_clf_inquiry_p(q, fever, 0), 5.0 / 6.0, 1e-12);
  assert_near(mv_clf_inquiry_p(q, fever, 1), 1.0 / 6.0, 1e-12);
  assert_near(mv_clf_inquiry_p(q, rash, 1), 5.0 / 6.0, 1e-12);
  assert_near(mv_clf_inquiry_p(q, cough, 2), 5.0 / 6.0, 1e-12);
  assert_true(mv_clf_inquiry_p(q, 9999, 0) < 0.0);
  assert_int_equal(mv_clf_inquiry_n_labels(q), 3);
  mv_clf_inquiry_free(q);
}

/* Reference EIG computed independently from the definition. */
static double ref_gain(const struct mv_clf_inquiry *q, uint32_t c,
                       const double *p) {
  double h0 = 0, py = 0, pn = 0, hy = 0, hn = 0, wy[3], wn[3];
  for (int l = 0; l < 3; l++) {
    h0 -= p[l] > 0 ? p[l] * log2(p[l]) : 0;
    wy[l] = p[l] * mv_clf_inquiry_p(q, c, (uint32_t)l);
    wn[l] = p[l] * (1 - mv_clf_inquiry_p(q, c, (uint32_t)l));
    py += wy[l];
    pn += wn[l];
  }
  for (int l = 0; l < 3; l++) {
    if (wy[l] > 0)
      hy -= wy[l] / py * log2(wy[l] / py);
    if (wn[l] > 0)
      hn -= wn[l] / pn * log2(wn[l] / pn);
  }
  return h0 - py * hy - pn * hn;
}

static void next_picks_discriminating_symptom(void **state) {
  (void)state;
  struct mv_clf_inquiry *q = table3();
  uint32_t fever, rash, cough;
  assert_int_equal(mv_clf_inquiry_concept_find(q, "fever", &fever), MV_OK);
  assert_int_equal(mv_clf_inquiry_concept_find(q, "rash", &rash), MV_OK);
  assert_int_equal(mv_clf_inquiry_concept_find(q, "cough", &cough), MV_OK);
  struct mv_clf_inq_question qu;
  /* a vs c undecided, b ruled out: fever separates them, rash does not. */
  double p1[3] = {0.5, 0.0, 0.5};
  assert_int_equal(mv_clf_inquiry_next(q, p1, 3, NULL, MV_CLF_INQ_EN, 0.0, &qu),
                   MV_OK);
  assert_int_equal(qu.concept, fever);
  assert_string_equal(qu.id, "fever");
  assert_near(qu.gain_bits, ref_gain(q, fever, p1), 1e-12);
  assert_true(ref_gain(q, rash, p1) < qu.gain_bits);
  /* b vs c: rash separates them. */
  double p2[3] = {0.0, 0.5, 0.5};
  assert_int_equal(mv_clf_inquiry_next(q, p2, 3, NULL, MV_CLF_INQ_ZH, 0.0, &qu),
                   MV_OK);
  assert_int_equal(qu.concept, rash);
  assert_non_null(strstr(qu.text, "皮疹"));
  /* Asked concepts are skipped: without rash nothing separates b from c
   * (every other concept has the same probability under both). */
  uint8_t asked[256] = {0};
  asked[rash] = 1;
  assert_int_equal(
      mv_clf_inquiry_next(q, p2, 3, asked, MV_CLF_INQ_EN, 0.0, &qu),
      MV_ENOTFOUND);
  asked[rash] = 0;
  asked[fever] = 1;
  double pu[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  assert_int_equal(
      mv_clf_inquiry_next(q, pu, 3, asked, MV_CLF_INQ_EN, 0.0, &qu), MV_OK);
  assert_int_equal(qu.concept, rash);
  /* Certain posterior: nothing to gain. */
  double p3[3] = {1.0, 0.0, 0.0};
  assert_int_equal(
      mv_clf_inquiry_next(q, p3, 3, NULL, MV_CLF_INQ_EN, 1e-9, &qu),
      MV_ENOTFOUND);
  /* Bad posteriors. */
  double bad[3] = {0.5, -0.1, 0.6};
  assert_int_equal(mv_clf_inquiry_next(q, bad, 3, NULL, MV_CLF_INQ_EN, 0, &qu),
                   MV_EINVAL);
  assert_int_equal(mv_clf_inquiry_next(q, p1, 2, NULL, MV_CLF_INQ_EN, 0, &qu),
                   MV_EINVAL);
  mv_clf_inquiry_free(q);
}

static void update_is_bayes_rule(void **state) {
  (void)state;
  struct mv_clf_inquiry *q = table3();
  uint32_t fever;
  assert_int_equal(mv_clf_inquiry_concept_find(q, "fever", &fever), MV_OK);
  double p[3] = {0.2, 0.3, 0.5};
  double l0 = mv_clf_inquiry_p(q, fever, 0), l1 = mv_clf_inquiry_p(q, fever, 1),
         l2 = mv_clf_inquiry_p(q, fever, 2);
  double z = 0.2 * l0 + 0.3 * l1 + 0.5 * l2;
  assert_int_equal(mv_clf_inquiry_update(q, p, 3, fever, MV_CLF_INQ_YES),
                   MV_OK);
  assert_near(p[0], 0.2 * l0 / z, 1e-12);
  assert_near(p[1], 0.3 * l1 / z, 1e-12);
  assert_near(p[2], 0.5 * l2 / z, 1e-12);
  assert_true(p[0] > 0.2);
  double s[3] = {p[0], p[1], p[2]};
  assert_int_equal(mv_clf_inquiry_update(q, p, 3, fever, MV_CLF_INQ_UNSURE),
                   MV_OK);
  assert_memory_equal(s, p, sizeof(s));
  double n[3] = {0.2, 0.3, 0.5};
  double zn = 0.2 * (1 - l0) + 0.3 * (1 - l1) + 0.5 * (1 - l2);
  assert_int_equal(mv_clf_inquiry_update(q, n, 3, fever, MV_CLF_INQ_NO), MV_OK);
  assert_near(n[0], 0.2 * (1 - l0) / zn, 1e-12);
  assert_true(n[0] < 0.2);
  assert_int_equal(mv_clf_inquiry_update(q, n, 3, 100000, MV_CLF_INQ_NO),
                   MV_EINVAL);
  enum mv_clf_inq_answer a;
  assert_int_equal(mv_clf_inq_answer_parse("yes", &a), MV_OK);
  assert_int_equal(a, MV_CLF_INQ_YES);
  assert_int_equal(mv_clf_inq_answer_parse("否", &a), MV_OK);
  assert_int_equal(a, MV_CLF_INQ_NO);
  assert_int_equal(mv_clf_inq_answer_parse("maybe", &a), MV_EINVAL);
  mv_clf_inquiry_free(q);
}

static void stop_rule(void **state) {
  (void)state;
  struct mv_clf_inq_stop r;
  mv_clf_inquiry_stop_default(&r);
  double sure[3] = {0.98, 0.01, 0.01}, unsure[3] = {0.4, 0.3, 0.3};
  assert_true(mv_clf_inquiry_should_stop(sure, 3, 0, &r));
  assert_false(mv_clf_inquiry_should_stop(unsure, 3, 0, &r));
  assert_true(mv_clf_inquiry_should_stop(unsure, 3, r.max_questions, &r));
}

static void save_load_round_trip(void **state) {
  (void)state;
  struct mv_clf_inquiry *q = table3(), *q2 = NULL;
  struct mv_buf b, b2;
  mv_buf_init(&b, MV_LIMIT_CLF_INQ_BYTES);
  mv_buf_init(&b2, MV_LIMIT_CLF_INQ_BYTES);
  assert_int_equal(mv_clf_inquiry_save(q, &b), MV_OK);
  assert_int_equal(mv_clf_inquiry_load(b.data, b.len, &q2, NULL), MV_OK);
  assert_int_equal(mv_clf_inquiry_n_concepts(q2), mv_clf_inquiry_n_concepts(q));
  for (uint32_t c = 0; c < mv_clf_inquiry_n_concepts(q); c++) {
    assert_string_equal(mv_clf_inquiry_concept_id(q, c),
                        mv_clf_inquiry_concept_id(q2, c));
    for (uint32_t l = 0; l < 3; l++)
      assert_true(mv_clf_inquiry_p(q, c, l) == mv_clf_inquiry_p(q2, c, l));
  }
  assert_int_equal(mv_clf_inquiry_save(q2, &b2), MV_OK);
  assert_int_equal(b.len, b2.len);
  assert_memory_equal(b.data, b2.data, b.len);
  mv_clf_inquiry_free(q2);
  mv_buf_release(&b2);
  mv_buf_release(&b);
  mv_clf_inquiry_free(q);
}

static void load_rejects_corruption(void **state) {
  (void)state;
  struct mv_clf_inquiry *q = table3(), *q2 = NULL;
  struct mv_buf b;
  struct mv_diag d;
  mv_buf_init(&b, MV_LIMIT_CLF_INQ_BYTES);
  assert_int_equal(mv_clf_inquiry_save(q, &b), MV_OK);
  uint8_t *copy = malloc(b.len + 1);
  assert_non_null(copy);
  /* Every single-bit flip in every byte is caught (CRC-32 detects all
   * single-bit errors). */
  for (size_t i = 0; i < b.len; i += 7) {
    memcpy(copy, b.data, b.len);
    copy[i] ^= 0x10;
    assert_int_equal(mv_clf_inquiry_load(copy, b.len, &q2, &d), MV_ECORRUPT);
    assert_null(q2);
  }
  /* Every truncation and one extra byte. */
  for (size_t n = 0; n < b.len; n += 13)
    assert_int_not_equal(mv_clf_inquiry_load(b.data, n, &q2, NULL), MV_OK);
  memcpy(copy, b.data, b.len);
  copy[b.len] = 0;
  assert_int_equal(mv_clf_inquiry_load(copy, b.len + 1, &q2, NULL),
                   MV_ECORRUPT);
  /* Wrong version with a valid checksum is still rejected, and says so. */
  memcpy(copy, b.data, b.len);
  copy[4] = 2;
  assert_int_equal(mv_clf_inquiry_load(copy, b.len, &q2, &d), MV_ECORRUPT);
  assert_non_null(strstr(d.msg, "version"));
  free(copy);
  mv_buf_release(&b);
  mv_clf_inquiry_free(q);
}

static void build_rejects_bad_input(void **state) {
  (void)state;
  const char *t[] = {"fever"};
  uint32_t l[] = {3};
  struct mv_clf_inquiry *q = NULL;
  assert_int_equal(mv_clf_inquiry_build(t, l, 1, 3, &q, NULL), MV_EINVAL);
  assert_int_equal(mv_clf_inquiry_build(t, l, 0, 3, &q, NULL), MV_EINVAL);
  assert_null(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lexicon_has_bilingual_questions),
      cmocka_unit_test(detect_respects_context_en),
      cmocka_unit_test(detect_respects_context_zh),
      cmocka_unit_test(build_learns_laplace_probabilities),
      cmocka_unit_test(next_picks_discriminating_symptom),
      cmocka_unit_test(update_is_bayes_rule),
      cmocka_unit_test(stop_rule),
      cmocka_unit_test(save_load_round_trip),
      cmocka_unit_test(load_rejects_corruption),
      cmocka_unit_test(build_rejects_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
