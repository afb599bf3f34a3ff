/* SPDX-License-Identifier: Apache-2.0 */
/* Random bytes and UUID formats (RFC 9562 versions 4 and 7). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "mv_err.h"
#include "mv_rand.h"

static void check_shape(const char *u, char version) {
  assert_int_equal(strlen(u), 36);
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23)
      assert_int_equal(u[i], '-');
    else
      assert_non_null(strchr("0123456789abcdef", u[i]));
  }
  assert_int_equal(u[14], version);
  assert_non_null(strchr("89ab", u[19])); /* variant 10 */
}

static void uuid4_has_version_and_variant(void **state) {
  char u[37];
  (void)state;
  for (int i = 0; i < 100; i++) {
    assert_int_equal(mv_uuid4(u), MV_OK);
    check_shape(u, '4');
  }
}

static void uuid7_sorts_by_time_and_is_unique(void **state) {
  char prev[37], u[37];
  struct timespec pause = {0, 2000000}; /* 2 ms: the next millisecond */
  (void)state;
  assert_int_equal(mv_uuid7(prev), MV_OK);
  check_shape(prev, '7');
  for (int i = 0; i < 20; i++) {
    nanosleep(&pause, NULL);
    assert_int_equal(mv_uuid7(u), MV_OK);
    check_shape(u, '7');
    assert_true(strcmp(prev, u) < 0);
    memcpy(prev, u, sizeof(u));
  }
  /* within one millisecond the random part still differs */
  char a[37], b[37];
  assert_int_equal(mv_uuid7(a), MV_OK);
  assert_int_equal(mv_uuid7(b), MV_OK);
  assert_string_not_equal(a, b);
  /* the timestamp is now: first 12 hex digits = ms since the epoch */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  unsigned long long ms = 0;
  for (int i = 0; i < 13; i++)
    if (a[i] != '-')
      ms = ms * 16 + (unsigned long long)(strchr("0123456789abcdef", a[i]) -
                                          "0123456789abcdef");
  unsigned long long now = (unsigned long long)ts.tv_sec * 1000u +
                           (unsigned long long)ts.tv_nsec / 1000000u;
  assert_true(ms <= now && now - ms < 5000);
}

static void random_bytes_fill(void **state) {
  unsigned char a[64], b[64];
  (void)state;
  assert_int_equal(mv_random_bytes(a, sizeof(a)), MV_OK);
  assert_int_equal(mv_random_bytes(b, sizeof(b)), MV_OK);
  assert_memory_not_equal(a, b, sizeof(a));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(uuid4_has_version_and_variant),
      cmocka_unit_test(uuid7_sorts_by_time_and_is_unique),
      cmocka_unit_test(random_bytes_fill),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
