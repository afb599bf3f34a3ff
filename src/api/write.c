/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a FHIR resource to a store write and back. Bodies are stored without
 * meta.versionId and meta.lastUpdated: the store assigns the version and the
 * commit time, and api_load_record puts them back on the way out, so what a
 * client reads is exactly what the store committed.
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "mv_json.h"
#include "mv_limits.h"

#define CONSENT_ACTORS_MAX 16u

/* A Consent whose provision denies access is indexed with a "deny-actor"
 * token per actor, so an access check finds it with one indexed lookup
 * (access.c). Only active Consents count; that is checked on status. */
static int consent_terms(struct api_req *q, struct json_object *res,
                         struct api_write *out,
                         const struct mv_fhir_index *idx) {
  struct json_object *prov, *actors;
  (void)idx;
  if (strcmp(out->type, "Consent") != 0 ||
      !json_object_object_get_ex(res, "provision", &prov))
    return MV_OK;
  const char *pt = json_object_get_string(json_object_object_get(prov, "type"));
  if (!pt || strcmp(pt, "deny") != 0 ||
      !json_object_object_get_ex(prov, "actor", &actors) ||
      !json_object_is_type(actors, json_type_array))
    return MV_OK;
  for (size_t i = 0;
       i < json_object_array_length(actors) && i < CONSENT_ACTORS_MAX; i++) {
    struct json_object *a = json_object_array_get_idx(actors, i), *ref;
    if (!json_object_object_get_ex(a, "reference", &ref))
      continue;
    const char *r =
        json_object_get_string(json_object_object_get(ref, "reference"));
    if (!r || !*r)
      continue;
    struct mv_store_term *t = &out->terms[out->n_terms++];
    t->kind = MV_STORE_TERM_TOKEN;
    t->param = "deny-actor";
    t->system = "";
    t->value = mv_arena_strdup(q->a, r);
    if (!t->value)
      return MV_ENOMEM;
  }
  return MV_OK;
}

static void strip_meta(struct json_object *res) {
  struct json_object *meta;
  if (!json_object_object_get_ex(res, "meta", &meta) ||
      !json_object_is_type(meta, json_type_object))
    return;
  json_object_object_del(meta, "versionId");
  json_object_object_del(meta, "lastUpdated");
  if (json_object_object_length(meta) == 0)
    json_object_object_del(res, "meta");
}

int api_write_prepare(struct api_req *q, struct json_object *res,
                      enum mv_store_op op, struct api_write *out,
                      struct mv_fhir_outcome *oo) {
  struct mv_fhir_index idx;
  struct mv_buf b;
  const char *type, *id;
  int rc;

  memset(out, 0, sizeof(*out));
  out->res = res;
  type = json_object_get_string(json_object_object_get(res, "resourceType"));
  id = json_object_get_string(json_object_object_get(res, "id"));
  if (!type || !id)
    return MV_EINVAL;
  out->type = mv_arena_strdup(q->a, type);
  out->id = mv_arena_strdup(q->a, id);
  if (!out->type || !out->id)
    return MV_ENOMEM;
  strip_meta(res);
  if ((rc = mv_fhir_index_extract(res, q->a, &idx)) != MV_OK) {
    mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "processing", type,
                        "cannot index the resource");
    return rc;
  }
  /* room for the Consent deny-actor terms added below */
  out->terms = mv_arena_zalloc(q->a, (idx.n_terms + CONSENT_ACTORS_MAX) *
                                         sizeof(*out->terms));
  if (!out->terms)
    return MV_ENOMEM;
  out->n_terms = idx.n_terms;
  for (size_t i = 0; i < idx.n_terms; i++) {
    const struct mv_fhir_index_term *t = &idx.terms[i];
    out->terms[i].kind = t->kind == MV_FHIR_TERM_STRING ? MV_STORE_TERM_STRING
                                                        : MV_STORE_TERM_TOKEN;
    out->terms[i].param = t->param;
    out->terms[i].system = t->system ? t->system : "";
    out->terms[i].value = t->value;
  }
  if ((rc = consent_terms(q, res, out, &idx)) != MV_OK)
    return rc;
  mv_buf_init(&b, MV_LIMIT_STORE_RESOURCE_MAX);
  if ((rc = mv_json_write(&b, res)) != MV_OK) {
    mv_buf_release(&b);
    return rc;
  }
  char *body = mv_arena_strndup(q->a, mv_buf_cstr(&b), b.len);
  size_t blen = b.len;
  mv_buf_release(&b);
  if (!body)
    return MV_ENOMEM;
  out->w.op = op;
  out->w.type = out->type;
  out->w.id = out->id;
  out->w.body = body;
  out->w.body_len = blen;
  out->w.patient_id =
      idx.patient_id && idx.patient_id[0] ? idx.patient_id : NULL;
  out->w.status = idx.status && idx.status[0] ? idx.status : NULL;
  out->w.date_us = idx.date_lo_us;
  out->w.date_hi_us = idx.date_hi_us;
  out->w.terms = out->terms;
  out->w.n_terms = out->n_terms;
  /* The ledger entry names the agent (an opaque reference), never the
   * account name. */
  out->w.actor = q->agent_ref ? q->agent_ref
                 : q->authed  ? mv_arena_printf(q->a, "role/%s",
                                                mv_auth_role_name(q->who.role))
                              : NULL;
  return MV_OK;
}

struct refs_ctx {
  struct api_req *q;
  struct mv_fhir_outcome *oo;
  const char *base_expr;
  const char *const *except;
  size_t n_except;
  int rc;
};

static int check_one(void *ctx, struct json_object *holder, const char *ref,
                     const char *expr) {
  struct refs_ctx *c = ctx;
  (void)holder;
  for (size_t i = 0; i < c->n_except; i++)
    if (c->except[i] && strcmp(c->except[i], ref) == 0)
      return 0; /* written by the same transaction */
  char type[MV_LIMIT_TYPE_LEN + 1], id[MV_LIMIT_ID_LEN + 1];
  const char *slash;
  struct mv_store_record rec = {0};
  const char *full =
      c->base_expr
          ? mv_arena_printf(c->q->a, "%s.%s", c->base_expr,
                            strchr(expr, '.') ? strchr(expr, '.') + 1 : expr)
          : expr;
  if (ref[0] == '#' || strncmp(ref, "http://", 7) == 0 ||
      strncmp(ref, "https://", 8) == 0)
    return 0; /* contained or external: not ours to check */
  if (strncmp(ref, "urn:uuid:", 9) == 0) {
    mv_fhir_outcome_add(c->oo, MV_FHIR_ERROR, "not-found", full,
                        "urn:uuid references are only resolved inside a "
                        "transaction or batch Bundle");
    c->rc = MV_EINVALID;
    return 0;
  }
  slash = strchr(ref, '/');
  if (!slash || (size_t)(slash - ref) > MV_LIMIT_TYPE_LEN ||
      strlen(slash + 1) > MV_LIMIT_ID_LEN) {
    mv_fhir_outcome_add(c->oo, MV_FHIR_ERROR, "invalid", full,
                        "reference must be Type/id");
    c->rc = MV_EINVALID;
    return 0;
  }
  memcpy(type, ref, (size_t)(slash - ref));
  type[slash - ref] = '\0';
  snprintf(id, sizeof(id), "%s", slash + 1);
  if (strchr(id, '/')) /* Type/id/_history/n: check the resource */
    *strchr(id, '/') = '\0';
  if (strcmp(type, "Bundle") == 0) {
    mv_fhir_outcome_add(c->oo, MV_FHIR_ERROR, "not-found", full,
                        "a reference cannot point at a Bundle");
    c->rc = MV_EINVALID;
    return 0;
  }
  if (!mv_fhir_type_supported(type))
    return 0; /* held elsewhere (Organization, Location, ...): not ours to
               * check; the reference is kept as given */
  int rc = mv_store_read(c->q->api->store, type, id, 0, &rec);
  if (rc == MV_OK || rc == MV_EGONE)
    mv_store_record_release(&rec);
  if (rc == MV_OK)
    return 0;
  if (rc == MV_ENOTFOUND || rc == MV_EGONE) {
    mv_fhir_outcome_add(c->oo, MV_FHIR_ERROR, "not-found", full,
                        "referenced resource does not exist");
    c->rc = MV_EINVALID;
    return 0;
  }
  c->rc = rc;
  return 1;
}

int api_check_refs(struct api_req *q, struct json_object *res,
                   const char *base_expr, struct mv_fhir_outcome *oo) {
  return api_check_refs_except(q, res, base_expr, NULL, 0, oo);
}

int api_check_refs_except(struct api_req *q, struct json_object *res,
                          const char *base_expr, const char *const *except,
                          size_t n_except, struct mv_fhir_outcome *oo) {
  struct refs_ctx c = {q, oo, base_expr, except, n_except, MV_OK};
  int rc = mv_fhir_references_each(res, check_one, &c);
  if (rc != MV_OK)
    return rc;
  return c.rc;
}

int api_load_record(struct api_req *q, const char *type,
                    const struct mv_store_record *rec,
                    struct json_object **out_obj) {
  struct json_object *res = NULL;
  int rc;
  (void)q;
  if (!rec->body)
    return MV_EGONE;
  if ((rc = mv_json_parse(rec->body, rec->body_len, &res, NULL)) != MV_OK)
    return MV_ECORRUPT;
  if (!res || !json_object_is_type(res, json_type_object)) {
    json_object_put(res);
    return MV_ECORRUPT;
  }
  (void)type;
  api_set_meta(res, rec->version, rec->updated_us);
  *out_obj = res;
  return MV_OK;
}

void api_set_meta(struct json_object *res, int64_t version,
                  int64_t updated_us) {
  struct json_object *meta;
  char when[40], ver[24];
  if (!json_object_object_get_ex(res, "meta", &meta) ||
      !json_object_is_type(meta, json_type_object)) {
    meta = json_object_new_object();
    json_object_object_add(res, "meta", meta);
  }
  snprintf(ver, sizeof(ver), "%lld", (long long)version);
  API_IGNORE(mv_fhir_instant_format(updated_us, when, sizeof(when)));
  json_object_object_add(meta, "versionId", json_object_new_string(ver));
  json_object_object_add(meta, "lastUpdated", json_object_new_string(when));
}

/* ---- Stored text with meta, without parsing --------------------------- */

/* Index just past the JSON value starting at s[i] (compact text written by
 * mv_json_write: no whitespace outside strings); len on malformed text. */
static size_t skip_value(const char *s, size_t len, size_t i) {
  int depth = 0;
  bool in_str = false;
  for (; i < len; i++) {
    char c = s[i];
    if (in_str) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_str = false;
      else
        continue;
      if (depth == 0 && !in_str)
        return i + 1;
      continue;
    }
    if (c == '"')
      in_str = true;
    else if (c == '{' || c == '[')
      depth++;
    else if (c == '}' || c == ']') {
      if (depth == 0)
        return i; /* end of the enclosing object */
      if (--depth == 0)
        return i + 1;
    } else if (depth == 0 && c == ',')
      return i;
  }
  return len;
}

/* Where to insert the meta members: just inside an existing top-level
 * "meta" object (*out_has_meta true, *out_empty when it is {}), or just
 * after the opening brace. */
static bool find_meta(const char *s, size_t len, size_t *out_at,
                      bool *out_has_meta, bool *out_empty) {
  size_t i = 1;
  if (len < 2 || s[0] != '{')
    return false;
  while (i < len && s[i] == '"') {
    size_t k = skip_value(s, len, i); /* the key */
    if (k >= len || s[k] != ':')
      return false;
    bool is_meta = k - i == 6 && memcmp(s + i, "\"meta\"", 6) == 0;
    size_t v = k + 1;
    if (is_meta) {
      if (v >= len || s[v] != '{')
        return false;
      *out_at = v + 1;
      *out_has_meta = true;
      *out_empty = v + 1 < len && s[v + 1] == '}';
      return true;
    }
    i = skip_value(s, len, v);
    if (i < len && s[i] == ',')
      i++;
    else
      break;
  }
  *out_at = 1;
  *out_has_meta = false;
  *out_empty = false;
  return true;
}

int api_record_raw(struct api_req *q, const struct mv_store_record *rec,
                   struct json_object **out_obj) {
  char when[40], meta[128];
  size_t at;
  bool has_meta, empty;
  (void)q;
  if (!rec->body)
    return MV_EGONE;
  if (!find_meta(rec->body, rec->body_len, &at, &has_meta, &empty))
    return MV_ECORRUPT;
  API_IGNORE(mv_fhir_instant_format(rec->updated_us, when, sizeof(when)));
  int m = has_meta
              ? snprintf(meta, sizeof(meta),
                         "\"versionId\":\"%lld\",\"lastUpdated\":\"%s\"%s",
                         (long long)rec->version, when, empty ? "" : ",")
              : snprintf(meta, sizeof(meta),
                         "\"meta\":{\"versionId\":\"%lld\",\"lastUpdated\":"
                         "\"%s\"},",
                         (long long)rec->version, when);
  if (m <= 0 || (size_t)m >= sizeof(meta))
    return MV_EINTERNAL;
  size_t n = rec->body_len + (size_t)m;
  char *t = mv_arena_alloc(q->a, n + 1);
  if (!t)
    return MV_ENOMEM;
  memcpy(t, rec->body, at);
  memcpy(t + at, meta, (size_t)m);
  memcpy(t + at + (size_t)m, rec->body + at, rec->body_len - at);
  t[n] = '\0';
  return mv_json_new_raw(t, n, out_obj);
}
