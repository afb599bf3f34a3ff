/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for percent-decoding and query lookup (src/core/url.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mv_url.h"

static void pct_decode_handles_plus_and_bad_escapes(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(mv_url_decode(out, "a%20b+c", 7, true), 5);
  assert_string_equal(out, "a b c");
  mv_url_decode(out, "a+b", 3, false);
  assert_string_equal(out, "a+b");
  mv_url_decode(out, "%zz%4", 5, true);
  assert_string_equal(out, "%zz%4");
  mv_url_decode(out, "%C3%A9%2f", 9, true);
  assert_string_equal(out, "\xc3\xa9/");
}

static void query_get_returns_first_decoded_value(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(4096);
  assert_non_null(a);
  const char *q = "code=8867-4&name=J%C3%B6rg+M&code=x&flag&empty=&a%26b=1";
  assert_string_equal(mv_url_query_get(a, q, "code"), "8867-4");
  assert_string_equal(mv_url_query_get(a, q, "name"), "J\xc3\xb6rg M");
  assert_string_equal(mv_url_query_get(a, q, "flag"), "");
  assert_string_equal(mv_url_query_get(a, q, "empty"), "");
  assert_string_equal(mv_url_query_get(a, q, "a&b"), "1");
  assert_null(mv_url_query_get(a, q, "missing"));
  assert_null(mv_url_query_get(a, "", "x"));
  mv_arena_free(a);
}

static void decode_keeps_length_past_an_encoded_nul(void **state) {
  (void)state;
  char out[16];
  assert_int_equal(mv_url_decode(out, "a%00b", 5, true), 3);
  assert_memory_equal(out, "a\0b", 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pct_decode_handles_plus_and_bad_escapes),
      cmocka_unit_test(query_get_returns_first_decoded_value),
      cmocka_unit_test(decode_keeps_length_past_an_encoded_nul),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
