/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batched device writes (mv_api.h, "device ingestion"): n resources parsed,
 * validated, reference-checked, access-checked, indexed and encrypted like
 * API creates, committed as ONE store transaction together with one
 * AuditEvent naming every record and patient of the batch and, when given,
 * the device stream's cursor (mv_store_submit_tx_cursor), so a batch is
 * stored whole or not at all and a replayed one is refused atomically.
 *
 * Per batch, not per item: the existence of each referenced resource
 * (devices send many Observations of one Patient) and each access decision
 * are looked up once.
 */
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "mv_json.h"
#include "mv_log.h"
#include "mv_rand.h"

/* A batch's arena: n bodies, their index terms and copies. Bounded: the
 * caller's input is bounded too (MV_STORE_TX_MAX items). */
#define BATCH_ARENA_MAX (64u * 1024u * 1024u)
/* Distinct references / access decisions remembered per batch. */
#define BATCH_CACHE_MAX 64u

struct access_memo {
  const char *pid;
  const char *type;
  enum mv_auth_action action;
};

struct batch {
  struct api_req q;
  struct mv_http_req r;
  struct api_write *w; /* n items + the AuditEvent */
  size_t n;
  mv_api_batch_fn cb;
  void *ctx;
  /* Existing resources ("Type/id") seen by this batch's reference checks. */
  const char *refs[BATCH_CACHE_MAX];
  size_t n_refs;
  struct access_memo allowed[BATCH_CACHE_MAX];
  size_t n_allowed;
};

static void batch_done(void *ctx, int status, size_t failed,
                       const struct mv_store_result *res) {
  struct batch *b = ctx;
  struct mv_api_result *out = mv_arena_zalloc(b->q.a, b->n * sizeof(*out));
  (void)failed;
  if (!out) { /* cannot happen in practice: the arena holds much more */
    struct mv_api_result one = {.ledger_index = -1};
    b->cb(b->ctx, status == MV_OK ? MV_ENOMEM : status, 0, &one);
    mv_arena_free(b->q.a);
    return;
  }
  for (size_t i = 0; i < b->n; i++) {
    snprintf(out[i].id, sizeof(out[i].id), "%s", b->w[i].id);
    out[i].ledger_index = -1;
    if (status == MV_OK) {
      out[i].version = res[i].version;
      out[i].updated_us = res[i].updated_us;
      out[i].ledger_index = res[i].ledger_index;
    }
  }
  b->cb(b->ctx, status, b->n, out);
  mv_arena_free(b->q.a); /* b lives in it */
}

static void diag_from(struct mv_diag *d, int rc,
                      const struct mv_fhir_outcome *oo) {
  for (size_t i = 0; i < oo->n; i++) {
    if (oo->issues[i].severity > MV_FHIR_ERROR)
      continue;
    mv_diag_set(d, rc, "%s", oo->issues[i].diagnostics);
    mv_diag_set_path(d, oo->issues[i].expression);
    return;
  }
  mv_diag_set(d, rc, "%s", mv_strerror(rc));
}

/* ---- References, checked once per batch ---------------------------------- */

struct ref_ctx {
  struct batch *b;
  struct mv_fhir_outcome *oo;
  int rc;
};

static bool ref_known(struct batch *b, const char *key) {
  for (size_t i = 0; i < b->n_refs; i++)
    if (strcmp(b->refs[i], key) == 0)
      return true;
  return false;
}

static int ref_bad(struct ref_ctx *c, const char *code, const char *expr,
                   const char *msg) {
  mv_fhir_outcome_add(c->oo, MV_FHIR_ERROR, code, expr, "%s", msg);
  c->rc = MV_EINVALID;
  return 0;
}

/* The same rules as api_check_refs (write.c), with the positive answers
 * remembered for the rest of the batch. */
static int ref_one(void *ctx, struct json_object *holder, const char *ref,
                   const char *expr) {
  struct ref_ctx *c = ctx;
  char type[MV_LIMIT_TYPE_LEN + 1], id[MV_LIMIT_ID_LEN + 1];
  char key[MV_LIMIT_TYPE_LEN + MV_LIMIT_ID_LEN + 2];
  struct mv_store_record rec = {0};
  const char *slash;
  (void)holder;
  if (ref[0] == '#' || strncmp(ref, "http://", 7) == 0 ||
      strncmp(ref, "https://", 8) == 0)
    return 0; /* contained or external: not ours to check */
  if (strncmp(ref, "urn:uuid:", 9) == 0)
    return ref_bad(c, "not-found", expr,
                   "urn:uuid references are only resolved inside a "
                   "transaction or batch Bundle");
  slash = strchr(ref, '/');
  if (!slash || slash == ref || (size_t)(slash - ref) > MV_LIMIT_TYPE_LEN ||
      strlen(slash + 1) > MV_LIMIT_ID_LEN)
    return ref_bad(c, "invalid", expr, "reference must be Type/id");
  memcpy(type, ref, (size_t)(slash - ref));
  type[slash - ref] = '\0';
  snprintf(id, sizeof(id), "%s", slash + 1);
  if (strchr(id, '/')) /* Type/id/_history/n: check the resource */
    *strchr(id, '/') = '\0';
  if (strcmp(type, "Bundle") == 0)
    return ref_bad(c, "not-found", expr,
                   "a reference cannot point at a Bundle");
  if (!mv_fhir_type_supported(type))
    return 0; /* held elsewhere: kept as given */
  snprintf(key, sizeof(key), "%s/%s", type, id);
  if (ref_known(c->b, key))
    return 0;
  int rc = mv_store_read(c->b->q.api->store, type, id, 0, &rec);
  if (rc == MV_OK || rc == MV_EGONE)
    mv_store_record_release(&rec);
  if (rc == MV_ENOTFOUND || rc == MV_EGONE || rc == MV_EINVAL)
    return ref_bad(c, "not-found", expr, "referenced resource does not exist");
  if (rc != MV_OK) {
    c->rc = rc;
    return 1;
  }
  if (c->b->n_refs < BATCH_CACHE_MAX) {
    const char *k = mv_arena_strdup(c->b->q.a, key);
    if (k)
      c->b->refs[c->b->n_refs++] = k;
  }
  return 0;
}

/* ---- Access, decided once per (patient, type, action) -------------------- */

static int access_once(struct batch *b, enum mv_auth_action action,
                       const char *type, const char *pid) {
  for (size_t i = 0; i < b->n_allowed; i++) {
    struct access_memo *m = &b->allowed[i];
    if (m->action == action && strcmp(m->type, type) == 0 &&
        strcmp(m->pid, pid) == 0)
      return MV_OK;
  }
  int rc = api_access(&b->q, action, type, pid);
  if (rc == MV_OK && b->n_allowed < BATCH_CACHE_MAX)
    b->allowed[b->n_allowed++] = (struct access_memo){pid, type, action};
  return rc;
}

/* The compartment patient of the stored current version of type/id ("" when
 * none or absent), for an update that might move a record. */
static int stored_patient(struct batch *b, const char *type, const char *id,
                          const char **out_pid) {
  struct mv_store_record rec = {0};
  struct json_object *old = NULL;
  struct mv_fhir_index idx;
  *out_pid = NULL;
  int rc = mv_store_read(b->q.api->store, type, id, 0, &rec);
  if (rc == MV_ENOTFOUND)
    return MV_OK;
  if (rc == MV_EGONE) {
    mv_store_record_release(&rec);
    return MV_OK; /* the store refuses writes to erased records itself */
  }
  if (rc != MV_OK)
    return rc;
  rc = api_load_record(&b->q, type, &rec, &old);
  mv_store_record_release(&rec);
  if (rc != MV_OK)
    return rc;
  rc = mv_fhir_index_extract(old, b->q.a, &idx);
  if (rc == MV_OK)
    *out_pid = mv_arena_strdup(b->q.a, idx.patient_id ? idx.patient_id : "");
  json_object_put(old);
  if (rc == MV_OK && !*out_pid)
    rc = MV_ENOMEM;
  return rc;
}

static int check_access(struct batch *b, struct api_write *w,
                        enum mv_store_op op, struct mv_diag *diag) {
  const char *pid = w->w.patient_id ? w->w.patient_id : "";
  const char *why = "the principal may not write this patient's records";
  int rc;
  if (!*pid) {
    rc = MV_EPERM;
    why = "a device record must belong to a patient";
  } else if (op == MV_STORE_UPDATE) {
    const char *opid = NULL;
    if ((rc = stored_patient(b, w->type, w->id, &opid)) != MV_OK)
      return mv_diag_set(diag, rc, "cannot read the record being updated");
    rc = opid ? access_once(b, MV_AUTH_ACT_UPDATE, w->type, opid) : MV_OK;
    if (rc == MV_OK)
      rc = access_once(b, opid ? MV_AUTH_ACT_UPDATE : MV_AUTH_ACT_CREATE,
                       w->type, pid);
  } else {
    rc = access_once(b, MV_AUTH_ACT_CREATE, w->type, pid);
  }
  if (rc != MV_OK) {
    rc = rc == MV_EPERM || rc == MV_EAUTH ? MV_EPERM : rc;
    mv_diag_set(diag, rc, "%s", why);
    mv_diag_set_path(diag, mv_arena_printf(b->q.a, "%s.subject", w->type));
  }
  return rc;
}

/* ---- One item ------------------------------------------------------------- */

static int prepare_item(struct batch *b, size_t i, const struct mv_api_item *it,
                        bool check_perm, struct json_object **objs,
                        enum mv_store_op *out_op, struct mv_diag *diag) {
  struct json_object *res = NULL;
  struct mv_fhir_outcome oo;
  const char *type, *id;
  char idbuf[37];
  enum mv_store_op op = MV_STORE_UPDATE;
  int rc;

  mv_fhir_outcome_init(&oo);
  if (!it->json)
    return mv_diag_set(diag, MV_EINVAL, "an item has no JSON");
  if ((rc = mv_json_parse(it->json, it->len, &res, diag)) != MV_OK)
    return rc;
  if (!res || !json_object_is_type(res, json_type_object)) {
    json_object_put(res);
    return mv_diag_set(diag, MV_EPARSE, "a resource must be a JSON object");
  }
  objs[i] = res; /* released by the caller from now on */
  type = json_object_get_string(json_object_object_get(res, "resourceType"));
  id = json_object_get_string(json_object_object_get(res, "id"));
  if (!type || !mv_fhir_type_supported(type) || strcmp(type, "Bundle") == 0 ||
      strcmp(type, "AuditEvent") == 0) {
    mv_diag_set(diag, MV_EINVAL, "not a resource type the server stores");
    mv_diag_set_path(diag, "resourceType");
    return MV_EINVAL;
  }
  if (!id) {
    if ((rc = mv_uuid7(idbuf)) != MV_OK)
      return rc;
    json_object_object_add(res, "id", json_object_new_string(idbuf));
    op = MV_STORE_CREATE;
  }
  if ((rc = mv_fhir_validate(res, type, &oo)) == MV_OK) {
    struct ref_ctx c = {b, &oo, MV_OK};
    rc = mv_fhir_references_each(res, ref_one, &c);
    if (rc == MV_OK)
      rc = c.rc;
  }
  if (rc != MV_OK) {
    diag_from(diag, rc == MV_EUNSUPPORTED ? MV_EINVAL : rc, &oo);
    return rc == MV_EUNSUPPORTED ? MV_EINVAL : rc;
  }
  rc = api_write_prepare(&b->q, res, op, &b->w[i], &oo);
  b->w[i].res = NULL; /* objs[i] keeps the resource (the terms point in it) */
  if (rc != MV_OK) {
    diag_from(diag, rc, &oo);
    return rc;
  }
  if (check_perm && (rc = check_access(b, &b->w[i], op, diag)) != MV_OK)
    return rc;
  *out_op = op;
  return MV_OK;
}

/* ---- The AuditEvent of the batch ------------------------------------------ */

static struct json_object *entity(const char *ref, bool person) {
  struct json_object *e = json_object_new_object(), *w, *t, *c;
  w = json_object_new_object();
  json_object_object_add(w, "reference", json_object_new_string(ref));
  json_object_object_add(e, "what", w);
  if (person) {
    t = json_object_new_object();
    json_object_object_add(
        t, "system",
        json_object_new_string(
            "http://terminology.hl7.org/CodeSystem/audit-entity-type"));
    json_object_object_add(t, "code", json_object_new_string("1"));
    json_object_object_add(t, "display", json_object_new_string("Person"));
    json_object_object_add(e, "type", t);
  } else {
    c = json_object_new_object();
    json_object_object_add(
        c, "system",
        json_object_new_string(
            "http://terminology.hl7.org/CodeSystem/audit-entity-type"));
    json_object_object_add(c, "code", json_object_new_string("2"));
    json_object_object_add(c, "display",
                           json_object_new_string("System Object"));
    json_object_object_add(e, "type", c);
  }
  return e;
}

/* One AuditEvent for the batch: an entity for every record and every
 * distinct patient. Filed under the patient when there is exactly one. */
static int audit_batch(struct batch *b, const char *interaction,
                       struct json_object **out_obj) {
  struct api_write *aw = &b->w[b->n];
  struct mv_fhir_outcome oo;
  const char *only = NULL;
  bool many = false;
  int rc;

  for (size_t i = 0; i < b->n; i++) {
    const char *p = b->w[i].w.patient_id;
    if (!p || !*p || (only && strcmp(only, p) != 0))
      many = true;
    else if (!only)
      only = p;
  }
  if (many)
    only = NULL;
  /* The generic event (agent, source, outcome, the one patient), then the
   * batch's entities added to it. */
  rc = api_audit_write(&b->q, interaction, NULL, NULL, only, 0, aw);
  struct json_object *ae = aw->res, *ents;
  aw->res = NULL;
  *out_obj = ae; /* released by the caller, also on error */
  if (rc != MV_OK)
    return rc;
  if (!ae)
    return MV_ENOMEM;
  if (!json_object_object_get_ex(ae, "entity", &ents)) {
    ents = json_object_new_array();
    json_object_object_add(ae, "entity", ents);
  }
  for (size_t i = 0; i < b->n; i++) {
    const char *ref =
        mv_arena_printf(b->q.a, "%s/%s", b->w[i].type, b->w[i].id);
    if (!ref)
      return MV_ENOMEM;
    json_object_array_add(ents, entity(ref, false));
  }
  if (many) { /* each distinct patient once */
    for (size_t i = 0; i < b->n; i++) {
      const char *p = b->w[i].w.patient_id;
      bool seen = !p || !*p;
      for (size_t k = 0; k < i && !seen; k++)
        seen = b->w[k].w.patient_id && strcmp(b->w[k].w.patient_id, p) == 0;
      if (seen)
        continue;
      const char *ref = mv_arena_printf(b->q.a, "Patient/%s", p);
      if (!ref)
        return MV_ENOMEM;
      json_object_array_add(ents, entity(ref, true));
    }
  }
  mv_fhir_outcome_init(&oo);
  rc = api_write_prepare(&b->q, ae, MV_STORE_CREATE, aw, &oo);
  aw->res = NULL; /* *out_obj keeps it */
  if (rc == MV_OK)
    aw->w.patient_id = only;
  return rc;
}

/* ---- The batch ------------------------------------------------------------ */

int mv_api_ingest_batch(struct mv_api *api, const struct mv_api_item *items,
                        size_t n, const struct mv_auth_principal *principal,
                        const char *actor, const struct mv_api_cursor *cursor,
                        mv_api_batch_fn cb, void *ctx, size_t *out_failed,
                        struct mv_diag *diag) {
  struct mv_arena *a = NULL;
  struct batch *b = NULL;
  struct json_object **objs = NULL;
  struct mv_store_write *ws = NULL;
  size_t failed = SIZE_MAX;
  bool all_create = true, all_update = true;
  int rc;

  if (out_failed)
    *out_failed = SIZE_MAX;
  if (!api || !items || !cb || n == 0)
    return mv_diag_set(diag, MV_EINVAL, "no items");
  if (n > MV_STORE_TX_MAX - 1) /* one slot is the AuditEvent's */
    return mv_diag_set(diag, MV_ETOOBIG, "more than %u items in one batch",
                       MV_STORE_TX_MAX - 1);
  if (cursor && (!mv_store_stream_ok(cursor->stream) || cursor->seq < 0)) {
    mv_diag_set(diag, MV_EINVAL, "bad stream name or sequence number");
    mv_diag_set_path(diag, "cursor");
    return MV_EINVAL;
  }
  if (actor &&
      (strnlen(actor, MV_LIMIT_LEDGER_ACTOR + 1) > MV_LIMIT_LEDGER_ACTOR ||
       !*actor))
    return mv_diag_set(diag, MV_EINVAL, "bad actor");
  if (!(a = mv_arena_new(BATCH_ARENA_MAX)))
    return MV_ENOMEM;
  objs = calloc(n + 1, sizeof(*objs));
  b = mv_arena_zalloc(a, sizeof(*b));
  if (!objs || !b) {
    rc = MV_ENOMEM;
    goto fail;
  }
  api_req_init_internal(&b->q, &b->r, api, a);
  b->n = n;
  b->cb = cb;
  b->ctx = ctx;
  if (principal) {
    b->q.who = *principal;
    b->q.authed = true;
  }
  if (actor) {
    if (!(b->q.agent_ref = mv_arena_strdup(a, actor))) {
      rc = MV_ENOMEM;
      goto fail;
    }
  } else if (principal && principal->fhir_id[0]) {
    /* as api_authenticate names the agent */
    if (principal->role == MV_AUTH_ROLE_PATIENT)
      b->q.agent_ref = mv_arena_printf(a, "Patient/%s", principal->fhir_id);
    else if (principal->role == MV_AUTH_ROLE_CLINICIAN ||
             principal->role == MV_AUTH_ROLE_ADMIN ||
             principal->role == MV_AUTH_ROLE_AUDITOR)
      b->q.agent_ref =
          mv_arena_printf(a, "Practitioner/%s", principal->fhir_id);
  }
  if (!(b->w = mv_arena_zalloc(a, (n + 1) * sizeof(*b->w))) ||
      !(ws = mv_arena_alloc(a, (n + 1) * sizeof(*ws)))) {
    rc = MV_ENOMEM;
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    enum mv_store_op op = MV_STORE_CREATE;
    if ((rc = prepare_item(b, i, &items[i], principal != NULL, objs, &op,
                           diag)) != MV_OK) {
      failed = i;
      goto fail;
    }
    all_create = all_create && op == MV_STORE_CREATE;
    all_update = all_update && op == MV_STORE_UPDATE;
  }
  const char *interaction = all_create   ? "create"
                            : all_update ? "update"
                                         : "batch";
  if ((rc = audit_batch(b, interaction, &objs[n])) != MV_OK) {
    mv_diag_set(diag, rc, "cannot build the audit event");
    goto fail;
  }
  for (size_t i = 0; i <= n; i++)
    ws[i] = b->w[i].w;
  struct mv_store_cursor sc;
  if (cursor)
    sc = (struct mv_store_cursor){cursor->stream, cursor->seq};
  rc = mv_store_submit_tx_cursor(api->store, ws, n + 1, cursor ? &sc : NULL,
                                 batch_done, b);
  if (rc != MV_OK) {
    mv_diag_set(diag, rc, "the store did not take the batch");
    goto fail;
  }
  /* From here b may already be freed by batch_done. The store copied every
   * write; the parsed resources are ours to release. */
  for (size_t i = 0; i <= n; i++)
    json_object_put(objs[i]);
  free(objs);
  return MV_OK;
fail:
  if (objs) {
    for (size_t i = 0; i <= n; i++)
      json_object_put(objs[i]);
    free(objs);
  }
  mv_arena_free(a);
  if (out_failed)
    *out_failed = failed;
  return rc;
}

int mv_api_cursor_get(struct mv_api *api, const char *stream,
                      int64_t *out_seq) {
  if (!api || !out_seq)
    return MV_EINVAL;
  *out_seq = -1;
  return mv_store_cursor_get(api->store, stream, out_seq);
}
