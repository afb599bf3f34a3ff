/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for FHIR date/dateTime/instant parsing and formatting
 * (src/fhir/datetime.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mv_fhir.h"

#define S INT64_C(1000000)
#define DAY (86400 * S)

/* 2020-01-01T00:00:00Z and 2021-01-01T00:00:00Z in µs. */
#define T2020 (INT64_C(1577836800) * S)
#define T2021 (INT64_C(1609459200) * S)

static void expect_range(const char *s, enum mv_fhir_date_kind kind, int64_t lo,
                         int64_t hi, enum mv_fhir_date_prec prec) {
  int64_t l = 0, h = 0;
  enum mv_fhir_date_prec p = MV_FHIR_PREC_YEAR;
  assert_int_equal(mv_fhir_date_parse(s, kind, &l, &h, &p), MV_OK);
  assert_int_equal(l, lo);
  assert_int_equal(h, hi);
  assert_int_equal(p, prec);
}

static void expect_bad(const char *s, enum mv_fhir_date_kind kind) {
  int64_t l = 7, h = 8;
  enum mv_fhir_date_prec p = MV_FHIR_PREC_SECOND;
  assert_int_equal(mv_fhir_date_parse(s, kind, &l, &h, &p), MV_EINVAL);
  /* Outputs untouched on error. */
  assert_int_equal(l, 7);
  assert_int_equal(h, 8);
  assert_int_equal(p, MV_FHIR_PREC_SECOND);
}

static void date_partial_precisions_cover_their_whole_period(void **state) {
  (void)state;
  expect_range("2020", MV_FHIR_DATE, T2020, T2021 - 1, MV_FHIR_PREC_YEAR);
  expect_range("2020-02", MV_FHIR_DATE, T2020 + 31 * DAY, T2020 + 60 * DAY - 1,
               MV_FHIR_PREC_MONTH);
  expect_range("2020-01-01", MV_FHIR_DATETIME, T2020, T2020 + DAY - 1,
               MV_FHIR_PREC_DAY);
  expect_range("1970-01-01", MV_FHIR_DATE, 0, DAY - 1, MV_FHIR_PREC_DAY);
  expect_range("1969-12-31", MV_FHIR_DATE, -DAY, -1, MV_FHIR_PREC_DAY);
  /* 2019 is not a leap year: 365 days. */
  expect_range("2019", MV_FHIR_DATE, T2020 - 365 * DAY, T2020 - 1,
               MV_FHIR_PREC_YEAR);
}

static void datetime_applies_zone_offset(void **state) {
  (void)state;
  expect_range("2020-01-01T10:00:00Z", MV_FHIR_DATETIME, T2020 + 36000 * S,
               T2020 + 36001 * S - 1, MV_FHIR_PREC_SECOND);
  expect_range("2020-01-01T10:00:00+02:00", MV_FHIR_DATETIME, T2020 + 28800 * S,
               T2020 + 28801 * S - 1, MV_FHIR_PREC_SECOND);
  expect_range("2020-01-01T00:30:00-14:00", MV_FHIR_INSTANT,
               T2020 + (14 * 3600 + 1800) * S,
               T2020 + (14 * 3600 + 1801) * S - 1, MV_FHIR_PREC_SECOND);
  expect_range("2020-01-01T00:00:00+05:30", MV_FHIR_INSTANT, T2020 - 19800 * S,
               T2020 - 19799 * S - 1, MV_FHIR_PREC_SECOND);
}

static void fraction_up_to_nine_digits_sets_range(void **state) {
  (void)state;
  expect_range("2020-01-01T00:00:00.5Z", MV_FHIR_INSTANT, T2020 + 500000,
               T2020 + 599999, MV_FHIR_PREC_FRACTION);
  expect_range("2020-01-01T00:00:00.123456Z", MV_FHIR_INSTANT, T2020 + 123456,
               T2020 + 123456, MV_FHIR_PREC_FRACTION);
  expect_range("2020-01-01T00:00:00.123456789Z", MV_FHIR_INSTANT,
               T2020 + 123456, T2020 + 123456, MV_FHIR_PREC_FRACTION);
  expect_range("2020-01-01T00:00:00.120Z", MV_FHIR_DATETIME, T2020 + 120000,
               T2020 + 120999, MV_FHIR_PREC_FRACTION);
  expect_bad("2020-01-01T00:00:00.1234567890Z", MV_FHIR_INSTANT);
  expect_bad("2020-01-01T00:00:00.Z", MV_FHIR_INSTANT);
}

static void leap_years_and_impossible_dates(void **state) {
  (void)state;
  int64_t lo, hi;
  assert_int_equal(
      mv_fhir_date_parse("2020-02-29", MV_FHIR_DATE, &lo, &hi, NULL), MV_OK);
  assert_int_equal(lo, T2020 + 59 * DAY);
  assert_int_equal(
      mv_fhir_date_parse("2000-02-29", MV_FHIR_DATE, NULL, NULL, NULL), MV_OK);
  expect_bad("2019-02-29", MV_FHIR_DATE);
  expect_bad("1900-02-29", MV_FHIR_DATE);
  expect_bad("2020-02-30", MV_FHIR_DATE);
  expect_bad("2020-04-31", MV_FHIR_DATE);
  expect_bad("2020-13", MV_FHIR_DATE);
  expect_bad("2020-00", MV_FHIR_DATE);
  expect_bad("2020-01-00", MV_FHIR_DATE);
  expect_bad("0000", MV_FHIR_DATE);
  expect_bad("2020-01-01T24:00:00Z", MV_FHIR_DATETIME);
  expect_bad("2020-01-01T10:60:00Z", MV_FHIR_DATETIME);
  expect_bad("2020-01-01T10:00:61Z", MV_FHIR_DATETIME);
  expect_bad("2020-01-01T10:00:00+14:30", MV_FHIR_DATETIME);
  expect_bad("2020-01-01T10:00:00+15:00", MV_FHIR_DATETIME);
  expect_bad("2020-01-01T10:00:00+01:60", MV_FHIR_DATETIME);
  /* Extreme years stay in range. */
  expect_range("0001-01-01", MV_FHIR_DATE, INT64_C(-62135596800) * S,
               INT64_C(-62135596800) * S + DAY - 1, MV_FHIR_PREC_DAY);
  assert_int_equal(mv_fhir_date_parse("9999-12-31T23:59:59.999999999-14:00",
                                      MV_FHIR_INSTANT, &lo, &hi, NULL),
                   MV_OK);
  assert_true(hi > lo - 1);
}

static void syntax_is_checked_per_kind(void **state) {
  (void)state;
  /* date: no time. */
  expect_bad("2020-01-01T10:00:00Z", MV_FHIR_DATE);
  /* dateTime: a time needs seconds and a zone. */
  expect_bad("2020-01-01T10:00Z", MV_FHIR_DATETIME);
  expect_bad("2020-01-01T10:00:00", MV_FHIR_DATETIME);
  assert_int_equal(
      mv_fhir_date_parse("2020", MV_FHIR_DATETIME, NULL, NULL, NULL), MV_OK);
  /* instant: full date, seconds and zone. */
  expect_bad("2020-01-01", MV_FHIR_INSTANT);
  expect_bad("2020-01-01T10:00:00", MV_FHIR_INSTANT);
  /* Shapes nobody allows. */
  const char *bad[] = {"",
                       "20",
                       "202a",
                       "2020-1-01",
                       "2020-01-1",
                       "2020/01/01",
                       " 2020",
                       "2020 ",
                       "2020T10:00:00Z",
                       "2020-01T10:00:00Z",
                       "2020-01-01t10:00:00Z",
                       "2020-01-01T10:00:00z",
                       "2020-01-01T10",
                       "2020-01-01T10:00:00Zx",
                       "2020-01-01T10:00:00+0100",
                       "2020-01-01T1:00:00Z",
                       "-2020"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    expect_bad(bad[i], MV_FHIR_SEARCH);
    expect_bad(bad[i], MV_FHIR_DATETIME);
  }
  assert_int_equal(mv_fhir_date_parse(NULL, MV_FHIR_DATE, NULL, NULL, NULL),
                   MV_EINVAL);
}

static void search_allows_minutes_and_no_zone(void **state) {
  (void)state;
  expect_range("2020-01-01T10:00", MV_FHIR_SEARCH, T2020 + 36000 * S,
               T2020 + 36060 * S - 1, MV_FHIR_PREC_MINUTE);
  expect_range("2020-01-01T10:00+01:00", MV_FHIR_SEARCH, T2020 + 32400 * S,
               T2020 + 32460 * S - 1, MV_FHIR_PREC_MINUTE);
  expect_range("2020-01-01T10:00:05", MV_FHIR_SEARCH, T2020 + 36005 * S,
               T2020 + 36006 * S - 1, MV_FHIR_PREC_SECOND);
  expect_range("2020", MV_FHIR_SEARCH, T2020, T2021 - 1, MV_FHIR_PREC_YEAR);
}

static void leap_second_is_accepted(void **state) {
  (void)state;
  /* 23:59:60 is allowed by FHIR's expression; it lands on the next
   * minute's first second, as POSIX time does. */
  expect_range("2016-12-31T23:59:60Z", MV_FHIR_INSTANT, INT64_C(1483228800) * S,
               INT64_C(1483228801) * S - 1, MV_FHIR_PREC_SECOND);
}

static void instant_format_round_trips(void **state) {
  (void)state;
  char buf[32];
  assert_int_equal(mv_fhir_instant_format(T2020 + 3723456789, buf, 25), MV_OK);
  assert_string_equal(buf, "2020-01-01T01:02:03.456Z");
  assert_int_equal(mv_fhir_instant_format(0, buf, sizeof(buf)), MV_OK);
  assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
  assert_int_equal(mv_fhir_instant_format(-1, buf, sizeof(buf)), MV_OK);
  assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
  assert_int_equal(mv_fhir_instant_format(T2020 + 59 * DAY, buf, sizeof(buf)),
                   MV_OK);
  assert_string_equal(buf, "2020-02-29T00:00:00.000Z");
  int64_t lo, hi;
  assert_int_equal(mv_fhir_date_parse(buf, MV_FHIR_INSTANT, &lo, &hi, NULL),
                   MV_OK);
  assert_int_equal(lo, T2020 + 59 * DAY);
  assert_int_equal(hi, T2020 + 59 * DAY + 999);

  snprintf(buf, sizeof(buf), "untouched");
  assert_int_equal(mv_fhir_instant_format(0, buf, 24), MV_EINVAL);
  assert_string_equal(buf, "untouched");
  assert_int_equal(mv_fhir_instant_format(INT64_MAX, buf, sizeof(buf)),
                   MV_ERANGE);
  assert_int_equal(mv_fhir_instant_format(INT64_MIN, buf, sizeof(buf)),
                   MV_ERANGE);
}

static void every_day_of_four_centuries_round_trips(void **state) {
  (void)state;
  /* 1900..2299 covers every leap-year rule. */
  int64_t lo0 = 0, lo, hi;
  assert_int_equal(
      mv_fhir_date_parse("1900-01-01", MV_FHIR_DATE, &lo0, NULL, NULL), MV_OK);
  char buf[32], want[16];
  for (int64_t d = 0; d < 146097; d++) {
    assert_int_equal(mv_fhir_instant_format(lo0 + d * DAY, buf, sizeof(buf)),
                     MV_OK);
    memcpy(want, buf, 10);
    want[10] = '\0';
    assert_int_equal(mv_fhir_date_parse(want, MV_FHIR_DATE, &lo, &hi, NULL),
                     MV_OK);
    assert_int_equal(lo, lo0 + d * DAY);
    assert_int_equal(hi, lo + DAY - 1);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(date_partial_precisions_cover_their_whole_period),
      cmocka_unit_test(datetime_applies_zone_offset),
      cmocka_unit_test(fraction_up_to_nine_digits_sets_range),
      cmocka_unit_test(leap_years_and_impossible_dates),
      cmocka_unit_test(syntax_is_checked_per_kind),
      cmocka_unit_test(search_allows_minutes_and_no_zone),
      cmocka_unit_test(leap_second_is_accepted),
      cmocka_unit_test(instant_format_round_trips),
      cmocka_unit_test(every_day_of_four_centuries_round_trips),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
