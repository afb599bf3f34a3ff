/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the socket-free parts of the net module: route matching,
 * query decoding, topic validation, the bounded WebSocket send queue and
 * the Prometheus text the metrics registry writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "net_int.h"

static void noop_handler(void *ctx, struct mv_http_exchange *x) {
  (void)ctx;
  (void)x;
}

static struct mv__route mk(const char *method, const char *pattern) {
  size_t n = strlen(pattern);
  struct mv__route r = {0};
  r.method = (char *)method;
  r.pattern = (char *)pattern;
  r.prefix = pattern[n - 1] == '*';
  r.match_len = r.prefix ? n - 1 : n;
  r.fn = noop_handler;
  return r;
}

static void route_longest_match_wins(void **state) {
  (void)state;
  struct mv__route rs[] = {mk("GET", "/*"), mk("GET", "/fhir/*"),
                           mk("GET", "/fhir/Patient"), mk(NULL, "/api/*")};
  struct mv__route_match m;
  mv__route_find(rs, 4, "GET", "/fhir/Patient", &m);
  assert_int_equal(m.route, 2);
  mv__route_find(rs, 4, "GET", "/fhir/Observation/1", &m);
  assert_int_equal(m.route, 1);
  mv__route_find(rs, 4, "GET", "/index.html", &m);
  assert_int_equal(m.route, 0);
  mv__route_find(rs, 4, "DELETE", "/api/x", &m);
  assert_int_equal(m.route, 3);
  mv__route_find(rs, 4, "GET", "/fhir/Patient/", &m);
  assert_int_equal(m.route, 1);
}

static void route_exact_beats_prefix_of_same_length(void **state) {
  (void)state;
  struct mv__route rs[] = {mk("GET", "/fhir*"), mk("GET", "/fhir")};
  struct mv__route_match m;
  mv__route_find(rs, 2, "GET", "/fhir", &m);
  assert_int_equal(m.route, 1);
  mv__route_find(rs, 2, "GET", "/fhirx", &m);
  assert_int_equal(m.route, 0);
}

static void route_wrong_method_is_405_with_allow(void **state) {
  (void)state;
  struct mv__route rs[] = {mk("GET", "/x"), mk("POST", "/x"), mk("PUT", "/y")};
  struct mv__route_match m;
  char allow[64];
  mv__route_find(rs, 3, "DELETE", "/x", &m);
  assert_int_equal(m.route, -1);
  assert_true(m.method_mismatch);
  mv__route_allow(rs, 3, (size_t)m.best_pattern, allow, sizeof(allow));
  assert_string_equal(allow, "GET, POST, HEAD");
  mv__route_find(rs, 3, "HEAD", "/x", &m); /* HEAD rides on GET */
  assert_int_equal(m.route, 0);
  mv__route_find(rs, 3, "GET", "/nope", &m);
  assert_int_equal(m.route, -1);
  assert_false(m.method_mismatch);
}

static void topic_validation(void **state) {
  (void)state;
  char longt[MV_LIMIT_WS_TOPIC_LEN + 2];
  assert_true(mv__topic_valid("patient/p1/vitals", 17));
  assert_true(mv__topic_valid("a.b:c-d_e", 9));
  assert_false(mv__topic_valid("", 0));
  assert_false(mv__topic_valid("a b", 3));
  assert_false(mv__topic_valid("a*", 2));
  assert_false(mv__topic_valid("caf\xc3\xa9", 5));
  memset(longt, 'a', sizeof(longt));
  assert_true(mv__topic_valid(longt, MV_LIMIT_WS_TOPIC_LEN));
  assert_false(mv__topic_valid(longt, MV_LIMIT_WS_TOPIC_LEN + 1));
}

static void wsq_caps_messages_and_bytes(void **state) {
  (void)state;
  struct mv__wsq q;
  struct mv__wsmsg *m = mv__wsmsg_new("0123456789", 10);
  assert_non_null(m);
  mv__wsq_init(&q, 3, 25);
  assert_int_equal(mv__wsq_push(&q, m), MV_OK);
  assert_int_equal(mv__wsq_push(&q, m), MV_OK);
  /* third would make 30 bytes > 25 */
  assert_int_equal(mv__wsq_push(&q, m), MV_ETOOBIG);
  assert_int_equal(q.msgs, 2);
  assert_int_equal(q.bytes, 20);
  assert_int_equal(m->refs, 3); /* shared, not copied */
  mv__wsq_pop(&q);
  assert_int_equal(q.bytes, 10);
  assert_int_equal(m->refs, 2);
  mv__wsq_release(&q);
  assert_int_equal(q.msgs, 0);
  assert_int_equal(m->refs, 1);

  mv__wsq_init(&q, 2, 1000);
  assert_int_equal(mv__wsq_push(&q, m), MV_OK);
  assert_int_equal(mv__wsq_push(&q, m), MV_OK);
  assert_int_equal(mv__wsq_push(&q, m), MV_ETOOBIG); /* message cap */
  mv__wsq_release(&q);
  mv__wsmsg_unref(m);
}

static void metrics_text_format(void **state) {
  (void)state;
  struct mv__metrics *m = mv__metrics_new();
  struct mv_buf b;
  const char *labels[4] = {"unmatched", "static", "/healthz", "/a\"b"};
  assert_non_null(m);
  mv__metrics_observe(m, 2, MV__M_GET, 200, 0.002);
  mv__metrics_observe(m, 2, MV__M_GET, 200, 0.2);
  mv__metrics_observe(m, 0, MV__M_POST, 404, 0.0001);
  mv__metrics_observe(m, 3, MV__M_OTHER, 500, 20.0);
  mv__metrics_ws_conn(m, 1);
  mv__metrics_ws_in(m);
  mv__metrics_ws_dropped(m);
  mv_buf_init(&b, 1u << 20);
  assert_int_equal(mv__metrics_write(m, labels, 4, &b), MV_OK);
  const char *t = mv_buf_cstr(&b);
  assert_non_null(strstr(t, "# TYPE mv_http_requests_total counter\n"));
  assert_non_null(
      strstr(t, "mv_http_requests_total{route=\"/healthz\",method=\"GET\","
                "status=\"200\"} 2\n"));
  assert_non_null(
      strstr(t, "mv_http_requests_total{route=\"unmatched\",method=\"POST\","
                "status=\"404\"} 1\n"));
  assert_non_null(strstr(t, "route=\"/a\\\"b\",method=\"OTHER\""));
  assert_non_null(
      strstr(t, "mv_http_request_duration_seconds_bucket{route=\"/healthz\","
                "le=\"0.001\"} 0\n"));
  assert_non_null(
      strstr(t, "mv_http_request_duration_seconds_bucket{route=\"/healthz\","
                "le=\"0.005\"} 1\n"));
  assert_non_null(
      strstr(t, "mv_http_request_duration_seconds_bucket{route=\"/healthz\","
                "le=\"+Inf\"} 2\n"));
  assert_non_null(strstr(
      t, "mv_http_request_duration_seconds_count{route=\"/healthz\"} 2\n"));
  assert_non_null(
      strstr(t, "mv_http_request_duration_seconds_bucket{route=\"/a\\\"b\","
                "le=\"10\"} 0\n"));
  assert_non_null(
      strstr(t, "# TYPE mv_ws_connections gauge\nmv_ws_connections 1\n"));
  assert_non_null(strstr(t, "mv_ws_messages_in_total 1\n"));
  assert_non_null(strstr(t, "mv_ws_messages_out_total 0\n"));
  assert_non_null(strstr(t, "mv_ws_dropped_consumers_total 1\n"));
  assert_null(strstr(t, "route=\"static\"")); /* no samples, no series */
  mv_buf_release(&b);
  mv__metrics_free(m);
}

static void metrics_series_per_route_are_capped(void **state) {
  (void)state;
  struct mv__metrics *m = mv__metrics_new();
  struct mv_buf b;
  const char *labels[1] = {"unmatched"};
  for (int s = 100; s < 100 + 2 * (int)MV__METRICS_SERIES_PER_ROUTE; s++)
    mv__metrics_observe(m, 0, MV__M_GET, s, 0.0);
  mv_buf_init(&b, 1u << 20);
  assert_int_equal(mv__metrics_write(m, labels, 1, &b), MV_OK);
  size_t lines = 0;
  for (const char *p = mv_buf_cstr(&b);
       (p = strstr(p, "mv_http_requests_total{")); p++)
    lines++;
  assert_int_equal(lines, MV__METRICS_SERIES_PER_ROUTE);
  mv_buf_release(&b);
  mv__metrics_free(m);
}

static void static_content_types(void **state) {
  (void)state;
  assert_string_equal(mv__static_content_type("/a/index.html"),
                      "text/html; charset=utf-8");
  assert_string_equal(mv__static_content_type("/x.mjs"),
                      "text/javascript; charset=utf-8");
  assert_string_equal(mv__static_content_type("/m.glb"), "model/gltf-binary");
  assert_string_equal(mv__static_content_type("/f.WOFF2"), "font/woff2");
  assert_string_equal(mv__static_content_type("/w.wasm"), "application/wasm");
  assert_string_equal(mv__static_content_type("/noext"),
                      "application/octet-stream");
  assert_string_equal(mv__static_content_type("/dir.d/noext"),
                      "application/octet-stream");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(route_longest_match_wins),
      cmocka_unit_test(route_exact_beats_prefix_of_same_length),
      cmocka_unit_test(route_wrong_method_is_405_with_allow),
      cmocka_unit_test(topic_validation),
      cmocka_unit_test(wsq_caps_messages_and_bytes),
      cmocka_unit_test(metrics_text_format),
      cmocka_unit_test(metrics_series_per_route_are_capped),
      cmocka_unit_test(static_content_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
