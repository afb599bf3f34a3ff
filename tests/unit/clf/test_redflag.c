/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Red flags (src/clf/redflag.c, redflag_table.c): our own labelled test sets
 * tests/data/clf/redflags_{en,zh}.tsv (expected category or "none", text)
 * must give recall 1.0 on positives and no flag on the negated, historical,
 * family, hypothetical and mild look-alike rows (precision and category
 * agreement are printed); generated negated/historical variants of cue
 * phrases in both languages must not trigger; every table row cites a
 * source and every category has English and Chinese rows. The held-out
 * sets tests/data/clf/redflags_heldout_{en,zh}.tsv were written before the
 * rules were tuned on them and must meet the same bar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mv_clf_redflag.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = malloc(1u << 20);
  size_t n = buf ? fread(buf, 1, (1u << 20) - 1, f) : 0;
  fclose(f);
  if (buf)
    buf[n] = 0;
  *len = n;
  return buf;
}

static void run_tsv_min(const char *name, size_t min_pos, size_t min_neg) {
  const char *src = getenv("MV_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/data/clf/%s", src ? src : ".", name);
  size_t len = 0;
  char *buf = slurp(path, &len);
  assert_non_null(buf);
  size_t pos = 0, tp = 0, fn = 0, fp = 0, tn = 0, cat_ok = 0, line = 0;
  while (pos < len) {
    char *ln = buf + pos;
    char *nl = strchr(ln, '\n');
    size_t l = nl ? (size_t)(nl - ln) : len - pos;
    pos += l + 1;
    ln[l] = 0;
    if (++line == 1 || l == 0)
      continue; /* header */
    char *tab = strchr(ln, '\t');
    assert_non_null(tab);
    *tab = 0;
    const char *expect = ln, *text = tab + 1;
    int want = mv_clf_rf_from_id(expect);
    if (want < 0)
      fail_msg("%s:%zu: unknown category %s", name, line, expect);
    struct mv_clf_rf_result r;
    assert_int_equal(mv_clf_redflag_check(text, strlen(text), &r), MV_OK);
    if (want != MV_CLF_RF_NONE) {
      if (r.red_flag) {
        tp++;
        cat_ok += r.category == want;
      } else {
        fn++;
        printf("  MISSED %s:%zu [%s] %s\n", name, line, expect, text);
      }
    } else if (r.red_flag) {
      fp++;
      printf("  FALSE FLAG %s:%zu [%s] %s\n", name, line,
             mv_clf_rf_id(r.category), text);
    } else {
      tn++;
    }
  }
  printf("%s: positives %zu recall %.3f category agreement %.3f; "
         "negatives %zu flagged %zu; precision %.3f\n",
         name, tp + fn, tp + fn ? (double)tp / (double)(tp + fn) : 1.0,
         tp ? (double)cat_ok / (double)tp : 1.0, tn + fp, fp,
         tp + fp ? (double)tp / (double)(tp + fp) : 1.0);
  free(buf);
  assert_true(tp + fn >= min_pos);
  assert_true(tn + fp >= min_neg);
  assert_int_equal(fn, 0); /* recall 1.0 */
  assert_int_equal(fp, 0); /* negated/historical/family/mild do not flag */
}

static void run_tsv(const char *name) {
  run_tsv_min(name, 60, 40);
}

static void redflag_tsv_en_recall_and_negatives(void **state) {
  (void)state;
  run_tsv("redflags_en.tsv");
}

static void redflag_tsv_zh_recall_and_negatives(void **state) {
  (void)state;
  run_tsv("redflags_zh.tsv");
}

/* Held-out sets written before any rule change (docs/TRIAGE.md records the
 * first-sight numbers): new lay phrasings, typos, run-ons, mixed EN/ZH. */
static void redflag_heldout_en_recall_and_negatives(void **state) {
  (void)state;
  run_tsv("redflags_heldout_en.tsv");
}

static void redflag_heldout_zh_recall_and_negatives(void **state) {
  (void)state;
  run_tsv("redflags_heldout_zh.tsv");
}

/* A second held-out pair, written after the first round of fixes and
 * measured before any further change (docs/TRIAGE.md). */
static void redflag_heldout2_en_recall_and_negatives(void **state) {
  (void)state;
  run_tsv_min("redflags_heldout2_en.tsv", 60, 20);
}

static void redflag_heldout2_zh_recall_and_negatives(void **state) {
  (void)state;
  run_tsv_min("redflags_heldout2_zh.tsv", 60, 20);
}

/* Third held-out round (docs/TRIAGE.md "Red flags, held-out round 3"):
 * written before the tables were reread; first-sight recall EN 80/83, ZH
 * 76/79, no false flags. Includes traditional characters, typos, positives
 * after a negated clause ("no fever, but crushing chest pain") and old
 * events followed by a new one ("had a stroke 3 years ago and now ..."). */
static void redflag_heldout3_en_recall_and_negatives(void **state) {
  (void)state;
  run_tsv_min("redflags_heldout3_en.tsv", 80, 40);
}

static void redflag_heldout3_zh_recall_and_negatives(void **state) {
  (void)state;
  run_tsv_min("redflags_heldout3_zh.tsv", 75, 40);
}

/* Fourth held-out round (docs/TRIAGE.md "Held-out round 4"): 169 EN and
 * 168 ZH positives over all 15 categories plus 50 / 47 negatives, written
 * before the cue tables were read; first-sight recall EN 159/169, ZH
 * 158/168, false flags EN 2/50, ZH 0/47. */
static void redflag_heldout4_en_recall_and_negatives(void **state) {
  (void)state;
  run_tsv_min("redflags_heldout4_en.tsv", 150, 45);
}

static void redflag_heldout4_zh_recall_and_negatives(void **state) {
  (void)state;
  run_tsv_min("redflags_heldout4_zh.tsv", 150, 45);
}

static bool flags(const char *text, int *cat) {
  struct mv_clf_rf_result r;
  assert_int_equal(mv_clf_redflag_check(text, strlen(text), &r), MV_OK);
  if (cat)
    *cat = r.category;
  return r.red_flag;
}

/* tmpl with its one "%s" replaced by cue (a template, not a format). */
static void fill(char *buf, size_t cap, const char *tmpl, const char *cue) {
  const char *at = strstr(tmpl, "%s");
  assert_non_null(at);
  snprintf(buf, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, cue, at + 2);
}

/* Cue phrases crossed with context templates: the positive templates must
 * flag the category, every negated/historical/family/hypothetical template
 * must not flag at all. */
static void redflag_context_variants_do_not_trigger(void **state) {
  (void)state;
  static const struct {
    const char *cue;
    int cat;
  } en[] = {{"chest pain", MV_CLF_RF_HEART_ATTACK},
            {"crushing chest pain", MV_CLF_RF_HEART_ATTACK},
            {"a seizure", MV_CLF_RF_SEIZURE},
            {"slurred speech", MV_CLF_RF_STROKE},
            {"difficulty breathing", MV_CLF_RF_BREATHING},
            {"heavy bleeding", MV_CLF_RF_BLEEDING},
            {"a stroke", MV_CLF_RF_STROKE},
            {"a heart attack", MV_CLF_RF_HEART_ATTACK}},
    zh[] = {
        {"胸痛", MV_CLF_RF_HEART_ATTACK}, {"胸口痛", MV_CLF_RF_HEART_ATTACK},
        {"抽搐", MV_CLF_RF_SEIZURE},      {"呼吸困难", MV_CLF_RF_BREATHING},
        {"口角歪斜", MV_CLF_RF_STROKE},   {"中风", MV_CLF_RF_STROKE},
        {"心梗", MV_CLF_RF_HEART_ATTACK}, {"昏迷", MV_CLF_RF_UNCONSCIOUS}};
  static const char *const en_pos[] = {"I have %s", "I'm having %s right now",
                                       "suddenly %s"};
  static const char *const en_neg[] = {
      "no %s",           "I don't have %s",      "denies %s",
      "never had %s",    "my father had %s",     "%s 10 years ago",
      "history of %s",   "what if I get %s",     "I am not having %s",
      "negative for %s", "family history of %s", "worried about getting %s"};
  static const char *const zh_pos[] = {"%s", "我突然%s", "现在%s"};
  static const char *const zh_neg[] = {
      "没有%s",         "否认%s",       "无%s",     "十年前%s过",
      "我父亲有%s病史", "如果%s怎么办", "既往有%s", "家族史：%s",
      "担心以后会%s",   "未见%s"};
  char buf[256];
  for (size_t c = 0; c < MV_ARRAY_LEN(en); c++) {
    for (size_t t = 0; t < MV_ARRAY_LEN(en_pos); t++) {
      int cat;
      fill(buf, sizeof buf, en_pos[t], en[c].cue);
      if (!flags(buf, &cat) || cat != en[c].cat)
        fail_msg("positive not flagged as %s: %s", mv_clf_rf_id(en[c].cat),
                 buf);
    }
    for (size_t t = 0; t < MV_ARRAY_LEN(en_neg); t++) {
      fill(buf, sizeof buf, en_neg[t], en[c].cue);
      if (flags(buf, NULL))
        fail_msg("non-current mention flagged: %s", buf);
    }
  }
  for (size_t c = 0; c < MV_ARRAY_LEN(zh); c++) {
    for (size_t t = 0; t < MV_ARRAY_LEN(zh_pos); t++) {
      int cat;
      fill(buf, sizeof buf, zh_pos[t], zh[c].cue);
      if (!flags(buf, &cat) || cat != zh[c].cat)
        fail_msg("positive not flagged as %s: %s", mv_clf_rf_id(zh[c].cat),
                 buf);
    }
    for (size_t t = 0; t < MV_ARRAY_LEN(zh_neg); t++) {
      fill(buf, sizeof buf, zh_neg[t], zh[c].cue);
      if (flags(buf, NULL))
        fail_msg("non-current mention flagged: %s", buf);
    }
  }
}

static bool has_cjk(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0xe3)
      return true;
  return false;
}

static void redflag_table_rows_cite_sources(void **state) {
  (void)state;
  bool en[MV_CLF_RF_N_CAT] = {false}, zh[MV_CLF_RF_N_CAT] = {false};
  assert_true(mv_clf_rf_rows() > 30);
  for (size_t i = 0; i < mv_clf_rf_rows(); i++) {
    int cat = mv_clf_rf_row_cat(i);
    const char *src = mv_clf_rf_row_source(i);
    assert_true(cat > MV_CLF_RF_NONE && cat < MV_CLF_RF_N_CAT);
    assert_non_null(src);
    assert_true(strlen(src) >= 3);
    (has_cjk(src) ? zh : en)[cat] = true;
  }
  for (int c = 1; c < MV_CLF_RF_N_CAT; c++) {
    if (!en[c] && !zh[c])
      fail_msg("category %s has no rows", mv_clf_rf_id(c));
    assert_non_null(mv_clf_rf_title(c, false));
    assert_non_null(mv_clf_rf_title(c, true));
    assert_int_equal(mv_clf_rf_from_id(mv_clf_rf_id(c)), c);
  }
  assert_int_equal(mv_clf_rf_from_id("none"), MV_CLF_RF_NONE);
  assert_int_equal(mv_clf_rf_from_id("nope"), -1);
  assert_null(mv_clf_rf_id(MV_CLF_RF_N_CAT));
  assert_null(mv_clf_rf_row_source(mv_clf_rf_rows()));
}

/* Each category flags in both languages, hits point at the cue, and the
 * primary category follows the documented order. */
static void redflag_hits_point_into_text(void **state) {
  (void)state;
  const char *t = "没有发烧。I am 30 weeks pregnant and bleeding heavily, "
                  "and my chest hurts";
  struct mv_clf_rf_result r;
  assert_int_equal(mv_clf_redflag_check(t, strlen(t), &r), MV_OK);
  assert_true(r.red_flag);
  assert_int_equal(r.category, MV_CLF_RF_PREGNANCY);
  assert_true(r.n_hits >= 2);
  for (size_t i = 0; i < r.n_hits; i++) {
    assert_true(r.hits[i].start + r.hits[i].len <= strlen(t));
    assert_true(r.hits[i].len > 0);
    assert_non_null(r.hits[i].source);
  }
  assert_int_equal(mv_clf_redflag_check(NULL, 0, &r), MV_OK);
  assert_false(r.red_flag);
  assert_int_equal(r.category, MV_CLF_RF_NONE);
  assert_int_equal(mv_clf_redflag_check("x", 1, NULL), MV_EINVAL);
  assert_int_equal(mv_clf_redflag_check(NULL, 3, &r), MV_EINVAL);
}

/* General mechanisms: traditional characters fold to simplified, a negation
 * carries over "or"/"或", "never ... like this" is an intensity frame. */
static void redflag_general_mechanisms(void **state) {
  (void)state;
  int cat;
  assert_true(flags("我爸突然中風了", &cat));
  assert_int_equal(cat, MV_CLF_RF_STROKE);
  assert_true(flags("胸口劇痛，出了一身冷汗", &cat));
  assert_int_equal(cat, MV_CLF_RF_HEART_ATTACK);
  assert_true(flags("呼吸困難，嘴唇發紫", NULL));
  assert_false(flags("沒有胸痛", NULL));
  assert_false(flags("十年前中風過", NULL));
  assert_false(
      flags("i dont have any chest pain or shortness of breath", NULL));
  /* A comma ends a negation's scope even in a list closed by "or": reading
   * these as negated would miss real emergencies, so they flag (safety
   * first; see src/clf/context.c). */
  assert_true(flags("no fever, headache or difficulty breathing", NULL));
  assert_true(flags("no fever, severe chest pain or pressure", NULL));
  assert_true(flags("no fever, face drooping or slurred speech", NULL));
  assert_true(flags("no rash, lips swelling or throat closing", NULL));
  assert_true(flags("没有发烧，胸口剧痛或者压迫感", NULL));
  assert_false(flags("没有胸痛或者呼吸困难", NULL));
  assert_true(flags("no fever but crushing chest pain", NULL));
  assert_true(flags("从没这么头疼过，突然开始的", &cat));
  assert_true(flags("never had a headache this bad, came on suddenly", NULL));
  assert_false(flags("what does anaphylaxis look like", NULL));
  assert_false(flags("过敏性休克是什么", NULL));
  assert_true(flags("胸口疼得厉害是什么病", NULL));
  assert_false(flags("i fainted once as a teenager", NULL));
  /* Held-out round 4 classes (src/clf/redflag_table.c) and the look-alikes
   * each new row must leave alone. */
  assert_true(flags("my son says he wants to die", &cat));
  assert_int_equal(cat, MV_CLF_RF_SUICIDE);
  assert_true(flags("he keeps cutting himself", NULL));
  assert_false(flags("she hurt herself playing football", NULL));
  assert_false(flags("he cut himself shaving", NULL));
  assert_true(flags("i have pills saved up to take them all", NULL));
  assert_false(flags("saving my pills for the trip", NULL));
  assert_true(flags("dad cant smile on the left side", NULL));
  assert_false(flags("my arm keeps falling asleep at night", NULL));
  assert_true(flags("fever, cold clammy skin, really fast breathing", NULL));
  assert_false(flags("breathing fast after running, slight temp", NULL));
  assert_true(flags("她全身僵硬然后一直发抖，咬到舌头了", NULL));
  assert_false(flags("吃饭咬到舌头了", NULL));
  assert_true(flags("老公胸口闷得慌，疼到下巴", NULL));
  assert_false(flags("胸口闷，有点想吐，吃多了", NULL));
  assert_true(flags("我觉得我死了大家会更好", &cat));
  assert_int_equal(cat, MV_CLF_RF_SUICIDE);
  assert_true(flags("羊水破了，才30周", &cat));
  assert_int_equal(cat, MV_CLF_RF_PREGNANCY);
  assert_false(flags("my son had a febrile seizure when he was a baby", NULL));
  assert_false(flags("he doesnt want to die, he wants to get better", NULL));
  assert_false(flags("没有紫色的点点，发烧一天", NULL));
  assert_true(flags("不发烧，但是腿上有紫色的点点，一直睡", NULL));
  assert_true(flags(
      "after the new antibiotic i came up in welts and i feel faint", &cat));
  assert_int_equal(cat, MV_CLF_RF_ANAPHYLAXIS);
}

/* Bad input never crashes: invalid UTF-8, NULs, emoji, huge text (only the
 * first MV_LIMIT_CLF_CX_TEXT bytes are read), and a cue past the cap. */
static void redflag_bad_input(void **state) {
  (void)state;
  struct mv_clf_rf_result r;
  const char bad[] = "\xff\xfe chest pain \xc3\x28 \xed\xa0\x80 \0 😀 ok";
  assert_int_equal(mv_clf_redflag_check(bad, sizeof bad - 1, &r), MV_OK);
  assert_true(r.red_flag); /* invalid bytes separate words, cue still seen */
  size_t n = MV_LIMIT_CLF_CX_TEXT + 1000;
  char *big = malloc(n);
  assert_non_null(big);
  memset(big, 'a', n);
  for (size_t i = 0; i < n; i += 7)
    big[i] = ' ';
  memcpy(big + n - 20, " chest pain ", 12);
  assert_int_equal(mv_clf_redflag_check(big, n, &r), MV_OK);
  assert_false(r.red_flag);
  memcpy(big + 10, " chest pain ", 12);
  assert_int_equal(mv_clf_redflag_check(big, n, &r), MV_OK);
  assert_true(r.red_flag);
  srand(7);
  for (int k = 0; k < 300; k++) {
    size_t l = (size_t)(rand() % 400);
    for (size_t i = 0; i < l; i++)
      big[i] = (char)(rand() & 0xff);
    assert_int_equal(mv_clf_redflag_check(big, l, &r), MV_OK);
  }
  free(big);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(redflag_tsv_en_recall_and_negatives),
      cmocka_unit_test(redflag_tsv_zh_recall_and_negatives),
      cmocka_unit_test(redflag_heldout_en_recall_and_negatives),
      cmocka_unit_test(redflag_heldout_zh_recall_and_negatives),
      cmocka_unit_test(redflag_heldout2_en_recall_and_negatives),
      cmocka_unit_test(redflag_heldout2_zh_recall_and_negatives),
      cmocka_unit_test(redflag_heldout3_en_recall_and_negatives),
      cmocka_unit_test(redflag_heldout3_zh_recall_and_negatives),
      cmocka_unit_test(redflag_heldout4_en_recall_and_negatives),
      cmocka_unit_test(redflag_heldout4_zh_recall_and_negatives),
      cmocka_unit_test(redflag_context_variants_do_not_trigger),
      cmocka_unit_test(redflag_table_rows_cite_sources),
      cmocka_unit_test(redflag_hits_point_into_text),
      cmocka_unit_test(redflag_general_mechanisms),
      cmocka_unit_test(redflag_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
