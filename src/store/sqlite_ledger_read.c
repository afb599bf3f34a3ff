/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the ledger of the SQLite backend: its size, leaves and proofs
 * (from the Merkle log files, which only show durable entries), the stored
 * checkpoints with the witness cosignatures collected for them, and the
 * read-only scans of a data directory that `medverse ledger verify` uses
 * (they open the database read-only and need no key, so they work beside a
 * running server). Writing is in sqlite_ledger.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sqlite_ledger_int.h"

int mv__sq_ledger_size(struct mv_store_backend *be, int64_t *out_size) {
  struct mv__sq_ledger *l = be->led;
  if (l->mode == MV_STORE_LEDGER_ON) {
    *out_size = (int64_t)mv_tlog_size(l->log);
    return MV_OK;
  }
  pthread_mutex_lock(&l->mu);
  *out_size = l->visible;
  pthread_mutex_unlock(&l->mu);
  return MV_OK;
}

int mv__sq_ledger_leaves(struct mv_store_backend *be, int64_t start,
                         int64_t end, mv_store_ledger_leaf_fn fn, void *ctx) {
  struct mv__sq_ledger *l = be->led;
  uint8_t buf[MV_LIMIT_TLOG_LEAF];
  if (l->mode != MV_STORE_LEDGER_ON)
    return MV_EUNSUPPORTED;
  if ((uint64_t)end > mv_tlog_size(l->log))
    return MV_ERANGE;
  for (int64_t i = start; i < end; i++) {
    size_t len = 0;
    int rc =
        mv_tlog_read_leaf(l->log, (uint64_t)i, buf, sizeof(buf), &len, NULL);
    if (rc != MV_OK)
      return rc;
    if (fn(ctx, i, buf, len))
      break;
  }
  return MV_OK;
}

/* Text column 0 of the row st stands on, copied into a malloc'd string. */
static int dup_col(sqlite3_stmt *st, int col, char **out, size_t *out_len) {
  const unsigned char *t = sqlite3_column_text(st, col);
  size_t n = (size_t)sqlite3_column_bytes(st, col);
  if (!t)
    return MV_ECORRUPT;
  char *p = malloc(n + 1);
  if (!p)
    return MV_ENOMEM;
  memcpy(p, t, n + 1);
  *out = p;
  if (out_len)
    *out_len = n;
  return MV_OK;
}

/* The cosignature lines of size (each "\n"-terminated), concatenated. */
static int cosig_lines(struct mv__sq_rconn *c, int64_t size,
                       const char *witnesses_json, char *out, size_t cap,
                       size_t *out_len) {
  sqlite3_stmt *st = c->st[R_COSIGS];
  size_t n = 0;
  int rc, err = MV_OK;
  sqlite3_bind_int64(st, 1, size);
  mv__sq_bind_text(st, 2, witnesses_json);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    if (!t || len == 0 || t[len - 1] != '\n') {
      err = MV_ECORRUPT;
      break;
    }
    if (n + len + 1 > cap) {
      err = MV_ETOOBIG;
      break;
    }
    memcpy(out + n, t, len);
    n += len;
  }
  if (err == MV_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    err = mv__sq_map_rc(rc);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  out[n] = '\0';
  *out_len = n;
  return err;
}

/* The note of size `size` from the table (exact), or the newest one. */
static int ckpt_row(struct mv__sq_rconn *c, int64_t size, int64_t *out_size,
                    char **out_note) {
  sqlite3_stmt *st = size >= 0 ? c->st[R_CKPT_AT] : c->st[R_CKPT_LATEST];
  int err;
  if (size >= 0)
    sqlite3_bind_int64(st, 1, size);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    if (size >= 0) {
      *out_size = size;
      err = dup_col(st, 0, out_note, NULL);
    } else {
      *out_size = sqlite3_column_int64(st, 0);
      err = dup_col(st, 1, out_note, NULL);
    }
  } else {
    err = rc == SQLITE_DONE ? MV_ENOTFOUND : mv__sq_map_rc(rc);
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return err;
}

static int quorum_size(struct mv__sq_rconn *c, unsigned quorum,
                       const char *witnesses_json, int64_t *out_size) {
  sqlite3_stmt *st = c->st[R_CKPT_QUORUM];
  sqlite3_bind_int64(st, 1, quorum);
  mv__sq_bind_text(st, 2, witnesses_json);
  int rc = sqlite3_step(st), err = MV_OK;
  if (rc == SQLITE_ROW)
    *out_size = sqlite3_column_int64(st, 0);
  else
    err = rc == SQLITE_DONE ? MV_ENOTFOUND : mv__sq_map_rc(rc);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return err;
}

int mv__sq_ledger_checkpoint(struct mv_store_backend *be, unsigned quorum,
                             const char *witnesses_json, int64_t exact_size,
                             char **out_note, size_t *out_len) {
  struct mv__sq_ledger *l = be->led;
  char *note = NULL, *lines = NULL, *merged = NULL;
  int64_t size = exact_size;
  size_t nl = 0, len = 0;
  int err = MV_OK;
  if (exact_size < 0 && quorum == 0 && l->mode == MV_STORE_LEDGER_ON) {
    /* The newest checkpoint whose entries are durable in the log files. */
    pthread_mutex_lock(&l->mu);
    size = l->visible;
    if (l->latest_len && !(note = strdup(l->latest)))
      err = MV_ENOMEM;
    pthread_mutex_unlock(&l->mu);
    if (err != MV_OK)
      return err;
    if (!note)
      return MV_ENOTFOUND;
  }
  struct mv__sq_rconn *c = mv__sq_rconn_get(be);
  if (!note && exact_size < 0 && quorum > 0)
    err = quorum_size(c, quorum, witnesses_json, &size);
  if (err == MV_OK && !note)
    err = ckpt_row(c, quorum > 0 ? size : exact_size, &size, &note);
  if (err == MV_OK && exact_size < 0) {
    if (!(lines = malloc(MV_LIMIT_TLOG_NOTE)))
      err = MV_ENOMEM;
    else
      err =
          cosig_lines(c, size, witnesses_json, lines, MV_LIMIT_TLOG_NOTE, &nl);
  }
  mv__sq_rconn_put(be, c, NULL);
  if (err != MV_OK)
    goto out;
  len = strlen(note);
  if (nl > 0) {
    if (!(merged = malloc(MV_LIMIT_TLOG_NOTE))) {
      err = MV_ENOMEM;
      goto out;
    }
    err = mv_tlog_note_merge(note, len, lines, nl, merged, MV_LIMIT_TLOG_NOTE,
                             &len, NULL);
    if (err != MV_OK)
      goto out;
    free(note);
    note = merged;
    merged = NULL;
  }
  *out_note = note;
  if (out_len)
    *out_len = len;
  note = NULL;
out:
  free(note);
  free(lines);
  free(merged);
  return err;
}

int mv__sq_ledger_add_cosignature(struct mv_store_backend *be, int64_t size,
                                  const char *witness, const char *line) {
  sqlite3_stmt *st = NULL;
  size_t n = strlen(line);
  if (n == 0 || line[n - 1] != '\n')
    return MV_EINVAL;
  int rc = sqlite3_prepare_v2(be->wdb,
                              "INSERT OR REPLACE INTO ledger_cosigs(size,"
                              " witness, t_us, line) SELECT ?1, ?2, ?3, ?4"
                              " WHERE EXISTS (SELECT 1 FROM"
                              " ledger_checkpoints WHERE size = ?1)",
                              -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, size);
    mv__sq_bind_text(st, 2, witness);
    sqlite3_bind_int64(st, 3, mv_clock_now_us(be->clock));
    mv__sq_bind_text(st, 4, line);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  int changed = rc == SQLITE_OK ? sqlite3_changes(be->wdb) : 0;
  sqlite3_finalize(st);
  if (rc != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, NULL, "store a cosignature");
  return changed ? MV_OK : MV_ENOTFOUND;
}

int mv__sq_ledger_proof(struct mv_store_backend *be, bool consistency,
                        int64_t a, int64_t b, uint8_t (*out)[32], size_t cap,
                        size_t *out_n) {
  struct mv__sq_ledger *l = be->led;
  struct mv_tlog_proof *p;
  if (l->mode != MV_STORE_LEDGER_ON)
    return MV_EUNSUPPORTED;
  uint64_t size = mv_tlog_size(l->log);
  if (a < 0 || b < 0 || (uint64_t)b > size)
    return MV_ERANGE;
  if (consistency ? (a == 0 || a > b) : a >= b)
    return MV_ERANGE;
  if (!(p = malloc(sizeof(*p))))
    return MV_ENOMEM;
  int rc =
      consistency
          ? mv_tlog_consistency_proof(l->log, (uint64_t)a, (uint64_t)b, p, NULL)
          : mv_tlog_inclusion_proof(l->log, (uint64_t)a, (uint64_t)b, p, NULL);
  if (rc == MV_OK && p->n > cap)
    rc = MV_ETOOBIG;
  if (rc == MV_OK) {
    memcpy(out, p->hash, p->n * 32);
    *out_n = p->n;
  }
  free(p);
  return rc;
}

int mv__sq_ledger_vkey(struct mv_store_backend *be, char *out, size_t cap) {
  struct mv__sq_ledger *l = be->led;
  if (l->mode != MV_STORE_LEDGER_ON)
    return MV_EUNSUPPORTED;
  size_t n = strlen(l->vkey);
  if (n + 1 > cap)
    return MV_ETOOBIG;
  memcpy(out, l->vkey, n + 1);
  return MV_OK;
}

/* ---- Read-only scans of a data directory -------------------------------- */

static int scan_open(const char *data_dir, sqlite3 **out_db,
                     struct mv_diag *diag) {
  char path[MV_LIMIT_PATH_MAX];
  sqlite3 *db = NULL;
  if (!data_dir || !*data_dir)
    return mv_diag_set(diag, MV_EINVAL, "no data directory");
  const char *loc =
      strncmp(data_dir, "sqlite:", 7) == 0 ? data_dir + 7 : data_dir;
  int n = snprintf(path, sizeof(path), "%s/medverse.db", loc);
  if (n < 0 || (size_t)n >= sizeof(path))
    return mv_diag_set(diag, MV_EINVAL, "data directory path is too long");
  if (access(path, F_OK) != 0)
    return mv_diag_set(diag, MV_ENOTFOUND, "no database in %s", loc);
  int rc = sqlite3_open_v2(path, &db,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    int err = mv__sq_fail(db, rc, diag, "open read-only");
    sqlite3_close(db);
    return err;
  }
  sqlite3_busy_timeout(db, MV__SQ_BUSY_TIMEOUT_MS);
  sqlite3_stmt *st = NULL;
  rc = sqlite3_prepare_v2(db,
                          "SELECT 1 FROM sqlite_master WHERE type = 'table'"
                          " AND name = 'ledger_checkpoints'",
                          -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) {
    int err = rc == SQLITE_DONE
                  ? mv_diag_set(diag, MV_ECORRUPT,
                                "the database has no ledger (schema too old: "
                                "open it once with this version)")
                  : mv__sq_fail(db, rc, diag, "read schema");
    sqlite3_close(db);
    return err;
  }
  *out_db = db;
  return MV_OK;
}

int mv_store_ledger_scan_versions(const char *data_dir,
                                  mv_store_ledger_version_fn fn, void *ctx,
                                  struct mv_diag *diag) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  if (!fn)
    return MV_EINVAL;
  int err = scan_open(data_dir, &db, diag);
  if (err != MV_OK)
    return err;
  /* One read transaction: a consistent snapshot even beside a writer. */
  int rc = sqlite3_prepare_v2(
      db,
      "SELECT COALESCE(r.ledger_idx, -1), r.type, r.id, r.version,"
      " r.updated_us, r.deleted, r.body, COALESCE(c.erased, 0)"
      " FROM resources r LEFT JOIN resource_current c"
      " ON c.type = r.type AND c.id = r.id ORDER BY r.rowid",
      -1, &st, NULL);
  if (rc != SQLITE_OK) {
    err = mv__sq_fail(db, rc, diag, "scan versions");
    goto out;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    struct mv_store_ledger_version v;
    memset(&v, 0, sizeof(v));
    v.ledger_index = sqlite3_column_int64(st, 0);
    v.type = (const char *)sqlite3_column_text(st, 1);
    v.id = (const char *)sqlite3_column_text(st, 2);
    v.version = sqlite3_column_int64(st, 3);
    v.updated_us = sqlite3_column_int64(st, 4);
    v.deleted = sqlite3_column_int(st, 5) != 0;
    v.sealed = sqlite3_column_blob(st, 6);
    v.sealed_len = (size_t)sqlite3_column_bytes(st, 6);
    v.erased = sqlite3_column_int(st, 7) != 0;
    if (!v.type || !v.id) {
      err = mv_diag_set(diag, MV_ECORRUPT, "a record version without type/id");
      break;
    }
    if (v.deleted) {
      v.sealed = NULL;
      v.sealed_len = 0;
    }
    if (fn(ctx, &v)) {
      rc = SQLITE_DONE;
      break;
    }
  }
  if (err == MV_OK && rc != SQLITE_DONE)
    err = mv__sq_fail(db, rc, diag, "scan versions");
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
  return err;
}

int mv_store_ledger_scan_leaves(const char *data_dir,
                                mv_store_ledger_leaf_fn fn, void *ctx,
                                struct mv_diag *diag) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  if (!fn)
    return MV_EINVAL;
  int err = scan_open(data_dir, &db, diag);
  if (err != MV_OK)
    return err;
  int rc = sqlite3_prepare_v2(db, "SELECT idx, leaf FROM ledger ORDER BY idx",
                              -1, &st, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    rc = SQLITE_OK;
    if (fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
           (size_t)sqlite3_column_bytes(st, 1))) {
      rc = SQLITE_DONE;
      break;
    }
  }
  if (rc != SQLITE_DONE && rc != SQLITE_OK)
    err = mv__sq_fail(db, rc, diag, "scan leaves");
  sqlite3_finalize(st);
  sqlite3_close(db);
  return err;
}

#define SCAN_COSIGS_MAX MV_LIMIT_TLOG_NOTE_SIGS

int mv_store_ledger_scan_checkpoints(const char *data_dir,
                                     mv_store_ledger_checkpoint_fn fn,
                                     void *ctx, struct mv_diag *diag) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL, *cs = NULL;
  char *lines[SCAN_COSIGS_MAX];
  size_t nl = 0;
  if (!fn)
    return MV_EINVAL;
  int err = scan_open(data_dir, &db, diag);
  if (err != MV_OK)
    return err;
  int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db,
                            "SELECT size, note FROM ledger_checkpoints"
                            " ORDER BY size",
                            -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db,
                            "SELECT line FROM ledger_cosigs WHERE size = ?1"
                            " ORDER BY witness",
                            -1, &cs, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    rc = SQLITE_OK;
    int64_t size = sqlite3_column_int64(st, 0);
    const char *note = (const char *)sqlite3_column_text(st, 1);
    if (!note) {
      err = mv_diag_set(diag, MV_ECORRUPT, "checkpoint %lld has no note",
                        (long long)size);
      break;
    }
    nl = 0;
    sqlite3_bind_int64(cs, 1, size);
    int crc;
    while ((crc = sqlite3_step(cs)) == SQLITE_ROW && nl < SCAN_COSIGS_MAX) {
      const char *t = (const char *)sqlite3_column_text(cs, 0);
      if (t && !(lines[nl++] = strdup(t))) {
        nl--;
        err = MV_ENOMEM;
        break;
      }
    }
    sqlite3_reset(cs);
    int stop =
        err == MV_OK ? fn(ctx, size, note, (const char *const *)lines, nl) : 1;
    for (size_t i = 0; i < nl; i++)
      free(lines[i]);
    nl = 0;
    if (stop) {
      rc = SQLITE_DONE;
      break;
    }
  }
  if (err == MV_OK && rc != SQLITE_DONE && rc != SQLITE_OK)
    err = mv__sq_fail(db, rc, diag, "scan checkpoints");
  sqlite3_finalize(st);
  sqlite3_finalize(cs);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(db);
  return err;
}
