/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the corpus reader (src/clf/corpus.c): a valid id,label,text file
 * with quoting, and each kind of bad input named with its line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mv_clf.h"

static char path[64];

static void write_file(const char *text) {
  snprintf(path, sizeof path, "/tmp/mv-corpus-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  size_t n = strlen(text);
  assert_int_equal(write(fd, text, n), (ssize_t)n);
  close(fd);
}

static void corpus_reads_rows_with_quotes(void **state) {
  (void)state;
  struct mv_clf_corpus c;
  write_file(
      "id,label,text\n1,flu,\"fever, cough\"\n2,cold,\"runny \"\"nose\"\"\"\n");
  assert_int_equal(mv_clf_corpus_read(path, &c, NULL), MV_OK);
  assert_int_equal(c.n, 2);
  assert_string_equal(c.label[0], "flu");
  assert_string_equal(c.text[0], "fever, cough");
  assert_string_equal(c.text[1], "runny \"nose\"");
  mv_clf_corpus_release(&c);
  assert_int_equal(c.n, 0);
  unlink(path);
}

static void expect_bad(const char *text, int err, int line) {
  struct mv_clf_corpus c;
  struct mv_diag d;
  mv_diag_clear(&d);
  write_file(text);
  assert_int_equal(mv_clf_corpus_read(path, &c, &d), err);
  assert_int_equal(d.line, line);
  assert_string_equal(d.path, path);
  assert_true(d.msg[0] != '\0');
  assert_null(c.text);
  unlink(path);
}

static void corpus_bad_input_names_the_line(void **state) {
  (void)state;
  expect_bad("", MV_EPARSE, 1);
  expect_bad("id,name,text\n1,a,b\n", MV_EPARSE, 1); /* no label column */
  expect_bad("id,label,text\n1,flu,fever\n2,cold\n", MV_EPARSE, 3);
  expect_bad("id,label,text\n1,,fever\n", MV_EPARSE, 2); /* empty label */
  expect_bad("id,label,text\n1,flu,\"open\n", MV_EPARSE, 2);
  expect_bad("id,label,text\n", MV_EPARSE, 1); /* no data rows */
}

static void corpus_missing_file_is_eio(void **state) {
  (void)state;
  struct mv_clf_corpus c;
  assert_int_equal(mv_clf_corpus_read("/nonexistent/x.csv", &c, NULL), MV_EIO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(corpus_reads_rows_with_quotes),
      cmocka_unit_test(corpus_bad_input_names_the_line),
      cmocka_unit_test(corpus_missing_file_is_eio),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
