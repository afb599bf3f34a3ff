/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context marking (src/clf/context.c) in English and Chinese: negation and
 * its scope (ends at "but", 但是, punctuation; runs over a "denies" list),
 * pseudo-negations (无明显诱因, "not sure", 叫不醒), history (ten years ago,
 * 十年前…过, 病史) with "now" overriding it, family (my father had…, 家族史)
 * only with a family marker, hypotheticals (if, worried about, 如果, 万一),
 * precedence, and bad input: caps, invalid UTF-8, NULL arguments, random
 * bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mv_clf_context.h"

/* Context of the first byte of the first occurrence of word in text. */
static int cx_at(const char *text, const char *word) {
  const char *w = strstr(text, word);
  if (!w)
    fail_msg("'%s' not in '%s'", word, text);
  size_t n = strlen(text);
  uint8_t *cx = malloc(n ? n : 1);
  assert_non_null(cx);
  assert_int_equal(mv_clf_context_mark(text, n, cx, n), MV_OK);
  int c = cx[w - text];
  free(cx);
  return c;
}

#define EXPECT(text, word, want)                                               \
  do {                                                                         \
    int got_ = cx_at(text, word);                                              \
    if (got_ != (want))                                                        \
      fail_msg("'%s' in '%s': got %s, want %s", word, text,                    \
               mv_clf_cx_name(got_), mv_clf_cx_name(want));                    \
  } while (0)

enum {
  CUR = MV_CLF_CX_CURRENT,
  NEG = MV_CLF_CX_NEGATED,
  HIS = MV_CLF_CX_HISTORICAL,
  FAM = MV_CLF_CX_FAMILY,
  HYP = MV_CLF_CX_HYPOTHETICAL,
};

static void context_negation_en(void **state) {
  (void)state;
  EXPECT("no fever", "fever", NEG);
  EXPECT("No Fever today", "Fever", NEG);
  EXPECT("I don't have chest pain", "chest", NEG);
  EXPECT("I don’t have chest pain", "chest", NEG); /* curly apostrophe */
  EXPECT("denies chest pain, shortness of breath or cough", "cough", NEG);
  EXPECT("patient denied chest pain", "chest", NEG);
  EXPECT("negative for malaria", "malaria", NEG);
  EXPECT("without any rash", "rash", NEG);
  EXPECT("no fever but chest pain", "chest", CUR);
  EXPECT("no fever. Chest pain since noon", "Chest", CUR);
  EXPECT("no appetite and crushing chest pain", "crushing", CUR);
  EXPECT("I have fever", "fever", CUR);
  /* the scope is a window of words, not the rest of the text */
  EXPECT("no fever for the last three days I have had a cough", "cough", CUR);
  /* pseudo-negations */
  EXPECT("not sure why but my chest hurts", "chest", CUR);
  EXPECT("he is not breathing", "breathing", CUR);
  EXPECT("I have never had a headache like this", "headache", CUR);
  EXPECT("I have never had a headache", "headache", NEG);
}

static void context_negation_zh(void **state) {
  (void)state;
  EXPECT("没有发烧", "发烧", NEG);
  EXPECT("无呼吸困难", "呼吸困难", NEG);
  EXPECT("否认胸痛", "胸痛", NEG);
  EXPECT("否认胸痛、胸闷", "胸闷", NEG);
  EXPECT("否认高血压，糖尿病病史", "糖尿病", NEG);
  EXPECT("不发烧", "发烧", NEG);
  EXPECT("未见出血", "出血", NEG);
  EXPECT("没有发烧，但是胸痛", "胸痛", CUR);
  EXPECT("没发烧但胸口痛", "胸口痛", CUR);
  EXPECT("无发热，咳嗽三天", "咳嗽", CUR);
  EXPECT("无明显诱因出现胸痛", "胸痛", CUR); /* pseudo */
  EXPECT("叫不醒", "醒", CUR);
  EXPECT("说话不清楚", "清楚", CUR);
  EXPECT("从来没有这么痛过，头痛", "头痛", CUR);
  EXPECT("没吃饭，然后就晕倒了", "晕倒", CUR);
  EXPECT("胸痛", "胸痛", CUR);
}

static void context_history(void **state) {
  (void)state;
  EXPECT("I had a heart attack 10 years ago", "heart", HIS);
  EXPECT("history of asthma", "asthma", HIS);
  EXPECT("I used to have seizures", "seizures", HIS);
  EXPECT("I had a stroke years ago and now my face is drooping", "face", CUR);
  EXPECT("I had a stroke years ago but today my arm is weak", "arm", CUR);
  EXPECT("十年前中风过", "中风", HIS);
  EXPECT("我中风过", "中风", HIS);
  EXPECT("既往有心梗病史", "心梗", HIS);
  EXPECT("有心梗病史", "心梗", HIS);
  EXPECT("小时候得过哮喘", "哮喘", HIS);
  EXPECT("十年前中风过，现在又说不出话", "说不出话", CUR);
  EXPECT("他晕过去了", "晕", CUR);
  EXPECT("喘不过气", "喘", CUR);
  EXPECT("吃过量的药", "吃", CUR);
  /* 过 inside a verb or preposition is not the "has had" suffix */
  EXPECT("伤口的血透过绷带往外渗", "血", CUR);
  EXPECT("疼痛超过半小时", "疼痛", CUR);
  EXPECT("血已经渗过纱布", "血", CUR);
  EXPECT("去年流过血", "流", HIS);
}

static void context_family(void **state) {
  (void)state;
  EXPECT("my father had a stroke", "stroke", FAM);
  EXPECT("my mother died of a heart attack", "heart", FAM);
  EXPECT("family history of diabetes", "diabetes", FAM);
  EXPECT("my dad has crushing chest pain", "chest", CUR);
  EXPECT("my father had a stroke this morning", "stroke", CUR);
  EXPECT("my mother had a fall and is bleeding heavily", "bleeding", CUR);
  EXPECT("家族史：父亲脑出血", "脑出血", FAM);
  EXPECT("我父亲有心梗病史", "心梗", FAM);
  EXPECT("母亲死于中风", "中风", FAM);
  EXPECT("我爸爸突然胸口痛", "胸口痛", CUR);
  EXPECT("我妈妈喘不过气来了", "喘", CUR);
  /* a relative's "has had" is history unless the clause says it is now */
  EXPECT("my wife has had three seizures", "seizures", FAM);
  EXPECT("my wife has had three seizures in a row", "seizures", CUR);
  EXPECT("my dad had a stroke last night", "stroke", CUR);
  /* precedence: negated beats family */
  EXPECT("my father never had a stroke", "stroke", NEG);
}

static void context_hypothetical(void **state) {
  (void)state;
  EXPECT("what should I do if I get chest pain", "chest", HYP);
  EXPECT("I'm worried about having a stroke", "stroke", HYP);
  EXPECT("how do I prevent a heart attack", "heart", HYP);
  EXPECT("if I get chest pain, should I call 999? My chest hurts now", "hurts",
         CUR);
  EXPECT("not sure if it matters, I have chest pain", "chest", CUR);
  EXPECT("如果胸痛怎么办", "胸痛", HYP);
  EXPECT("万一孩子抽搐怎么处理", "抽搐", HYP);
  EXPECT("担心以后会中风", "中风", HYP);
  EXPECT("心梗有什么症状", "心梗", HYP);
  EXPECT("被蜜蜂蛰了以后嘴唇肿了", "嘴唇", CUR);
}

/* Coordination: "or" / "或" carries a negation over its conjuncts, also over
 * a short comma list; a new statement after the comma does not. Traditional
 * characters are folded, so 沒有 negates like 没有. */
static void context_coordination_and_variants(void **state) {
  (void)state;
  EXPECT("i dont have any chest pain or shortness of breath", "shortness", NEG);
  /* A comma ends the scope even in a list closed by "or" (safety first:
   * src/clf/context.c). */
  EXPECT("no fever, headache or stiff neck", "headache", CUR);
  EXPECT("no fever, headache or stiff neck", "stiff", CUR);
  EXPECT("no fever or stiff neck", "stiff", NEG);
  EXPECT("no fever, my chest hurts or burns", "chest", CUR);
  EXPECT("no fever, chest pain is crushing", "chest", CUR);
  EXPECT("没有胸痛或者呼吸困难", "呼吸", NEG);
  EXPECT("沒有發燒", "發燒", NEG);
  EXPECT("十年前中風過", "中風", HIS);
  EXPECT("從來沒有頭痛", "頭痛", NEG);
  EXPECT("从没这么头疼过", "头疼", CUR);
  EXPECT("what does anaphylaxis look like", "anaphylaxis", HYP);
  EXPECT("过敏性休克是什么", "休克", HYP);
  EXPECT("胸口疼是什么病", "胸口", CUR);
  EXPECT("i fainted once as a teenager", "fainted", HIS);
  EXPECT("my dog... no my son ate it", "son", CUR);
  /* held-out round 4: a relative's childhood is history; "recognise the
   * signs of" is an information question; the present stays current */
  EXPECT("my son had a febrile seizure when he was a baby", "seizure", HIS);
  EXPECT("she had fits as a toddler", "fits", HIS);
  EXPECT("how do i recognise the signs of a stroke", "stroke", HYP);
  EXPECT("when he was a baby he had fits, now he is fitting again", "fitting",
         CUR);
}

static void context_spans_and_clauses(void **state) {
  (void)state;
  const char *t = "no fever but cough; 没有发烧，但是咳嗽";
  size_t n = strlen(t), ns = 0;
  struct mv_clf_cx_span sp[32];
  assert_int_equal(mv_clf_context_spans(t, n, sp, 32, &ns), MV_OK);
  assert_true(ns >= 3);
  size_t at = 0;
  bool neg = false;
  for (size_t i = 0; i < ns; i++) {
    assert_int_equal(sp[i].start, at); /* contiguous cover */
    assert_true(sp[i].len > 0);
    at += sp[i].len;
    neg |= sp[i].cx == NEG;
    if (i)
      assert_int_not_equal(sp[i].cx, sp[i - 1].cx);
  }
  assert_int_equal(at, n);
  assert_true(neg);
  /* spans past cap are dropped, the count is capped */
  assert_int_equal(mv_clf_context_spans(t, n, sp, 1, &ns), MV_OK);
  assert_int_equal(ns, 1);

  uint32_t cl[16];
  size_t nc = 0;
  assert_int_equal(mv_clf_context_clauses(t, n, cl, 16, &nc), MV_OK);
  assert_true(nc >= 4); /* "no fever" | "but cough" | 没有发烧 | 但是咳嗽 */
  assert_int_equal(cl[0], 0);
  for (size_t i = 1; i < nc; i++)
    assert_true(cl[i] > cl[i - 1] && cl[i] < n);
  assert_string_equal(mv_clf_cx_name(HYP), "hypothetical");
  assert_string_equal(mv_clf_cx_name(99), "?");
}

static void context_bad_input(void **state) {
  (void)state;
  uint8_t cx[64];
  size_t ns;
  assert_int_equal(mv_clf_context_mark(NULL, 0, cx, 64), MV_OK);
  assert_int_equal(mv_clf_context_mark(NULL, 5, cx, 64), MV_EINVAL);
  assert_int_equal(mv_clf_context_mark("abc", 3, NULL, 3), MV_EINVAL);
  assert_int_equal(mv_clf_context_spans("abc", 3, NULL, 0, &ns), MV_OK);
  assert_int_equal(ns, 0);
  assert_int_equal(mv_clf_context_spans("abc", 3, NULL, 0, NULL), MV_EINVAL);
  /* invalid UTF-8 separates words and does not stop negation */
  const char bad[] = "no \xff fever \xc3";
  assert_int_equal(mv_clf_context_mark(bad, sizeof bad - 1, cx, 64), MV_OK);
  assert_int_equal(cx[6], NEG); /* 'f' */
  /* cap shorter than the text: only cap bytes written */
  memset(cx, 0xee, sizeof cx);
  assert_int_equal(mv_clf_context_mark("no fever", 8, cx, 4), MV_OK);
  assert_int_equal(cx[4], 0xee);
  /* past MV_LIMIT_CLF_CX_TEXT everything is current */
  size_t n = MV_LIMIT_CLF_CX_TEXT + 64;
  char *big = malloc(n);
  uint8_t *bcx = malloc(n);
  assert_non_null(big);
  assert_non_null(bcx);
  memset(big, ' ', n);
  memcpy(big + n - 10, "no fever", 8);
  assert_int_equal(mv_clf_context_mark(big, n, bcx, n), MV_OK);
  assert_int_equal(bcx[n - 7], CUR);
  srand(11);
  for (int k = 0; k < 300; k++) {
    size_t l = (size_t)(rand() % 512);
    for (size_t i = 0; i < l; i++)
      big[i] = (char)(rand() & 0xff);
    assert_int_equal(mv_clf_context_mark(big, l, bcx, l), MV_OK);
    for (size_t i = 0; i < l; i++)
      assert_true(bcx[i] <= HYP);
  }
  free(big);
  free(bcx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(context_negation_en),
      cmocka_unit_test(context_negation_zh),
      cmocka_unit_test(context_history),
      cmocka_unit_test(context_family),
      cmocka_unit_test(context_hypothetical),
      cmocka_unit_test(context_coordination_and_variants),
      cmocka_unit_test(context_spans_and_clauses),
      cmocka_unit_test(context_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
