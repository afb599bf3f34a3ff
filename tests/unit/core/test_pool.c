/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the worker pool (src/core/pool.c): every job runs exactly once,
 * a full queue is MV_EBUSY, drain waits for running jobs, free runs what is
 * queued and refuses new work, and concurrent submitters lose nothing.
 * Blocking jobs wait on a gate (mutex + condition) instead of sleeping, so
 * the queue state the tests assert on is certain rather than likely.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "mv_err.h"
#include "mv_limits.h"
#include "mv_pool.h"

/* A gate: jobs announce they started, then wait until the test opens it. */
struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int started;
  bool open;
};

static void gate_init(struct gate *g) {
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  g->started = 0;
  g->open = false;
}

static void gate_release(struct gate *g) {
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
}

static void gate_open(struct gate *g) {
  pthread_mutex_lock(&g->mu);
  g->open = true;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static void gate_wait_started(struct gate *g, int n) {
  pthread_mutex_lock(&g->mu);
  while (g->started < n)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

static void blocking_job(void *arg) {
  struct gate *g = arg;
  pthread_mutex_lock(&g->mu);
  g->started++;
  pthread_cond_broadcast(&g->cv);
  while (!g->open)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

static void count_job(void *arg) {
  atomic_fetch_add((atomic_int *)arg, 1);
}

static void slow_count_job(void *arg) {
  usleep(20000);
  atomic_fetch_add((atomic_int *)arg, 1);
}

static void pool_new_rejects_bad_arguments(void **state) {
  (void)state;
  static char marker;
  struct mv_pool *const sentinel = (struct mv_pool *)(void *)&marker;
  struct mv_pool *p = sentinel; /* out_pool is untouched on error */
  assert_int_equal(mv_pool_new(0, 4, &p), MV_EINVAL);
  assert_int_equal(mv_pool_new(MV_LIMIT_POOL_THREADS + 1, 4, &p), MV_EINVAL);
  assert_int_equal(mv_pool_new(1, MV_LIMIT_POOL_QUEUE + 1, &p), MV_EINVAL);
  assert_int_equal(mv_pool_new(1, 4, NULL), MV_EINVAL);
  assert_ptr_equal(p, sentinel);
}

static void pool_runs_all_jobs(void **state) {
  (void)state;
  struct mv_pool *p = NULL;
  atomic_int n = 0;
  assert_int_equal(mv_pool_new(4, 0, &p), MV_OK);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(mv_pool_submit(p, count_job, &n), MV_OK);
  mv_pool_drain(p);
  assert_int_equal(atomic_load(&n), 1000);
  mv_pool_free(p);
  assert_int_equal(atomic_load(&n), 1000);
}

static void pool_submit_rejects_null_fn(void **state) {
  (void)state;
  struct mv_pool *p = NULL;
  assert_int_equal(mv_pool_new(1, 1, &p), MV_OK);
  assert_int_equal(mv_pool_submit(p, NULL, NULL), MV_EINVAL);
  mv_pool_free(p);
}

static void pool_submit_full_queue_is_busy(void **state) {
  (void)state;
  struct mv_pool *p = NULL;
  struct gate g;
  atomic_int queued_ran = 0, rejected_ran = 0;
  gate_init(&g);
  assert_int_equal(mv_pool_new(1, 2, &p), MV_OK);
  /* Occupy the only worker, so the queue holds exactly what we add. */
  assert_int_equal(mv_pool_submit(p, blocking_job, &g), MV_OK);
  gate_wait_started(&g, 1);
  assert_int_equal(mv_pool_submit(p, count_job, &queued_ran), MV_OK);
  assert_int_equal(mv_pool_submit(p, count_job, &queued_ran), MV_OK);
  assert_int_equal(mv_pool_submit(p, count_job, &rejected_ran), MV_EBUSY);
  assert_int_equal(mv_pool_submit(p, count_job, &rejected_ran), MV_EBUSY);
  gate_open(&g);
  mv_pool_drain(p);
  assert_int_equal(atomic_load(&queued_ran), 2);
  assert_int_equal(atomic_load(&rejected_ran), 0); /* never called */
  /* With the queue empty again there is room. */
  assert_int_equal(mv_pool_submit(p, count_job, &queued_ran), MV_OK);
  mv_pool_drain(p);
  assert_int_equal(atomic_load(&queued_ran), 3);
  mv_pool_free(p);
  gate_release(&g);
}

struct drainer {
  struct mv_pool *p;
  atomic_bool done;
};

static void *drain_thread(void *arg) {
  struct drainer *d = arg;
  mv_pool_drain(d->p);
  atomic_store(&d->done, true);
  return NULL;
}

static void pool_drain_waits_for_running_jobs(void **state) {
  (void)state;
  struct mv_pool *p = NULL;
  struct gate g;
  struct drainer d;
  pthread_t th;
  gate_init(&g);
  assert_int_equal(mv_pool_new(2, 4, &p), MV_OK);
  /* The queue is empty but a job is running: drain must still wait. */
  assert_int_equal(mv_pool_submit(p, blocking_job, &g), MV_OK);
  gate_wait_started(&g, 1);
  d.p = p;
  atomic_init(&d.done, false);
  assert_int_equal(pthread_create(&th, NULL, drain_thread, &d), 0);
  usleep(100000);
  assert_false(atomic_load(&d.done));
  gate_open(&g);
  pthread_join(th, NULL);
  assert_true(atomic_load(&d.done));
  mv_pool_free(p);
  gate_release(&g);
}

static void pool_drain_waits_for_queued_jobs(void **state) {
  (void)state;
  struct mv_pool *p = NULL;
  atomic_int n = 0;
  assert_int_equal(mv_pool_new(3, 16, &p), MV_OK);
  for (int i = 0; i < 9; i++)
    assert_int_equal(mv_pool_submit(p, slow_count_job, &n), MV_OK);
  mv_pool_drain(p);
  assert_int_equal(atomic_load(&n), 9);
  mv_pool_free(p);
}

static void pool_drain_idle_returns(void **state) {
  (void)state;
  struct mv_pool *p = NULL;
  assert_int_equal(mv_pool_new(2, 4, &p), MV_OK);
  mv_pool_drain(p);
  mv_pool_drain(p);
  mv_pool_free(p);
}

struct opener {
  struct gate *g;
  unsigned delay_us;
};

static void *open_later(void *arg) {
  struct opener *o = arg;
  usleep(o->delay_us);
  gate_open(o->g);
  return NULL;
}

static void pool_free_runs_queued_jobs(void **state) {
  (void)state;
  struct mv_pool *p = NULL;
  struct gate g;
  atomic_int n = 0;
  gate_init(&g);
  assert_int_equal(mv_pool_new(1, 8, &p), MV_OK);
  assert_int_equal(mv_pool_submit(p, blocking_job, &g), MV_OK);
  gate_wait_started(&g, 1);
  for (int i = 0; i < 5; i++)
    assert_int_equal(mv_pool_submit(p, count_job, &n), MV_OK);
  /* All five are still queued behind the blocked job. */
  assert_int_equal(atomic_load(&n), 0);
  /* Open the gate only once free is (by a wide margin) already waiting,
   * so a pool that dropped its queue on close would be caught. */
  pthread_t th;
  struct opener o = {&g, 100000};
  assert_int_equal(pthread_create(&th, NULL, open_later, &o), 0);
  mv_pool_free(p);
  pthread_join(th, NULL);
  assert_int_equal(atomic_load(&n), 5);
  gate_release(&g);
}

/* A job queued behind a gate that, once running during mv_pool_free(),
 * tries to queue more work. */
struct resubmit {
  struct mv_pool *p;
  atomic_int rc;
  atomic_int extra_ran;
};

static void resubmit_job(void *arg) {
  struct resubmit *r = arg;
  atomic_store(&r->rc, mv_pool_submit(r->p, count_job, &r->extra_ran));
}

static void pool_submit_during_free_is_closed(void **state) {
  (void)state;
  struct mv_pool *p = NULL;
  struct gate g;
  struct resubmit r;
  pthread_t th;
  gate_init(&g);
  atomic_init(&r.rc, 1);
  atomic_init(&r.extra_ran, 0);
  assert_int_equal(mv_pool_new(1, 4, &p), MV_OK);
  r.p = p;
  assert_int_equal(mv_pool_submit(p, blocking_job, &g), MV_OK);
  gate_wait_started(&g, 1);
  assert_int_equal(mv_pool_submit(p, resubmit_job, &r), MV_OK);
  /* The gate opens from another thread while this one is inside
   * mv_pool_free(); 200 ms is far longer than reaching the join takes. */
  struct opener o = {&g, 200000};
  assert_int_equal(pthread_create(&th, NULL, open_later, &o), 0);
  mv_pool_free(p);
  pthread_join(th, NULL);
  assert_int_equal(atomic_load(&r.rc), MV_ECLOSED);
  assert_int_equal(atomic_load(&r.extra_ran), 0);
  gate_release(&g);
}

static void pool_runs_jobs_in_parallel(void **state) {
  (void)state;
  struct mv_pool *p = NULL;
  struct gate g;
  gate_init(&g);
  assert_int_equal(mv_pool_new(4, 8, &p), MV_OK);
  for (int i = 0; i < 4; i++)
    assert_int_equal(mv_pool_submit(p, blocking_job, &g), MV_OK);
  /* Only returns if four jobs are running at once (ctest's timeout
   * catches a pool that runs fewer threads). */
  gate_wait_started(&g, 4);
  gate_open(&g);
  mv_pool_free(p);
  assert_int_equal(g.started, 4);
  gate_release(&g);
}

#define SUBMITTERS 4
#define PER_SUBMITTER 2000

struct sum_job_ctx {
  atomic_llong sum;
  atomic_int count;
};

struct submitter {
  struct mv_pool *p;
  struct sum_job_ctx *ctx;
  int base;
  int busy_seen;
  int failures;
};

/* Jobs carry their number in a heap-free way: one slot per job. */
struct numbered {
  struct sum_job_ctx *ctx;
  int value;
};

static struct numbered slots[SUBMITTERS * PER_SUBMITTER];

static void sum_job(void *arg) {
  struct numbered *j = arg;
  atomic_fetch_add(&j->ctx->sum, j->value);
  atomic_fetch_add(&j->ctx->count, 1);
}

static void *submit_many(void *arg) {
  struct submitter *s = arg;
  for (int i = 0; i < PER_SUBMITTER; i++) {
    struct numbered *j = &slots[s->base + i];
    j->ctx = s->ctx;
    j->value = s->base + i + 1;
    for (;;) {
      int rc = mv_pool_submit(s->p, sum_job, j);
      if (rc == MV_OK)
        break;
      if (rc != MV_EBUSY) {
        s->failures++;
        break;
      }
      s->busy_seen++;
      sched_yield();
    }
  }
  return NULL;
}

static void pool_concurrent_submit_loses_nothing(void **state) {
  (void)state;
  struct mv_pool *p = NULL;
  struct sum_job_ctx ctx;
  struct submitter sub[SUBMITTERS];
  pthread_t th[SUBMITTERS];
  atomic_init(&ctx.sum, 0);
  atomic_init(&ctx.count, 0);
  /* A small queue so submitters also race on the full condition. */
  assert_int_equal(mv_pool_new(3, 16, &p), MV_OK);
  for (int i = 0; i < SUBMITTERS; i++) {
    sub[i] = (struct submitter){p, &ctx, i * PER_SUBMITTER, 0, 0};
    assert_int_equal(pthread_create(&th[i], NULL, submit_many, &sub[i]), 0);
  }
  for (int i = 0; i < SUBMITTERS; i++)
    pthread_join(th[i], NULL);
  mv_pool_drain(p);
  const long long total = SUBMITTERS * PER_SUBMITTER;
  assert_int_equal(atomic_load(&ctx.count), total);
  /* Sum of 1..total: each job ran exactly once, none twice. */
  assert_int_equal(atomic_load(&ctx.sum), total * (total + 1) / 2);
  for (int i = 0; i < SUBMITTERS; i++)
    assert_int_equal(sub[i].failures, 0);
  mv_pool_free(p);
}

static void pool_free_accepts_null(void **state) {
  (void)state;
  mv_pool_free(NULL);
  mv_pool_drain(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pool_new_rejects_bad_arguments),
      cmocka_unit_test(pool_runs_all_jobs),
      cmocka_unit_test(pool_submit_rejects_null_fn),
      cmocka_unit_test(pool_submit_full_queue_is_busy),
      cmocka_unit_test(pool_drain_waits_for_running_jobs),
      cmocka_unit_test(pool_drain_waits_for_queued_jobs),
      cmocka_unit_test(pool_drain_idle_returns),
      cmocka_unit_test(pool_free_runs_queued_jobs),
      cmocka_unit_test(pool_submit_during_free_is_closed),
      cmocka_unit_test(pool_runs_jobs_in_parallel),
      cmocka_unit_test(pool_concurrent_submit_loses_nothing),
      cmocka_unit_test(pool_free_accepts_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
