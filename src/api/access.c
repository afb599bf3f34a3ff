/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gathering the facts an access decision needs — is the clinician on the
 * patient's care team, does an active Consent deny them — from the store,
 * and handing them to mv_auth_decide(), the one place where the rules live.
 * Also the patient list a clinician's searches are confined to.
 */
#include <string.h>

#include "api_int.h"
#include "mv_log.h"

static int count_visit(void *ctx, const char *id,
                       const struct mv_store_record *rec) {
  (void)id;
  (void)rec;
  (*(int *)ctx)++;
  return 1; /* one is enough */
}

static bool exists(struct api_req *q, const struct mv_store_query *sq) {
  int n = 0;
  if (mv_store_search(q->api->store, sq, count_visit, &n, NULL) != MV_OK)
    return false; /* fail closed: no fact, no access */
  return n > 0;
}

/* Is there an active resource of `type` in patient pid's compartment with
 * a token `param` equal to one of values (any system)? Fails closed. */
static bool active_with(struct api_req *q, const char *type, const char *pid,
                        const char *param,
                        const struct mv_store_token_value *values, size_t n) {
  const char *pids[1] = {pid};
  const char *active[1] = {"active"};
  struct mv_store_token_cond tc = {param, values, n};
  struct mv_store_query sq = {
      .type = type,
      .patient_ids = pids,
      .n_patient_ids = 1,
      .tokens = &tc,
      .n_tokens = 1,
      .statuses = active,
      .n_statuses = 1,
      .limit = 1,
  };
  return n > 0 && exists(q, &sq);
}

static bool on_care_team(struct api_req *q, const char *pid) {
  struct mv_store_token_value v = {NULL, q->agent_ref};
  return q->agent_ref && active_with(q, "CareTeam", pid, "participant", &v, 1);
}

/* Consents are indexed with a "deny-actor" token for each actor of a deny
 * provision (write.c). */
static bool consent_denies(struct api_req *q, const char *pid) {
  struct mv_store_token_value v[2];
  size_t n = 0;
  if (q->agent_ref)
    v[n++] = (struct mv_store_token_value){NULL, q->agent_ref};
  if (q->who.org_id[0])
    v[n++] = (struct mv_store_token_value){
        NULL, mv_arena_printf(q->a, "Organization/%s", q->who.org_id)};
  return active_with(q, "Consent", pid, "deny-actor", v, n);
}

int api_access(struct api_req *q, enum mv_auth_action action, const char *type,
               const char *patient_id) {
  struct mv_auth_request r = {action, type, patient_id, false, false};
  const char *reason = NULL;
  if (q->who.role == MV_AUTH_ROLE_CLINICIAN && patient_id && *patient_id) {
    for (size_t i = 0; i < q->n_fresh && !r.on_care_team; i++)
      r.on_care_team = strcmp(q->fresh[i], patient_id) == 0;
    if (!r.on_care_team)
      r.on_care_team = on_care_team(q, patient_id);
    r.consent_denies = r.on_care_team && consent_denies(q, patient_id);
  }
  int rc = mv_auth_decide(&q->who, &r, &reason);
  if (rc != MV_OK)
    MV_LOG_DEBUG("api", "access denied (%s, care team %d, consent deny %d): %s",
                 q->interaction ? q->interaction : "-", r.on_care_team,
                 r.consent_denies, reason ? reason : "-");
  return rc;
}

struct scope_ctx {
  struct api_req *q;
  const char **ids;
  size_t n;
};

static int care_visit(void *ctx, const char *id,
                      const struct mv_store_record *rec) {
  struct scope_ctx *c = ctx;
  struct json_object *res = NULL;
  struct mv_fhir_index idx;
  (void)id;
  if (c->n >= API_CARE_PATIENTS_MAX)
    return 1;
  if (api_load_record(c->q, "CareTeam", rec, &res) != MV_OK)
    return 0;
  if (mv_fhir_index_extract(res, c->q->a, &idx) == MV_OK && idx.patient_id &&
      idx.patient_id[0]) {
    const char *pid = mv_arena_strdup(c->q->a, idx.patient_id);
    if (pid && !consent_denies(c->q, pid))
      c->ids[c->n++] = pid;
  }
  json_object_put(res);
  return 0;
}

int api_patient_scope(struct api_req *q, const char ***out_ids, size_t *out_n,
                      bool *out_all) {
  *out_ids = NULL;
  *out_n = 0;
  *out_all = false;
  switch (q->who.role) {
  case MV_AUTH_ROLE_ADMIN:
  case MV_AUTH_ROLE_AUDITOR:
    *out_all = true; /* the policy still decides per type */
    return MV_OK;
  case MV_AUTH_ROLE_PATIENT:
  case MV_AUTH_ROLE_DEVICE: {
    const char **ids = mv_arena_alloc(q->a, sizeof(*ids));
    if (!ids)
      return MV_ENOMEM;
    ids[0] = q->who.fhir_id;
    *out_ids = ids;
    *out_n = q->who.fhir_id[0] ? 1 : 0;
    return MV_OK;
  }
  case MV_AUTH_ROLE_CLINICIAN: {
    struct scope_ctx c = {q, NULL, 0};
    const char *active[1] = {"active"};
    struct mv_store_token_value v = {NULL, q->agent_ref};
    struct mv_store_token_cond tc = {"participant", &v, 1};
    struct mv_store_query sq = {
        .type = "CareTeam",
        .tokens = &tc,
        .n_tokens = 1,
        .statuses = active,
        .n_statuses = 1,
        .limit = API_CARE_PATIENTS_MAX,
    };
    c.ids = mv_arena_zalloc(q->a, API_CARE_PATIENTS_MAX * sizeof(*c.ids));
    if (!c.ids)
      return MV_ENOMEM;
    if (q->agent_ref) {
      int rc = mv_store_search(q->api->store, &sq, care_visit, &c, NULL);
      if (rc != MV_OK)
        return rc;
    }
    *out_ids = c.ids;
    *out_n = c.n;
    return MV_OK;
  }
  default:
    break;
  }
  return MV_EPERM;
}
