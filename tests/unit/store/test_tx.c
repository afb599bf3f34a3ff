/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Atomic transactions in the store (mv_store_submit_tx): all writes or
 * none, the failing write reported by index, isolation from the other
 * writes of the same group-commit batch, one queue item per transaction,
 * and patient keys created by a transaction that is rolled back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_store.h"
#include "store_fx.h"
#include "store_int.h"

static int setup(void **state) {
  return fx_setup(state, "mv-tx-test");
}

static int teardown(void **state) {
  return fx_teardown(state);
}

static void open_with(struct fx *f, unsigned batch_max, unsigned delay_us,
                      unsigned cap) {
  f->s = fx_open_url(f->url, batch_max, delay_us, cap, NULL);
}

static struct mv_store_write wr(enum mv_store_op op, const char *type,
                                const char *id, const char *pid,
                                const char *body) {
  struct mv_store_write w = {.op = op,
                             .type = type,
                             .id = id,
                             .body = body,
                             .body_len = body ? strlen(body) : 0,
                             .patient_id = pid,
                             .date_us = MV_STORE_NO_DATE};
  return w;
}

static int read_rc(struct mv_store *s, const char *type, const char *id) {
  struct mv_store_record rec;
  int rc = mv_store_read(s, type, id, 0, &rec);
  if (rc == MV_OK)
    mv_store_record_release(&rec);
  return rc;
}

static void expect_body(struct mv_store *s, const char *type, const char *id,
                        const char *want) {
  struct mv_store_record rec;
  assert_int_equal(mv_store_read(s, type, id, 0, &rec), MV_OK);
  assert_string_equal(rec.body, want);
  mv_store_record_release(&rec);
}

static void tx_applies_all_writes_with_results(void **state) {
  struct fx *f = *state;
  open_with(f, 0, 500, 0);
  struct mv_store_write ws[] = {
      wr(MV_STORE_CREATE, "Patient", "tp1", "tp1", "{\"p\":1}"),
      wr(MV_STORE_CREATE, "Observation", "to1", "tp1", "{\"o\":1}"),
      wr(MV_STORE_UPDATE, "Observation", "to1", "tp1", "{\"o\":2}"),
  };
  struct mv_store_result res[3];
  size_t failed = 0;
  assert_int_equal(mv_store_write_tx_sync(f->s, ws, 3, res, &failed), MV_OK);
  assert_int_equal(failed, SIZE_MAX);
  assert_int_equal(res[0].version, 1);
  assert_int_equal(res[1].version, 1);
  assert_int_equal(res[2].version, 2); /* sees the earlier write of the tx */
  assert_int_equal(res[1].seq, res[0].seq + 1);
  assert_int_equal(res[2].seq, res[1].seq + 1);
  assert_true(res[0].updated_us > 0);
  expect_body(f->s, "Patient", "tp1", "{\"p\":1}");
  expect_body(f->s, "Observation", "to1", "{\"o\":2}");
}

static void tx_one_conflict_writes_nothing(void **state) {
  struct fx *f = *state;
  open_with(f, 0, 500, 0);
  struct mv_store_write base =
      wr(MV_STORE_CREATE, "Patient", "exists", "exists", "{\"v\":1}");
  struct mv_store_result r0;
  assert_int_equal(mv_store_write_sync(f->s, &base, &r0), MV_OK);

  struct mv_store_write ws[] = {
      wr(MV_STORE_CREATE, "Observation", "n1", "exists", "{\"n\":1}"),
      wr(MV_STORE_UPDATE, "Patient", "exists", "exists", "{\"v\":2}"),
      wr(MV_STORE_CREATE, "Patient", "exists", "exists", "{\"dup\":1}"),
      wr(MV_STORE_CREATE, "Observation", "n2", "exists", "{\"n\":2}"),
  };
  struct mv_store_result res[4];
  memset(res, 0x55, sizeof(res));
  size_t failed = 0;
  assert_int_equal(mv_store_write_tx_sync(f->s, ws, 4, res, &failed),
                   MV_EEXISTS);
  assert_int_equal(failed, 2);
  assert_int_equal(res[0].version, 0x5555555555555555); /* untouched */
  /* Nothing of it: not the create before, not the update. */
  assert_int_equal(read_rc(f->s, "Observation", "n1"), MV_ENOTFOUND);
  assert_int_equal(read_rc(f->s, "Observation", "n2"), MV_ENOTFOUND);
  expect_body(f->s, "Patient", "exists", "{\"v\":1}");
  /* A stale If-Match fails the same way. */
  ws[2] = wr(MV_STORE_UPDATE, "Patient", "exists", "exists", "{\"v\":3}");
  ws[2].if_version = 7;
  assert_int_equal(mv_store_write_tx_sync(f->s, ws, 4, NULL, &failed),
                   MV_ECONFLICT);
  assert_int_equal(failed, 2);
  assert_int_equal(read_rc(f->s, "Observation", "n1"), MV_ENOTFOUND);
  /* The failed transactions took no sequence numbers. */
  struct mv_store_write next =
      wr(MV_STORE_CREATE, "Observation", "after", "exists", "{}");
  struct mv_store_result r1;
  assert_int_equal(mv_store_write_sync(f->s, &next, &r1), MV_OK);
  assert_int_equal(r1.seq, r0.seq + 1);
}

/* Records the callbacks of a batch. */
struct cbs {
  atomic_int calls;
  int w_status[4];
  int tx_status;
  size_t tx_failed;
  int64_t tx_versions[4];
};

static void w_cb(void *ctx, int status, const struct mv_store_result *res) {
  int *slot = ctx;
  (void)res;
  *slot = status;
}

static void tx_cb(void *ctx, int status, size_t failed,
                  const struct mv_store_result *results) {
  struct cbs *c = ctx;
  c->tx_status = status;
  c->tx_failed = failed;
  for (int i = 0; i < 2; i++)
    c->tx_versions[i] = results[i].version;
  atomic_fetch_add(&c->calls, 1);
}

static void tx_failure_leaves_its_batch_neighbours(void **state) {
  struct fx *f = *state;
  open_with(f, 100, 1000000, 0);
  struct mv_store_write seed =
      wr(MV_STORE_CREATE, "Patient", "seed", "seed", "{}");
  assert_int_equal(mv_store_write_sync(f->s, &seed, NULL), MV_OK);
  struct mv__store_stats before, after;
  mv__store_stats_get(f->s, &before);
  mv__store_test_pause(f->s, true); /* one batch for all of it */
  struct cbs c;
  memset(&c, 0, sizeof(c));
  struct mv_store_write a =
      wr(MV_STORE_CREATE, "Observation", "solo1", "seed", "{\"s\":1}");
  assert_int_equal(mv_store_submit(f->s, &a, w_cb, &c.w_status[0]), MV_OK);
  struct mv_store_write tx[] = {
      wr(MV_STORE_CREATE, "Observation", "txa", "seed", "{\"t\":1}"),
      wr(MV_STORE_CREATE, "Patient", "seed", "seed", "{\"dup\":1}"),
  };
  assert_int_equal(mv_store_submit_tx(f->s, tx, 2, tx_cb, &c), MV_OK);
  struct mv_store_write b =
      wr(MV_STORE_CREATE, "Observation", "solo2", "seed", "{\"s\":2}");
  assert_int_equal(mv_store_submit(f->s, &b, w_cb, &c.w_status[1]), MV_OK);
  mv__store_test_pause(f->s, false);
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  mv__store_stats_get(f->s, &after);
  assert_int_equal(after.batches - before.batches, 1);
  assert_int_equal(atomic_load(&c.calls), 1);
  assert_int_equal(c.tx_status, MV_EEXISTS);
  assert_int_equal(c.tx_failed, 1);
  assert_int_equal(c.tx_versions[0], 0);
  assert_int_equal(c.w_status[0], MV_OK);
  assert_int_equal(c.w_status[1], MV_OK);
  expect_body(f->s, "Observation", "solo1", "{\"s\":1}");
  expect_body(f->s, "Observation", "solo2", "{\"s\":2}");
  assert_int_equal(read_rc(f->s, "Observation", "txa"), MV_ENOTFOUND);
}

static void never(void *ctx, int status, size_t failed,
                  const struct mv_store_result *results) {
  (void)status;
  (void)failed;
  (void)results;
  atomic_fetch_add((atomic_int *)ctx, 1);
}

static void tx_is_one_queue_item_and_checked_upfront(void **state) {
  struct fx *f = *state;
  atomic_int calls = 0;
  open_with(f, 10, 1000, 2);
  mv__store_test_pause(f->s, true);
  struct mv_store_write five[5];
  char ids[5][8];
  for (int i = 0; i < 5; i++) {
    snprintf(ids[i], sizeof(ids[i]), "q%d", i);
    five[i] = wr(MV_STORE_CREATE, "Observation", ids[i], NULL, "{}");
  }
  assert_int_equal(mv_store_submit_tx(f->s, five, 5, never, &calls), MV_OK);
  struct mv__store_stats st;
  mv__store_stats_get(f->s, &st);
  assert_int_equal(st.queue_depth, 1);
  for (int i = 0; i < 5; i++)
    snprintf(ids[i], sizeof(ids[i]), "r%d", i);
  assert_int_equal(mv_store_submit_tx(f->s, five, 5, never, &calls), MV_OK);
  assert_int_equal(mv_store_submit_tx(f->s, five, 5, never, &calls), MV_EBUSY);
  /* An invalid write fails the whole call before anything is queued. */
  five[3].id = "bad/id";
  assert_int_equal(mv_store_submit_tx(f->s, five, 5, never, &calls), MV_EINVAL);
  assert_int_equal(mv_store_submit_tx(f->s, five, 0, never, &calls), MV_EINVAL);
  assert_int_equal(
      mv_store_submit_tx(f->s, five, MV_STORE_TX_MAX + 1, never, &calls),
      MV_ETOOBIG);
  mv__store_test_pause(f->s, false);
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  assert_int_equal(atomic_load(&calls), 2);
  mv__store_stats_get(f->s, &st);
  assert_int_equal(st.writes, 10); /* writes counted one by one */
}

/* A transaction creates a new patient's key, then fails: the key must not
 * linger in the cache without its row, or the patient's next write would
 * be encrypted under a key the database does not have. */
static void tx_rolled_back_new_patient_key_is_not_reused(void **state) {
  struct fx *f = *state;
  open_with(f, 0, 500, 0);
  struct mv_store_write seed = wr(MV_STORE_CREATE, "Patient", "s", "s", "{}");
  assert_int_equal(mv_store_write_sync(f->s, &seed, NULL), MV_OK);
  struct mv_store_write tx[] = {
      wr(MV_STORE_CREATE, "Patient", "fresh", "fresh", "{\"f\":1}"),
      wr(MV_STORE_CREATE, "Patient", "s", "s", "{\"dup\":1}"),
  };
  size_t failed = 0;
  assert_int_equal(mv_store_write_tx_sync(f->s, tx, 2, NULL, &failed),
                   MV_EEXISTS);
  struct mv_store_write again =
      wr(MV_STORE_CREATE, "Patient", "fresh", "fresh", "{\"f\":2}");
  assert_int_equal(mv_store_write_sync(f->s, &again, NULL), MV_OK);
  expect_body(f->s, "Patient", "fresh", "{\"f\":2}");
  /* After a restart (empty cache) it still decrypts. */
  mv_store_close(f->s);
  f->s = NULL;
  open_with(f, 0, 500, 0);
  expect_body(f->s, "Patient", "fresh", "{\"f\":2}");
}

static void tx_write_for_erased_patient_fails_it(void **state) {
  struct fx *f = *state;
  open_with(f, 0, 500, 0);
  struct mv_store_write p =
      wr(MV_STORE_CREATE, "Patient", "gone", "gone", "{}");
  assert_int_equal(mv_store_write_sync(f->s, &p, NULL), MV_OK);
  int64_t n = 0;
  assert_int_equal(mv_store_erase_patient(f->s, "gone", &n), MV_OK);
  struct mv_store_write tx[] = {
      wr(MV_STORE_CREATE, "Practitioner", "dr", NULL, "{}"),
      wr(MV_STORE_CREATE, "Observation", "og", "gone", "{}"),
  };
  size_t failed = 0;
  assert_int_equal(mv_store_write_tx_sync(f->s, tx, 2, NULL, &failed),
                   MV_EGONE);
  assert_int_equal(failed, 1);
  assert_int_equal(read_rc(f->s, "Practitioner", "dr"), MV_ENOTFOUND);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(tx_applies_all_writes_with_results),
      T(tx_one_conflict_writes_nothing),
      T(tx_failure_leaves_its_batch_neighbours),
      T(tx_is_one_queue_item_and_checked_upfront),
      T(tx_rolled_back_new_patient_key_is_not_reused),
      T(tx_write_for_erased_patient_fails_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
