/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Surveillance routes under /surveillance (issue 7; docs/API.md,
 * "Surveillance"): case-count uploads, per-series results (detection, Rt,
 * forecast), the regions table sorted by risk, runs, alerts and their
 * acknowledgement, per-disease serial intervals and the sharing export with
 * small counts suppressed. Requests go loop -> pool -> loop like the FHIR
 * API's; every one is authenticated and decided by mv_auth_decide
 * (SURV_READ / SURV_WRITE: the public-health role and admins). Errors are
 * OperationOutcomes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epi_int.h"
#include "mv_json.h"
#include "mv_limits.h"
#include "mv_log.h"
#include "mv_pool.h"

#define FHIR_JSON "application/fhir+json; charset=utf-8"
#define PLAIN_JSON "application/json"
#define PREFIX "/surveillance"

/* ---- small helpers ------------------------------------------------------- */

static void answer(struct api_req *q, int status, struct json_object *o) {
  api_json(q, status, o);
  if (q->status == status)
    q->ctype = PLAIN_JSON;
  json_object_put(o);
}

static bool allowed(struct api_req *q, enum mv_auth_action a) {
  if (api_access(q, a, NULL, NULL) == MV_OK)
    return true;
  api_fail(q, 403, "forbidden", NULL,
           "surveillance data is for the public-health role");
  return false;
}

static bool db_ready(struct api_req *q) {
  if (q->api->epi && q->api->epi->db)
    return true;
  api_fail(q, 503, "transient", NULL, "surveillance storage is not configured");
  return false;
}

/* A required name parameter; answers 400 when absent or malformed. */
static const char *name_param(struct api_req *q, const char *key) {
  const char *v = mv_http_query(q->x, key);
  if (v && mv_store_epi_name_ok(v))
    return v;
  api_fail(q, 400, v ? "invalid" : "required", key,
           "%s is required: 1 to 64 printable bytes", key);
  return NULL;
}

static bool parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v))
    return false;
  *out = v;
  return true;
}

/* ---- uploads ----------------------------------------------------------- */

static void do_upload(struct api_req *q) {
  struct mv_store_epi_count *c = NULL;
  size_t n = 0, replaced = 0;
  if (!allowed(q, MV_AUTH_ACT_SURV_WRITE) || !db_ready(q))
    return;
  if (epi_upload_parse(q, mv_http_header(q->x, "content-type"), &c, &n) != 0)
    return;
  int rc = mv_store_epi_put_counts(q->api->epi->db, c, n,
                                   mv_clock_now_us(q->api->clock), &replaced);
  free(c);
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "storing the counts");
    return;
  }
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "accepted", json_object_new_int64((int64_t)n));
  json_object_object_add(o, "replaced",
                         json_object_new_int64((int64_t)replaced));
  answer(q, 201, o);
}

/* ---- results ----------------------------------------------------------- */

static void do_series(struct api_req *q) {
  const char *region, *disease, *m, *v;
  struct epi_params p;
  struct epi_series s;
  struct json_object *o = NULL;
  if (!allowed(q, MV_AUTH_ACT_SURV_READ) || !db_ready(q) ||
      !(region = name_param(q, "region")) ||
      !(disease = name_param(q, "disease")))
    return;
  epi_params_for(q->api->epi->db, disease, &p);
  if ((m = mv_http_query(q->x, "method")) &&
      mv_epi_method_parse(m, &p.method) != MV_OK) {
    api_fail(q, 400, "invalid", "method",
             "method must be ears-c1, ears-c2, ears-c3, cusum, bayes, rki, "
             "farrington or noufaily");
    return;
  }
  if ((v = mv_http_query(q->x, "si-mean")) &&
      (!parse_double(v, &p.si_mean) || p.si_mean <= 1 || p.si_mean > 100)) {
    api_fail(q, 400, "invalid", "si-mean", "si-mean must be in (1, 100] days");
    return;
  }
  if ((v = mv_http_query(q->x, "si-sd")) &&
      (!parse_double(v, &p.si_sd) || p.si_sd <= 0 || p.si_sd > 100)) {
    api_fail(q, 400, "invalid", "si-sd", "si-sd must be in (0, 100] days");
    return;
  }
  int rc = epi_series_load(q->api->epi->db, region, disease, &s);
  if (rc == MV_ENOTFOUND) {
    api_fail(q, 404, "not-found", NULL,
             "no counts for this region and disease");
    return;
  }
  if (rc == MV_OK) {
    rc = epi_series_json(&s, region, disease, &p, true, NULL, &o, NULL);
    epi_series_release(&s);
  }
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "computing the series");
    return;
  }
  answer(q, 200, o);
}

struct summaries {
  struct json_object *arr;
  int64_t last_run_us;
};

static int summary_visit(void *ctx, const char *region, const char *disease,
                         double risk, int64_t run_us, const char *json) {
  struct summaries *S = ctx;
  struct json_object *o = NULL;
  (void)region;
  (void)disease;
  (void)risk;
  if (json_object_array_length(S->arr) >= MV_LIMIT_EPI_SRV_SERIES)
    return 1;
  if (run_us > S->last_run_us)
    S->last_run_us = run_us;
  if (mv_json_parse(json, strlen(json), &o, NULL) == MV_OK)
    json_object_array_add(S->arr, o);
  return 0;
}

static void do_regions(struct api_req *q) {
  const char *disease = mv_http_query(q->x, "disease");
  struct summaries S = {NULL, 0};
  char t[40];
  if (!allowed(q, MV_AUTH_ACT_SURV_READ) || !db_ready(q))
    return;
  if (disease && !mv_store_epi_name_ok(disease)) {
    api_fail(q, 400, "invalid", "disease", "disease: 1 to 64 printable bytes");
    return;
  }
  S.arr = json_object_new_array();
  int rc = mv_store_epi_summaries(q->api->epi->db, disease, summary_visit, &S);
  if (rc != MV_OK) {
    json_object_put(S.arr);
    api_fail_err(q, rc, NULL, "reading the regions");
    return;
  }
  struct json_object *o = json_object_new_object();
  if (S.last_run_us > 0 && mv_time_format_rfc3339(S.last_run_us, t, sizeof(t)))
    json_object_object_add(o, "lastRun", json_object_new_string(t));
  json_object_object_add(o, "regions", S.arr);
  answer(q, 200, o);
}

static void do_run(struct api_req *q) {
  size_t series = 0, alerts = 0;
  struct mv_diag d;
  if (!allowed(q, MV_AUTH_ACT_SURV_WRITE) || !db_ready(q))
    return;
  mv_diag_clear(&d);
  int rc =
      epi_run_all(q->api, mv_clock_now_us(q->api->clock), &series, &alerts, &d);
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "the surveillance run");
    return;
  }
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "series", json_object_new_int64((int64_t)series));
  json_object_object_add(o, "newAlerts",
                         json_object_new_int64((int64_t)alerts));
  answer(q, 200, o);
}

/* ---- alerts ------------------------------------------------------------ */

static int alert_visit(void *ctx, const struct mv_store_epi_alert *a) {
  json_object_array_add(ctx, epi_alert_json(a));
  return 0;
}

static void do_alerts(struct api_req *q) {
  const char *status = mv_http_query(q->x, "status");
  const char *count = mv_http_query(q->x, "_count");
  unsigned limit = 100;
  if (!allowed(q, MV_AUTH_ACT_SURV_READ) || !db_ready(q))
    return;
  if (status && strcmp(status, "open") != 0 && strcmp(status, "all") != 0) {
    api_fail(q, 400, "invalid", "status", "status must be open or all");
    return;
  }
  if (count) {
    double v;
    if (!parse_double(count, &v) || v < 1 || v > MV_LIMIT_EPI_SRV_ALERTS ||
        v != floor(v)) {
      api_fail(q, 400, "invalid", "_count", "_count must be 1 to %u",
               (unsigned)MV_LIMIT_EPI_SRV_ALERTS);
      return;
    }
    limit = (unsigned)v;
  }
  struct json_object *arr = json_object_new_array();
  int rc = mv_store_epi_alerts(q->api->epi->db,
                               !status || strcmp(status, "open") == 0, limit,
                               alert_visit, arr);
  if (rc != MV_OK) {
    json_object_put(arr);
    api_fail_err(q, rc, NULL, "reading the alerts");
    return;
  }
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "alerts", arr);
  answer(q, 200, o);
}

static void do_ack(struct api_req *q, const char *id_text) {
  struct mv_store_epi_alert a;
  char *end;
  if (!allowed(q, MV_AUTH_ACT_SURV_WRITE) || !db_ready(q))
    return;
  errno = 0;
  long long id = strtoll(id_text, &end, 10);
  if (errno || end == id_text || *end || id <= 0) {
    api_fail(q, 404, "not-found", NULL, "no such alert");
    return;
  }
  int rc = mv_store_epi_alert_ack(q->api->epi->db, id, q->who.sub,
                                  mv_clock_now_us(q->api->clock), &a);
  if (rc == MV_ENOTFOUND) {
    api_fail(q, 404, "not-found", NULL, "no such alert");
    return;
  }
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "acknowledging the alert");
    return;
  }
  struct json_object *o = epi_alert_json(&a);
  /* Tell the other open pages. */
  struct json_object *m = json_object_new_object();
  json_object_object_add(m, "type", json_object_new_string("ack"));
  json_object_object_add(m, "id", json_object_new_int64(a.id));
  epi_push(q->api, m);
  json_object_put(m);
  answer(q, 200, o);
}

/* ---- per-disease settings ------------------------------------------------ */

static void do_disease(struct api_req *q, const char *name, bool put) {
  struct epi_params p;
  if (!allowed(q, put ? MV_AUTH_ACT_SURV_WRITE : MV_AUTH_ACT_SURV_READ) ||
      !db_ready(q))
    return;
  if (!mv_store_epi_name_ok(name)) {
    api_fail(q, 404, "not-found", NULL, "no such disease");
    return;
  }
  if (put) {
    struct json_object *body = NULL;
    double m = 0, sd = 0;
    if (mv_json_parse(q->r->body, q->r->body_len, &body, NULL) != MV_OK ||
        !json_object_is_type(body, json_type_object)) {
      json_object_put(body);
      api_fail(q, 400, "structure", NULL, "send a JSON object");
      return;
    }
    int rm = mv_json_get_number(body, "", "siMean", true, &m, NULL, NULL);
    int rs = mv_json_get_number(body, "", "siSd", true, &sd, NULL, NULL);
    json_object_put(body);
    if (rm != MV_OK || !(m > 1 && m <= 100)) {
      api_fail(q, 400, "invalid", "siMean", "siMean must be in (1, 100] days");
      return;
    }
    if (rs != MV_OK || !(sd > 0 && sd <= 100)) {
      api_fail(q, 400, "invalid", "siSd", "siSd must be in (0, 100] days");
      return;
    }
    int rc = mv_store_epi_disease_put(q->api->epi->db, name, m, sd,
                                      mv_clock_now_us(q->api->clock));
    if (rc != MV_OK) {
      api_fail_err(q, rc, NULL, "saving the disease");
      return;
    }
  }
  epi_params_for(q->api->epi->db, name, &p);
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "disease", json_object_new_string(name));
  json_object_object_add(o, "siMean", json_object_new_double(p.si_mean));
  json_object_object_add(o, "siSd", json_object_new_double(p.si_sd));
  json_object_object_add(o, "method",
                         json_object_new_string(mv_epi_method_name(p.method)));
  answer(q, 200, o);
}

/* ---- sharing export ---------------------------------------------------- */

struct cells {
  struct api_req *q;
  struct mv_epi_report *r;
  size_t n, cap;
  bool fail;
};

/* Cells come in region order: each region name is copied once. The
 * reports array is malloc'd (it may exceed a request arena). */
static int cell_visit(void *ctx, const char *region, int32_t day,
                      int64_t observed) {
  struct cells *c = ctx;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 1024;
    struct mv_epi_report *r;
    if (cap > (size_t)MV_LIMIT_EPI_SRV_DAYS * MV_LIMIT_EPI_SRV_SERIES ||
        !(r = realloc(c->r, cap * sizeof(*r)))) {
      c->fail = true;
      return 1;
    }
    c->r = r;
    c->cap = cap;
  }
  const char *name = c->n && strcmp(c->r[c->n - 1].region, region) == 0
                         ? c->r[c->n - 1].region
                         : mv_arena_strdup(c->q->a, region);
  if (!name) {
    c->fail = true;
    return 1;
  }
  c->r[c->n].region = name;
  c->r[c->n].day = day;
  c->r[c->n].count = observed;
  c->n++;
  return 0;
}

static void do_export(struct api_req *q) {
  const char *disease, *from = mv_http_query(q->x, "from"),
                       *to = mv_http_query(q->x, "to"),
                       *period = mv_http_query(q->x, "period");
  int32_t d_from = INT32_MIN, d_to = INT32_MAX;
  enum mv_epi_period per = MV_EPI_PERIOD_ISOWEEK;
  struct mv_epi_table *t = NULL;
  struct cells c = {q, NULL, 0, 0, false};
  char *csv = NULL;
  size_t len = 0;
  struct mv_diag d;
  if (!allowed(q, MV_AUTH_ACT_SURV_READ) || !db_ready(q) ||
      !(disease = name_param(q, "disease")))
    return;
  if (from && mv_epi_parse_date(from, &d_from) != MV_OK) {
    api_fail(q, 400, "invalid", "from", "from must be a date YYYY-MM-DD");
    return;
  }
  if (to && mv_epi_parse_date(to, &d_to) != MV_OK) {
    api_fail(q, 400, "invalid", "to", "to must be a date YYYY-MM-DD");
    return;
  }
  if (period && strcmp(period, "week") != 0) {
    if (strcmp(period, "day") != 0) {
      api_fail(q, 400, "invalid", "period", "period must be week or day");
      return;
    }
    per = MV_EPI_PERIOD_DAY;
  }
  int rc = mv_store_epi_cells(q->api->epi->db, disease, d_from, d_to,
                              cell_visit, &c);
  if (rc == MV_OK && c.fail)
    rc = MV_ETOOBIG;
  if (rc != MV_OK) {
    free(c.r);
    api_fail_err(q, rc, NULL, "reading the counts");
    return;
  }
  if (c.n == 0) {
    free(c.r);
    api_fail(q, 404, "not-found", NULL,
             "no counts for this disease and period");
    return;
  }
  mv_diag_clear(&d);
  rc = mv_epi_table_aggregate(c.r, c.n, per, &t, &d);
  free(c.r);
  if (rc == MV_OK)
    rc = mv_epi_table_suppress(t, EPI_SHARE_MIN_COUNT);
  if (rc == MV_OK)
    rc = mv_epi_table_share_csv(t, &csv, &len);
  mv_epi_table_free(t);
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "building the shared table");
    return;
  }
  mv_buf_reset(&q->out);
  if (mv_buf_append(&q->out, csv, len) != MV_OK) {
    free(csv);
    api_fail(q, 500, "too-costly", NULL, "the table is too large");
    return;
  }
  free(csv);
  q->status = 200;
  q->ctype = "text/csv; charset=utf-8";
  api_header(q, "Content-Disposition",
             "attachment; filename=\"surveillance-export.csv\"");
}

/* ---- dispatch ------------------------------------------------------------ */

static void epi_job(struct api_req *q) {
  const char *m = q->r->method;
  const char *path = q->r->path + strlen(PREFIX);
  bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;

  if (api_authenticate(q) != 0)
    goto out;
  if (strcmp(path, "/counts") == 0 && post)
    do_upload(q);
  else if (strcmp(path, "/series") == 0 && get)
    do_series(q);
  else if (strcmp(path, "/regions") == 0 && get)
    do_regions(q);
  else if (strcmp(path, "/run") == 0 && post)
    do_run(q);
  else if (strcmp(path, "/alerts") == 0 && get)
    do_alerts(q);
  else if (strncmp(path, "/alerts/", 8) == 0 && post && strlen(path) > 12 &&
           strcmp(path + strlen(path) - 4, "/ack") == 0)
    do_ack(q, mv_arena_strndup(q->a, path + 8, strlen(path) - 12));
  else if (strcmp(path, "/export") == 0 && get)
    do_export(q);
  else if (strncmp(path, "/diseases/", 10) == 0 && path[10] &&
           !strchr(path + 10, '/') && (get || strcmp(m, "PUT") == 0))
    do_disease(q, path + 10, !get);
  else
    api_fail(q, 404, "not-found", NULL,
             "no such surveillance resource or "
             "method");
out:
  api_finish(q);
}

static void epi_handler(void *ctx, struct mv_http_exchange *x) {
  api_dispatch(ctx, x, "surveillance", epi_job);
}

int api_epi_routes(struct mv_api *api, struct mv_diag *diag) {
  struct api_epi *E = calloc(1, sizeof(*E));
  int rc;
  if (!E)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  pthread_mutex_init(&E->run_mu, NULL);
  atomic_init(&E->running, false);
  api->epi = E;
  if ((rc = mv_server_route(api->srv, NULL, PREFIX "/*", epi_handler, api)) !=
          MV_OK ||
      (rc = mv_server_error_format(api->srv, PREFIX, api_error_format, api)) !=
          MV_OK)
    return mv_diag_set(diag, rc, "cannot register the surveillance routes");
  return MV_OK;
}

int mv_api_surveillance(struct mv_api *api,
                        const struct mv_api_surveillance_opts *o,
                        struct mv_diag *diag) {
  struct api_epi *E;
  int rc;
  if (!api || !(E = api->epi) || !o || !o->store_url)
    return mv_diag_set(diag, MV_EINVAL, "no surveillance options");
  if (E->db)
    return mv_diag_set(diag, MV_EINVAL, "surveillance already configured");
  if (o->interval_s > 0 && o->run_at_s >= 86400u)
    return mv_diag_set(diag, MV_EINVAL, "run_at_s must be below 86400");
  E->interval_s = o->interval_s;
  E->run_at_s = o->run_at_s;
  if ((rc = mv_store_epi_open(o->store_url, &E->db, diag)) != MV_OK)
    return rc;
  return epi_schedule_start(api, diag);
}

int mv_api_surveillance_run(struct mv_api *api, size_t *out_series,
                            size_t *out_new_alerts, struct mv_diag *diag) {
  if (!api)
    return mv_diag_set(diag, MV_EINVAL, "no api");
  return epi_run_all(api, mv_clock_now_us(api->clock), out_series,
                     out_new_alerts, diag);
}

void api_epi_free(struct mv_api *api) {
  struct api_epi *E = api->epi;
  if (!E)
    return;
  mv_store_epi_close(E->db);
  pthread_mutex_destroy(&E->run_mu);
  free(E);
  api->epi = NULL;
}
