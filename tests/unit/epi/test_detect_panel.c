/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The long-format panel reader (src/epi/panel.c): units in order of first
 * appearance (grouped or interleaved rows), frequency from the dates,
 * population and NA, and the line-numbered errors for negative or
 * fractional counts, gaps, unsorted or repeated t, bad dates, missing
 * columns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "mv_epi_detect.h"

static int parse(const char *text, struct mv_epi_panel **p, struct mv_diag *d) {
  mv_diag_clear(d);
  return mv_epi_panel_parse(text, strlen(text), "in.csv", p, d);
}

static void panel_reads_units_in_order(void **state) {
  (void)state;
  struct mv_epi_panel *p = NULL;
  struct mv_diag d;
  const char *t = "t,date,unit,observed,population\n"
                  "1,2020-01-06,b,3,100\n1,2020-01-06,a,0,50\n"
                  "2,2020-01-13,b,NA,100\n2,2020-01-13,a,7,50\n";
  assert_int_equal(parse(t, &p, &d), MV_OK);
  assert_int_equal(mv_epi_panel_count(p), 2);
  assert_string_equal(mv_epi_panel_unit(p, 0), "b");
  assert_int_equal(mv_epi_panel_find(p, "a"), 1);
  assert_int_equal(mv_epi_panel_find(p, "c"), -1);
  struct mv_epi_series s;
  assert_int_equal(mv_epi_panel_series(p, 0, &s), MV_OK);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.freq, 52);
  assert_true(isnan(s.observed[1]));
  assert_true(s.population[0] == 100);
  assert_int_equal(s.date_days[1] - s.date_days[0], 7);
  mv_epi_panel_free(p);
  /* no unit column: one unit; daily dates give freq 365 */
  assert_int_equal(
      parse("t,date,observed\n1,2021-01-01,1\n2,2021-01-02,2\n", &p, &d),
      MV_OK);
  assert_int_equal(mv_epi_panel_count(p), 1);
  assert_int_equal(mv_epi_panel_series(p, 0, &s), MV_OK);
  assert_int_equal(s.freq, 365);
  assert_null(s.population);
  mv_epi_panel_free(p);
}

static void expect_error(const char *text, int line, const char *word) {
  struct mv_epi_panel *p = NULL;
  struct mv_diag d;
  assert_int_equal(parse(text, &p, &d), MV_EPARSE);
  assert_null(p);
  assert_int_equal(d.line, line);
  assert_string_equal(d.path, "in.csv");
  if (!strstr(d.msg, word)) {
    print_error("message '%s' lacks '%s'\n", d.msg, word);
    fail();
  }
}

static void panel_rejects_bad_rows_with_line(void **state) {
  (void)state;
  expect_error("t,unit,observed\n1,a,1\n2,a,-1\n", 3, "non-negative");
  expect_error("t,unit,observed\n1,a,1\n2,a,2.5\n", 3, "integer");
  expect_error("t,unit,observed\n1,a,1\n3,a,2\n", 3, "gap");
  expect_error("t,unit,observed\n1,a,1\n2,a,2\n2,a,2\n", 4, "sorted");
  expect_error("t,unit,observed\n2,a,1\n", 2, "start at t = 1");
  expect_error("t,unit,observed\n1,a,x\n", 2, "observed");
  expect_error("t,unit,observed\n1,a\n", 2, "too few");
  expect_error("t,date,observed\n1,2020-02-30,1\n", 2, "date");
  expect_error("t,date,observed\n1,2020-02-03,1\n2,2020-02-03,1\n", 3,
               "increase");
  expect_error("t,unit,count\n1,a,1\n", 1, "observed");
  expect_error("t,unit,observed\n0,a,1\n", 2, "positive");
  expect_error("t,unit,observed\n1,a,1e400\n", 2, "observed");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(panel_reads_units_in_order),
      cmocka_unit_test(panel_rejects_bad_rows_with_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
