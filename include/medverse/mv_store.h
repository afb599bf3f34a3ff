/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage interface. Callers see only this header; backends live behind a
 * table of operations in src/store/store_int.h (SQLite now, PostgreSQL for
 * scale-out later) so adding a backend touches no caller.
 *
 * Resources are stored as JSON text with indexed columns (patient, code,
 * date, status). Every write creates a new version; old versions are kept
 * (history). Writes are queued to one writer thread that commits them in
 * groups (a batch closes after batch_delay_us or batch_max writes), so one
 * fsync covers many writes. A write's callback runs only once its batch is
 * durable: an acknowledgement built on it means the data survives a crash.
 * Reads may run on any thread concurrently with the writer.
 */
#ifndef MV_STORE_H
#define MV_STORE_H

#include "mv_clock.h"
#include "mv_buf.h"
#include "mv_err.h"

struct mv_store;

struct mv_store_opts {
  /* Backend and location: "sqlite:DIR", or a plain directory (SQLite).
   * The SQLite file is DIR/medverse.db; DIR is created if missing. */
  const char *url;
  /* Writes per group commit; 0 = MV_LIMIT_STORE_BATCH_MAX. */
  unsigned batch_max;
  /* Longest wait in µs to fill a batch; 0 = MV_LIMIT_STORE_BATCH_DELAY_US. */
  unsigned batch_delay_us;
  /* Pending writes before MV_EBUSY; 0 = MV_LIMIT_STORE_QUEUE. */
  unsigned queue_cap;
  /* Borrowed for the store's life; NULL = the system clock. */
  const struct mv_clock *clock;
};

/* Open (create, migrate to the current schema version). Returned, caller
 * frees with mv_store_close(). Errors: MV_EIO, MV_EDB, MV_ECORRUPT (schema
 * newer than this binary), MV_EINVAL (bad url), with detail in diag. */
MV_API MV_NODISCARD int mv_store_open(const struct mv_store_opts *opts,
                                      struct mv_store **out_store,
                                      struct mv_diag *diag);
/* Commit every queued write (their callbacks run), stop the writer and close.
 * Accepts NULL. */
MV_API void mv_store_close(struct mv_store *s);

/* The schema version this store is at (after migrations). */
MV_API int mv_store_schema_version(struct mv_store *s);

enum mv_store_op {
  MV_STORE_CREATE =
      1, /* fails with MV_EEXISTS if type/id exists (even deleted) */
  MV_STORE_UPDATE = 2, /* creates version n+1; creates version 1 if absent */
  MV_STORE_DELETE =
      3, /* records a deleted version n+1; MV_ENOTFOUND if absent */
};

#define MV_STORE_NO_DATE INT64_MIN

/* One write. Everything is copied by mv_store_submit(). */
struct mv_store_write {
  enum mv_store_op op;
  const char *type;   /* resource type, 1..MV_LIMIT_TYPE_LEN bytes */
  const char *id;     /* resource id, 1..MV_LIMIT_ID_LEN bytes */
  int64_t if_version; /* update/delete: current version must equal this
                            * (else MV_ECONFLICT); 0 = no check */
  const char *body;   /* JSON text (not parsed here); NULL for delete */
  size_t body_len;    /* <= MV_LIMIT_STORE_RESOURCE_MAX */
  /* Index columns; NULL / MV_STORE_NO_DATE when not applicable. */
  const char *patient_id;
  const char *code; /* "system|code" */
  int64_t date_us;  /* clinically relevant time, µs since epoch */
  const char *status;
};

struct mv_store_result {
  int64_t version;    /* new version number (1-based) */
  int64_t seq;        /* store-wide commit sequence of this write */
  int64_t updated_us; /* lastUpdated assigned by the store */
};

/* Called exactly once on the store's writer thread, after the write's batch
 * is durable (status MV_OK) or failed (MV_EEXISTS, MV_ECONFLICT, MV_ENOTFOUND,
 * MV_EDB, MV_EIO). res is borrowed for the call. Keep it short: post to your
 * own thread (e.g. mv_server_post) for real work. */
typedef void (*mv_store_done_fn)(void *ctx, int status,
                                 const struct mv_store_result *res);

/* Queue a write. On MV_OK, cb(ctx, ...) will be called exactly once.
 * On error (MV_EINVAL, MV_ETOOBIG, MV_EBUSY queue full, MV_ECLOSED) cb is
 * never called. */
MV_API MV_NODISCARD int mv_store_submit(struct mv_store *s,
                                        const struct mv_store_write *w,
                                        mv_store_done_fn cb, void *ctx);
/* Submit and wait for durability. out_res may be NULL. */
MV_API MV_NODISCARD int mv_store_write_sync(struct mv_store *s,
                                            const struct mv_store_write *w,
                                            struct mv_store_result *out_res);
/* Wait until every write submitted before this call is committed. */
MV_API MV_NODISCARD int mv_store_flush(struct mv_store *s);

/* One stored version. body is returned, release with mv_store_record_release. */
struct mv_store_record {
  int64_t version;
  int64_t updated_us;
  bool deleted;
  char *body; /* NULL when deleted */
  size_t body_len;
};
MV_API void mv_store_record_release(struct mv_store_record *r);

/* Read the latest version (version 0) or a given one. MV_ENOTFOUND when the
 * resource or version does not exist; MV_EGONE when version 0 is asked and
 * the latest version is a delete (out_rec is filled with it then). */
MV_API MV_NODISCARD int mv_store_read(struct mv_store *s, const char *type,
                                      const char *id, int64_t version,
                                      struct mv_store_record *out_rec);

/* Visit the versions of one resource, newest first, at most `limit`
 * (0 = all). rec is borrowed for the call; return non-zero to stop. */
typedef int (*mv_store_visit_fn)(void *ctx, const struct mv_store_record *rec);
MV_API MV_NODISCARD int mv_store_history(struct mv_store *s, const char *type,
                                         const char *id, unsigned limit,
                                         mv_store_visit_fn fn, void *ctx);

/* Count current (not deleted) resources of a type. */
MV_API MV_NODISCARD int mv_store_count(struct mv_store *s, const char *type,
                                       int64_t *out_count);

/* Accounts (used by `medverse demo` and the admin CLI; the auth layer of the
 * clinical-records work builds on it). pw_hash is an Argon2id string from
 * libsodium crypto_pwhash_str; never a password. */
struct mv_store_user {
  char username[65];
  char role[16];
  char pw_hash[128];
  bool disabled;
};
MV_API MV_NODISCARD int mv_store_user_put(struct mv_store *s,
                                          const struct mv_store_user *u);
MV_API MV_NODISCARD int mv_store_user_get(struct mv_store *s,
                                          const char *username,
                                          struct mv_store_user *out_user);

/* Append Prometheus text for the store: writes, batches, batch-size and
 * commit-latency histograms, queue depth (metric names mv_store_*). */
MV_API MV_NODISCARD int mv_store_metrics_write(struct mv_store *s,
                                               struct mv_buf *b);

#endif
