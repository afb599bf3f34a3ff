/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Surveillance data in the SQLite database (mv_store.h, "Surveillance
 * data"): aggregated case counts, alerts, run summaries and per-disease
 * settings. These are counts, not patient records, so they bypass the
 * encrypted resource path and its queue: a handle has one connection of its
 * own to the same WAL database (as the admin CLI does from another
 * process), with synchronous=FULL so a committed transaction is durable
 * before the call returns, and BEGIN IMMEDIATE so it never deadlocks with
 * the store's writer but waits for it (busy timeout).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "mv_log.h"
#include "mv_store.h"

#define EPI_DB_FILE "medverse.db"
#define EPI_BUSY_MS 10000

struct mv_store_epi {
  pthread_mutex_t mu;
  sqlite3 *db;
};

static int map_rc(int rc) {
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_DONE:
  case SQLITE_ROW:
    return MV_OK;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return MV_EBUSY;
  case SQLITE_NOMEM:
    return MV_ENOMEM;
  case SQLITE_IOERR:
  case SQLITE_FULL:
  case SQLITE_CANTOPEN:
    return MV_EIO;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return MV_ECORRUPT;
  case SQLITE_CONSTRAINT:
    return MV_EINVAL;
  default:
    return MV_EDB;
  }
}

static int fail(sqlite3 *db, int rc, const char *what) {
  MV_LOG_WARN("store", "surveillance %s: %s", what, sqlite3_errmsg(db));
  return map_rc(rc);
}

bool mv_store_epi_name_ok(const char *s) {
  if (!s)
    return false;
  size_t n = strnlen(s, MV_STORE_EPI_NAME + 1);
  if (n == 0 || n > MV_STORE_EPI_NAME)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return false;
  return true;
}

/* "sqlite:DIR" or "DIR" -> "DIR/medverse.db". */
static int db_path(const char *url, char *out, size_t cap) {
  const char *dir = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
  if (!*dir || (dir == url && strchr(url, ':') != NULL)) /* other scheme */
    return MV_EINVAL;
  int n = snprintf(out, cap, "%s/%s", dir, EPI_DB_FILE);
  return n < 0 || (size_t)n >= cap ? MV_EINVAL : MV_OK;
}

int mv_store_epi_open(const char *url, struct mv_store_epi **out,
                      struct mv_diag *diag) {
  char path[MV_LIMIT_PATH_MAX];
  struct mv_store_epi *e = NULL;
  sqlite3_stmt *st = NULL;
  int rc;
  if (!url || !out)
    return mv_diag_set(diag, MV_EINVAL, "no store url");
  if (db_path(url, path, sizeof(path)) != MV_OK)
    return mv_diag_set(diag, MV_EINVAL, "bad store url");
  if (!(e = calloc(1, sizeof(*e))))
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  pthread_mutex_init(&e->mu, NULL);
  rc = sqlite3_open_v2(path, &e->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    rc = mv_diag_set(diag, map_rc(rc), "cannot open %s: %s", path,
                     e->db ? sqlite3_errmsg(e->db) : "out of memory");
    goto out;
  }
  sqlite3_extended_result_codes(e->db, 1);
  sqlite3_busy_timeout(e->db, EPI_BUSY_MS);
  /* synchronous is per connection: FULL makes each COMMIT durable. */
  rc = sqlite3_exec(e->db, "PRAGMA synchronous=FULL; PRAGMA secure_delete=ON",
                    NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    rc = mv_diag_set(diag, map_rc(rc), "cannot configure %s", path);
    goto out;
  }
  rc = sqlite3_prepare_v2(e->db,
                          "SELECT count(*) FROM sqlite_master WHERE type = "
                          "'table' AND name IN ('epi_counts', 'epi_alerts', "
                          "'epi_summary', 'epi_diseases')",
                          -1, &st, NULL);
  if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
      sqlite3_column_int(st, 0) == 4)
    rc = MV_OK;
  else
    rc = mv_diag_set(diag, MV_ECONFIG,
                     "the database has no surveillance tables (open the "
                     "store first)");
  sqlite3_finalize(st);
  if (rc != MV_OK)
    goto out;
  *out = e;
  e = NULL;
out:
  mv_store_epi_close(e);
  return rc;
}

void mv_store_epi_close(struct mv_store_epi *e) {
  if (!e)
    return;
  sqlite3_close(e->db);
  pthread_mutex_destroy(&e->mu);
  free(e);
}

/* ---- helpers ---------------------------------------------------------- */

static int prep(struct mv_store_epi *e, const char *sql, sqlite3_stmt **st) {
  int rc = sqlite3_prepare_v2(e->db, sql, -1, st, NULL);
  return rc == SQLITE_OK ? MV_OK : fail(e->db, rc, "prepare");
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
  sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void bind_real_or_null(sqlite3_stmt *st, int i, double v) {
  if (isfinite(v))
    sqlite3_bind_double(st, i, v);
  else
    sqlite3_bind_null(st, i);
}

static double col_real_or_nan(sqlite3_stmt *st, int i) {
  return sqlite3_column_type(st, i) == SQLITE_NULL
             ? NAN
             : sqlite3_column_double(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? (const char *)t : "";
}

static int exec(struct mv_store_epi *e, const char *sql) {
  int rc = sqlite3_exec(e->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? MV_OK : fail(e->db, rc, sql);
}

static int begin(struct mv_store_epi *e) {
  return exec(e, "BEGIN IMMEDIATE");
}

static int finish(struct mv_store_epi *e, int rc) {
  if (rc == MV_OK)
    rc = exec(e, "COMMIT");
  if (rc != MV_OK && !sqlite3_get_autocommit(e->db))
    (void)sqlite3_exec(e->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

/* ---- counts ------------------------------------------------------------ */

int mv_store_epi_put_counts(struct mv_store_epi *e,
                            const struct mv_store_epi_count *c, size_t n,
                            int64_t now_us, size_t *out_replaced) {
  sqlite3_stmt *old = NULL, *put = NULL;
  size_t replaced = 0;
  int rc;
  if (!e || (!c && n))
    return MV_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!mv_store_epi_name_ok(c[i].site) ||
        !mv_store_epi_name_ok(c[i].region) ||
        !mv_store_epi_name_ok(c[i].disease) || c[i].observed < 0)
      return MV_EINVAL;
  pthread_mutex_lock(&e->mu);
  if ((rc = begin(e)) != MV_OK)
    goto out;
  if ((rc = prep(e,
                 "SELECT observed, population FROM epi_counts WHERE region = "
                 "?1 AND disease = ?2 AND day = ?3 AND site = ?4",
                 &old)) != MV_OK ||
      (rc = prep(e,
                 "INSERT OR REPLACE INTO epi_counts(region, disease, day, "
                 "site, observed, population, updated_us) VALUES (?1, ?2, "
                 "?3, ?4, ?5, ?6, ?7)",
                 &put)) != MV_OK)
    goto out;
  for (size_t i = 0; i < n && rc == MV_OK; i++) {
    bind_text(old, 1, c[i].region);
    bind_text(old, 2, c[i].disease);
    sqlite3_bind_int(old, 3, c[i].day);
    bind_text(old, 4, c[i].site);
    int s = sqlite3_step(old);
    if (s == SQLITE_ROW) {
      double pop = col_real_or_nan(old, 1);
      bool same_pop =
          (isnan(pop) && !isfinite(c[i].population)) || pop == c[i].population;
      if (sqlite3_column_int64(old, 0) != c[i].observed || !same_pop)
        replaced++;
    } else if (s != SQLITE_DONE) {
      rc = fail(e->db, s, "read count");
    }
    sqlite3_reset(old);
    if (rc != MV_OK)
      break;
    bind_text(put, 1, c[i].region);
    bind_text(put, 2, c[i].disease);
    sqlite3_bind_int(put, 3, c[i].day);
    bind_text(put, 4, c[i].site);
    sqlite3_bind_int64(put, 5, c[i].observed);
    bind_real_or_null(put, 6, c[i].population);
    sqlite3_bind_int64(put, 7, now_us);
    s = sqlite3_step(put);
    if (s != SQLITE_DONE)
      rc = fail(e->db, s, "write count");
    sqlite3_reset(put);
  }
out:
  sqlite3_finalize(old);
  sqlite3_finalize(put);
  rc = finish(e, rc);
  pthread_mutex_unlock(&e->mu);
  if (rc == MV_OK && out_replaced)
    *out_replaced = replaced;
  return rc;
}

int mv_store_epi_series(struct mv_store_epi *e, const char *region,
                        const char *disease, mv_store_epi_day_fn fn,
                        void *ctx) {
  sqlite3_stmt *st = NULL;
  int rc, s;
  if (!e || !fn || !mv_store_epi_name_ok(region) ||
      !mv_store_epi_name_ok(disease))
    return MV_EINVAL;
  pthread_mutex_lock(&e->mu);
  if ((rc = prep(e,
                 "SELECT day, sum(observed), sum(population) FROM epi_counts "
                 "WHERE region = ?1 AND disease = ?2 GROUP BY day ORDER BY "
                 "day",
                 &st)) != MV_OK)
    goto out;
  bind_text(st, 1, region);
  bind_text(st, 2, disease);
  while ((s = sqlite3_step(st)) == SQLITE_ROW)
    if (fn(ctx, sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1),
           col_real_or_nan(st, 2)))
      break;
  if (s != SQLITE_ROW && s != SQLITE_DONE)
    rc = fail(e->db, s, "read series");
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&e->mu);
  return rc;
}

int mv_store_epi_keys(struct mv_store_epi *e, const char *disease,
                      mv_store_epi_key_fn fn, void *ctx) {
  sqlite3_stmt *st = NULL;
  int rc, s;
  if (!e || !fn || (disease && !mv_store_epi_name_ok(disease)))
    return MV_EINVAL;
  pthread_mutex_lock(&e->mu);
  if ((rc = prep(e,
                 "SELECT region, disease, count(DISTINCT day), min(day), "
                 "max(day) FROM epi_counts WHERE ?1 IS NULL OR disease = ?1 "
                 "GROUP BY disease, region ORDER BY disease, region",
                 &st)) != MV_OK)
    goto out;
  if (disease)
    bind_text(st, 1, disease);
  while ((s = sqlite3_step(st)) == SQLITE_ROW)
    if (fn(ctx, col_text(st, 0), col_text(st, 1), sqlite3_column_int64(st, 2),
           sqlite3_column_int(st, 3), sqlite3_column_int(st, 4)))
      break;
  if (s != SQLITE_ROW && s != SQLITE_DONE)
    rc = fail(e->db, s, "list series");
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&e->mu);
  return rc;
}

int mv_store_epi_cells(struct mv_store_epi *e, const char *disease,
                       int32_t from_day, int32_t to_day,
                       mv_store_epi_cell_fn fn, void *ctx) {
  sqlite3_stmt *st = NULL;
  int rc, s;
  if (!e || !fn || !mv_store_epi_name_ok(disease))
    return MV_EINVAL;
  pthread_mutex_lock(&e->mu);
  if ((rc = prep(e,
                 "SELECT region, day, sum(observed) FROM epi_counts WHERE "
                 "disease = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY region, day "
                 "ORDER BY region, day",
                 &st)) != MV_OK)
    goto out;
  bind_text(st, 1, disease);
  sqlite3_bind_int(st, 2, from_day);
  sqlite3_bind_int(st, 3, to_day);
  while ((s = sqlite3_step(st)) == SQLITE_ROW)
    if (fn(ctx, col_text(st, 0), sqlite3_column_int(st, 1),
           sqlite3_column_int64(st, 2)))
      break;
  if (s != SQLITE_ROW && s != SQLITE_DONE)
    rc = fail(e->db, s, "read cells");
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&e->mu);
  return rc;
}

/* ---- runs and alerts ---------------------------------------------------- */

int mv_store_epi_save_run(struct mv_store_epi *e,
                          const struct mv_store_epi_summary *sums,
                          size_t n_sums, struct mv_store_epi_alert *alerts,
                          size_t n_alerts, int64_t now_us) {
  sqlite3_stmt *sum = NULL, *al = NULL;
  int rc, s;
  if (!e || (!sums && n_sums) || (!alerts && n_alerts))
    return MV_EINVAL;
  for (size_t i = 0; i < n_sums; i++)
    if (!mv_store_epi_name_ok(sums[i].region) ||
        !mv_store_epi_name_ok(sums[i].disease) || !sums[i].json ||
        !isfinite(sums[i].risk))
      return MV_EINVAL;
  for (size_t i = 0; i < n_alerts; i++)
    if (!mv_store_epi_name_ok(alerts[i].region) ||
        !mv_store_epi_name_ok(alerts[i].disease) ||
        !memchr(alerts[i].method, 0, sizeof(alerts[i].method)))
      return MV_EINVAL;
  pthread_mutex_lock(&e->mu);
  if ((rc = begin(e)) != MV_OK)
    goto out;
  if ((rc = prep(e,
                 "INSERT OR REPLACE INTO epi_summary(region, disease, run_us, "
                 "risk, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                 &sum)) != MV_OK ||
      (rc = prep(e,
                 "INSERT OR IGNORE INTO epi_alerts(region, disease, day, "
                 "method, observed, upperbound, created_us) VALUES (?1, ?2, "
                 "?3, ?4, ?5, ?6, ?7)",
                 &al)) != MV_OK)
    goto out;
  for (size_t i = 0; i < n_sums && rc == MV_OK; i++) {
    bind_text(sum, 1, sums[i].region);
    bind_text(sum, 2, sums[i].disease);
    sqlite3_bind_int64(sum, 3, now_us);
    sqlite3_bind_double(sum, 4, sums[i].risk);
    bind_text(sum, 5, sums[i].json);
    if ((s = sqlite3_step(sum)) != SQLITE_DONE)
      rc = fail(e->db, s, "write summary");
    sqlite3_reset(sum);
  }
  for (size_t i = 0; i < n_alerts && rc == MV_OK; i++) {
    struct mv_store_epi_alert *a = &alerts[i];
    bind_text(al, 1, a->region);
    bind_text(al, 2, a->disease);
    sqlite3_bind_int(al, 3, a->day);
    bind_text(al, 4, a->method);
    sqlite3_bind_int64(al, 5, a->observed);
    bind_real_or_null(al, 6, a->upperbound);
    sqlite3_bind_int64(al, 7, now_us);
    if ((s = sqlite3_step(al)) != SQLITE_DONE)
      rc = fail(e->db, s, "write alert");
    else if (sqlite3_changes(e->db) == 1) {
      a->id = sqlite3_last_insert_rowid(e->db);
      a->created_us = now_us;
    } else {
      a->id = 0; /* raised before */
    }
    sqlite3_reset(al);
  }
out:
  sqlite3_finalize(sum);
  sqlite3_finalize(al);
  rc = finish(e, rc);
  pthread_mutex_unlock(&e->mu);
  return rc;
}

int mv_store_epi_summaries(struct mv_store_epi *e, const char *disease,
                           mv_store_epi_summary_fn fn, void *ctx) {
  sqlite3_stmt *st = NULL;
  int rc, s;
  if (!e || !fn || (disease && !mv_store_epi_name_ok(disease)))
    return MV_EINVAL;
  pthread_mutex_lock(&e->mu);
  if ((rc = prep(e,
                 "SELECT region, disease, risk, run_us, body FROM epi_summary "
                 "WHERE ?1 IS NULL OR disease = ?1 ORDER BY risk DESC, "
                 "disease, region",
                 &st)) != MV_OK)
    goto out;
  if (disease)
    bind_text(st, 1, disease);
  while ((s = sqlite3_step(st)) == SQLITE_ROW)
    if (fn(ctx, col_text(st, 0), col_text(st, 1), sqlite3_column_double(st, 2),
           sqlite3_column_int64(st, 3), col_text(st, 4)))
      break;
  if (s != SQLITE_ROW && s != SQLITE_DONE)
    rc = fail(e->db, s, "read summaries");
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&e->mu);
  return rc;
}

#define ALERT_COLS                                                             \
  "id, region, disease, day, method, observed, upperbound, created_us, "       \
  "acked_by, acked_us"

static void row_alert(sqlite3_stmt *st, struct mv_store_epi_alert *a) {
  memset(a, 0, sizeof(*a));
  a->id = sqlite3_column_int64(st, 0);
  snprintf(a->region, sizeof(a->region), "%s", col_text(st, 1));
  snprintf(a->disease, sizeof(a->disease), "%s", col_text(st, 2));
  a->day = sqlite3_column_int(st, 3);
  snprintf(a->method, sizeof(a->method), "%s", col_text(st, 4));
  a->observed = sqlite3_column_int64(st, 5);
  a->upperbound = col_real_or_nan(st, 6);
  a->created_us = sqlite3_column_int64(st, 7);
  snprintf(a->acked_by, sizeof(a->acked_by), "%s", col_text(st, 8));
  a->acked_us = sqlite3_column_int64(st, 9);
}

int mv_store_epi_alerts(struct mv_store_epi *e, bool open_only, unsigned limit,
                        mv_store_epi_alert_fn fn, void *ctx) {
  sqlite3_stmt *st = NULL;
  struct mv_store_epi_alert a;
  int rc, s;
  if (!e || !fn || limit == 0 || limit > MV_LIMIT_EPI_SRV_ALERTS)
    return MV_EINVAL;
  pthread_mutex_lock(&e->mu);
  if ((rc = prep(e,
                 "SELECT " ALERT_COLS " FROM epi_alerts WHERE ?1 = 0 OR "
                 "acked_us = 0 ORDER BY id DESC LIMIT ?2",
                 &st)) != MV_OK)
    goto out;
  sqlite3_bind_int(st, 1, open_only ? 1 : 0);
  sqlite3_bind_int(st, 2, (int)limit);
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    row_alert(st, &a);
    if (fn(ctx, &a))
      break;
  }
  if (s != SQLITE_ROW && s != SQLITE_DONE)
    rc = fail(e->db, s, "read alerts");
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&e->mu);
  return rc;
}

int mv_store_epi_alert_ack(struct mv_store_epi *e, int64_t id, const char *by,
                           int64_t now_us, struct mv_store_epi_alert *out) {
  sqlite3_stmt *up = NULL, *get = NULL;
  int rc, s;
  if (!e || !mv_store_epi_name_ok(by) || now_us <= 0)
    return MV_EINVAL;
  pthread_mutex_lock(&e->mu);
  if ((rc = begin(e)) != MV_OK)
    goto out;
  if ((rc = prep(e,
                 "UPDATE epi_alerts SET acked_by = ?2, acked_us = ?3 WHERE "
                 "id = ?1 AND acked_us = 0",
                 &up)) != MV_OK ||
      (rc = prep(e, "SELECT " ALERT_COLS " FROM epi_alerts WHERE id = ?1",
                 &get)) != MV_OK)
    goto out;
  sqlite3_bind_int64(up, 1, id);
  bind_text(up, 2, by);
  sqlite3_bind_int64(up, 3, now_us);
  if ((s = sqlite3_step(up)) != SQLITE_DONE) {
    rc = fail(e->db, s, "acknowledge alert");
    goto out;
  }
  sqlite3_bind_int64(get, 1, id);
  s = sqlite3_step(get);
  if (s == SQLITE_ROW) {
    if (out)
      row_alert(get, out);
  } else if (s == SQLITE_DONE) {
    rc = MV_ENOTFOUND;
  } else {
    rc = fail(e->db, s, "read alert");
  }
out:
  sqlite3_finalize(up);
  sqlite3_finalize(get);
  rc = finish(e, rc);
  pthread_mutex_unlock(&e->mu);
  return rc;
}

/* ---- per-disease settings ------------------------------------------------ */

int mv_store_epi_disease_put(struct mv_store_epi *e, const char *disease,
                             double si_mean, double si_sd, int64_t now_us) {
  sqlite3_stmt *st = NULL;
  int rc, s;
  if (!e || !mv_store_epi_name_ok(disease) || !isfinite(si_mean) ||
      !isfinite(si_sd) || si_mean <= 0 || si_sd <= 0)
    return MV_EINVAL;
  pthread_mutex_lock(&e->mu);
  if ((rc = begin(e)) != MV_OK)
    goto out;
  if ((rc = prep(e,
                 "INSERT OR REPLACE INTO epi_diseases(disease, si_mean, "
                 "si_sd, updated_us) VALUES (?1, ?2, ?3, ?4)",
                 &st)) != MV_OK)
    goto out;
  bind_text(st, 1, disease);
  sqlite3_bind_double(st, 2, si_mean);
  sqlite3_bind_double(st, 3, si_sd);
  sqlite3_bind_int64(st, 4, now_us);
  if ((s = sqlite3_step(st)) != SQLITE_DONE)
    rc = fail(e->db, s, "write disease");
out:
  sqlite3_finalize(st);
  rc = finish(e, rc);
  pthread_mutex_unlock(&e->mu);
  return rc;
}

int mv_store_epi_disease_get(struct mv_store_epi *e, const char *disease,
                             double *out_si_mean, double *out_si_sd) {
  sqlite3_stmt *st = NULL;
  int rc, s;
  if (!e || !mv_store_epi_name_ok(disease) || !out_si_mean || !out_si_sd)
    return MV_EINVAL;
  pthread_mutex_lock(&e->mu);
  if ((rc =
           prep(e, "SELECT si_mean, si_sd FROM epi_diseases WHERE disease = ?1",
                &st)) != MV_OK)
    goto out;
  bind_text(st, 1, disease);
  s = sqlite3_step(st);
  if (s == SQLITE_ROW) {
    *out_si_mean = sqlite3_column_double(st, 0);
    *out_si_sd = sqlite3_column_double(st, 1);
  } else if (s == SQLITE_DONE) {
    rc = MV_ENOTFOUND;
  } else {
    rc = fail(e->db, s, "read disease");
  }
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&e->mu);
  return rc;
}
