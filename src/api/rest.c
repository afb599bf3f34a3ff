/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FHIR RESTful interactions (R4 §3.1.0): read, vread, create, update,
 * delete, instance and type history, search, capabilities, and the
 * $erase operation. Runs on a pool thread; writes are answered from the
 * store's durability callback. Every path through here ends in exactly one
 * api_finish().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "mv_json.h"
#include "mv_limits.h"
#include "mv_log.h"
#include "mv_pool.h"
#include "mv_rand.h"

/* ---- the request path --------------------------------------------------- */

struct fpath {
  const char *type; /* NULL for /fhir itself */
  const char *id;
  const char *op;  /* "_history", "_search", "$erase", NULL */
  int64_t version; /* vread */
  bool history;    /* .../_history */
  bool metadata;
};

static int split_path(struct api_req *q, struct fpath *p) {
  char *s, *parts[5];
  size_t n = 0;
  memset(p, 0, sizeof(*p));
  if (strncmp(q->r->path, "/fhir", 5) != 0)
    return MV_ENOTFOUND;
  s = mv_arena_strdup(q->a, q->r->path + 5);
  if (!s)
    return MV_ENOMEM;
  for (char *t = s; *t;) {
    while (*t == '/')
      *t++ = '\0';
    if (!*t)
      break;
    if (n == MV_ARRAY_LEN(parts))
      return MV_ENOTFOUND;
    parts[n++] = t;
    while (*t && *t != '/')
      t++;
  }
  if (n == 0)
    return MV_OK;
  if (n == 1 && strcmp(parts[0], "metadata") == 0) {
    p->metadata = true;
    return MV_OK;
  }
  p->type = parts[0];
  if (!mv_fhir_type_supported(p->type) || strcmp(p->type, "Bundle") == 0)
    return MV_ENOTFOUND;
  if (n == 1)
    return MV_OK;
  if (strcmp(parts[1], "_history") == 0 && n == 2) {
    p->history = true;
    return MV_OK;
  }
  if (strcmp(parts[1], "_search") == 0 && n == 2) {
    p->op = "_search";
    return MV_OK;
  }
  if (!mv_fhir_id_valid(parts[1]))
    return MV_ENOTFOUND;
  p->id = parts[1];
  if (n == 2)
    return MV_OK;
  if (n == 3 && parts[2][0] == '$') {
    p->op = parts[2];
    return MV_OK;
  }
  if (strcmp(parts[2], "_history") != 0)
    return MV_ENOTFOUND;
  p->history = true;
  if (n == 3)
    return MV_OK;
  if (n == 4) {
    char *end = NULL;
    long long v = strtoll(parts[3], &end, 10);
    if (!end || *end || v < 1)
      return MV_ENOTFOUND;
    p->version = v;
    p->history = false;
    return MV_OK;
  }
  return MV_ENOTFOUND;
}

static bool method_is(struct api_req *q, const char *m) {
  return strcmp(q->r->method, m) == 0;
}

static const char *prefer(struct api_req *q, const char *key) {
  const char *v = mv_http_header(q->x, "prefer");
  const char *p;
  size_t kl = strlen(key);
  if (!v)
    return NULL;
  for (p = v; (p = strstr(p, key)) != NULL; p += kl) {
    if ((p == v || p[-1] == ' ' || p[-1] == ',' || p[-1] == ';') &&
        p[kl] == '=')
      return p + kl + 1;
  }
  return NULL;
}

static bool prefer_is(struct api_req *q, const char *key, const char *val) {
  const char *v = prefer(q, key);
  size_t n = strlen(val);
  return v && strncmp(v, val, n) == 0 &&
         (v[n] == '\0' || v[n] == ',' || v[n] == ';' || v[n] == ' ');
}

/* W/"3" or "3" -> 3; 0 when absent; -1 when malformed. */
static int64_t if_match_version(struct api_req *q) {
  const char *v = mv_http_header(q->x, "if-match");
  char *end = NULL;
  if (!v)
    return 0;
  if (strncmp(v, "W/", 2) == 0)
    v += 2;
  if (*v != '"')
    return -1;
  long long n = strtoll(v + 1, &end, 10);
  if (!end || *end != '"' || end[1] != '\0' || n < 1)
    return -1;
  return n;
}

/* RFC 9110 IMF-fixdate, for Last-Modified. */
static bool http_date(int64_t t_us, char *out, size_t cap) {
  time_t t = (time_t)(t_us / 1000000);
  struct tm tm;
  if (!gmtime_r(&t, &tm))
    return false;
  return strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0;
}

static void set_version_headers(struct api_req *q, const char *type,
                                const char *id, int64_t version,
                                int64_t updated_us, bool location) {
  char etag[32], when[64];
  snprintf(etag, sizeof(etag), "W/\"%lld\"", (long long)version);
  api_header(q, "ETag", etag);
  if (http_date(updated_us, when, sizeof(when)))
    api_header(q, "Last-Modified", when);
  if (location)
    api_header(
        q, "Location",
        api_url(q, "/fhir/%s/%s/_history/%lld", type, id, (long long)version));
}

/* ---- reads ---------------------------------------------------------------- */

static const char *compartment_of(struct api_req *q, struct json_object *res) {
  struct mv_fhir_index idx;
  const char *pid;
  if (mv_fhir_index_extract(res, q->a, &idx) != MV_OK || !idx.patient_id)
    return "";
  /* idx borrows from res, which the caller may release first */
  pid = mv_arena_strdup(q->a, idx.patient_id);
  return pid ? pid : "";
}

static void deny(struct api_req *q, const char *type, const char *id,
                 const char *patient_id, const char *reason) {
  api_audit_async(q, q->interaction, type, id, patient_id, 4);
  api_fail(q, 403, "forbidden", NULL, "%s", reason);
}

static void do_read(struct api_req *q, const struct fpath *p) {
  struct mv_store_record rec = {0};
  struct json_object *res = NULL;
  const char *pid;
  int rc;

  q->interaction = p->version ? "vread" : "read";
  rc = mv_store_read(q->api->store, p->type, p->id, p->version, &rec);
  if (rc == MV_EGONE) {
    /* Only those who could read it learn that it is gone: the compartment
     * is that of the last version with content. */
    int64_t v = rec.version - 1;
    mv_store_record_release(&rec);
    pid = "";
    if (v >= 1 &&
        mv_store_read(q->api->store, p->type, p->id, v, &rec) == MV_OK) {
      if (api_load_record(q, p->type, &rec, &res) == MV_OK)
        pid = compartment_of(q, res);
      mv_store_record_release(&rec);
    }
    if (api_access(q, MV_AUTH_ACT_READ, p->type, pid) != MV_OK) {
      deny(q, p->type, p->id, pid, "access denied");
      goto out;
    }
    api_fail(q, 410, "deleted", NULL, "resource was deleted or erased");
    goto out;
  }
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "read");
    goto out;
  }
  if (rec.deleted) {
    mv_store_record_release(&rec);
    api_fail(q, 410, "deleted", NULL, "this version is a deletion");
    goto out;
  }
  rc = api_load_record(q, p->type, &rec, &res);
  int64_t ver = rec.version, upd = rec.updated_us;
  mv_store_record_release(&rec);
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "read");
    goto out;
  }
  pid = compartment_of(q, res);
  if (api_access(q, p->version ? MV_AUTH_ACT_VREAD : MV_AUTH_ACT_READ, p->type,
                 pid) != MV_OK) {
    deny(q, p->type, p->id, pid, "access denied");
    goto out;
  }
  set_version_headers(q, p->type, p->id, ver, upd, false);
  api_json(q, 200, res);
  api_audit_async(q, q->interaction, p->type, p->id, pid, 0);
out:
  json_object_put(res);
  api_finish(q);
}

/* ---- writes ---------------------------------------------------------------- */

struct wjob {
  struct api_req *q;
  struct api_write *ws;
  size_t n;
  size_t main; /* the write the answer is about */
  int status;
  size_t failed;
  struct mv_store_result res[4];
  const char *patient_id;
  bool created;
};

static void write_answer(void *arg) {
  struct wjob *j = arg;
  struct api_req *q = j->q;
  struct api_write *w = &j->ws[j->main];

  if (j->status != MV_OK) {
    if (j->status == MV_ECONFLICT)
      api_fail(q, 412, "conflict", NULL,
               "version conflict: the resource changed (If-Match)");
    else if (j->status == MV_EEXISTS)
      api_fail(q, 409, "duplicate", NULL, "resource already exists");
    else if (j->status == MV_ENOTFOUND)
      api_fail(q, 404, "not-found", NULL, "resource not found");
    else if (j->status == MV_EGONE)
      api_fail(q, 410, "deleted", NULL, "the patient's records were erased");
    else
      api_fail_err(q, j->status, NULL, "write");
    goto done;
  }
  const struct mv_store_result *r = &j->res[j->main];
  if (r->ledger_index >= 0) {
    char li[24];
    snprintf(li, sizeof(li), "%lld", (long long)r->ledger_index);
    api_header(q, "X-Ledger-Index", li);
  }
  if (w->w.op == MV_STORE_DELETE) {
    set_version_headers(q, w->type, w->id, r->version, r->updated_us, false);
    q->status = 204;
    q->ctype = "application/fhir+json";
    goto done;
  }
  set_version_headers(q, w->type, w->id, r->version, r->updated_us, true);
  if (prefer_is(q, "return", "minimal")) {
    q->status = j->created ? 201 : 200;
    goto done;
  }
  if (prefer_is(q, "return", "OperationOutcome")) {
    struct mv_fhir_outcome oo;
    mv_fhir_outcome_init(&oo);
    api_outcome(q, j->created ? 201 : 200, &oo);
    goto done;
  }
  api_set_meta(w->res, r->version, r->updated_us);
  api_json(q, j->created ? 201 : 200, w->res);
done:
  for (size_t i = 0; i < j->n; i++)
    json_object_put(j->ws[i].res);
  api_finish(q);
}

static void write_done(void *ctx, int status, size_t failed,
                       const struct mv_store_result *results) {
  struct wjob *j = ctx;
  j->status = status;
  j->failed = failed;
  if (status == MV_OK)
    for (size_t i = 0; i < j->n && i < MV_ARRAY_LEN(j->res); i++)
      j->res[i] = results[i];
  /* Answered here, on the writer thread: hopping to the pool would race
   * with shutdown (the pool is freed before the store's last callbacks),
   * and one resource's serialisation costs microseconds. */
  write_answer(j);
}

static void submit_writes(struct wjob *j) {
  struct mv_store_write ws[4];
  for (size_t i = 0; i < j->n; i++)
    ws[i] = j->ws[i].w;
  int rc = mv_store_submit_tx(j->q->api->store, ws, j->n, write_done, j);
  if (rc != MV_OK) {
    j->status = rc;
    write_answer(j);
  }
}

/* Parse and check the body of a create or update. NULL after answering. */
static struct json_object *body_resource(struct api_req *q, const char *type) {
  struct json_object *res = NULL;
  struct mv_diag d;
  const char *rt;
  mv_diag_clear(&d);
  if (q->r->body_len == 0) {
    api_fail(q, 400, "required", NULL, "a resource body is required");
    return NULL;
  }
  int rc = mv_json_parse(q->r->body, q->r->body_len, &res, &d);
  if (rc != MV_OK) {
    api_fail(q, rc == MV_ETOOBIG ? 413 : 400, "structure", NULL,
             "malformed JSON at line %d, column %d: %s", d.line, d.col,
             d.msg[0] ? d.msg : mv_strerror(rc));
    return NULL;
  }
  if (!res || !json_object_is_type(res, json_type_object)) {
    json_object_put(res);
    api_fail(q, 400, "structure", NULL, "the body must be a JSON object");
    return NULL;
  }
  rt = json_object_get_string(json_object_object_get(res, "resourceType"));
  if (!rt || (type && strcmp(rt, type) != 0)) {
    json_object_put(res);
    api_fail(q, 400, "invalid", "resourceType",
             "resourceType must match the URL (%s)", type ? type : "Bundle");
    return NULL;
  }
  return res;
}

static int validate_or_answer(struct api_req *q, struct json_object *res,
                              const char *type) {
  struct mv_fhir_outcome oo;
  mv_fhir_outcome_init(&oo);
  int rc = mv_fhir_validate(res, type, &oo);
  if (rc == MV_OK)
    rc = api_check_refs(q, res, NULL, &oo);
  if (rc == MV_OK)
    return MV_OK;
  if (rc == MV_EUNSUPPORTED)
    api_outcome(q, 400, &oo);
  else if (rc == MV_EINVAL || rc == MV_EINVALID)
    api_outcome(q, 422, &oo);
  else
    api_fail_err(q, rc, NULL, "validation");
  return rc;
}

/* A clinician who creates a Patient joins the Patient's CareTeam, in the
 * same transaction. */
int api_care_team_for(struct api_req *q, const char *patient_id,
                      struct api_write *out) {
  char id[37];
  struct mv_fhir_outcome oo;
  int rc;
  if ((rc = mv_uuid7(id)) != MV_OK)
    return rc;
  struct json_object *ct = json_object_new_object();
  json_object_object_add(ct, "resourceType",
                         json_object_new_string("CareTeam"));
  json_object_object_add(ct, "id", json_object_new_string(id));
  json_object_object_add(ct, "status", json_object_new_string("active"));
  struct json_object *subj = json_object_new_object();
  json_object_object_add(
      subj, "reference",
      json_object_new_string(mv_arena_printf(q->a, "Patient/%s", patient_id)));
  json_object_object_add(ct, "subject", subj);
  struct json_object *parts = json_object_new_array();
  struct json_object *part = json_object_new_object();
  struct json_object *mem = json_object_new_object();
  json_object_object_add(mem, "reference",
                         json_object_new_string(q->agent_ref));
  json_object_object_add(part, "member", mem);
  json_object_array_add(parts, part);
  json_object_object_add(ct, "participant", parts);
  mv_fhir_outcome_init(&oo);
  return api_write_prepare(q, ct, MV_STORE_CREATE, out, &oo);
}

static void do_write(struct api_req *q, const struct fpath *p,
                     enum mv_store_op op) {
  struct json_object *res = NULL;
  struct wjob *j;
  struct mv_fhir_outcome oo;
  const char *pid;
  char idbuf[37];
  int64_t ifv = 0;
  int rc;

  q->interaction = op == MV_STORE_CREATE   ? "create"
                   : op == MV_STORE_UPDATE ? "update"
                                           : "delete";
  j = mv_arena_zalloc(q->a, sizeof(*j));
  if (!j || !(j->ws = mv_arena_zalloc(q->a, 4 * sizeof(*j->ws)))) {
    api_fail_err(q, MV_ENOMEM, NULL, "write");
    goto fail;
  }
  j->q = q;
  if (op != MV_STORE_CREATE) {
    ifv = if_match_version(q);
    if (ifv < 0) {
      api_fail(q, 400, "invalid", NULL, "If-Match must be W/\"version\"");
      goto fail;
    }
  }
  if (strcmp(p->type, "AuditEvent") == 0) {
    deny(q, p->type, p->id, NULL, "AuditEvents are written by the server");
    goto fail;
  }
  if (op == MV_STORE_DELETE) {
    struct mv_store_record rec = {0};
    rc = mv_store_read(q->api->store, p->type, p->id, 0, &rec);
    if (rc == MV_EGONE) {
      mv_store_record_release(&rec);
      q->status = 204; /* deleting a deleted resource is a no-op */
      goto fail;
    }
    if (rc != MV_OK) {
      api_fail_err(q, rc, NULL, "delete");
      goto fail;
    }
    rc = api_load_record(q, p->type, &rec, &res);
    mv_store_record_release(&rec);
    if (rc != MV_OK) {
      api_fail_err(q, rc, NULL, "delete");
      goto fail;
    }
    pid = compartment_of(q, res);
    if (api_access(q, MV_AUTH_ACT_DELETE, p->type, pid) != MV_OK) {
      deny(q, p->type, p->id, pid, "access denied");
      goto fail;
    }
    memset(&j->ws[0], 0, sizeof(j->ws[0]));
    j->ws[0].type = p->type;
    j->ws[0].id = p->id;
    j->ws[0].w.op = MV_STORE_DELETE;
    j->ws[0].w.type = p->type;
    j->ws[0].w.id = p->id;
    j->ws[0].w.if_version = ifv;
    j->ws[0].w.date_us = MV_STORE_NO_DATE;
    j->ws[0].w.date_hi_us = MV_STORE_NO_DATE;
    j->ws[0].w.patient_id = pid && *pid ? pid : NULL;
    json_object_put(res);
    res = NULL;
    j->n = 1;
  } else {
    if (!(res = body_resource(q, p->type)))
      goto fail;
    if (op == MV_STORE_CREATE) {
      if ((rc = mv_uuid7(idbuf)) != MV_OK) {
        api_fail_err(q, rc, NULL, "create");
        goto fail;
      }
      json_object_object_add(res, "id", json_object_new_string(idbuf));
    } else {
      const char *bid =
          json_object_get_string(json_object_object_get(res, "id"));
      if (!bid || strcmp(bid, p->id) != 0) {
        api_fail(q, 400, "invalid", mv_arena_printf(q->a, "%s.id", p->type),
                 "the resource id must equal the id in the URL");
        goto fail;
      }
    }
    if (validate_or_answer(q, res, p->type) != MV_OK)
      goto fail;
    mv_fhir_outcome_init(&oo);
    if ((rc = api_write_prepare(q, res, op, &j->ws[0], &oo)) != MV_OK) {
      res = NULL; /* taken: j->ws[0].res */
      if (oo.n)
        api_outcome(q, 422, &oo);
      else
        api_fail_err(q, rc, NULL, "write");
      goto fail_ws;
    }
    res = NULL;
    j->ws[0].w.if_version = ifv;
    pid = j->ws[0].w.patient_id ? j->ws[0].w.patient_id : "";
    if (op == MV_STORE_UPDATE) {
      /* Moving a resource into another compartment needs access to both. */
      struct mv_store_record rec = {0};
      rc = mv_store_read(q->api->store, p->type, p->id, 0, &rec);
      if (rc == MV_OK) {
        struct json_object *old = NULL;
        if (api_load_record(q, p->type, &rec, &old) == MV_OK) {
          const char *opid = compartment_of(q, old);
          json_object_put(old);
          if (api_access(q, MV_AUTH_ACT_UPDATE, p->type, opid) != MV_OK) {
            mv_store_record_release(&rec);
            deny(q, p->type, p->id, opid, "access denied");
            goto fail_ws;
          }
        }
      } else {
        j->created = true;
      }
      if (rc == MV_OK || rc == MV_EGONE)
        mv_store_record_release(&rec);
    } else {
      j->created = true;
    }
    if (api_access(
            q, op == MV_STORE_CREATE ? MV_AUTH_ACT_CREATE : MV_AUTH_ACT_UPDATE,
            p->type, pid) != MV_OK) {
      deny(q, p->type, j->ws[0].id, pid, "access denied");
      goto fail_ws;
    }
    j->n = 1;
    if (op == MV_STORE_CREATE && strcmp(p->type, "Patient") == 0 &&
        q->who.role == MV_AUTH_ROLE_CLINICIAN && q->agent_ref) {
      if ((rc = api_care_team_for(q, j->ws[0].id, &j->ws[1])) != MV_OK) {
        api_fail_err(q, rc, NULL, "create");
        goto fail_ws;
      }
      j->n = 2;
    }
  }
  rc = api_audit_write(q, q->interaction, j->ws[0].type, j->ws[0].id,
                       j->ws[0].w.patient_id, 0, &j->ws[j->n]);
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "audit");
    goto fail_ws;
  }
  j->n++;
  j->main = 0;
  submit_writes(j);
  return;
fail_ws:
  for (size_t i = 0; i < 4; i++)
    json_object_put(j->ws[i].res);
fail:
  json_object_put(res);
  api_finish(q);
}

/* ---- history and search ------------------------------------------------ */

struct hist {
  struct api_req *q;
  const char *type;
  const char *id; /* instance history: the id; type history: NULL */
  struct json_object *bundle;
  int rc;
};

static int hist_add(struct hist *h, const char *id,
                    const struct mv_store_record *rec) {
  struct json_object *res = NULL;
  enum mv_fhir_method m = rec->deleted        ? MV_FHIR_METHOD_DELETE
                          : rec->version == 1 ? MV_FHIR_METHOD_POST
                                              : MV_FHIR_METHOD_PUT;
  int st = rec->deleted ? 204 : rec->version == 1 ? 201 : 200;
  if (!rec->deleted && rec->body) {
    int rc = api_load_record(h->q, h->type, rec, &res);
    if (rc != MV_OK) {
      h->rc = rc;
      return 1;
    }
  }
  const char *url = m == MV_FHIR_METHOD_POST
                        ? h->type
                        : mv_arena_printf(h->q->a, "%s/%s", h->type, id);
  int rc = mv_fhir_bundle_add_history(
      h->bundle, api_url(h->q, "/fhir/%s/%s", h->type, id), res, m, url, st,
      rec->version, rec->updated_us);
  if (rc != MV_OK) {
    h->rc = rc;
    return 1;
  }
  return 0;
}

static int hist_instance_visit(void *ctx, const struct mv_store_record *rec) {
  struct hist *h = ctx;
  return hist_add(h, h->id, rec);
}

static int hist_type_visit(void *ctx, const char *id,
                           const struct mv_store_record *rec) {
  return hist_add(ctx, id, rec);
}

static void do_history_instance(struct api_req *q, const struct fpath *p) {
  struct mv_store_record rec = {0};
  struct json_object *cur = NULL;
  const char *pid = "";
  struct hist h = {q, p->type, p->id, NULL, MV_OK};
  int rc;

  q->interaction = "history-instance";
  /* The compartment is that of the newest readable version. */
  rc = mv_store_read(q->api->store, p->type, p->id, 0, &rec);
  if (rc == MV_OK) {
    if (api_load_record(q, p->type, &rec, &cur) == MV_OK)
      pid = compartment_of(q, cur);
    mv_store_record_release(&rec);
  } else if (rc == MV_EGONE) {
    mv_store_record_release(&rec);
    /* Deleted: look at the last version with a body. */
    struct mv_store_record old = {0};
    int64_t v = rec.version - 1;
    if (v >= 1 &&
        mv_store_read(q->api->store, p->type, p->id, v, &old) == MV_OK) {
      if (api_load_record(q, p->type, &old, &cur) == MV_OK)
        pid = compartment_of(q, cur);
      mv_store_record_release(&old);
    }
  } else {
    api_fail_err(q, rc, NULL, "history");
    goto out;
  }
  if (api_access(q, MV_AUTH_ACT_HISTORY, p->type, pid) != MV_OK) {
    deny(q, p->type, p->id, pid, "access denied");
    goto out;
  }
  rc = mv_fhir_bundle_page_new("history", -1, api_url(q, "%s", q->r->path),
                               NULL, &h.bundle);
  if (rc == MV_OK)
    rc = mv_store_history(q->api->store, p->type, p->id,
                          MV_STORE_QUERY_LIMIT_MAX, hist_instance_visit, &h);
  if (rc == MV_OK)
    rc = h.rc;
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "history");
    goto out;
  }
  struct json_object *entries;
  size_t n = json_object_object_get_ex(h.bundle, "entry", &entries)
                 ? json_object_array_length(entries)
                 : 0;
  json_object_object_add(h.bundle, "total", json_object_new_int64((int64_t)n));
  api_json(q, 200, h.bundle);
  api_audit_async(q, q->interaction, p->type, p->id, pid, 0);
out:
  json_object_put(cur);
  json_object_put(h.bundle);
  api_finish(q);
}

/* Type history spans patients, so it is for admins (and auditors for
 * AuditEvent) only: mv_auth_decide gets no compartment. */
static void do_history_type(struct api_req *q, const struct fpath *p) {
  struct hist h = {q, p->type, NULL, NULL, MV_OK};
  int64_t total = -1, since = INT64_MIN;
  unsigned count = 100, offset = 0;
  const char *v;
  int rc;

  q->interaction = "history-type";
  if (api_access(q, MV_AUTH_ACT_HISTORY, p->type, "") != MV_OK ||
      (q->who.role != MV_AUTH_ROLE_ADMIN &&
       !(q->who.role == MV_AUTH_ROLE_AUDITOR &&
         strcmp(p->type, "AuditEvent") == 0))) {
    deny(q, p->type, NULL, NULL, "type history is for administrators");
    goto out;
  }
  if ((v = mv_http_query(q->x, "_since"))) {
    int64_t hi;
    if (mv_fhir_date_parse(v, MV_FHIR_INSTANT, &since, &hi, NULL) != MV_OK) {
      api_fail(q, 400, "invalid", "_since", "_since must be an instant");
      goto out;
    }
  }
  if ((v = mv_http_query(q->x, "_count"))) {
    char *end = NULL;
    long c = strtol(v, &end, 10);
    if (!end || *end || c < 1 || c > (long)MV_STORE_QUERY_LIMIT_MAX) {
      api_fail(q, 400, "invalid", "_count", "_count must be 1..1000");
      goto out;
    }
    count = (unsigned)c;
  }
  if ((v = mv_http_query(q->x, "_offset"))) {
    char *end = NULL;
    long o = strtol(v, &end, 10);
    if (!end || *end || o < 0 || o > 100000000L) {
      api_fail(q, 400, "invalid", "_offset", "_offset must be >= 0");
      goto out;
    }
    offset = (unsigned)o;
  }
  const char *self = api_url(q, "/fhir/%s/_history?_count=%u&_offset=%u",
                             p->type, count, offset);
  rc = mv_fhir_bundle_page_new("history", -1, self, NULL, &h.bundle);
  if (rc == MV_OK)
    rc = mv_store_history_type(q->api->store, p->type, since, count, offset,
                               hist_type_visit, &h, &total);
  if (rc == MV_OK)
    rc = h.rc;
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "history");
    goto out;
  }
  if (total >= 0)
    json_object_object_add(h.bundle, "total", json_object_new_int64(total));
  if (total > (int64_t)offset + count) {
    struct json_object *links, *l = json_object_new_object();
    char tail[64];
    snprintf(tail, sizeof(tail), "&_offset=%u", offset + count);
    json_object_object_add(l, "relation", json_object_new_string("next"));
    json_object_object_add(
        l, "url",
        json_object_new_string(
            api_url(q, "/fhir/%s/_history?_count=%u%s%s%s", p->type, count,
                    tail, since != INT64_MIN ? "&_since=" : "",
                    since != INT64_MIN ? mv_http_query(q->x, "_since") : "")));
    if (json_object_object_get_ex(h.bundle, "link", &links))
      json_object_array_add(links, l);
    else
      json_object_put(l);
  }
  api_json(q, 200, h.bundle);
  api_audit_async(q, q->interaction, p->type, NULL, NULL, 0);
out:
  json_object_put(h.bundle);
  api_finish(q);
}

static void do_search(struct api_req *q, const struct fpath *p,
                      const char *query) {
  struct json_object *b = NULL;
  q->interaction = "search-type";
  if (api_search_run(q, p->type, query, &b) == MV_OK)
    api_json(q, 200, b);
  json_object_put(b);
  api_finish(q);
}

static void do_metadata(struct api_req *q) {
  struct json_object *cs = NULL;
  int rc = mv_fhir_capability(api_url(q, "/fhir"), &cs);
  if (rc != MV_OK)
    api_fail_err(q, rc, NULL, "capabilities");
  else
    api_json(q, 200, cs);
  json_object_put(cs);
  api_finish(q);
}

void api_fhir_job(struct api_req *q) {
  struct fpath p;
  int rc = split_path(q, &p);
  if (rc != MV_OK) {
    api_fail(q, 404, "not-found", NULL, "no such FHIR endpoint");
    api_finish(q);
    return;
  }
  if (p.metadata) {
    if (!method_is(q, "GET"))
      goto method;
    do_metadata(q); /* public, as FHIR clients expect */
    return;
  }
  if (api_authenticate(q) != 0) {
    api_finish(q);
    return;
  }
  if (!p.type) {
    if (!method_is(q, "POST"))
      goto method;
    struct json_object *b = body_resource(q, "Bundle");
    if (!b) {
      api_finish(q);
      return;
    }
    api_bundle_job(q, b);
    return;
  }
  if (p.op && strcmp(p.op, "_search") == 0) {
    if (!method_is(q, "POST"))
      goto method;
    do_search(q, &p, q->r->body);
    return;
  }
  if (p.op && p.id) {
    if (strcmp(p.op, "$erase") == 0 && strcmp(p.type, "Patient") == 0 &&
        method_is(q, "POST")) {
      api_erase(q, p.id);
      return;
    }
    api_fail(q, 404, "not-supported", NULL, "unknown operation");
    api_finish(q);
    return;
  }
  if (p.history) {
    if (!method_is(q, "GET"))
      goto method;
    if (p.id) {
      do_history_instance(q, &p);
    } else {
      do_history_type(q, &p);
    }
    return;
  }
  if (!p.id) {
    if (method_is(q, "GET"))
      do_search(q, &p, q->r->query);
    else if (method_is(q, "POST"))
      do_write(q, &p, MV_STORE_CREATE);
    else
      goto method;
    return;
  }
  if (method_is(q, "GET"))
    do_read(q, &p);
  else if (method_is(q, "PUT") && !p.version)
    do_write(q, &p, MV_STORE_UPDATE);
  else if (method_is(q, "DELETE") && !p.version)
    do_write(q, &p, MV_STORE_DELETE);
  else
    goto method;
  return;
method:
  api_fail(q, 405, "not-supported", NULL, "method not allowed here");
  api_header(q, "Allow",
             p.metadata  ? "GET"
             : !p.type   ? "POST"
             : p.op      ? "POST"
             : p.history ? "GET"
             : p.version ? "GET"
             : p.id      ? "GET, PUT, DELETE"
                         : "GET, POST");
  api_finish(q);
}
