/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend of the store: one file DIR/medverse.db in WAL mode with
 * synchronous=FULL, so a committed batch survives power loss. One write
 * connection (used only under the generic layer's write lock) and a small
 * pool of read connections, so reads on other threads run concurrently with
 * the writer (WAL readers see the last committed snapshot). The schema is
 * versioned by PRAGMA user_version and migrated forward at open; a database
 * newer than this binary is refused. All statements are prepared once and
 * every value is bound, never formatted into SQL.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mv_limits.h"
#include "mv_log.h"
#include "store_int.h"

#define DB_FILE "medverse.db"
#define READ_CONNS 4
#define BUSY_TIMEOUT_MS 5000

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
};
#define SCHEMA_VERSION ((int)MV_ARRAY_LEN(migrations))

enum wstmt {
  W_BEGIN,
  W_COMMIT,
  W_ROLLBACK,
  W_SAVEPOINT,
  W_RELEASE,
  W_ROLLBACK_TO,
  W_CURRENT,
  W_INSERT,
  W_SET_CURRENT,
  W_USER_PUT,
  W_N
};
static const char *const wsql[W_N] = {
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_SAVEPOINT] = "SAVEPOINT w",
    [W_RELEASE] = "RELEASE w",
    [W_ROLLBACK_TO] = "ROLLBACK TO w",
    [W_CURRENT] = "SELECT version, deleted, seq, updated_us"
                  " FROM resource_current WHERE type = ?1 AND id = ?2",
    [W_INSERT] = "INSERT INTO resources(type, id, version, deleted,"
                 " updated_us, seq, patient_id, code, date_us, status, body)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [W_SET_CURRENT] =
        "INSERT INTO resource_current(type, id, version, deleted, seq,"
        " updated_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT(type, id) DO UPDATE SET version = excluded.version,"
        " deleted = excluded.deleted, seq = excluded.seq,"
        " updated_us = excluded.updated_us",
    [W_USER_PUT] = "INSERT INTO users(username, role, pw_hash, disabled,"
                   " created_us) VALUES (?1, ?2, ?3, ?4, ?5)"
                   " ON CONFLICT(username) DO UPDATE SET role = excluded.role,"
                   " pw_hash = excluded.pw_hash, disabled = excluded.disabled",
};

enum rstmt { R_LATEST, R_VERSION, R_OLDER, R_COUNT, R_USER_GET, R_N };
static const char *const rsql[R_N] = {
    [R_LATEST] = "SELECT r.version, r.updated_us, r.deleted, r.body"
                 " FROM resource_current c JOIN resources r"
                 " ON r.type = c.type AND r.id = c.id AND r.version = c.version"
                 " WHERE c.type = ?1 AND c.id = ?2",
    [R_VERSION] = "SELECT version, updated_us, deleted, body FROM resources"
                  " WHERE type = ?1 AND id = ?2 AND version = ?3",
    /* The newest version below ?3: history walks down one row at a time. */
    [R_OLDER] = "SELECT version, updated_us, deleted, body FROM resources"
                " WHERE type = ?1 AND id = ?2 AND version < ?3"
                " ORDER BY version DESC LIMIT 1",
    [R_COUNT] = "SELECT COUNT(*) FROM resource_current"
                " WHERE type = ?1 AND deleted = 0",
    [R_USER_GET] = "SELECT role, pw_hash, disabled FROM users"
                   " WHERE username = ?1",
};

struct rconn {
  sqlite3 *db;
  sqlite3_stmt *st[R_N];
  bool busy;
};

struct mv_store_backend {
  const struct mv_clock *clock;
  sqlite3 *wdb;
  sqlite3_stmt *wst[W_N];
  int64_t next_seq; /* seq of the next successful write (writer only) */
  int schema_version;
  pthread_mutex_t rmu; /* guards the busy flags of the read pool */
  pthread_cond_t rcv;
  bool rsync_init;
  struct rconn r[READ_CONNS];
};

/* The state of a resource before a write, from resource_current. */
struct current {
  bool found;
  bool deleted;
  int64_t version, seq, updated_us;
};

/* ---- Errors ----------------------------------------------------------------
 */

static int map_rc(int rc) {
  switch (rc & 0xff) {
  case SQLITE_NOMEM:
    return MV_ENOMEM;
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

/* Errors after which the write transaction cannot be trusted to continue. */
static bool rc_is_fatal(int rc) {
  int p = rc & 0xff;
  return p == SQLITE_IOERR || p == SQLITE_FULL || p == SQLITE_NOMEM ||
         p == SQLITE_CORRUPT || p == SQLITE_NOTADB;
}

/* Record a SQLite failure in diag and the log; returns the mv_err. SQLite's
 * messages name tables and columns, never the values bound. */
static int db_fail(sqlite3 *db, int rc, struct mv_diag *diag,
                   const char *what) {
  int err = map_rc(rc);
  MV_LOG_ERROR("store", "sqlite %s failed: %s (sqlite code %d)", what,
               sqlite3_errstr(rc), rc);
  mv_diag_set(diag, err, "sqlite %s: %s (code %d)", what,
              db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
  return err;
}

/* Step a statement that returns no row to completion and reset it. */
static int step_done(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v) {
  return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC)
           : sqlite3_bind_null(st, i);
}

/* ---- Opening
 * ----------------------------------------------------------------- */

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
    int err = db_fail(db, rc, diag, "open");
    sqlite3_close(db);
    return err;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
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
  return rc == SQLITE_OK ? MV_OK : db_fail(db, rc, diag, sql);
}

static int exec_sql(sqlite3 *db, const char *sql, struct mv_diag *diag) {
  int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? MV_OK : db_fail(db, rc, diag, "exec");
}

static int configure_writer(sqlite3 *db, struct mv_diag *diag) {
  char mode[16];
  int rc = pragma_text(db, "PRAGMA journal_mode=WAL", mode, sizeof(mode), diag);
  if (rc != MV_OK)
    return rc;
  if (strcmp(mode, "wal") != 0)
    return mv_diag_set(diag, MV_EDB, "cannot enable WAL (journal mode %s)",
                       mode);
  if ((rc = exec_sql(db, "PRAGMA synchronous=FULL", diag)) != MV_OK)
    return rc;
  return exec_sql(db, "PRAGMA foreign_keys=ON", diag);
}

static int apply_migrations(struct mv_store_backend *be, int from,
                            struct mv_diag *diag) {
  sqlite3_stmt *st = NULL;
  char sql[64];
  int rc = MV_OK;
  for (int v = from + 1; v <= SCHEMA_VERSION && rc == MV_OK; v++)
    rc = exec_sql(be->wdb, migrations[v - 1], diag);
  if (rc != MV_OK)
    goto out;
  int src = sqlite3_prepare_v2(be->wdb,
                               "INSERT INTO schema_migrations(version,"
                               " applied_at) VALUES (?1, ?2)",
                               -1, &st, NULL);
  for (int v = from + 1; v <= SCHEMA_VERSION && src == SQLITE_OK; v++) {
    sqlite3_bind_int(st, 1, v);
    sqlite3_bind_int64(st, 2, mv_clock_now_us(be->clock));
    src = step_done(st);
  }
  if (src != SQLITE_OK) {
    rc = db_fail(be->wdb, src, diag, "record migration");
    goto out;
  }
  /* PRAGMA takes no bound parameters; the value is our own constant. */
  snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_VERSION);
  rc = exec_sql(be->wdb, sql, diag);
out:
  sqlite3_finalize(st);
  return rc;
}

/* Bring the schema to SCHEMA_VERSION in one transaction. */
static int migrate(struct mv_store_backend *be, struct mv_diag *diag) {
  char buf[32];
  int rc = exec_sql(be->wdb, "BEGIN IMMEDIATE", diag);
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
  if ((rc = exec_sql(be->wdb, "COMMIT", diag)) != MV_OK)
    goto out;
  if (have < SCHEMA_VERSION) /* only once the migration is durable */
    MV_LOG_INFO("store", "migrated schema from version %d to %d", have,
                SCHEMA_VERSION);
out:
  if (rc != MV_OK && !sqlite3_get_autocommit(be->wdb))
    sqlite3_exec(be->wdb, "ROLLBACK", NULL, NULL, NULL);
  if (rc == MV_OK)
    be->schema_version = SCHEMA_VERSION;
  return rc;
}

static int prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **st,
                       size_t n, struct mv_diag *diag) {
  for (size_t i = 0; i < n; i++) {
    int rc = sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &st[i], NULL);
    if (rc != SQLITE_OK)
      return db_fail(db, rc, diag, "prepare");
  }
  return MV_OK;
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
  return rc == SQLITE_OK ? MV_OK : db_fail(be->wdb, rc, diag, "load seq");
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
  for (int i = 0; i < READ_CONNS; i++) {
    struct rconn *c = &be->r[i];
    int rc = conn_open(path, SQLITE_OPEN_READWRITE, &c->db, diag);
    if (rc == MV_OK)
      rc = exec_sql(c->db, "PRAGMA query_only=ON", diag);
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

static void sq_close(struct mv_store_backend *be) {
  if (!be)
    return;
  for (int i = 0; i < READ_CONNS; i++)
    conn_close(be->r[i].db, be->r[i].st, R_N);
  conn_close(be->wdb, be->wst, W_N); /* last: checkpoints the WAL */
  if (be->rsync_init) {
    pthread_cond_destroy(&be->rcv);
    pthread_mutex_destroy(&be->rmu);
  }
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
  rc = conn_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &be->wdb,
                 diag);
  if (rc == MV_OK)
    rc = configure_writer(be->wdb, diag);
  if (rc == MV_OK)
    rc = migrate(be, diag);
  if (rc == MV_OK)
    rc = prepare_all(be->wdb, wsql, be->wst, W_N, diag);
  if (rc == MV_OK)
    rc = load_next_seq(be, diag);
  if (rc == MV_OK)
    rc = open_readers(be, path, diag);
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

/* ---- Writes
 * ------------------------------------------------------------------ */

static int load_current(struct mv_store_backend *be, const char *type,
                        const char *id, struct current *cur) {
  sqlite3_stmt *st = be->wst[W_CURRENT];
  memset(cur, 0, sizeof(*cur));
  bind_text(st, 1, type);
  bind_text(st, 2, id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    cur->found = true;
    cur->version = sqlite3_column_int64(st, 0);
    cur->deleted = sqlite3_column_int(st, 1) != 0;
    cur->seq = sqlite3_column_int64(st, 2);
    cur->updated_us = sqlite3_column_int64(st, 3);
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
                       const struct current *cur) {
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

static int insert_version(struct mv_store_backend *be,
                          const struct mv__store_item *it, int64_t version,
                          int64_t seq) {
  const struct mv_store_write *w = &it->w;
  bool del = w->op == MV_STORE_DELETE;
  sqlite3_stmt *st = be->wst[W_INSERT];
  bind_text(st, 1, w->type);
  bind_text(st, 2, w->id);
  sqlite3_bind_int64(st, 3, version);
  sqlite3_bind_int(st, 4, del);
  sqlite3_bind_int64(st, 5, it->updated_us);
  sqlite3_bind_int64(st, 6, seq);
  bind_text(st, 7, w->patient_id);
  bind_text(st, 8, w->code);
  if (w->date_us == MV_STORE_NO_DATE)
    sqlite3_bind_null(st, 9);
  else
    sqlite3_bind_int64(st, 9, w->date_us);
  bind_text(st, 10, w->status);
  if (del)
    sqlite3_bind_null(st, 11);
  else
    sqlite3_bind_blob64(st, 11, w->body, w->body_len, SQLITE_STATIC);
  int rc = step_done(st);
  if (rc != SQLITE_OK)
    return rc;

  st = be->wst[W_SET_CURRENT];
  bind_text(st, 1, w->type);
  bind_text(st, 2, w->id);
  sqlite3_bind_int64(st, 3, version);
  sqlite3_bind_int(st, 4, del);
  sqlite3_bind_int64(st, 5, seq);
  sqlite3_bind_int64(st, 6, it->updated_us);
  return step_done(st);
}

/*
 * Apply one write inside the batch transaction. Rule violations (exists,
 * conflict, not found) are found by reading resource_current first, so they
 * touch nothing. The two statements of a write run under a SAVEPOINT, so an
 * unexpected SQL error in one write is undone alone and fails only that
 * write. Returns non-OK only when the whole transaction is lost.
 */
static int apply_one(struct mv_store_backend *be, struct mv__store_item *it) {
  struct current cur;
  int rc = load_current(be, it->w.type, it->w.id, &cur);
  if (rc != SQLITE_OK)
    return db_fail(be->wdb, rc, NULL, "read current version");
  it->status = check_write(&it->w, &cur);
  if (it->status != MV_OK)
    return MV_OK;
  if (it->w.op == MV_STORE_DELETE && cur.deleted) {
    /* Deleting a deleted resource succeeds and records nothing (FHIR). */
    it->res.version = cur.version;
    it->res.seq = cur.seq;
    it->res.updated_us = cur.updated_us;
    return MV_OK;
  }
  int64_t version = cur.found ? cur.version + 1 : 1;
  int64_t seq = be->next_seq;
  if ((rc = step_done(be->wst[W_SAVEPOINT])) == SQLITE_OK)
    rc = insert_version(be, it, version, seq);
  if (rc != SQLITE_OK) {
    if (rc_is_fatal(rc) || sqlite3_get_autocommit(be->wdb))
      return db_fail(be->wdb, rc, NULL, "write");
    int err = db_fail(be->wdb, rc, NULL, "write (this write only)");
    step_done(be->wst[W_ROLLBACK_TO]);
    step_done(be->wst[W_RELEASE]);
    it->status = err;
    return MV_OK;
  }
  if ((rc = step_done(be->wst[W_RELEASE])) != SQLITE_OK)
    return db_fail(be->wdb, rc, NULL, "release savepoint");
  be->next_seq++;
  it->res.version = version;
  it->res.seq = seq;
  it->res.updated_us = it->updated_us;
  return MV_OK;
}

static int sq_write_batch(struct mv_store_backend *be,
                          struct mv__store_item **items, size_t n) {
  int64_t seq0 = be->next_seq;
  int rc = step_done(be->wst[W_BEGIN]);
  if (rc != SQLITE_OK)
    return db_fail(be->wdb, rc, NULL, "begin");
  int err = MV_OK;
  for (size_t i = 0; i < n && err == MV_OK; i++)
    err = apply_one(be, items[i]);
  if (err == MV_OK && (rc = step_done(be->wst[W_COMMIT])) != SQLITE_OK)
    err = db_fail(be->wdb, rc, NULL, "commit");
  if (err != MV_OK) {
    if (!sqlite3_get_autocommit(be->wdb))
      step_done(be->wst[W_ROLLBACK]);
    be->next_seq = seq0;
  }
  return err;
}

static int sq_user_put(struct mv_store_backend *be,
                       const struct mv_store_user *u, int64_t created_us) {
  sqlite3_stmt *st = be->wst[W_USER_PUT];
  bind_text(st, 1, u->username);
  bind_text(st, 2, u->role);
  bind_text(st, 3, u->pw_hash);
  sqlite3_bind_int(st, 4, u->disabled);
  sqlite3_bind_int64(st, 5, created_us);
  int rc = step_done(st);
  return rc == SQLITE_OK ? MV_OK : db_fail(be->wdb, rc, NULL, "user put");
}

/* ---- Reads
 * ------------------------------------------------------------------- */

static struct rconn *rconn_get(struct mv_store_backend *be) {
  struct rconn *c = NULL;
  pthread_mutex_lock(&be->rmu);
  for (;;) {
    for (int i = 0; i < READ_CONNS && !c; i++)
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

/* Reset the statement (ending its read snapshot) and return the connection. */
static void rconn_put(struct mv_store_backend *be, struct rconn *c,
                      sqlite3_stmt *st) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  pthread_mutex_lock(&be->rmu);
  c->busy = false;
  pthread_cond_signal(&be->rcv);
  pthread_mutex_unlock(&be->rmu);
}

/* Columns version, updated_us, deleted, body of the current row, borrowed:
 * body points into SQLite's row buffer, valid until the next step. */
static void row_record(sqlite3_stmt *st, struct mv_store_record *r) {
  r->version = sqlite3_column_int64(st, 0);
  r->updated_us = sqlite3_column_int64(st, 1);
  r->deleted = sqlite3_column_int(st, 2) != 0;
  /* column_text adds a NUL after BLOB bytes too. The cast is for the
   * visitor's const record; nobody writes through it. */
  r->body = (char *)sqlite3_column_text(st, 3);
  r->body_len = r->body ? (size_t)sqlite3_column_bytes(st, 3) : 0;
}

static int sq_read(struct mv_store_backend *be, const char *type,
                   const char *id, int64_t version,
                   struct mv_store_record *out_rec) {
  struct rconn *c = rconn_get(be);
  sqlite3_stmt *st = c->st[version ? R_VERSION : R_LATEST];
  struct mv_store_record rec;
  int err;
  bind_text(st, 1, type);
  bind_text(st, 2, id);
  if (version)
    sqlite3_bind_int64(st, 3, version);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    err = MV_ENOTFOUND;
  } else if (rc != SQLITE_ROW) {
    err = db_fail(c->db, rc, NULL, "read");
  } else {
    row_record(st, &rec);
    err = MV_OK;
    if (rec.body) {
      char *copy = malloc(rec.body_len + 1);
      if (copy) {
        memcpy(copy, rec.body, rec.body_len + 1);
      } else {
        err = MV_ENOMEM;
      }
      rec.body = copy;
    }
    if (err == MV_OK && rec.deleted) {
      rec.body_len = 0;
      if (version == 0)
        err = MV_EGONE;
    }
    if (err == MV_OK || err == MV_EGONE)
      *out_rec = rec;
  }
  rconn_put(be, c, st);
  return err;
}

/*
 * The visitor runs with no read connection held: each version is fetched by
 * its own short query and copied first. Holding a connection (and its read
 * snapshot) across the visitor would let READ_CONNS slow or re-entrant
 * visitors (one that reads the store, or waits for another reader) deadlock
 * the pool, and would pin the WAL against checkpoints. Versions are never
 * changed once written, so walking down from the newest stays consistent.
 */
static int sq_history(struct mv_store_backend *be, const char *type,
                      const char *id, unsigned limit, mv_store_visit_fn fn,
                      void *ctx) {
  int64_t below = INT64_MAX;
  size_t rows = 0;
  int err = MV_OK;
  while (err == MV_OK && (limit == 0 || rows < limit)) {
    struct rconn *c = rconn_get(be);
    sqlite3_stmt *st = c->st[R_OLDER];
    struct mv_store_record rec;
    bind_text(st, 1, type);
    bind_text(st, 2, id);
    sqlite3_bind_int64(st, 3, below);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      row_record(st, &rec);
      if (rec.body) {
        char *copy = malloc(rec.body_len + 1);
        if (copy)
          memcpy(copy, rec.body, rec.body_len + 1);
        else
          err = MV_ENOMEM;
        rec.body = copy;
      }
    } else if (rc != SQLITE_DONE) {
      err = db_fail(c->db, rc, NULL, "history");
    }
    rconn_put(be, c, st);
    if (err != MV_OK || rc == SQLITE_DONE)
      break;
    rows++;
    below = rec.version;
    int stop = fn(ctx, &rec);
    free(rec.body);
    if (stop != 0)
      break;
  }
  if (err == MV_OK && rows == 0)
    err = MV_ENOTFOUND;
  return err;
}

static int sq_count(struct mv_store_backend *be, const char *type,
                    int64_t *out_count) {
  struct rconn *c = rconn_get(be);
  sqlite3_stmt *st = c->st[R_COUNT];
  int err = MV_OK;
  bind_text(st, 1, type);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out_count = sqlite3_column_int64(st, 0);
  else
    err = db_fail(c->db, rc, NULL, "count");
  rconn_put(be, c, st);
  return err;
}

/* Copy a text column into a fixed field; MV_ECORRUPT if it cannot fit. */
static int copy_col(sqlite3_stmt *st, int col, char *dst, size_t size) {
  const unsigned char *t = sqlite3_column_text(st, col);
  size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
  if (!t || n >= size)
    return MV_ECORRUPT;
  memcpy(dst, t, n + 1);
  return MV_OK;
}

static int sq_user_get(struct mv_store_backend *be, const char *username,
                       struct mv_store_user *out_user) {
  struct rconn *c = rconn_get(be);
  sqlite3_stmt *st = c->st[R_USER_GET];
  struct mv_store_user u;
  int err;
  memset(&u, 0, sizeof(u));
  bind_text(st, 1, username);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    err = MV_ENOTFOUND;
  } else if (rc != SQLITE_ROW) {
    err = db_fail(c->db, rc, NULL, "user get");
  } else {
    snprintf(u.username, sizeof(u.username), "%s", username);
    err = copy_col(st, 0, u.role, sizeof(u.role));
    if (err == MV_OK)
      err = copy_col(st, 1, u.pw_hash, sizeof(u.pw_hash));
    u.disabled = sqlite3_column_int(st, 2) != 0;
    if (err == MV_OK)
      *out_user = u;
  }
  rconn_put(be, c, st);
  return err;
}

const struct mv_store_backend_ops mv__store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .write_batch = sq_write_batch,
    .read = sq_read,
    .history = sq_history,
    .count = sq_count,
    .user_put = sq_user_put,
    .user_get = sq_user_get,
};
