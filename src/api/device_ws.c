/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /ws/device, the WebSocket device protocol v1 (docs/API.md, "Device
 * ingestion"): authentication at the upgrade (bearer header or
 * access_token query, the same token check as every FHIR request), and the
 * connection's life on the loop thread: messages are queued in arrival
 * order and handed to one job at a time (device_ws_job.c), so a stream's
 * messages are checked, stored and acknowledged strictly in order while the
 * device pipelines. At most DEV_INFLIGHT_MAX messages wait per connection;
 * past that the connection stops reading (TCP backpressure), nothing is
 * dropped. The NDJSON backfill route is registered here too.
 */
#include <stdlib.h>
#include <string.h>

#include "device_int.h"
#include "mv_log.h"
#include "mv_metrics.h"

/* ---- sessions ------------------------------------------------------------ */

static void sess_free(struct dev_sess *s) {
  struct api_device *dev = s->dev;
  pthread_mutex_lock(&dev->mu);
  if (s->prev)
    s->prev->next = s->next;
  else
    dev->all = s->next;
  if (s->next)
    s->next->prev = s->prev;
  pthread_mutex_unlock(&dev->mu);
  while (s->q_head) {
    struct dev_msg *m = s->q_head;
    s->q_head = m->next;
    free(m);
  }
  dev_job_free(s->job);
  dev_wave_release(&s->wave);
  free(s);
}

void dev_sess_unref(struct dev_sess *s) {
  if (--s->refs == 0)
    sess_free(s);
}

/* ---- authentication at the upgrade ---------------------------------------- */

static int on_open(void *ctx, struct mv_ws_upgrade *u, void **out_user,
                   const char **out_msg) {
  struct api_device *dev = ctx;
  struct mv_api *api = dev->api;
  struct mv_auth_principal who;
  struct dev_sess *s;
  int status = api_ws_authenticate(api, u, &who, out_msg);

  if (status)
    return status;
  if (who.role != MV_AUTH_ROLE_DEVICE && who.role != MV_AUTH_ROLE_CLINICIAN &&
      who.role != MV_AUTH_ROLE_ADMIN) {
    *out_msg = "this role cannot send device data";
    return 403;
  }
  if (!(s = calloc(1, sizeof(*s)))) {
    *out_msg = "out of memory";
    return 503;
  }
  s->dev = dev;
  s->who = who;
  s->refs = 1;
  s->acked = 0;
  if (who.role == MV_AUTH_ROLE_DEVICE)
    snprintf(s->actor, sizeof(s->actor), "Device/%s", who.sub);
  pthread_mutex_lock(&dev->mu);
  s->next = dev->all;
  if (s->next)
    s->next->prev = s;
  dev->all = s;
  pthread_mutex_unlock(&dev->mu);
  *out_user = s;
  return 0;
}

static void on_ready(void *ctx, struct mv_ws_conn *c, void *user) {
  struct dev_sess *s = user;
  struct api_device *dev = ctx;
  s->conn = c;
  s->counted = true;
  atomic_fetch_add(&dev->connections, 1);
}

static void on_message(void *ctx, struct mv_ws_conn *c, void *user,
                       const void *data, size_t len, bool binary) {
  struct dev_sess *s = user;
  struct dev_msg *m;
  (void)ctx;
  m = malloc(sizeof(*m) + len + 1);
  if (!m) {
    mv_ws_close(c, 1013, "out of memory");
    return;
  }
  m->next = NULL;
  m->binary = binary;
  m->len = len;
  memcpy(m->data, data, len);
  m->data[len] = '\0';
  if (s->q_tail)
    s->q_tail->next = m;
  else
    s->q_head = m;
  s->q_tail = m;
  s->q_n++;
  if (!s->paused && s->q_n + s->job_n >= DEV_INFLIGHT_MAX) {
    s->paused = true;
    mv_ws_pause(c, true);
  }
  if (!s->job_active)
    dev_job_start(s);
}

static void on_close(void *ctx, struct mv_ws_conn *c, void *user) {
  struct dev_sess *s = user;
  struct api_device *dev = ctx;
  (void)c;
  if (s->counted)
    atomic_fetch_sub(&dev->connections, 1);
  s->counted = false;
  s->conn = NULL;
  dev_sess_unref(s);
}

static const struct mv_ws_handler handler = {on_open, on_ready, on_message,
                                             on_close};

/* ---- metrics ---------------------------------------------------------------- */

static const char *const result_words[DEV_R_N] = {
    "stored",   "duplicate", "invalid",  "forbidden",
    "sequence", "busy",      "too-large"};

void dev_count(struct api_device *dev, const char *word) {
  for (int i = 0; i < DEV_R_N; i++)
    if (strcmp(result_words[i], word) == 0) {
      atomic_fetch_add(&dev->results[i], 1);
      return;
    }
}

static int metrics(void *ctx, struct mv_buf *b) {
  struct api_device *dev = ctx;
  int rc = mv_metrics_write_scalar(b, "mv_device_ws_connections", "gauge",
                                   "open /ws/device connections",
                                   (uint64_t)atomic_load(&dev->connections));
  if (rc == MV_OK)
    rc = mv_metrics_write_header(b, "mv_device_ws_messages_total", "counter",
                                 "device messages by result");
  for (int i = 0; rc == MV_OK && i < DEV_R_N; i++)
    rc = mv_buf_appendf(b, "mv_device_ws_messages_total{result=\"%s\"} %llu\n",
                        result_words[i],
                        (unsigned long long)atomic_load(&dev->results[i]));
  if (rc == MV_OK)
    rc =
        mv_metrics_write_scalar(b, "mv_device_ws_observations_total", "counter",
                                "Observations stored from /ws/device",
                                (uint64_t)atomic_load(&dev->observations));
  if (rc == MV_OK)
    rc = mv_metrics_write_scalar(
        b, "mv_device_ndjson_observations_total", "counter",
        "Observations stored from NDJSON backfill",
        (uint64_t)atomic_load(&dev->ndjson_observations));
  return rc;
}

/* ---- the module's state ---------------------------------------------------- */

int api_device_routes(struct mv_api *api, struct mv_diag *diag) {
  struct api_device *dev = calloc(1, sizeof(*dev));
  int rc;
  if (!dev)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  dev->api = api;
  pthread_mutex_init(&dev->mu, NULL);
  api->device = dev;
  if ((rc = mv_server_ws_route(api->srv, "/ws/device", &handler, dev)) !=
          MV_OK ||
      (rc = mv_server_add_metrics(api->srv, metrics, dev)) != MV_OK)
    return mv_diag_set(diag, rc, "cannot register /ws/device");
  return api_ndjson_route(api, diag);
}

void api_device_free(struct mv_api *api) {
  struct api_device *dev = api ? api->device : NULL;
  if (!dev)
    return;
  /* The server is gone (its on_close ran for every connection): what is
   * left are sessions whose last job could not post back to the loop. */
  while (dev->all) {
    struct dev_sess *s = dev->all;
    s->refs = 1;
    dev_sess_unref(s);
  }
  pthread_mutex_destroy(&dev->mu);
  free(dev);
  api->device = NULL;
}
