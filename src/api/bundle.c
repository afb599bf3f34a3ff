/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batch and transaction Bundles (FHIR R4 §3.1.0.11) and the $erase
 * operation. A transaction is planned (urn:uuid references resolved),
 * every entry validated and access-checked, and then written as ONE store
 * transaction together with its AuditEvents: one invalid entry and nothing
 * is written. A batch runs each entry on its own; its write entries are
 * queued together so they share group commits, and the answer waits for all.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "mv_json.h"
#include "mv_log.h"
#include "mv_rand.h"

/* One entry's work. */
struct bent {
  const struct mv_fhir_bundle_entry *e;
  struct api_write w[3]; /* the write, its AuditEvent, a CareTeam */
  size_t nw;
  int status;              /* HTTP status of the entry's answer */
  struct json_object *out; /* resource or outcome for the answer */
  bool is_outcome;
  struct mv_store_result res;
  int err;
};

struct bjob {
  struct api_req *q;
  struct json_object *bundle;
  struct mv_fhir_bundle_plan plan;
  struct bent *ents;
  /* batch: the latch the answer waits on */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t pending;
};

static struct json_object *outcome1(int err, const char *expr,
                                    const char *what) {
  return mv_fhir_outcome_single(MV_FHIR_ERROR, mv_fhir_issue_code_for(err),
                                expr, "%s: %s", what, mv_strerror(err));
}

static const char *entry_expr(struct api_req *q, size_t i) {
  return mv_arena_printf(q->a, "Bundle.entry[%zu].resource", i);
}

/* A write entry: validate, check references and access, prepare the store
 * writes (the resource and its AuditEvent). fills be->status/out on error.
 * created: "Type/id" of writes in the same transaction (resolved urns). */
static int prepare_entry(struct api_req *q, struct bent *be, bool tx,
                         const char *const *created, size_t n_created) {
  const struct mv_fhir_bundle_entry *e = be->e;
  struct mv_fhir_outcome oo;
  const char *pid = "";
  enum mv_store_op op;
  int rc;
  (void)tx;
  mv_fhir_outcome_init(&oo);
  if (strcmp(e->type, "AuditEvent") == 0) {
    be->status = 403;
    be->out = mv_fhir_outcome_single(MV_FHIR_ERROR, "forbidden", NULL,
                                     "AuditEvents are written by the server");
    return MV_EPERM;
  }
  if (e->method == MV_FHIR_METHOD_DELETE) {
    struct mv_store_record rec = {0};
    struct json_object *old = NULL;
    struct mv_fhir_index idx;
    rc = mv_store_read(q->api->store, e->type, e->id, 0, &rec);
    if (rc == MV_EGONE) {
      mv_store_record_release(&rec);
      be->status = 204;
      return MV_OK; /* nothing to write */
    }
    if (rc != MV_OK) {
      be->status = mv_err_http_status(rc);
      be->out = outcome1(rc, NULL, "delete");
      return rc;
    }
    rc = api_load_record(q, e->type, &rec, &old);
    mv_store_record_release(&rec);
    if (rc == MV_OK && mv_fhir_index_extract(old, q->a, &idx) == MV_OK &&
        idx.patient_id)
      pid = mv_arena_strdup(q->a, idx.patient_id);
    json_object_put(old);
    if (api_access(q, MV_AUTH_ACT_DELETE, e->type, pid) != MV_OK) {
      api_audit_async(q, "delete", e->type, e->id, pid, 4);
      be->status = 403;
      be->out = mv_fhir_outcome_single(MV_FHIR_ERROR, "forbidden", NULL,
                                       "access denied");
      return MV_EPERM;
    }
    memset(&be->w[0], 0, sizeof(be->w[0]));
    be->w[0].type = e->type;
    be->w[0].id = e->id;
    be->w[0].w.op = MV_STORE_DELETE;
    be->w[0].w.type = e->type;
    be->w[0].w.id = e->id;
    be->w[0].w.if_version = e->if_match;
    be->w[0].w.date_us = MV_STORE_NO_DATE;
    be->w[0].w.date_hi_us = MV_STORE_NO_DATE;
    be->w[0].w.patient_id = *pid ? pid : NULL;
    be->nw = 1;
    be->status = 204;
  } else {
    struct json_object *res = e->resource;
    json_object_get(res); /* the write takes a reference */
    if (e->method == MV_FHIR_METHOD_POST)
      json_object_object_add(res, "id", json_object_new_string(e->id));
    rc = mv_fhir_validate(res, e->type, &oo);
    if (rc == MV_OK) {
      /* References to entries of this transaction exist once it commits. */
      rc = api_check_refs_except(q, res, entry_expr(q, e->index), created,
                                 n_created, &oo);
    }
    if (rc != MV_OK) {
      json_object_put(res);
      be->status = rc == MV_EUNSUPPORTED ? 400 : 422;
      API_IGNORE(mv_fhir_outcome_to_json(&oo, &be->out));
      be->is_outcome = true;
      return rc == MV_EUNSUPPORTED ? MV_EINVAL : rc;
    }
    op = e->method == MV_FHIR_METHOD_POST ? MV_STORE_CREATE : MV_STORE_UPDATE;
    if ((rc = api_write_prepare(q, res, op, &be->w[0], &oo)) != MV_OK) {
      json_object_put(res);
      be->status = 422;
      API_IGNORE(mv_fhir_outcome_to_json(&oo, &be->out));
      return rc;
    }
    be->w[0].w.if_version = e->if_match;
    pid = be->w[0].w.patient_id ? be->w[0].w.patient_id : "";
    if (api_access(
            q, op == MV_STORE_CREATE ? MV_AUTH_ACT_CREATE : MV_AUTH_ACT_UPDATE,
            e->type, pid) != MV_OK) {
      api_audit_async(q, op == MV_STORE_CREATE ? "create" : "update", e->type,
                      e->id, pid, 4);
      be->status = 403;
      be->out = mv_fhir_outcome_single(MV_FHIR_ERROR, "forbidden", NULL,
                                       "access denied");
      return MV_EPERM;
    }
    be->nw = 1;
    be->status = op == MV_STORE_CREATE ? 201 : 200;
  }
  rc = api_audit_write(q,
                       e->method == MV_FHIR_METHOD_POST     ? "create"
                       : e->method == MV_FHIR_METHOD_DELETE ? "delete"
                                                            : "update",
                       e->type, e->id, *pid ? pid : NULL, 0, &be->w[1]);
  if (rc != MV_OK) {
    be->status = 500;
    be->out = outcome1(rc, NULL, "audit");
    return rc;
  }
  be->nw = 2;
  if (e->method == MV_FHIR_METHOD_POST && strcmp(e->type, "Patient") == 0 &&
      q->who.role == MV_AUTH_ROLE_CLINICIAN && q->agent_ref) {
    if ((rc = api_care_team_for(q, e->id, &be->w[2])) != MV_OK) {
      be->status = 500;
      be->out = outcome1(rc, NULL, "care team");
      return rc;
    }
    be->nw = 3;
  }
  return MV_OK;
}

/* A GET entry (batch only): read, vread or search, answered now. */
static void get_entry(struct api_req *q, struct bent *be) {
  const struct mv_fhir_bundle_entry *e = be->e;
  if (e->query || !e->id) {
    struct json_object *b = NULL;
    struct mv_buf saved = q->out;
    mv_buf_init(&q->out, MV_LIMIT_HTTP_RESP_MAX);
    int rc = api_search_run(q, e->type, e->query ? e->query : "", &b);
    if (rc == MV_OK) {
      be->status = 200;
      be->out = b;
    } else {
      be->status = q->status;
      API_IGNORE(
          mv_json_parse(mv_buf_cstr(&q->out), q->out.len, &be->out, NULL));
      be->is_outcome = true;
    }
    mv_buf_release(&q->out);
    q->out = saved;
    return;
  }
  struct mv_store_record rec = {0};
  struct json_object *res = NULL;
  struct mv_fhir_index idx;
  int rc = mv_store_read(q->api->store, e->type, e->id, e->version, &rec);
  if (rc == MV_EGONE)
    mv_store_record_release(&rec);
  if (rc != MV_OK) {
    be->status = mv_err_http_status(rc);
    be->out = outcome1(rc, NULL, "read");
    be->is_outcome = true;
    return;
  }
  rc = rec.deleted ? MV_EGONE : api_load_record(q, e->type, &rec, &res);
  be->res.version = rec.version;
  be->res.updated_us = rec.updated_us;
  mv_store_record_release(&rec);
  if (rc != MV_OK) {
    be->status = mv_err_http_status(rc);
    be->out = outcome1(rc, NULL, "read");
    be->is_outcome = true;
    return;
  }
  const char *pid = "";
  if (mv_fhir_index_extract(res, q->a, &idx) == MV_OK && idx.patient_id)
    pid = idx.patient_id;
  if (api_access(q, e->version ? MV_AUTH_ACT_VREAD : MV_AUTH_ACT_READ, e->type,
                 pid) != MV_OK) {
    json_object_put(res);
    api_audit_async(q, "read", e->type, e->id, pid, 4);
    be->status = 403;
    be->out = mv_fhir_outcome_single(MV_FHIR_ERROR, "forbidden", NULL,
                                     "access denied");
    be->is_outcome = true;
    return;
  }
  api_audit_async(q, "read", e->type, e->id, pid, 0);
  be->status = 200;
  be->out = res;
}

/* Drop what the entries still hold, the Bundle, and answer. */
static void release_and_finish(struct bjob *j) {
  for (size_t i = 0; i < j->plan.n; i++) {
    json_object_put(j->ents[i].out);
    for (size_t k = 0; k < MV_ARRAY_LEN(j->ents[i].w); k++)
      json_object_put(j->ents[i].w[k].res);
  }
  json_object_put(j->bundle);
  api_finish(j->q);
}

/* The ledger entry of each written entry, as an extension of its
 * Bundle.entry.response (the index as a decimal string: FHIR R4 integers
 * are 32-bit), and the lowest of them in the X-Ledger-Index header (a
 * transaction's entries are consecutive in the log). */
#define LEDGER_INDEX_EXT                                                       \
  "https://medverse.dev/fhir/StructureDefinition/ledger-index"

static void ledger_indexes(struct bjob *j, struct json_object *bundle) {
  struct json_object *entries;
  int64_t first = -1;
  if (!json_object_object_get_ex(bundle, "entry", &entries) ||
      !json_object_is_type(entries, json_type_array))
    return;
  for (size_t i = 0; i < j->plan.n; i++) {
    struct bent *be = &j->ents[i];
    struct json_object *e, *resp;
    char li[24];
    if (be->err != MV_OK || be->nw == 0 ||
        be->e->method == MV_FHIR_METHOD_GET || be->res.ledger_index < 0)
      continue;
    e = json_object_array_get_idx(entries, i);
    if (!e || !json_object_object_get_ex(e, "response", &resp))
      continue;
    snprintf(li, sizeof(li), "%lld", (long long)be->res.ledger_index);
    struct json_object *ext = json_object_new_array();
    struct json_object *x = json_object_new_object();
    json_object_object_add(x, "url", json_object_new_string(LEDGER_INDEX_EXT));
    json_object_object_add(x, "valueString", json_object_new_string(li));
    json_object_array_add(ext, x);
    json_object_object_add(resp, "extension", ext);
    if (first < 0 || be->res.ledger_index < first)
      first = be->res.ledger_index;
  }
  if (first >= 0) {
    char li[24];
    snprintf(li, sizeof(li), "%lld", (long long)first);
    api_header(j->q, "X-Ledger-Index", li);
  }
}

/* Build and send the batch-response / transaction-response. */
static void answer(struct bjob *j) {
  struct api_req *q = j->q;
  size_t n = j->plan.n;
  struct mv_fhir_bundle_reply *rs =
      mv_arena_zalloc(q->a, (n ? n : 1) * sizeof(*rs));
  struct json_object *out = NULL;
  if (!rs) {
    api_fail_err(q, MV_ENOMEM, NULL, "bundle");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    struct bent *be = &j->ents[i];
    struct mv_fhir_bundle_reply *r = &rs[i];
    r->status = be->status;
    r->last_modified_us = MV_FHIR_NO_DATE;
    if (be->err == MV_OK && be->nw > 0 && be->e->method != MV_FHIR_METHOD_GET) {
      r->version = be->res.version;
      r->last_modified_us = be->res.updated_us;
      if (be->e->method != MV_FHIR_METHOD_DELETE) {
        r->location = mv_arena_printf(q->a, "%s/%s/_history/%lld", be->e->type,
                                      be->e->id, (long long)be->res.version);
        api_set_meta(be->w[0].res, be->res.version, be->res.updated_us);
        r->resource = be->w[0].res;
        be->w[0].res = NULL;
      }
      r->full_url = api_url(q, "/fhir/%s/%s", be->e->type, be->e->id);
    } else if (be->out) {
      if (be->is_outcome || be->status >= 300)
        r->outcome = be->out;
      else
        r->resource = be->out;
      be->out = NULL;
    }
  }
  if (mv_fhir_bundle_response(j->plan.transaction, rs, n, &out) != MV_OK) {
    api_fail_err(q, MV_ENOMEM, NULL, "bundle");
    goto done;
  }
  ledger_indexes(j, out);
  api_json(q, 200, out);
done:
  json_object_put(out);
  release_and_finish(j);
}

/* ---- transaction -------------------------------------------------------- */

static void tx_done(void *ctx, int status, size_t failed,
                    const struct mv_store_result *results) {
  struct bjob *j = ctx;
  struct api_req *q = j->q;
  if (status != MV_OK) {
    /* Which entry failed: map the write index back. */
    size_t k = 0;
    const char *expr = NULL;
    for (size_t i = 0; i < j->plan.n && failed != SIZE_MAX; i++) {
      struct bent *be = &j->ents[i];
      if (failed >= k && failed < k + be->nw) {
        expr = mv_arena_printf(q->a, "Bundle.entry[%zu]", be->e->index);
        break;
      }
      k += be->nw;
    }
    int st = status == MV_ECONFLICT   ? 412
             : status == MV_EEXISTS   ? 409
             : status == MV_ENOTFOUND ? 404
                                      : mv_err_http_status(status);
    api_fail(q, st, mv_fhir_issue_code_for(status), expr,
             "transaction failed, nothing was written: %s",
             mv_strerror(status));
    release_and_finish(j);
    return;
  }
  size_t k = 0;
  for (size_t i = 0; i < j->plan.n; i++) {
    struct bent *be = &j->ents[i];
    if (be->nw > 0)
      be->res = results[k];
    k += be->nw;
  }
  answer(j);
}

static void run_transaction(struct bjob *j) {
  struct api_req *q = j->q;
  size_t n = j->plan.n, nw = 0;
  const char **created = mv_arena_zalloc(q->a, (n ? n : 1) * sizeof(*created));
  const char **fresh = mv_arena_zalloc(q->a, (n ? n : 1) * sizeof(*fresh));
  size_t nfresh = 0;
  struct mv_store_write *ws;
  int rc;
  if (!created || !fresh)
    goto nomem;
  if (n * 3 > MV_STORE_TX_MAX) {
    api_fail(q, 413, "too-costly", "Bundle.entry",
             "a transaction holds at most %u entries", MV_STORE_TX_MAX / 3);
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    const struct mv_fhir_bundle_entry *e = &j->plan.entries[i];
    if (e->method == MV_FHIR_METHOD_GET) {
      api_fail(q, 400, "not-supported",
               mv_arena_printf(q->a, "Bundle.entry[%zu].request.method", i),
               "GET entries are supported in batches, not transactions");
      goto fail;
    }
    if (e->method != MV_FHIR_METHOD_DELETE)
      created[i] = mv_arena_printf(q->a, "%s/%s", e->type, e->id);
    if (e->method == MV_FHIR_METHOD_POST && strcmp(e->type, "Patient") == 0)
      fresh[nfresh++] = e->id;
  }
  q->fresh = fresh;
  q->n_fresh = nfresh;
  for (size_t oi = 0; oi < n; oi++) {
    size_t i = j->plan.order[oi];
    struct bent *be = &j->ents[i];
    rc = prepare_entry(q, be, true, created, n);
    if (rc != MV_OK) {
      /* The whole transaction fails with this entry's answer. */
      struct json_object *o = be->out;
      be->out = NULL;
      if (o) {
        api_json(q, be->status >= 400 ? be->status : 400, o);
        json_object_put(o);
      } else {
        api_fail(q, 400, "invalid", NULL, "transaction entry rejected");
      }
      goto fail;
    }
    nw += be->nw;
  }
  if (nw == 0) {
    answer(j);
    return;
  }
  ws = mv_arena_zalloc(q->a, nw * sizeof(*ws));
  if (!ws)
    goto nomem;
  nw = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < j->ents[i].nw; k++)
      ws[nw++] = j->ents[i].w[k].w;
  rc = mv_store_submit_tx(q->api->store, ws, nw, tx_done, j);
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "transaction");
    goto fail;
  }
  return;
nomem:
  api_fail_err(q, MV_ENOMEM, NULL, "transaction");
fail:
  release_and_finish(j);
}

/* ---- batch ---------------------------------------------------------------- */

struct bwait {
  struct bjob *j;
  struct bent *be;
};

static void batch_done(void *ctx, int status, size_t failed,
                       const struct mv_store_result *results) {
  struct bwait *w = ctx;
  struct bjob *j = w->j;
  (void)failed;
  if (status == MV_OK) {
    w->be->res = results[0];
  } else {
    w->be->err = status;
    w->be->status = status == MV_ECONFLICT ? 412 : mv_err_http_status(status);
    w->be->out = outcome1(status, NULL, "write");
    w->be->is_outcome = true;
  }
  pthread_mutex_lock(&j->mu);
  if (--j->pending == 0)
    pthread_cond_signal(&j->cv);
  pthread_mutex_unlock(&j->mu);
}

static void run_batch(struct bjob *j) {
  struct api_req *q = j->q;
  pthread_mutex_init(&j->mu, NULL);
  pthread_cond_init(&j->cv, NULL);
  j->pending = 1; /* released after the loop */
  for (size_t i = 0; i < j->plan.n; i++) {
    struct bent *be = &j->ents[i];
    const struct mv_fhir_bundle_entry *e = be->e;
    if (e->err != MV_OK) {
      be->err = e->err;
      be->status = 400;
      if (e->issue) {
        struct mv_fhir_outcome oo;
        mv_fhir_outcome_init(&oo);
        oo.issues[0] = *e->issue;
        oo.n = 1;
        API_IGNORE(mv_fhir_outcome_to_json(&oo, &be->out));
      }
      be->is_outcome = true;
      continue;
    }
    if (e->method == MV_FHIR_METHOD_GET) {
      get_entry(q, be);
      continue;
    }
    if (prepare_entry(q, be, false, NULL, 0) != MV_OK) {
      be->err = MV_EINVAL;
      be->is_outcome = true;
      continue;
    }
    if (be->nw == 0)
      continue;
    struct mv_store_write ws[3] = {be->w[0].w, be->w[1].w, be->w[2].w};
    struct bwait *w = mv_arena_alloc(q->a, sizeof(*w));
    if (!w) {
      be->err = MV_ENOMEM;
      be->status = 503;
      continue;
    }
    w->j = j;
    w->be = be;
    pthread_mutex_lock(&j->mu);
    j->pending++;
    pthread_mutex_unlock(&j->mu);
    int rc = mv_store_submit_tx(q->api->store, ws, be->nw, batch_done, w);
    if (rc != MV_OK) {
      pthread_mutex_lock(&j->mu);
      j->pending--;
      pthread_mutex_unlock(&j->mu);
      be->err = rc;
      be->status = mv_err_http_status(rc);
      be->out = outcome1(rc, NULL, "write");
      be->is_outcome = true;
    }
  }
  pthread_mutex_lock(&j->mu);
  j->pending--;
  while (j->pending > 0)
    pthread_cond_wait(&j->cv, &j->mu);
  pthread_mutex_unlock(&j->mu);
  pthread_mutex_destroy(&j->mu);
  pthread_cond_destroy(&j->cv);
  answer(j);
}

/* Time-ordered ids, like every id the server assigns (mv_uuid7). */
static int new_id(void *ctx, char out[MV_LIMIT_ID_LEN + 1]) {
  char u[37];
  (void)ctx;
  int rc = mv_uuid7(u);
  if (rc == MV_OK)
    memcpy(out, u, sizeof(u));
  return rc;
}

void api_bundle_job(struct api_req *q, struct json_object *bundle) {
  struct bjob *j = mv_arena_zalloc(q->a, sizeof(*j));
  struct mv_fhir_outcome oo;
  int rc;
  q->interaction = "transaction";
  if (!j) {
    json_object_put(bundle);
    api_fail_err(q, MV_ENOMEM, NULL, "bundle");
    api_finish(q);
    return;
  }
  j->q = q;
  j->bundle = bundle;
  mv_fhir_outcome_init(&oo);
  rc = mv_fhir_bundle_plan(bundle, new_id, NULL, q->a, &j->plan, &oo);
  if (rc != MV_OK) {
    if (rc == MV_ETOOBIG)
      api_fail(q, 413, "too-costly", "Bundle.entry", "too many entries");
    else if (oo.n)
      api_outcome(q, 400, &oo);
    else
      api_fail_err(q, rc, NULL, "bundle");
    json_object_put(bundle);
    api_finish(q);
    return;
  }
  j->ents =
      mv_arena_zalloc(q->a, (j->plan.n ? j->plan.n : 1) * sizeof(*j->ents));
  if (!j->ents) {
    json_object_put(bundle);
    api_fail_err(q, MV_ENOMEM, NULL, "bundle");
    api_finish(q);
    return;
  }
  for (size_t i = 0; i < j->plan.n; i++)
    j->ents[i].e = &j->plan.entries[i];
  if (j->plan.transaction) {
    run_transaction(j);
  } else {
    q->interaction = "batch";
    run_batch(j);
  }
}

/* ---- $erase ---------------------------------------------------------------- */

void api_erase(struct api_req *q, const char *patient_id) {
  struct json_object *body = NULL, *params, *p0;
  const char *confirm = NULL;
  int64_t n = 0;
  int rc;

  q->interaction = "erase";
  if (api_access(q, MV_AUTH_ACT_ERASE, "Patient", patient_id) != MV_OK) {
    api_audit_async(q, "erase", "Patient", patient_id, NULL, 4);
    api_fail(q, 403, "forbidden", NULL, "only an administrator may erase");
    goto out;
  }
  /* Confirmation: a Parameters resource naming the patient again. */
  if (q->r->body_len == 0 ||
      mv_json_parse(q->r->body, q->r->body_len, &body, NULL) != MV_OK ||
      !body ||
      strcmp(
          json_object_get_string(json_object_object_get(body, "resourceType"))
              ? json_object_get_string(
                    json_object_object_get(body, "resourceType"))
              : "",
          "Parameters") != 0 ||
      !json_object_object_get_ex(body, "parameter", &params) ||
      !json_object_is_type(params, json_type_array)) {
    api_fail(q, 400, "required", "Parameters.parameter",
             "confirm the erasure with a Parameters resource holding "
             "confirm = the patient id");
    goto out;
  }
  for (size_t i = 0; i < json_object_array_length(params); i++) {
    p0 = json_object_array_get_idx(params, i);
    const char *nm = json_object_get_string(json_object_object_get(p0, "name"));
    if (nm && strcmp(nm, "confirm") == 0)
      confirm =
          json_object_get_string(json_object_object_get(p0, "valueString"));
  }
  if (!confirm || strcmp(confirm, patient_id) != 0) {
    api_fail(q, 400, "required", "Parameters.parameter",
             "confirm must repeat the patient id");
    goto out;
  }
  int64_t li = -1;
  rc = mv_store_erase_patient_ledger(q->api->store, patient_id, q->agent_ref,
                                     &n, &li);
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "erase");
    goto out;
  }
  if (li >= 0) {
    char lis[24];
    snprintf(lis, sizeof(lis), "%lld", (long long)li);
    api_header(q, "X-Ledger-Index", lis);
  }
  /* The audit record of an erasure is kept under the general key: the
   * patient's own key no longer exists. */
  api_audit_async(q, "erase", "Patient", patient_id, NULL, 0);
  {
    struct mv_fhir_outcome oo;
    mv_fhir_outcome_init(&oo);
    mv_fhir_outcome_add(&oo, MV_FHIR_INFORMATION, "informational", NULL,
                        "erased: %lld records are no longer readable",
                        (long long)n);
    api_outcome(q, 200, &oo);
  }
  MV_LOG_INFO("api", "a patient was erased by an administrator");
out:
  json_object_put(body);
  api_finish(q);
}
