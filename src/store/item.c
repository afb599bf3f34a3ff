/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Argument checks of the store's public functions, and the copying of
 * writes into queue items (one allocation per item holding every string,
 * body and term), so store.c is left with the queue, the writer thread and
 * the callbacks. Everything here is pure: no locks, no I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "mv_limits.h"
#include "store_int.h"

/* ---- Writes and copying ------------------------------------------------- */

bool mv__store_valid_type(const char *t) {
  size_t n = t ? strnlen(t, MV_LIMIT_TYPE_LEN + 1) : 0;
  if (n == 0 || n > MV_LIMIT_TYPE_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = t[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9')))
      return false;
  }
  return true;
}

/* FHIR id: [A-Za-z0-9\-\.]{1,64} */
bool mv__store_valid_id(const char *id) {
  size_t n = id ? strnlen(id, MV_LIMIT_ID_LEN + 1) : 0;
  if (n == 0 || n > MV_LIMIT_ID_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
  }
  return true;
}

static bool index_too_long(const char *v) {
  return v && strnlen(v, MV__STORE_INDEX_MAX + 1) > MV__STORE_INDEX_MAX;
}

/* NULL, "" or a FHIR id: patient ids also label encryption keys. */
static bool optional_patient_ok(const char *p) {
  return !p || !*p || mv__store_valid_id(p);
}

static bool param_ok(const char *p) {
  size_t n = p ? strnlen(p, MV_STORE_PARAM_MAX + 1) : 0;
  return n > 0 && n <= MV_STORE_PARAM_MAX;
}

static int validate_terms(const struct mv_store_write *w) {
  if (w->n_terms == 0)
    return MV_OK;
  if (!w->terms)
    return MV_EINVAL;
  if (w->n_terms > MV_STORE_TERMS_MAX)
    return MV_ETOOBIG;
  for (size_t i = 0; i < w->n_terms; i++) {
    const struct mv_store_term *t = &w->terms[i];
    if (t->kind != MV_STORE_TERM_TOKEN && t->kind != MV_STORE_TERM_STRING)
      return MV_EINVAL;
    if (!param_ok(t->param) || !t->value || !*t->value)
      return MV_EINVAL;
    if (index_too_long(t->value) || index_too_long(t->system))
      return MV_ETOOBIG;
  }
  return MV_OK;
}

int mv__store_validate_write(const struct mv_store_write *w) {
  if (!w)
    return MV_EINVAL;
  if (w->op != MV_STORE_CREATE && w->op != MV_STORE_UPDATE &&
      w->op != MV_STORE_DELETE)
    return MV_EINVAL;
  if (!mv__store_valid_type(w->type) || !mv__store_valid_id(w->id) ||
      w->if_version < 0)
    return MV_EINVAL;
  if (w->op == MV_STORE_CREATE && w->if_version != 0)
    return MV_EINVAL;
  if (w->op != MV_STORE_DELETE) {
    if (w->body_len > MV_LIMIT_STORE_RESOURCE_MAX)
      return MV_ETOOBIG;
    if (!w->body || w->body_len == 0)
      return MV_EINVAL;
  }
  if (index_too_long(w->patient_id) || index_too_long(w->code) ||
      index_too_long(w->status))
    return MV_ETOOBIG;
  if (w->actor) {
    size_t n = strnlen(w->actor, MV_LIMIT_LEDGER_ACTOR + 1);
    if (n > MV_LIMIT_LEDGER_ACTOR)
      return MV_ETOOBIG;
    /* the characters a ledger entry's actor may hold (mv_tlog.h) */
    if (strspn(w->actor, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789-._/:") != n)
      return MV_EINVAL;
  }
  if (!optional_patient_ok(w->patient_id))
    return MV_EINVAL;
  if (w->date_us != MV_STORE_NO_DATE && w->date_hi_us != MV_STORE_NO_DATE &&
      w->date_hi_us != 0 && w->date_hi_us < w->date_us)
    return MV_EINVAL;
  return validate_terms(w);
}

/* Copy n bytes plus a NUL to *cursor and advance it. */
static const char *put_str(char **cursor, const char *src, size_t n) {
  char *dst = *cursor;
  if (n)
    memcpy(dst, src, n);
  dst[n] = '\0';
  *cursor = dst + n + 1;
  return dst;
}

static size_t str_bytes(const char *v) {
  return v ? strlen(v) + 1 : 0;
}

/* Bytes of copied strings a write needs (each with its NUL). */
static size_t write_chars(const struct mv_store_write *w) {
  size_t n = str_bytes(w->type) + str_bytes(w->id) + str_bytes(w->patient_id) +
             str_bytes(w->code) + str_bytes(w->status) + str_bytes(w->actor);
  if (w->op != MV_STORE_DELETE)
    n += w->body_len + 1;
  for (size_t i = 0; i < w->n_terms; i++)
    n += str_bytes(w->terms[i].param) + str_bytes(w->terms[i].system) +
         str_bytes(w->terms[i].value);
  return n;
}

static const char *copy_opt(char **cur, const char *v) {
  return v ? put_str(cur, v, strlen(v)) : NULL;
}

/* Copy w into dst: its terms go to *terms, its strings to *cur. */
static void copy_write(struct mv_store_write *dst,
                       const struct mv_store_write *w,
                       struct mv_store_term **terms, char **cur) {
  memset(dst, 0, sizeof(*dst));
  dst->op = w->op;
  dst->if_version = w->if_version;
  dst->date_us = w->date_us;
  /* One canonical form for "a single instant" and "no date". */
  if (w->date_us == MV_STORE_NO_DATE)
    dst->date_hi_us = MV_STORE_NO_DATE;
  else if (w->date_hi_us == MV_STORE_NO_DATE || w->date_hi_us == 0)
    dst->date_hi_us = w->date_us;
  else
    dst->date_hi_us = w->date_hi_us;
  dst->type = copy_opt(cur, w->type);
  dst->id = copy_opt(cur, w->id);
  if (w->op != MV_STORE_DELETE) {
    dst->body = put_str(cur, w->body, w->body_len);
    dst->body_len = w->body_len;
  }
  dst->patient_id = copy_opt(cur, w->patient_id);
  dst->code = copy_opt(cur, w->code);
  dst->status = copy_opt(cur, w->status);
  dst->actor = copy_opt(cur, w->actor);
  if (w->n_terms) {
    struct mv_store_term *t = *terms;
    for (size_t i = 0; i < w->n_terms; i++) {
      t[i].kind = w->terms[i].kind;
      t[i].param = copy_opt(cur, w->terms[i].param);
      t[i].system = copy_opt(cur, w->terms[i].system);
      t[i].value = copy_opt(cur, w->terms[i].value);
    }
    dst->terms = t;
    dst->n_terms = w->n_terms;
    *terms = t + w->n_terms;
  }
}

/*
 * One allocation per queue item: the item, its ops, (for a transaction) its
 * results array, every term array, then every string. ws may be NULL for
 * an erase, which copies patient_id instead.
 */
struct mv__store_item *mv__store_item_new(enum mv__store_kind kind,
                                          const struct mv_store_write *ws,
                                          size_t n, const char *patient_id) {
  size_t n_terms = 0, chars = str_bytes(patient_id), bytes = 0;
  for (size_t i = 0; i < n; i++) {
    n_terms += ws[i].n_terms;
    chars += write_chars(&ws[i]);
    if (ws[i].op != MV_STORE_DELETE)
      bytes += ws[i].body_len;
  }
  size_t n_res = kind == MV__ITEM_TX ? n : 0;
  size_t total = sizeof(struct mv__store_item) +
                 n * sizeof(struct mv__store_op) +
                 n_res * sizeof(struct mv_store_result) +
                 n_terms * sizeof(struct mv_store_term) + chars;
  struct mv__store_item *it = malloc(total);
  if (!it)
    return NULL;
  memset(it, 0, sizeof(*it));
  it->kind = kind;
  it->n = n;
  it->bytes = bytes;
  it->failed_index = SIZE_MAX;
  it->ops = (struct mv__store_op *)(it + 1);
  struct mv_store_result *res = (struct mv_store_result *)(it->ops + n);
  struct mv_store_term *terms = (struct mv_store_term *)(res + n_res);
  char *cur = (char *)(terms + n_terms);
  for (size_t i = 0; i < n; i++) {
    memset(&it->ops[i], 0, sizeof(it->ops[i]));
    copy_write(&it->ops[i].w, &ws[i], &terms, &cur);
  }
  it->patient_id = copy_opt(&cur, patient_id);
  return it;
}

struct mv__store_item *mv__store_item_erase(const char *patient_id,
                                            const char *actor) {
  size_t na = actor ? strnlen(actor, MV_LIMIT_LEDGER_ACTOR + 1) : 0;
  if (na > MV_LIMIT_LEDGER_ACTOR)
    return NULL;
  struct mv__store_item *it =
      malloc(sizeof(*it) + strlen(patient_id) + 1 + (actor ? na + 1 : 0));
  if (!it)
    return NULL;
  memset(it, 0, sizeof(*it));
  it->kind = MV__ITEM_ERASE;
  it->failed_index = SIZE_MAX;
  it->ledger_index = -1;
  char *cur = (char *)(it + 1);
  it->patient_id = put_str(&cur, patient_id, strlen(patient_id));
  it->actor = actor ? put_str(&cur, actor, na) : NULL;
  return it;
}

/* The results array of a transaction item (see item_new). */
struct mv_store_result *mv__store_item_results(struct mv__store_item *it) {
  return (struct mv_store_result *)(it->ops + it->n);
}

/* ---- Queries --------------------------------------------------------------- */

static bool value_ok(const char *v) {
  return v && *v && !index_too_long(v);
}

/* A list of n strings each passing ok; NULL with n 0 is the empty list. */
static bool strings_ok(const char *const *v, size_t n,
                       bool (*ok)(const char *)) {
  if (n && !v)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!ok(v[i]))
      return false;
  return true;
}

static bool id_ok(const char *v) {
  return mv__store_valid_id(v);
}

static bool dates_ok(const struct mv_store_date_cond *d, size_t n) {
  if (n && !d)
    return false;
  for (size_t i = 0; i < n; i++)
    if (d[i].prefix < MV_STORE_EQ || d[i].prefix > MV_STORE_LE ||
        d[i].lo_us > d[i].hi_us)
      return false;
  return true;
}

int mv__store_validate_query(const struct mv_store_query *q) {
  size_t values = q->n_patient_ids + q->n_ids + q->n_statuses;
  if (!mv__store_valid_type(q->type) || q->limit > MV_STORE_QUERY_LIMIT_MAX ||
      q->sort < MV_STORE_SORT_NONE || q->sort > MV_STORE_SORT_UPDATED_DESC)
    return MV_EINVAL;
  if (!strings_ok(q->patient_ids, q->n_patient_ids, id_ok) ||
      !strings_ok(q->ids, q->n_ids, id_ok) ||
      !strings_ok(q->statuses, q->n_statuses, value_ok) ||
      !dates_ok(q->dates, q->n_dates) || !dates_ok(q->updated, q->n_updated))
    return MV_EINVAL;
  if ((q->n_tokens && !q->tokens) || (q->n_strings && !q->strings))
    return MV_EINVAL;
  for (size_t i = 0; i < q->n_tokens; i++) {
    const struct mv_store_token_cond *t = &q->tokens[i];
    if (!param_ok(t->param) || t->n_values == 0 || !t->values)
      return MV_EINVAL;
    for (size_t k = 0; k < t->n_values; k++)
      if (!value_ok(t->values[k].value) || index_too_long(t->values[k].system))
        return MV_EINVAL;
    values += t->n_values;
  }
  for (size_t i = 0; i < q->n_strings; i++) {
    const struct mv_store_string_cond *c = &q->strings[i];
    if (!param_ok(c->param) || c->n_values == 0 ||
        !strings_ok(c->values, c->n_values, value_ok))
      return MV_EINVAL;
    values += c->n_values;
  }
  values += q->n_tokens + q->n_strings + q->n_dates + q->n_updated;
  return values > MV_STORE_QUERY_VALUES_MAX ? MV_ETOOBIG : MV_OK;
}

/* ---- Accounts -------------------------------------------------------------- */

/* A fixed-size field must hold a NUL-terminated string of 1..size-1 bytes. */
bool mv__store_field_ok(const char *f, size_t size) {
  size_t n = strnlen(f, size);
  return n > 0 && n < size;
}

static bool valid_role(const char *r) {
  static const char *const roles[] = {"patient", "clinician", "admin",
                                      "auditor", "device",    "public-health"};
  for (size_t i = 0; i < MV_ARRAY_LEN(roles); i++)
    if (strcmp(r, roles[i]) == 0)
      return true;
  return false;
}

/* "" or a FHIR id, NUL-terminated within its field. */
static bool optional_id_ok(const char *f, size_t size) {
  size_t n = strnlen(f, size);
  return n < size && (n == 0 || mv__store_valid_id(f));
}

bool mv__store_user_ok(const struct mv_store_user *u) {
  return mv__store_field_ok(u->username, sizeof(u->username)) &&
         mv__store_field_ok(u->role, sizeof(u->role)) &&
         mv__store_field_ok(u->pw_hash, sizeof(u->pw_hash)) &&
         valid_role(u->role) &&
         optional_id_ok(u->fhir_id, sizeof(u->fhir_id)) &&
         optional_id_ok(u->org_id, sizeof(u->org_id));
}
