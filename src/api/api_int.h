/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface of the api module. One `struct api_req` lives in the
 * exchange's arena for each request; it is owned by exactly one thread at a
 * time: the loop thread (handler), then a pool thread (the work), then
 * possibly the store writer thread (write callback), then the loop thread
 * again (api_finish posts the answer). No two threads touch it at once.
 */
#ifndef MV_API_INT_H
#define MV_API_INT_H

#include <json-c/json.h>

#include "mv_api.h"
#include "mv_arena.h"
#include "mv_auth.h"
#include "mv_buf.h"
#include "mv_fhir.h"
#include "mv_fhir_search.h"
#include "mv_net.h"
#include "mv_store.h"

/* For results that truly do not matter (best effort), where (void) does not
 * silence warn_unused_result. */
#define API_IGNORE(x)                                                          \
  do {                                                                         \
    if (x) {                                                                   \
    }                                                                          \
  } while (0)

#define API_HDRS_MAX 8u
#define API_URL_MAX 512u
/* Patients a clinician's search is restricted to (their care teams). */
#define API_CARE_PATIENTS_MAX 1000u

struct mv_api {
  struct mv_server *srv;
  struct mv_store *store;
  struct mv_pool *pool;
  const struct mv_clock *clock;
  char base_url[API_URL_MAX];
  uint8_t token_key[32]; /* derived from the site key; wiped on free */
  unsigned token_ttl_s;
  struct mv_auth_limiter *limiter;      /* per account */
  struct mv_auth_limiter *addr_limiter; /* per client address */
  struct api_epi *epi;                  /* surveillance state (epi.c); owned */
  struct api_ledger *ledger;            /* ledger state (ledger.c); owned */
  struct api_triage *triage;            /* triage sessions (triage.c); owned */
  struct api_device *device;            /* /ws/device sessions (device_ws.c) */
  struct api_mllp *mllp;                /* MLLP listener (device_mllp.c) */
};

struct api_hdr {
  const char *name;
  const char *value;
};

struct api_req {
  struct mv_api *api;
  struct mv_http_exchange *x;
  struct mv_arena *a;
  const struct mv_http_req *r;
  bool authed;
  struct mv_auth_principal who;
  const char *agent_ref; /* "Practitioner/x", "Patient/x", "Device/x" or NULL */
  /* The answer, sent by api_finish. */
  int status;
  const char *ctype;
  struct mv_buf out;
  struct api_hdr hdrs[API_HDRS_MAX];
  size_t n_hdrs;
  /* For the audit trail of this request. */
  const char *interaction; /* "read", "create", ... */
  /* Patients created by this request (a transaction): a clinician creating
   * them joins their care team in the same transaction. */
  const char **fresh;
  size_t n_fresh;
  /* Work specific to the interaction (write callbacks). */
  void *work;
};

/* api.c: answers. All run on the thread that owns req; api_finish hands req
 * to the loop thread, after which the caller must not touch it. */
void api_finish(struct api_req *q);
void api_header(struct api_req *q, const char *name, const char *value);
/* Answer with json (borrowed) serialised as application/fhir+json. */
void api_json(struct api_req *q, int status, struct json_object *json);
/* Answer with an OperationOutcome of one issue. */
void api_fail(struct api_req *q, int status, const char *code,
              const char *expression, const char *fmt, ...) MV_PRINTF(5, 6);
void api_fail_err(struct api_req *q, int err, const char *expression,
                  const char *what);
void api_outcome(struct api_req *q, int status,
                 const struct mv_fhir_outcome *oo);
/* Hand a request to the worker pool: a `struct api_req` in the exchange's
 * arena (interaction: a static name for the audit trail, or NULL), then
 * fn(q) on a pool thread, which must end in api_finish. A full pool answers
 * 503 with Retry-After at once. Loop thread only. */
void api_dispatch(struct mv_api *api, struct mv_http_exchange *x,
                  const char *interaction, void (*fn)(struct api_req *q));
/* The server's own errors (413, 414, ...) under an API prefix as an
 * OperationOutcome (an mv_server_error_format callback). */
const char *api_error_format(void *ctx, int status, int err,
                             const char *message, struct mv_buf *out);
/* The base URL + path (arena). */
const char *api_url(struct api_req *q, const char *fmt, ...) MV_PRINTF(2, 3);

/* epi.c and ledger.c: their routes (called by mv_api_new) and their state
 * (freed by mv_api_free, after the server stopped; accept api->x NULL). */
struct api_epi;
struct api_ledger;
int api_epi_routes(struct mv_api *api, struct mv_diag *diag);
void api_epi_free(struct mv_api *api);
int api_ledger_routes(struct mv_api *api, struct mv_diag *diag);
void api_ledger_free(struct mv_api *api);
struct api_triage;
int api_triage_routes(struct mv_api *api, struct mv_diag *diag);
void api_triage_free(struct mv_api *api);
struct api_device;
struct api_mllp;
/* device_ws.c: /ws/device and the bulk NDJSON endpoint. */
int api_device_routes(struct mv_api *api, struct mv_diag *diag);
void api_device_free(struct mv_api *api);
/* device_mllp.c */
void api_mllp_free(struct mv_api *api);
/* device_pub.c: live publishing of durable device data to the /ws hub. */
struct mv_dev_obs;
void api_device_publish(struct mv_api *api, const struct mv_dev_obs *obs,
                        size_t n);

/* auth_http.c */
void api_token_job(struct api_req *q);
/* Authenticate the bearer token (and that the account is still enabled).
 * On failure answers 401 itself and returns non-zero. */
int api_authenticate(struct api_req *q);
/* ingest.c: a request context for a write that does not come over HTTP
 * (a POST create with empty path, query, body and remote), r and q in the
 * caller's arena a. */
void api_req_init_internal(struct api_req *q, struct mv_http_req *r,
                           struct mv_api *api, struct mv_arena *a);
/* The same checks for a WebSocket upgrade (loop thread): the bearer token
 * from the Authorization header or the access_token query, verified, and
 * the account still enabled (one indexed store read). Returns 0 and fills
 * out, or the HTTP status to refuse with (401) and a static message. */
struct mv_ws_upgrade;
int api_ws_authenticate(struct mv_api *api, struct mv_ws_upgrade *u,
                        struct mv_auth_principal *out, const char **out_msg);

/* access.c: one decision per access, facts gathered from the store. */
int api_access(struct api_req *q, enum mv_auth_action action, const char *type,
               const char *patient_id);
/* The patient ids a clinician may search (care teams minus consent denials);
 * *out_all set for roles not restricted to a list. */
int api_patient_scope(struct api_req *q, const char ***out_ids, size_t *out_n,
                      bool *out_all);

/* rest.c: the FHIR interactions. */
void api_fhir_job(struct api_req *q);
/* search.c: a search as a searchset Bundle (returned, caller releases with
 * json_object_put); on error the answer (OperationOutcome) is set on q. */
int api_search_run(struct api_req *q, const char *type, const char *query,
                   struct json_object **out_bundle);
/* bundle.c: batch/transaction (bundle taken) and Patient/$erase. Both end
 * in api_finish. */
void api_bundle_job(struct api_req *q, struct json_object *bundle);
void api_erase(struct api_req *q, const char *patient_id);

/* write.c: turning a resource into store writes. */
struct api_write {
  struct mv_store_write w;
  struct json_object *res; /* taken; the resource as stored (no meta) */
  const char *type;
  const char *id;
  struct mv_store_term *terms;
  size_t n_terms;
};
/* Prepare w for res (type/id set, meta.versionId/lastUpdated removed),
 * index columns filled from the resource. Arena-allocated. */
int api_write_prepare(struct api_req *q, struct json_object *res,
                      enum mv_store_op op, struct api_write *out,
                      struct mv_fhir_outcome *oo);
/* Check every relative reference points at an existing resource. */
int api_check_refs(struct api_req *q, struct json_object *res,
                   const char *base_expr, struct mv_fhir_outcome *oo);
int api_check_refs_except(struct api_req *q, struct json_object *res,
                          const char *base_expr, const char *const *except,
                          size_t n_except, struct mv_fhir_outcome *oo);
/* The stored body with meta.versionId and meta.lastUpdated set from rec.
 * Returned, caller releases with json_object_put. */
/* Set meta.versionId and meta.lastUpdated on a resource object. */
void api_set_meta(struct json_object *res, int64_t version, int64_t updated_us);
/* The same as an opaque node that serialises as the stored text with the
 * meta members spliced in, without parsing it (search pages). Only for
 * output: the node cannot be inspected. */
int api_record_raw(struct api_req *q, const struct mv_store_record *rec,
                   struct json_object **out_obj);
int api_load_record(struct api_req *q, const char *type,
                    const struct mv_store_record *rec,
                    struct json_object **out_obj);

/* rest.c: the CareTeam that makes the calling clinician care for a Patient
 * they create. */
int api_care_team_for(struct api_req *q, const char *patient_id,
                      struct api_write *out);

/* audit.c */
/* An AuditEvent for one interaction, ready to write (arena). outcome: 0
 * success, 4 minor failure (denied), 8 serious failure. */
int api_audit_write(struct api_req *q, const char *action_code,
                    const char *type, const char *id, const char *patient_id,
                    int outcome, struct api_write *out);
/* Write it without waiting (reads, searches, denials). */
void api_audit_async(struct api_req *q, const char *action_code,
                     const char *type, const char *id, const char *patient_id,
                     int outcome);

#endif
