/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The model file: trained on our synthetic bilingual fixture
 * (tests/data/clf), saved and loaded back with identical predictions;
 * named sections round-trip; every corruption (flipped byte, truncation,
 * wrong version, bad magic, empty file, huge length) is rejected with a
 * clear error and never crashes; explanations point into the text. Also
 * evaluates the fixture's dev split.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clf_int.h"
#include "mv_csv.h"
#include "mv_test.h"

struct fx {
  char **text;
  uint32_t *y;
  size_t n;
};

static const char *const names[] = {"allergy", "flu", "gastroenteritis",
                                    "migraine"};

static void fx_read(const char *which, struct fx *f) {
  char path[4096];
  const char *src = getenv("MV_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/tests/data/clf/%s.csv", src ? src : ".",
           which);
  struct mv_csv *c = NULL;
  char **fl;
  size_t nf;
  assert_int_equal(mv_csv_open_file(path, &c, NULL), MV_OK);
  assert_int_equal(mv_csv_next(c, &fl, &nf, NULL), MV_OK);
  memset(f, 0, sizeof *f);
  f->text = calloc(256, sizeof *f->text);
  f->y = calloc(256, sizeof *f->y);
  while (mv_csv_next(c, &fl, &nf, NULL) == MV_OK) {
    assert_int_equal(nf, 3);
    assert_true(f->n < 256);
    f->text[f->n] = strdup(fl[2]);
    f->y[f->n] = 99;
    for (uint32_t k = 0; k < 4; k++)
      if (strcmp(fl[1], names[k]) == 0)
        f->y[f->n] = k;
    assert_true(f->y[f->n] < 4);
    f->n++;
  }
  mv_csv_free(c);
}

static void fx_free(struct fx *f) {
  for (size_t i = 0; i < f->n; i++)
    free(f->text[i]);
  free(f->text);
  free(f->y);
}

static struct mv_clf_model *train_fx(void) {
  struct fx f;
  fx_read("train", &f);
  struct mv_clf_model *m = NULL;
  struct mv_clf_train_opts o = {.class_weight = MV_CLF_CW_DEFAULT,
                                .tok_exclude = MV_CLF_EXCLUDE_DEFAULT};
  assert_int_equal(mv_clf_train((const char *const *)f.text, f.y, f.n, names, 4,
                                &o, &m, NULL),
                   MV_OK);
  fx_free(&f);
  return m;
}

static void model_round_trips_through_a_file(void **st) {
  (void)st;
  struct mv_clf_model *m = train_fx(), *m2 = NULL;
  char dir[256], path[300];
  assert_int_equal(mvt_tempdir(dir, sizeof dir, "mv-clf"), 0);
  snprintf(path, sizeof path, "%s/model.mvc", dir);
  assert_int_equal(mv_clf_model_set_section(m, "inquiry", "abc", 3), MV_OK);
  assert_int_equal(mv_clf_model_save(m, path, NULL), MV_OK);
  struct mv_diag dg = {0};
  assert_int_equal(mv_clf_model_load(path, &m2, &dg), MV_OK);
  assert_int_equal(mv_clf_n_labels(m2), 4);
  assert_string_equal(mv_clf_label(m2, 3), "migraine");
  assert_null(mv_clf_label(m2, 4));
  assert_int_equal(mv_clf_label_find(m2, "flu"), 1);
  assert_int_equal(mv_clf_label_find(m2, "nope"), -1);
  assert_true(mv_clf_temperature(m2) == mv_clf_temperature(m));
  const void *p;
  size_t len;
  assert_int_equal(mv_clf_model_section(m2, "inquiry", &p, &len), MV_OK);
  assert_int_equal(len, 3);
  assert_memory_equal(p, "abc", 3);
  assert_int_equal((uintptr_t)p % 8, 0);
  assert_int_equal(mv_clf_model_section(m2, "nothing", &p, &len), MV_ENOTFOUND);
  assert_int_equal(mv_clf_model_set_section(m2, "clf.w", "x", 1), MV_EINVAL);
  assert_int_equal(mv_clf_model_set_section(m2, "a-name-far-too-long", "x", 1),
                   MV_EINVAL);
  const char *texts[] = {"fever and chills", "我腹泻呕吐两天", "", "🤒🤒",
                         "sneezing 打喷嚏 itchy eyes"};
  for (size_t i = 0; i < MV_ARRAY_LEN(texts); i++) {
    double a[4], b[4];
    assert_int_equal(mv_clf_predict(m, texts[i], strlen(texts[i]), 0, a, 4),
                     MV_OK);
    assert_int_equal(mv_clf_predict(m2, texts[i], strlen(texts[i]), 0, b, 4),
                     MV_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_true(fabs(a[0] + a[1] + a[2] + a[3] - 1) < 1e-9);
  }
  double pr[4];
  assert_int_equal(mv_clf_predict(m2, "x", 1, 0, pr, 3), MV_EINVAL);
  mv_clf_model_free(m);
  mv_clf_model_free(m2);
  mvt_rm_rf(dir);
}

static void expect_load(const uint8_t *b, size_t len, int want) {
  struct mv_clf_model *m = NULL;
  struct mv_diag dg = {0};
  int rc = mv_clf_model_load_mem(b, len, &m, &dg);
  assert_int_equal(rc, want);
  assert_null(m);
  assert_true(dg.msg[0] != '\0');
}

static void model_rejects_corrupt_truncated_and_wrong_version(void **st) {
  (void)st;
  struct mv_clf_model *m = train_fx();
  uint8_t *img = NULL;
  size_t len = 0;
  assert_int_equal(mv_clf_model_serialize(m, &img, &len), MV_OK);
  mv_clf_model_free(m);
  uint8_t *c = malloc(len);
  /* every 97th byte flipped, one at a time: the checksum or the header
   * check catches each */
  for (size_t i = 0; i < len; i += 97) {
    memcpy(c, img, len);
    c[i] ^= 0x40;
    struct mv_clf_model *x = NULL;
    int rc = mv_clf_model_load_mem(c, len, &x, NULL);
    assert_true(rc == MV_ECORRUPT || rc == MV_EUNSUPPORTED);
    assert_null(x);
  }
  /* truncations */
  expect_load(img, len - 1, MV_ECORRUPT);
  expect_load(img, len / 2, MV_ECORRUPT);
  expect_load(img, 10, MV_ECORRUPT);
  expect_load(img, 0, MV_ECORRUPT);
  /* wrong version, checksum fixed up so only the version is wrong */
  memcpy(c, img, len);
  uint32_t v = 2;
  memcpy(c + 8, &v, 4);
  expect_load(c, len, MV_EUNSUPPORTED);
  /* a consistent file whose section table lies: checksum recomputed */
  memcpy(c, img, len);
  uint64_t huge = (uint64_t)len * 4;
  memcpy(c + MV__CLF_HDR + 24, &huge, 8); /* first section's length */
  uint32_t crc = mv__clf_crc32(0, c + MV__CLF_HDR, len - MV__CLF_HDR);
  memcpy(c + 24, &crc, 4);
  expect_load(c, len, MV_ECORRUPT);
  /* a vocabulary index out of range, checksum recomputed */
  memcpy(c, img, len);
  struct mv_clf_model *ok = NULL;
  assert_int_equal(mv_clf_model_load_mem(img, len, &ok, NULL), MV_OK);
  size_t off = (size_t)((const uint8_t *)ok->vvals - ok->image);
  for (uint32_t i = 0; i < ok->meta.vocab_cap; i++)
    if (ok->vkeys[i]) {
      uint32_t bad = 0xFFFFFFF0u;
      memcpy(c + off + 4 * i, &bad, 4);
      break;
    }
  mv_clf_model_free(ok);
  crc = mv__clf_crc32(0, c + MV__CLF_HDR, len - MV__CLF_HDR);
  memcpy(c + 24, &crc, 4);
  expect_load(c, len, MV_ECORRUPT);
  /* not a model at all */
  expect_load((const uint8_t *)"id,label,text\n1,a,b\n", 20, MV_ECORRUPT);
  /* files: missing, and a directory */
  struct mv_clf_model *x = NULL;
  struct mv_diag dg = {0};
  assert_int_equal(mv_clf_model_load("/nonexistent/m.mvc", &x, &dg), MV_EIO);
  assert_true(strstr(dg.path, "/nonexistent/m.mvc") != NULL);
  assert_int_not_equal(mv_clf_model_load("/tmp", &x, &dg), MV_OK);
  assert_null(x);
  free(c);
  free(img);
}

static void model_explains_with_spans_in_the_text(void **st) {
  (void)st;
  struct mv_clf_model *m = train_fx();
  const char *t = "Since yesterday I have diarrhea and vomiting.";
  double p[4];
  assert_int_equal(mv_clf_predict(m, t, strlen(t), 0, p, 4), MV_OK);
  assert_true(p[2] > 0.5); /* gastroenteritis */
  struct mv_clf_contrib c[8];
  size_t n = 0;
  assert_int_equal(mv_clf_explain(m, t, strlen(t), 2, c, 8, &n), MV_OK);
  assert_true(n >= 1);
  bool saw = false;
  for (size_t i = 0; i < n; i++) {
    assert_true(c[i].start + c[i].len <= strlen(t));
    assert_true(c[i].weight > 0);
    if (i)
      assert_true(c[i].weight <= c[i - 1].weight);
    saw |= strncmp(t + c[i].start, "diarrhea", c[i].len) == 0 ||
           strncmp(t + c[i].start, "vomiting", c[i].len) == 0;
  }
  assert_true(saw);
  assert_int_equal(mv_clf_explain(m, t, strlen(t), 9, c, 8, &n), MV_EINVAL);
  /* a negated mention is never a reason */
  const char *neg = "no diarrhea, but vomiting";
  assert_int_equal(mv_clf_explain(m, neg, strlen(neg), 2, c, 8, &n), MV_OK);
  for (size_t i = 0; i < n; i++)
    assert_true(strncmp(neg + c[i].start, "diarrhea", 8) != 0);
  mv_clf_model_free(m);
}

static void model_classifies_the_fixture_dev_split(void **st) {
  (void)st;
  struct mv_clf_model *m = train_fx();
  struct fx d;
  fx_read("dev", &d);
  long *y = malloc(d.n * sizeof *y);
  for (size_t i = 0; i < d.n; i++)
    y[i] = (long)d.y[i];
  struct mv_clf_metrics mt;
  assert_int_equal(mv_clf_evaluate(m, (const char *const *)d.text, y, d.n, &mt),
                   MV_OK);
  printf("fixture dev: n=%zu accuracy=%.4f macro_f1=%.4f top3=%.4f "
         "ece=%.4f\n",
         mt.n, mt.accuracy, mt.macro_f1, mt.top3, mt.ece);
  assert_int_equal(mt.n, 48);
  assert_true(mt.accuracy >= 0.9);
  assert_true(mt.top3 >= 0.97);
  /* an unknown label is always wrong */
  y[0] = -1;
  struct mv_clf_metrics m2;
  assert_int_equal(mv_clf_evaluate(m, (const char *const *)d.text, y, d.n, &m2),
                   MV_OK);
  assert_true(m2.accuracy < mt.accuracy || mt.accuracy == 0);
  free(y);
  fx_free(&d);
  mv_clf_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(model_round_trips_through_a_file),
      cmocka_unit_test(model_rejects_corrupt_truncated_and_wrong_version),
      cmocka_unit_test(model_explains_with_spans_in_the_text),
      cmocka_unit_test(model_classifies_the_fixture_dev_split),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
