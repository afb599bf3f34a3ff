/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WebSocket routes (mv_server_ws_route) against a real server on loopback,
 * with a minimal RFC 6455 client written here on POSIX sockets: on_open
 * sees the headers and the query and may refuse with a real HTTP status
 * (401 with WWW-Authenticate); an accepted connection gets whole text and
 * binary messages, answers through mv_ws_send, is closed by mv_ws_close
 * after its queued answers, and on_close runs exactly once. The /ws hub
 * keeps working beside a route.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mv_log.h"
#include "net_int.h"

struct fixture {
  struct mv_server *srv;
  pthread_t thread;
  int run_rc;
  atomic_bool done;
  /* what the handler saw (written on the loop thread, read after waits) */
  atomic_int opens, readies, closes, closes_null, messages;
  char auth[128];
  char token[128];
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *run_thread(void *arg) {
  struct fixture *f = arg;
  f->run_rc = mv_server_run(f->srv);
  atomic_store(&f->done, true);
  return NULL;
}

/* ---- the handler under test -------------------------------------------- */

static int on_open(void *ctx, struct mv_ws_upgrade *u, void **out_user,
                   const char **out_msg) {
  struct fixture *f = ctx;
  const char *a = mv_ws_upgrade_header(u, "authorization");
  const char *t = mv_ws_upgrade_query(u, "access_token");
  snprintf(f->auth, sizeof(f->auth), "%s", a ? a : "");
  snprintf(f->token, sizeof(f->token), "%s", t ? t : "");
  if (t && strcmp(t, "forbidden") == 0) {
    *out_msg = "not for you";
    return 403;
  }
  if (!(a && strcmp(a, "Bearer good") == 0) && !(t && strcmp(t, "good") == 0)) {
    *out_msg = "a token is required";
    return 401;
  }
  atomic_fetch_add(&f->opens, 1);
  *out_user = f;
  return 0;
}

static void on_ready(void *ctx, struct mv_ws_conn *c, void *user) {
  struct fixture *f = ctx;
  assert_ptr_equal(user, f);
  assert_true(mv_ws_id(c) > 0);
  atomic_fetch_add(&f->readies, 1);
}

static void on_message(void *ctx, struct mv_ws_conn *c, void *user,
                       const void *data, size_t len, bool binary) {
  struct fixture *f = ctx;
  char buf[256];
  (void)user;
  atomic_fetch_add(&f->messages, 1);
  if (!binary && len == 5 && memcmp(data, "close", 5) == 0) {
    assert_int_equal(mv_ws_send(c, "bye", 3), MV_OK);
    mv_ws_close(c, 1000, "asked");
    assert_int_equal(mv_ws_send(c, "late", 4), MV_ECLOSED);
    return;
  }
  int n = snprintf(buf, sizeof(buf), "%s:%zu", binary ? "bin" : "text", len);
  assert_int_equal(mv_ws_send(c, buf, (size_t)n), MV_OK);
}

static void on_close(void *ctx, struct mv_ws_conn *c, void *user) {
  struct fixture *f = ctx;
  assert_ptr_equal(user, f);
  atomic_fetch_add(&f->closes, 1);
  if (!c)
    atomic_fetch_add(&f->closes_null, 1);
}

static const struct mv_ws_handler handler = {on_open, on_ready, on_message,
                                             on_close};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  struct mv_server_opts o = {.host = "127.0.0.1", .port = 0};
  mv_log_set_level(MV_LOG_ERROR);
  assert_int_equal(mv_server_new(&o, &f->srv, NULL), MV_OK);
  assert_int_equal(mv_server_ws_route(f->srv, "/ws/test", &handler, f), MV_OK);
  assert_int_equal(mv_server_ws_route(f->srv, "/ws/test", &handler, f),
                   MV_EEXISTS);
  assert_int_equal(mv_server_ws_route(f->srv, "/ws", &handler, f), MV_EEXISTS);
  assert_int_equal(mv_server_ws_route(f->srv, "nope", &handler, f), MV_EINVAL);
  assert_int_equal(pthread_create(&f->thread, NULL, run_thread, f), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  int64_t t0 = now_ms();
  mv_server_stop(f->srv);
  while (!atomic_load(&f->done) && now_ms() - t0 < 5000)
    usleep(5000);
  assert_true(atomic_load(&f->done));
  pthread_join(f->thread, NULL);
  assert_int_equal(f->run_rc, MV_OK);
  mv_server_free(f->srv);
  /* every accepted upgrade was closed exactly once */
  assert_int_equal(atomic_load(&f->opens), atomic_load(&f->closes));
  free(f);
  return 0;
}

/* ---- a minimal client ---------------------------------------------------- */

static int connect_to(struct fixture *f) {
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)mv_server_port(f->srv))};
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  return fd;
}

static size_t recv_some(int fd, char *out, size_t cap, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, timeout_ms) <= 0)
    return 0;
  ssize_t n = recv(fd, out, cap, 0);
  return n > 0 ? (size_t)n : 0;
}

/* Send the upgrade request; read the response head into out. Returns fd. */
static int upgrade(struct fixture *f, const char *path, const char *extra,
                   char *out, size_t cap) {
  char req[1024];
  int fd = connect_to(f);
  int n = snprintf(req, sizeof(req),
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n%s\r\n",
                   path, extra);
  assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
  size_t got = 0;
  int64_t t0 = now_ms();
  out[0] = '\0';
  while (got + 1 < cap && now_ms() - t0 < 3000 && !strstr(out, "\r\n\r\n")) {
    size_t k = recv_some(fd, out + got, 1, 100); /* byte by byte: no frames */
    got += k;
    out[got] = '\0';
  }
  return fd;
}

static void send_frame(int fd, int opcode, const void *data, size_t len) {
  unsigned char h[14], mask[4] = {1, 2, 3, 4};
  size_t hl = 0;
  h[hl++] = (unsigned char)(0x80 | opcode);
  if (len < 126) {
    h[hl++] = (unsigned char)(0x80 | len);
  } else {
    h[hl++] = 0x80 | 126;
    h[hl++] = (unsigned char)(len >> 8);
    h[hl++] = (unsigned char)len;
  }
  memcpy(h + hl, mask, 4);
  hl += 4;
  unsigned char *buf = malloc(hl + len);
  memcpy(buf, h, hl);
  for (size_t i = 0; i < len; i++)
    buf[hl + i] = ((const unsigned char *)data)[i] ^ mask[i % 4];
  assert_int_equal(send(fd, buf, hl + len, MSG_NOSIGNAL), (ssize_t)(hl + len));
  free(buf);
}

/* Read one server frame (unmasked, payload < 126 here). Returns the opcode,
 * -1 on timeout or close of the socket. */
static int read_frame(int fd, char *out, size_t cap) {
  unsigned char h[2];
  size_t got = 0;
  int64_t t0 = now_ms();
  while (got < 2 && now_ms() - t0 < 3000)
    got += recv_some(fd, (char *)h + got, 2 - got, 100);
  if (got < 2)
    return -1;
  size_t len = h[1] & 0x7f;
  assert_true(len < 126 && len < cap);
  got = 0;
  while (got < len && now_ms() - t0 < 3000)
    got += recv_some(fd, out + got, len - got, 100);
  out[got] = '\0';
  return h[0] & 0x0f;
}

static void wait_for(atomic_int *v, int want) {
  int64_t t0 = now_ms();
  while (atomic_load(v) < want && now_ms() - t0 < 3000)
    usleep(2000);
  assert_int_equal(atomic_load(v), want);
}

/* ---- tests ---------------------------------------------------------------- */

static void refused_without_token_gets_401(void **state) {
  struct fixture *f = *state;
  char head[2048];
  int fd = upgrade(f, "/ws/test", "", head, sizeof(head));
  assert_non_null(strstr(head, " 401 Unauthorized"));
  assert_non_null(strstr(head, "www-authenticate: Bearer"));
  char body[256];
  size_t n = recv_some(fd, body, sizeof(body) - 1, 1000);
  body[n] = '\0';
  assert_non_null(strstr(body, "a token is required"));
  close(fd);
  assert_int_equal(atomic_load(&f->opens), 0);
}

static void refused_with_403_from_query(void **state) {
  struct fixture *f = *state;
  char head[2048];
  int fd =
      upgrade(f, "/ws/test?access_token=forbidden", "", head, sizeof(head));
  assert_non_null(strstr(head, " 403 "));
  close(fd);
  assert_string_equal(f->token, "forbidden");
}

static void accepted_connection_echoes_and_closes(void **state) {
  struct fixture *f = *state;
  char head[2048], msg[256];
  int fd = upgrade(f, "/ws/test", "Authorization: Bearer good\r\n", head,
                   sizeof(head));
  assert_non_null(strstr(head, "HTTP/1.1 101"));
  assert_string_equal(f->auth, "Bearer good");
  wait_for(&f->readies, 1);
  send_frame(fd, 1, "hello", 5);
  assert_int_equal(read_frame(fd, msg, sizeof(msg)), 1);
  assert_string_equal(msg, "text:5");
  unsigned char bin[300];
  memset(bin, 0xab, sizeof(bin));
  send_frame(fd, 2, bin, sizeof(bin));
  assert_int_equal(read_frame(fd, msg, sizeof(msg)), 1);
  assert_string_equal(msg, "bin:300");
  send_frame(fd, 1, "close", 5);
  /* the queued answer first, then the close frame with our code */
  assert_int_equal(read_frame(fd, msg, sizeof(msg)), 1);
  assert_string_equal(msg, "bye");
  assert_int_equal(read_frame(fd, msg, sizeof(msg)), 8);
  assert_int_equal(((unsigned char)msg[0] << 8) | (unsigned char)msg[1], 1000);
  close(fd);
  wait_for(&f->closes, 1);
  assert_int_equal(atomic_load(&f->closes_null), 0);
}

static void query_token_accepted_and_client_close_reported(void **state) {
  struct fixture *f = *state;
  char head[2048];
  int fd = upgrade(f, "/ws/test?x=1&access_token=good", "", head, sizeof(head));
  assert_non_null(strstr(head, "HTTP/1.1 101"));
  wait_for(&f->readies, 1);
  close(fd); /* vanishes without a close frame */
  wait_for(&f->closes, 1);
}

static void hub_still_upgrades_and_unknown_path_does_not(void **state) {
  struct fixture *f = *state;
  char head[2048];
  int fd = upgrade(f, "/ws", "", head, sizeof(head));
  assert_non_null(strstr(head, "HTTP/1.1 101"));
  close(fd);
  fd = upgrade(f, "/ws/other", "", head, sizeof(head));
  assert_null(strstr(head, "HTTP/1.1 101"));
  close(fd);
  assert_int_equal(atomic_load(&f->opens), 0);
}

/* on_open accepted, then lws refused the handshake itself (no key): the
 * handler still hears about it, with no connection. */
static void accepted_but_failed_upgrade_is_closed_once(void **state) {
  struct fixture *f = *state;
  char req[512], buf[512];
  int fd = connect_to(f);
  int n = snprintf(req, sizeof(req),
                   "GET /ws/test HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Authorization: Bearer good\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n");
  assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
  (void)recv_some(fd, buf, sizeof(buf), 1000);
  close(fd);
  assert_int_equal(atomic_load(&f->opens), 1);
  wait_for(&f->closes, 1);
  assert_int_equal(atomic_load(&f->readies), 0);
  assert_int_equal(atomic_load(&f->closes_null), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(refused_without_token_gets_401, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(refused_with_403_from_query, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(accepted_connection_echoes_and_closes,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          query_token_accepted_and_client_close_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(
          hub_still_upgrades_and_unknown_path_does_not, setup, teardown),
      cmocka_unit_test_setup_teardown(
          accepted_but_failed_upgrade_is_closed_once, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
