/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes in the SQLite backend: one group-commit batch is one transaction.
 * A single write runs under its own savepoint, so an unexpected SQL error
 * undoes it alone; a transaction item runs its writes under one more
 * savepoint and is undone whole when any of them fails; an erase destroys a
 * patient's key and removes their search rows. Each write seals the body
 * under its patient's key and replaces the resource's index rows
 * (resource_current columns, tokens, blind string hashes).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mv_log.h"
#include "mv_tlog.h"
#include "sqlite_int.h"

/* Wait at most this long for readers before truncating the WAL after an
 * erasure (best effort: the frames are overwritten later anyway). */
#define ERASE_CHECKPOINT_WAIT_MS 200

static int load_current(struct mv_store_backend *be, const char *type,
                        const char *id, struct mv__sq_current *cur) {
  sqlite3_stmt *st = be->wst[W_CURRENT];
  memset(cur, 0, sizeof(*cur));
  mv__sq_bind_text(st, 1, type);
  mv__sq_bind_text(st, 2, id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    cur->found = true;
    cur->version = sqlite3_column_int64(st, 0);
    cur->deleted = sqlite3_column_int(st, 1) != 0;
    cur->seq = sqlite3_column_int64(st, 2);
    cur->updated_us = sqlite3_column_int64(st, 3);
    cur->erased = sqlite3_column_int(st, 5) != 0;
    if (mv__sq_copy_col(st, 4, cur->patient_id, sizeof(cur->patient_id),
                        true) != MV_OK)
      rc = SQLITE_CORRUPT;
    else
      rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    rc = SQLITE_OK;
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc;
}

/* The outcome a write has by the rules of mv_store_op alone. */
static int check_write(const struct mv_store_write *w,
                       const struct mv__sq_current *cur) {
  if (cur->erased)
    return MV_EGONE;
  switch (w->op) {
  case MV_STORE_CREATE:
    return cur->found ? MV_EEXISTS : MV_OK;
  case MV_STORE_UPDATE:
    if (w->if_version && (!cur->found || cur->version != w->if_version))
      return MV_ECONFLICT;
    return MV_OK;
  case MV_STORE_DELETE:
    if (!cur->found)
      return MV_ENOTFOUND;
    if (w->if_version && cur->version != w->if_version)
      return MV_ECONFLICT;
    return MV_OK;
  }
  return MV_EINVAL;
}

/* The sealed body of w (version) in be->seal; out_len its size. */
static int seal_body(struct mv_store_backend *be, const uint8_t key[32],
                     const struct mv_store_write *w, int64_t version,
                     size_t *out_len) {
  size_t need = w->body_len + MV__BODY_OVERHEAD;
  if (need > be->seal_cap) {
    uint8_t *p = malloc(need);
    if (!p)
      return MV_ENOMEM;
    if (be->seal) {
      sodium_memzero(be->seal, be->seal_cap);
      free(be->seal);
    }
    be->seal = p;
    be->seal_cap = need;
  }
  mv__crypt_seal(key, w->type, w->id, version, w->body, w->body_len, be->seal);
  *out_len = need;
  return MV_OK;
}

static void bind_date(sqlite3_stmt *st, int i, bool del, int64_t v) {
  if (del || v == MV_STORE_NO_DATE)
    sqlite3_bind_null(st, i);
  else
    sqlite3_bind_int64(st, i, v);
}

/* The blind hashes of every prefix (1..MV_STORE_STRING_PREFIX_MAX UTF-8
 * characters) of one normalised word, and of the whole word (:exact). */
static int insert_string(struct mv_store_backend *be,
                         const struct mv_store_write *w,
                         const struct mv_store_term *t) {
  sqlite3_stmt *st = be->wst[W_STR_INS];
  size_t len = strlen(t->value), prev = 0;
  for (size_t k = 1; k <= MV_STORE_STRING_PREFIX_MAX; k++) {
    size_t plen = mv__utf8_prefix_len(t->value, len, k);
    if (plen == prev)
      break;
    prev = plen;
    uint8_t h[MV__BLIND_LEN];
    mv__crypt_blind(be->crypt, w->type, t->param, t->value, plen, h);
    mv__sq_bind_text(st, 1, w->type);
    mv__sq_bind_text(st, 2, w->id);
    mv__sq_bind_text(st, 3, t->param);
    sqlite3_bind_blob(st, 4, h, sizeof(h), SQLITE_TRANSIENT);
    int rc = mv__sq_step_done(st);
    if (rc != SQLITE_OK)
      return rc;
  }
  /* and the whole word, for :exact */
  char xparam[MV_STORE_PARAM_MAX + 2];
  uint8_t h[MV__BLIND_LEN];
  mv__sq_exact_param(t->param, xparam);
  mv__crypt_blind(be->crypt, w->type, xparam, t->value, len, h);
  mv__sq_bind_text(st, 1, w->type);
  mv__sq_bind_text(st, 2, w->id);
  mv__sq_bind_text(st, 3, xparam);
  sqlite3_bind_blob(st, 4, h, sizeof(h), SQLITE_TRANSIENT);
  return mv__sq_step_done(st);
}

static bool no_system(const struct mv_store_term *t) {
  return !t->system || !t->system[0];
}

/*
 * A `patient` token that repeats a reference token of the same write (the
 * same "Patient/<id>", no system) under one of TWIN_PARAMS is not stored:
 * src/fhir/index.c emits a `patient` token for every Patient reference of
 * those elements (Observation-like `subject`, AuditEvent `entity` and
 * `agent`), and a search on `patient` also matches rows of TWIN_PARAMS
 * with a Patient value (sqlite_search.c), so the answers are the same. Each
 * token row costs two b-tree inserts, one in a patient-ordered place;
 * device ingestion writes several per message (docs/OPERATIONS.md).
 */
static bool subject_twin(const struct mv_store_write *w,
                         const struct mv_store_term *t) {
  if (strcmp(t->param, "patient") != 0 || !no_system(t) ||
      strncmp(t->value, "Patient/", 8) != 0)
    return false;
  for (size_t i = 0; i < w->n_terms; i++) {
    const struct mv_store_term *u = &w->terms[i];
    if (u->kind == MV_STORE_TERM_TOKEN && no_system(u) &&
        mv__sq_twin_param(u->param) && strcmp(u->value, t->value) == 0)
      return true;
  }
  return false;
}

static int insert_terms(struct mv_store_backend *be,
                        const struct mv_store_write *w, const char *pid_col) {
  int rc = SQLITE_OK;
  for (size_t i = 0; i < w->n_terms && rc == SQLITE_OK; i++) {
    const struct mv_store_term *t = &w->terms[i];
    if (t->kind == MV_STORE_TERM_STRING) {
      rc = insert_string(be, w, t);
      continue;
    }
    if (subject_twin(w, t))
      continue;
    sqlite3_stmt *st = be->wst[W_TOK_INS];
    mv__sq_bind_text(st, 1, w->type);
    mv__sq_bind_text(st, 2, w->id);
    mv__sq_bind_text(st, 3, t->param);
    mv__sq_bind_text(st, 4, t->value);
    mv__sq_bind_text(st, 5, t->system ? t->system : "");
    mv__sq_bind_text(st, 6, pid_col);
    bind_date(st, 7, false, w->date_hi_us);
    rc = mv__sq_step_done(st);
  }
  return rc;
}

static int delete_terms(struct mv_store_backend *be, const char *type,
                        const char *id) {
  sqlite3_stmt *st = be->wst[W_TOK_DEL];
  mv__sq_bind_text(st, 1, type);
  mv__sq_bind_text(st, 2, id);
  int rc = mv__sq_step_done(st);
  if (rc != SQLITE_OK)
    return rc;
  st = be->wst[W_STR_DEL];
  mv__sq_bind_text(st, 1, type);
  mv__sq_bind_text(st, 2, id);
  return mv__sq_step_done(st);
}

/* The statements of one write; pid "" = none. */
static int insert_version(struct mv_store_backend *be,
                          const struct mv_store_write *w,
                          const struct mv__sq_current *cur, const char *pid,
                          int64_t updated_us, int64_t version, int64_t seq,
                          size_t sealed_len, int64_t ledger_idx) {
  bool del = w->op == MV_STORE_DELETE;
  const char *pid_col = *pid ? pid : NULL;
  sqlite3_stmt *st = be->wst[W_INSERT];
  mv__sq_bind_text(st, 1, w->type);
  mv__sq_bind_text(st, 2, w->id);
  sqlite3_bind_int64(st, 3, version);
  sqlite3_bind_int(st, 4, del);
  sqlite3_bind_int64(st, 5, updated_us);
  sqlite3_bind_int64(st, 6, seq);
  mv__sq_bind_text(st, 7, pid_col);
  mv__sq_bind_text(st, 8, w->code);
  bind_date(st, 9, false, w->date_us);
  mv__sq_bind_text(st, 10, w->status);
  if (del)
    sqlite3_bind_null(st, 11);
  else
    sqlite3_bind_blob64(st, 11, be->seal, sealed_len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 12, ledger_idx);
  int rc = mv__sq_step_done(st);
  if (rc != SQLITE_OK)
    return rc;

  st = be->wst[W_SET_CURRENT];
  mv__sq_bind_text(st, 1, w->type);
  mv__sq_bind_text(st, 2, w->id);
  sqlite3_bind_int64(st, 3, version);
  sqlite3_bind_int(st, 4, del);
  sqlite3_bind_int64(st, 5, seq);
  sqlite3_bind_int64(st, 6, updated_us);
  mv__sq_bind_text(st, 7, pid_col);
  mv__sq_bind_text(st, 8, del ? NULL : w->status);
  bind_date(st, 9, del, w->date_us);
  bind_date(st, 10, del, w->date_hi_us);
  if ((rc = mv__sq_step_done(st)) != SQLITE_OK)
    return rc;
  if (cur->found && (rc = delete_terms(be, w->type, w->id)) != SQLITE_OK)
    return rc;
  return del ? SQLITE_OK : insert_terms(be, w, pid_col);
}

/* Key errors a write fails with alone; others lose the batch when the
 * transaction is gone. */
static bool key_error_is_own(struct mv_store_backend *be, int err) {
  if (err == MV_EGONE || err == MV_ECONFIG || err == MV_ECORRUPT)
    return true;
  return err == MV_EDB && !sqlite3_get_autocommit(be->wdb);
}

/*
 * Apply one write inside the batch transaction. Rule violations (exists,
 * conflict, not found, erased) are found by reading resource_current first,
 * so they touch nothing. The key is fetched or created before the write's
 * savepoint (a key row outlives a failed write; that is harmless), then the
 * statements run under the savepoint, so an unexpected SQL error undoes
 * this write alone and fails only it (in_tx: a write of a transaction item
 * runs under the item's savepoint instead, which apply_tx rolls back when
 * any write fails). Returns non-OK only when the whole transaction is lost.
 */
static int apply_op(struct mv_store_backend *be, struct mv__store_op *op,
                    int64_t updated_us, bool in_tx, bool known_absent) {
  const struct mv_store_write *w = &op->w;
  struct mv__sq_current cur;
  uint8_t key[32];
  size_t sealed_len = 0;
  int rc = SQLITE_OK;
  if (known_absent) /* tx_direct just found no current version */
    memset(&cur, 0, sizeof(cur));
  else
    rc = load_current(be, w->type, w->id, &cur);
  if (rc != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, NULL, "read current version");
  op->status = check_write(w, &cur);
  if (op->status != MV_OK)
    return MV_OK;
  if (w->op == MV_STORE_DELETE && cur.deleted) {
    /* Deleting a deleted resource succeeds and records nothing (FHIR). */
    op->res.version = cur.version;
    op->res.seq = cur.seq;
    op->res.updated_us = cur.updated_us;
    return MV_OK;
  }
  /* A delete without a patient keeps the one of the version it deletes. */
  const char *pid = w->patient_id              ? w->patient_id
                    : w->op == MV_STORE_DELETE ? cur.patient_id
                                               : "";
  int64_t version = cur.found ? cur.version + 1 : 1;
  int64_t seq = be->next_seq;
  int64_t lidx = mv__sq_ledger_mark(be);
  if (w->op != MV_STORE_DELETE) {
    int err = mv__sq_key_for_write(be, pid, key);
    if (err == MV_OK)
      err = seal_body(be, key, w, version, &sealed_len);
    sodium_memzero(key, sizeof(key));
    if (err != MV_OK) {
      if (!key_error_is_own(be, err))
        return err;
      op->status = err;
      return MV_OK;
    }
  }
  /* Inside a transaction item its own savepoint undoes a failed write
   * (apply_tx rolls the whole item back), so no savepoint per write. */
  if (in_tx || (rc = mv__sq_step_done(be->wst[W_SAVEPOINT])) == SQLITE_OK)
    rc = insert_version(be, w, &cur, pid, updated_us, version, seq, sealed_len,
                        lidx);
  /* The ledger entry last: once it is in, nothing of this write can fail
   * on its own any more (see mv__sq_ledger_add). */
  if (rc == SQLITE_OK) {
    int action = w->op == MV_STORE_DELETE ? MV_TLOG_DELETE
                 : cur.found              ? MV_TLOG_UPDATE
                                          : MV_TLOG_CREATE;
    bool del = w->op == MV_STORE_DELETE;
    rc = mv__sq_ledger_add(be, action, w->type, w->id, version, w->actor,
                           updated_us, del ? NULL : be->seal,
                           del ? 0 : sealed_len, &lidx);
  }
  if (rc != SQLITE_OK) {
    if (mv__sq_rc_is_fatal(rc) || sqlite3_get_autocommit(be->wdb))
      return mv__sq_fail(be->wdb, rc, NULL, "write");
    int err = mv__sq_fail(be->wdb, rc, NULL, "write (this write only)");
    if (!in_tx) {
      mv__sq_step_done(be->wst[W_ROLLBACK_TO]);
      mv__sq_step_done(be->wst[W_RELEASE]);
    }
    op->status = err;
    return MV_OK;
  }
  if (!in_tx && (rc = mv__sq_step_done(be->wst[W_RELEASE])) != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, NULL, "release savepoint");
  be->next_seq++;
  op->res.version = version;
  op->res.seq = seq;
  op->res.updated_us = updated_us;
  op->res.ledger_index = lidx;
  return MV_OK;
}

/*
 * A transaction: all writes or none. The keys of new patients are created
 * before its savepoint, so rolling the transaction back can never undo a key
 * row that the batch will still hand to the cache.
 */
/* Transactions of at most this many writes may skip their savepoint. */
#define TX_DIRECT_MAX 128u

/*
 * Can this transaction item run without a savepoint? Yes when none of its
 * writes can fail by the rules: only creates and updates of distinct
 * resources, each passing check_write now, and no key trouble (found by the
 * caller). Then only an unexpected SQL error can stop a write, and that
 * fails the whole batch instead (apply_tx). Device batches are such items;
 * sparing the savepoint spares copying every page it touches into its
 * statement journal. *out_direct false with MV_OK means "use the savepoint";
 * *out_absent: none of the resources exists yet (the writes need not look
 * again: nothing between this check and them writes).
 */
static int tx_direct(struct mv_store_backend *be,
                     const struct mv__store_item *it, bool *out_direct,
                     bool *out_absent) {
  *out_direct = false;
  *out_absent = true;
  if (it->n > TX_DIRECT_MAX)
    return MV_OK;
  for (size_t k = 0; k < it->n; k++) {
    const struct mv_store_write *w = &it->ops[k].w;
    struct mv__sq_current cur;
    if (w->op != MV_STORE_CREATE && w->op != MV_STORE_UPDATE)
      return MV_OK;
    for (size_t j = 0; j < k; j++)
      if (strcmp(it->ops[j].w.id, w->id) == 0 &&
          strcmp(it->ops[j].w.type, w->type) == 0)
        return MV_OK;
    int rc = load_current(be, w->type, w->id, &cur);
    if (rc != SQLITE_OK)
      return mv__sq_fail(be->wdb, rc, NULL, "read current version");
    if (check_write(w, &cur) != MV_OK)
      return MV_OK;
    *out_absent = *out_absent && !cur.found;
  }
  *out_direct = true;
  return MV_OK;
}

static int apply_tx(struct mv_store_backend *be, struct mv__store_item *it) {
  uint8_t key[32];
  int err = MV_OK;
  bool key_trouble = false, direct = false, absent = false;
  if (it->has_cursor) {
    /* A replayed or stale device message: refused before anything (keys
     * included) is touched. */
    bool ok = false;
    if ((err = mv__sq_cursor_check(be, it->cursor_stream, it->cursor_seq,
                                   &ok)) != MV_OK)
      return err;
    if (!ok) {
      it->status = MV_ECONFLICT;
      it->failed_index = it->n;
      return MV_OK;
    }
  }
  for (size_t k = 0; k < it->n; k++) {
    const struct mv_store_write *w = &it->ops[k].w;
    if (w->op == MV_STORE_DELETE)
      continue;
    err = mv__sq_key_for_write(be, w->patient_id ? w->patient_id : "", key);
    if (err != MV_OK && !key_error_is_own(be, err))
      break; /* a patient's own key trouble fails its write below */
    key_trouble = key_trouble || err != MV_OK;
    err = MV_OK;
  }
  sodium_memzero(key, sizeof(key));
  if (err != MV_OK)
    return err;
  if (!key_trouble && (err = tx_direct(be, it, &direct, &absent)) != MV_OK)
    return err;
  int rc = direct ? SQLITE_OK : mv__sq_step_done(be->wst[W_TX_SAVEPOINT]);
  if (rc != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, NULL, "transaction savepoint");
  int64_t seq0 = be->next_seq;
  int64_t mark = mv__sq_ledger_mark(be);
  size_t failed = SIZE_MAX;
  if (it->has_cursor &&
      (rc = mv__sq_cursor_put(be, it->cursor_stream, it->cursor_seq,
                              it->updated_us)) != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, NULL, "cursor update");
  for (size_t k = 0; k < it->n && failed == SIZE_MAX; k++) {
    if ((err = apply_op(be, &it->ops[k], it->updated_us, true,
                        direct && absent)) != MV_OK)
      return err; /* the batch rollback undoes everything */
    if (it->ops[k].status != MV_OK)
      failed = k;
  }
  if (direct) {
    if (failed != SIZE_MAX) {
      /* No savepoint to undo part of the item: the batch goes instead. */
      MV_LOG_ERROR("store",
                   "a transaction failed unexpectedly (%s); its batch "
                   "is rolled back",
                   mv_err_name(it->ops[failed].status));
      return MV_EDB;
    }
    it->status = MV_OK;
    return MV_OK;
  }
  if (failed != SIZE_MAX) {
    if ((rc = mv__sq_step_done(be->wst[W_TX_ROLLBACK_TO])) == SQLITE_OK)
      rc = mv__sq_step_done(be->wst[W_TX_RELEASE]);
    if (rc != SQLITE_OK)
      return mv__sq_fail(be->wdb, rc, NULL, "transaction rollback");
    be->next_seq = seq0;
    mv__sq_ledger_rewind(be, mark);
    it->status = it->ops[failed].status;
    it->failed_index = failed;
    for (size_t k = 0; k < it->n; k++) {
      memset(&it->ops[k].res, 0, sizeof(it->ops[k].res));
      it->ops[k].res.ledger_index = -1;
    }
    return MV_OK;
  }
  if ((rc = mv__sq_step_done(be->wst[W_TX_RELEASE])) != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, NULL, "transaction release");
  it->status = MV_OK;
  return MV_OK;
}

/* ---- Erasure -------------------------------------------------------------- */

enum { E_NEXT_TYPE, E_DEL_TOK, E_DEL_STR, E_SCRUB, E_MARK, E_DESTROY, E_N };
static const char *const esql[E_N] = {
    /* Walk the types present with one index seek each. */
    [E_NEXT_TYPE] = "SELECT type FROM resource_current WHERE type > ?1"
                    " ORDER BY type LIMIT 1",
    [E_DEL_TOK] = "DELETE FROM tokens WHERE type = ?1 AND id IN"
                  " (SELECT id FROM resource_current"
                  "  WHERE type = ?1 AND patient_id = ?2)",
    [E_DEL_STR] = "DELETE FROM strings WHERE type = ?1 AND id IN"
                  " (SELECT id FROM resource_current"
                  "  WHERE type = ?1 AND patient_id = ?2)",
    /* Every version keeps only what identifies the row once erased: the
     * clear metadata (a Patient's birth date is its date) goes too. */
    [E_SCRUB] = "UPDATE resources SET code = NULL, date_us = NULL,"
                " status = NULL WHERE type = ?1 AND id IN"
                " (SELECT id FROM resource_current"
                "  WHERE type = ?1 AND patient_id = ?2 AND erased = 0)",
    [E_MARK] = "UPDATE resource_current SET erased = 1, status = NULL,"
               " date_lo = NULL, date_hi = NULL"
               " WHERE type = ?1 AND patient_id = ?2 AND erased = 0",
    [E_DESTROY] = "UPDATE patient_keys SET wrapped = NULL, key_id = NULL,"
                  " destroyed_us = ?2 WHERE patient_id = ?1",
};

/* Does the patient have a key, and is it still there? */
static int key_state(struct mv_store_backend *be, const char *pid,
                     bool *out_found, bool *out_destroyed) {
  sqlite3_stmt *st = be->wst[W_KEY_GET];
  mv__sq_bind_text(st, 1, pid);
  int rc = sqlite3_step(st);
  *out_found = rc == SQLITE_ROW;
  *out_destroyed =
      rc == SQLITE_ROW && sqlite3_column_type(st, 1) == SQLITE_NULL;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int erase_rows(struct mv_store_backend *be, sqlite3_stmt **st,
                      const char *pid, int64_t now, int64_t *out_count) {
  char type[MV_LIMIT_TYPE_LEN + 1] = "";
  int64_t count = 0;
  int rc;
  for (;;) {
    mv__sq_bind_text(st[E_NEXT_TYPE], 1, type);
    rc = sqlite3_step(st[E_NEXT_TYPE]);
    if (rc == SQLITE_ROW &&
        mv__sq_copy_col(st[E_NEXT_TYPE], 0, type, sizeof(type), false) != MV_OK)
      rc = SQLITE_CORRUPT;
    sqlite3_reset(st[E_NEXT_TYPE]);
    if (rc != SQLITE_ROW)
      break;
    for (int k = E_DEL_TOK; k <= E_MARK; k++) {
      mv__sq_bind_text(st[k], 1, type);
      mv__sq_bind_text(st[k], 2, pid);
      if ((rc = mv__sq_step_done(st[k])) != SQLITE_OK)
        return rc;
    }
    count += sqlite3_changes(be->wdb); /* of E_MARK, the last */
  }
  if (rc != SQLITE_DONE)
    return rc;
  mv__sq_bind_text(st[E_DESTROY], 1, pid);
  sqlite3_bind_int64(st[E_DESTROY], 2, now);
  if ((rc = mv__sq_step_done(st[E_DESTROY])) != SQLITE_OK)
    return rc;
  *out_count = count;
  return SQLITE_OK;
}

static int apply_erase(struct mv_store_backend *be, struct mv__store_item *it) {
  sqlite3_stmt *st[E_N] = {NULL};
  bool found, destroyed;
  int64_t count = 0;
  int err = MV_OK;
  int rc = key_state(be, it->patient_id, &found, &destroyed);
  if (rc != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, NULL, "read patient key");
  if (!found || destroyed) {
    it->status = found ? MV_OK : MV_ENOTFOUND; /* erasing twice is fine */
    return MV_OK;
  }
  for (int k = 0; k < E_N && rc == SQLITE_OK; k++)
    rc = sqlite3_prepare_v2(be->wdb, esql[k], -1, &st[k], NULL);
  if (rc == SQLITE_OK &&
      (rc = mv__sq_step_done(be->wst[W_SAVEPOINT])) == SQLITE_OK) {
    rc = erase_rows(be, st, it->patient_id, it->updated_us, &count);
    /* The erasure is logged; the entries of the erased versions stay (their
     * commitments still match the ciphertext nobody can open now). An
     * erasure is "version 1" of nothing: the entry needs a version >= 1. */
    if (rc == SQLITE_OK)
      rc = mv__sq_ledger_add(be, MV_TLOG_ERASE, "Patient", it->patient_id, 1,
                             it->actor, it->updated_us, NULL, 0,
                             &it->ledger_index);
    if (rc == SQLITE_OK)
      rc = mv__sq_step_done(be->wst[W_RELEASE]);
    else if (!mv__sq_rc_is_fatal(rc) && !sqlite3_get_autocommit(be->wdb)) {
      it->ledger_index = -1;
      err = mv__sq_fail(be->wdb, rc, NULL, "erase (this erase only)");
      mv__sq_step_done(be->wst[W_ROLLBACK_TO]);
      mv__sq_step_done(be->wst[W_RELEASE]);
      it->status = err;
      rc = SQLITE_OK;
      err = MV_OK;
      goto out;
    }
  }
  if (rc != SQLITE_OK) {
    err = mv__sq_fail(be->wdb, rc, NULL, "erase");
    goto out;
  }
  mv__sq_keys_forget(be, it->patient_id);
  be->erased_in_batch = true;
  it->erased = count;
  it->status = MV_OK;
  MV_LOG_INFO("store", "erased a patient: %lld resources made unreadable",
              (long long)count);
out:
  for (int k = 0; k < E_N; k++)
    sqlite3_finalize(st[k]);
  return err;
}

/* After an erasure: move the WAL into the database and truncate it, so the
 * frames that held the destroyed key leave the files now. */
static void truncate_wal(struct mv_store_backend *be) {
  sqlite3_busy_timeout(be->wdb, ERASE_CHECKPOINT_WAIT_MS);
  int rc = sqlite3_wal_checkpoint_v2(be->wdb, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                     NULL, NULL);
  sqlite3_busy_timeout(be->wdb, MV__SQ_BUSY_TIMEOUT_MS);
  if (rc != SQLITE_OK)
    MV_LOG_WARN("store",
                "WAL not truncated after an erasure (%s); its old frames are "
                "overwritten by later writes",
                sqlite3_errstr(rc));
}

/* ---- The batch ------------------------------------------------------------ */

int mv__sq_write_batch(struct mv_store_backend *be,
                       struct mv__store_item **items, size_t n) {
  int64_t seq0 = be->next_seq;
  be->erased_in_batch = false;
  mv__sq_ledger_begin(be);
  int rc = mv__sq_step_done(be->wst[W_BEGIN]);
  if (rc != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, NULL, "begin");
  int err = mv__sq_keys_check_rotation(be);
  for (size_t i = 0; i < n && err == MV_OK; i++) {
    switch (items[i]->kind) {
    case MV__ITEM_WRITE:
      err = apply_op(be, &items[i]->ops[0], items[i]->updated_us, false, false);
      break;
    case MV__ITEM_TX:
      err = apply_tx(be, items[i]);
      break;
    case MV__ITEM_ERASE:
      err = apply_erase(be, items[i]);
      break;
    }
  }
  if (err == MV_OK)
    err = mv__sq_ledger_precommit(be, n ? items[0]->updated_us : 0);
  if (err == MV_OK && (rc = mv__sq_step_done(be->wst[W_COMMIT])) != SQLITE_OK)
    err = mv__sq_fail(be->wdb, rc, NULL, "commit");
  if (err != MV_OK) {
    if (!sqlite3_get_autocommit(be->wdb))
      mv__sq_step_done(be->wst[W_ROLLBACK]);
    be->next_seq = seq0;
    mv__sq_ledger_abort(be);
    mv__sq_keys_abort(be);
    return err;
  }
  mv__sq_keys_commit(be);
  /* Durable in the database; the write is acknowledged only once its
   * entries are durable in the log files too. */
  err = mv__sq_ledger_committed(be);
  if (be->erased_in_batch) {
    /* Again after the commit: a reader that fetched the key row just
     * before it must not put the key back (see mv__crypt_cache_put). */
    for (size_t i = 0; i < n; i++)
      if (items[i]->kind == MV__ITEM_ERASE && items[i]->status == MV_OK)
        mv__crypt_cache_drop(be->crypt, items[i]->patient_id);
    truncate_wal(be);
  }
  return err;
}
