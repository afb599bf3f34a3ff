/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the region allocator (src/core/arena.c): alignment, the byte cap,
 * reuse after reset, string helpers, and allocations larger than one block.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "mv_arena.h"

#define MAX_ALIGN _Alignof(max_align_t)

static void arena_allocations_are_max_aligned(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(1u << 20);
  assert_non_null(a);
  const size_t sizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 100, 1};
  for (size_t i = 0; i < MV_ARRAY_LEN(sizes); i++) {
    void *p = mv_arena_alloc(a, sizes[i]);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % MAX_ALIGN, 0);
    memset(p, 0xab, sizes[i]); /* writable over its whole size (ASan) */
  }
  mv_arena_free(a);
}

static void arena_allocations_do_not_overlap(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(1u << 20);
  unsigned char *p[64];
  for (int i = 0; i < 64; i++) {
    p[i] = mv_arena_alloc(a, 200);
    assert_non_null(p[i]);
    memset(p[i], i, 200);
  }
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 200; j++)
      assert_int_equal(p[i][j], i);
  mv_arena_free(a);
}

static void arena_zalloc_zeroes(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(1u << 16);
  /* Dirty the block first so zeroes cannot come from fresh memory. */
  memset(mv_arena_alloc(a, 256), 0xff, 256);
  mv_arena_reset(a);
  unsigned char *z = mv_arena_zalloc(a, 256);
  assert_non_null(z);
  for (int i = 0; i < 256; i++)
    assert_int_equal(z[i], 0);
  mv_arena_free(a);
}

static void arena_past_cap_returns_null(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(1024);
  assert_non_null(a);
  assert_non_null(mv_arena_alloc(a, 512));
  assert_null(mv_arena_alloc(a, 1024));
  size_t used = mv_arena_used(a);
  assert_true(used >= 512 && used <= 1024);
  /* A refused allocation does not count. */
  assert_null(mv_arena_alloc(a, 4096));
  assert_int_equal(mv_arena_used(a), used);
  /* Smaller requests that fit are still served. */
  assert_non_null(mv_arena_alloc(a, 64));
  mv_arena_free(a);
}

static void arena_cap_cannot_be_passed_by_many_small(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(4096);
  size_t got = 0;
  while (mv_arena_alloc(a, 16) != NULL) {
    got += 16;
    assert_true(got <= 4096);
  }
  assert_true(got > 0);
  assert_true(mv_arena_used(a) <= 4096);
  mv_arena_free(a);
}

static void arena_huge_request_does_not_wrap(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(1u << 20);
  assert_null(mv_arena_alloc(a, SIZE_MAX));
  assert_null(mv_arena_alloc(a, SIZE_MAX - 3));
  assert_int_equal(mv_arena_used(a), 0);
  mv_arena_free(a);
}

static void arena_reset_allows_reuse(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(2048);
  void *first = mv_arena_alloc(a, 1500);
  assert_non_null(first);
  assert_null(mv_arena_alloc(a, 1000));
  mv_arena_reset(a);
  assert_int_equal(mv_arena_used(a), 0);
  void *p = mv_arena_alloc(a, 1000);
  assert_non_null(p);
  /* The kept block is reused from its start, not appended to. */
  assert_ptr_equal(p, first);
  memset(p, 1, 1000);
  mv_arena_free(a);
}

static void arena_reset_on_fresh_arena_is_harmless(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(128);
  mv_arena_reset(a);
  assert_int_equal(mv_arena_used(a), 0);
  assert_non_null(mv_arena_alloc(a, 10));
  mv_arena_free(a);
}

static void arena_used_counts_allocations(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(1u << 16);
  assert_int_equal(mv_arena_used(a), 0);
  assert_non_null(mv_arena_alloc(a, 100));
  size_t u1 = mv_arena_used(a);
  assert_true(u1 >= 100);
  assert_non_null(mv_arena_alloc(a, 100));
  assert_true(mv_arena_used(a) >= u1 + 100);
  mv_arena_free(a);
}

static void arena_strdup_copies(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(1u << 16);
  char src[] = "heart-rate";
  char *d = mv_arena_strdup(a, src);
  assert_non_null(d);
  assert_ptr_not_equal(d, src);
  src[0] = 'X';
  assert_string_equal(d, "heart-rate");
  char *e = mv_arena_strdup(a, "");
  assert_non_null(e);
  assert_string_equal(e, "");
  mv_arena_free(a);
}

static void arena_strndup_stops_and_terminates(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(1u << 16);
  /* Not NUL-terminated within n: only n bytes may be read. */
  const char src[4] = {'a', 'b', 'c', 'd'};
  char *d = mv_arena_strndup(a, src, 3);
  assert_non_null(d);
  assert_string_equal(d, "abc");
  mv_arena_free(a);
}

static void arena_printf_formats(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(1u << 16);
  char *s = mv_arena_printf(a, "%s/%d/%.2f", "obs", 17, 36.6);
  assert_non_null(s);
  assert_string_equal(s, "obs/17/36.60");
  mv_arena_free(a);
}

static void arena_printf_past_cap_returns_null(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(64);
  char big[200];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_null(mv_arena_printf(a, "%s", big));
  assert_null(mv_arena_strdup(a, big));
  mv_arena_free(a);
}

static void arena_large_allocation_beyond_block(void **state) {
  (void)state;
  /* Larger than any sensible block size, so it needs its own block. */
  const size_t big = 1u << 20;
  struct mv_arena *a = mv_arena_new(4u << 20);
  char *small1 = mv_arena_strdup(a, "before");
  unsigned char *p = mv_arena_alloc(a, big);
  assert_non_null(p);
  assert_int_equal((uintptr_t)p % MAX_ALIGN, 0);
  memset(p, 0x5c, big);
  char *small2 = mv_arena_strdup(a, "after");
  assert_non_null(small2);
  assert_string_equal(small1, "before");
  assert_string_equal(small2, "after");
  assert_int_equal(p[0], 0x5c);
  assert_int_equal(p[big - 1], 0x5c);
  assert_true(mv_arena_used(a) >= big);
  mv_arena_reset(a);
  /* After reset the large allocation is possible again. */
  assert_non_null(mv_arena_alloc(a, big));
  mv_arena_free(a);
}

static void arena_free_accepts_null(void **state) {
  (void)state;
  mv_arena_free(NULL);
}

/* With no practical cap, a request just under SIZE_MAX passes the cap check;
 * the block header added to it must not wrap the malloc size. */
static void arena_huge_request_without_cap_does_not_wrap(void **state) {
  (void)state;
  struct mv_arena *a = mv_arena_new(SIZE_MAX);
  assert_non_null(a);
  assert_null(mv_arena_alloc(a, SIZE_MAX - 20));
  assert_null(mv_arena_alloc(a, SIZE_MAX - 15));
  assert_int_equal(mv_arena_used(a), 0);
  void *p = mv_arena_alloc(a, 64);
  assert_non_null(p);
  memset(p, 1, 64);
  mv_arena_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(arena_allocations_are_max_aligned),
      cmocka_unit_test(arena_allocations_do_not_overlap),
      cmocka_unit_test(arena_zalloc_zeroes),
      cmocka_unit_test(arena_past_cap_returns_null),
      cmocka_unit_test(arena_cap_cannot_be_passed_by_many_small),
      cmocka_unit_test(arena_huge_request_does_not_wrap),
      cmocka_unit_test(arena_huge_request_without_cap_does_not_wrap),
      cmocka_unit_test(arena_reset_allows_reuse),
      cmocka_unit_test(arena_reset_on_fresh_arena_is_harmless),
      cmocka_unit_test(arena_used_counts_allocations),
      cmocka_unit_test(arena_strdup_copies),
      cmocka_unit_test(arena_strndup_stops_and_terminates),
      cmocka_unit_test(arena_printf_formats),
      cmocka_unit_test(arena_printf_past_cap_returns_null),
      cmocka_unit_test(arena_large_allocation_beyond_block),
      cmocka_unit_test(arena_free_accepts_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
