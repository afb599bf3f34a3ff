/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /fhir/Observation/$ingest: bulk backfill of Observations as NDJSON
 * (application/fhir+ndjson or application/x-ndjson), one resource per line.
 * Every line is parsed, validated, reference-checked and access-checked
 * BEFORE anything is written, so a bad line refuses the whole request with
 * an OperationOutcome naming "line N" and the FHIR path, and nothing of it
 * is stored. Then the lines go to the store in transactions of at most 999
 * (mv_api_ingest_batch) and the answer {"accepted":N} is sent only when all
 * of them are durable. The pool thread waits for the commits, as a batch
 * Bundle does.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_int.h"
#include "mv_json.h"
#include "mv_log.h"

#define NDJSON_LINES_MAX 1000000u

struct wait {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t pending;
  int status; /* first failure */
  size_t stored;
};

static void batch_cb(void *ctx, int status, size_t n,
                     const struct mv_api_result *results) {
  struct wait *w = ctx;
  (void)results;
  pthread_mutex_lock(&w->mu);
  if (status == MV_OK)
    w->stored += n;
  else if (w->status == MV_OK)
    w->status = status;
  w->pending--;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static bool ndjson_media(const char *v) {
  if (!v)
    return false;
  while (*v == ' ')
    v++;
  size_t n = strcspn(v, "; ");
  return (n == 23 && strncasecmp(v, "application/fhir+ndjson", n) == 0) ||
         (n == 20 && strncasecmp(v, "application/x-ndjson", n) == 0) ||
         (n == 20 && strncasecmp(v, "application/ndjson", n) == 0);
}

/* Line-prefixed outcome: "line N: ..." with the FHIR path as expression. */
static void line_fail(struct api_req *q, int status, size_t line,
                      const char *code, const char *expr, const char *msg) {
  api_fail(q, status, code, expr && *expr ? expr : NULL, "line %zu: %s", line,
           msg);
}

/* Parse and check one line; on failure the answer is set on q. */
static int check_line(struct api_req *q, const char *text, size_t len,
                      size_t line, const char ***pids, size_t *n_pids) {
  struct json_object *res = NULL;
  struct mv_fhir_outcome oo;
  struct mv_fhir_index idx;
  struct mv_diag d;
  const char *type = NULL;
  int rc;

  mv_diag_clear(&d);
  if ((rc = mv_json_parse(text, len, &res, &d)) != MV_OK || !res) {
    char msg[320];
    snprintf(msg, sizeof(msg), "not JSON: %s (column %d)", d.msg, d.col);
    line_fail(q, 400, line, "structure", NULL, msg);
    json_object_put(res);
    return MV_EPARSE;
  }
  if (mv_json_get_string(res, "", "resourceType", true, &type, NULL) != MV_OK ||
      strcmp(type, "Observation") != 0) {
    line_fail(q, 422, line, "invalid", "resourceType",
              "only Observation resources are accepted here");
    rc = MV_EINVAL;
    goto out;
  }
  mv_fhir_outcome_init(&oo);
  if (mv_fhir_validate(res, "Observation", &oo) != MV_OK) {
    for (size_t i = 0; i < oo.n; i++) {
      if (oo.issues[i].severity != MV_FHIR_ERROR &&
          oo.issues[i].severity != MV_FHIR_FATAL)
        continue;
      line_fail(q, 422, line, oo.issues[i].code, oo.issues[i].expression,
                oo.issues[i].diagnostics);
      break;
    }
    rc = MV_EINVAL;
    goto out;
  }
  if (mv_fhir_index_extract(res, q->a, &idx) != MV_OK || !idx.patient_id ||
      !idx.patient_id[0]) {
    line_fail(q, 422, line, "required", "Observation.subject",
              "the subject must be a Patient reference");
    rc = MV_EINVAL;
    goto out;
  }
  /* access: once per patient */
  bool seen = false;
  for (size_t i = 0; i < *n_pids && !seen; i++)
    seen = strcmp((*pids)[i], idx.patient_id) == 0;
  if (!seen) {
    if (api_access(q, MV_AUTH_ACT_CREATE, "Observation", idx.patient_id) !=
        MV_OK) {
      api_audit_async(q, "create", "Observation", NULL, idx.patient_id, 4);
      line_fail(q, 403, line, "forbidden", "Observation.subject",
                "access denied");
      rc = MV_EPERM;
      goto out;
    }
    if ((*n_pids & (*n_pids - 1)) == 0 || *n_pids == 0) {
      size_t cap = *n_pids ? 2 * *n_pids : 8;
      const char **grown = mv_arena_alloc(q->a, cap * sizeof(*grown));
      if (!grown) {
        api_fail_err(q, MV_ENOMEM, NULL, "ingest");
        rc = MV_ENOMEM;
        goto out;
      }
      if (*n_pids)
        memcpy(grown, *pids, *n_pids * sizeof(*grown));
      *pids = grown;
    }
    (*pids)[(*n_pids)++] = mv_arena_strdup(q->a, idx.patient_id);
  }
  mv_fhir_outcome_init(&oo);
  if (api_check_refs(q, res, "Observation", &oo) != MV_OK) {
    if (oo.n)
      line_fail(q, 422, line, oo.issues[0].code, oo.issues[0].expression,
                oo.issues[0].diagnostics);
    else
      api_fail_err(q, MV_EDB, NULL, "reference check");
    rc = MV_EINVAL;
    goto out;
  }
  rc = MV_OK;
out:
  json_object_put(res);
  return rc;
}

static void ndjson_job(struct api_req *q) {
  const char *body = q->r->body;
  size_t len = q->r->body_len, n = 0;
  struct mv_api_item *items = NULL;
  size_t *lines = NULL;
  const char **pids = NULL;
  size_t n_pids = 0;
  struct wait w = {.status = MV_OK};
  bool wait_inited = false;

  q->interaction = "create";
  if (api_authenticate(q) != 0)
    goto out;
  /* count the lines to size the arrays (bounded by the body size) */
  size_t cap = 1;
  for (size_t i = 0; i < len; i++)
    cap += body[i] == '\n';
  if (cap > NDJSON_LINES_MAX) {
    api_fail(q, 413, "too-costly", NULL, "more than %u lines",
             NDJSON_LINES_MAX);
    goto out;
  }
  items = malloc(cap * sizeof(*items));
  lines = malloc(cap * sizeof(*lines));
  if (!items || !lines) {
    api_fail_err(q, MV_ENOMEM, NULL, "ingest");
    goto out;
  }
  /* 1. everything is checked before anything is written */
  size_t line = 0;
  for (size_t off = 0; off < len;) {
    const char *nl = memchr(body + off, '\n', len - off);
    size_t end = nl ? (size_t)(nl - body) : len;
    size_t l = end - off;
    line++;
    if (l > 0 && body[off + l - 1] == '\r')
      l--;
    bool blank = true;
    for (size_t k = 0; k < l && blank; k++)
      blank = body[off + k] == ' ' || body[off + k] == '\t';
    if (!blank) {
      if (check_line(q, body + off, l, line, &pids, &n_pids) != MV_OK)
        goto out;
      items[n] = (struct mv_api_item){body + off, l};
      lines[n] = line;
      n++;
    }
    off = end + 1;
  }
  if (n == 0) {
    api_fail(q, 400, "required", NULL, "no Observation in the body");
    goto out;
  }
  /* 2. the writes, in transactions of at most DEV_BATCH_ITEMS_MAX */
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  wait_inited = true;
  size_t failed_at = SIZE_MAX;
  struct mv_diag d;
  int rc = MV_OK;
  for (size_t i = 0; i < n && rc == MV_OK; i += DEV_BATCH_ITEMS_MAX) {
    size_t k = n - i < DEV_BATCH_ITEMS_MAX ? n - i : DEV_BATCH_ITEMS_MAX;
    size_t failed = SIZE_MAX;
    mv_diag_clear(&d);
    pthread_mutex_lock(&w.mu);
    w.pending++;
    pthread_mutex_unlock(&w.mu);
    rc = mv_api_ingest_batch(q->api, items + i, k, &q->who, NULL, NULL,
                             batch_cb, &w, &failed, &d);
    if (rc != MV_OK) {
      pthread_mutex_lock(&w.mu);
      w.pending--;
      pthread_mutex_unlock(&w.mu);
      failed_at = failed < k ? i + failed : SIZE_MAX;
    }
  }
  pthread_mutex_lock(&w.mu);
  while (w.pending > 0)
    pthread_cond_wait(&w.cv, &w.mu);
  pthread_mutex_unlock(&w.mu);
  if (w.stored > 0 && q->api->device)
    atomic_fetch_add(&q->api->device->ndjson_observations, w.stored);
  if (rc == MV_OK && w.status == MV_OK) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "accepted", json_object_new_int64((int64_t)n));
    api_json(q, 200, o);
    q->ctype = "application/json";
    json_object_put(o);
    goto out;
  }
  /* Checked lines refused by the batch (a race, e.g. a patient deleted
   * meanwhile) or a store failure: say exactly what is stored. */
  if (rc != MV_OK && failed_at != SIZE_MAX && w.stored == 0) {
    char msg[sizeof(d.msg) + 32];
    snprintf(msg, sizeof(msg), "%s", d.msg);
    line_fail(q, mv_err_http_status(rc) == 403 ? 403 : 422, lines[failed_at],
              rc == MV_EPERM ? "forbidden" : "invalid", d.path, msg);
    goto out;
  }
  int err = rc != MV_OK ? rc : w.status;
  MV_LOG_WARN("api", "ndjson ingest failed after %zu stored: %s", w.stored,
              mv_err_name(err));
  api_fail(q, mv_err_http_status(err) >= 500 ? mv_err_http_status(err) : 500,
           "exception", NULL,
           "%zu of %zu Observations were stored before a failure (%s); "
           "nothing else",
           w.stored, n, mv_strerror(err));
out:
  if (wait_inited) {
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
  }
  free(items);
  free(lines);
  api_finish(q);
}

static void ndjson_handler(void *ctx, struct mv_http_exchange *x) {
  struct mv_api *api = ctx;
  if (!ndjson_media(mv_http_header(x, "content-type"))) {
    struct mv_buf b;
    struct json_object *oo = mv_fhir_outcome_single(
        MV_FHIR_ERROR, "not-supported", NULL,
        "send application/fhir+ndjson or application/x-ndjson");
    mv_buf_init(&b, 4096);
    if (!oo || mv_json_write(&b, oo) != MV_OK) {
      json_object_put(oo);
      mv_buf_release(&b);
      mv_http_respond_error(x, MV_EUNSUPPORTED, NULL);
      return;
    }
    json_object_put(oo);
    mv_http_respond(x, 415, "application/fhir+json; charset=utf-8",
                    mv_buf_cstr(&b), b.len);
    mv_buf_release(&b);
    return;
  }
  api_dispatch(api, x, "create", ndjson_job);
}

int api_ndjson_route(struct mv_api *api, struct mv_diag *diag) {
  int rc = mv_server_route(api->srv, "POST", "/fhir/Observation/$ingest",
                           ndjson_handler, api);
  if (rc != MV_OK)
    return mv_diag_set(diag, rc, "cannot register the NDJSON route");
  return MV_OK;
}
