/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the bounded buffer (src/core/buf.c): appends, the hard maximum
 * (MV_ETOOBIG leaves the buffer unchanged), JSON string escaping, detach and
 * reset, and the NUL terminator after every operation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mv_buf.h"
#include "mv_err.h"

/* The terminator is outside len, so check it explicitly. */
static void assert_terminated(const struct mv_buf *b) {
  assert_int_equal(strlen(mv_buf_cstr(b)), b->len);
  assert_true(b->len <= b->max);
}

static void buf_new_is_empty_string(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 100);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_non_null(mv_buf_cstr(&b));
  assert_string_equal(mv_buf_cstr(&b), "");
  mv_buf_release(&b);
}

static void buf_append_concatenates(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 1000);
  assert_int_equal(mv_buf_append(&b, "abc", 3), MV_OK);
  assert_terminated(&b);
  assert_int_equal(mv_buf_appends(&b, "def"), MV_OK);
  assert_terminated(&b);
  assert_int_equal(mv_buf_append(&b, "ghijk", 2), MV_OK);
  assert_terminated(&b);
  assert_string_equal(mv_buf_cstr(&b), "abcdefgh");
  assert_int_equal(b.len, 8);
  mv_buf_release(&b);
}

static void buf_append_binary_keeps_embedded_nul(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 100);
  assert_int_equal(mv_buf_append(&b, "a\0b", 3), MV_OK);
  assert_int_equal(b.len, 3);
  assert_memory_equal(b.data, "a\0b", 4); /* and the added NUL */
  mv_buf_release(&b);
}

static void buf_grows_across_many_appends(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 1u << 20);
  for (int i = 0; i < 10000; i++)
    assert_int_equal(mv_buf_append(&b, "0123456789", 10), MV_OK);
  assert_int_equal(b.len, 100000);
  assert_terminated(&b);
  for (size_t i = 0; i < b.len; i++)
    assert_int_equal(b.data[i], '0' + (int)(i % 10));
  mv_buf_release(&b);
}

static void buf_appendf_formats(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 1000);
  assert_int_equal(mv_buf_appendf(&b, "%d-%s", 42, "x"), MV_OK);
  assert_int_equal(mv_buf_appendf(&b, "|%05.1f", 3.14159), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "42-x|003.1");
  assert_int_equal(b.len, strlen("42-x|003.1"));
  mv_buf_release(&b);
}

static void buf_appendf_longer_than_initial_capacity(void **state) {
  (void)state;
  struct mv_buf b;
  char big[3000];
  memset(big, 'q', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  mv_buf_init(&b, 10000);
  assert_int_equal(mv_buf_appendf(&b, "<%s>", big), MV_OK);
  assert_int_equal(b.len, sizeof(big) + 1);
  assert_int_equal(b.data[0], '<');
  assert_int_equal(b.data[b.len - 1], '>');
  assert_terminated(&b);
  mv_buf_release(&b);
}

static void buf_append_up_to_max_succeeds(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 8);
  assert_int_equal(mv_buf_append(&b, "12345678", 8), MV_OK);
  assert_int_equal(b.len, 8);
  assert_terminated(&b);
  assert_int_equal(mv_buf_append(&b, "", 0), MV_OK);
  mv_buf_release(&b);
}

static void buf_append_past_max_is_toobig_and_unchanged(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 8);
  assert_int_equal(mv_buf_append(&b, "12345", 5), MV_OK);
  assert_int_equal(mv_buf_append(&b, "6789", 4), MV_ETOOBIG);
  assert_int_equal(b.len, 5);
  assert_string_equal(mv_buf_cstr(&b), "12345");
  assert_int_equal(mv_buf_appends(&b, "abcd"), MV_ETOOBIG);
  assert_string_equal(mv_buf_cstr(&b), "12345");
  assert_int_equal(mv_buf_appendf(&b, "%s", "wxyz"), MV_ETOOBIG);
  assert_string_equal(mv_buf_cstr(&b), "12345");
  assert_int_equal(b.len, 5);
  /* A huge n must not wrap around the bound check. */
  assert_int_equal(mv_buf_append(&b, "x", SIZE_MAX), MV_ETOOBIG);
  assert_int_equal(b.len, 5);
  /* What still fits is accepted. */
  assert_int_equal(mv_buf_append(&b, "678", 3), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "12345678");
  mv_buf_release(&b);
}

static void buf_first_append_past_max_allocates_nothing(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 3);
  assert_int_equal(mv_buf_append(&b, "abcd", 4), MV_ETOOBIG);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_string_equal(mv_buf_cstr(&b), "");
  mv_buf_release(&b);
}

static void buf_json_escapes_quotes_and_backslash(void **state) {
  (void)state;
  struct mv_buf b;
  const char *in = "say \"hi\" \\ there/";
  mv_buf_init(&b, 1000);
  assert_int_equal(mv_buf_append_json_str(&b, in, strlen(in)), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "say \\\"hi\\\" \\\\ there/");
  assert_terminated(&b);
  mv_buf_release(&b);
}

static void buf_json_escapes_control_chars(void **state) {
  (void)state;
  struct mv_buf b;
  const char in[] = "a\nb\rc\td\x01"
                    "e\x1f"
                    "f\x7f"
                    "g";
  mv_buf_init(&b, 1000);
  assert_int_equal(mv_buf_append_json_str(&b, in, sizeof(in) - 1), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "a\\nb\\rc\\td\\u0001e\\u001ff\\u007fg");
  for (size_t i = 0; i < b.len; i++)
    assert_true((unsigned char)b.data[i] >= 0x20);
  mv_buf_release(&b);
}

static void buf_json_escapes_embedded_nul(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 1000);
  assert_int_equal(mv_buf_append_json_str(&b, "x\0y", 3), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "x\\u0000y");
  mv_buf_release(&b);
}

static void buf_json_passes_utf8_through(void **state) {
  (void)state;
  struct mv_buf b;
  /* é, €, 😀 (U+1F600) as raw UTF-8 */
  const char *in = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  mv_buf_init(&b, 1000);
  assert_int_equal(mv_buf_append_json_str(&b, in, strlen(in)), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), in);
  mv_buf_release(&b);
}

static void buf_json_past_max_is_toobig_and_unchanged(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 10);
  assert_int_equal(mv_buf_appends(&b, "ab"), MV_OK);
  /* 5 input bytes, 10 escaped bytes: 2 + 10 > 10. */
  assert_int_equal(mv_buf_append_json_str(&b, "\n\n\n\n\n", 5), MV_ETOOBIG);
  assert_int_equal(b.len, 2);
  assert_string_equal(mv_buf_cstr(&b), "ab");
  mv_buf_release(&b);
}

static void buf_reset_keeps_allocation(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 100);
  assert_int_equal(mv_buf_appends(&b, "hello"), MV_OK);
  char *before = b.data;
  size_t cap = b.cap;
  mv_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_string_equal(mv_buf_cstr(&b), "");
  assert_ptr_equal(b.data, before);
  assert_int_equal(b.cap, cap);
  assert_int_equal(mv_buf_appends(&b, "yo"), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "yo");
  mv_buf_release(&b);
}

static void buf_reset_restores_room_up_to_max(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 4);
  assert_int_equal(mv_buf_appends(&b, "abcd"), MV_OK);
  assert_int_equal(mv_buf_appends(&b, "e"), MV_ETOOBIG);
  mv_buf_reset(&b);
  assert_int_equal(mv_buf_appends(&b, "wxyz"), MV_OK);
  mv_buf_release(&b);
}

static void buf_detach_hands_over_allocation(void **state) {
  (void)state;
  struct mv_buf b;
  size_t len = 0;
  mv_buf_init(&b, 100);
  assert_int_equal(mv_buf_appends(&b, "payload"), MV_OK);
  char *p = mv_buf_detach(&b, &len);
  assert_non_null(p);
  assert_int_equal(len, 7);
  assert_string_equal(p, "payload");
  /* The buffer is empty and usable again, and no longer owns p. */
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_string_equal(mv_buf_cstr(&b), "");
  assert_int_equal(mv_buf_appends(&b, "next"), MV_OK);
  assert_ptr_not_equal(b.data, p);
  assert_string_equal(p, "payload");
  free(p);
  mv_buf_release(&b);
}

static void buf_detach_unwritten_returns_null(void **state) {
  (void)state;
  struct mv_buf b;
  size_t len = 99;
  mv_buf_init(&b, 100);
  assert_null(mv_buf_detach(&b, &len));
  assert_int_equal(len, 0);
  mv_buf_release(&b);
}

static void buf_release_allows_reuse(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 100);
  assert_int_equal(mv_buf_appends(&b, "one"), MV_OK);
  mv_buf_release(&b);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_string_equal(mv_buf_cstr(&b), "");
  assert_int_equal(mv_buf_appends(&b, "two"), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "two");
  mv_buf_release(&b);
}

/* max = SIZE_MAX ("no cap of our own"): max + 1 wraps to 0, which must not
 * clamp the capacity to nothing, and len + n + 1 must not wrap either. */
static void buf_max_size_max_grows_and_rejects_wrapping_n(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, SIZE_MAX);
  assert_int_equal(mv_buf_append(&b, "hello", 5), MV_OK);
  assert_true(b.cap >= 6);
  assert_string_equal(mv_buf_cstr(&b), "hello");
  assert_int_equal(mv_buf_appendf(&b, " %d", 42), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "hello 42");
  mv_buf_release(&b);

  mv_buf_init(&b, SIZE_MAX);
  /* len + n == SIZE_MAX leaves no room for the NUL. */
  assert_int_equal(mv_buf_append(&b, "x", SIZE_MAX), MV_ETOOBIG);
  assert_int_equal(b.len, 0);
  mv_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(buf_new_is_empty_string),
      cmocka_unit_test(buf_append_concatenates),
      cmocka_unit_test(buf_append_binary_keeps_embedded_nul),
      cmocka_unit_test(buf_grows_across_many_appends),
      cmocka_unit_test(buf_appendf_formats),
      cmocka_unit_test(buf_appendf_longer_than_initial_capacity),
      cmocka_unit_test(buf_append_up_to_max_succeeds),
      cmocka_unit_test(buf_append_past_max_is_toobig_and_unchanged),
      cmocka_unit_test(buf_first_append_past_max_allocates_nothing),
      cmocka_unit_test(buf_max_size_max_grows_and_rejects_wrapping_n),
      cmocka_unit_test(buf_json_escapes_quotes_and_backslash),
      cmocka_unit_test(buf_json_escapes_control_chars),
      cmocka_unit_test(buf_json_escapes_embedded_nul),
      cmocka_unit_test(buf_json_passes_utf8_through),
      cmocka_unit_test(buf_json_past_max_is_toobig_and_unchanged),
      cmocka_unit_test(buf_reset_keeps_allocation),
      cmocka_unit_test(buf_reset_restores_room_up_to_max),
      cmocka_unit_test(buf_detach_hands_over_allocation),
      cmocka_unit_test(buf_detach_unwritten_returns_null),
      cmocka_unit_test(buf_release_allows_reuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
