/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-process server tests: mv_server_new on 127.0.0.1 port 0, run in a
 * thread, spoken to with plain POSIX sockets from the test thread (healthz,
 * 404, 405, 413, malformed request line, an answer posted back from another
 * thread, static files and traversal), then mv_server_stop and a check that
 * mv_server_run returns MV_OK within 5 s. Also: the listen address is bound
 * exactly (never every interface) and a missing one is an error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mv_log.h"
#include "net_int.h"

struct fixture {
  struct mv_server *srv;
  pthread_t thread;
  int run_rc;
  atomic_bool done;
  char root[64];
};

static void *run_thread(void *arg) {
  struct fixture *f = arg;
  f->run_rc = mv_server_run(f->srv);
  atomic_store(&f->done, true);
  return NULL;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Answers from another thread, through mv_server_post. */
static void *late_answer_thread(void *arg);
static void late_answer_task(void *arg) {
  struct mv_http_exchange *x = arg;
  mv_http_respond(x, 201, "application/json", "{\"late\":true}", 13);
}
static void *late_answer_thread(void *arg) {
  struct mv_http_exchange *x = arg;
  usleep(20000);
  /* if the server already stopped, mv_server_free frees x */
  if (mv_server_post(x->srv, late_answer_task, x) != MV_OK)
    return NULL;
  return NULL;
}
static void late_handler(void *ctx, struct mv_http_exchange *x) {
  pthread_t t;
  (void)ctx;
  if (pthread_create(&t, NULL, late_answer_thread, x) != 0)
    abort();
  pthread_detach(t);
}

/* Answers 300 ms later from another thread: an exchange in flight. */
static void *slow_answer_thread(void *arg) {
  struct mv_http_exchange *x = arg;
  usleep(300000);
  if (mv_server_post(x->srv, late_answer_task, x) != MV_OK)
    return NULL;
  return NULL;
}
static atomic_bool slow_started;
static void slow_handler(void *ctx, struct mv_http_exchange *x) {
  pthread_t t;
  (void)ctx;
  atomic_store(&slow_started, true);
  if (pthread_create(&t, NULL, slow_answer_thread, x) != 0)
    abort();
  pthread_detach(t);
}

static void echo_handler(void *ctx, struct mv_http_exchange *x) {
  const struct mv_http_req *r = mv_http_request(x);
  const char *q = mv_http_query(x, "q");
  const char *im = mv_http_header(x, "if-match");
  char *body = mv_arena_printf(mv_http_arena(x), "%s|%s|%zu|%s|%s|%s|%s",
                               r->method, r->path, r->body_len, q ? q : "-",
                               mv_http_header(x, "x-request-id")
                                   ? mv_http_header(x, "x-request-id")
                                   : "-",
                               r->remote, im ? im : "-");
  (void)ctx;
  mv_http_respond(x, 200, "text/plain", body, strlen(body));
}

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  struct mv_diag d;
  char path[128];
  FILE *fp;

  mv_log_set_level(MV_LOG_WARN);
  snprintf(f->root, sizeof(f->root), "/tmp/mv-net-test-XXXXXX");
  assert_non_null(mkdtemp(f->root));
  snprintf(path, sizeof(path), "%s/index.html", f->root);
  fp = fopen(path, "w");
  assert_non_null(fp);
  fputs("<p>home</p>", fp);
  fclose(fp);
  snprintf(path, sizeof(path), "%s/escape", f->root);
  assert_int_equal(symlink("/etc/hostname", path), 0);

  struct mv_server_opts o = {.host = "127.0.0.1",
                             .port = 0,
                             .web_root = f->root,
                             .body_max = 1024,
                             /* generous: a loaded CI machine (ASan, ctest -j)
                              * must still see the 300 ms answer inside it */
                             .shutdown_grace_ms = 3000};
  mv_diag_clear(&d);
  assert_int_equal(mv_server_new(&o, &f->srv, &d), MV_OK);
  assert_true(mv_server_port(f->srv) > 0);
  assert_int_equal(mv_server_route(f->srv, NULL, "/echo/*", echo_handler, NULL),
                   MV_OK);
  assert_int_equal(mv_server_route(f->srv, "GET", "/late", late_handler, NULL),
                   MV_OK);
  assert_int_equal(mv_server_route(f->srv, "GET", "/slow", slow_handler, NULL),
                   MV_OK);
  assert_int_equal(pthread_create(&f->thread, NULL, run_thread, f), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  char path[128];
  int64_t t0 = now_ms();

  mv_server_stop(f->srv);
  while (!atomic_load(&f->done) && now_ms() - t0 < 5000)
    usleep(5000);
  assert_true(atomic_load(&f->done)); /* shutdown within 5 s */
  pthread_join(f->thread, NULL);
  assert_int_equal(f->run_rc, MV_OK);
  /* the loop is gone: posting is refused */
  assert_int_equal(mv_server_post(f->srv, late_answer_task, NULL), MV_ECLOSED);
  mv_server_free(f->srv);
  snprintf(path, sizeof(path), "%s/index.html", f->root);
  unlink(path);
  snprintf(path, sizeof(path), "%s/escape", f->root);
  unlink(path);
  rmdir(f->root);
  free(f);
  return 0;
}

static int connect_to(struct fixture *f) {
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)mv_server_port(f->srv))};
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  return fd;
}

/* Read from fd until the peer closes or 3 s pass; closes fd, returns the
 * bytes read (out is NUL-terminated). */
static size_t read_all(int fd, char *out, size_t out_len) {
  size_t got = 0;
  int64_t t0 = now_ms();
  while (got + 1 < out_len && now_ms() - t0 < 3000) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 100) <= 0)
      continue;
    ssize_t n = recv(fd, out + got, out_len - 1 - got, 0);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  out[got] = '\0';
  close(fd);
  return got;
}

/* Send req, read until the peer closes or 3 s pass; returns bytes read. */
static size_t exchange(struct fixture *f, const char *req, size_t req_len,
                       char *out, size_t out_len) {
  int fd = connect_to(f);
  assert_int_equal(send(fd, req, req_len, MSG_NOSIGNAL), (ssize_t)req_len);
  return read_all(fd, out, out_len);
}

#define REQ(s) s, sizeof(s) - 1

static void healthz_answers_ok(void **state) {
  char buf[4096];
  exchange(*state,
           REQ("GET /healthz HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 200"));
  assert_non_null(strstr(buf, "application/json"));
  assert_non_null(strstr(buf, "{\"status\":\"ok\"}"));
}

static void unknown_route_is_404_json(void **state) {
  char buf[4096];
  exchange(*state,
           REQ("POST /nope HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 404"));
  assert_non_null(strstr(buf, "\"error\":\"MV_ENOTFOUND\""));
  assert_non_null(strstr(buf, "\"path\":\"/nope\""));
}

static void wrong_method_is_405_with_allow(void **state) {
  char buf[4096];
  exchange(*state,
           REQ("DELETE /healthz HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 405"));
  assert_non_null(strstr(buf, "allow: GET, HEAD"));
  assert_non_null(strstr(buf, "MV_EMETHOD"));
}

static void large_content_length_is_413(void **state) {
  char buf[4096];
  /* the body never comes: the answer must not wait for it */
  exchange(*state,
           REQ("POST /echo/x HTTP/1.1\r\nHost: x\r\n"
               "Content-Length: 100000000\r\n\r\nabc"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 413"));
  assert_non_null(strstr(buf, "MV_ETOOBIG"));
}

static void body_over_limit_still_gets_413_not_reset(void **state) {
  char req[8192];
  char buf[4096];
  int n = snprintf(req, sizeof(req),
                   "POST /echo/x HTTP/1.1\r\nHost: x\r\n"
                   "Content-Length: 5000\r\n\r\n");
  memset(req + n, 'a', 5000);
  exchange(*state, req, (size_t)n + 5000, buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 413"));
}

static void malformed_request_line_does_not_kill_server(void **state) {
  char buf[4096];
  exchange(*state, REQ("\x01\x02garbage \xff\xfe\r\n\r\n"), buf, sizeof(buf));
  exchange(*state, REQ("GET\r\n\r\n"), buf, sizeof(buf));
  exchange(*state, REQ("GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n"), buf,
           sizeof(buf));
  exchange(*state,
           REQ("GET /healthz HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 200"));
}

static void long_uri_is_414(void **state) {
  char req[MV_LIMIT_HTTP_URI_MAX + 256];
  char buf[4096];
  int n = snprintf(req, sizeof(req), "GET /echo/");
  memset(req + n, 'a', MV_LIMIT_HTTP_URI_MAX);
  n += (int)MV_LIMIT_HTTP_URI_MAX;
  n += snprintf(req + n, sizeof(req) - (size_t)n,
                " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  exchange(*state, req, (size_t)n, buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 414"));
}

static void body_query_and_headers_reach_handler(void **state) {
  char buf[4096];
  exchange(*state,
           REQ("PUT /echo/a%20b?q=x%26y+z&r=1 HTTP/1.1\r\nHost: x\r\n"
               "X-Request-Id: abc\r\nContent-Length: 5\r\n"
               "If-Match: W/\"3\"\r\n"
               "Connection: close\r\n\r\nhello"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 200"));
  assert_non_null(strstr(buf, "PUT|/echo/a b|5|x&y z|abc|127.0.0.1|W/\"3\""));
}

static void answer_posted_from_another_thread(void **state) {
  char buf[4096];
  exchange(*state,
           REQ("GET /late HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 201"));
  assert_non_null(strstr(buf, "{\"late\":true}"));
}

static void in_flight_request_finishes_during_shutdown(void **state) {
  struct fixture *f = *state;
  char buf[4096];
  int fd = connect_to(f);
  static const char req[] =
      "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  atomic_store(&slow_started, false);
  assert_int_equal(send(fd, req, sizeof(req) - 1, 0), (ssize_t)sizeof(req) - 1);
  /* wait until the handler runs; its answer comes 300 ms later */
  for (int i = 0; i < 500 && !atomic_load(&slow_started); i++)
    usleep(2000);
  assert_true(atomic_load(&slow_started));
  int64_t t0 = now_ms();
  mv_server_stop(f->srv);
  read_all(fd, buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 201"));
  assert_non_null(strstr(buf, "{\"late\":true}"));
  /* and the shutdown then completes */
  while (!atomic_load(&f->done) && now_ms() - t0 < 5000)
    usleep(5000);
  assert_true(atomic_load(&f->done));
}

static void oversized_header_block_does_not_kill_server(void **state) {
  struct fixture *f = *state;
  size_t hlen = MV_LIMIT_HTTP_HEADERS_TOTAL + 4096;
  size_t cap = hlen + 256;
  char *req = malloc(cap), buf[4096];
  assert_non_null(req);
  int n = snprintf(req, cap, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
  memset(req + n, 'a', hlen);
  memcpy(req + (size_t)n + hlen, "\r\n\r\n", 4);
  size_t len = (size_t)n + hlen + 4;
  int fd = connect_to(f);
  (void)send(fd, req, len, MSG_NOSIGNAL); /* the server may close early */
  close(fd);
  free(req);
  exchange(f,
           REQ("GET /healthz HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 200"));
}

static void late_answer_after_client_left_is_freed(void **state) {
  struct fixture *f = *state;
  int fd = connect_to(f);
  static const char req[] = "GET /late HTTP/1.1\r\nHost: x\r\n\r\n";
  assert_int_equal(send(fd, req, sizeof(req) - 1, 0), (ssize_t)sizeof(req) - 1);
  close(fd); /* gone before the answer; LeakSanitizer checks the free */
  usleep(80000);
}

static void static_files_and_traversal(void **state) {
  char buf[4096];
  exchange(*state,
           REQ("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), buf,
           sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 200"));
  assert_non_null(strstr(buf, "text/html"));
  assert_non_null(strstr(buf, "<p>home</p>"));
  exchange(*state, REQ("HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n"), buf,
           sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 200"));
  assert_non_null(strstr(buf, "content-length: 11"));
  assert_null(strstr(buf, "<p>home</p>"));
  exchange(*state,
           REQ("GET /escape HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 404"));
  exchange(*state,
           REQ("GET /..%2f..%2fetc/hostname HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  assert_null(strstr(buf, "HTTP/1.1 200"));
  exchange(*state,
           REQ("GET /missing.js HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "HTTP/1.1 404"));
  assert_non_null(strstr(buf, "MV_ENOTFOUND"));
}

static void static_resolve_rejects_escapes(void **state) {
  struct fixture *f = *state;
  char out[MV_LIMIT_PATH_MAX];
  char root[PATH_MAX];
  assert_non_null(realpath(f->root, root));
  assert_int_equal(mv__static_resolve(root, "/index.html", out), MV_OK);
  assert_int_equal(mv__static_resolve(root, "/", out), MV_OK);
  assert_int_equal(mv__static_resolve(root, "/../etc/passwd", out),
                   MV_ENOTFOUND);
  assert_int_equal(mv__static_resolve(root, "/escape", out), MV_ENOTFOUND);
  assert_int_equal(mv__static_resolve(root, "/nothing", out), MV_ENOTFOUND);
}

static void metrics_count_by_route_pattern(void **state) {
  char buf[65536];
  exchange(*state,
           REQ("GET /echo/123?q=secret HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  exchange(*state,
           REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n"),
           buf, sizeof(buf));
  assert_non_null(strstr(buf, "text/plain; version=0.0.4"));
  assert_non_null(
      strstr(buf, "mv_http_requests_total{route=\"/echo/*\",method=\"GET\","
                  "status=\"200\"}"));
  assert_null(strstr(buf, "secret"));
  assert_null(strstr(buf, "/echo/123"));
  assert_non_null(strstr(buf, "mv_ws_connections 0"));
}

/* True if a TCP connect to addr succeeds. */
static bool can_connect(const struct sockaddr *addr, socklen_t len) {
  int fd = socket(addr->sa_family, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  bool ok = connect(fd, addr, len) == 0;
  close(fd);
  return ok;
}

/* libwebsockets 4.1 built with IPv6 writes an IPv4 listen address into the
 * wrong bytes of its sockaddr_in6 and binds to [::], i.e. every interface:
 * "127.0.0.1" must stay loopback-only. */
static void listen_address_is_honoured(void **state) {
  (void)state;
  struct mv_server *srv = NULL;
  struct mv_diag d;
  struct mv_server_opts o = {.host = "127.0.0.1", .port = 0};
  mv_diag_clear(&d);
  assert_int_equal(mv_server_new(&o, &srv, &d), MV_OK);
  uint16_t port = htons((uint16_t)mv_server_port(srv));

  struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = port};
  inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
  assert_true(can_connect((struct sockaddr *)&v4, sizeof(v4)));
  struct sockaddr_in6 v6 = {.sin6_family = AF_INET6,
                            .sin6_port = port,
                            .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  assert_false(can_connect((struct sockaddr *)&v6, sizeof(v6)));
  /* Nor another loopback address: bound to 127.0.0.1, not 0.0.0.0. Tests
   * send traffic to the loopback range only, never to other interfaces. */
  struct sockaddr_in other = v4;
  inet_pton(AF_INET, "127.0.0.2", &other.sin_addr);
  assert_false(can_connect((struct sockaddr *)&other, sizeof(other)));
  mv_server_free(srv);
}

/* An address or interface this host does not have is an error, not a
 * server that listens nowhere (or everywhere). */
static void listen_on_missing_address_fails(void **state) {
  (void)state;
  static const char *const hosts[] = {"203.0.113.7", "no-such-if0"};
  for (size_t i = 0; i < MV_ARRAY_LEN(hosts); i++) {
    struct mv_server *srv = NULL;
    struct mv_diag d;
    struct mv_server_opts o = {.host = hosts[i], .port = 0};
    mv_diag_clear(&d);
    assert_int_equal(mv_server_new(&o, &srv, &d), MV_EIO);
    assert_null(srv);
  }
}

/* A module's repeating timer on the server's loop, stopped by its shutdown
 * hook (as the surveillance scheduler does). */
static int hook_calls;
static void never_fires(uv_timer_t *t) {
  (void)t;
}
static void stop_timer_hook(void *ctx) {
  hook_calls++;
  uv_timer_stop(ctx);
  uv_close(ctx, NULL);
}

/* A server freed without ever running (a later start-up step failed) runs
 * the shutdown hooks once, so timers others started on its loop close and
 * mv_server_free returns instead of waiting for them (it used to hang). */
static void free_without_run_runs_shutdown_hooks(void **state) {
  (void)state;
  struct mv_server *srv = NULL;
  struct mv_diag d;
  struct mv_server_opts o = {.host = "127.0.0.1", .port = 0};
  static uv_timer_t timer;
  mv_diag_clear(&d);
  assert_int_equal(mv_server_new(&o, &srv, &d), MV_OK);
  assert_int_equal(uv_timer_init(mv_server_loop(srv), &timer), 0);
  assert_int_equal(uv_timer_start(&timer, never_fires, 3600000, 3600000), 0);
  hook_calls = 0;
  assert_int_equal(mv_server_on_shutdown(srv, stop_timer_hook, &timer), MV_OK);
  mv_server_free(srv);
  assert_int_equal(hook_calls, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(listen_address_is_honoured),
      cmocka_unit_test(free_without_run_runs_shutdown_hooks),
      cmocka_unit_test(listen_on_missing_address_fails),
      cmocka_unit_test_setup_teardown(healthz_answers_ok, setup, teardown),
      cmocka_unit_test_setup_teardown(unknown_route_is_404_json, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(wrong_method_is_405_with_allow, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(large_content_length_is_413, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(body_over_limit_still_gets_413_not_reset,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          malformed_request_line_does_not_kill_server, setup, teardown),
      cmocka_unit_test_setup_teardown(long_uri_is_414, setup, teardown),
      cmocka_unit_test_setup_teardown(body_query_and_headers_reach_handler,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(answer_posted_from_another_thread, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          in_flight_request_finishes_during_shutdown, setup, teardown),
      cmocka_unit_test_setup_teardown(
          oversized_header_block_does_not_kill_server, setup, teardown),
      cmocka_unit_test_setup_teardown(late_answer_after_client_left_is_freed,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(static_files_and_traversal, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(static_resolve_rejects_escapes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(metrics_count_by_route_pattern, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
