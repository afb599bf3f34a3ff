/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tokenizer of the triage classifier: lower-casing and punctuation for
 * Latin words, CJK character 1-3-grams, invalid UTF-8 and emoji as
 * separators, the text and token caps, language detection, and context:
 * negated and family-history mentions ("no fever", "没有发烧", "my father
 * had a stroke") must not produce the current-symptom feature.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clf_int.h"

static size_t tok(const char *s, struct mv_clf_token *t, size_t cap) {
  size_t n = 99999;
  assert_int_equal(mv_clf_tokenize(s, strlen(s), t, cap, &n), MV_OK);
  assert_true(n <= cap);
  return n;
}

/* The hash of the token of the given kind whose span equals word, or 0. */
static uint64_t find(const char *s, const char *word, unsigned kind) {
  struct mv_clf_token t[256];
  size_t n = tok(s, t, 256);
  const char *p = strstr(s, word);
  for (size_t i = 0; p && i < n; i++)
    if (t[i].kind == kind && t[i].start == (uint32_t)(p - s) &&
        t[i].len == strlen(word))
      return t[i].hash;
  return 0;
}

static void tokenizer_lowercases_and_splits_on_punctuation(void **st) {
  (void)st;
  uint64_t a = find("Fever, HEADACHE!", "Fever", MV_CLF_TOK_WORD);
  uint64_t b = find("i have a fever", "fever", MV_CLF_TOK_WORD);
  assert_true(a != 0);
  assert_int_equal(a, b);
  assert_int_equal(find("Fever, HEADACHE!", "HEADACHE", MV_CLF_TOK_WORD),
                   find("headache", "headache", MV_CLF_TOK_WORD));
  /* full-width Latin folds to ASCII */
  assert_int_equal(find("\xef\xbc\xa6\xef\xbd\x85\xef\xbd\x96\xef\xbd\x85"
                        "\xef\xbd\x92",
                        "\xef\xbc\xa6\xef\xbd\x85\xef\xbd\x96\xef\xbd\x85"
                        "\xef\xbd\x92",
                        MV_CLF_TOK_WORD),
                   b);
  /* single letters are not words; "38.5" is one */
  struct mv_clf_token t[16];
  assert_int_equal(tok("a b c", t, 16), 0);
  assert_true(find("temp 38.5 today", "38.5", MV_CLF_TOK_WORD) != 0);
}

static void tokenizer_emits_bigrams_within_phrases(void **st) {
  (void)st;
  struct mv_clf_token t[16];
  size_t n = tok("sore throat. dry cough", t, 16);
  size_t words = 0, bigrams = 0;
  for (size_t i = 0; i < n; i++) {
    words += t[i].kind == MV_CLF_TOK_WORD;
    bigrams += t[i].kind == MV_CLF_TOK_BIGRAM;
  }
  assert_int_equal(words, 4);
  assert_int_equal(bigrams, 2); /* none across the full stop */
}

static void tokenizer_cjk_char_ngrams(void **st) {
  (void)st;
  struct mv_clf_token t[32];
  /* 头痛发烧: 4 unigrams, 3 bigrams, 2 trigrams */
  size_t n = tok("头痛发烧", t, 32);
  size_t k[6] = {0};
  for (size_t i = 0; i < n; i++)
    k[t[i].kind]++;
  assert_int_equal(k[MV_CLF_TOK_CJK1], 4);
  assert_int_equal(k[MV_CLF_TOK_CJK2], 3);
  assert_int_equal(k[MV_CLF_TOK_CJK3], 2);
  /* punctuation splits runs: 头痛，发烧 has no n-gram across the comma */
  n = tok("头痛，发烧", t, 32);
  memset(k, 0, sizeof k);
  for (size_t i = 0; i < n; i++)
    k[t[i].kind]++;
  assert_int_equal(k[MV_CLF_TOK_CJK2], 2);
  assert_int_equal(k[MV_CLF_TOK_CJK3], 0);
  /* spans point at the characters */
  assert_int_equal(find("我发烧了", "发烧", MV_CLF_TOK_CJK2),
                   find("发烧", "发烧", MV_CLF_TOK_CJK2));
}

static void tokenizer_survives_invalid_utf8_and_emoji(void **st) {
  (void)st;
  struct mv_clf_token t[64];
  const char bad[] =
      "fe\xff"
      "ver \xe5\xa4 \xf0\x9f\x98\xb7 cough \xc0\xaf \xed\xa0\x80";
  size_t n = 0;
  assert_int_equal(mv_clf_tokenize(bad, sizeof bad - 1, t, 64, &n), MV_OK);
  for (size_t i = 0; i < n; i++)
    assert_true(t[i].start + t[i].len <= sizeof bad - 1);
  assert_true(find("x cough y", "cough", MV_CLF_TOK_WORD) ==
              find(bad, "cough", MV_CLF_TOK_WORD));
  /* empty input and NULL with len 0 */
  assert_int_equal(mv_clf_tokenize(NULL, 0, t, 64, &n), MV_OK);
  assert_int_equal(n, 0);
  assert_int_equal(mv_clf_tokenize(NULL, 3, t, 64, &n), MV_EINVAL);
}

static void tokenizer_caps_text_and_tokens(void **st) {
  (void)st;
  size_t len = MV_LIMIT_CLF_TEXT * 4;
  char *big = malloc(len);
  struct mv_clf_token *t = malloc(MV_LIMIT_CLF_TOKENS * sizeof *t);
  assert_non_null(big);
  assert_non_null(t);
  for (size_t i = 0; i < len; i++)
    big[i] = "ab "[i % 3];
  size_t n = 0;
  assert_int_equal(mv_clf_tokenize(big, len, t, MV_LIMIT_CLF_TOKENS, &n),
                   MV_OK);
  for (size_t i = 0; i < n; i++)
    assert_true(t[i].start + t[i].len <= MV_LIMIT_CLF_TEXT);
  assert_int_equal(mv_clf_tokenize(big, len, t, 10, &n), MV_OK);
  assert_int_equal(n, 10);
  free(big);
  free(t);
}

static void tokenizer_detects_language(void **st) {
  (void)st;
  const char *zh = "我头痛发烧三天了";
  const char *en = "I have had a headache for three days";
  const char *mix = "我有 fever 和头痛";
  assert_int_equal(mv_clf_detect_lang(zh, strlen(zh)), MV_CLF_LANG_ZH);
  assert_int_equal(mv_clf_detect_lang(en, strlen(en)), MV_CLF_LANG_EN);
  assert_int_equal(mv_clf_detect_lang(mix, strlen(mix)), MV_CLF_LANG_ZH);
  assert_int_equal(mv_clf_detect_lang("", 0), MV_CLF_LANG_EN);
}

/* True when text yields the current-context feature of word. */
static bool has_current(const char *text, const char *word, unsigned kind) {
  uint64_t want = find(word, word, kind);
  struct mv_clf_token t[256];
  size_t n = tok(text, t, 256);
  for (size_t i = 0; i < n; i++)
    if (t[i].hash == want)
      return true;
  return false;
}

static void tokenizer_negation_is_not_a_current_symptom(void **st) {
  (void)st;
  assert_true(has_current("I have a fever", "fever", MV_CLF_TOK_WORD));
  assert_false(has_current("no fever", "fever", MV_CLF_TOK_WORD));
  assert_false(
      has_current("denies chest pain today", "chest", MV_CLF_TOK_WORD));
  assert_true(has_current("我发烧", "发烧", MV_CLF_TOK_CJK2));
  assert_false(has_current("没有发烧", "发烧", MV_CLF_TOK_CJK2));
  assert_false(has_current("无呼吸困难", "困难", MV_CLF_TOK_CJK2));
  assert_false(has_current("否认胸痛", "胸痛", MV_CLF_TOK_CJK2));
  /* negation ends at the clause: "no fever, but cough" keeps cough */
  assert_true(has_current("no fever, but cough", "cough", MV_CLF_TOK_WORD));
}

static void tokenizer_family_history_is_not_a_current_symptom(void **st) {
  (void)st;
  assert_true(has_current("I had a stroke", "stroke", MV_CLF_TOK_WORD));
  assert_false(
      has_current("my father had a stroke", "stroke", MV_CLF_TOK_WORD));
  /* past history is marked (ctx) though kept as a feature; see
   * docs/TRIAGE.md for why */
  const char *s = "十年前中风过";
  struct mv_clf_token t[64];
  size_t n = tok(s, t, 64);
  bool hist = false;
  for (size_t i = 0; i < n; i++)
    hist |= t[i].ctx == MV_CLF_CTX_HISTORICAL;
  assert_true(hist);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tokenizer_lowercases_and_splits_on_punctuation),
      cmocka_unit_test(tokenizer_emits_bigrams_within_phrases),
      cmocka_unit_test(tokenizer_cjk_char_ngrams),
      cmocka_unit_test(tokenizer_survives_invalid_utf8_and_emoji),
      cmocka_unit_test(tokenizer_caps_text_and_tokens),
      cmocka_unit_test(tokenizer_detects_language),
      cmocka_unit_test(tokenizer_negation_is_not_a_current_symptom),
      cmocka_unit_test(tokenizer_family_history_is_not_a_current_symptom),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
