/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the SQLite backend, shared by its files: sqlite.c (open,
 * schema, accounts, the operations table), sqlite_write.c (group-commit
 * batches, transactions, index rows, erasure), sqlite_read.c (reads,
 * history), sqlite_search.c (search, type history) and sqlite_keys.c
 * (patient keys, site key setup and rotation). Nothing outside
 * src/store/sqlite*.c includes it.
 */
#ifndef MV_STORE_SQLITE_INT_H
#define MV_STORE_SQLITE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store_int.h"

#define MV__SQ_READ_CONNS 4
/* How long a connection waits for another's lock (this process's writer or
 * another process, e.g. the admin CLI) before failing with MV_EBUSY. */
#define MV__SQ_BUSY_TIMEOUT_MS 5000

/* Statements of the write connection, prepared once (sqlite.c: wsql). */
enum mv__sq_wstmt {
  W_BEGIN,
  W_COMMIT,
  W_ROLLBACK,
  W_SAVEPOINT,
  W_RELEASE,
  W_ROLLBACK_TO,
  W_TX_SAVEPOINT,
  W_TX_RELEASE,
  W_TX_ROLLBACK_TO,
  W_CURRENT,
  W_INSERT,
  W_SET_CURRENT,
  W_TOK_DEL,
  W_TOK_INS,
  W_STR_DEL,
  W_STR_INS,
  W_KEY_GET,
  W_KEY_INS,
  W_USER_PUT,
  W_LEDGER_INS,
  W_CKPT_INS,
  W_CKPT_THIN,
  W_COSIG_ORPHANS,
  W_CURSOR_GET,
  W_CURSOR_PUT,
  W_N
};

/* Statements of each read connection, prepared once (sqlite.c: rsql). */
enum mv__sq_rstmt {
  R_LATEST,
  R_VERSION,
  R_OLDER,
  R_BODY,
  R_COUNT,
  R_KEY_GET,
  R_HIST_TYPE,
  R_HIST_TYPE_COUNT,
  R_USER_GET,
  R_USER_NEXT,
  R_CKPT_AT,
  R_CKPT_LATEST,
  R_CKPT_QUORUM,
  R_COSIGS,
  R_LEDGER_LEAVES,
  R_CURSOR_GET,
  R_N
};

struct mv__sq_rconn {
  sqlite3 *db;
  sqlite3_stmt *st[R_N];
  bool busy;
};

/* A patient key created in the current batch: it enters the cache only
 * once the batch committed (a rolled-back key must never be used). */
struct mv__sq_pending {
  char pid[MV_LIMIT_ID_LEN + 1];
  uint8_t key[32];
};

struct mv_store_backend {
  const struct mv_clock *clock;
  struct mv__crypt *crypt; /* borrowed */
  sqlite3 *wdb;
  sqlite3_stmt *wst[W_N];
  int64_t next_seq; /* seq of the next successful write (writer only) */
  int schema_version;
  bool erased_in_batch; /* an erase committed: truncate the WAL after */

  /* Writer-only scratch: the sealed body of the write being applied. */
  uint8_t *seal;
  size_t seal_cap;
  struct mv__sq_pending *pending; /* sodium_malloc'd, grows */
  size_t n_pending, cap_pending;

  /* Checkpoints run on a thread of their own (PASSIVE: they never block
   * the writer), woken by the writer's WAL hook once the log has grown, so
   * the writer's commits never pay for copying pages into the database. */
  sqlite3 *ckdb;
  pthread_t ck_thread;
  pthread_mutex_t ckmu;
  pthread_cond_t ckcv;
  bool ck_started, ck_stop, ck_wanted;

  struct mv__sq_ledger *led; /* the ledger (sqlite_ledger.c) */

  pthread_mutex_t rmu; /* guards the busy flags of the read pool */
  pthread_cond_t rcv;
  bool rsync_init;
  struct mv__sq_rconn r[MV__SQ_READ_CONNS];
};

/* The state of a resource before a write, from resource_current. */
struct mv__sq_current {
  bool found, deleted, erased;
  int64_t version, seq, updated_us;
  char patient_id[MV_LIMIT_ID_LEN + 1]; /* "" = none */
};

/* ---- Helpers (sqlite.c) ------------------------------------------------- */

int mv__sq_map_rc(int rc);
/* Errors after which the write transaction cannot be trusted to continue. */
bool mv__sq_rc_is_fatal(int rc);
/* Record a SQLite failure in diag and the log; returns the mv_err. */
int mv__sq_fail(sqlite3 *db, int rc, struct mv_diag *diag, const char *what);
/* Step a statement that returns no row to completion and reset it. */
int mv__sq_step_done(sqlite3_stmt *st);
int mv__sq_bind_text(sqlite3_stmt *st, int i, const char *v);
int mv__sq_exec(sqlite3 *db, const char *sql, struct mv_diag *diag);
struct mv__sq_rconn *mv__sq_rconn_get(struct mv_store_backend *be);
/* Reset st (ending its read snapshot; may be NULL) and return c. */
void mv__sq_rconn_put(struct mv_store_backend *be, struct mv__sq_rconn *c,
                      sqlite3_stmt *st);
/* Copy text column col into dst (size bytes); MV_ECORRUPT if it cannot fit
 * or is NULL (NULL gives "" when null_ok). */
int mv__sq_copy_col(sqlite3_stmt *st, int col, char *dst, size_t size,
                    bool null_ok);

/* ---- Keys (sqlite_keys.c) ----------------------------------------------- */

/* Inside the open transaction, after the schema is current: load or create
 * the site key file, load or create the root of derived keys, and (when
 * migrating from a schema before encryption, from_version 1..3) encrypt the
 * bodies stored in clear. */
int mv__sq_keys_setup(struct mv_store_backend *be, int from_version,
                      struct mv_diag *diag);
/* Finish a rotation an earlier crash or another process left half done
 * (key file with more than one key). Outside any transaction. */
int mv__sq_finish_rotation(struct mv_store_backend *be, struct mv_diag *diag);
int mv__sq_rotate(struct mv_store_backend *be, int steps, struct mv_diag *diag);
/* At the start of a batch transaction: reload the key file if another
 * process rotated the site key. */
int mv__sq_keys_check_rotation(struct mv_store_backend *be);
/* The key to encrypt a write for patient pid ("" = general) with, created
 * (wrapped, inserted, pending) when the patient has none. Writer only,
 * inside the batch transaction. MV_EGONE when the patient was erased;
 * other errors lose the batch. */
int mv__sq_key_for_write(struct mv_store_backend *be, const char *pid,
                         uint8_t out[32]);
/* After the batch committed: cache the keys it created. After a rollback:
 * forget them. */
void mv__sq_keys_commit(struct mv_store_backend *be);
void mv__sq_keys_abort(struct mv_store_backend *be);
/* Forget pid's key in the pending list and the cache (erasure). */
void mv__sq_keys_forget(struct mv_store_backend *be, const char *pid);
/* The key to decrypt a body of patient pid, on read connection c.
 * MV_EGONE when destroyed, MV_ECORRUPT when missing or not authentic,
 * MV_ECONFIG when its site key is unknown. */
int mv__sq_key_for_read(struct mv_store_backend *be, struct mv__sq_rconn *c,
                        const char *pid, uint8_t out[32]);

/* ---- Writes (sqlite_write.c) -------------------------------------------- */

int mv__sq_write_batch(struct mv_store_backend *be,
                       struct mv__store_item **items, size_t n);

/* ---- Device stream cursors (sqlite_cursor.c) ---------------------------- */

/* Writer only, inside the batch transaction, before a tx item's writes:
 * *out_ok false when seq is not above the stream's stored sequence. */
int mv__sq_cursor_check(struct mv_store_backend *be, const char *stream,
                        int64_t seq, bool *out_ok);
/* Inside the tx item's savepoint: store seq for the stream (a SQLite
 * code). */
int mv__sq_cursor_put(struct mv_store_backend *be, const char *stream,
                      int64_t seq, int64_t now_us);
int mv__sq_cursor_get(struct mv_store_backend *be, const char *stream,
                      int64_t *out_seq);

/* ---- The ledger (sqlite_ledger.c) -------------------------------------- */

struct mv__sq_ledger;

/* After the schema is current and outside any transaction: load the
 * ledger's state; with MV_STORE_LEDGER_ON open (create) the key and the
 * log files in <location>/ledger, append the entries they lack, refuse a
 * log ahead of the database, and sign a checkpoint of the current size if
 * the newest stored one is older. */
int mv__sq_ledger_open(struct mv_store_backend *be, const char *location,
                       const struct mv_store_opts *opts, struct mv_diag *diag);
void mv__sq_ledger_close(struct mv_store_backend *be); /* accepts led NULL */
/* Batch lifecycle, writer only: begin before the first item; add inside
 * the write's savepoint, as its last statement (returns a SQLite code;
 * *out_idx the entry's index); mark/rewind around a transaction item's
 * savepoint; precommit just before COMMIT (signs the checkpoint into the
 * transaction); committed after COMMIT (appends to the log files and syncs
 * them: a failure there means the batch is durable in the database but not
 * yet in the log, and fails the batch's acknowledgements); abort after a
 * rollback. */
void mv__sq_ledger_begin(struct mv_store_backend *be);
int mv__sq_ledger_add(struct mv_store_backend *be, int action, const char *type,
                      const char *id, int64_t version, const char *actor,
                      int64_t t_us, const uint8_t *sealed, size_t sealed_len,
                      int64_t *out_idx);
int64_t mv__sq_ledger_mark(struct mv_store_backend *be);
void mv__sq_ledger_rewind(struct mv_store_backend *be, int64_t mark);
int mv__sq_ledger_precommit(struct mv_store_backend *be, int64_t t_us);
int mv__sq_ledger_committed(struct mv_store_backend *be);
void mv__sq_ledger_abort(struct mv_store_backend *be);

int mv__sq_ledger_size(struct mv_store_backend *be, int64_t *out_size);
int mv__sq_ledger_leaves(struct mv_store_backend *be, int64_t start,
                         int64_t end, mv_store_ledger_leaf_fn fn, void *ctx);
int mv__sq_ledger_checkpoint(struct mv_store_backend *be, unsigned quorum,
                             const char *witnesses_json, int64_t exact_size,
                             char **out_note, size_t *out_len);
int mv__sq_ledger_add_cosignature(struct mv_store_backend *be, int64_t size,
                                  const char *witness, const char *line);
int mv__sq_ledger_proof(struct mv_store_backend *be, bool consistency,
                        int64_t a, int64_t b, uint8_t (*out)[32], size_t cap,
                        size_t *out_n);
int mv__sq_ledger_vkey(struct mv_store_backend *be, char *out, size_t cap);

/* ---- Reads (sqlite_read.c, sqlite_search.c) ----------------------------- */

/* Decrypt a sealed body of patient pid ("" = general) using connection c
 * for the key. Returned NUL-terminated, caller frees with free(). */
int mv__sq_open_body(struct mv_store_backend *be, struct mv__sq_rconn *c,
                     const char *type, const char *id, int64_t version,
                     const char *pid, const uint8_t *blob, size_t len,
                     char **out_body, size_t *out_len);

int mv__sq_read(struct mv_store_backend *be, const char *type, const char *id,
                int64_t version, struct mv_store_record *out_rec);
int mv__sq_history(struct mv_store_backend *be, const char *type,
                   const char *id, unsigned limit, mv_store_visit_fn fn,
                   void *ctx);
int mv__sq_count(struct mv_store_backend *be, const char *type,
                 int64_t *out_count);
int mv__sq_search(struct mv_store_backend *be, const struct mv_store_query *q,
                  mv_store_search_fn fn, void *ctx, int64_t *out_total);
int mv__sq_history_type(struct mv_store_backend *be, const char *type,
                        int64_t since_us, unsigned limit, unsigned offset,
                        mv_store_search_fn fn, void *ctx, int64_t *out_total);

/* Reference parameters whose Patient-valued tokens always have a `patient`
 * twin (src/fhir/index.c): the writer does not store the twin, and a
 * `patient` condition also matches these rows (sqlite_write.c,
 * sqlite_search.c). Not `actor` or `participant`: Consent provision actors
 * and CareTeam participants are no patient terms. */
#define MV__SQ_TWIN_PARAMS "subject", "entity", "agent"
static inline bool mv__sq_twin_param(const char *param) {
  static const char *const twins[] = {MV__SQ_TWIN_PARAMS};
  for (size_t i = 0; i < sizeof(twins) / sizeof(twins[0]); i++)
    if (strcmp(param, twins[i]) == 0)
      return true;
  return false;
}

/* The strings-table parameter under which the whole-word hash of `param`
 * is kept: "<param>=" (parameter names hold no '='). */
static inline void mv__sq_exact_param(const char *param,
                                      char out[MV_STORE_PARAM_MAX + 2]) {
  snprintf(out, MV_STORE_PARAM_MAX + 2, "%s=", param);
}

#endif
