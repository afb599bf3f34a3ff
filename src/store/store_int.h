/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface of the store module (after SQLite's btree.h/btreeInt.h
 * split). The generic layer in store.c owns the queue, the writer thread,
 * group commit, callbacks and statistics; a backend (sqlite.c now, a
 * PostgreSQL one later) only implements the table of operations below and
 * never sees threads or callbacks. Also declares hooks used by the unit tests
 * and the benchmark; no production caller uses them.
 */
#ifndef MV_STORE_INT_H
#define MV_STORE_INT_H

#include "mv_limits.h"
#include "mv_store.h"

/* Longest patient_id, code or status index value accepted by the store.
 * Private because no other module produces these strings directly; it bounds
 * the memory a queued write can pin besides its body. */
#define MV__STORE_INDEX_MAX MV_LIMIT_STORE_INDEX_VALUE

/*
 * One queued write. The generic layer allocates it in one block holding the
 * copied strings and body; `w` points into that block. A backend reads `w`
 * and `updated_us`, and writes `status` and `res`; the other fields belong to
 * the generic layer.
 */
struct mv__store_item {
  struct mv_store_write w;    /* copied; strings NUL-terminated */
  int64_t updated_us;         /* in: lastUpdated to assign to the new version */
  int status;                 /* out: MV_OK or this write's own error */
  struct mv_store_result res; /* out: valid when status is MV_OK */

  mv_store_done_fn cb;
  void *ctx;
  int64_t enq_mono_us; /* when it was queued (store clock, monotonic) */
  struct mv__store_item *next;
};

/* A backend instance; each backend defines its own struct. */
struct mv_store_backend;

/*
 * The operations table of a backend. All functions return MV_OK or a
 * negative mv_err. Threading contract, enforced by the generic layer:
 * write_batch and user_put are never called concurrently with each other
 * (one writer); read, history, count and user_get may be called from any
 * thread at any time, also concurrently with a write.
 */
struct mv_store_backend_ops {
  const char *name;
  /* location: the part of the url after "<scheme>:" (borrowed for the call);
   * clock: borrowed for the backend's life. Creates and migrates the
   * database. Returned, freed with close. */
  int (*open)(const char *location, const struct mv_clock *clock,
              struct mv_store_backend **out_be, struct mv_diag *diag);
  void (*close)(struct mv_store_backend *be); /* accepts NULL */
  int (*schema_version)(struct mv_store_backend *be);
  /*
   * Apply n writes in ONE transaction and commit it durably. Each item gets
   * its own status: a write that fails on its own (MV_EEXISTS, MV_ECONFLICT,
   * MV_ENOTFOUND, or an isolated MV_EDB) leaves the other writes of the batch
   * intact. Returns MV_OK when the transaction committed; any other value
   * means nothing of the batch is durable (item statuses are then
   * meaningless and the caller fails every item with the returned error).
   */
  int (*write_batch)(struct mv_store_backend *be, struct mv__store_item **items,
                     size_t n);
  /* Semantics of mv_store_read / mv_store_history / mv_store_count. */
  int (*read)(struct mv_store_backend *be, const char *type, const char *id,
              int64_t version, struct mv_store_record *out_rec);
  int (*history)(struct mv_store_backend *be, const char *type, const char *id,
                 unsigned limit, mv_store_visit_fn fn, void *ctx);
  int (*count)(struct mv_store_backend *be, const char *type,
               int64_t *out_count);
  /* created_us: time to record if the user is new. */
  int (*user_put)(struct mv_store_backend *be, const struct mv_store_user *u,
                  int64_t created_us);
  int (*user_get)(struct mv_store_backend *be, const char *username,
                  struct mv_store_user *out_user);
};

/* The SQLite backend (sqlite.c). */
extern const struct mv_store_backend_ops mv__store_sqlite_ops;

/* ---- Hooks for tests and benchmarks ---------------------------------- */

/* A snapshot of the counters behind mv_store_metrics_write. */
struct mv__store_stats {
  uint64_t writes;  /* completed writes, any status */
  uint64_t batches; /* transactions attempted */
  uint64_t errors;  /* completed writes whose status was not MV_OK */
  size_t queue_depth;
};
void mv__store_stats_get(struct mv_store *s, struct mv__store_stats *out);

/* While paused the writer takes no new batch, so a test can fill the queue
 * deterministically. mv_store_close() unpauses. */
void mv__store_test_pause(struct mv_store *s, bool paused);

/* Stop accepting writes, commit everything queued (callbacks run) and join
 * the writer, without freeing: later writes fail with MV_ECLOSED while reads
 * still work. mv_store_close() does this first. Idempotent. */
void mv__store_shutdown(struct mv_store *s);

/* Called on the writer thread after each batch with its size and the time
 * spent in the backend (transaction and commit), in µs. Set before the first
 * write; fn NULL removes it. */
typedef void (*mv__store_commit_fn)(void *ctx, size_t n, int64_t commit_us);
void mv__store_set_commit_observer(struct mv_store *s, mv__store_commit_fn fn,
                                   void *ctx);

#endif
