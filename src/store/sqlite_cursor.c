/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device stream cursors in the SQLite backend: the table device_cursor
 * (migration 7) holds the highest sequence number each device stream has
 * stored. The writer checks and advances it inside the transaction item
 * that carries the stream's writes (sqlite_write.c: apply_tx), so the
 * check, the update and the writes commit or roll back together, and the
 * one writer serialises racing connections of the same stream.
 */
#include "sqlite_int.h"

int mv__sq_cursor_check(struct mv_store_backend *be, const char *stream,
                        int64_t seq, bool *out_ok) {
  sqlite3_stmt *st = be->wst[W_CURSOR_GET];
  mv__sq_bind_text(st, 1, stream);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out_ok = seq > sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    *out_ok = true;
    rc = SQLITE_OK;
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_OK ? MV_OK : mv__sq_fail(be->wdb, rc, NULL, "cursor");
}

int mv__sq_cursor_put(struct mv_store_backend *be, const char *stream,
                      int64_t seq, int64_t now_us) {
  sqlite3_stmt *st = be->wst[W_CURSOR_PUT];
  mv__sq_bind_text(st, 1, stream);
  sqlite3_bind_int64(st, 2, seq);
  sqlite3_bind_int64(st, 3, now_us);
  return mv__sq_step_done(st);
}

int mv__sq_cursor_get(struct mv_store_backend *be, const char *stream,
                      int64_t *out_seq) {
  struct mv__sq_rconn *c = mv__sq_rconn_get(be);
  sqlite3_stmt *st = c->st[R_CURSOR_GET];
  int err = MV_OK;
  mv__sq_bind_text(st, 1, stream);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out_seq = sqlite3_column_int64(st, 0);
  else if (rc == SQLITE_DONE)
    *out_seq = -1;
  else
    err = mv__sq_fail(c->db, rc, NULL, "cursor");
  mv__sq_rconn_put(be, c, st);
  return err;
}
