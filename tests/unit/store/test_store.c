/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the store (src/store): versioning semantics, error isolation
 * inside a group-commit batch, durability across close and across SIGKILL,
 * batching behaviour, back-pressure, schema migrations, users, metrics and
 * concurrent reads. Every test gets a fresh directory under /tmp.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mv_limits.h"
#include "mv_store.h"
#include "store_fx.h"
#include "store_int.h"

static int setup(void **state) {
  return fx_setup(state, "mv-store-test");
}

static int teardown(void **state) {
  return fx_teardown(state);
}

static void open_with(struct fx *f, unsigned batch_max, unsigned delay_us,
                      unsigned cap, const struct mv_clock *clock) {
  f->s = fx_open_url(f->url, batch_max, delay_us, cap, clock);
}

static void open_default(struct fx *f) {
  open_with(f, 0, 0, 0, NULL);
}

static void reopen(struct fx *f) {
  mv_store_close(f->s);
  f->s = NULL;
  open_default(f);
}

static struct mv_store_write wr(enum mv_store_op op, const char *id,
                                int64_t if_version, const char *body) {
  struct mv_store_write w = {
      .op = op,
      .type = "Observation",
      .id = id,
      .if_version = if_version,
      .body = body,
      .body_len = body ? strlen(body) : 0,
      .patient_id = "p1",
      .code = "http://loinc.org|8867-4",
      .date_us = 1700000000000000,
      .status = "final",
  };
  return w;
}

/* Records every callback; read by the test only after a flush. */
struct cb_rec {
  atomic_int calls;
  int status;
  struct mv_store_result res;
};

static void record_cb(void *ctx, int status,
                      const struct mv_store_result *res) {
  struct cb_rec *r = ctx;
  r->status = status;
  r->res = *res;
  atomic_fetch_add(&r->calls, 1);
}

static void expect_body(struct mv_store *s, const char *id, int64_t version,
                        int64_t want_version, const char *want) {
  struct mv_store_record rec;
  assert_int_equal(mv_store_read(s, "Observation", id, version, &rec), MV_OK);
  assert_int_equal(rec.version, want_version);
  assert_false(rec.deleted);
  assert_int_equal(rec.body_len, strlen(want));
  assert_string_equal(rec.body, want);
  mv_store_record_release(&rec);
}

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- Versioning -------------------------------------------------------- */

struct hist_seen {
  int n;
  int64_t versions[8];
  char bodies[8][32];
};

static int collect(void *ctx, const struct mv_store_record *rec) {
  struct hist_seen *h = ctx;
  if (h->n < 8) {
    h->versions[h->n] = rec->version;
    snprintf(h->bodies[h->n], sizeof(h->bodies[0]), "%s",
             rec->body ? rec->body : "(deleted)");
  }
  h->n++;
  return 0;
}

static void store_create_read_update_history(void **state) {
  struct fx *f = *state;
  open_default(f);
  struct mv_store_result r1, r2, r3;
  struct mv_store_write w = wr(MV_STORE_CREATE, "o1", 0, "{\"v\":1}");
  assert_int_equal(mv_store_write_sync(f->s, &w, &r1), MV_OK);
  assert_int_equal(r1.version, 1);
  expect_body(f->s, "o1", 0, 1, "{\"v\":1}");

  w = wr(MV_STORE_UPDATE, "o1", 1, "{\"v\":2}");
  assert_int_equal(mv_store_write_sync(f->s, &w, &r2), MV_OK);
  assert_int_equal(r2.version, 2);
  w = wr(MV_STORE_UPDATE, "o1", 0, "{\"v\":3}");
  assert_int_equal(mv_store_write_sync(f->s, &w, &r3), MV_OK);
  assert_int_equal(r3.version, 3);
  assert_true(r1.seq < r2.seq && r2.seq < r3.seq);
  assert_true(r1.updated_us <= r2.updated_us && r2.updated_us > 0);

  expect_body(f->s, "o1", 0, 3, "{\"v\":3}");
  expect_body(f->s, "o1", 1, 1, "{\"v\":1}"); /* a specific old version */
  expect_body(f->s, "o1", 2, 2, "{\"v\":2}");

  struct hist_seen h = {0};
  assert_int_equal(mv_store_history(f->s, "Observation", "o1", 0, collect, &h),
                   MV_OK);
  assert_int_equal(h.n, 3);
  assert_int_equal(h.versions[0], 3); /* newest first */
  assert_int_equal(h.versions[2], 1);
  assert_string_equal(h.bodies[2], "{\"v\":1}");
  memset(&h, 0, sizeof(h));
  assert_int_equal(mv_store_history(f->s, "Observation", "o1", 2, collect, &h),
                   MV_OK);
  assert_int_equal(h.n, 2);
  assert_int_equal(h.versions[1], 2);

  int64_t n = -1;
  assert_int_equal(mv_store_count(f->s, "Observation", &n), MV_OK);
  assert_int_equal(n, 1);
  assert_int_equal(mv_store_count(f->s, "Patient", &n), MV_OK);
  assert_int_equal(n, 0);
}

static void store_update_absent_creates_version_1(void **state) {
  struct fx *f = *state;
  open_default(f);
  struct mv_store_result r;
  struct mv_store_write w = wr(MV_STORE_UPDATE, "new", 0, "{}");
  assert_int_equal(mv_store_write_sync(f->s, &w, &r), MV_OK);
  assert_int_equal(r.version, 1);
  /* ...but an If-Match on something absent is a conflict. */
  w = wr(MV_STORE_UPDATE, "other", 1, "{}");
  assert_int_equal(mv_store_write_sync(f->s, &w, &r), MV_ECONFLICT);
}

static void store_create_twice_is_eexists(void **state) {
  struct fx *f = *state;
  open_default(f);
  struct mv_store_write w = wr(MV_STORE_CREATE, "dup", 0, "{\"a\":1}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  w.body = "{\"a\":2}";
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_EEXISTS);
  expect_body(f->s, "dup", 0, 1, "{\"a\":1}");
}

static void store_read_missing_is_enotfound(void **state) {
  struct fx *f = *state;
  open_default(f);
  struct mv_store_record rec = {.version = 77};
  assert_int_equal(mv_store_read(f->s, "Observation", "nope", 0, &rec),
                   MV_ENOTFOUND);
  assert_int_equal(rec.version, 77); /* untouched on error */
  struct mv_store_write w = wr(MV_STORE_CREATE, "o", 0, "{}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  assert_int_equal(mv_store_read(f->s, "Observation", "o", 2, &rec),
                   MV_ENOTFOUND);
  struct hist_seen h = {0};
  assert_int_equal(
      mv_store_history(f->s, "Observation", "nope", 0, collect, &h),
      MV_ENOTFOUND);
}

static void store_delete_then_read_is_egone(void **state) {
  struct fx *f = *state;
  open_default(f);
  struct mv_store_result r;
  struct mv_store_write w = wr(MV_STORE_CREATE, "d1", 0, "{\"x\":1}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  w = wr(MV_STORE_DELETE, "d1", 0, NULL);
  assert_int_equal(mv_store_write_sync(f->s, &w, &r), MV_OK);
  assert_int_equal(r.version, 2);

  struct mv_store_record rec;
  assert_int_equal(mv_store_read(f->s, "Observation", "d1", 0, &rec), MV_EGONE);
  assert_true(rec.deleted);
  assert_int_equal(rec.version, 2);
  assert_null(rec.body);
  mv_store_record_release(&rec);
  expect_body(f->s, "d1", 1, 1, "{\"x\":1}");

  int64_t n = -1;
  assert_int_equal(mv_store_count(f->s, "Observation", &n), MV_OK);
  assert_int_equal(n, 0);

  /* Deleting again records nothing; deleting the absent is not found. */
  struct mv_store_result r2;
  assert_int_equal(mv_store_write_sync(f->s, &w, &r2), MV_OK);
  assert_int_equal(r2.version, 2);
  assert_int_equal(r2.seq, r.seq);
  w = wr(MV_STORE_DELETE, "never", 0, NULL);
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_ENOTFOUND);
  /* A stale If-Match on delete conflicts. */
  w = wr(MV_STORE_DELETE, "d1", 1, NULL);
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_ECONFLICT);
  /* Create of a deleted id still exists; update revives it as version 3. */
  w = wr(MV_STORE_CREATE, "d1", 0, "{}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_EEXISTS);
  w = wr(MV_STORE_UPDATE, "d1", 2, "{\"x\":3}");
  assert_int_equal(mv_store_write_sync(f->s, &w, &r), MV_OK);
  assert_int_equal(r.version, 3);
  expect_body(f->s, "d1", 0, 3, "{\"x\":3}");
}

/* ---- Batches and error isolation ----------------------------------------- */

static void store_conflict_fails_alone_in_its_batch(void **state) {
  struct fx *f = *state;
  open_with(f, 100, 1000000, 0, NULL);
  struct mv_store_write w = wr(MV_STORE_CREATE, "base", 0, "{\"v\":1}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);

  struct mv__store_stats before, after;
  mv__store_stats_get(f->s, &before);
  mv__store_test_pause(f->s, true); /* queue all four, then one batch */
  struct cb_rec c[4];
  memset(c, 0, sizeof(c));
  struct mv_store_write ws[4] = {
      wr(MV_STORE_CREATE, "a", 0, "{\"a\":1}"),
      wr(MV_STORE_UPDATE, "base", 7, "{\"stale\":1}"), /* version is 1 */
      wr(MV_STORE_CREATE, "base", 0, "{\"dup\":1}"),
      wr(MV_STORE_UPDATE, "base", 1, "{\"v\":2}"),
  };
  for (int i = 0; i < 4; i++)
    assert_int_equal(mv_store_submit(f->s, &ws[i], record_cb, &c[i]), MV_OK);
  mv__store_test_pause(f->s, false);
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  mv__store_stats_get(f->s, &after);

  assert_int_equal(after.batches - before.batches, 1);
  assert_int_equal(after.errors - before.errors, 2);
  for (int i = 0; i < 4; i++)
    assert_int_equal(atomic_load(&c[i].calls), 1);
  assert_int_equal(c[0].status, MV_OK);
  assert_int_equal(c[1].status, MV_ECONFLICT);
  assert_int_equal(c[2].status, MV_EEXISTS);
  assert_int_equal(c[3].status, MV_OK);
  assert_int_equal(c[3].res.version, 2);
  assert_true(c[3].res.seq == c[0].res.seq + 1); /* failures take no seq */
  expect_body(f->s, "a", 0, 1, "{\"a\":1}");
  expect_body(f->s, "base", 0, 2, "{\"v\":2}");
}

static void store_group_commit_groups(void **state) {
  struct fx *f = *state;
  enum { N = 500 };
  open_with(f, 100, 2000000, 0, NULL);
  struct cb_rec *c = calloc(N, sizeof(*c));
  assert_non_null(c);
  char id[16];
  int64_t t0 = mono_us();
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof(id), "g%d", i);
    struct mv_store_write w = wr(MV_STORE_CREATE, id, 0, "{\"g\":true}");
    assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c[i]), MV_OK);
  }
  /* Wait for the callbacks without flushing: a flush would close the
   * batches early and hide whether they fill on their own. */
  for (int tries = 0; tries < 1000; tries++) {
    struct mv__store_stats st;
    mv__store_stats_get(f->s, &st);
    if (st.writes == N)
      break;
    usleep(10000);
  }
  /* Full batches closed on size, long before the 2 s delay. */
  assert_true(mono_us() - t0 < 1500000);
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  struct mv__store_stats st;
  mv__store_stats_get(f->s, &st);
  assert_int_equal(st.writes, N);
  assert_int_equal(st.errors, 0);
  assert_in_range(st.batches, 5, 12);
  for (int i = 0; i < N; i++) {
    assert_int_equal(atomic_load(&c[i].calls), 1);
    assert_int_equal(c[i].status, MV_OK);
    if (i > 0)
      assert_true(c[i].res.seq == c[i - 1].res.seq + 1); /* FIFO */
  }
  free(c);
  int64_t n = 0;
  assert_int_equal(mv_store_count(f->s, "Observation", &n), MV_OK);
  assert_int_equal(n, N);
}

static void store_batch_closes_on_delay(void **state) {
  struct fx *f = *state;
  open_with(f, 1000, 20000, 0, NULL);
  struct mv_store_write w = wr(MV_STORE_CREATE, "lonely", 0, "{}");
  int64_t t0 = mono_us();
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  int64_t dt = mono_us() - t0;
  assert_true(dt >= 20000);  /* it waited for company... */
  assert_true(dt < 1000000); /* ...but not for a full batch */
}

/* A controllable clock like mv_clock_fake, but atomic: the writer thread
 * reads it while the test advances it. */
static atomic_llong test_clock_us;

static int64_t test_clock_read(const struct mv_clock *c) {
  (void)c;
  return atomic_load(&test_clock_us);
}

static const struct mv_clock test_clock = {test_clock_read, test_clock_read,
                                           NULL};

static void store_batch_delay_follows_injected_clock(void **state) {
  struct fx *f = *state;
  atomic_store(&test_clock_us, 1800000000000000);
  open_with(f, 100, 5000, 0, &test_clock);
  struct cb_rec c;
  memset(&c, 0, sizeof(c));
  struct mv_store_write w = wr(MV_STORE_CREATE, "fc", 0, "{}");
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_OK);
  usleep(100000); /* 20x the delay in real time: the test clock stood still */
  assert_int_equal(atomic_load(&c.calls), 0);
  atomic_fetch_add(&test_clock_us, 5000);
  for (int i = 0; i < 200 && atomic_load(&c.calls) == 0; i++)
    usleep(5000);
  assert_int_equal(atomic_load(&c.calls), 1);
  assert_int_equal(c.status, MV_OK);
  assert_int_equal(c.res.updated_us, 1800000000005000);
}

static void store_queue_full_is_ebusy(void **state) {
  struct fx *f = *state;
  open_with(f, 100, 1000, 4, NULL);
  mv__store_test_pause(f->s, true);
  struct cb_rec c[5];
  memset(c, 0, sizeof(c));
  char id[16];
  for (int i = 0; i < 5; i++) {
    snprintf(id, sizeof(id), "q%d", i);
    struct mv_store_write w = wr(MV_STORE_CREATE, id, 0, "{}");
    assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c[i]),
                     i < 4 ? MV_OK : MV_EBUSY);
  }
  struct mv__store_stats st;
  mv__store_stats_get(f->s, &st);
  assert_int_equal(st.queue_depth, 4);
  mv__store_test_pause(f->s, false);
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  for (int i = 0; i < 5; i++)
    assert_int_equal(atomic_load(&c[i].calls), i < 4 ? 1 : 0);
  struct mv_store_record rec;
  assert_int_equal(mv_store_read(f->s, "Observation", "q4", 0, &rec),
                   MV_ENOTFOUND);
}

static void store_closed_rejects_writes(void **state) {
  struct fx *f = *state;
  open_default(f);
  struct mv_store_write w = wr(MV_STORE_CREATE, "before", 0, "{}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  mv__store_shutdown(f->s);
  struct cb_rec c;
  memset(&c, 0, sizeof(c));
  w = wr(MV_STORE_CREATE, "after", 0, "{}");
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_ECLOSED);
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_ECLOSED);
  assert_int_equal(mv_store_flush(f->s), MV_ECLOSED);
  assert_int_equal(atomic_load(&c.calls), 0);
  expect_body(f->s, "before", 0, 1, "{}"); /* reads still work */
}

/* A callback that tries to queue another write while the store closes. */
struct resubmit {
  struct mv_store *s;
  int calls;
  int status;
  int resubmit_rc;
};

static void never_cb(void *ctx, int status, const struct mv_store_result *res) {
  (void)status;
  (void)res;
  atomic_fetch_add((atomic_int *)ctx, 1);
}

static atomic_int never_calls;

static void resubmit_cb(void *ctx, int status,
                        const struct mv_store_result *res) {
  struct resubmit *r = ctx;
  (void)res;
  r->calls++;
  r->status = status;
  struct mv_store_write w = wr(MV_STORE_CREATE, "late", 0, "{}");
  r->resubmit_rc = mv_store_submit(r->s, &w, never_cb, &never_calls);
}

static void store_close_commits_queue_and_rejects_late(void **state) {
  struct fx *f = *state;
  open_with(f, 100, 10000000, 0, NULL); /* the delay alone would take 10 s */
  struct resubmit r = {.s = f->s};
  struct cb_rec c;
  memset(&c, 0, sizeof(c));
  mv__store_test_pause(f->s, true);
  struct mv_store_write w = wr(MV_STORE_CREATE, "queued", 0, "{\"q\":1}");
  assert_int_equal(mv_store_submit(f->s, &w, resubmit_cb, &r), MV_OK);
  w = wr(MV_STORE_CREATE, "queued2", 0, "{\"q\":2}");
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_OK);
  int64_t t0 = mono_us();
  mv_store_close(f->s);
  f->s = NULL;
  assert_true(mono_us() - t0 < 5000000);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, MV_OK);
  assert_int_equal(r.resubmit_rc, MV_ECLOSED);
  assert_int_equal(atomic_load(&c.calls), 1);
  assert_int_equal(atomic_load(&never_calls), 0);
  open_default(f);
  expect_body(f->s, "queued", 0, 1, "{\"q\":1}");
  expect_body(f->s, "queued2", 0, 1, "{\"q\":2}");
}

/* ---- Arguments ----------------------------------------------------------- */

static void store_bad_args_rejected_without_callback(void **state) {
  struct fx *f = *state;
  open_default(f);
  struct cb_rec c;
  memset(&c, 0, sizeof(c));
  char long_id[MV_LIMIT_ID_LEN + 2];
  memset(long_id, 'a', sizeof(long_id) - 1);
  long_id[sizeof(long_id) - 1] = '\0';
  char long_type[MV_LIMIT_TYPE_LEN + 2];
  memset(long_type, 'T', sizeof(long_type) - 1);
  long_type[sizeof(long_type) - 1] = '\0';

  struct mv_store_write w = wr(MV_STORE_CREATE, "", 0, "{}");
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_EINVAL);
  w.id = long_id;
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_EINVAL);
  long_id[MV_LIMIT_ID_LEN] = '\0'; /* exactly the limit is fine */
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_OK);
  w = wr(MV_STORE_CREATE, "bad/id", 0, "{}");
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_EINVAL);
  w = wr(MV_STORE_CREATE, "ok", 0, "{}");
  w.type = long_type;
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_EINVAL);
  w.type = "";
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_EINVAL);
  w = wr(MV_STORE_CREATE, "big", 0, "{}");
  w.body_len = MV_LIMIT_STORE_RESOURCE_MAX + 1; /* never read past "{}" */
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_ETOOBIG);
  w = wr(MV_STORE_CREATE, "nobody", 0, NULL);
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_EINVAL);
  w = wr(MV_STORE_CREATE, "ifv", 3, "{}");
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_EINVAL);
  w = wr(99, "op", 0, "{}");
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_EINVAL);
  w = wr(MV_STORE_CREATE, "nocb", 0, "{}");
  assert_int_equal(mv_store_submit(f->s, &w, NULL, NULL), MV_EINVAL);
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  assert_int_equal(atomic_load(&c.calls), 1); /* only the valid one */
  assert_int_equal(c.status, MV_OK);

  struct mv_store_record rec;
  assert_int_equal(mv_store_read(f->s, "Observation", "", 0, &rec), MV_EINVAL);
  assert_int_equal(mv_store_read(f->s, long_type, "x", 0, &rec), MV_EINVAL);
  assert_int_equal(mv_store_read(f->s, "Observation", "x", -1, &rec),
                   MV_EINVAL);
}

static void store_open_rejects_bad_url(void **state) {
  (void)state;
  struct mv_store *s = (struct mv_store *)0x1;
  struct mv_diag d;
  struct mv_store_opts o = {.url = ""};
  assert_int_equal(mv_store_open(&o, &s, &d), MV_EINVAL);
  o.url = "sqlite:";
  assert_int_equal(mv_store_open(&o, &s, &d), MV_EINVAL);
  o.url = "postgres://db/medverse";
  assert_int_equal(mv_store_open(&o, &s, &d), MV_EINVAL);
  assert_int_equal(d.err, MV_EINVAL);
  assert_true(strlen(d.msg) > 0);
  assert_ptr_equal(s, (struct mv_store *)0x1); /* untouched on error */
}

static void store_creates_private_nested_dir(void **state) {
  struct fx *f = *state;
  snprintf(f->url, sizeof(f->url), "%s/a/b", f->dir); /* plain path form */
  open_default(f);
  char p[160];
  struct stat sb;
  snprintf(p, sizeof(p), "%s/a/b", f->dir);
  assert_int_equal(stat(p, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0700);
  snprintf(p, sizeof(p), "%s/a/b/medverse.db", f->dir);
  assert_int_equal(stat(p, &sb), 0);
  assert_int_equal(sb.st_mode & 0077, 0);
  /* WAL mode: the log file exists while the store is open, also private. */
  struct mv_store_write w = wr(MV_STORE_CREATE, "walcheck", 0, "{}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  snprintf(p, sizeof(p), "%s/a/b/medverse.db-wal", f->dir);
  assert_int_equal(stat(p, &sb), 0);
  assert_int_equal(sb.st_mode & 0077, 0);
}

/* ---- Durability and schema -------------------------------------------------
 */

static void store_reopen_keeps_everything(void **state) {
  struct fx *f = *state;
  open_default(f);
  struct mv_store_result r;
  struct mv_store_write w = wr(MV_STORE_CREATE, "k1", 0, "{\"k\":1}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  w = wr(MV_STORE_UPDATE, "k1", 1, "{\"k\":2}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  struct cb_rec c;
  memset(&c, 0, sizeof(c));
  w = wr(MV_STORE_CREATE, "k2", 0, "{\"k\":3}");
  assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_OK);
  reopen(f); /* close commits the queued k2 */
  assert_int_equal(atomic_load(&c.calls), 1);
  expect_body(f->s, "k1", 0, 2, "{\"k\":2}");
  expect_body(f->s, "k1", 1, 1, "{\"k\":1}");
  expect_body(f->s, "k2", 0, 1, "{\"k\":3}");
  w = wr(MV_STORE_CREATE, "k3", 0, "{}");
  assert_int_equal(mv_store_write_sync(f->s, &w, &r), MV_OK);
  assert_true(r.seq > c.res.seq); /* seq keeps growing across reopen */
}

static int db_int(const char *dir, const char *sql) {
  char path[160];
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int v = -1;
  snprintf(path, sizeof(path), "%s/medverse.db", dir);
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

static void store_migrations_idempotent_on_reopen(void **state) {
  struct fx *f = *state;
  open_default(f);
  int v = mv_store_schema_version(f->s);
  assert_true(v >= 1);
  reopen(f);
  assert_int_equal(mv_store_schema_version(f->s), v);
  reopen(f);
  mv_store_close(f->s);
  f->s = NULL;
  assert_int_equal(db_int(f->dir, "PRAGMA user_version"), v);
  assert_int_equal(db_int(f->dir, "SELECT COUNT(*) FROM schema_migrations"), v);
  assert_int_equal(db_int(f->dir, "SELECT MAX(version) FROM schema_migrations"),
                   v);
  assert_int_equal(db_int(f->dir, "SELECT COUNT(*) FROM sqlite_master"
                                  " WHERE name = 'resource_current'"),
                   1);
}

static void store_refuses_newer_schema(void **state) {
  struct fx *f = *state;
  open_default(f);
  int v = mv_store_schema_version(f->s);
  mv_store_close(f->s);
  f->s = NULL;
  char path[160], sql[64];
  sqlite3 *db = NULL;
  snprintf(path, sizeof(path), "%s/medverse.db", f->dir);
  snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);

  struct mv_store_opts o = {.url = f->url};
  struct mv_store *s = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_store_open(&o, &s, &d), MV_ECORRUPT);
  assert_null(s);
  assert_int_equal(d.err, MV_ECORRUPT);
  assert_non_null(strstr(d.msg, "newer"));
  /* The refusal changed nothing. */
  assert_int_equal(db_int(f->dir, "PRAGMA user_version"), v + 1);
}

static void store_refuses_non_database_file(void **state) {
  struct fx *f = *state;
  char path[160];
  snprintf(path, sizeof(path), "%s/medverse.db", f->dir);
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  for (int i = 0; i < 200; i++)
    fputs("this is not an SQLite database file. ", fp);
  fclose(fp);
  struct mv_store_opts o = {.url = f->url};
  struct mv_store *s = NULL;
  assert_int_equal(mv_store_open(&o, &s, NULL), MV_ECORRUPT);
  assert_null(s);
}

/* The child writes until killed and reports each acknowledged write. */
struct ack {
  int32_t i;
  int32_t pad;
  int64_t seq;
};

static void crash_child(const char *url, int fd) {
  struct mv_store_opts o = {.url = url, .batch_delay_us = 500};
  struct mv_store *s = NULL;
  if (mv_store_open(&o, &s, NULL) != MV_OK)
    _exit(2);
  char id[16], body[64];
  for (int32_t i = 0; i < 1000000; i++) {
    snprintf(id, sizeof(id), "c%d", (int)i);
    snprintf(body, sizeof(body), "{\"i\":%d}", (int)i);
    struct mv_store_write w = wr(MV_STORE_CREATE, id, 0, body);
    struct mv_store_result r;
    if (mv_store_write_sync(s, &w, &r) != MV_OK)
      _exit(3);
    struct ack a = {.i = i, .seq = r.seq};
    if (write(fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
      _exit(4);
  }
  _exit(0);
}

static void store_acked_writes_survive_sigkill(void **state) {
  struct fx *f = *state;
  enum { KILL_AFTER = 40, MAX_ACKS = 100000 };
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    crash_child(f->url, p[1]);
  }
  close(p[1]);
  struct ack *acks = calloc(MAX_ACKS, sizeof(*acks));
  assert_non_null(acks);
  size_t n = 0;
  bool killed = false;
  struct ack a;
  ssize_t got;
  /* Pipe writes of 16 bytes are atomic, so reads return whole records. */
  while (n < MAX_ACKS && (got = read(p[0], &a, sizeof(a))) == sizeof(a)) {
    acks[n++] = a;
    if (n == KILL_AFTER) {
      kill(pid, SIGKILL);
      killed = true;
    }
  }
  close(p[0]);
  int wst = 0;
  assert_int_equal(waitpid(pid, &wst, 0), pid);
  assert_true(killed);
  assert_true(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
  assert_true(n >= KILL_AFTER);

  open_default(f);
  char id[16], body[64];
  for (size_t k = 0; k < n; k++) {
    assert_int_equal(acks[k].i, (int32_t)k);
    snprintf(id, sizeof(id), "c%d", (int)acks[k].i);
    snprintf(body, sizeof(body), "{\"i\":%d}", (int)acks[k].i);
    expect_body(f->s, id, 0, 1, body);
  }
  /* A write after recovery continues the sequence. */
  struct mv_store_result r;
  struct mv_store_write w = wr(MV_STORE_CREATE, "after-crash", 0, "{}");
  assert_int_equal(mv_store_write_sync(f->s, &w, &r), MV_OK);
  assert_true(r.seq > acks[n - 1].seq);
  free(acks);
}

/* ---- Users and metrics --------------------------------------------------- */

static void store_users_put_get(void **state) {
  struct fx *f = *state;
  open_default(f);
  struct mv_store_user u = {.disabled = false}, got;
  snprintf(u.username, sizeof(u.username), "alice");
  snprintf(u.role, sizeof(u.role), "clinician");
  snprintf(u.pw_hash, sizeof(u.pw_hash), "$argon2id$v=19$m=65536,t=2,p=1$x$y");
  assert_int_equal(mv_store_user_put(f->s, &u), MV_OK);
  memset(&got, 0, sizeof(got));
  assert_int_equal(mv_store_user_get(f->s, "alice", &got), MV_OK);
  assert_string_equal(got.username, "alice");
  assert_string_equal(got.role, "clinician");
  assert_string_equal(got.pw_hash, u.pw_hash);
  assert_false(got.disabled);

  snprintf(u.role, sizeof(u.role), "admin");
  u.disabled = true;
  assert_int_equal(mv_store_user_put(f->s, &u), MV_OK);
  reopen(f);
  assert_int_equal(mv_store_user_get(f->s, "alice", &got), MV_OK);
  assert_string_equal(got.role, "admin");
  assert_true(got.disabled);

  struct mv_store_user untouched = {.role = "keep"};
  assert_int_equal(mv_store_user_get(f->s, "bob", &untouched), MV_ENOTFOUND);
  assert_string_equal(untouched.role, "keep");
  assert_int_equal(mv_store_user_get(f->s, "", &got), MV_EINVAL);
  u.username[0] = '\0';
  assert_int_equal(mv_store_user_put(f->s, &u), MV_EINVAL);
}

static uint64_t metric_value(const char *text, const char *line_prefix) {
  const char *p = strstr(text, line_prefix);
  assert_non_null(p);
  return strtoull(p + strlen(line_prefix), NULL, 10);
}

static void store_metrics_exposition(void **state) {
  struct fx *f = *state;
  open_with(f, 10, 1000, 0, NULL);
  char id[16];
  for (int i = 0; i < 25; i++) {
    snprintf(id, sizeof(id), "m%d", i);
    struct mv_store_write w = wr(MV_STORE_CREATE, id, 0, "{}");
    assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  }
  struct mv_store_write w = wr(MV_STORE_CREATE, "m0", 0, "{}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_EEXISTS);
  struct mv__store_stats st;
  mv__store_stats_get(f->s, &st);

  struct mv_buf b;
  mv_buf_init(&b, 1u << 20);
  assert_int_equal(mv_store_metrics_write(f->s, &b), MV_OK);
  const char *t = mv_buf_cstr(&b);
  assert_non_null(strstr(t, "# TYPE mv_store_writes_total counter\n"));
  assert_non_null(strstr(t, "# TYPE mv_store_batches_total counter\n"));
  assert_non_null(strstr(t, "# TYPE mv_store_write_errors_total counter\n"));
  assert_non_null(strstr(t, "# TYPE mv_store_batch_size histogram\n"));
  assert_non_null(strstr(t, "# TYPE mv_store_commit_seconds histogram\n"));
  assert_non_null(strstr(t, "# TYPE mv_store_queue_depth gauge\n"));
  assert_non_null(strstr(t, "# HELP mv_store_commit_seconds "));
  assert_int_equal(metric_value(t, "\nmv_store_writes_total "), 26);
  assert_int_equal(metric_value(t, "\nmv_store_write_errors_total "), 1);
  assert_int_equal(metric_value(t, "\nmv_store_batches_total "), st.batches);
  assert_int_equal(metric_value(t, "\nmv_store_batch_size_count "), st.batches);
  assert_int_equal(metric_value(t, "\nmv_store_commit_seconds_count "),
                   st.batches);
  assert_int_equal(metric_value(t, "mv_store_batch_size_bucket{le=\"+Inf\"} "),
                   st.batches);
  assert_int_equal(metric_value(t, "\nmv_store_batch_size_sum "), 26);
  /* Sync writes one at a time: every batch held one write. */
  assert_int_equal(metric_value(t, "mv_store_batch_size_bucket{le=\"1\"} "),
                   st.batches);
  assert_int_equal(
      metric_value(t, "mv_store_commit_seconds_bucket{le=\"+Inf\"} "),
      st.batches);
  assert_non_null(strstr(t, "mv_store_commit_seconds_bucket{le=\"0.0005\"} "));
  assert_non_null(strstr(t, "mv_store_batch_size_bucket{le=\"1000\"} "));
  assert_int_equal(metric_value(t, "\nmv_store_queue_depth "), 0);
  mv_buf_release(&b);
}

/* ---- Concurrency -----------------------------------------------------------
 */

struct reader {
  struct mv_store *s;
  atomic_bool stop;
  long reads, failures;
  int64_t last_version;
};

static void *reader_main(void *arg) {
  struct reader *r = arg;
  char want[32];
  for (bool last = false; !last;) {
    /* The read after seeing stop starts after the writer's flush. */
    last = atomic_load(&r->stop);
    struct mv_store_record rec;
    int rc = mv_store_read(r->s, "Observation", "hot", 0, &rec);
    r->reads++;
    if (rc != MV_OK) {
      r->failures++;
      continue;
    }
    snprintf(want, sizeof(want), "{\"v\":%lld}", (long long)rec.version);
    if (rec.version < r->last_version || strcmp(rec.body, want) != 0)
      r->failures++;
    r->last_version = rec.version;
    mv_store_record_release(&rec);
  }
  return NULL;
}

static void store_reads_run_concurrently_with_writer(void **state) {
  struct fx *f = *state;
  enum { READERS = 3, UPDATES = 300 };
  open_with(f, 20, 1000, 0, NULL);
  struct mv_store_write w = wr(MV_STORE_CREATE, "hot", 0, "{\"v\":1}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  struct reader rd[READERS];
  pthread_t th[READERS];
  for (int i = 0; i < READERS; i++) {
    memset(&rd[i], 0, sizeof(rd[i]));
    rd[i].s = f->s;
    assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rd[i]), 0);
  }
  char body[32];
  struct cb_rec c;
  memset(&c, 0, sizeof(c));
  for (int v = 2; v <= UPDATES; v++) {
    snprintf(body, sizeof(body), "{\"v\":%d}", v);
    w = wr(MV_STORE_UPDATE, "hot", 0, body);
    assert_int_equal(mv_store_submit(f->s, &w, record_cb, &c), MV_OK);
    if (v % 25 == 0)
      usleep(2000); /* let several batches commit under the readers */
  }
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  for (int i = 0; i < READERS; i++) {
    atomic_store(&rd[i].stop, true);
    pthread_join(th[i], NULL);
    assert_int_equal(rd[i].failures, 0);
    assert_true(rd[i].reads > 0);
    assert_int_equal(rd[i].last_version, UPDATES); /* saw the final state */
  }
  assert_int_equal(atomic_load(&c.calls), UPDATES - 1);
}

/* Each history visitor reads the resource again while every visitor is
 * running: more visitors than the backend has read connections. A visitor
 * that keeps a read connection for the whole walk deadlocks here. */
enum { NESTED_VISITORS = 6 };

struct nested {
  struct mv_store *s;
  pthread_barrier_t *all_inside;
  bool waited;
  int visits, read_rc;
};

static int nested_visit(void *ctx, const struct mv_store_record *rec) {
  struct nested *n = ctx;
  (void)rec;
  if (!n->waited) {
    n->waited = true;
    pthread_barrier_wait(n->all_inside);
  }
  struct mv_store_record r;
  n->read_rc = mv_store_read(n->s, "Observation", "h", 0, &r);
  if (n->read_rc == MV_OK)
    mv_store_record_release(&r);
  n->visits++;
  return 0;
}

static atomic_int nested_done;

static void *nested_main(void *arg) {
  struct nested *n = arg;
  int rc = mv_store_history(n->s, "Observation", "h", 0, nested_visit, n);
  assert_int_equal(rc, MV_OK);
  atomic_fetch_add(&nested_done, 1);
  return NULL;
}

static void store_history_visitors_may_read_concurrently(void **state) {
  struct fx *f = *state;
  open_default(f);
  struct mv_store_write w = wr(MV_STORE_CREATE, "h", 0, "{\"v\":1}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  w = wr(MV_STORE_UPDATE, "h", 0, "{\"v\":2}");
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);

  pthread_barrier_t bar;
  assert_int_equal(pthread_barrier_init(&bar, NULL, NESTED_VISITORS), 0);
  struct nested n[NESTED_VISITORS];
  pthread_t th[NESTED_VISITORS];
  atomic_store(&nested_done, 0);
  for (int i = 0; i < NESTED_VISITORS; i++) {
    n[i] = (struct nested){.s = f->s, .all_inside = &bar};
    assert_int_equal(pthread_create(&th[i], NULL, nested_main, &n[i]), 0);
  }
  int64_t t0 = mono_us();
  while (atomic_load(&nested_done) < NESTED_VISITORS) {
    if (mono_us() - t0 > 10 * 1000000) {
      /* The threads are stuck inside the store; nothing can be cleaned. */
      fprintf(stderr, "history visitors deadlocked on the read pool\n");
      _exit(1);
    }
    usleep(1000);
  }
  for (int i = 0; i < NESTED_VISITORS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(n[i].visits, 2);
    assert_int_equal(n[i].read_rc, MV_OK);
  }
  pthread_barrier_destroy(&bar);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(store_create_read_update_history),
      T(store_update_absent_creates_version_1),
      T(store_create_twice_is_eexists),
      T(store_read_missing_is_enotfound),
      T(store_delete_then_read_is_egone),
      T(store_conflict_fails_alone_in_its_batch),
      T(store_group_commit_groups),
      T(store_batch_closes_on_delay),
      T(store_batch_delay_follows_injected_clock),
      T(store_queue_full_is_ebusy),
      T(store_closed_rejects_writes),
      T(store_close_commits_queue_and_rejects_late),
      T(store_bad_args_rejected_without_callback),
      T(store_open_rejects_bad_url),
      T(store_creates_private_nested_dir),
      T(store_reopen_keeps_everything),
      T(store_migrations_idempotent_on_reopen),
      T(store_refuses_newer_schema),
      T(store_refuses_non_database_file),
      T(store_acked_writes_survive_sigkill),
      T(store_users_put_get),
      T(store_metrics_exposition),
      T(store_reads_run_concurrently_with_writer),
      T(store_history_visitors_may_read_concurrently),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
