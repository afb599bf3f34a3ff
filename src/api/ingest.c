/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes that do not come through HTTP (simulators; later the MLLP,
 * WebSocket and MQTT front doors): the same validation, indexing,
 * encryption and audit as an API write, built on a request context of
 * their own with its own arena, freed when the store has answered.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "mv_json.h"
#include "mv_rand.h"

struct ingest {
  struct api_req q;
  struct mv_http_req r;
  struct api_write w[2];
  mv_api_done_fn cb;
  void *ctx;
};

static void ingest_free(struct ingest *g) {
  struct mv_arena *a = g->q.a;
  json_object_put(g->w[0].res);
  json_object_put(g->w[1].res);
  mv_arena_free(a); /* g lives in it */
}

static void ingest_done(void *ctx, int status, size_t failed,
                        const struct mv_store_result *results) {
  struct ingest *g = ctx;
  struct mv_api_result r;
  (void)failed;
  memset(&r, 0, sizeof(r));
  r.ledger_index = -1;
  snprintf(r.id, sizeof(r.id), "%s", g->w[0].id);
  if (status == MV_OK) {
    r.version = results[0].version;
    r.updated_us = results[0].updated_us;
    r.ledger_index = results[0].ledger_index;
  }
  g->cb(g->ctx, status, &r);
  ingest_free(g);
}

static void set_diag_from(struct mv_diag *d, int rc,
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

void api_req_init_internal(struct api_req *q, struct mv_http_req *r,
                           struct mv_api *api, struct mv_arena *a) {
  memset(r, 0, sizeof(*r));
  r->method = "POST";
  r->path = "";
  r->query = "";
  r->body = "";
  r->remote = "";
  q->api = api;
  q->a = a;
  q->r = r;
  q->interaction = "create";
}

int mv_api_ingest(struct mv_api *api, const char *json, size_t len,
                  const char *actor, mv_api_done_fn cb, void *ctx,
                  struct mv_diag *diag) {
  struct mv_arena *a;
  struct ingest *g;
  struct json_object *res = NULL;
  struct mv_fhir_outcome oo;
  const char *type, *id;
  char idbuf[37];
  enum mv_store_op op = MV_STORE_UPDATE;
  int rc;

  if (!api || !json || !cb)
    return MV_EINVAL;
  if (!(a = mv_arena_new(MV_LIMIT_ARENA_DEFAULT)))
    return MV_ENOMEM;
  if (!(g = mv_arena_zalloc(a, sizeof(*g)))) {
    mv_arena_free(a);
    return MV_ENOMEM;
  }
  api_req_init_internal(&g->q, &g->r, api, a);
  g->q.agent_ref = actor ? mv_arena_strdup(a, actor) : NULL;
  g->cb = cb;
  g->ctx = ctx;
  mv_fhir_outcome_init(&oo);

  if ((rc = mv_json_parse(json, len, &res, diag)) != MV_OK)
    goto fail;
  if (!res || !json_object_is_type(res, json_type_object)) {
    rc = MV_EPARSE;
    mv_diag_set(diag, rc, "a resource must be a JSON object");
    goto fail;
  }
  type = json_object_get_string(json_object_object_get(res, "resourceType"));
  id = json_object_get_string(json_object_object_get(res, "id"));
  if (!type || !mv_fhir_type_supported(type) || strcmp(type, "Bundle") == 0 ||
      strcmp(type, "AuditEvent") == 0) {
    rc = MV_EINVAL;
    mv_diag_set(diag, rc, "not a resource type the server stores");
    mv_diag_set_path(diag, "resourceType");
    goto fail;
  }
  if (!id) {
    if ((rc = mv_uuid7(idbuf)) != MV_OK)
      goto fail;
    json_object_object_add(res, "id", json_object_new_string(idbuf));
    op = MV_STORE_CREATE;
  } else {
    g->q.interaction = "update";
  }
  if ((rc = mv_fhir_validate(res, type, &oo)) == MV_OK)
    rc = api_check_refs(&g->q, res, NULL, &oo);
  if (rc != MV_OK) {
    set_diag_from(diag, rc == MV_EUNSUPPORTED ? MV_EINVAL : rc, &oo);
    goto fail;
  }
  rc = api_write_prepare(&g->q, res, op, &g->w[0], &oo);
  res = NULL; /* taken */
  if (rc != MV_OK) {
    set_diag_from(diag, rc, &oo);
    goto fail;
  }
  rc = api_audit_write(&g->q, g->q.interaction, g->w[0].type, g->w[0].id,
                       g->w[0].w.patient_id, 0, &g->w[1]);
  if (rc != MV_OK)
    goto fail;
  struct mv_store_write ws[2] = {g->w[0].w, g->w[1].w};
  rc = mv_store_submit_tx(api->store, ws, 2, ingest_done, g);
  if (rc != MV_OK) {
    mv_diag_set(diag, rc, "the store did not take the write");
    goto fail;
  }
  return MV_OK;
fail:
  json_object_put(res);
  ingest_free(g);
  return rc;
}

struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  int status;
  struct mv_api_result r;
};

static void wake(void *ctx, int status, const struct mv_api_result *r) {
  struct waiter *w = ctx;
  pthread_mutex_lock(&w->mu);
  w->status = status;
  w->r = *r;
  w->done = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

int mv_api_ingest_sync(struct mv_api *api, const char *json, size_t len,
                       const char *actor, struct mv_api_result *out,
                       struct mv_diag *diag) {
  struct waiter w = {.done = false};
  int rc;
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  rc = mv_api_ingest(api, json, len, actor, wake, &w, diag);
  if (rc == MV_OK) {
    pthread_mutex_lock(&w.mu);
    while (!w.done)
      pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    rc = w.status;
    if (rc == MV_OK && out)
      *out = w.r;
    else if (rc != MV_OK)
      mv_diag_set(diag, rc, "the write failed");
  }
  pthread_cond_destroy(&w.cv);
  pthread_mutex_destroy(&w.mu);
  return rc;
}
