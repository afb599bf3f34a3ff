/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The clinical-records service: the FHIR R4 REST API under /fhir and the
 * token endpoint /auth/token, mounted on a server. It joins the modules:
 * fhir (validation, search parsing, Bundles), auth (tokens, the access
 * policy), store (durable, encrypted records) and net (HTTP). Requests are
 * handled on the worker pool; answers go back to the loop thread, and a write
 * is acknowledged only after its group commit is durable. Every access to
 * clinical data writes an AuditEvent.
 */
#ifndef MV_API_H
#define MV_API_H

#include "mv_clock.h"
#include "mv_err.h"

struct mv_api;
struct mv_server;
struct mv_store;
struct mv_pool;

struct mv_api_opts {
  struct mv_server *srv;        /* borrowed for the api's life */
  struct mv_store *store;       /* borrowed for the api's life */
  struct mv_pool *pool;         /* borrowed; runs the request work */
  const struct mv_clock *clock; /* borrowed; NULL = system clock */
  /* Public base URL of the server ("http://127.0.0.1:8080"), used in
   * Location headers, fullUrl and paging links. Copied. */
  const char *base_url;
  unsigned token_ttl_s; /* access token lifetime; 0 = 3600 */
  /* Failed logins per account or address within the window before 429;
   * 0 = 5 failures per 60 s. */
  unsigned login_max_failures;
  unsigned login_window_s;
};

/* Register the routes on opts->srv (before mv_server_run). Returned, caller
 * frees with mv_api_free() after the server stopped. */
MV_API MV_NODISCARD int mv_api_new(const struct mv_api_opts *opts,
                                   struct mv_api **out_api,
                                   struct mv_diag *diag);
/* Accepts NULL. The server must not run any more. */
MV_API void mv_api_free(struct mv_api *api);

/* The ledger routes (docs/API.md "Ledger"), before mv_server_run:
 * witnesses is a comma-separated list of cosignature/v1 verifier keys
 * (config ledger-witness; NULL or "" = none, copied) whose cosignatures
 * POST /ledger/cosignature accepts; GET /ledger/checkpoint serves the
 * newest checkpoint with at least quorum of them (0 = the newest).
 * MV_ECONFIG (diag says which key) for a malformed or non-witness key, more
 * than MV_LIMIT_LEDGER_WITNESSES keys, or a quorum above their number. */
MV_API MV_NODISCARD int mv_api_ledger_configure(struct mv_api *api,
                                                const char *witnesses,
                                                unsigned quorum,
                                                struct mv_diag *diag);

/*
 * Server-side writes (simulators now; device ingestion front doors later):
 * the same path as an API create or update — validation, reference checks,
 * indexing, encryption under the patient's key, and an AuditEvent in the
 * same transaction — without HTTP. `json` is one resource (JSON text, len
 * bytes, copied); an absent id is assigned (create), a given id is written
 * as an update. actor (copied; NULL = the server itself) is the reference
 * the AuditEvent names, e.g. "Device/monitor-7".
 */
struct mv_api_result {
  char id[65];          /* the resource id */
  int64_t version;      /* its new version */
  int64_t updated_us;   /* meta.lastUpdated */
  int64_t ledger_index; /* the version's ledger entry (mv_store.h); -1 none */
};
/* Called exactly once on the store's writer thread when the write is
 * durable (MV_OK) or failed; r is borrowed for the call. Keep it short. */
typedef void (*mv_api_done_fn)(void *ctx, int status,
                               const struct mv_api_result *r);
/* Queue a write. On MV_OK cb will be called; on error it never is and
 * diag (may be NULL) names the failing element (MV_EINVAL / MV_EINVALID
 * for invalid content with diag->path the FHIRPath, MV_EPARSE, MV_EBUSY,
 * MV_ECLOSED, MV_ETOOBIG). May block briefly on the store's read
 * connections: call it from a worker thread or a low-rate timer. */
MV_API MV_NODISCARD int mv_api_ingest(struct mv_api *api, const char *json,
                                      size_t len, const char *actor,
                                      mv_api_done_fn cb, void *ctx,
                                      struct mv_diag *diag);
/* The same, waiting for durability; out (may be NULL) gets the result. */
MV_API MV_NODISCARD int mv_api_ingest_sync(struct mv_api *api, const char *json,
                                           size_t len, const char *actor,
                                           struct mv_api_result *out,
                                           struct mv_diag *diag);

/*
 * Surveillance (docs/API.md, "Surveillance"): the /surveillance routes are
 * registered by mv_api_new and answer 503 until this is called, once,
 * before the server runs. It opens the surveillance tables of the store at
 * store_url (the same url as the store's, already opened and migrated) and
 * starts the scheduled runs: every interval_s seconds (0 = none), aligned
 * so that a daily interval runs at run_at_s seconds after midnight UTC on
 * the api's clock. MV_EINVAL, or the errors of mv_store_epi_open.
 */
struct mv_api_surveillance_opts {
  const char *store_url; /* borrowed for the call */
  unsigned interval_s;   /* seconds between scheduled runs; 0 = none */
  unsigned run_at_s;     /* 0..86399: offset of the schedule from 00:00 UTC */
};
MV_API MV_NODISCARD int
mv_api_surveillance(struct mv_api *api,
                    const struct mv_api_surveillance_opts *opts,
                    struct mv_diag *diag);
/* Run detection and Rt on every series now (what POST /surveillance/run
 * does): summaries saved, new alerts stored and pushed. Blocks; call it
 * from a thread other than the loop's. out_series / out_new_alerts may be
 * NULL. MV_ECONFIG before mv_api_surveillance. */
MV_API MV_NODISCARD int mv_api_surveillance_run(struct mv_api *api,
                                                size_t *out_series,
                                                size_t *out_new_alerts,
                                                struct mv_diag *diag);

/*
 * Triage sessions (docs/API.md, "Triage"): the /triage routes are
 * registered by mv_api_new and work without a model (red flags and urgency
 * only). This loads the classifier model file model_path (borrowed for the
 * call; NULL or "" = none; config triage-model) with its follow-up question
 * table, and sets the idle time after which a session is forgotten (0 =
 * MV_LIMIT_TRIAGE_IDLE_S). Call before the server runs. Errors of
 * mv_clf_model_load / mv_clf_inquiry_load (MV_EIO, MV_ECORRUPT,
 * MV_EUNSUPPORTED, ...), diag naming the file problem.
 */
struct mv_api_triage_opts {
  const char *model_path;
  unsigned idle_s;
};
MV_API MV_NODISCARD int
mv_api_triage_configure(struct mv_api *api,
                        const struct mv_api_triage_opts *opts,
                        struct mv_diag *diag);

/* ---- device ingestion (src/api/ingest_batch.c, device_*.c) ---------------
 *
 * One device write: n FHIR resources (Observations, as JSON), validated,
 * indexed and encrypted like API creates, committed in ONE store transaction
 * together with one AuditEvent for the batch and, when cursor is given, the
 * device stream's sequence cursor (so a resumed device is never stored
 * twice). cb runs once, on the store thread, after the batch is durable
 * (status MV_OK, results[i] for items[i]) or has failed (no result is
 * stored then). principal: when non-NULL every item's subject must be a
 * Patient the principal may write Observations for (MV_EPERM otherwise);
 * NULL for trusted internal callers (MLLP listener, demo). A validation or
 * permission error is returned synchronously with *out_failed set to the
 * failing item's index and diag naming the path; nothing is stored then. */
struct mv_auth_principal;
struct mv_api_item {
  const char *json; /* borrowed until the call returns */
  size_t len;
};
struct mv_api_cursor {
  const char *stream; /* device stream name, 1..64 bytes */
  int64_t seq;        /* highest sequence number this batch completes */
};
typedef void (*mv_api_batch_fn)(void *ctx, int status, size_t n,
                                const struct mv_api_result *results);
MV_API MV_NODISCARD int
mv_api_ingest_batch(struct mv_api *api, const struct mv_api_item *items,
                    size_t n, const struct mv_auth_principal *principal,
                    const char *actor, const struct mv_api_cursor *cursor,
                    mv_api_batch_fn cb, void *ctx, size_t *out_failed,
                    struct mv_diag *diag);
/* The last durable sequence number of a device stream; -1 when the stream
 * has never written. */
MV_API MV_NODISCARD int mv_api_cursor_get(struct mv_api *api,
                                          const char *stream, int64_t *out_seq);

/* Start the HL7 v2 MLLP listener (device_mllp.c) on host:port of the
 * server's loop; port 0 picks a free one, see mv_api_mllp_port. Call before
 * mv_server_run. idle_s closes quiet connections. */
MV_API MV_NODISCARD int mv_api_mllp_listen(struct mv_api *api, const char *host,
                                           int port, unsigned idle_s,
                                           struct mv_diag *diag);
MV_API int mv_api_mllp_port(const struct mv_api *api);

#endif
