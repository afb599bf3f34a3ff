/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend of the store: one file DIR/medverse.db in WAL mode with
 * synchronous=FULL, so a committed batch survives power loss, and
 * secure_delete, so overwritten or deleted content (an erased patient's key)
 * does not linger in free space. One write connection (used only under the
 * generic layer's write lock) and a small pool of read connections, so reads
 * on other threads run concurrently with the writer (WAL readers see the
 * last committed snapshot); another process (the admin CLI) may open the
 * same database at the same time, and waits for the write lock up to a busy
 * timeout. The schema is versioned by PRAGMA user_version and migrated
 * forward at open; a database newer than this binary is refused. All
 * statements are prepared once (searches: per call, from fixed fragments)
 * and every value is bound, never formatted into SQL.
 *
 * This file: opening, the schema, accounts and the operations table. Writes
 * are in sqlite_write.c, reads and search in sqlite_read.c, keys in
 * sqlite_keys.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "mv_limits.h"
#include "mv_log.h"
#include "sqlite_int.h"

#define DB_FILE "medverse.db"
#define WRITER_CACHE_KIB "65536" /* page cache of the write connection */
#define DB_CHUNK_BYTES (32 * 1024 * 1024) /* database file growth step */
/* WAL frames after which the checkpointer is woken (SQLite's own automatic
 * checkpoint uses 1000, on the committing connection). */
#define CKPT_FRAMES 2000
#define CKPT_IDLE_MS 500 /* also checkpoint this often when woken by nobody */
/* PASSIVE checkpoints copy frames but cannot reset the log while readers
 * are inside it, and under a steady read load they always are: the WAL then
 * grows without bound and every page lookup scans more of its index. Past
 * this many frames the checkpointer asks for a RESTART, which waits (at most
 * CKPT_RESTART_WAIT_MS, holding off new writers) for readers to move on. */
#define CKPT_RESTART_FRAMES 8192
#define CKPT_RESTART_WAIT_MS 100
#define WAL_SIZE_LIMIT "67108864" /* bytes the WAL file is cut back to */

/*
 * Migrations, in order: migrations[i] brings the schema from version i to
 * i + 1. Never edit a released entry; append a new one. Each runs inside the
 * transaction that also bumps user_version, so a crash leaves either the old
 * or the new schema.
 */
static const char *const migrations[] = {
    /* 1: resources with all versions, the latest version per resource,
     * accounts, and a record of applied migrations. */
    "CREATE TABLE schema_migrations("
    "  version INTEGER PRIMARY KEY,"
    "  applied_at INTEGER NOT NULL);" /* µs since the epoch */
    "CREATE TABLE resources("
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  version INTEGER NOT NULL CHECK (version >= 1),"
    "  deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),"
    "  updated_us INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  patient_id TEXT,"
    "  code TEXT,"
    "  date_us INTEGER,"
    "  status TEXT,"
    "  body BLOB,"
    "  PRIMARY KEY (type, id, version));"
    "CREATE INDEX resources_patient ON resources(type, patient_id);"
    "CREATE INDEX resources_code ON resources(type, code);"
    "CREATE INDEX resources_date ON resources(type, date_us);"
    "CREATE INDEX resources_status ON resources(type, status);"
    "CREATE TABLE resource_current("
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL,"
    "  PRIMARY KEY (type, id),"
    "  FOREIGN KEY (type, id, version)"
    "    REFERENCES resources(type, id, version)) WITHOUT ROWID;"
    "CREATE TABLE users("
    "  username TEXT PRIMARY KEY,"
    "  role TEXT NOT NULL,"
    "  pw_hash TEXT NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_us INTEGER NOT NULL);",
    /* 2: seq is unique store-wide; the index serves change feeds and the
     * MAX(seq) read at open. */
    "CREATE UNIQUE INDEX resources_seq ON resources(seq);",
    /* 3: accounts link to FHIR resources (Patient, Practitioner) and an
     * organisation; "" = none. */
    "ALTER TABLE users ADD COLUMN fhir_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE users ADD COLUMN org_id TEXT NOT NULL DEFAULT '';",
    /* 4: encryption at rest and the search index. patient_keys holds each
     * patient's body key wrapped by the site key (NULL once erased), the
     * general data key (patient_id '') and the root of derived keys
     * ('#root'). resource_current gains the search columns of the current
     * version; tokens and strings (blind hashes of name prefixes) hold its
     * index terms. The per-version index columns of migration 1 lose their
     * indexes (nothing searches versions); type-level history gets one.
     * Bodies stored in clear before this migration are encrypted by the
     * open that applies it (sqlite_keys.c), in the same transaction. */
    "CREATE TABLE patient_keys("
    "  patient_id TEXT PRIMARY KEY,"
    "  key_id TEXT,"
    "  wrapped BLOB,"
    "  created_us INTEGER NOT NULL,"
    "  destroyed_us INTEGER) WITHOUT ROWID;"
    "ALTER TABLE resource_current ADD COLUMN patient_id TEXT;"
    "ALTER TABLE resource_current ADD COLUMN status TEXT;"
    "ALTER TABLE resource_current ADD COLUMN date_lo INTEGER;"
    "ALTER TABLE resource_current ADD COLUMN date_hi INTEGER;"
    "ALTER TABLE resource_current ADD COLUMN erased INTEGER NOT NULL"
    "  DEFAULT 0;"
    "UPDATE resource_current SET"
    "  patient_id = (SELECT NULLIF(r.patient_id, '') FROM resources r"
    "    WHERE r.type = resource_current.type AND r.id = resource_current.id"
    "    AND r.version = resource_current.version),"
    "  status = (SELECT r.status FROM resources r"
    "    WHERE r.type = resource_current.type AND r.id = resource_current.id"
    "    AND r.version = resource_current.version AND r.deleted = 0),"
    "  date_lo = (SELECT r.date_us FROM resources r"
    "    WHERE r.type = resource_current.type AND r.id = resource_current.id"
    "    AND r.version = resource_current.version AND r.deleted = 0);"
    "UPDATE resource_current SET date_hi = date_lo;"
    "CREATE INDEX rc_patient_hi ON resource_current(type, patient_id,"
    "  date_hi);"
    "CREATE INDEX rc_patient_lo ON resource_current(type, patient_id,"
    "  date_lo);"
    "CREATE INDEX rc_type_hi ON resource_current(type, date_hi);"
    "CREATE INDEX rc_type_updated ON resource_current(type, updated_us);"
    /* A token row carries its resource's patient and date end, so the
     * common "this patient's resources with this code, newest first" is
     * one range of tokens_lookup, already in order (and counted there). */
    "CREATE TABLE tokens("
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  param TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  system TEXT NOT NULL," /* '' = no system */
    "  patient_id TEXT,"
    "  date_hi INTEGER,"
    "  PRIMARY KEY (type, id, param, value, system)) WITHOUT ROWID;"
    "CREATE INDEX tokens_lookup ON tokens(type, param, value, system,"
    "  patient_id, date_hi);"
    "CREATE TABLE strings("
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  param TEXT NOT NULL,"
    "  hash BLOB NOT NULL,"
    "  PRIMARY KEY (type, id, param, hash)) WITHOUT ROWID;"
    "CREATE INDEX strings_lookup ON strings(type, param, hash);"
    /* The legacy code column ("system|code") becomes a `code` token. */
    "INSERT OR IGNORE INTO tokens(type, id, param, value, system,"
    "    patient_id, date_hi)"
    "  SELECT c.type, c.id, 'code',"
    "    substr(r.code, instr(r.code, '|') + 1),"
    "    substr(r.code, 1, instr(r.code, '|') - 1), c.patient_id, c.date_hi"
    "  FROM resource_current c JOIN resources r ON r.type = c.type"
    "    AND r.id = c.id AND r.version = c.version"
    "  WHERE c.deleted = 0 AND instr(r.code, '|') > 0"
    "    AND length(r.code) > instr(r.code, '|');"
    "DROP INDEX resources_patient;"
    "DROP INDEX resources_code;"
    "DROP INDEX resources_date;"
    "DROP INDEX resources_status;"
    "CREATE INDEX resources_type_updated ON resources(type, updated_us,"
    "  seq);",
    /* Surveillance (sqlite_epi.c): aggregated case counts per site,
     * region, disease and day (counts, not patient data: in clear), the
     * alerts runs raise, the last run's summary per series, and
     * per-disease serial intervals. */
    "CREATE TABLE epi_counts("
    "  region TEXT NOT NULL,"
    "  disease TEXT NOT NULL,"
    "  day INTEGER NOT NULL," /* days since 1970-01-01 */
    "  site TEXT NOT NULL,"
    "  observed INTEGER NOT NULL CHECK (observed >= 0),"
    "  population REAL,"
    "  updated_us INTEGER NOT NULL,"
    "  PRIMARY KEY (region, disease, day, site)) WITHOUT ROWID;"
    "CREATE INDEX epi_counts_disease ON epi_counts(disease, region, day);"
    "CREATE TABLE epi_alerts("
    "  id INTEGER PRIMARY KEY,"
    "  region TEXT NOT NULL,"
    "  disease TEXT NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  method TEXT NOT NULL,"
    "  observed INTEGER NOT NULL,"
    "  upperbound REAL,"
    "  created_us INTEGER NOT NULL,"
    "  acked_by TEXT NOT NULL DEFAULT '',"
    "  acked_us INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (region, disease, day, method));"
    "CREATE TABLE epi_summary("
    "  region TEXT NOT NULL,"
    "  disease TEXT NOT NULL,"
    "  run_us INTEGER NOT NULL,"
    "  risk REAL NOT NULL,"
    "  body TEXT NOT NULL,"
    "  PRIMARY KEY (region, disease)) WITHOUT ROWID;"
    "CREATE TABLE epi_diseases("
    "  disease TEXT PRIMARY KEY,"
    "  si_mean REAL NOT NULL,"
    "  si_sd REAL NOT NULL,"
    "  updated_us INTEGER NOT NULL) WITHOUT ROWID;",
    /* The ledger (issue 6, sqlite_ledger.c): each entry's leaf data,
     * written in the same transaction as the change it records (the source
     * of truth the Merkle log files in DIR/ledger are caught up from); the
     * entry of each record version (NULL for versions older than this
     * migration); the signed checkpoint of every batch and the witness
     * cosignatures collected for them. */
    "CREATE TABLE ledger("
    "  idx INTEGER PRIMARY KEY CHECK (idx >= 0),"
    "  leaf BLOB NOT NULL);"
    "ALTER TABLE resources ADD COLUMN ledger_idx INTEGER;"
    "CREATE TABLE ledger_checkpoints("
    "  size INTEGER PRIMARY KEY,"
    "  t_us INTEGER NOT NULL,"
    "  note TEXT NOT NULL);"
    "CREATE TABLE ledger_cosigs("
    "  size INTEGER NOT NULL,"
    "  witness TEXT NOT NULL,"
    "  t_us INTEGER NOT NULL,"
    "  line TEXT NOT NULL,"
    "  PRIMARY KEY (size, witness)) WITHOUT ROWID;",
    /* 7: device stream cursors (sqlite_cursor.c): the highest sequence
     * number each device stream has durably stored, updated in the same
     * transaction as the stream's writes. Stream names, not patient data. */
    "CREATE TABLE device_cursor("
    "  stream TEXT PRIMARY KEY,"
    "  seq INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL) WITHOUT ROWID;",
};
#define SCHEMA_VERSION ((int)MV_ARRAY_LEN(migrations))

static const char *const wsql[W_N] = {
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_SAVEPOINT] = "SAVEPOINT w",
    [W_RELEASE] = "RELEASE w",
    [W_ROLLBACK_TO] = "ROLLBACK TO w",
    [W_TX_SAVEPOINT] = "SAVEPOINT tx",
    [W_TX_RELEASE] = "RELEASE tx",
    [W_TX_ROLLBACK_TO] = "ROLLBACK TO tx",
    [W_CURRENT] = "SELECT version, deleted, seq, updated_us, patient_id, erased"
                  " FROM resource_current WHERE type = ?1 AND id = ?2",
    [W_INSERT] = "INSERT INTO resources(type, id, version, deleted,"
                 " updated_us, seq, patient_id, code, date_us, status, body,"
                 " ledger_idx)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [W_SET_CURRENT] =
        "INSERT INTO resource_current(type, id, version, deleted, seq,"
        " updated_us, patient_id, status, date_lo, date_hi, erased)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0)"
        " ON CONFLICT(type, id) DO UPDATE SET version = excluded.version,"
        " deleted = excluded.deleted, seq = excluded.seq,"
        " updated_us = excluded.updated_us, patient_id = excluded.patient_id,"
        " status = excluded.status, date_lo = excluded.date_lo,"
        " date_hi = excluded.date_hi",
    [W_TOK_DEL] = "DELETE FROM tokens WHERE type = ?1 AND id = ?2",
    [W_TOK_INS] = "INSERT OR IGNORE INTO tokens(type, id, param, value,"
                  " system, patient_id, date_hi)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [W_STR_DEL] = "DELETE FROM strings WHERE type = ?1 AND id = ?2",
    [W_STR_INS] = "INSERT OR IGNORE INTO strings(type, id, param, hash)"
                  " VALUES (?1, ?2, ?3, ?4)",
    [W_KEY_GET] = "SELECT key_id, wrapped FROM patient_keys"
                  " WHERE patient_id = ?1",
    [W_KEY_INS] = "INSERT INTO patient_keys(patient_id, key_id, wrapped,"
                  " created_us) VALUES (?1, ?2, ?3, ?4)",
    [W_USER_PUT] = "INSERT INTO users(username, role, pw_hash, disabled,"
                   " created_us, fhir_id, org_id)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                   " ON CONFLICT(username) DO UPDATE SET role = excluded.role,"
                   " pw_hash = excluded.pw_hash, disabled = excluded.disabled,"
                   " fhir_id = excluded.fhir_id, org_id = excluded.org_id",
    [W_LEDGER_INS] = "INSERT INTO ledger(idx, leaf) VALUES (?1, ?2)",
    [W_CKPT_INS] = "INSERT OR REPLACE INTO ledger_checkpoints(size, t_us,"
                   " note) VALUES (?1, ?2, ?3)",
    /* Thin the history of [?1, ?2): keep the newest checkpoint of each ?3
     * microseconds, the newest cosigned one of each, and (?4 = 1) every
     * cosigned one (sqlite_ledger.c says why). */
    [W_CKPT_THIN] = "DELETE FROM ledger_checkpoints WHERE t_us >= ?1"
                    " AND t_us < ?2 AND size NOT IN (SELECT max(size) FROM"
                    " ledger_checkpoints WHERE t_us >= ?1 AND t_us < ?2"
                    " GROUP BY t_us / ?3) AND size NOT IN (SELECT"
                    " max(k.size) FROM ledger_checkpoints k JOIN"
                    " ledger_cosigs c ON c.size = k.size WHERE k.t_us >= ?1"
                    " AND k.t_us < ?2 GROUP BY k.t_us / ?3) AND (?4 = 0 OR"
                    " size NOT IN (SELECT size FROM ledger_cosigs))",
    [W_COSIG_ORPHANS] = "DELETE FROM ledger_cosigs WHERE size NOT IN"
                        " (SELECT size FROM ledger_checkpoints)",
    [W_CURSOR_GET] = "SELECT seq FROM device_cursor WHERE stream = ?1",
    [W_CURSOR_PUT] =
        "INSERT INTO device_cursor(stream, seq, updated_us)"
        " VALUES (?1, ?2, ?3) ON CONFLICT(stream) DO UPDATE"
        " SET seq = excluded.seq, updated_us = excluded.updated_us",
};

/* Columns of a version row for row_version() in sqlite_read.c: version,
 * updated_us, deleted, body, patient_id, erased. */
#define VERSION_COLS                                                           \
  "r.version, r.updated_us, r.deleted, r.body, r.patient_id, c.erased"

static const char *const rsql[R_N] = {
    [R_LATEST] = "SELECT " VERSION_COLS " FROM resource_current c"
                 " JOIN resources r ON r.type = c.type AND r.id = c.id"
                 " AND r.version = c.version WHERE c.type = ?1 AND c.id = ?2",
    [R_VERSION] = "SELECT " VERSION_COLS " FROM resources r"
                  " JOIN resource_current c ON c.type = r.type AND c.id = r.id"
                  " WHERE r.type = ?1 AND r.id = ?2 AND r.version = ?3",
    /* The newest version below ?3: history walks down one row at a time. */
    [R_OLDER] = "SELECT " VERSION_COLS " FROM resources r"
                " JOIN resource_current c ON c.type = r.type AND c.id = r.id"
                " WHERE r.type = ?1 AND r.id = ?2 AND r.version < ?3"
                " ORDER BY r.version DESC LIMIT 1",
    [R_BODY] = "SELECT body FROM resources"
               " WHERE type = ?1 AND id = ?2 AND version = ?3",
    [R_COUNT] = "SELECT COUNT(*) FROM resource_current"
                " WHERE type = ?1 AND deleted = 0 AND erased = 0",
    [R_KEY_GET] = "SELECT key_id, wrapped FROM patient_keys"
                  " WHERE patient_id = ?1",
    /* Type history, newest first; versions of erased resources and of
     * patients whose key is destroyed are left out. */
    [R_HIST_TYPE] =
        "SELECT r.id, r.version, r.updated_us, r.deleted, r.patient_id,"
        " r.body FROM resources r INDEXED BY resources_type_updated"
        " WHERE r.type = ?1 AND r.updated_us >= ?2"
        " AND NOT EXISTS (SELECT 1 FROM resource_current c"
        "   WHERE c.type = r.type AND c.id = r.id AND c.erased = 1)"
        " AND NOT EXISTS (SELECT 1 FROM patient_keys k"
        "   WHERE k.patient_id = COALESCE(r.patient_id, '')"
        "   AND k.wrapped IS NULL)"
        " ORDER BY r.updated_us DESC, r.seq DESC LIMIT ?3 OFFSET ?4",
    [R_HIST_TYPE_COUNT] =
        "SELECT COUNT(*) FROM resources r INDEXED BY resources_type_updated"
        " WHERE r.type = ?1 AND r.updated_us >= ?2"
        " AND NOT EXISTS (SELECT 1 FROM resource_current c"
        "   WHERE c.type = r.type AND c.id = r.id AND c.erased = 1)"
        " AND NOT EXISTS (SELECT 1 FROM patient_keys k"
        "   WHERE k.patient_id = COALESCE(r.patient_id, '')"
        "   AND k.wrapped IS NULL)",
    [R_USER_GET] = "SELECT username, role, pw_hash, disabled, fhir_id, org_id"
                   " FROM users WHERE username = ?1",
    /* user_list pages through the accounts in username order. */
    [R_USER_NEXT] = "SELECT username, role, pw_hash, disabled, fhir_id, org_id"
                    " FROM users WHERE username > ?1 ORDER BY username"
                    " LIMIT ?2",
    [R_CKPT_AT] = "SELECT note FROM ledger_checkpoints WHERE size = ?1",
    [R_CKPT_LATEST] = "SELECT size, note FROM ledger_checkpoints"
                      " ORDER BY size DESC LIMIT 1",
    /* The newest size with at least ?1 cosignatures. */
    [R_CKPT_QUORUM] = "SELECT size FROM ledger_cosigs WHERE ?2 IS NULL"
                      " OR witness IN (SELECT value FROM json_each(?2))"
                      " GROUP BY size HAVING COUNT(*) >= ?1"
                      " ORDER BY size DESC LIMIT 1",
    [R_COSIGS] = "SELECT line FROM ledger_cosigs WHERE size = ?1 AND (?2 IS"
                 " NULL OR witness IN (SELECT value FROM json_each(?2)))"
                 " ORDER BY witness",
    [R_LEDGER_LEAVES] = "SELECT idx, leaf FROM ledger WHERE idx >= ?1"
                        " AND idx < ?2 ORDER BY idx",
    [R_CURSOR_GET] = "SELECT seq FROM device_cursor WHERE stream = ?1",
};

/* ---- Helpers --------------------------------------------------------------
 */

int mv__sq_map_rc(int rc) {
  switch (rc & 0xff) {
  case SQLITE_NOMEM:
    return MV_ENOMEM;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return MV_EBUSY;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return MV_ECORRUPT;
  case SQLITE_IOERR:
  case SQLITE_FULL:
  case SQLITE_CANTOPEN:
  case SQLITE_READONLY:
  case SQLITE_PERM:
    return MV_EIO;
  default:
    return MV_EDB;
  }
}

bool mv__sq_rc_is_fatal(int rc) {
  int p = rc & 0xff;
  return p == SQLITE_IOERR || p == SQLITE_FULL || p == SQLITE_NOMEM ||
         p == SQLITE_CORRUPT || p == SQLITE_NOTADB;
}

/* SQLite's messages name tables and columns, never the values bound. */
int mv__sq_fail(sqlite3 *db, int rc, struct mv_diag *diag, const char *what) {
  int err = mv__sq_map_rc(rc);
  MV_LOG_ERROR("store", "sqlite %s failed: %s (sqlite code %d)", what,
               sqlite3_errstr(rc), rc);
  mv_diag_set(diag, err, "sqlite %s: %s (code %d)", what,
              db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
  return err;
}

int mv__sq_step_done(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int mv__sq_bind_text(sqlite3_stmt *st, int i, const char *v) {
  return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC)
           : sqlite3_bind_null(st, i);
}

int mv__sq_exec(sqlite3 *db, const char *sql, struct mv_diag *diag) {
  int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? MV_OK : mv__sq_fail(db, rc, diag, "exec");
}

int mv__sq_copy_col(sqlite3_stmt *st, int col, char *dst, size_t size,
                    bool null_ok) {
  const unsigned char *t = sqlite3_column_text(st, col);
  size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
  if (!t && null_ok) {
    dst[0] = '\0';
    return MV_OK;
  }
  if (!t || n >= size)
    return MV_ECORRUPT;
  memcpy(dst, t, n + 1);
  return MV_OK;
}

struct mv__sq_rconn *mv__sq_rconn_get(struct mv_store_backend *be) {
  struct mv__sq_rconn *c = NULL;
  pthread_mutex_lock(&be->rmu);
  for (;;) {
    for (int i = 0; i < MV__SQ_READ_CONNS && !c; i++)
      if (!be->r[i].busy)
        c = &be->r[i];
    if (c)
      break;
    pthread_cond_wait(&be->rcv, &be->rmu);
  }
  c->busy = true;
  pthread_mutex_unlock(&be->rmu);
  return c;
}

void mv__sq_rconn_put(struct mv_store_backend *be, struct mv__sq_rconn *c,
                      sqlite3_stmt *st) {
  if (st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  pthread_mutex_lock(&be->rmu);
  c->busy = false;
  pthread_cond_signal(&be->rcv);
  pthread_mutex_unlock(&be->rmu);
}

/* ---- Opening ---------------------------------------------------------------
 */

/* mkdir -p, creating missing components with mode 0700 (they may hold
 * patient data). Existing directories keep their mode. */
static int mkdir_p(const char *dir, struct mv_diag *diag) {
  char path[MV_LIMIT_PATH_MAX];
  size_t n = strnlen(dir, sizeof(path));
  if (n == 0 || n >= sizeof(path))
    return mv_diag_set(diag, MV_EINVAL, "store directory path is too long");
  memcpy(path, dir, n + 1);
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
      return mv_diag_set(diag, MV_EIO, "cannot create store directory: %s",
                         strerror(errno));
    *p = '/';
  }
  if (mkdir(path, 0700) != 0 && errno != EEXIST)
    return mv_diag_set(diag, MV_EIO, "cannot create store directory: %s",
                       strerror(errno));
  struct stat sb;
  if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return mv_diag_set(diag, MV_EIO, "store location is not a directory");
  return MV_OK;
}

static int conn_open(const char *path, int flags, sqlite3 **out_db,
                     struct mv_diag *diag) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    int err = mv__sq_fail(db, rc, diag, "open");
    sqlite3_close(db);
    return err;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, MV__SQ_BUSY_TIMEOUT_MS);
  *out_db = db;
  return MV_OK;
}

/* Run a pragma that returns one value and read it as text into buf. */
static int pragma_text(sqlite3 *db, const char *sql, char *buf, size_t len,
                       struct mv_diag *diag) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const unsigned char *t = sqlite3_column_text(st, 0);
      snprintf(buf, len, "%s", t ? (const char *)t : "");
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      buf[0] = '\0';
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? MV_OK : mv__sq_fail(db, rc, diag, sql);
}

static int configure_writer(sqlite3 *db, struct mv_diag *diag) {
  char mode[16];
  int rc = pragma_text(db, "PRAGMA journal_mode=WAL", mode, sizeof(mode), diag);
  if (rc != MV_OK)
    return rc;
  if (strcmp(mode, "wal") != 0)
    return mv_diag_set(diag, MV_EDB, "cannot enable WAL (journal mode %s)",
                       mode);
  if ((rc = mv__sq_exec(db, "PRAGMA synchronous=FULL", diag)) != MV_OK)
    return rc;
  /* Deleted content (a destroyed key, replaced index rows) is zeroed. */
  if ((rc = mv__sq_exec(db, "PRAGMA secure_delete=ON", diag)) != MV_OK)
    return rc;
  /* The writer touches several indexes per write at random places; a
   * larger page cache than the 2 MiB default keeps their inner pages. */
  if ((rc = mv__sq_exec(db, "PRAGMA cache_size=-" WRITER_CACHE_KIB, diag)) !=
      MV_OK)
    return rc;
  /* Savepoint (statement) journals in memory: every write and transaction
   * item runs under a savepoint, and each one copies the pages it first
   * touches into its journal. As temporary files (the default) that was
   * ~100 kB of file writes per stored record, several times the WAL's
   * (bench/bench_ingest.c, docs/OPERATIONS.md); in memory it is bounded by
   * the pages one batch transaction touches. */
  if ((rc = mv__sq_exec(db, "PRAGMA temp_store=MEMORY", diag)) != MV_OK)
    return rc;
  /* After a reset, the WAL file is cut back to this size (else it keeps its
   * largest size on disk forever). */
  if ((rc = mv__sq_exec(db, "PRAGMA journal_size_limit=" WAL_SIZE_LIMIT,
                        diag)) != MV_OK)
    return rc;
  return mv__sq_exec(db, "PRAGMA foreign_keys=ON", diag);
}

static int apply_migrations(struct mv_store_backend *be, int from,
                            struct mv_diag *diag) {
  sqlite3_stmt *st = NULL;
  char sql[64];
  int rc = MV_OK;
  for (int v = from + 1; v <= SCHEMA_VERSION && rc == MV_OK; v++)
    rc = mv__sq_exec(be->wdb, migrations[v - 1], diag);
  if (rc != MV_OK)
    goto out;
  int src = sqlite3_prepare_v2(be->wdb,
                               "INSERT INTO schema_migrations(version,"
                               " applied_at) VALUES (?1, ?2)",
                               -1, &st, NULL);
  for (int v = from + 1; v <= SCHEMA_VERSION && src == SQLITE_OK; v++) {
    sqlite3_bind_int(st, 1, v);
    sqlite3_bind_int64(st, 2, mv_clock_now_us(be->clock));
    src = mv__sq_step_done(st);
  }
  if (src != SQLITE_OK) {
    rc = mv__sq_fail(be->wdb, src, diag, "record migration");
    goto out;
  }
  /* PRAGMA takes no bound parameters; the value is our own constant. */
  snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_VERSION);
  rc = mv__sq_exec(be->wdb, sql, diag);
out:
  sqlite3_finalize(st);
  return rc;
}

static int prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **st,
                       size_t n, struct mv_diag *diag) {
  for (size_t i = 0; i < n; i++) {
    int rc = sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &st[i], NULL);
    if (rc != SQLITE_OK)
      return mv__sq_fail(db, rc, diag, "prepare");
  }
  return MV_OK;
}

/*
 * Bring the schema to SCHEMA_VERSION and set up the keys, in one
 * transaction: a crash leaves the old schema (and clear bodies) or the new
 * one with every body encrypted. The write statements are prepared inside
 * it, once the schema they name exists.
 */
static int migrate(struct mv_store_backend *be, struct mv_diag *diag) {
  char buf[32];
  int rc = mv__sq_exec(be->wdb, "BEGIN IMMEDIATE", diag);
  if (rc != MV_OK)
    return rc;
  if ((rc = pragma_text(be->wdb, "PRAGMA user_version", buf, sizeof(buf),
                        diag)) != MV_OK)
    goto out;
  char *end = NULL;
  long have_l = strtol(buf, &end, 10);
  if (end == buf || *end != '\0' || have_l < 0 || have_l > INT32_MAX) {
    rc = mv_diag_set(diag, MV_ECORRUPT, "unreadable schema version");
    goto out;
  }
  int have = (int)have_l;
  if (have > SCHEMA_VERSION) {
    rc = mv_diag_set(diag, MV_ECORRUPT,
                     "database schema version %d is newer than this binary "
                     "supports (%d); upgrade medverse",
                     have, SCHEMA_VERSION);
    goto out;
  }
  if (have < SCHEMA_VERSION && (rc = apply_migrations(be, have, diag)) != MV_OK)
    goto out;
  if ((rc = prepare_all(be->wdb, wsql, be->wst, W_N, diag)) != MV_OK)
    goto out;
  if ((rc = mv__sq_keys_setup(be, have, diag)) != MV_OK)
    goto out;
  if ((rc = mv__sq_exec(be->wdb, "COMMIT", diag)) != MV_OK)
    goto out;
  mv__sq_keys_commit(be);
  if (have < SCHEMA_VERSION) /* only once the migration is durable */
    MV_LOG_INFO("store", "migrated schema from version %d to %d", have,
                SCHEMA_VERSION);
out:
  if (rc != MV_OK) {
    mv__sq_keys_abort(be);
    if (!sqlite3_get_autocommit(be->wdb))
      sqlite3_exec(be->wdb, "ROLLBACK", NULL, NULL, NULL);
  }
  if (rc == MV_OK)
    be->schema_version = SCHEMA_VERSION;
  return rc;
}

static int load_next_seq(struct mv_store_backend *be, struct mv_diag *diag) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(be->wdb,
                              "SELECT COALESCE(MAX(seq), 0)"
                              " FROM resources",
                              -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    be->next_seq = sqlite3_column_int64(st, 0) + 1;
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? MV_OK : mv__sq_fail(be->wdb, rc, diag, "load seq");
}

static int open_readers(struct mv_store_backend *be, const char *path,
                        struct mv_diag *diag) {
  if (pthread_mutex_init(&be->rmu, NULL) != 0)
    return mv_diag_set(diag, MV_ENOMEM, "cannot create read-pool lock");
  if (pthread_cond_init(&be->rcv, NULL) != 0) {
    pthread_mutex_destroy(&be->rmu);
    return mv_diag_set(diag, MV_ENOMEM, "cannot create read-pool lock");
  }
  be->rsync_init = true;
  for (int i = 0; i < MV__SQ_READ_CONNS; i++) {
    struct mv__sq_rconn *c = &be->r[i];
    int rc = conn_open(path, SQLITE_OPEN_READWRITE, &c->db, diag);
    if (rc == MV_OK)
      rc = mv__sq_exec(c->db, "PRAGMA query_only=ON", diag);
    if (rc == MV_OK)
      rc = prepare_all(c->db, rsql, c->st, R_N, diag);
    if (rc != MV_OK)
      return rc;
  }
  return MV_OK;
}

static void conn_close(sqlite3 *db, sqlite3_stmt **st, size_t n) {
  for (size_t i = 0; i < n; i++)
    sqlite3_finalize(st[i]);
  if (db && sqlite3_close(db) != SQLITE_OK)
    MV_LOG_ERROR("store", "sqlite close failed: %s", sqlite3_errmsg(db));
}

/* ---- Background checkpoints ----------------------------------------------
 */

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames) {
  struct mv_store_backend *be = arg;
  (void)db;
  (void)name;
  if (frames >= CKPT_FRAMES) {
    pthread_mutex_lock(&be->ckmu);
    be->ck_wanted = true;
    pthread_cond_signal(&be->ckcv);
    pthread_mutex_unlock(&be->ckmu);
  }
  return SQLITE_OK;
}

static void *checkpointer(void *arg) {
  struct mv_store_backend *be = arg;
  for (;;) {
    pthread_mutex_lock(&be->ckmu);
    if (!be->ck_wanted && !be->ck_stop) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += (long)CKPT_IDLE_MS * 1000000L;
      ts.tv_sec += ts.tv_nsec / 1000000000L;
      ts.tv_nsec %= 1000000000L;
      pthread_cond_timedwait(&be->ckcv, &be->ckmu, &ts);
    }
    bool stop = be->ck_stop;
    be->ck_wanted = false;
    pthread_mutex_unlock(&be->ckmu);
    if (stop)
      break;
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(be->ckdb, NULL,
                                       SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (rc == SQLITE_OK && log >= CKPT_RESTART_FRAMES) {
      int frames = log;
      rc = sqlite3_wal_checkpoint_v2(be->ckdb, NULL, SQLITE_CHECKPOINT_RESTART,
                                     &log, &done);
      if (rc == SQLITE_OK)
        MV_LOG_DEBUG("store", "checkpoint: WAL restarted after %d frames",
                     frames);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
      MV_LOG_WARN("store", "background checkpoint failed: %s",
                  sqlite3_errstr(rc));
  }
  return NULL;
}

static int start_checkpointer(struct mv_store_backend *be, const char *path,
                              struct mv_diag *diag) {
  int rc = conn_open(path, SQLITE_OPEN_READWRITE, &be->ckdb, diag);
  if (rc != MV_OK)
    return rc;
  /* A RESTART holds off writers while it waits: keep that wait short, and
   * try again at the next wake-up instead. */
  sqlite3_busy_timeout(be->ckdb, CKPT_RESTART_WAIT_MS);
  if ((rc = mv__sq_exec(be->ckdb, "PRAGMA journal_size_limit=" WAL_SIZE_LIMIT,
                        diag)) != MV_OK)
    return rc;
  /* Grow the database file in large steps rather than page by page as
   * checkpoints append to it. (Readers do not mmap the file: measured on the
   * 1M-Observation search bench, first-touch faults and remaps cost more
   * than pread copies.) */
  int chunk = DB_CHUNK_BYTES;
  sqlite3_file_control(be->ckdb, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
  sqlite3_file_control(be->wdb, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
  /* A connection learns that the database is in WAL mode when it first
   * reads it; until then its checkpoints do nothing (log and done -1). */
  if ((rc = mv__sq_exec(be->ckdb, "SELECT count(*) FROM schema_migrations",
                        diag)) != MV_OK)
    return rc;
  if (pthread_mutex_init(&be->ckmu, NULL) != 0)
    return mv_diag_set(diag, MV_ENOMEM, "cannot create checkpoint lock");
  if (pthread_cond_init(&be->ckcv, NULL) != 0) {
    pthread_mutex_destroy(&be->ckmu);
    return mv_diag_set(diag, MV_ENOMEM, "cannot create checkpoint condition");
  }
  if (pthread_create(&be->ck_thread, NULL, checkpointer, be) != 0) {
    pthread_cond_destroy(&be->ckcv);
    pthread_mutex_destroy(&be->ckmu);
    return mv_diag_set(diag, MV_ENOMEM, "cannot start the checkpoint thread");
  }
  be->ck_started = true;
  /* From now on the writer's commits never checkpoint themselves. */
  sqlite3_wal_hook(be->wdb, wal_hook, be);
  return MV_OK;
}

static void stop_checkpointer(struct mv_store_backend *be) {
  if (!be->ck_started)
    return;
  pthread_mutex_lock(&be->ckmu);
  be->ck_stop = true;
  pthread_cond_signal(&be->ckcv);
  pthread_mutex_unlock(&be->ckmu);
  pthread_join(be->ck_thread, NULL);
  sqlite3_wal_hook(be->wdb, NULL, NULL);
  pthread_cond_destroy(&be->ckcv);
  pthread_mutex_destroy(&be->ckmu);
  be->ck_started = false;
}

static void sq_close(struct mv_store_backend *be) {
  if (!be)
    return;
  stop_checkpointer(be);
  mv__sq_ledger_close(be);
  if (be->ckdb && sqlite3_close(be->ckdb) != SQLITE_OK)
    MV_LOG_ERROR("store", "sqlite close failed: %s", sqlite3_errmsg(be->ckdb));
  for (int i = 0; i < MV__SQ_READ_CONNS; i++)
    conn_close(be->r[i].db, be->r[i].st, R_N);
  conn_close(be->wdb, be->wst, W_N); /* last: checkpoints the WAL */
  if (be->rsync_init) {
    pthread_cond_destroy(&be->rcv);
    pthread_mutex_destroy(&be->rmu);
  }
  if (be->seal) {
    sodium_memzero(be->seal, be->seal_cap);
    free(be->seal);
  }
  if (be->pending)
    sodium_free(be->pending);
  free(be);
}

/* Create the file ourselves so it, and the -wal and -shm files SQLite
 * derives from it, are private to the server's user. */
static int precreate(const char *path, struct mv_diag *diag) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return mv_diag_set(diag, MV_EIO, "cannot create database file: %s",
                       strerror(errno));
  close(fd);
  return MV_OK;
}

static int sq_open(const char *location, const struct mv_clock *clock,
                   struct mv__crypt *crypt, const struct mv_store_opts *opts,
                   struct mv_store_backend **out_be, struct mv_diag *diag) {
  char path[MV_LIMIT_PATH_MAX];
  struct mv_store_backend *be = NULL;
  int rc;
  if ((rc = mkdir_p(location, diag)) != MV_OK)
    return rc;
  int n = snprintf(path, sizeof(path), "%s/%s", location, DB_FILE);
  if (n < 0 || (size_t)n >= sizeof(path))
    return mv_diag_set(diag, MV_EINVAL, "store directory path is too long");
  if ((rc = precreate(path, diag)) != MV_OK)
    return rc;
  be = calloc(1, sizeof(*be));
  if (!be)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  be->clock = clock;
  be->crypt = crypt;
  rc = conn_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &be->wdb,
                 diag);
  if (rc == MV_OK)
    rc = configure_writer(be->wdb, diag);
  if (rc == MV_OK)
    rc = migrate(be, diag);
  if (rc == MV_OK && mv__crypt_key_count(crypt) > 1)
    rc = mv__sq_finish_rotation(be, diag);
  if (rc == MV_OK)
    rc = load_next_seq(be, diag);
  if (rc == MV_OK)
    rc = mv__sq_ledger_open(be, location, opts, diag);
  if (rc == MV_OK)
    rc = open_readers(be, path, diag);
  if (rc == MV_OK)
    rc = start_checkpointer(be, path, diag);
  if (rc != MV_OK)
    goto out;
  *out_be = be;
  be = NULL;
out:
  sq_close(be);
  return rc;
}

static int sq_schema_version(struct mv_store_backend *be) {
  return be->schema_version;
}

/* ---- Accounts --------------------------------------------------------------
 */

static int sq_user_put(struct mv_store_backend *be,
                       const struct mv_store_user *u, int64_t created_us) {
  sqlite3_stmt *st = be->wst[W_USER_PUT];
  mv__sq_bind_text(st, 1, u->username);
  mv__sq_bind_text(st, 2, u->role);
  mv__sq_bind_text(st, 3, u->pw_hash);
  sqlite3_bind_int(st, 4, u->disabled);
  sqlite3_bind_int64(st, 5, created_us);
  mv__sq_bind_text(st, 6, u->fhir_id);
  mv__sq_bind_text(st, 7, u->org_id);
  int rc = mv__sq_step_done(st);
  return rc == SQLITE_OK ? MV_OK : mv__sq_fail(be->wdb, rc, NULL, "user put");
}

/* Columns username, role, pw_hash, disabled, fhir_id, org_id. */
static int row_user(sqlite3_stmt *st, struct mv_store_user *u) {
  memset(u, 0, sizeof(*u));
  int err = mv__sq_copy_col(st, 0, u->username, sizeof(u->username), false);
  if (err == MV_OK)
    err = mv__sq_copy_col(st, 1, u->role, sizeof(u->role), false);
  if (err == MV_OK)
    err = mv__sq_copy_col(st, 2, u->pw_hash, sizeof(u->pw_hash), false);
  u->disabled = sqlite3_column_int(st, 3) != 0;
  if (err == MV_OK)
    err = mv__sq_copy_col(st, 4, u->fhir_id, sizeof(u->fhir_id), true);
  if (err == MV_OK)
    err = mv__sq_copy_col(st, 5, u->org_id, sizeof(u->org_id), true);
  return err;
}

static int sq_user_get(struct mv_store_backend *be, const char *username,
                       struct mv_store_user *out_user) {
  struct mv__sq_rconn *c = mv__sq_rconn_get(be);
  sqlite3_stmt *st = c->st[R_USER_GET];
  struct mv_store_user u;
  int err;
  mv__sq_bind_text(st, 1, username);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    err = MV_ENOTFOUND;
  } else if (rc != SQLITE_ROW) {
    err = mv__sq_fail(c->db, rc, NULL, "user get");
  } else {
    err = row_user(st, &u);
    if (err == MV_OK)
      *out_user = u;
  }
  mv__sq_rconn_put(be, c, st);
  return err;
}

/* Accounts are fetched a page at a time and visited with no connection
 * held (as in history), so the visitor may use the store. */
#define USER_PAGE 32

static int sq_user_list(struct mv_store_backend *be, mv_store_user_fn fn,
                        void *ctx) {
  struct mv_store_user *page = malloc(USER_PAGE * sizeof(*page));
  char after[sizeof(page->username)] = "";
  int err = MV_OK, stop = 0;
  if (!page)
    return MV_ENOMEM;
  while (err == MV_OK && !stop) {
    struct mv__sq_rconn *c = mv__sq_rconn_get(be);
    sqlite3_stmt *st = c->st[R_USER_NEXT];
    size_t n = 0;
    int rc = SQLITE_OK;
    mv__sq_bind_text(st, 1, after);
    sqlite3_bind_int(st, 2, USER_PAGE);
    while (err == MV_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
      err = row_user(st, &page[n++]);
    if (err == MV_OK && rc != SQLITE_DONE)
      err = mv__sq_fail(c->db, rc, NULL, "user list");
    mv__sq_rconn_put(be, c, st);
    if (err != MV_OK || n == 0)
      break;
    for (size_t i = 0; i < n && !stop; i++)
      stop = fn(ctx, &page[i]);
    memcpy(after, page[n - 1].username, sizeof(after));
    if (n < USER_PAGE)
      break;
  }
  free(page);
  return err;
}

const struct mv_store_backend_ops mv__store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .write_batch = mv__sq_write_batch,
    .read = mv__sq_read,
    .history = mv__sq_history,
    .count = mv__sq_count,
    .search = mv__sq_search,
    .history_type = mv__sq_history_type,
    .rotate = mv__sq_rotate,
    .user_put = sq_user_put,
    .user_get = sq_user_get,
    .user_list = sq_user_list,
    .ledger_size = mv__sq_ledger_size,
    .ledger_leaves = mv__sq_ledger_leaves,
    .ledger_checkpoint = mv__sq_ledger_checkpoint,
    .ledger_add_cosignature = mv__sq_ledger_add_cosignature,
    .ledger_proof = mv__sq_ledger_proof,
    .ledger_vkey = mv__sq_ledger_vkey,
    .cursor_get = mv__sq_cursor_get,
};
