/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads in the SQLite backend: one version, an instance's history and
 * counts (search and type history are in sqlite_search.c). Every body is
 * decrypted with its patient's key before anyone sees it; a body that fails
 * authentication is MV_ECORRUPT, a resource or key that was erased is
 * MV_EGONE. Visitors run with no read connection held (see mv__sq_history),
 * so they may call the store themselves.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sqlite_int.h"

/* ---- Decryption ----------------------------------------------------------- */

int mv__sq_open_body(struct mv_store_backend *be, struct mv__sq_rconn *c,
                     const char *type, const char *id, int64_t version,
                     const char *pid, const uint8_t *blob, size_t len,
                     char **out_body, size_t *out_len) {
  uint8_t key[32];
  int err = mv__sq_key_for_read(be, c, pid, key);
  if (err == MV_OK)
    err = mv__crypt_open(key, type, id, version, blob, len, out_body, out_len);
  sodium_memzero(key, sizeof(key));
  return err;
}

/* One version row (columns of VERSION_COLS in sqlite.c) copied out. */
struct vrow {
  int64_t version, updated_us;
  bool deleted, erased;
  char pid[MV__STORE_INDEX_MAX + 1];
  uint8_t *blob; /* malloc'd copy, NULL when deleted */
  size_t blob_len;
};

static int row_version(sqlite3_stmt *st, struct vrow *v) {
  memset(v, 0, sizeof(*v));
  v->version = sqlite3_column_int64(st, 0);
  v->updated_us = sqlite3_column_int64(st, 1);
  v->deleted = sqlite3_column_int(st, 2) != 0;
  v->erased = sqlite3_column_int(st, 5) != 0;
  if (mv__sq_copy_col(st, 4, v->pid, sizeof(v->pid), true) != MV_OK)
    return MV_ECORRUPT;
  if (v->deleted || v->erased || sqlite3_column_type(st, 3) == SQLITE_NULL)
    return MV_OK;
  v->blob_len = (size_t)sqlite3_column_bytes(st, 3);
  v->blob = malloc(v->blob_len ? v->blob_len : 1);
  if (!v->blob)
    return MV_ENOMEM;
  if (v->blob_len)
    memcpy(v->blob, sqlite3_column_blob(st, 3), v->blob_len);
  return MV_OK;
}

/* Turn a copied version row into a record with its decrypted body. */
static int vrow_record(struct mv_store_backend *be, struct mv__sq_rconn *c,
                       const char *type, const char *id, struct vrow *v,
                       struct mv_store_record *rec) {
  memset(rec, 0, sizeof(*rec));
  rec->version = v->version;
  rec->updated_us = v->updated_us;
  rec->deleted = v->deleted;
  if (v->erased)
    return MV_EGONE;
  if (v->deleted)
    return MV_OK;
  if (!v->blob)
    return MV_ECORRUPT;
  return mv__sq_open_body(be, c, type, id, v->version, v->pid, v->blob,
                          v->blob_len, &rec->body, &rec->body_len);
}

int mv__sq_read(struct mv_store_backend *be, const char *type, const char *id,
                int64_t version, struct mv_store_record *out_rec) {
  struct mv__sq_rconn *c = mv__sq_rconn_get(be);
  sqlite3_stmt *st = c->st[version ? R_VERSION : R_LATEST];
  struct mv_store_record rec;
  struct vrow v;
  int err;
  memset(&v, 0, sizeof(v));
  mv__sq_bind_text(st, 1, type);
  mv__sq_bind_text(st, 2, id);
  if (version)
    sqlite3_bind_int64(st, 3, version);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    err = MV_ENOTFOUND;
  else if (rc != SQLITE_ROW)
    err = mv__sq_fail(c->db, rc, NULL, "read");
  else
    err = row_version(st, &v);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (err == MV_OK) {
    err = vrow_record(be, c, type, id, &v, &rec);
    if (err == MV_OK && rec.deleted && version == 0)
      err = MV_EGONE;
    if (err == MV_OK || (err == MV_EGONE && !v.erased))
      *out_rec = rec;
  }
  mv__sq_rconn_put(be, c, NULL);
  free(v.blob);
  return err;
}

/*
 * The visitor runs with no read connection held: each version is fetched by
 * its own short query and copied (and decrypted) first. Holding a
 * connection (and its read snapshot) across the visitor would let
 * MV__SQ_READ_CONNS slow or re-entrant visitors (one that reads the store,
 * or waits for another reader) deadlock the pool, and would pin the WAL
 * against checkpoints. Versions never change once written, so walking down
 * from the newest stays consistent.
 */
int mv__sq_history(struct mv_store_backend *be, const char *type,
                   const char *id, unsigned limit, mv_store_visit_fn fn,
                   void *ctx) {
  int64_t below = INT64_MAX;
  size_t rows = 0;
  int err = MV_OK;
  while (err == MV_OK && (limit == 0 || rows < limit)) {
    struct mv__sq_rconn *c = mv__sq_rconn_get(be);
    sqlite3_stmt *st = c->st[R_OLDER];
    struct mv_store_record rec;
    struct vrow v;
    memset(&v, 0, sizeof(v));
    memset(&rec, 0, sizeof(rec));
    mv__sq_bind_text(st, 1, type);
    mv__sq_bind_text(st, 2, id);
    sqlite3_bind_int64(st, 3, below);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      err = row_version(st, &v);
    else if (rc != SQLITE_DONE)
      err = mv__sq_fail(c->db, rc, NULL, "history");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (err == MV_OK && rc == SQLITE_ROW)
      err = vrow_record(be, c, type, id, &v, &rec);
    mv__sq_rconn_put(be, c, NULL);
    free(v.blob);
    if (err != MV_OK || rc == SQLITE_DONE)
      break;
    rows++;
    below = rec.version;
    int stop = fn(ctx, &rec);
    mv_store_record_release(&rec);
    if (stop != 0)
      break;
  }
  if (err == MV_OK && rows == 0)
    err = MV_ENOTFOUND;
  return err;
}

int mv__sq_count(struct mv_store_backend *be, const char *type,
                 int64_t *out_count) {
  struct mv__sq_rconn *c = mv__sq_rconn_get(be);
  sqlite3_stmt *st = c->st[R_COUNT];
  int err = MV_OK;
  mv__sq_bind_text(st, 1, type);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out_count = sqlite3_column_int64(st, 0);
  else
    err = mv__sq_fail(c->db, rc, NULL, "count");
  mv__sq_rconn_put(be, c, st);
  return err;
}
