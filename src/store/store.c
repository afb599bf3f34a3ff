/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The backend-independent half of the store: argument checks, the bounded
 * write queue, the one writer thread that commits writes in groups, the
 * callbacks, and the statistics exported as Prometheus text. Group commit
 * means one durable commit (one fsync) covers a whole batch; a batch closes
 * batch_delay_us after its first write was queued or when batch_max writes
 * are waiting, whichever comes first, or at once when someone flushes or
 * closes. Backends (store_int.h) see only "apply these N writes in one
 * transaction".
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mv_limits.h"
#include "mv_log.h"
#include "mv_metrics.h"
#include "store_int.h"

/* Longest the writer sleeps in one wait: bounds how late it notices a fake
 * clock that a test advanced, at no cost with the system clock. */
#define WAIT_STEP_US 10000

/* Prometheus histogram bounds. */
static const double batch_bounds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
static const double commit_bounds[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

struct stats {
  uint64_t writes, batches, errors;
  struct mv_hist batch_size, commit_s;
};

struct mv_store {
  const struct mv_store_backend_ops *ops;
  struct mv_store_backend *be;
  const struct mv_clock *clock;
  unsigned batch_max, batch_delay_us, queue_cap;

  /* mu guards everything down to `stats` included. */
  pthread_mutex_t mu;
  pthread_cond_t work_cv; /* the writer waits here (CLOCK_MONOTONIC) */
  pthread_cond_t done_cv; /* flush and write_sync wait here */
  struct mv__store_item *head, *tail;
  size_t depth;
  /* Body bytes queued, capped by MV_LIMIT_STORE_QUEUE_BYTES. */
  size_t depth_bytes;
  uint64_t submitted, completed;
  unsigned flush_waiters;
  bool closing, paused, joined;
  struct stats stats;

  /* Serialises the backend's write operations: batches and user_put. */
  pthread_mutex_t write_mu;
  bool sync_init;
  bool writer_started;
  pthread_t writer;
  struct mv__store_item **batch; /* batch_max slots, writer thread only */
  mv__store_commit_fn observer;
  void *observer_ctx;
};

/* ---- Validation and copying ------------------------------------------ */

static bool valid_type(const char *t) {
  size_t n = t ? strnlen(t, MV_LIMIT_TYPE_LEN + 1) : 0;
  if (n == 0 || n > MV_LIMIT_TYPE_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = t[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9')))
      return false;
  }
  return true;
}

/* FHIR id: [A-Za-z0-9\-\.]{1,64} */
static bool valid_id(const char *id) {
  size_t n = id ? strnlen(id, MV_LIMIT_ID_LEN + 1) : 0;
  if (n == 0 || n > MV_LIMIT_ID_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
  }
  return true;
}

static bool index_too_long(const char *v) {
  return v && strnlen(v, MV__STORE_INDEX_MAX + 1) > MV__STORE_INDEX_MAX;
}

static int validate_write(const struct mv_store_write *w) {
  if (w->op != MV_STORE_CREATE && w->op != MV_STORE_UPDATE &&
      w->op != MV_STORE_DELETE)
    return MV_EINVAL;
  if (!valid_type(w->type) || !valid_id(w->id) || w->if_version < 0)
    return MV_EINVAL;
  if (w->op == MV_STORE_CREATE && w->if_version != 0)
    return MV_EINVAL;
  if (w->op != MV_STORE_DELETE) {
    if (w->body_len > MV_LIMIT_STORE_RESOURCE_MAX)
      return MV_ETOOBIG;
    if (!w->body || w->body_len == 0)
      return MV_EINVAL;
  }
  if (index_too_long(w->patient_id) || index_too_long(w->code) ||
      index_too_long(w->status))
    return MV_ETOOBIG;
  return MV_OK;
}

/* Copy n bytes plus a NUL to *cursor and advance it. */
static const char *put_str(char **cursor, const char *src, size_t n) {
  char *dst = *cursor;
  if (n)
    memcpy(dst, src, n);
  dst[n] = '\0';
  *cursor = dst + n + 1;
  return dst;
}

/* One allocation per write: the item, then every string it points to. */
static struct mv__store_item *item_new(const struct mv_store_write *w) {
  bool has_body = w->op != MV_STORE_DELETE;
  size_t tl = strlen(w->type), il = strlen(w->id);
  size_t bl = has_body ? w->body_len : 0;
  size_t pl = w->patient_id ? strlen(w->patient_id) : 0;
  size_t cl = w->code ? strlen(w->code) : 0;
  size_t sl = w->status ? strlen(w->status) : 0;
  size_t total =
      sizeof(struct mv__store_item) + tl + il + bl + pl + cl + sl + 6;
  struct mv__store_item *it = malloc(total);
  if (!it)
    return NULL;
  memset(it, 0, sizeof(*it));
  char *cur = (char *)(it + 1);
  it->w.op = w->op;
  it->w.if_version = w->if_version;
  it->w.date_us = w->date_us;
  it->w.type = put_str(&cur, w->type, tl);
  it->w.id = put_str(&cur, w->id, il);
  it->w.body = has_body ? put_str(&cur, w->body, bl) : NULL;
  it->w.body_len = bl;
  it->w.patient_id = w->patient_id ? put_str(&cur, w->patient_id, pl) : NULL;
  it->w.code = w->code ? put_str(&cur, w->code, cl) : NULL;
  it->w.status = w->status ? put_str(&cur, w->status, sl) : NULL;
  return it;
}

/* ---- The writer thread --------------------------------------------------- */

/* Sleep on work_cv until `deadline_us` on the store clock at the latest.
 * Called with mu held. */
static void wait_until(struct mv_store *s, int64_t deadline_us) {
  int64_t left = deadline_us - mv_clock_mono_us(s->clock);
  if (left <= 0)
    return;
  if (left > WAIT_STEP_US)
    left = WAIT_STEP_US;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t ns = ts.tv_nsec + left * 1000;
  ts.tv_sec += ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  pthread_cond_timedwait(&s->work_cv, &s->mu, &ts);
}

static bool batch_ready(struct mv_store *s) {
  if (s->closing || s->flush_waiters > 0 || s->depth >= s->batch_max)
    return true;
  return mv_clock_mono_us(s->clock) >=
         s->head->enq_mono_us + (int64_t)s->batch_delay_us;
}

/* Block until a batch is due, move it to s->batch and return its size;
 * 0 means the store is closing and the queue is drained. */
static size_t take_batch(struct mv_store *s) {
  pthread_mutex_lock(&s->mu);
  for (;;) {
    if (!s->head) {
      if (s->closing) {
        pthread_mutex_unlock(&s->mu);
        return 0;
      }
      pthread_cond_wait(&s->work_cv, &s->mu);
    } else if (s->paused && !s->closing) {
      pthread_cond_wait(&s->work_cv, &s->mu);
    } else if (batch_ready(s)) {
      break;
    } else {
      /* The batch's clock started when its first write was queued. */
      wait_until(s, s->head->enq_mono_us + (int64_t)s->batch_delay_us);
    }
  }
  size_t n = 0;
  while (s->head && n < s->batch_max) {
    s->depth_bytes -= s->head->w.body_len;
    s->batch[n++] = s->head;
    s->head = s->head->next;
  }
  if (!s->head)
    s->tail = NULL;
  s->depth -= n;
  pthread_mutex_unlock(&s->mu);
  return n;
}

static void run_batch(struct mv_store *s, size_t n) {
  struct mv__store_item **b = s->batch;
  for (size_t i = 0; i < n; i++) {
    b[i]->updated_us = mv_clock_now_us(s->clock);
    b[i]->status = MV_OK;
    memset(&b[i]->res, 0, sizeof(b[i]->res));
  }
  int64_t t0 = mv_clock_mono_us(s->clock);
  pthread_mutex_lock(&s->write_mu);
  int rc = s->ops->write_batch(s->be, b, n);
  pthread_mutex_unlock(&s->write_mu);
  int64_t commit_us = mv_clock_mono_us(s->clock) - t0;

  uint64_t errors = 0;
  for (size_t i = 0; i < n; i++) {
    if (rc != MV_OK) {
      b[i]->status = rc;
      memset(&b[i]->res, 0, sizeof(b[i]->res));
    }
    if (b[i]->status != MV_OK)
      errors++;
  }
  if (rc != MV_OK)
    MV_LOG_ERROR("store", "batch of %zu writes failed: %s", n, mv_err_name(rc));
  if (s->observer)
    s->observer(s->observer_ctx, n, commit_us);
  /* Statistics first, so whoever a callback acknowledges sees them. */
  pthread_mutex_lock(&s->mu);
  s->stats.writes += n;
  s->stats.batches++;
  s->stats.errors += errors;
  mv_hist_observe(&s->stats.batch_size, (double)n);
  mv_hist_observe(&s->stats.commit_s, (double)commit_us / 1e6);
  pthread_mutex_unlock(&s->mu);

  /* Callbacks run after the commit, outside every lock, so they may submit
   * more writes or read. */
  for (size_t i = 0; i < n; i++) {
    b[i]->cb(b[i]->ctx, b[i]->status, &b[i]->res);
    free(b[i]);
    b[i] = NULL;
  }

  pthread_mutex_lock(&s->mu);
  s->completed += n;
  pthread_cond_broadcast(&s->done_cv);
  pthread_mutex_unlock(&s->mu);
}

static void *writer_main(void *arg) {
  struct mv_store *s = arg;
  size_t n;
  while ((n = take_batch(s)) > 0)
    run_batch(s, n);
  return NULL;
}

/* ---- Open and close ------------------------------------------------------ */

/* Map a url to a backend and the location it is given. */
static int pick_backend(const char *url,
                        const struct mv_store_backend_ops **out_ops,
                        const char **out_loc, struct mv_diag *diag) {
  static const char sqlite_scheme[] = "sqlite:";
  const char *loc = url;
  if (!url || !*url)
    return mv_diag_set(diag, MV_EINVAL, "store url is empty");
  if (strncmp(url, "postgres:", 9) == 0 || strncmp(url, "postgresql:", 11) == 0)
    return mv_diag_set(diag, MV_EINVAL,
                       "the PostgreSQL store backend is not in this build");
  if (strncmp(url, sqlite_scheme, sizeof(sqlite_scheme) - 1) == 0)
    loc = url + sizeof(sqlite_scheme) - 1;
  if (!*loc)
    return mv_diag_set(diag, MV_EINVAL, "store url names no directory");
  if (strnlen(loc, MV_LIMIT_PATH_MAX) >= MV_LIMIT_PATH_MAX)
    return mv_diag_set(diag, MV_EINVAL, "store directory path is too long");
  *out_ops = &mv__store_sqlite_ops;
  *out_loc = loc;
  return MV_OK;
}

static int sync_init(struct mv_store *s) {
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca))
    return MV_ENOMEM;
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int e = pthread_mutex_init(&s->mu, NULL);
  if (!e && (e = pthread_mutex_init(&s->write_mu, NULL)) != 0)
    pthread_mutex_destroy(&s->mu);
  if (!e && (e = pthread_cond_init(&s->work_cv, &ca)) != 0) {
    pthread_mutex_destroy(&s->write_mu);
    pthread_mutex_destroy(&s->mu);
  }
  if (!e && (e = pthread_cond_init(&s->done_cv, NULL)) != 0) {
    pthread_cond_destroy(&s->work_cv);
    pthread_mutex_destroy(&s->write_mu);
    pthread_mutex_destroy(&s->mu);
  }
  pthread_condattr_destroy(&ca);
  if (e)
    return MV_ENOMEM;
  s->sync_init = true;
  return MV_OK;
}

/* Free a store whose writer is not running (never started or joined). */
static void store_free(struct mv_store *s) {
  if (!s)
    return;
  if (s->be)
    s->ops->close(s->be);
  if (s->sync_init) {
    pthread_cond_destroy(&s->done_cv);
    pthread_cond_destroy(&s->work_cv);
    pthread_mutex_destroy(&s->write_mu);
    pthread_mutex_destroy(&s->mu);
  }
  free(s->batch);
  free(s);
}

int mv_store_open(const struct mv_store_opts *opts, struct mv_store **out_store,
                  struct mv_diag *diag) {
  struct mv_store *s = NULL;
  const char *loc = NULL;
  int rc;
  if (!opts || !out_store)
    return mv_diag_set(diag, MV_EINVAL, "mv_store_open: missing argument");
  s = calloc(1, sizeof(*s));
  if (!s)
    return mv_diag_set(diag, MV_ENOMEM, "mv_store_open: out of memory");
  mv_hist_init(&s->stats.batch_size, batch_bounds, MV_ARRAY_LEN(batch_bounds));
  mv_hist_init(&s->stats.commit_s, commit_bounds, MV_ARRAY_LEN(commit_bounds));
  if ((rc = pick_backend(opts->url, &s->ops, &loc, diag)) != MV_OK)
    goto out;
  s->clock = opts->clock ? opts->clock : mv_clock_system();
  s->queue_cap = opts->queue_cap ? opts->queue_cap : MV_LIMIT_STORE_QUEUE;
  s->batch_max = opts->batch_max ? opts->batch_max : MV_LIMIT_STORE_BATCH_MAX;
  if (s->batch_max > s->queue_cap)
    s->batch_max = s->queue_cap; /* a batch can never hold more */
  s->batch_delay_us = opts->batch_delay_us ? opts->batch_delay_us
                                           : MV_LIMIT_STORE_BATCH_DELAY_US;
  s->batch = calloc(s->batch_max, sizeof(*s->batch));
  if (!s->batch) {
    rc = mv_diag_set(diag, MV_ENOMEM, "mv_store_open: out of memory");
    goto out;
  }
  if ((rc = sync_init(s)) != MV_OK) {
    mv_diag_set(diag, rc, "mv_store_open: cannot create locks");
    goto out;
  }
  if ((rc = s->ops->open(loc, s->clock, &s->be, diag)) != MV_OK)
    goto out;
  if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
    rc = mv_diag_set(diag, MV_ENOMEM, "cannot start the store writer thread");
    goto out;
  }
  s->writer_started = true;
  MV_LOG_INFO("store", "opened %s store at schema version %d", s->ops->name,
              s->ops->schema_version(s->be));
  *out_store = s;
  s = NULL;
out:
  store_free(s);
  return rc;
}

void mv__store_shutdown(struct mv_store *s) {
  pthread_mutex_lock(&s->mu);
  if (s->joined) {
    pthread_mutex_unlock(&s->mu);
    return;
  }
  s->closing = true;
  s->paused = false;
  pthread_cond_broadcast(&s->work_cv);
  pthread_mutex_unlock(&s->mu);
  if (s->writer_started)
    pthread_join(s->writer, NULL);
  pthread_mutex_lock(&s->mu);
  s->joined = true;
  pthread_mutex_unlock(&s->mu);
}

void mv_store_close(struct mv_store *s) {
  if (!s)
    return;
  mv__store_shutdown(s);
  store_free(s);
}

int mv_store_schema_version(struct mv_store *s) {
  return s->ops->schema_version(s->be);
}

/* ---- Writes ----------------------------------------------------------------
 */

static bool on_writer_thread(struct mv_store *s) {
  return s->writer_started && pthread_equal(pthread_self(), s->writer);
}

int mv_store_submit(struct mv_store *s, const struct mv_store_write *w,
                    mv_store_done_fn cb, void *ctx) {
  if (!s || !w || !cb)
    return MV_EINVAL;
  int rc = validate_write(w);
  if (rc != MV_OK)
    return rc;
  struct mv__store_item *it = item_new(w);
  if (!it)
    return MV_ENOMEM;
  it->cb = cb;
  it->ctx = ctx;

  pthread_mutex_lock(&s->mu);
  if (s->closing) {
    rc = MV_ECLOSED;
  } else if (s->depth >= s->queue_cap ||
             s->depth_bytes + it->w.body_len > MV_LIMIT_STORE_QUEUE_BYTES) {
    rc = MV_EBUSY;
  } else {
    it->enq_mono_us = mv_clock_mono_us(s->clock);
    if (s->tail)
      s->tail->next = it;
    else
      s->head = it;
    s->tail = it;
    s->depth++;
    s->depth_bytes += it->w.body_len;
    s->submitted++;
    /* Wake the writer only when a batch opens or fills; in between it
     * sleeps until the batch deadline. */
    if (s->depth == 1 || s->depth >= s->batch_max)
      pthread_cond_signal(&s->work_cv);
    it = NULL;
  }
  pthread_mutex_unlock(&s->mu);
  free(it);
  return rc;
}

struct sync_wait {
  struct mv_store *s;
  bool done;
  int status;
  struct mv_store_result res;
};

static void sync_done(void *ctx, int status,
                      const struct mv_store_result *res) {
  struct sync_wait *sw = ctx;
  pthread_mutex_lock(&sw->s->mu);
  sw->status = status;
  sw->res = *res;
  sw->done = true;
  pthread_cond_broadcast(&sw->s->done_cv);
  pthread_mutex_unlock(&sw->s->mu);
}

int mv_store_write_sync(struct mv_store *s, const struct mv_store_write *w,
                        struct mv_store_result *out_res) {
  struct sync_wait sw = {.s = s};
  if (!s)
    return MV_EINVAL;
  if (on_writer_thread(s))
    return MV_EINVAL; /* would wait for itself forever */
  int rc = mv_store_submit(s, w, sync_done, &sw);
  if (rc != MV_OK)
    return rc;
  pthread_mutex_lock(&s->mu);
  while (!sw.done)
    pthread_cond_wait(&s->done_cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
  if (sw.status == MV_OK && out_res)
    *out_res = sw.res;
  return sw.status;
}

int mv_store_flush(struct mv_store *s) {
  if (!s || on_writer_thread(s))
    return MV_EINVAL;
  pthread_mutex_lock(&s->mu);
  if (s->closing) {
    pthread_mutex_unlock(&s->mu);
    return MV_ECLOSED;
  }
  uint64_t target = s->submitted;
  s->flush_waiters++;
  pthread_cond_signal(&s->work_cv);
  while (s->completed < target)
    pthread_cond_wait(&s->done_cv, &s->mu);
  s->flush_waiters--;
  pthread_mutex_unlock(&s->mu);
  return MV_OK;
}

/* ---- Reads and users -------------------------------------------------------
 */

void mv_store_record_release(struct mv_store_record *r) {
  if (!r)
    return;
  free(r->body);
  r->body = NULL;
  r->body_len = 0;
}

int mv_store_read(struct mv_store *s, const char *type, const char *id,
                  int64_t version, struct mv_store_record *out_rec) {
  if (!s || !out_rec || !valid_type(type) || !valid_id(id) || version < 0)
    return MV_EINVAL;
  return s->ops->read(s->be, type, id, version, out_rec);
}

int mv_store_history(struct mv_store *s, const char *type, const char *id,
                     unsigned limit, mv_store_visit_fn fn, void *ctx) {
  if (!s || !fn || !valid_type(type) || !valid_id(id))
    return MV_EINVAL;
  return s->ops->history(s->be, type, id, limit, fn, ctx);
}

int mv_store_count(struct mv_store *s, const char *type, int64_t *out_count) {
  if (!s || !out_count || !valid_type(type))
    return MV_EINVAL;
  return s->ops->count(s->be, type, out_count);
}

/* A fixed-size field must hold a NUL-terminated string of 1..size-1 bytes. */
static bool field_ok(const char *f, size_t size) {
  size_t n = strnlen(f, size);
  return n > 0 && n < size;
}

int mv_store_user_put(struct mv_store *s, const struct mv_store_user *u) {
  if (!s || !u || !field_ok(u->username, sizeof(u->username)) ||
      !field_ok(u->role, sizeof(u->role)) ||
      !field_ok(u->pw_hash, sizeof(u->pw_hash)))
    return MV_EINVAL;
  int64_t now = mv_clock_now_us(s->clock);
  pthread_mutex_lock(&s->write_mu);
  int rc = s->ops->user_put(s->be, u, now);
  pthread_mutex_unlock(&s->write_mu);
  return rc;
}

int mv_store_user_get(struct mv_store *s, const char *username,
                      struct mv_store_user *out_user) {
  if (!s || !out_user || !username ||
      !field_ok(username, sizeof(out_user->username)))
    return MV_EINVAL;
  return s->ops->user_get(s->be, username, out_user);
}

/* ---- Metrics ----------------------------------------------------------------
 */

static int put_hist(struct mv_buf *b, const char *name, const char *help,
                    const struct mv_hist *h) {
  int rc = mv_metrics_write_header(b, name, "histogram", help);
  return rc == MV_OK ? mv_metrics_write_hist(b, name, NULL, h) : rc;
}

int mv_store_metrics_write(struct mv_store *s, struct mv_buf *b) {
  if (!s || !b)
    return MV_EINVAL;
  struct stats st;
  size_t depth;
  pthread_mutex_lock(&s->mu);
  st = s->stats;
  depth = s->depth;
  pthread_mutex_unlock(&s->mu);

  int rc = mv_metrics_write_scalar(
      b, "mv_store_writes_total", "counter",
      "Writes completed by the store writer, any status.", st.writes);
  if (rc == MV_OK)
    rc = mv_metrics_write_scalar(b, "mv_store_batches_total", "counter",
                                 "Group-commit transactions attempted.",
                                 st.batches);
  if (rc == MV_OK)
    rc = mv_metrics_write_scalar(b, "mv_store_write_errors_total", "counter",
                                 "Writes that completed with an error status.",
                                 st.errors);
  if (rc == MV_OK)
    rc = put_hist(b, "mv_store_batch_size", "Writes per group commit.",
                  &st.batch_size);
  if (rc == MV_OK)
    rc = put_hist(b, "mv_store_commit_seconds",
                  "Time to apply and durably commit one batch.", &st.commit_s);
  if (rc == MV_OK)
    rc = mv_metrics_write_scalar(
        b, "mv_store_queue_depth", "gauge",
        "Writes queued and not yet taken by the writer.", depth);
  return rc;
}

/* ---- Hooks for tests and benchmarks -----------------------------------------
 */

void mv__store_stats_get(struct mv_store *s, struct mv__store_stats *out) {
  pthread_mutex_lock(&s->mu);
  out->writes = s->stats.writes;
  out->batches = s->stats.batches;
  out->errors = s->stats.errors;
  out->queue_depth = s->depth;
  pthread_mutex_unlock(&s->mu);
}

void mv__store_test_pause(struct mv_store *s, bool paused) {
  pthread_mutex_lock(&s->mu);
  s->paused = paused;
  pthread_cond_broadcast(&s->work_cv);
  pthread_mutex_unlock(&s->mu);
}

void mv__store_set_commit_observer(struct mv_store *s, mv__store_commit_fn fn,
                                   void *ctx) {
  pthread_mutex_lock(&s->mu);
  s->observer = fn;
  s->observer_ctx = ctx;
  pthread_mutex_unlock(&s->mu);
}
