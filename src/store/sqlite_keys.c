/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys in the SQLite backend: the patient_keys table (each patient's body
 * key wrapped by the site key, NULL once erased), the site key file set up
 * at open, and site key rotation.
 *
 * Rotation is three steps, each safe to interrupt: (1) the key file becomes
 * "new key, old key"; (2) every wrapped key is re-wrapped under the new key
 * in one transaction; (3) the key file becomes "new key". Whoever finds a
 * key file with more than one key (the next open, the next rotation) first
 * finishes steps 2 and 3. Key file writes happen while holding the
 * database's write lock, so two processes never write it at once, and a
 * process that sees the root key row wrapped by a site key it does not know
 * reloads the file (another process rotated).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mv_log.h"
#include "sqlite_int.h"

/* Re-wrapped per statement round during rotation. */
#define REWRAP_CHUNK 128
/* Legacy bodies encrypted per round at migration. */
#define LEGACY_CHUNK 64

/* ---- Patient keys for writes ----------------------------------------------
 */

static int pending_add(struct mv_store_backend *be, const char *pid,
                       const uint8_t key[32]) {
  if (be->n_pending == be->cap_pending) {
    size_t cap = be->cap_pending ? be->cap_pending * 2 : 64;
    struct mv__sq_pending *p = sodium_malloc(cap * sizeof(*p));
    if (!p)
      return MV_ENOMEM;
    if (be->n_pending)
      memcpy(p, be->pending, be->n_pending * sizeof(*p));
    if (be->pending)
      sodium_free(be->pending);
    be->pending = p;
    be->cap_pending = cap;
  }
  struct mv__sq_pending *e = &be->pending[be->n_pending++];
  snprintf(e->pid, sizeof(e->pid), "%s", pid);
  memcpy(e->key, key, 32);
  return MV_OK;
}

static bool pending_find(struct mv_store_backend *be, const char *pid,
                         uint8_t out[32]) {
  for (size_t i = be->n_pending; i-- > 0;)
    if (strcmp(be->pending[i].pid, pid) == 0) {
      memcpy(out, be->pending[i].key, 32);
      return true;
    }
  return false;
}

void mv__sq_keys_commit(struct mv_store_backend *be) {
  for (size_t i = 0; i < be->n_pending; i++)
    mv__crypt_cache_put(be->crypt, be->pending[i].pid, be->pending[i].key,
                        MV__CACHE_FORCE);
  mv__sq_keys_abort(be);
}

void mv__sq_keys_abort(struct mv_store_backend *be) {
  if (be->n_pending)
    sodium_memzero(be->pending, be->n_pending * sizeof(*be->pending));
  be->n_pending = 0;
}

void mv__sq_keys_forget(struct mv_store_backend *be, const char *pid) {
  for (size_t i = 0; i < be->n_pending;) {
    if (strcmp(be->pending[i].pid, pid) == 0) {
      be->pending[i] = be->pending[--be->n_pending];
      sodium_memzero(&be->pending[be->n_pending], sizeof(be->pending[0]));
    } else {
      i++;
    }
  }
  mv__crypt_cache_drop(be->crypt, pid);
}

/* Make a key for pid, wrap it, insert its row (inside the caller's
 * transaction) and keep it pending. */
static int create_key(struct mv_store_backend *be, const char *pid,
                      uint8_t out[32]) {
  uint8_t wrapped[MV__WRAPPED_LEN];
  char key_id[MV__SITE_KEY_ID_MAX + 1];
  randombytes_buf(out, 32);
  int err = mv__crypt_wrap(be->crypt, pid, out, wrapped, key_id);
  if (err != MV_OK)
    return err;
  sqlite3_stmt *st = be->wst[W_KEY_INS];
  mv__sq_bind_text(st, 1, pid);
  mv__sq_bind_text(st, 2, key_id);
  sqlite3_bind_blob(st, 3, wrapped, sizeof(wrapped), SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, mv_clock_now_us(be->clock));
  int rc = mv__sq_step_done(st);
  if (rc != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, NULL, "create patient key");
  return pending_add(be, pid, out);
}

/* One patient_keys row as stepped (rc): its site key id and wrapped key.
 * MV_EGONE when the key was destroyed (erasure), MV_ECORRUPT when the row
 * is malformed. */
static int key_row(sqlite3 *db, sqlite3_stmt *st, int rc,
                   char key_id[MV__SITE_KEY_ID_MAX + 1],
                   uint8_t wrapped[MV__WRAPPED_LEN]) {
  if (rc != SQLITE_ROW)
    return mv__sq_fail(db, rc, NULL, "read patient key");
  if (sqlite3_column_type(st, 1) == SQLITE_NULL)
    return MV_EGONE;
  if (sqlite3_column_bytes(st, 1) != MV__WRAPPED_LEN ||
      mv__sq_copy_col(st, 0, key_id, MV__SITE_KEY_ID_MAX + 1, false) != MV_OK)
    return MV_ECORRUPT;
  memcpy(wrapped, sqlite3_column_blob(st, 1), MV__WRAPPED_LEN);
  return MV_OK;
}

/*
 * The row is read on every write, cache or not: it is where an erasure
 * shows, also one made by another process. Unwrapping is what the cache
 * saves.
 */
int mv__sq_key_for_write(struct mv_store_backend *be, const char *pid,
                         uint8_t out[32]) {
  sqlite3_stmt *st = be->wst[W_KEY_GET];
  char key_id[MV__SITE_KEY_ID_MAX + 1];
  uint8_t wrapped[MV__WRAPPED_LEN];
  uint64_t epoch;
  int err = MV_OK;
  mv__sq_bind_text(st, 1, pid);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return create_key(be, pid, out);
  }
  err = key_row(be->wdb, st, rc, key_id, wrapped);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (err != MV_OK)
    return err;
  if (pending_find(be, pid, out) ||
      mv__crypt_cache_get(be->crypt, pid, out, &epoch))
    return MV_OK;
  err = mv__crypt_unwrap(be->crypt, key_id, pid, wrapped, sizeof(wrapped), out);
  if (err != MV_OK) {
    MV_LOG_ERROR("store", "cannot unwrap a patient key: %s", mv_err_name(err));
    return err;
  }
  /* Committed before this batch (a key of this batch would be pending). */
  mv__crypt_cache_put(be->crypt, pid, out, MV__CACHE_FORCE);
  return MV_OK;
}

/* ---- Patient keys for reads ------------------------------------------------
 */

int mv__sq_key_for_read(struct mv_store_backend *be, struct mv__sq_rconn *c,
                        const char *pid, uint8_t out[32]) {
  uint64_t epoch;
  char key_id[MV__SITE_KEY_ID_MAX + 1];
  uint8_t wrapped[MV__WRAPPED_LEN];
  int err = MV_OK;
  if (mv__crypt_cache_get(be->crypt, pid, out, &epoch))
    return MV_OK;
  sqlite3_stmt *st = c->st[R_KEY_GET];
  mv__sq_bind_text(st, 1, pid);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    err = MV_ECORRUPT; /* a body without its key */
  else
    err = key_row(c->db, st, rc, key_id, wrapped);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (err == MV_OK)
    err =
        mv__crypt_unwrap(be->crypt, key_id, pid, wrapped, sizeof(wrapped), out);
  if (err == MV_OK)
    mv__crypt_cache_put(be->crypt, pid, out, epoch);
  return err;
}

/* ---- Setup at open -----------------------------------------------------------
 */

static int count_wrapped(struct mv_store_backend *be, const char *sql,
                         const char *arg, int64_t *out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(be->wdb, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    if (arg)
      mv__sq_bind_text(st, 1, arg);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      *out = sqlite3_column_int64(st, 0);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? MV_OK : mv__sq_fail(be->wdb, rc, NULL, "count keys");
}

/* Load or create the root of derived keys (row MV__ROOT_KEY_ID). */
static int setup_root(struct mv_store_backend *be, struct mv_diag *diag) {
  uint8_t *root = sodium_malloc(32);
  int err;
  if (!root)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  err = mv__sq_key_for_write(be, MV__ROOT_KEY_ID, root);
  if (err == MV_ECONFIG || err == MV_ECORRUPT) {
    err = mv_diag_set(diag, MV_ECONFIG,
                      "the site key file does not hold the key this database "
                      "was encrypted with (restore the key file that belongs "
                      "to this database)");
    mv_diag_set_path(diag, mv__crypt_path(be->crypt));
  } else if (err != MV_OK)
    mv_diag_set(diag, err, "cannot set up the store's keys");
  if (err == MV_OK)
    mv__crypt_set_root(be->crypt, root);
  sodium_free(root);
  return err;
}

struct legacy_row {
  int64_t rowid, version;
  char type[MV_LIMIT_TYPE_LEN + 1];
  char id[MV_LIMIT_ID_LEN + 1];
  char pid[MV__STORE_INDEX_MAX + 1];
  uint8_t *body;
  size_t len;
};

static int legacy_fetch(sqlite3_stmt *sel, int64_t after,
                        struct legacy_row *rows, size_t *out_n) {
  size_t n = 0;
  int rc = SQLITE_DONE, err = MV_OK;
  sqlite3_bind_int64(sel, 1, after);
  while (err == MV_OK && n < LEGACY_CHUNK &&
         (rc = sqlite3_step(sel)) == SQLITE_ROW) {
    struct legacy_row *r = &rows[n];
    r->rowid = sqlite3_column_int64(sel, 0);
    r->version = sqlite3_column_int64(sel, 3);
    r->len = (size_t)sqlite3_column_bytes(sel, 5);
    r->body = malloc(r->len ? r->len : 1);
    if (!r->body ||
        mv__sq_copy_col(sel, 1, r->type, sizeof(r->type), false) != MV_OK ||
        mv__sq_copy_col(sel, 2, r->id, sizeof(r->id), false) != MV_OK ||
        mv__sq_copy_col(sel, 4, r->pid, sizeof(r->pid), true) != MV_OK)
      err = r->body ? MV_ECORRUPT : MV_ENOMEM;
    else if (r->len)
      memcpy(r->body, sqlite3_column_blob(sel, 5), r->len);
    n++;
  }
  if (err == MV_OK && n < LEGACY_CHUNK && rc != SQLITE_DONE)
    err = mv__sq_map_rc(rc);
  sqlite3_reset(sel);
  *out_n = n;
  return err;
}

/* Bodies written before encryption existed are sealed in place, inside the
 * migration's transaction, under their patient's key. */
static int encrypt_legacy(struct mv_store_backend *be, struct mv_diag *diag) {
  sqlite3_stmt *sel = NULL, *upd = NULL;
  struct legacy_row *rows = calloc(LEGACY_CHUNK, sizeof(*rows));
  uint8_t key[32];
  int64_t after = 0, total = 0;
  size_t n = 0;
  int err = MV_OK;
  if (!rows)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  int rc = sqlite3_prepare_v2(
      be->wdb,
      "SELECT rowid, type, id, version, patient_id, body FROM resources"
      " WHERE rowid > ?1 AND body IS NOT NULL ORDER BY rowid",
      -1, &sel, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(be->wdb,
                            "UPDATE resources SET body = ?2 WHERE rowid = ?1",
                            -1, &upd, NULL);
  if (rc != SQLITE_OK) {
    err = mv__sq_fail(be->wdb, rc, diag, "prepare legacy encryption");
    goto out;
  }
  do {
    if ((err = legacy_fetch(sel, after, rows, &n)) != MV_OK)
      break;
    for (size_t i = 0; i < n && err == MV_OK; i++) {
      struct legacy_row *r = &rows[i];
      uint8_t *sealed = malloc(r->len + MV__BODY_OVERHEAD);
      if (!sealed) {
        err = MV_ENOMEM;
        break;
      }
      err = mv__sq_key_for_write(be, r->pid, key);
      if (err == MV_OK) {
        mv__crypt_seal(key, r->type, r->id, r->version, (const char *)r->body,
                       r->len, sealed);
        sqlite3_bind_int64(upd, 1, r->rowid);
        sqlite3_bind_blob(upd, 2, sealed, (int)(r->len + MV__BODY_OVERHEAD),
                          SQLITE_STATIC);
        rc = mv__sq_step_done(upd);
        if (rc != SQLITE_OK)
          err = mv__sq_fail(be->wdb, rc, diag, "encrypt stored body");
      }
      free(sealed);
      after = r->rowid;
      total++;
    }
    for (size_t i = 0; i < n; i++) {
      if (rows[i].body)
        sodium_memzero(rows[i].body, rows[i].len);
      free(rows[i].body);
      rows[i].body = NULL;
    }
  } while (err == MV_OK && n == LEGACY_CHUNK);
  if (err != MV_OK && diag && diag->err == MV_OK)
    mv_diag_set(diag, err, "cannot encrypt the bodies stored in clear");
  if (err == MV_OK && total)
    MV_LOG_INFO("store", "encrypted %lld stored bodies", (long long)total);
out:
  sodium_memzero(key, sizeof(key));
  sqlite3_finalize(sel);
  sqlite3_finalize(upd);
  free(rows);
  return err;
}

int mv__sq_keys_setup(struct mv_store_backend *be, int from_version,
                      struct mv_diag *diag) {
  int64_t wrapped = 0;
  int err = mv__crypt_load(be->crypt, diag);
  if (err == MV_ENOTFOUND) {
    err = count_wrapped(be,
                        "SELECT COUNT(*) FROM patient_keys"
                        " WHERE wrapped IS NOT NULL",
                        NULL, &wrapped);
    if (err != MV_OK)
      return mv_diag_set(diag, err, "cannot read the key table");
    if (wrapped > 0) {
      err = mv_diag_set(diag, MV_ECONFIG,
                        "the site key file is missing but the database holds "
                        "data encrypted under it; restore the key file "
                        "that belongs to this database (keep it with the "
                        "backups)");
      mv_diag_set_path(diag, mv__crypt_path(be->crypt));
      return err;
    }
    err = mv__crypt_create(be->crypt, diag);
    if (err == MV_OK)
      MV_LOG_INFO("store", "created a new site key file");
  }
  if (err != MV_OK)
    return err;
  if ((err = setup_root(be, diag)) != MV_OK)
    return err;
  if (from_version >= 1 && from_version < 4)
    err = encrypt_legacy(be, diag);
  return err;
}

/* ---- Rotation ----------------------------------------------------------------
 */

struct rewrap_row {
  char pid[MV__STORE_INDEX_MAX + 1];
  char key_id[MV__SITE_KEY_ID_MAX + 1];
  uint8_t wrapped[MV__WRAPPED_LEN];
};

/* Inside a transaction: re-wrap every key not wrapped under the current
 * site key. out_count (may be NULL) gets how many. */
static int rewrap_stale(struct mv_store_backend *be, int64_t *out_count,
                        struct mv_diag *diag) {
  sqlite3_stmt *sel = NULL, *upd = NULL;
  char cur[MV__SITE_KEY_ID_MAX + 1];
  char after[MV__STORE_INDEX_MAX + 1];
  bool first = true;
  struct rewrap_row *rows = sodium_malloc(REWRAP_CHUNK * sizeof(*rows));
  uint8_t *key = sodium_malloc(32);
  int64_t count = 0;
  int err = MV_OK, rc;
  size_t n;
  if (!rows || !key) {
    err = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  mv__crypt_current_id(be->crypt, cur);
  rc = sqlite3_prepare_v2(be->wdb,
                          "SELECT patient_id, key_id, wrapped FROM patient_keys"
                          " WHERE (?1 IS NULL OR patient_id > ?1)"
                          " AND wrapped IS NOT NULL"
                          " AND key_id IS NOT ?2 ORDER BY patient_id LIMIT ?3",
                          -1, &sel, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(be->wdb,
                            "UPDATE patient_keys SET key_id = ?2, wrapped = ?3"
                            " WHERE patient_id = ?1",
                            -1, &upd, NULL);
  if (rc != SQLITE_OK) {
    err = mv__sq_fail(be->wdb, rc, diag, "prepare rotation");
    goto out;
  }
  do {
    n = 0;
    /* The cursor starts before '' (the general key's row). */
    mv__sq_bind_text(sel, 1, first ? NULL : after);
    mv__sq_bind_text(sel, 2, cur);
    sqlite3_bind_int(sel, 3, REWRAP_CHUNK);
    while (err == MV_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
      struct rewrap_row *r = &rows[n++];
      if (mv__sq_copy_col(sel, 0, r->pid, sizeof(r->pid), false) != MV_OK ||
          mv__sq_copy_col(sel, 1, r->key_id, sizeof(r->key_id), false) !=
              MV_OK ||
          sqlite3_column_bytes(sel, 2) != MV__WRAPPED_LEN)
        err = MV_ECORRUPT;
      else
        memcpy(r->wrapped, sqlite3_column_blob(sel, 2), MV__WRAPPED_LEN);
    }
    if (err == MV_OK && rc != SQLITE_DONE)
      err = mv__sq_fail(be->wdb, rc, diag, "read keys to re-wrap");
    sqlite3_reset(sel);
    for (size_t i = 0; i < n && err == MV_OK; i++) {
      struct rewrap_row *r = &rows[i];
      char new_id[MV__SITE_KEY_ID_MAX + 1];
      err = mv__crypt_unwrap(be->crypt, r->key_id, r->pid, r->wrapped,
                             MV__WRAPPED_LEN, key);
      if (err == MV_OK)
        err = mv__crypt_wrap(be->crypt, r->pid, key, r->wrapped, new_id);
      if (err != MV_OK) {
        mv_diag_set(diag, err,
                    "cannot re-wrap a patient key (its site key is not in the "
                    "key file, or it is damaged)");
        break;
      }
      mv__sq_bind_text(upd, 1, r->pid);
      mv__sq_bind_text(upd, 2, new_id);
      sqlite3_bind_blob(upd, 3, r->wrapped, MV__WRAPPED_LEN, SQLITE_STATIC);
      if ((rc = mv__sq_step_done(upd)) != SQLITE_OK)
        err = mv__sq_fail(be->wdb, rc, diag, "re-wrap a patient key");
      count++;
    }
    if (n) {
      memcpy(after, rows[n - 1].pid, sizeof(after));
      first = false;
    }
  } while (err == MV_OK && n == REWRAP_CHUNK);
  if (err == MV_OK && out_count)
    *out_count = count;
out:
  sqlite3_finalize(sel);
  sqlite3_finalize(upd);
  if (rows)
    sodium_free(rows);
  if (key)
    sodium_free(key);
  return err;
}

/* Run body inside BEGIN IMMEDIATE: COMMIT on success, ROLLBACK otherwise. */
static int locked(struct mv_store_backend *be,
                  int (*body)(struct mv_store_backend *, struct mv_diag *),
                  struct mv_diag *diag) {
  int rc = mv__sq_step_done(be->wst[W_BEGIN]);
  if (rc != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, diag, "begin");
  int err = body(be, diag);
  if (err == MV_OK && (rc = mv__sq_step_done(be->wst[W_COMMIT])) != SQLITE_OK)
    err = mv__sq_fail(be->wdb, rc, diag, "commit");
  if (err != MV_OK && !sqlite3_get_autocommit(be->wdb))
    mv__sq_step_done(be->wst[W_ROLLBACK]);
  return err;
}

/* Step 1: under the lock, from the key file as it is now. */
static int step_begin(struct mv_store_backend *be, struct mv_diag *diag) {
  int err = mv__crypt_load(be->crypt, diag);
  if (err != MV_OK)
    return err;
  if (mv__crypt_key_count(be->crypt) != 1)
    return mv_diag_set(diag, MV_EBUSY,
                       "another site key rotation is in progress");
  return mv__crypt_rotate_begin(be->crypt, diag);
}

/* Step 2. */
static int step_rewrap(struct mv_store_backend *be, struct mv_diag *diag) {
  int64_t n = 0;
  int err = mv__crypt_load(be->crypt, diag);
  if (err == MV_OK)
    err = rewrap_stale(be, &n, diag);
  if (err == MV_OK && n)
    MV_LOG_INFO("store", "re-wrapped %lld keys under the new site key",
                (long long)n);
  return err;
}

/* Step 3: only once nothing is wrapped under another key (a writer of
 * another process may have wrapped one under the old key after step 2). */
static int step_finish(struct mv_store_backend *be, struct mv_diag *diag) {
  char cur[MV__SITE_KEY_ID_MAX + 1];
  int64_t stale = 0;
  int err = mv__crypt_load(be->crypt, diag);
  if (err != MV_OK)
    return err;
  if (mv__crypt_key_count(be->crypt) == 1)
    return MV_OK; /* someone else finished */
  mv__crypt_current_id(be->crypt, cur);
  err = count_wrapped(be,
                      "SELECT COUNT(*) FROM patient_keys"
                      " WHERE wrapped IS NOT NULL AND key_id IS NOT ?1",
                      cur, &stale);
  if (err != MV_OK)
    return mv_diag_set(diag, err, "cannot read the key table");
  if (stale > 0)
    return MV_EBUSY; /* caller re-wraps and retries */
  return mv__crypt_rotate_finish(be->crypt, diag);
}

int mv__sq_finish_rotation(struct mv_store_backend *be, struct mv_diag *diag) {
  int err = MV_EBUSY;
  for (int tries = 0; tries < 3 && err == MV_EBUSY; tries++) {
    if ((err = locked(be, step_rewrap, diag)) != MV_OK)
      return err;
    err = locked(be, step_finish, diag);
  }
  if (err == MV_EBUSY)
    mv_diag_set(diag, MV_EBUSY,
                "keys keep being wrapped under an old site "
                "key; is an old binary running?");
  return err;
}

int mv__sq_rotate(struct mv_store_backend *be, int steps,
                  struct mv_diag *diag) {
  int err = mv__crypt_load(be->crypt, diag);
  if (err != MV_OK)
    return err;
  if (mv__crypt_key_count(be->crypt) > 1 &&
      (err = mv__sq_finish_rotation(be, diag)) != MV_OK)
    return err;
  if ((err = locked(be, step_begin, diag)) != MV_OK || steps < 2)
    return err;
  if ((err = locked(be, step_rewrap, diag)) != MV_OK || steps < 3)
    return err;
  err = locked(be, step_finish, diag);
  if (err == MV_EBUSY)
    err = mv__sq_finish_rotation(be, diag);
  return err;
}

int mv__sq_keys_check_rotation(struct mv_store_backend *be) {
  sqlite3_stmt *st = be->wst[W_KEY_GET];
  char db_id[MV__SITE_KEY_ID_MAX + 1] = "", cur[MV__SITE_KEY_ID_MAX + 1];
  mv__sq_bind_text(st, 1, MV__ROOT_KEY_ID);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    (void)mv__sq_copy_col(st, 0, db_id, sizeof(db_id), true);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return mv__sq_fail(be->wdb, rc, NULL, "read root key");
  mv__crypt_current_id(be->crypt, cur);
  if (rc == SQLITE_ROW && db_id[0] && strcmp(db_id, cur) != 0)
    (void)mv__crypt_load(be->crypt, NULL);
  return MV_OK;
}
