/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server metrics in the Prometheus text exposition format 0.0.4, and the
 * two built-in endpoints GET /metrics and GET /healthz. Requests are
 * labelled by route pattern (never the raw path) and by a closed set of
 * methods, and each route keeps at most MV__METRICS_SERIES_PER_ROUTE
 * (method, status) series, so a client cannot grow the label set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_log.h"
#include "mv_metrics.h"
#include "net_int.h"

static const double bucket_le[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                   0.25,  0.5,   1.0,  2.5,   5.0,  10.0};

struct series {
  enum mv__method method;
  int status;
  uint64_t count;
};

struct route_stats {
  struct series s[MV__METRICS_SERIES_PER_ROUTE];
  unsigned n;
  struct mv_hist duration_s;
};

struct mv__metrics {
  struct route_stats *routes[MV__LABELS_MAX];
  int64_t ws_conns;
  uint64_t ws_in, ws_out, ws_dropped;
  uint64_t series_overflow;
};

static const char *const method_names[MV__M_COUNT] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"};

const char *mv__method_name(enum mv__method m) {
  return (unsigned)m < MV__M_COUNT ? method_names[m] : "OTHER";
}

enum mv__method mv__method_parse(const char *s) {
  for (unsigned i = 0; i < MV__M_OTHER; i++)
    if (strcmp(s, method_names[i]) == 0)
      return (enum mv__method)i;
  return MV__M_OTHER;
}

struct mv__metrics *mv__metrics_new(void) {
  return calloc(1, sizeof(struct mv__metrics));
}

void mv__metrics_free(struct mv__metrics *m) {
  if (!m)
    return;
  for (unsigned i = 0; i < MV__LABELS_MAX; i++)
    free(m->routes[i]);
  free(m);
}

void mv__metrics_observe(struct mv__metrics *m, unsigned label,
                         enum mv__method method, int status, double seconds) {
  struct route_stats *r;
  if (!m || label >= MV__LABELS_MAX)
    return;
  r = m->routes[label];
  if (!r) {
    r = m->routes[label] = calloc(1, sizeof(*r));
    if (!r)
      return;
    mv_hist_init(&r->duration_s, bucket_le, MV_ARRAY_LEN(bucket_le));
  }
  mv_hist_observe(&r->duration_s, seconds);
  for (unsigned i = 0; i < r->n; i++)
    if (r->s[i].method == method && r->s[i].status == status) {
      r->s[i].count++;
      return;
    }
  if (r->n >= MV__METRICS_SERIES_PER_ROUTE) {
    m->series_overflow++;
    return;
  }
  r->s[r->n++] = (struct series){method, status, 1};
}

void mv__metrics_ws_conn(struct mv__metrics *m, int delta) {
  if (m)
    m->ws_conns += delta;
}
void mv__metrics_ws_in(struct mv__metrics *m) {
  if (m)
    m->ws_in++;
}
void mv__metrics_ws_out(struct mv__metrics *m) {
  if (m)
    m->ws_out++;
}
void mv__metrics_ws_dropped(struct mv__metrics *m) {
  if (m)
    m->ws_dropped++;
}

#define TRY(expr)                                                              \
  do {                                                                         \
    if ((rc = (expr)) != MV_OK)                                                \
      return rc;                                                               \
  } while (0)

static int write_requests(const struct mv__metrics *m,
                          const char *const *labels, unsigned n_labels,
                          struct mv_buf *b) {
  int rc;
  TRY(mv_buf_appends(b, "# HELP mv_http_requests_total HTTP requests "
                        "answered, by route pattern, method and status.\n"
                        "# TYPE mv_http_requests_total counter\n"));
  for (unsigned l = 0; l < n_labels && l < MV__LABELS_MAX; l++) {
    const struct route_stats *r = m->routes[l];
    if (!r || !labels[l])
      continue;
    for (unsigned i = 0; i < r->n; i++) {
      TRY(mv_buf_appends(b, "mv_http_requests_total{route=\""));
      TRY(mv_metrics_write_label_value(b, labels[l]));
      TRY(mv_buf_appendf(b, "\",method=\"%s\",status=\"%d\"} %llu\n",
                         mv__method_name(r->s[i].method), r->s[i].status,
                         (unsigned long long)r->s[i].count));
    }
  }
  return MV_OK;
}

static int write_durations(const struct mv__metrics *m,
                           const char *const *labels, unsigned n_labels,
                           struct mv_buf *b) {
  static const char name[] = "mv_http_request_duration_seconds";
  struct mv_buf lab;
  int rc = mv_metrics_write_header(
      b, name, "histogram",
      "Time from request to the last byte of the answer.");
  mv_buf_init(&lab, 2 * MV_LIMIT_HTTP_URI_MAX);
  for (unsigned l = 0; rc == MV_OK && l < n_labels && l < MV__LABELS_MAX; l++) {
    const struct route_stats *r = m->routes[l];
    if (!r || !labels[l])
      continue;
    mv_buf_reset(&lab);
    if ((rc = mv_buf_appends(&lab, "route=\"")) == MV_OK &&
        (rc = mv_metrics_write_label_value(&lab, labels[l])) == MV_OK &&
        (rc = mv_buf_appends(&lab, "\"")) == MV_OK)
      rc = mv_metrics_write_hist(b, name, mv_buf_cstr(&lab), &r->duration_s);
  }
  mv_buf_release(&lab);
  return rc;
}

int mv__metrics_write(const struct mv__metrics *m, const char *const *labels,
                      unsigned n_labels, struct mv_buf *b) {
  int rc;
  TRY(write_requests(m, labels, n_labels, b));
  TRY(write_durations(m, labels, n_labels, b));
  TRY(mv_buf_appendf(
      b,
      "# HELP mv_ws_connections Open WebSocket connections.\n"
      "# TYPE mv_ws_connections gauge\n"
      "mv_ws_connections %lld\n"
      "# HELP mv_ws_messages_in_total WebSocket messages received.\n"
      "# TYPE mv_ws_messages_in_total counter\n"
      "mv_ws_messages_in_total %llu\n"
      "# HELP mv_ws_messages_out_total WebSocket messages sent.\n"
      "# TYPE mv_ws_messages_out_total counter\n"
      "mv_ws_messages_out_total %llu\n"
      "# HELP mv_ws_dropped_consumers_total WebSocket consumers disconnected "
      "for a full send queue.\n"
      "# TYPE mv_ws_dropped_consumers_total counter\n"
      "mv_ws_dropped_consumers_total %llu\n",
      (long long)m->ws_conns, (unsigned long long)m->ws_in,
      (unsigned long long)m->ws_out, (unsigned long long)m->ws_dropped));
  return MV_OK;
}

void mv__metrics_handler(void *ctx, struct mv_http_exchange *x) {
  struct mv_server *srv = ctx;
  const char *labels[MV__LABELS_MAX];
  struct mv_buf b;
  int rc;

  mv_buf_init(&b, MV__METRICS_TEXT_MAX);
  mv__server_labels(srv, labels, MV__LABELS_MAX);
  rc = mv__metrics_write(srv->metrics, labels, MV__LABELS_MAX, &b);
  for (size_t i = 0; i < srv->n_msrc && rc == MV_OK; i++) {
    /* each source writes into its own buffer so that one failing source
     * leaves no half-written lines and does not hide the others */
    struct mv_buf part;
    mv_buf_init(&part, MV__METRICS_TEXT_MAX - b.len);
    if (srv->msrc[i].fn(srv->msrc[i].ctx, &part) != MV_OK)
      MV_LOG_WARN("net", "metrics source %zu failed", i);
    else if (part.len && mv_buf_append(&b, part.data, part.len) != MV_OK)
      MV_LOG_WARN("net", "metrics source %zu dropped: text too large", i);
    mv_buf_release(&part);
  }
  if (rc != MV_OK)
    mv_http_respond_error(x, rc, NULL);
  else
    mv_http_respond(x, 200, "text/plain; version=0.0.4; charset=utf-8",
                    mv_buf_cstr(&b), b.len);
  mv_buf_release(&b);
}

void mv__health_handler(void *ctx, struct mv_http_exchange *x) {
  static const char body[] = "{\"status\":\"ok\"}";
  (void)ctx;
  mv_http_respond(x, 200, "application/json", body, sizeof(body) - 1);
}
