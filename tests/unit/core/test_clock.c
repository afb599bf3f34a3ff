/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the injectable clock (src/core/clock.c): the fake clock only
 * moves when told to, the system clock is sane, and RFC 3339 formatting is
 * exact, including the epoch, times before it and millisecond truncation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "mv_clock.h"

static void clock_fake_starts_at_given_time(void **state) {
  (void)state;
  struct mv_clock_fake f;
  mv_clock_fake_init(&f, 1234567);
  assert_int_equal(mv_clock_now_us(&f.clock), 1234567);
  assert_int_equal(mv_clock_mono_us(&f.clock), 1234567);
}

static void clock_fake_moves_only_on_advance(void **state) {
  (void)state;
  struct mv_clock_fake f;
  mv_clock_fake_init(&f, 1000);
  assert_int_equal(mv_clock_now_us(&f.clock), 1000);
  assert_int_equal(mv_clock_now_us(&f.clock), 1000);
  mv_clock_fake_advance(&f, 250);
  assert_int_equal(mv_clock_now_us(&f.clock), 1250);
  assert_int_equal(mv_clock_mono_us(&f.clock), 1250);
  mv_clock_fake_advance(&f, 0);
  assert_int_equal(mv_clock_now_us(&f.clock), 1250);
  mv_clock_fake_advance(&f, -50);
  assert_int_equal(mv_clock_now_us(&f.clock), 1200);
}

static void clock_fakes_are_independent(void **state) {
  (void)state;
  struct mv_clock_fake a, b;
  mv_clock_fake_init(&a, 10);
  mv_clock_fake_init(&b, 20);
  mv_clock_fake_advance(&a, 5);
  assert_int_equal(mv_clock_now_us(&a.clock), 15);
  assert_int_equal(mv_clock_now_us(&b.clock), 20);
}

static void clock_system_is_after_2024_and_monotonic(void **state) {
  (void)state;
  const struct mv_clock *c = mv_clock_system();
  assert_non_null(c);
  assert_ptr_equal(c, mv_clock_system());
  /* 2024-01-01T00:00:00Z; a clock before that is broken, not "early". */
  assert_true(mv_clock_now_us(c) > INT64_C(1704067200000000));
  int64_t m1 = mv_clock_mono_us(c);
  int64_t m2 = mv_clock_mono_us(c);
  assert_true(m2 >= m1);
}

static void rfc3339_formats_known_instant(void **state) {
  (void)state;
  char buf[32];
  /* 2026-11-24T23:02:21Z is 1795561341 s after the epoch. */
  const char *s =
      mv_time_format_rfc3339(INT64_C(1795561341123456), buf, sizeof(buf));
  assert_ptr_equal(s, buf);
  assert_string_equal(buf, "2026-11-24T23:02:21.123Z");
}

static void rfc3339_formats_epoch(void **state) {
  (void)state;
  char buf[32];
  assert_string_equal(mv_time_format_rfc3339(0, buf, sizeof(buf)),
                      "1970-01-01T00:00:00.000Z");
}

static void rfc3339_truncates_to_milliseconds(void **state) {
  (void)state;
  char buf[32];
  assert_string_equal(mv_time_format_rfc3339(999, buf, sizeof(buf)),
                      "1970-01-01T00:00:00.000Z");
  assert_string_equal(mv_time_format_rfc3339(1999, buf, sizeof(buf)),
                      "1970-01-01T00:00:00.001Z");
  assert_string_equal(mv_time_format_rfc3339(999999, buf, sizeof(buf)),
                      "1970-01-01T00:00:00.999Z");
}

static void rfc3339_formats_before_epoch(void **state) {
  (void)state;
  char buf[32];
  /* One millisecond before the epoch is the previous day, .999 ms. */
  assert_string_equal(mv_time_format_rfc3339(-1000, buf, sizeof(buf)),
                      "1969-12-31T23:59:59.999Z");
  assert_string_equal(mv_time_format_rfc3339(-1, buf, sizeof(buf)),
                      "1969-12-31T23:59:59.999Z");
  assert_string_equal(mv_time_format_rfc3339(-1000000, buf, sizeof(buf)),
                      "1969-12-31T23:59:59.000Z");
  assert_string_equal(
      mv_time_format_rfc3339(-INT64_C(86400000000), buf, sizeof(buf)),
      "1969-12-31T00:00:00.000Z");
}

static void rfc3339_handles_leap_day(void **state) {
  (void)state;
  char buf[32];
  /* 2024-02-29T12:00:00Z = 1709208000 s. */
  assert_string_equal(
      mv_time_format_rfc3339(INT64_C(1709208000000000), buf, sizeof(buf)),
      "2024-02-29T12:00:00.000Z");
}

static void rfc3339_respects_small_buffer(void **state) {
  (void)state;
  char buf[11];
  memset(buf, 'Z', sizeof(buf));
  mv_time_format_rfc3339(0, buf, sizeof(buf));
  assert_string_equal(buf, "1970-01-01");
}

static void civil_days_known_dates(void **state) {
  (void)state;
  assert_int_equal(mv_time_days_from_civil(1970, 1, 1), 0);
  assert_int_equal(mv_time_days_from_civil(1969, 12, 31), -1);
  assert_int_equal(mv_time_days_from_civil(2000, 3, 1), 11017);
  assert_int_equal(mv_time_days_from_civil(2026, 11, 25), 20782);
  assert_int_equal(mv_time_days_from_civil(1, 1, 1), -719162);
  assert_int_equal(mv_time_days_from_civil(-1, 12, 31), -719529);
}

/* Every day from year -400 to 2800 maps back to its date, one apart. */
static void civil_days_round_trip(void **state) {
  (void)state;
  int64_t first = mv_time_days_from_civil(-400, 1, 1);
  int64_t last = mv_time_days_from_civil(2800, 12, 31);
  int64_t y0 = -400;
  int m0 = 1, d0 = 1;
  for (int64_t z = first; z <= last; z++) {
    int64_t y;
    int m, d;
    mv_time_civil_from_days(z, &y, &m, &d);
    if (z > first) { /* the day after the previous one */
      bool next_month = d0 == mv_time_days_in_month(y0, m0);
      assert_int_equal(d, next_month ? 1 : d0 + 1);
      assert_int_equal(m, next_month ? (m0 == 12 ? 1 : m0 + 1) : m0);
      assert_int_equal(y, next_month && m0 == 12 ? y0 + 1 : y0);
    }
    assert_int_equal(mv_time_days_from_civil(y, m, d), z);
    y0 = y, m0 = m, d0 = d;
  }
}

static void civil_month_lengths(void **state) {
  (void)state;
  assert_int_equal(mv_time_days_in_month(2024, 2), 29);
  assert_int_equal(mv_time_days_in_month(2023, 2), 28);
  assert_int_equal(mv_time_days_in_month(1900, 2), 28);
  assert_int_equal(mv_time_days_in_month(2000, 2), 29);
  assert_int_equal(mv_time_days_in_month(2026, 4), 30);
  assert_int_equal(mv_time_days_in_month(2026, 12), 31);
  assert_int_equal(mv_time_days_in_month(2026, 0), 0);
  assert_int_equal(mv_time_days_in_month(2026, 13), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(clock_fake_starts_at_given_time),
      cmocka_unit_test(clock_fake_moves_only_on_advance),
      cmocka_unit_test(clock_fakes_are_independent),
      cmocka_unit_test(clock_system_is_after_2024_and_monotonic),
      cmocka_unit_test(rfc3339_formats_known_instant),
      cmocka_unit_test(civil_days_known_dates),
      cmocka_unit_test(civil_days_round_trip),
      cmocka_unit_test(civil_month_lengths),
      cmocka_unit_test(rfc3339_formats_epoch),
      cmocka_unit_test(rfc3339_truncates_to_milliseconds),
      cmocka_unit_test(rfc3339_formats_before_epoch),
      cmocka_unit_test(rfc3339_handles_leap_day),
      cmocka_unit_test(rfc3339_respects_small_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
