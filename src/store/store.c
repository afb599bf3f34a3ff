/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The backend-independent half of the store: the bounded queue, the one
 * writer thread that commits queue items in groups, the callbacks, the keys
 * held in memory (crypt.c) and the statistics exported as Prometheus text.
 * A queue item is one write, one transaction (n writes, all or none) or one
 * erasure, so all three are ordered with each other. Group commit means one
 * durable commit (one fsync) covers a whole batch; a batch closes
 * batch_delay_us after its first item was queued or when batch_max items
 * are waiting, whichever comes first, or at once when someone flushes or
 * closes. Backends (store_int.h) see only "apply these N items in one
 * transaction". Argument checks and the copying of writes are in item.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

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
  struct mv__crypt *crypt; /* keys; freed after the backend */
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
    s->depth_bytes -= s->head->bytes;
    s->batch[n++] = s->head;
    s->head = s->head->next;
  }
  if (!s->head)
    s->tail = NULL;
  s->depth -= n;
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* Reset the out fields of the items before the backend fills them. */
static void prepare_items(struct mv__store_item **b, size_t n, int64_t now) {
  for (size_t i = 0; i < n; i++) {
    b[i]->updated_us = now;
    b[i]->status = MV_OK;
    b[i]->failed_index = SIZE_MAX;
    b[i]->erased = 0;
    b[i]->ledger_index = -1;
    for (size_t k = 0; k < b[i]->n; k++) {
      b[i]->ops[k].status = MV_OK;
      memset(&b[i]->ops[k].res, 0, sizeof(b[i]->ops[k].res));
      b[i]->ops[k].res.ledger_index = -1;
    }
  }
}

/* After a failed batch transaction: every item fails with rc. */
static void fail_items(struct mv__store_item **b, size_t n, int rc) {
  for (size_t i = 0; i < n; i++) {
    b[i]->status = rc;
    b[i]->failed_index = SIZE_MAX;
    b[i]->erased = 0;
    b[i]->ledger_index = -1;
    for (size_t k = 0; k < b[i]->n; k++) {
      b[i]->ops[k].status = rc;
      memset(&b[i]->ops[k].res, 0, sizeof(b[i]->ops[k].res));
      b[i]->ops[k].res.ledger_index = -1;
    }
  }
}

static int item_status(const struct mv__store_item *it) {
  return it->kind == MV__ITEM_WRITE ? it->ops[0].status : it->status;
}

static void item_callback(struct mv__store_item *it) {
  switch (it->kind) {
  case MV__ITEM_WRITE:
    it->cb.write(it->ctx, it->ops[0].status, &it->ops[0].res);
    break;
  case MV__ITEM_TX: {
    struct mv_store_result *res = mv__store_item_results(it);
    for (size_t k = 0; k < it->n; k++)
      res[k] = it->status == MV_OK ? it->ops[k].res
                                   : (struct mv_store_result){0, 0, 0, -1};
    it->cb.tx(it->ctx, it->status, it->failed_index, res);
    break;
  }
  case MV__ITEM_ERASE:
    it->cb.erase(it->ctx, it->status, it->erased, it->ledger_index);
    break;
  }
}

static void run_batch(struct mv_store *s, size_t n) {
  struct mv__store_item **b = s->batch;
  prepare_items(b, n, mv_clock_now_us(s->clock));
  int64_t t0 = mv_clock_mono_us(s->clock);
  pthread_mutex_lock(&s->write_mu);
  int rc = s->ops->write_batch(s->be, b, n);
  pthread_mutex_unlock(&s->write_mu);
  int64_t commit_us = mv_clock_mono_us(s->clock) - t0;

  uint64_t errors = 0, writes = 0;
  if (rc != MV_OK)
    fail_items(b, n, rc);
  for (size_t i = 0; i < n; i++) {
    writes += b[i]->n;
    if (item_status(b[i]) != MV_OK)
      errors++;
  }
  if (rc != MV_OK)
    MV_LOG_ERROR("store", "batch of %zu items failed: %s", n, mv_err_name(rc));
  if (s->observer)
    s->observer(s->observer_ctx, n, commit_us);
  /* Statistics first, so whoever a callback acknowledges sees them. */
  pthread_mutex_lock(&s->mu);
  s->stats.writes += writes;
  s->stats.batches++;
  s->stats.errors += errors;
  mv_hist_observe(&s->stats.batch_size, (double)n);
  mv_hist_observe(&s->stats.commit_s, (double)commit_us / 1e6);
  pthread_mutex_unlock(&s->mu);

  /* Callbacks run after the commit, outside every lock, so they may submit
   * more writes or read. */
  for (size_t i = 0; i < n; i++) {
    item_callback(b[i]);
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
  mv__crypt_free(s->crypt);
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
  char key_path[MV_LIMIT_PATH_MAX];
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
  if (sodium_init() < 0) {
    rc = mv_diag_set(diag, MV_ECRYPTO, "cannot initialise libsodium");
    goto out;
  }
  if (opts->key_file) {
    if (!*opts->key_file ||
        strnlen(opts->key_file, MV_LIMIT_PATH_MAX) >= MV_LIMIT_PATH_MAX) {
      rc = mv_diag_set(diag, MV_EINVAL, "bad site key file path");
      goto out;
    }
    snprintf(key_path, sizeof(key_path), "%s", opts->key_file);
  } else {
    int w = snprintf(key_path, sizeof(key_path), "%s/site.key", loc);
    if (w < 0 || (size_t)w >= sizeof(key_path)) {
      rc = mv_diag_set(diag, MV_EINVAL, "store directory path is too long");
      goto out;
    }
  }
  if ((rc = mv__crypt_new(key_path, MV__KEY_CACHE_MAX, &s->crypt)) != MV_OK) {
    mv_diag_set(diag, rc, "mv_store_open: cannot set up key storage");
    goto out;
  }
  if ((rc = s->ops->open(loc, s->clock, s->crypt, opts, &s->be, diag)) != MV_OK)
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

/* Queue an item (taken: freed here on error). */
static int enqueue(struct mv_store *s, struct mv__store_item *it) {
  int rc = MV_OK;
  pthread_mutex_lock(&s->mu);
  if (s->closing) {
    rc = MV_ECLOSED;
  } else if (s->depth >= s->queue_cap ||
             s->depth_bytes + it->bytes > MV_LIMIT_STORE_QUEUE_BYTES) {
    rc = MV_EBUSY;
  } else {
    it->enq_mono_us = mv_clock_mono_us(s->clock);
    if (s->tail)
      s->tail->next = it;
    else
      s->head = it;
    s->tail = it;
    s->depth++;
    s->depth_bytes += it->bytes;
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

int mv_store_submit(struct mv_store *s, const struct mv_store_write *w,
                    mv_store_done_fn cb, void *ctx) {
  if (!s || !w || !cb)
    return MV_EINVAL;
  int rc = mv__store_validate_write(w);
  if (rc != MV_OK)
    return rc;
  struct mv__store_item *it = mv__store_item_new(MV__ITEM_WRITE, w, 1, NULL);
  if (!it)
    return MV_ENOMEM;
  it->cb.write = cb;
  it->ctx = ctx;
  return enqueue(s, it);
}

int mv_store_submit_tx(struct mv_store *s, const struct mv_store_write *ws,
                       size_t n, mv_store_tx_done_fn cb, void *ctx) {
  return mv_store_submit_tx_cursor(s, ws, n, NULL, cb, ctx);
}

bool mv_store_stream_ok(const char *stream) {
  size_t n = stream ? strnlen(stream, MV_STORE_STREAM_MAX + 1) : 0;
  if (n == 0 || n > MV_STORE_STREAM_MAX)
    return false;
  return strspn(stream, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789._:/@-") == n;
}

int mv_store_cursor_get(struct mv_store *s, const char *stream,
                        int64_t *out_seq) {
  if (!s || !out_seq || !mv_store_stream_ok(stream))
    return MV_EINVAL;
  if (!s->ops->cursor_get)
    return MV_EUNSUPPORTED;
  return s->ops->cursor_get(s->be, stream, out_seq);
}

int mv_store_submit_tx_cursor(struct mv_store *s,
                              const struct mv_store_write *ws, size_t n,
                              const struct mv_store_cursor *cursor,
                              mv_store_tx_done_fn cb, void *ctx) {
  if (!s || !ws || !cb || n == 0)
    return MV_EINVAL;
  if (cursor && (!mv_store_stream_ok(cursor->stream) || cursor->seq < 0))
    return MV_EINVAL;
  if (n > MV_STORE_TX_MAX)
    return MV_ETOOBIG;
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    int rc = mv__store_validate_write(&ws[i]);
    if (rc != MV_OK)
      return rc;
    bytes += ws[i].op != MV_STORE_DELETE ? ws[i].body_len : 0;
    if (bytes > MV_LIMIT_STORE_QUEUE_BYTES)
      return MV_ETOOBIG;
  }
  struct mv__store_item *it = mv__store_item_new(MV__ITEM_TX, ws, n, NULL);
  if (!it)
    return MV_ENOMEM;
  if (cursor) {
    it->has_cursor = true;
    it->cursor_seq = cursor->seq;
    memcpy(it->cursor_stream, cursor->stream, strlen(cursor->stream) + 1);
  }
  it->cb.tx = cb;
  it->ctx = ctx;
  return enqueue(s, it);
}

/* A caller waiting on the writer for one item. */
struct sync_wait {
  struct mv_store *s;
  bool done;
  int status;
  struct mv_store_result res;  /* a single write */
  struct mv_store_result *out; /* a transaction's results (n), or NULL */
  size_t n, failed_index;
  int64_t erased;
  int64_t ledger_index;
};

static void sync_finish(struct sync_wait *sw, int status) {
  pthread_mutex_lock(&sw->s->mu);
  sw->status = status;
  sw->done = true;
  pthread_cond_broadcast(&sw->s->done_cv);
  pthread_mutex_unlock(&sw->s->mu);
}

static void sync_done(void *ctx, int status,
                      const struct mv_store_result *res) {
  struct sync_wait *sw = ctx;
  sw->res = *res;
  sync_finish(sw, status);
}

static void sync_tx_done(void *ctx, int status, size_t failed_index,
                         const struct mv_store_result *results) {
  struct sync_wait *sw = ctx;
  if (status == MV_OK && sw->out)
    memcpy(sw->out, results, sw->n * sizeof(*results));
  sw->failed_index = failed_index;
  sync_finish(sw, status);
}

static void sync_erase_done(void *ctx, int status, int64_t records,
                            int64_t ledger_index) {
  struct sync_wait *sw = ctx;
  sw->erased = records;
  sw->ledger_index = ledger_index;
  sync_finish(sw, status);
}

static void sync_wait(struct sync_wait *sw) {
  pthread_mutex_lock(&sw->s->mu);
  while (!sw->done)
    pthread_cond_wait(&sw->s->done_cv, &sw->s->mu);
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
  sync_wait(&sw);
  if (sw.status == MV_OK && out_res)
    *out_res = sw.res;
  return sw.status;
}

int mv_store_write_tx_sync(struct mv_store *s, const struct mv_store_write *ws,
                           size_t n, struct mv_store_result *out_results,
                           size_t *out_failed_index) {
  struct sync_wait sw = {.s = s, .out = out_results, .n = n};
  if (!s || on_writer_thread(s))
    return MV_EINVAL;
  int rc = mv_store_submit_tx(s, ws, n, sync_tx_done, &sw);
  if (rc != MV_OK)
    return rc;
  sync_wait(&sw);
  if (out_failed_index)
    *out_failed_index = sw.failed_index;
  return sw.status;
}

int mv_store_erase_patient(struct mv_store *s, const char *patient_id,
                           int64_t *out_records) {
  return mv_store_erase_patient_ledger(s, patient_id, NULL, out_records, NULL);
}

int mv_store_erase_patient_ledger(struct mv_store *s, const char *patient_id,
                                  const char *actor, int64_t *out_records,
                                  int64_t *out_ledger_index) {
  struct sync_wait sw = {.s = s, .ledger_index = -1};
  if (!s || !mv__store_valid_id(patient_id) || on_writer_thread(s))
    return MV_EINVAL;
  if (actor &&
      strnlen(actor, MV_LIMIT_LEDGER_ACTOR + 1) > MV_LIMIT_LEDGER_ACTOR)
    return MV_ETOOBIG;
  struct mv__store_item *it = mv__store_item_erase(patient_id, actor);
  if (!it)
    return MV_ENOMEM;
  it->cb.erase = sync_erase_done;
  it->ctx = &sw;
  int rc = enqueue(s, it);
  if (rc != MV_OK)
    return rc;
  sync_wait(&sw);
  if (sw.status == MV_OK && out_records)
    *out_records = sw.erased;
  if (sw.status == MV_OK && out_ledger_index)
    *out_ledger_index = sw.ledger_index;
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
  if (!s || !out_rec || !mv__store_valid_type(type) ||
      !mv__store_valid_id(id) || version < 0)
    return MV_EINVAL;
  return s->ops->read(s->be, type, id, version, out_rec);
}

int mv_store_history(struct mv_store *s, const char *type, const char *id,
                     unsigned limit, mv_store_visit_fn fn, void *ctx) {
  if (!s || !fn || !mv__store_valid_type(type) || !mv__store_valid_id(id))
    return MV_EINVAL;
  return s->ops->history(s->be, type, id, limit, fn, ctx);
}

int mv_store_count(struct mv_store *s, const char *type, int64_t *out_count) {
  if (!s || !out_count || !mv__store_valid_type(type))
    return MV_EINVAL;
  return s->ops->count(s->be, type, out_count);
}

/* ---- Search ------------------------------------------------------------- */

int mv_store_search(struct mv_store *s, const struct mv_store_query *q,
                    mv_store_search_fn fn, void *ctx, int64_t *out_total) {
  if (!s || !q || !fn)
    return MV_EINVAL;
  int rc = mv__store_validate_query(q);
  if (rc != MV_OK)
    return rc;
  return s->ops->search(s->be, q, fn, ctx, out_total);
}

int mv_store_history_type(struct mv_store *s, const char *type,
                          int64_t since_us, unsigned limit, unsigned offset,
                          mv_store_search_fn fn, void *ctx,
                          int64_t *out_total) {
  if (!s || !fn || !mv__store_valid_type(type) ||
      limit > MV_STORE_QUERY_LIMIT_MAX)
    return MV_EINVAL;
  return s->ops->history_type(s->be, type, since_us, limit, offset, fn, ctx,
                              out_total);
}

/* ---- Keys ----------------------------------------------------------------- */

static int rotate(struct mv_store *s, int steps, struct mv_diag *diag) {
  pthread_mutex_lock(&s->write_mu);
  int rc = s->ops->rotate(s->be, steps, diag);
  pthread_mutex_unlock(&s->write_mu);
  return rc;
}

int mv_store_rotate_site_key(struct mv_store *s, struct mv_diag *diag) {
  if (!s)
    return mv_diag_set(diag, MV_EINVAL, "mv_store_rotate_site_key: no store");
  int rc = rotate(s, 3, diag);
  if (rc == MV_OK)
    MV_LOG_INFO("store", "site key rotated");
  return rc;
}

int mv__store_rotate_partial(struct mv_store *s, int steps,
                             struct mv_diag *diag) {
  return rotate(s, steps, diag);
}

int mv_store_derive_key(struct mv_store *s, uint64_t subkey_id,
                        const char ctx8[8], uint8_t out[32]) {
  if (!s || !ctx8 || !out)
    return MV_EINVAL;
  return mv__crypt_derive(s->crypt, subkey_id, ctx8, out);
}

size_t mv__store_key_cache_size(struct mv_store *s) {
  return mv__crypt_cache_size(s->crypt);
}

/* ---- Bulk loading (benchmarks) ---------------------------------------- */

int mv__store_write_bulk(struct mv_store *s, const struct mv_store_write *ws,
                         size_t n, int *out_status) {
  struct mv__store_item **items = NULL;
  size_t made = 0;
  int rc = MV_OK;
  if (!s || !ws || n == 0 || n > MV__STORE_BULK_MAX)
    return MV_EINVAL;
  items = calloc(n, sizeof(*items));
  if (!items)
    return MV_ENOMEM;
  for (; made < n; made++) {
    if ((rc = mv__store_validate_write(&ws[made])) != MV_OK)
      goto out;
    if (!(items[made] =
              mv__store_item_new(MV__ITEM_WRITE, &ws[made], 1, NULL))) {
      rc = MV_ENOMEM;
      goto out;
    }
  }
  prepare_items(items, n, mv_clock_now_us(s->clock));
  pthread_mutex_lock(&s->write_mu);
  rc = s->ops->write_batch(s->be, items, n);
  pthread_mutex_unlock(&s->write_mu);
  if (rc == MV_OK && out_status)
    for (size_t i = 0; i < n; i++)
      out_status[i] = items[i]->ops[0].status;
out:
  for (size_t i = 0; i < made; i++)
    free(items[i]);
  free(items);
  return rc;
}

int mv_store_user_put(struct mv_store *s, const struct mv_store_user *u) {
  if (!s || !u || !mv__store_user_ok(u))
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
      !mv__store_field_ok(username, sizeof(out_user->username)))
    return MV_EINVAL;
  return s->ops->user_get(s->be, username, out_user);
}

int mv_store_user_list(struct mv_store *s, mv_store_user_fn fn, void *ctx) {
  if (!s || !fn)
    return MV_EINVAL;
  return s->ops->user_list(s->be, fn, ctx);
}

/* ---- Ledger ----------------------------------------------------------------- */

int mv_store_ledger_size(struct mv_store *s, int64_t *out_size) {
  if (!s || !out_size)
    return MV_EINVAL;
  return s->ops->ledger_size(s->be, out_size);
}

int mv_store_ledger_leaves(struct mv_store *s, int64_t start, int64_t end,
                           mv_store_ledger_leaf_fn fn, void *ctx) {
  if (!s || !fn)
    return MV_EINVAL;
  if (start < 0 || end < start)
    return MV_ERANGE;
  if (end - start > (int64_t)MV_LIMIT_LEDGER_ENTRIES)
    return MV_ETOOBIG;
  return s->ops->ledger_leaves(s->be, start, end, fn, ctx);
}

int mv_store_ledger_checkpoint(struct mv_store *s, unsigned quorum,
                               const char *const *witnesses, size_t n,
                               char **out_note, size_t *out_len) {
  struct mv_buf b;
  int rc = MV_OK;
  if (!s || !out_note || (n && !witnesses))
    return MV_EINVAL;
  if (n > MV_LIMIT_LEDGER_WITNESSES)
    return MV_ETOOBIG;
  mv_buf_init(&b, MV_LIMIT_LEDGER_NOTE);
  if (witnesses) {
    rc = mv_buf_appends(&b, "[");
    for (size_t i = 0; i < n && rc == MV_OK; i++) {
      if (!witnesses[i])
        rc = MV_EINVAL;
      else if ((rc = mv_buf_appends(&b, i ? ",\"" : "\"")) == MV_OK &&
               (rc = mv_buf_append_json_str(&b, witnesses[i],
                                            strlen(witnesses[i]))) == MV_OK)
        rc = mv_buf_appends(&b, "\"");
    }
    if (rc == MV_OK)
      rc = mv_buf_appends(&b, "]");
  }
  if (rc == MV_OK)
    rc = s->ops->ledger_checkpoint(s->be, quorum,
                                   witnesses ? mv_buf_cstr(&b) : NULL, -1,
                                   out_note, out_len);
  mv_buf_release(&b);
  return rc;
}

int mv_store_ledger_checkpoint_at(struct mv_store *s, int64_t size,
                                  char **out_note, size_t *out_len) {
  if (!s || !out_note)
    return MV_EINVAL;
  if (size < 0)
    return MV_ERANGE;
  return s->ops->ledger_checkpoint(s->be, 0, NULL, size, out_note, out_len);
}

int mv_store_ledger_add_cosignature(struct mv_store *s, int64_t size,
                                    const char *witness, const char *line) {
  if (!s || !witness || !*witness || !line || !*line || size < 0 ||
      strnlen(witness, MV_LIMIT_LEDGER_NOTE) >= MV_LIMIT_LEDGER_NOTE ||
      strnlen(line, MV_LIMIT_LEDGER_NOTE) >= MV_LIMIT_LEDGER_NOTE)
    return MV_EINVAL;
  pthread_mutex_lock(&s->write_mu);
  int rc = s->ops->ledger_add_cosignature(s->be, size, witness, line);
  pthread_mutex_unlock(&s->write_mu);
  return rc;
}

int mv_store_ledger_inclusion(struct mv_store *s, int64_t index, int64_t size,
                              uint8_t (*out)[32], size_t cap, size_t *out_n) {
  if (!s || !out || !out_n)
    return MV_EINVAL;
  return s->ops->ledger_proof(s->be, false, index, size, out, cap, out_n);
}

int mv_store_ledger_consistency(struct mv_store *s, int64_t from, int64_t to,
                                uint8_t (*out)[32], size_t cap, size_t *out_n) {
  if (!s || !out || !out_n)
    return MV_EINVAL;
  return s->ops->ledger_proof(s->be, true, from, to, out, cap, out_n);
}

int mv_store_ledger_verifier_key(struct mv_store *s, char *out, size_t cap) {
  if (!s || !out || cap == 0)
    return MV_EINVAL;
  return s->ops->ledger_vkey(s->be, out, cap);
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
