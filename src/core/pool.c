/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixed-size pthread worker pool with a bounded ring queue. One mutex guards
 * the queue; workers sleep on `work` and mv_pool_drain() sleeps on `idle`.
 * A full queue is MV_EBUSY, never growth, so a burst of requests turns into
 * back-pressure instead of unbounded memory. Free marks the pool closing,
 * lets the workers empty the queue, then joins them.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "mv_err.h"
#include "mv_limits.h"
#include "mv_pool.h"

struct job {
  mv_pool_fn fn;
  void *arg;
};

struct mv_pool {
  pthread_mutex_t mu;
  pthread_cond_t work; /* a job was queued, or closing was set */
  pthread_cond_t idle; /* the queue is empty and no job is running */
  struct job *ring;
  unsigned cap;
  unsigned head;  /* index of the oldest queued job */
  unsigned count; /* queued jobs, not counting running ones */
  unsigned running;
  bool closing;
  unsigned nthreads; /* threads actually started */
  pthread_t *threads;
};

static void *worker(void *p_) {
  struct mv_pool *p = p_;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (p->count == 0 && !p->closing)
      pthread_cond_wait(&p->work, &p->mu);
    /* Closing still runs what is queued: exit only once it is empty. */
    if (p->count == 0)
      break;
    struct job j = p->ring[p->head];
    p->head = (p->head + 1) % p->cap;
    p->count--;
    p->running++;
    pthread_mutex_unlock(&p->mu);
    j.fn(j.arg);
    pthread_mutex_lock(&p->mu);
    p->running--;
    if (p->count == 0 && p->running == 0)
      pthread_cond_broadcast(&p->idle);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* Wake and join every started thread; the queue must be empty or will be
 * emptied by them. */
static void stop_threads(struct mv_pool *p) {
  pthread_mutex_lock(&p->mu);
  p->closing = true;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 0; i < p->nthreads; i++)
    pthread_join(p->threads[i], NULL);
  p->nthreads = 0;
}

static void destroy(struct mv_pool *p) {
  pthread_cond_destroy(&p->idle);
  pthread_cond_destroy(&p->work);
  pthread_mutex_destroy(&p->mu);
  free(p->threads);
  free(p->ring);
  free(p);
}

int mv_pool_new(unsigned threads, unsigned queue_cap,
                struct mv_pool **out_pool) {
  int rc = MV_OK;
  struct mv_pool *p = NULL;
  bool sigmask_set = false;
  sigset_t all, old;

  if (!out_pool || threads < 1 || threads > MV_LIMIT_POOL_THREADS ||
      queue_cap > MV_LIMIT_POOL_QUEUE)
    return MV_EINVAL;
  if (queue_cap == 0)
    queue_cap = MV_LIMIT_POOL_QUEUE;

  p = calloc(1, sizeof(*p));
  if (!p)
    return MV_ENOMEM;
  p->cap = queue_cap;
  p->ring = calloc(queue_cap, sizeof(*p->ring));
  p->threads = calloc(threads, sizeof(*p->threads));
  if (!p->ring || !p->threads) {
    free(p->ring);
    free(p->threads);
    free(p);
    return MV_ENOMEM;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->idle, NULL);

  /* Workers inherit this mask: with every signal blocked in them, signals
   * are delivered to the event-loop thread that is prepared to handle them. */
  sigfillset(&all);
  if (pthread_sigmask(SIG_SETMASK, &all, &old) == 0)
    sigmask_set = true;
  for (unsigned i = 0; i < threads; i++) {
    if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
      rc = MV_ENOMEM;
      goto out;
    }
    p->nthreads++;
  }
out:
  if (sigmask_set)
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != MV_OK) {
    stop_threads(p);
    destroy(p);
    return rc;
  }
  *out_pool = p;
  return MV_OK;
}

int mv_pool_submit(struct mv_pool *p, mv_pool_fn fn, void *arg) {
  int rc = MV_OK;
  if (!p || !fn)
    return MV_EINVAL;
  pthread_mutex_lock(&p->mu);
  if (p->closing) {
    rc = MV_ECLOSED;
  } else if (p->count == p->cap) {
    rc = MV_EBUSY;
  } else {
    p->ring[(p->head + p->count) % p->cap] = (struct job){fn, arg};
    p->count++;
    pthread_cond_signal(&p->work);
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* Called from inside a job this would wait for itself forever; jobs that
 * need a barrier submit a follow-up job instead. */
void mv_pool_drain(struct mv_pool *p) {
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  while (p->count > 0 || p->running > 0)
    pthread_cond_wait(&p->idle, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

void mv_pool_free(struct mv_pool *p) {
  if (!p)
    return;
  stop_threads(p);
  destroy(p);
}
