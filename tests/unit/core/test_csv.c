/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the CSV reader (src/core/csv.c): plain and quoted fields,
 * escaped quotes, commas and newlines inside quotes, CRLF, a BOM, blank
 * lines, record line numbers, and the errors (unterminated quote, text after
 * a closing quote, a stray quote) with the line they name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mv_csv.h"

static struct mv_csv *open_text(const char *s) {
  struct mv_csv *c = NULL;
  assert_int_equal(mv_csv_open_mem(s, strlen(s), &c), MV_OK);
  return c;
}

static void csv_plain_records(void **state) {
  (void)state;
  struct mv_csv *c = open_text("t,I\n1,5\n2,7");
  char **f;
  size_t n;
  assert_int_equal(mv_csv_next(c, &f, &n, NULL), MV_OK);
  assert_int_equal(n, 2);
  assert_string_equal(f[0], "t");
  assert_int_equal(mv_csv_find(f, n, "I"), 1);
  assert_int_equal(mv_csv_find(f, n, "J"), -1);
  assert_int_equal(mv_csv_next(c, &f, &n, NULL), MV_OK);
  assert_string_equal(f[1], "5");
  assert_int_equal(mv_csv_line(c), 2);
  assert_int_equal(mv_csv_next(c, &f, &n, NULL), MV_OK);
  assert_string_equal(f[0], "2");
  assert_string_equal(f[1], "7");
  assert_int_equal(mv_csv_next(c, &f, &n, NULL), MV_ENOTFOUND);
  assert_int_equal(mv_csv_next(c, &f, &n, NULL), MV_ENOTFOUND);
  mv_csv_free(c);
}

static void csv_quotes_crlf_bom_blank(void **state) {
  (void)state;
  struct mv_csv *c =
      open_text("\xEF\xBB\xBFid,text\r\n\r\n1,\"a, \"\"b\"\"\nc\"\r\n2,,\r\n");
  char **f;
  size_t n;
  assert_int_equal(mv_csv_next(c, &f, &n, NULL), MV_OK);
  assert_string_equal(f[0], "id");
  assert_string_equal(f[1], "text");
  assert_int_equal(mv_csv_next(c, &f, &n, NULL), MV_OK);
  assert_int_equal(mv_csv_line(c), 3);
  assert_int_equal(n, 2);
  assert_string_equal(f[1], "a, \"b\"\nc");
  assert_int_equal(mv_csv_next(c, &f, &n, NULL), MV_OK);
  assert_int_equal(mv_csv_line(c), 5); /* the quoted newline counted */
  assert_int_equal(n, 3);
  assert_string_equal(f[1], "");
  assert_string_equal(f[2], "");
  assert_int_equal(mv_csv_next(c, &f, &n, NULL), MV_ENOTFOUND);
  mv_csv_free(c);
}

static void expect_error(const char *text, size_t line) {
  struct mv_csv *c = open_text(text);
  struct mv_diag d;
  char **f;
  size_t n;
  int rc;
  mv_diag_clear(&d);
  while ((rc = mv_csv_next(c, &f, &n, &d)) == MV_OK)
    ;
  assert_int_equal(rc, MV_EPARSE);
  assert_int_equal(d.line, (int)line);
  assert_true(strlen(d.msg) > 0);
  assert_int_equal(mv_csv_next(c, &f, &n, &d), MV_ENOTFOUND);
  mv_csv_free(c);
}

static void csv_errors_name_the_line(void **state) {
  (void)state;
  expect_error("a,b\n1,\"open", 2);
  expect_error("a,b\n1,2\n\"x\"y,3", 3);
  expect_error("a,b\n1,x\"y", 2);
}

static void csv_file_errors(void **state) {
  (void)state;
  struct mv_csv *c = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_csv_open_file("/nonexistent/x.csv", &c, &d), MV_EIO);
  assert_null(c);
  assert_string_equal(d.path, "/nonexistent/x.csv");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(csv_plain_records),
      cmocka_unit_test(csv_quotes_crlf_bom_blank),
      cmocka_unit_test(csv_errors_name_the_line),
      cmocka_unit_test(csv_file_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
