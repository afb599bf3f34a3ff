/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Search and type-level history in the SQLite backend. A page of results is
 * fetched and decrypted under one read connection, then visited with none
 * held, so a visitor may call the store.
 *
 * Search SQL is assembled from fixed fragments with one placeholder per
 * value, never from input text. The access path is chosen here, not left to
 * the planner (which has no statistics), and named with INDEXED BY: an
 * explicit id list uses the primary key; a patient restriction with an exact
 * system|code token and newest-first order is one range of tokens_lookup
 * (which carries patient and date), already sorted and countable without
 * touching resource_current; another patient restriction uses (type,
 * patient_id, date); a token or string condition drives through its index;
 * otherwise the index matching the sort. Other conditions are checked per
 * row (token and string conditions as EXISTS on the resource's own index
 * rows).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mv_buf.h"
#include "sqlite_int.h"

#define PK_INDEX "sqlite_autoindex_resource_current_1"
#define SQL_MAX (256u * 1024u)

/* ---- Pages of results ------------------------------------------------------ */

/* One result row, fetched under a connection and visited after it. */
struct prow {
  char id[MV_LIMIT_ID_LEN + 1];
  struct mv_store_record rec; /* body decrypted */
};

struct page {
  struct prow *rows;
  size_t n, cap;
};

static void page_release(struct page *p) {
  for (size_t i = 0; i < p->n; i++) {
    if (p->rows[i].rec.body)
      sodium_memzero(p->rows[i].rec.body, p->rows[i].rec.body_len);
    mv_store_record_release(&p->rows[i].rec);
  }
  free(p->rows);
  memset(p, 0, sizeof(*p));
}

static int page_visit(struct page *p, mv_store_search_fn fn, void *ctx) {
  for (size_t i = 0; i < p->n; i++)
    if (fn(ctx, p->rows[i].id, &p->rows[i].rec) != 0)
      break;
  return MV_OK;
}

/* ---- Search: building the SQL ------------------------------------------------ */

enum bkind { B_TEXT, B_INT, B_BLOB };
struct bindv {
  enum bkind kind;
  const void *p;
  size_t len;
  int64_t i;
};

/* A query under construction: SQL text and its values in order. */
struct qb {
  struct mv_buf sql;
  struct bindv *b;
  size_t n, cap;
  int err;
};

static void qb_sql(struct qb *q, const char *frag) {
  if (q->err == MV_OK)
    q->err = mv_buf_appends(&q->sql, frag);
}

static void qb_val(struct qb *q, struct bindv v) {
  if (q->err != MV_OK)
    return;
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 32;
    struct bindv *b = realloc(q->b, cap * sizeof(*b));
    if (!b) {
      q->err = MV_ENOMEM;
      return;
    }
    q->b = b;
    q->cap = cap;
  }
  q->b[q->n++] = v;
  qb_sql(q, "?");
}

static void qb_text(struct qb *q, const char *s) {
  qb_val(q, (struct bindv){.kind = B_TEXT, .p = s});
}

static void qb_int(struct qb *q, int64_t i) {
  qb_val(q, (struct bindv){.kind = B_INT, .i = i});
}

static void qb_blob(struct qb *q, const void *p, size_t len) {
  qb_val(q, (struct bindv){.kind = B_BLOB, .p = p, .len = len});
}

static void qb_text_list(struct qb *q, const char *const *v, size_t n) {
  qb_sql(q, "(");
  for (size_t i = 0; i < n; i++) {
    if (i)
      qb_sql(q, ", ");
    qb_text(q, v[i]);
  }
  qb_sql(q, ")");
}

static int qb_bind(struct qb *q, sqlite3_stmt *st) {
  for (size_t i = 0; i < q->n; i++) {
    int idx = (int)i + 1, rc;
    switch (q->b[i].kind) {
    case B_TEXT:
      rc = sqlite3_bind_text(st, idx, q->b[i].p, -1, SQLITE_STATIC);
      break;
    case B_INT:
      rc = sqlite3_bind_int64(st, idx, q->b[i].i);
      break;
    default:
      rc = sqlite3_bind_blob(st, idx, q->b[i].p, (int)q->b[i].len,
                             SQLITE_STATIC);
      break;
    }
    if (rc != SQLITE_OK)
      return rc;
  }
  return SQLITE_OK;
}

/* A date condition on the range [lo_col, hi_col] (FHIR R4 search
 * §3.1.1.4.2; formulas in mv_store.h). */
static void qb_date(struct qb *q, const char *lo_col, const char *hi_col,
                    const struct mv_store_date_cond *d) {
  qb_sql(q, " AND (");
  switch (d->prefix) {
  case MV_STORE_EQ:
  case MV_STORE_NE:
    if (d->prefix == MV_STORE_NE) {
      qb_sql(q, lo_col);
      qb_sql(q, " IS NOT NULL AND NOT (");
    }
    qb_sql(q, lo_col);
    qb_sql(q, " >= ");
    qb_int(q, d->lo_us);
    qb_sql(q, " AND ");
    qb_sql(q, hi_col);
    qb_sql(q, " <= ");
    qb_int(q, d->hi_us);
    if (d->prefix == MV_STORE_NE)
      qb_sql(q, ")");
    break;
  case MV_STORE_GT:
    qb_sql(q, hi_col);
    qb_sql(q, " > ");
    qb_int(q, d->hi_us);
    break;
  case MV_STORE_LT:
    qb_sql(q, lo_col);
    qb_sql(q, " < ");
    qb_int(q, d->lo_us);
    break;
  case MV_STORE_GE:
    qb_sql(q, hi_col);
    qb_sql(q, " >= ");
    qb_int(q, d->lo_us);
    break;
  case MV_STORE_LE:
    qb_sql(q, lo_col);
    qb_sql(q, " <= ");
    qb_int(q, d->hi_us);
    break;
  }
  qb_sql(q, ")");
}

/* (t.value = ? [AND t.system = ?]) OR ... */
static void qb_token_values(struct qb *q, const struct mv_store_token_cond *t) {
  qb_sql(q, "(");
  for (size_t k = 0; k < t->n_values; k++) {
    if (k)
      qb_sql(q, " OR ");
    qb_sql(q, "(t.value = ");
    qb_text(q, t->values[k].value);
    if (t->values[k].system) {
      qb_sql(q, " AND t.system = ");
      qb_text(q, t->values[k].system);
    }
    qb_sql(q, ")");
  }
  qb_sql(q, ")");
}

static void qb_hashes(struct qb *q, const uint8_t (*h)[MV__BLIND_LEN],
                      size_t n) {
  qb_sql(q, "(");
  for (size_t k = 0; k < n; k++) {
    if (k)
      qb_sql(q, ", ");
    qb_blob(q, h[k], MV__BLIND_LEN);
  }
  qb_sql(q, ")");
}

enum driver {
  D_IDS,           /* the primary key, from the _id list */
  D_PATIENT_TOKEN, /* tokens_lookup: (param, value, system, patient, date) */
  D_PATIENT,       /* rc_patient_hi / rc_patient_lo */
  D_TOKEN,         /* tokens_lookup, then the primary key */
  D_STRING,        /* strings_lookup, then the primary key */
  D_TYPE,          /* an index of resource_current matching the sort */
};

struct plan {
  enum driver driver;
  const char *index; /* INDEXED BY, NULL = planner's choice */
  const char *order; /* ORDER BY clause */
  size_t token;      /* D_PATIENT_TOKEN: the token condition driving */
  /* D_PATIENT_TOKEN from a code without a system: the systems stored with
   * that code, looked up first (resolve), then ORed. */
  bool resolve;
  size_t n_systems;
  char (*systems)[MV__STORE_INDEX_MAX + 1];
  /* The blind hashes of every string value, in condition order. */
  uint8_t (*hashes)[MV__BLIND_LEN];
  /* Per string condition: the parameter its rows are stored under. */
  char (*sparams)[MV_STORE_PARAM_MAX + 2];
};

/* A date condition the token index can bound (it holds date_hi). */
static bool date_on_token(const struct mv_store_date_cond *d) {
  return d->prefix == MV_STORE_GE || d->prefix == MV_STORE_GT;
}

/* A `patient` condition: also matched by the rows of MV__SQ_TWIN_PARAMS
 * with a Patient value, since the writer does not store a `patient` token
 * that repeats one of them (sqlite_write.c). Never the driving condition
 * (the rows it matches are not one range of tokens_lookup). */
static bool patient_cond(const struct mv_store_token_cond *t) {
  return strcmp(t->param, "patient") == 0;
}

/* Are all of a condition's values "Patient/<id>" with no system? (Only
 * those can have a `subject` twin.) */
static bool patient_values(const struct mv_store_token_cond *t) {
  for (size_t i = 0; i < t->n_values; i++)
    if ((t->values[i].system && t->values[i].system[0]) ||
        !t->values[i].value || strncmp(t->values[i].value, "Patient/", 8) != 0)
      return false;
  return true;
}

/* Is one token condition a single system|code, usable as the leading
 * columns of tokens_lookup? */
static bool exact_token(const struct mv_store_token_cond *t) {
  return t->n_values == 1 && t->values[0].system && !patient_cond(t);
}

/* no_resolve: a code without a system has too many systems to OR. The
 * plan is reset first (p->systems must be freed or NULL). */
static void choose_plan(const struct mv_store_query *q, bool no_resolve,
                        struct plan *p) {
  bool asc = q->sort == MV_STORE_SORT_DATE_ASC;
  bool newest =
      q->sort == MV_STORE_SORT_NONE || q->sort == MV_STORE_SORT_DATE_DESC;
  size_t exact = q->n_tokens, single = q->n_tokens;
  for (size_t i = 0; i < q->n_tokens; i++) {
    if (exact == q->n_tokens && exact_token(&q->tokens[i]))
      exact = i;
    if (single == q->n_tokens && q->tokens[i].n_values == 1 &&
        !patient_cond(&q->tokens[i]))
      single = i;
  }
  memset(p, 0, sizeof(*p));
  if (q->n_ids) {
    p->driver = D_IDS;
    p->index = PK_INDEX;
  } else if (q->patient_ids && newest &&
             (exact < q->n_tokens || (single < q->n_tokens && !no_resolve))) {
    p->driver = D_PATIENT_TOKEN;
    p->index = "tokens_lookup";
    p->token = exact < q->n_tokens ? exact : single;
    p->resolve = exact == q->n_tokens;
  } else if (q->patient_ids) {
    p->driver = D_PATIENT;
    p->index = asc ? "rc_patient_lo" : "rc_patient_hi";
  } else if (q->n_tokens) {
    p->driver = D_TOKEN;
    p->index = PK_INDEX;
  } else if (q->n_strings) {
    p->driver = D_STRING;
    p->index = PK_INDEX;
  } else {
    p->driver = D_TYPE;
    switch (q->sort) {
    case MV_STORE_SORT_DATE_DESC:
      p->index = "rc_type_hi";
      break;
    case MV_STORE_SORT_UPDATED_ASC:
    case MV_STORE_SORT_UPDATED_DESC:
      p->index = "rc_type_updated";
      break;
    case MV_STORE_SORT_NONE:
      p->index = PK_INDEX;
      break;
    default:
      p->index = NULL;
      break;
    }
  }
  switch (q->sort) {
  case MV_STORE_SORT_DATE_ASC:
    p->order = " ORDER BY c.date_lo ASC, c.id ASC";
    break;
  case MV_STORE_SORT_DATE_DESC:
    p->order = " ORDER BY c.date_hi DESC, c.id DESC";
    break;
  case MV_STORE_SORT_UPDATED_ASC:
    p->order = " ORDER BY c.updated_us ASC, c.id ASC";
    break;
  case MV_STORE_SORT_UPDATED_DESC:
    p->order = " ORDER BY c.updated_us DESC, c.id DESC";
    break;
  default:
    /* Newest first within a patient is the patient indexes' own order. */
    p->order = p->driver == D_PATIENT || p->driver == D_PATIENT_TOKEN
                   ? " ORDER BY c.date_hi DESC, c.id DESC"
                   : " ORDER BY c.id ASC";
    break;
  }
  /* The same order, named on the token row, is the index's own. */
  if (p->driver == D_PATIENT_TOKEN)
    p->order = " ORDER BY t.date_hi DESC, t.id DESC";
}

/* Must a D_PATIENT_TOKEN count look at resource_current at all? Token rows
 * exist only for live (not deleted, not erased) resources. */
static bool needs_current(const struct mv_store_query *q) {
  if (q->n_ids || q->n_statuses || q->n_strings || q->n_updated ||
      q->n_tokens > 1)
    return true;
  for (size_t i = 0; i < q->n_dates; i++)
    if (!date_on_token(&q->dates[i]))
      return true;
  return false;
}

/* The leading conditions of D_PATIENT_TOKEN, on the token row. */
static void qb_token_driver(struct qb *b, const struct mv_store_query *q,
                            const struct plan *p) {
  const struct mv_store_token_cond *t = &q->tokens[p->token];
  qb_sql(b, " WHERE t.type = ");
  qb_text(b, q->type);
  qb_sql(b, " AND t.param = ");
  qb_text(b, t->param);
  qb_sql(b, " AND t.value = ");
  qb_text(b, t->values[0].value);
  if (p->resolve) {
    qb_sql(b, " AND t.system IN (");
    for (size_t i = 0; i < p->n_systems; i++) {
      if (i)
        qb_sql(b, ", ");
      qb_text(b, p->systems[i]);
    }
    qb_sql(b, ")");
  } else {
    qb_sql(b, " AND t.system = ");
    qb_text(b, t->values[0].system);
  }
  qb_sql(b, " AND t.patient_id IN ");
  qb_text_list(b, q->patient_ids, q->n_patient_ids);
  for (size_t i = 0; i < q->n_dates; i++)
    if (date_on_token(&q->dates[i]))
      qb_date(b, "t.date_hi", "t.date_hi", &q->dates[i]);
}

/* FROM and WHERE. with_current: join resource_current (always, except for
 * a D_PATIENT_TOKEN count that does not need it). */
static void qb_from_where(struct qb *b, const struct mv_store_query *q,
                          const struct plan *p, bool with_current) {
  size_t h = 0;
  bool tok = p->driver == D_PATIENT_TOKEN;
  if (tok) {
    qb_sql(b, " FROM tokens t INDEXED BY tokens_lookup");
    if (!with_current) {
      qb_token_driver(b, q, p);
      return;
    }
    qb_sql(b, " CROSS JOIN resource_current c ON c.type = t.type"
              " AND c.id = t.id");
    qb_token_driver(b, q, p);
    qb_sql(b, " AND c.type = ");
  } else {
    qb_sql(b, " FROM resource_current c");
    if (p->index) {
      qb_sql(b, " INDEXED BY ");
      qb_sql(b, p->index); /* one of our own constant names */
    }
    qb_sql(b, " WHERE c.type = ");
  }
  qb_text(b, q->type);
  qb_sql(b, " AND c.deleted = 0 AND c.erased = 0");
  if (q->patient_ids && !tok) {
    qb_sql(b, " AND c.patient_id IN ");
    qb_text_list(b, q->patient_ids, q->n_patient_ids);
  }
  if (q->n_ids) {
    qb_sql(b, " AND c.id IN ");
    qb_text_list(b, q->ids, q->n_ids);
  }
  if (q->n_statuses) {
    qb_sql(b, " AND c.status IN ");
    qb_text_list(b, q->statuses, q->n_statuses);
  }
  for (size_t i = 0; i < q->n_dates; i++)
    if (!tok || !date_on_token(&q->dates[i]))
      qb_date(b, "c.date_lo", "c.date_hi", &q->dates[i]);
  for (size_t i = 0; i < q->n_updated; i++)
    qb_date(b, "c.updated_us", "c.updated_us", &q->updated[i]);
  for (size_t i = 0; i < q->n_tokens; i++) {
    const struct mv_store_token_cond *t = &q->tokens[i];
    if (tok && i == p->token)
      continue;
    if (i == 0 && p->driver == D_TOKEN) {
      qb_sql(b, " AND c.id IN (SELECT t.id FROM tokens t WHERE t.type = ");
      qb_text(b, q->type);
    } else {
      /* (t here is the subquery's own, even under D_PATIENT_TOKEN.) */
      qb_sql(b, " AND EXISTS (SELECT 1 FROM tokens t WHERE t.type = c.type"
                " AND t.id = c.id");
    }
    if (patient_cond(t) && patient_values(t)) {
      static const char *const twins[] = {MV__SQ_TWIN_PARAMS};
      qb_sql(b, " AND t.param IN (");
      qb_text(b, t->param);
      for (size_t k = 0; k < sizeof(twins) / sizeof(twins[0]); k++) {
        qb_sql(b, ", ");
        qb_text(b, twins[k]);
      }
      qb_sql(b, ")");
    } else {
      qb_sql(b, " AND t.param = ");
      qb_text(b, t->param);
    }
    qb_sql(b, " AND ");
    qb_token_values(b, t);
    qb_sql(b, ")");
  }
  for (size_t i = 0; i < q->n_strings; i++) {
    const struct mv_store_string_cond *sc = &q->strings[i];
    if (i == 0 && p->driver == D_STRING) {
      qb_sql(b, " AND c.id IN (SELECT x.id FROM strings x WHERE x.type = ");
      qb_text(b, q->type);
    } else {
      qb_sql(b, " AND EXISTS (SELECT 1 FROM strings x WHERE x.type = c.type"
                " AND x.id = c.id");
    }
    qb_sql(b, " AND x.param = ");
    qb_text(b, p->sparams[i]);
    qb_sql(b, " AND x.hash IN ");
    qb_hashes(b, (const uint8_t(*)[MV__BLIND_LEN])(p->hashes + h),
              sc->n_values);
    qb_sql(b, ")");
    h += sc->n_values;
  }
}

/* The blind hash a search value is looked up by: its first
 * MV_STORE_STRING_PREFIX_MAX characters, as stored; for :exact, the whole
 * word under the exact parameter. */
static int make_hashes(struct mv_store_backend *be,
                       const struct mv_store_query *q, struct plan *p) {
  size_t n = 0, k = 0;
  for (size_t i = 0; i < q->n_strings; i++)
    n += q->strings[i].n_values;
  if (n == 0)
    return MV_OK;
  p->hashes = malloc(n * sizeof(*p->hashes));
  p->sparams = malloc(q->n_strings * sizeof(*p->sparams));
  if (!p->hashes || !p->sparams)
    return MV_ENOMEM;
  for (size_t i = 0; i < q->n_strings; i++) {
    const struct mv_store_string_cond *sc = &q->strings[i];
    if (sc->exact)
      mv__sq_exact_param(sc->param, p->sparams[i]);
    else
      snprintf(p->sparams[i], sizeof(p->sparams[i]), "%s", sc->param);
    for (size_t j = 0; j < sc->n_values; j++, k++) {
      const char *v = sc->values[j];
      size_t len = sc->exact ? strlen(v)
                             : mv__utf8_prefix_len(v, strlen(v),
                                                   MV_STORE_STRING_PREFIX_MAX);
      mv__crypt_blind(be->crypt, q->type, p->sparams[i], v, len, p->hashes[k]);
    }
  }
  return MV_OK;
}

/* Systems stored with a code, found by index seeks (one per system). */
#define SYSTEMS_MAX 8

static int resolve_systems(struct mv__sq_rconn *c,
                           const struct mv_store_query *q, struct plan *p) {
  const struct mv_store_token_cond *t = &q->tokens[p->token];
  /* Two statements, so each step is a seek, not a scan from the start. */
  static const char *const sql[2] = {
      "SELECT system FROM tokens INDEXED BY tokens_lookup"
      " WHERE type = ?1 AND param = ?2 AND value = ?3"
      " ORDER BY system LIMIT 1",
      "SELECT system FROM tokens INDEXED BY tokens_lookup"
      " WHERE type = ?1 AND param = ?2 AND value = ?3 AND system > ?4"
      " ORDER BY system LIMIT 1"};
  sqlite3_stmt *st[2] = {NULL, NULL};
  int rc = sqlite3_prepare_v2(c->db, sql[0], -1, &st[0], NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(c->db, sql[1], -1, &st[1], NULL);
  p->systems = malloc((SYSTEMS_MAX + 1) * sizeof(*p->systems));
  if (rc == SQLITE_OK && !p->systems)
    rc = SQLITE_NOMEM;
  p->n_systems = 0;
  while (rc == SQLITE_OK && p->n_systems <= SYSTEMS_MAX) {
    sqlite3_stmt *s1 = st[p->n_systems ? 1 : 0];
    mv__sq_bind_text(s1, 1, q->type);
    mv__sq_bind_text(s1, 2, t->param);
    mv__sq_bind_text(s1, 3, t->values[0].value);
    if (p->n_systems)
      mv__sq_bind_text(s1, 4, p->systems[p->n_systems - 1]);
    rc = sqlite3_step(s1);
    if (rc == SQLITE_ROW) {
      rc = mv__sq_copy_col(s1, 0, p->systems[p->n_systems],
                           sizeof(p->systems[0]), false) == MV_OK
               ? SQLITE_OK
               : SQLITE_CORRUPT;
      p->n_systems++;
    }
    sqlite3_reset(s1);
  }
  sqlite3_finalize(st[0]);
  sqlite3_finalize(st[1]);
  return rc == SQLITE_OK || rc == SQLITE_DONE
             ? MV_OK
             : mv__sq_fail(c->db, rc, NULL, "search systems");
}

/* ---- Search: running it ------------------------------------------------------ */

static int run_count(struct mv__sq_rconn *c, struct qb *b, int64_t *out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(c->db, mv_buf_cstr(&b->sql), -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = qb_bind(b, st);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? MV_OK : mv__sq_fail(c->db, rc, NULL, "search count");
}

/* Fetch the body of each page row and decrypt it (on connection c). */
static int load_bodies(struct mv_store_backend *be, struct mv__sq_rconn *c,
                       const char *type, struct page *pg,
                       char pids[][MV__STORE_INDEX_MAX + 1]) {
  sqlite3_stmt *st = c->st[R_BODY];
  int err = MV_OK;
  for (size_t i = 0; i < pg->n && err == MV_OK; i++) {
    struct prow *r = &pg->rows[i];
    mv__sq_bind_text(st, 1, type);
    mv__sq_bind_text(st, 2, r->id);
    sqlite3_bind_int64(st, 3, r->rec.version);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB) {
      err = mv__sq_open_body(be, c, type, r->id, r->rec.version, pids[i],
                             sqlite3_column_blob(st, 0),
                             (size_t)sqlite3_column_bytes(st, 0), &r->rec.body,
                             &r->rec.body_len);
    } else {
      err = rc == SQLITE_ROW || rc == SQLITE_DONE
                ? MV_ECORRUPT
                : mv__sq_fail(c->db, rc, NULL, "search body");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  return err;
}

static int run_page(struct mv_store_backend *be, struct mv__sq_rconn *c,
                    struct qb *b, const char *type, unsigned limit,
                    struct page *pg) {
  sqlite3_stmt *st = NULL;
  char(*pids)[MV__STORE_INDEX_MAX + 1] = malloc(limit * sizeof(*pids));
  int err = MV_OK;
  pg->rows = calloc(limit, sizeof(*pg->rows));
  if (!pids || !pg->rows) {
    free(pids);
    return MV_ENOMEM;
  }
  pg->cap = limit;
  int rc = sqlite3_prepare_v2(c->db, mv_buf_cstr(&b->sql), -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = qb_bind(b, st);
  while (rc == SQLITE_OK && pg->n < limit &&
         (rc = sqlite3_step(st)) == SQLITE_ROW) {
    struct prow *r = &pg->rows[pg->n];
    r->rec.version = sqlite3_column_int64(st, 1);
    r->rec.updated_us = sqlite3_column_int64(st, 2);
    if (mv__sq_copy_col(st, 0, r->id, sizeof(r->id), false) != MV_OK ||
        mv__sq_copy_col(st, 3, pids[pg->n], sizeof(pids[0]), true) != MV_OK) {
      err = MV_ECORRUPT;
      break;
    }
    pg->n++;
    rc = SQLITE_OK;
  }
  if (err == MV_OK && rc != SQLITE_OK && rc != SQLITE_DONE)
    err = mv__sq_fail(c->db, rc, NULL, "search");
  sqlite3_finalize(st);
  if (err == MV_OK)
    err = load_bodies(be, c, type, pg, pids);
  free(pids);
  return err;
}

int mv__sq_search(struct mv_store_backend *be, const struct mv_store_query *q,
                  mv_store_search_fn fn, void *ctx, int64_t *out_total) {
  struct plan p = {0};
  struct qb b;
  struct page pg = {0};
  struct mv__sq_rconn *c = NULL;
  int64_t total = -1;
  int err;
  memset(&b, 0, sizeof(b));
  mv_buf_init(&b.sql, SQL_MAX);
  if (out_total)
    *out_total = q->want_total ? 0 : -1;
  /* "Restricted to no patient" matches nothing, whatever else. */
  if (q->patient_ids && q->n_patient_ids == 0) {
    err = MV_OK;
    goto out;
  }
  choose_plan(q, false, &p);
  c = mv__sq_rconn_get(be);
  if (p.resolve) {
    if ((err = resolve_systems(c, q, &p)) != MV_OK)
      goto out;
    if (p.n_systems == 0) { /* nobody has that code */
      err = MV_OK;
      goto out;
    }
    if (p.n_systems > SYSTEMS_MAX) {
      free(p.systems);
      choose_plan(q, true, &p); /* resets p.systems */
    }
  }
  if ((err = make_hashes(be, q, &p)) != MV_OK)
    goto out;
  if (q->want_total) {
    qb_sql(&b, "SELECT COUNT(*)");
    qb_from_where(&b, q, &p, p.driver != D_PATIENT_TOKEN || needs_current(q));
    if ((err = b.err) != MV_OK || (err = run_count(c, &b, &total)) != MV_OK)
      goto out;
    mv_buf_reset(&b.sql);
    b.n = 0;
  }
  if (q->limit > 0) {
    qb_sql(&b, "SELECT c.id, c.version, c.updated_us, c.patient_id");
    qb_from_where(&b, q, &p, true);
    qb_sql(&b, p.order);
    qb_sql(&b, " LIMIT ");
    qb_int(&b, q->limit);
    qb_sql(&b, " OFFSET ");
    qb_int(&b, q->offset);
    if ((err = b.err) != MV_OK ||
        (err = run_page(be, c, &b, q->type, q->limit, &pg)) != MV_OK)
      goto out;
  }
  mv__sq_rconn_put(be, c, NULL);
  c = NULL;
  if (out_total)
    *out_total = total;
  err = page_visit(&pg, fn, ctx);
out:
  if (c)
    mv__sq_rconn_put(be, c, NULL);
  page_release(&pg);
  free(p.hashes);
  free(p.sparams);
  free(p.systems);
  free(b.b);
  mv_buf_release(&b.sql);
  return err;
}

/* ---- Type history ------------------------------------------------------------ */

static int history_type_page(struct mv_store_backend *be,
                             struct mv__sq_rconn *c, const char *type,
                             int64_t since_us, unsigned limit, unsigned offset,
                             struct page *pg) {
  sqlite3_stmt *st = c->st[R_HIST_TYPE];
  int err = MV_OK, rc = SQLITE_DONE;
  pg->rows = calloc(limit ? limit : 1, sizeof(*pg->rows));
  if (!pg->rows)
    return MV_ENOMEM;
  pg->cap = limit;
  mv__sq_bind_text(st, 1, type);
  sqlite3_bind_int64(st, 2, since_us);
  sqlite3_bind_int64(st, 3, limit);
  sqlite3_bind_int64(st, 4, offset);
  while (err == MV_OK && pg->n < limit &&
         (rc = sqlite3_step(st)) == SQLITE_ROW) {
    struct prow *r = &pg->rows[pg->n];
    char pid[MV__STORE_INDEX_MAX + 1];
    r->rec.version = sqlite3_column_int64(st, 1);
    r->rec.updated_us = sqlite3_column_int64(st, 2);
    r->rec.deleted = sqlite3_column_int(st, 3) != 0;
    if (mv__sq_copy_col(st, 0, r->id, sizeof(r->id), false) != MV_OK ||
        mv__sq_copy_col(st, 4, pid, sizeof(pid), true) != MV_OK)
      err = MV_ECORRUPT;
    else if (!r->rec.deleted)
      err = sqlite3_column_type(st, 5) != SQLITE_BLOB
                ? MV_ECORRUPT
                : mv__sq_open_body(be, c, type, r->id, r->rec.version, pid,
                                   sqlite3_column_blob(st, 5),
                                   (size_t)sqlite3_column_bytes(st, 5),
                                   &r->rec.body, &r->rec.body_len);
    pg->n++;
  }
  if (err == MV_OK && pg->n < limit && rc != SQLITE_DONE)
    err = mv__sq_fail(c->db, rc, NULL, "type history");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return err;
}

int mv__sq_history_type(struct mv_store_backend *be, const char *type,
                        int64_t since_us, unsigned limit, unsigned offset,
                        mv_store_search_fn fn, void *ctx, int64_t *out_total) {
  struct page pg = {0};
  int64_t total = -1;
  int err = MV_OK;
  struct mv__sq_rconn *c = mv__sq_rconn_get(be);
  if (out_total) {
    sqlite3_stmt *st = c->st[R_HIST_TYPE_COUNT];
    mv__sq_bind_text(st, 1, type);
    sqlite3_bind_int64(st, 2, since_us);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      total = sqlite3_column_int64(st, 0);
    else
      err = mv__sq_fail(c->db, rc, NULL, "type history count");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  if (err == MV_OK && limit > 0)
    err = history_type_page(be, c, type, since_us, limit, offset, &pg);
  mv__sq_rconn_put(be, c, NULL);
  if (err == MV_OK) {
    if (out_total)
      *out_total = total;
    err = page_visit(&pg, fn, ctx);
  }
  page_release(&pg);
  return err;
}
