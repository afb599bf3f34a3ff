/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device stream cursors (mv_store_submit_tx_cursor, mv_store_cursor_get):
 * stored with the transaction's writes, refusing replays (nothing of the
 * transaction applied), untouched when the transaction fails, persistent
 * across a reopen, and bounded stream names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "store_fx.h"
#include "store_int.h"

static int setup(void **state) {
  return fx_setup(state, "cursor");
}

static int teardown(void **state) {
  return fx_teardown(state);
}

static struct mv_store_write obs_write(const char *id, enum mv_store_op op) {
  static const char body[] = "{\"resourceType\":\"Observation\"}";
  struct mv_store_write w = {
      .op = op,
      .type = "Observation",
      .id = id,
      .body = body,
      .body_len = sizeof(body) - 1,
      .patient_id = "p1",
      .date_us = MV_STORE_NO_DATE,
  };
  return w;
}

struct done {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  int status;
  size_t failed;
};

static void tx_done(void *ctx, int status, size_t failed,
                    const struct mv_store_result *r) {
  struct done *d = ctx;
  (void)r;
  pthread_mutex_lock(&d->mu);
  d->status = status;
  d->failed = failed;
  d->done = true;
  pthread_cond_signal(&d->cv);
  pthread_mutex_unlock(&d->mu);
}

/* Submit with a cursor and wait; returns the callback's status. */
static int submit_wait(struct mv_store *s, const struct mv_store_write *ws,
                       size_t n, const char *stream, int64_t seq,
                       size_t *out_failed) {
  struct done d = {.done = false};
  struct mv_store_cursor c = {stream, seq};
  pthread_mutex_init(&d.mu, NULL);
  pthread_cond_init(&d.cv, NULL);
  int rc = mv_store_submit_tx_cursor(s, ws, n, &c, tx_done, &d);
  if (rc == MV_OK) {
    pthread_mutex_lock(&d.mu);
    while (!d.done)
      pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    rc = d.status;
    if (out_failed)
      *out_failed = d.failed;
  }
  pthread_cond_destroy(&d.cv);
  pthread_mutex_destroy(&d.mu);
  return rc;
}

static int64_t cursor(struct mv_store *s, const char *stream) {
  int64_t seq = -2;
  assert_int_equal(mv_store_cursor_get(s, stream, &seq), MV_OK);
  return seq;
}

static int64_t count(struct mv_store *s) {
  int64_t n = -1;
  assert_int_equal(mv_store_count(s, "Observation", &n), MV_OK);
  return n;
}

static void cursor_advances_and_refuses_replays(void **state) {
  struct fx *f = *state;
  f->s = fx_open_url(f->url, 0, 0, 0, NULL);
  assert_int_equal(cursor(f->s, "dev-1"), -1);
  struct mv_store_write ws[2] = {obs_write("o1", MV_STORE_CREATE),
                                 obs_write("o2", MV_STORE_CREATE)};
  assert_int_equal(submit_wait(f->s, ws, 2, "dev-1", 5, NULL), MV_OK);
  assert_int_equal(cursor(f->s, "dev-1"), 5);
  assert_int_equal(count(f->s), 2);

  /* A replay (same seq) and an older seq: refused whole, nothing stored. */
  struct mv_store_write again[1] = {obs_write("o3", MV_STORE_CREATE)};
  size_t failed = 0;
  assert_int_equal(submit_wait(f->s, again, 1, "dev-1", 5, &failed),
                   MV_ECONFLICT);
  assert_int_equal(failed, 1); /* the cursor, after the writes */
  assert_int_equal(submit_wait(f->s, again, 1, "dev-1", 4, NULL), MV_ECONFLICT);
  assert_int_equal(count(f->s), 2);
  assert_int_equal(cursor(f->s, "dev-1"), 5);
  /* Other streams are independent; the next seq goes through. */
  assert_int_equal(cursor(f->s, "dev-2"), -1);
  assert_int_equal(submit_wait(f->s, again, 1, "dev-1", 6, NULL), MV_OK);
  assert_int_equal(cursor(f->s, "dev-1"), 6);
  assert_int_equal(count(f->s), 3);
}

static void failed_transaction_leaves_cursor(void **state) {
  struct fx *f = *state;
  f->s = fx_open_url(f->url, 0, 0, 0, NULL);
  struct mv_store_write one[1] = {obs_write("x1", MV_STORE_CREATE)};
  assert_int_equal(submit_wait(f->s, one, 1, "dev-a", 1, NULL), MV_OK);
  /* The second write fails (exists): the whole item, cursor included, is
   * rolled back. */
  struct mv_store_write two[2] = {obs_write("x2", MV_STORE_CREATE),
                                  obs_write("x1", MV_STORE_CREATE)};
  size_t failed = 0;
  assert_int_equal(submit_wait(f->s, two, 2, "dev-a", 2, &failed), MV_EEXISTS);
  assert_int_equal(failed, 1);
  assert_int_equal(cursor(f->s, "dev-a"), 1);
  assert_int_equal(count(f->s), 1);
  /* So the device's retry of seq 2 (fixed) is accepted. */
  two[1] = obs_write("x3", MV_STORE_CREATE);
  assert_int_equal(submit_wait(f->s, two, 2, "dev-a", 2, NULL), MV_OK);
  assert_int_equal(cursor(f->s, "dev-a"), 2);
}

static void cursor_survives_reopen(void **state) {
  struct fx *f = *state;
  f->s = fx_open_url(f->url, 0, 0, 0, NULL);
  struct mv_store_write one[1] = {obs_write("r1", MV_STORE_CREATE)};
  assert_int_equal(submit_wait(f->s, one, 1, "mllp:10.0.0.7/ICU-3", 41, NULL),
                   MV_OK);
  mv_store_close(f->s);
  f->s = fx_open_url(f->url, 0, 0, 0, NULL);
  assert_int_equal(cursor(f->s, "mllp:10.0.0.7/ICU-3"), 41);
  one[0] = obs_write("r2", MV_STORE_CREATE);
  assert_int_equal(submit_wait(f->s, one, 1, "mllp:10.0.0.7/ICU-3", 41, NULL),
                   MV_ECONFLICT);
  assert_int_equal(count(f->s), 1);
}

static void bad_streams_refused(void **state) {
  struct fx *f = *state;
  f->s = fx_open_url(f->url, 0, 0, 0, NULL);
  struct mv_store_write one[1] = {obs_write("b1", MV_STORE_CREATE)};
  char longname[MV_STORE_STREAM_MAX + 2];
  memset(longname, 'a', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  const char *bad[] = {"", "has space", "quote\"", "nl\n", longname};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++) {
    struct mv_store_cursor c = {bad[i], 1};
    assert_false(mv_store_stream_ok(bad[i]));
    assert_int_equal(mv_store_submit_tx_cursor(f->s, one, 1, &c, tx_done, NULL),
                     MV_EINVAL);
    int64_t seq;
    assert_int_equal(mv_store_cursor_get(f->s, bad[i], &seq), MV_EINVAL);
  }
  longname[MV_STORE_STREAM_MAX] = '\0'; /* exactly the maximum: fine */
  assert_true(mv_store_stream_ok(longname));
  struct mv_store_cursor neg = {"ok", -1};
  assert_int_equal(mv_store_submit_tx_cursor(f->s, one, 1, &neg, tx_done, NULL),
                   MV_EINVAL);
  assert_int_equal(count(f->s), 0);
}

/* Two transactions of one stream with the same seq in one batch: the
 * writer sees the first's cursor when it checks the second's. */
static void same_batch_race(void **state) {
  struct fx *f = *state;
  f->s = fx_open_url(f->url, 0, 0, 0, NULL);
  struct done d[2];
  struct mv_store_cursor c = {"dev-r", 7};
  struct mv_store_write a[1] = {obs_write("a1", MV_STORE_CREATE)};
  struct mv_store_write b[1] = {obs_write("b1", MV_STORE_CREATE)};
  memset(d, 0, sizeof(d));
  pthread_mutex_init(&d[0].mu, NULL);
  pthread_mutex_init(&d[1].mu, NULL);
  pthread_cond_init(&d[0].cv, NULL);
  pthread_cond_init(&d[1].cv, NULL);
  mv__store_test_pause(f->s, true);
  assert_int_equal(mv_store_submit_tx_cursor(f->s, a, 1, &c, tx_done, &d[0]),
                   MV_OK);
  assert_int_equal(mv_store_submit_tx_cursor(f->s, b, 1, &c, tx_done, &d[1]),
                   MV_OK);
  mv__store_test_pause(f->s, false);
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  assert_true(d[0].done && d[1].done);
  assert_int_equal(d[0].status, MV_OK);
  assert_int_equal(d[1].status, MV_ECONFLICT);
  assert_int_equal(count(f->s), 1);
  for (int i = 0; i < 2; i++) {
    pthread_cond_destroy(&d[i].cv);
    pthread_mutex_destroy(&d[i].mu);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(cursor_advances_and_refuses_replays,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(failed_transaction_leaves_cursor, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(cursor_survives_reopen, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_streams_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(same_batch_race, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
