/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The api module's wiring: routes, content negotiation, the hand-off from the
 * loop thread to the worker pool and back, and the shapes of answers
 * (application/fhir+json, OperationOutcome on every error).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api_int.h"
#include "mv_json.h"
#include "mv_limits.h"
#include "mv_log.h"
#include "mv_pool.h"

#define FHIR_JSON "application/fhir+json; charset=utf-8"

/* ---- answers ---------------------------------------------------------- */

void api_header(struct api_req *q, const char *name, const char *value) {
  if (q->n_hdrs >= API_HDRS_MAX || !value)
    return;
  q->hdrs[q->n_hdrs].name = name;
  q->hdrs[q->n_hdrs].value = mv_arena_strdup(q->a, value);
  if (q->hdrs[q->n_hdrs].value)
    q->n_hdrs++;
}

static void respond_task(void *arg) {
  struct api_req *q = arg;
  /* q lives in the exchange's arena, which mv_http_respond may free at
   * once: take what we own first. */
  struct mv_buf out = q->out;
  for (size_t i = 0; i < q->n_hdrs; i++)
    API_IGNORE(mv_http_add_header(q->x, q->hdrs[i].name, q->hdrs[i].value));
  mv_http_respond(q->x, q->status, q->ctype, mv_buf_cstr(&out), out.len);
  mv_buf_release(&out);
}

void api_finish(struct api_req *q) {
  if (mv_server_post(q->api->srv, respond_task, q) != MV_OK) {
    /* The server is stopping; it frees the exchange itself. */
    mv_buf_release(&q->out);
  }
}

void api_json(struct api_req *q, int status, struct json_object *json) {
  mv_buf_reset(&q->out);
  q->status = status;
  q->ctype = FHIR_JSON;
  if (json && mv_json_write(&q->out, json) != MV_OK) {
    mv_buf_reset(&q->out);
    q->status = 500;
    API_IGNORE(mv_buf_appends(&q->out,
                              "{\"resourceType\":\"OperationOutcome\","
                              "\"issue\":[{\"severity\":\"error\","
                              "\"code\":\"too-costly\",\"diagnostics\":"
                              "\"response too large\"}]}"));
  }
}

void api_outcome(struct api_req *q, int status,
                 const struct mv_fhir_outcome *oo) {
  struct json_object *j = NULL;
  if (mv_fhir_outcome_to_json(oo, &j) != MV_OK) {
    q->status = 503;
    q->ctype = FHIR_JSON;
    return;
  }
  api_json(q, status, j);
  json_object_put(j);
}

void api_fail(struct api_req *q, int status, const char *code,
              const char *expression, const char *fmt, ...) {
  struct mv_fhir_outcome oo;
  va_list ap;
  mv_fhir_outcome_init(&oo);
  va_start(ap, fmt);
  mv_fhir_outcome_vadd(&oo, MV_FHIR_ERROR, code, expression, fmt, ap);
  va_end(ap);
  api_outcome(q, status, &oo);
}

void api_fail_err(struct api_req *q, int err, const char *expression,
                  const char *what) {
  int st = mv_err_http_status(err);
  api_fail(q, st, mv_fhir_issue_code_for(err), expression, "%s: %s", what,
           mv_strerror(err));
  if (st >= 500)
    MV_LOG_WARN("api", "%s failed: %s", what, mv_err_name(err));
}

const char *api_url(struct api_req *q, const char *fmt, ...) {
  char tail[MV_LIMIT_HTTP_URI_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tail, sizeof(tail), fmt, ap);
  va_end(ap);
  return mv_arena_printf(q->a, "%s%s", q->api->base_url, tail);
}

/* ---- hand-off to the pool -------------------------------------------- */

typedef void (*job_fn)(struct api_req *q);

struct job {
  struct api_req *q;
  job_fn fn;
};

static void run_job(void *arg) {
  struct job *j = arg;
  j->fn(j->q);
}

/* FHIR's media types: application/fhir+json (and application/json) only. */
static bool json_media(const char *v) {
  size_t n;
  while (*v == ' ')
    v++;
  n = strcspn(v, ";, ");
  return (n == 21 && strncasecmp(v, "application/fhir+json", n) == 0) ||
         (n == 16 && strncasecmp(v, "application/json", n) == 0);
}

/* An Accept header is acceptable when any of its ranges covers JSON. */
static bool accept_ok(const char *v) {
  const char *p = v;
  while (p && *p) {
    while (*p == ' ' || *p == ',')
      p++;
    size_t n = strcspn(p, ";,");
    if ((n == 3 && strncmp(p, "*/*", 3) == 0) ||
        (n == 13 && strncasecmp(p, "application/*", 13) == 0) || json_media(p))
      return true;
    p = strchr(p, ',');
  }
  return false;
}

static bool format_ok(const char *f) {
  return strcmp(f, "json") == 0 || strcmp(f, "application/json") == 0 ||
         strcmp(f, "application/fhir+json") == 0 ||
         strcmp(f, "application/json+fhir") == 0; /* DSTU2 name, still sent */
}

static struct api_req *req_new(struct mv_api *api, struct mv_http_exchange *x) {
  struct mv_arena *a = mv_http_arena(x);
  struct api_req *q = mv_arena_zalloc(a, sizeof(*q));
  if (!q)
    return NULL;
  q->api = api;
  q->x = x;
  q->a = a;
  q->r = mv_http_request(x);
  q->status = 500;
  q->ctype = FHIR_JSON;
  mv_buf_init(&q->out, MV_LIMIT_HTTP_RESP_MAX);
  return q;
}

void api_dispatch(struct mv_api *api, struct mv_http_exchange *x,
                  const char *interaction, void (*fn)(struct api_req *q)) {
  struct api_req *q = req_new(api, x);
  struct job *j;
  if (!q || !(j = mv_arena_alloc(q->a, sizeof(*j)))) {
    mv_http_respond_error(x, MV_ENOMEM, NULL);
    return;
  }
  q->interaction = interaction;
  j->q = q;
  j->fn = fn;
  if (mv_pool_submit(api->pool, run_job, j) != MV_OK) {
    api_fail(q, 503, "transient", NULL, "server busy, retry later");
    q->n_hdrs = 0;
    api_header(q, "Retry-After", "1");
    respond_task(q);
  }
}

static void fhir_handler(void *ctx, struct mv_http_exchange *x) {
  struct mv_api *api = ctx;
  const struct mv_http_req *r = mv_http_request(x);
  const char *v;
  struct api_req *q;

  /* Content negotiation happens before any work (and before auth, so a
   * client learns about a wrong media type regardless of its token). */
  if ((v = mv_http_query(x, "_format")) && !format_ok(v))
    goto unsupported;
  if ((v = mv_http_header(x, "accept")) && *v && !accept_ok(v))
    goto unsupported;
  if (r->body_len > 0 || strcmp(r->method, "POST") == 0 ||
      strcmp(r->method, "PUT") == 0) {
    v = mv_http_header(x, "content-type");
    size_t pl = strlen(r->path);
    bool form_search =
        pl > 8 && strcmp(r->path + pl - 8, "/_search") == 0 && v &&
        strncasecmp(v, "application/x-www-form-urlencoded", 33) == 0;
    if (r->body_len > 0 && (!v || !json_media(v)) && !form_search)
      goto unsupported;
  }
  api_dispatch(api, x, NULL, api_fhir_job);
  return;
unsupported:
  q = req_new(api, x);
  if (!q) {
    mv_http_respond_error(x, MV_ENOMEM, NULL);
    return;
  }
  api_fail(q, 415, "not-supported", NULL,
           "only application/fhir+json is supported");
  respond_task(q);
}

static void token_handler(void *ctx, struct mv_http_exchange *x) {
  api_dispatch(ctx, x, NULL, api_token_job);
}

/* The server's own errors on FHIR paths (413 body too large, 414, ...) are
 * OperationOutcomes too. */
const char *api_error_format(void *ctx, int status, int err,
                             const char *message, struct mv_buf *out) {
  struct json_object *oo;
  (void)ctx;
  (void)status;
  oo = mv_fhir_outcome_single(MV_FHIR_ERROR, mv_fhir_issue_code_for(err), NULL,
                              "%s", message);
  if (!oo)
    return NULL;
  int rc = mv_json_write(out, oo);
  json_object_put(oo);
  return rc == MV_OK ? FHIR_JSON : NULL;
}

int mv_api_new(const struct mv_api_opts *o, struct mv_api **out_api,
               struct mv_diag *diag) {
  struct mv_api *api = NULL;
  int rc = MV_EINVAL;
  if (!o || !o->srv || !o->store || !o->pool || !out_api)
    goto out;
  rc = MV_ENOMEM;
  if (!(api = calloc(1, sizeof(*api))))
    goto out;
  api->srv = o->srv;
  api->store = o->store;
  api->pool = o->pool;
  api->clock = o->clock ? o->clock : mv_clock_system();
  api->token_ttl_s = o->token_ttl_s ? o->token_ttl_s : 3600u;
  snprintf(api->base_url, sizeof(api->base_url), "%s",
           o->base_url ? o->base_url : "");
  /* no trailing slash: paths are appended as "/fhir/..." */
  size_t bl = strlen(api->base_url);
  if (bl && api->base_url[bl - 1] == '/')
    api->base_url[bl - 1] = '\0';
  if ((rc = mv_store_derive_key(o->store, 1, "mvtoken1", api->token_key)) !=
      MV_OK) {
    mv_diag_set(diag, rc, "cannot derive the token key");
    goto out;
  }
  rc = mv_auth_limiter_new(
      o->login_max_failures ? o->login_max_failures : 5u,
      (int64_t)(o->login_window_s ? o->login_window_s : 60u) * 1000000,
      MV_LIMIT_AUTH_LIMITER_KEYS, &api->limiter);
  if (rc != MV_OK)
    goto out;
  /* An address may be shared (a ward's NAT, a proxy): a looser limit. */
  rc = mv_auth_limiter_new(
      8u * (o->login_max_failures ? o->login_max_failures : 5u),
      (int64_t)(o->login_window_s ? o->login_window_s : 60u) * 1000000,
      MV_LIMIT_AUTH_LIMITER_KEYS, &api->addr_limiter);
  if (rc != MV_OK)
    goto out;
  if ((rc = mv_server_route(o->srv, NULL, "/fhir/*", fhir_handler, api)) !=
          MV_OK ||
      (rc = mv_server_route(o->srv, NULL, "/fhir", fhir_handler, api)) !=
          MV_OK ||
      (rc = mv_server_route(o->srv, "POST", "/auth/token", token_handler,
                            api)) != MV_OK ||
      (rc = mv_server_error_format(o->srv, "/fhir", api_error_format, api)) !=
          MV_OK) {
    mv_diag_set(diag, rc, "cannot register the API routes");
    goto out;
  }
  if ((rc = api_epi_routes(api, diag)) != MV_OK ||
      (rc = api_ledger_routes(api, diag)) != MV_OK ||
      (rc = api_triage_routes(api, diag)) != MV_OK ||
      (rc = api_device_routes(api, diag)) != MV_OK)
    goto out;
  *out_api = api;
  api = NULL;
  rc = MV_OK;
out:
  mv_api_free(api);
  return rc;
}

void mv_api_free(struct mv_api *api) {
  if (!api)
    return;
  api_epi_free(api);
  api_ledger_free(api);
  api_triage_free(api);
  api_device_free(api);
  api_mllp_free(api);
  mv_auth_limiter_free(api->limiter);
  mv_auth_limiter_free(api->addr_limiter);
  sodium_memzero(api->token_key, sizeof(api->token_key));
  free(api);
}
