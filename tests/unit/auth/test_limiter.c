/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the login rate limiter (src/auth/limiter.c): windows, reset on
 * success, eviction of the least recently touched key, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>

#include "mv_auth.h"

#define MIN (60LL * 1000000LL)

static struct mv_auth_limiter *make(unsigned max, int64_t window,
                                    size_t entries) {
  struct mv_auth_limiter *l = NULL;
  assert_int_equal(mv_auth_limiter_new(max, window, entries, &l), MV_OK);
  assert_non_null(l);
  return l;
}

static void locks_after_max_failures_until_the_window_ends(void **state) {
  (void)state;
  struct mv_auth_limiter *l = make(3, 10 * MIN, 16);
  int64_t t = 1000;
  assert_int_equal(mv_auth_limiter_check(l, "u:alice", t), MV_OK);
  assert_int_equal(mv_auth_limiter_fail(l, "u:alice", t), MV_OK);
  assert_int_equal(mv_auth_limiter_fail(l, "u:alice", t + MIN), MV_OK);
  assert_int_equal(mv_auth_limiter_check(l, "u:alice", t + MIN), MV_OK);
  assert_int_equal(mv_auth_limiter_fail(l, "u:alice", t + 2 * MIN), MV_ERATE);
  assert_int_equal(mv_auth_limiter_check(l, "u:alice", t + 2 * MIN), MV_ERATE);
  assert_int_equal(mv_auth_limiter_check(l, "u:alice", t + 10 * MIN - 1),
                   MV_ERATE);
  /* Other keys are independent. */
  assert_int_equal(mv_auth_limiter_check(l, "u:bob", t), MV_OK);
  assert_int_equal(mv_auth_limiter_check(l, "a:alice", t), MV_OK);
  /* The window opened by the first failure ends 10 minutes later. */
  assert_int_equal(mv_auth_limiter_check(l, "u:alice", t + 10 * MIN), MV_OK);
  assert_int_equal(mv_auth_limiter_fail(l, "u:alice", t + 10 * MIN), MV_OK);
  assert_int_equal(mv_auth_limiter_check(l, "u:alice", t + 10 * MIN), MV_OK);
  mv_auth_limiter_free(l);
}

static void failures_spread_over_windows_never_lock(void **state) {
  (void)state;
  struct mv_auth_limiter *l = make(2, MIN, 16);
  for (int i = 0; i < 20; i++) {
    assert_int_equal(mv_auth_limiter_fail(l, "a:10.0.0.1", i * MIN), MV_OK);
    assert_int_equal(mv_auth_limiter_check(l, "a:10.0.0.1", i * MIN), MV_OK);
  }
  mv_auth_limiter_free(l);
}

static void a_clock_stepping_back_keeps_the_lock(void **state) {
  (void)state;
  struct mv_auth_limiter *l = make(1, MIN, 4);
  assert_int_equal(mv_auth_limiter_fail(l, "u:x", 10 * MIN), MV_ERATE);
  assert_int_equal(mv_auth_limiter_check(l, "u:x", 0), MV_ERATE);
  mv_auth_limiter_free(l);
}

static void success_forgets_the_failures(void **state) {
  (void)state;
  struct mv_auth_limiter *l = make(2, MIN, 16);
  assert_int_equal(mv_auth_limiter_fail(l, "u:alice", 0), MV_OK);
  mv_auth_limiter_success(l, "u:alice");
  assert_int_equal(mv_auth_limiter_fail(l, "u:alice", 1), MV_OK);
  assert_int_equal(mv_auth_limiter_fail(l, "u:alice", 2), MV_ERATE);
  assert_int_equal(mv_auth_limiter_check(l, "u:alice", 3), MV_ERATE);
  mv_auth_limiter_success(l, "u:alice");
  assert_int_equal(mv_auth_limiter_check(l, "u:alice", 3), MV_OK);
  mv_auth_limiter_success(l, "u:never-seen"); /* harmless */
  mv_auth_limiter_free(l);
}

static void the_least_recently_touched_key_is_evicted(void **state) {
  (void)state;
  struct mv_auth_limiter *l = make(1, MIN, 2);
  assert_int_equal(mv_auth_limiter_fail(l, "u:a", 0), MV_ERATE);
  assert_int_equal(mv_auth_limiter_fail(l, "u:b", 1), MV_ERATE);
  assert_int_equal(mv_auth_limiter_fail(l, "u:a", 2), MV_ERATE); /* touch a */
  assert_int_equal(mv_auth_limiter_fail(l, "u:c", 3), MV_ERATE); /* evicts b */
  assert_int_equal(mv_auth_limiter_check(l, "u:a", 4), MV_ERATE);
  assert_int_equal(mv_auth_limiter_check(l, "u:b", 4), MV_OK);
  assert_int_equal(mv_auth_limiter_check(l, "u:c", 4), MV_ERATE);
  /* A slot freed by success is reused before anything is evicted. */
  mv_auth_limiter_success(l, "u:a");
  assert_int_equal(mv_auth_limiter_fail(l, "u:d", 5), MV_ERATE);
  assert_int_equal(mv_auth_limiter_check(l, "u:c", 6), MV_ERATE);
  assert_int_equal(mv_auth_limiter_check(l, "u:d", 6), MV_ERATE);
  mv_auth_limiter_free(l);
}

static void memory_stays_bounded_under_many_keys(void **state) {
  (void)state;
  struct mv_auth_limiter *l = make(1, MIN, 64);
  char key[32];
  for (int i = 0; i < 10000; i++) {
    snprintf(key, sizeof(key), "a:%d", i);
    assert_int_equal(mv_auth_limiter_fail(l, key, i), MV_ERATE);
  }
  /* Only the last 64 are still remembered. */
  for (int i = 0; i < 10000; i++) {
    snprintf(key, sizeof(key), "a:%d", i);
    assert_int_equal(mv_auth_limiter_check(l, key, 10000),
                     i >= 10000 - 64 ? MV_ERATE : MV_OK);
  }
  mv_auth_limiter_free(l);
}

static void new_rejects_zero_arguments(void **state) {
  (void)state;
  struct mv_auth_limiter *l = NULL;
  assert_int_equal(mv_auth_limiter_new(0, MIN, 1, &l), MV_EINVAL);
  assert_int_equal(mv_auth_limiter_new(1, 0, 1, &l), MV_EINVAL);
  assert_int_equal(mv_auth_limiter_new(1, -1, 1, &l), MV_EINVAL);
  assert_int_equal(mv_auth_limiter_new(1, MIN, 0, &l), MV_EINVAL);
  assert_int_equal(mv_auth_limiter_new(1, MIN, 1, NULL), MV_EINVAL);
  assert_null(l);
  mv_auth_limiter_free(NULL);
}

struct worker {
  struct mv_auth_limiter *l;
  int id;
  int limited;
};

static void *hammer(void *arg) {
  struct worker *w = arg;
  char key[32];
  int limited = 0;
  for (int i = 0; i < 2000; i++) {
    snprintf(key, sizeof(key), "u:%d", (i + w->id) % 50);
    (void)mv_auth_limiter_fail(w->l, key, i);
    limited += mv_auth_limiter_check(w->l, key, i) == MV_ERATE;
    if (i % 7 == 0)
      mv_auth_limiter_success(w->l, key);
  }
  w->limited = limited;
  return NULL;
}

static void concurrent_use_is_safe(void **state) {
  (void)state;
  struct mv_auth_limiter *l = make(1000000, MIN, 32);
  pthread_t th[4];
  struct worker w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (struct worker){l, i, -1};
    assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(w[i].limited, 0); /* the limit is far away */
  }
  /* Still coherent: a fresh key behaves normally. */
  assert_int_equal(mv_auth_limiter_check(l, "u:fresh", 0), MV_OK);
  mv_auth_limiter_free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(locks_after_max_failures_until_the_window_ends),
      cmocka_unit_test(failures_spread_over_windows_never_lock),
      cmocka_unit_test(a_clock_stepping_back_keeps_the_lock),
      cmocka_unit_test(success_forgets_the_failures),
      cmocka_unit_test(the_least_recently_touched_key_is_evicted),
      cmocka_unit_test(memory_stays_bounded_under_many_keys),
      cmocka_unit_test(new_rejects_zero_arguments),
      cmocka_unit_test(concurrent_use_is_safe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
