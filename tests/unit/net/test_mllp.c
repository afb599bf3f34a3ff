/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MLLP: the pure framer (byte by byte, split and coalesced frames, garbage,
 * resynchronisation, oversize) and the listener on a real loop with a
 * blocking client thread (in-order replies with one message in flight,
 * oversize closes, connection cap, idle timeout).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mv_net_mllp.h"

/* ---- framer ------------------------------------------------------------- */

struct got {
  char msgs[8][64];
  size_t n;
  int last_rc;
};

static void feed_all(struct mv_mllp_framer *f, const char *p, size_t n,
                     struct got *g) {
  while (n > 0) {
    size_t used = 0;
    const unsigned char *m;
    size_t len;
    g->last_rc = mv_mllp_framer_feed(f, p, n, &used, &m, &len);
    assert_true(used > 0 && used <= n);
    if (g->last_rc == MV_OK && m) {
      assert_true(g->n < 8 && len < 64);
      memcpy(g->msgs[g->n], m, len);
      g->msgs[g->n][len] = 0;
      g->n++;
    }
    p += used;
    n -= used;
  }
}

static void framer_one_frame_byte_by_byte(void **state) {
  (void)state;
  const char in[] = "\x0bMSH|a\rPID|1\x1c\r";
  struct mv_mllp_framer f;
  struct got g = {0};
  mv_mllp_framer_init(&f, 0);
  for (size_t i = 0; i < sizeof(in) - 1; i++)
    feed_all(&f, in + i, 1, &g);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.msgs[0], "MSH|a\rPID|1");
  mv_mllp_framer_release(&f);
}

static void framer_several_frames_in_one_read_and_split(void **state) {
  (void)state;
  const char in[] = "junk\x0b"
                    "A\x1c\r\r\n\x0b"
                    "B\x1c\r\x0b"
                    "CC\x1c\r";
  struct mv_mllp_framer f;
  struct got g = {0};
  mv_mllp_framer_init(&f, 0);
  feed_all(&f, in, 12, &g); /* split inside the second frame */
  feed_all(&f, in + 12, sizeof(in) - 1 - 12, &g);
  assert_int_equal(g.n, 3);
  assert_string_equal(g.msgs[0], "A");
  assert_string_equal(g.msgs[1], "B");
  assert_string_equal(g.msgs[2], "CC");
  assert_int_equal(f.skipped_bytes, 4 + 2); /* "junk" and "\r\n" */
  mv_mllp_framer_release(&f);
}

static void framer_resyncs_on_new_start_and_bad_end(void **state) {
  (void)state;
  /* A frame cut by a new start block; a 0x1C not followed by CR. */
  const char in[] = "\x0b"
                    "cut\x0bOK1\x1c\r\x0b"
                    "bad\x1cX\x0bOK2\x1c\r";
  struct mv_mllp_framer f;
  struct got g = {0};
  mv_mllp_framer_init(&f, 0);
  feed_all(&f, in, sizeof(in) - 1, &g);
  assert_int_equal(g.n, 2);
  assert_string_equal(g.msgs[0], "OK1");
  assert_string_equal(g.msgs[1], "OK2");
  assert_int_equal(f.dropped_frames, 2);
  mv_mllp_framer_release(&f);
}

static void framer_oversize_is_refused_then_recovers(void **state) {
  (void)state;
  struct mv_mllp_framer f;
  struct got g = {0};
  mv_mllp_framer_init(&f, 8);
  const char big[] = "\x0b"
                     "123456789\x1c\r";
  size_t used = 0;
  const unsigned char *m;
  size_t len;
  assert_int_equal(
      mv_mllp_framer_feed(&f, big, sizeof(big) - 1, &used, &m, &len),
      MV_ETOOBIG);
  assert_null(m);
  /* exactly at the limit is fine */
  feed_all(&f,
           "\x0b"
           "12345678\x1c\r",
           11, &g);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.msgs[0], "12345678");
  mv_mllp_framer_release(&f);
}

static void framer_empty_frame_and_frame_helper(void **state) {
  (void)state;
  size_t n = 0;
  unsigned char *b = mv_mllp_frame("xy", 2, &n);
  assert_non_null(b);
  assert_int_equal(n, 5);
  assert_memory_equal(b, "\x0bxy\x1c\r", 5);
  struct mv_mllp_framer f;
  struct got g = {0};
  mv_mllp_framer_init(&f, 0);
  feed_all(&f, (const char *)b, n, &g);
  feed_all(&f, "\x0b\x1c\r", 3, &g);
  assert_int_equal(g.n, 2);
  assert_string_equal(g.msgs[0], "xy");
  assert_string_equal(g.msgs[1], "");
  free(b);
  mv_mllp_framer_release(&f);
}

/* ---- listener -------------------------------------------------------------- */

struct lfx {
  uv_loop_t loop;
  uv_async_t done;
  uv_timer_t later;
  struct mv_mllp_server *srv;
  int port;
  int inflight, max_inflight;
  bool defer;
  struct mv_mllp_msg *held;
  char held_data[64];
  void (*client)(struct lfx *);
  int result; /* set by the client thread; 0 = ok */
  char why[128];
};

static void reply_echo(struct mv_mllp_msg *m, const char *data) {
  char out[80];
  snprintf(out, sizeof(out), "ACK:%s", data);
  mv_mllp_reply(m, out, strlen(out));
}

static void on_later(uv_timer_t *t) {
  struct lfx *x = t->data;
  struct mv_mllp_msg *m = x->held;
  x->held = NULL;
  x->inflight--;
  reply_echo(m, x->held_data);
}

static void on_msg(void *ctx, struct mv_mllp_msg *m, const unsigned char *d,
                   size_t n) {
  struct lfx *x = ctx;
  char buf[64];
  snprintf(buf, sizeof(buf), "%.*s", (int)(n < 60 ? n : 60), (const char *)d);
  x->inflight++;
  if (x->inflight > x->max_inflight)
    x->max_inflight = x->inflight;
  if (!x->defer) {
    x->inflight--;
    reply_echo(m, buf);
    return;
  }
  x->held = m;
  memcpy(x->held_data, buf, sizeof(buf));
  uv_timer_start(&x->later, on_later, 10, 0);
}

static void on_done(uv_async_t *a) {
  struct lfx *x = a->data;
  mv_mllp_server_close(x->srv);
  uv_close((uv_handle_t *)&x->done, NULL);
  uv_close((uv_handle_t *)&x->later, NULL);
}

static void *client_main(void *arg) {
  struct lfx *x = arg;
  x->client(x);
  uv_async_send(&x->done);
  return NULL;
}

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  struct timeval tv = {3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Read until n bytes or EOF/timeout; returns bytes read. */
static size_t read_n(int fd, char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd, buf + got, n - got, 0);
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  return got;
}

static void run_fixture(struct lfx *x, unsigned idle_s, size_t msg_max,
                        unsigned conn_max) {
  assert_int_equal(uv_loop_init(&x->loop), 0);
  uv_async_init(&x->loop, &x->done, on_done);
  x->done.data = x;
  uv_timer_init(&x->loop, &x->later);
  x->later.data = x;
  struct mv_mllp_opts o = {.loop = &x->loop,
                           .host = "127.0.0.1",
                           .port = 0,
                           .idle_s = idle_s,
                           .msg_max = msg_max,
                           .conn_max = conn_max,
                           .on_message = on_msg,
                           .ctx = x};
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_mllp_server_new(&o, &x->srv, &d), MV_OK);
  x->port = mv_mllp_server_port(x->srv);
  assert_true(x->port > 0);
  pthread_t th;
  pthread_create(&th, NULL, client_main, x);
  uv_run(&x->loop, UV_RUN_DEFAULT);
  pthread_join(th, NULL);
  mv_mllp_server_free(x->srv);
  assert_int_equal(uv_loop_close(&x->loop), 0);
  if (x->result)
    fail_msg("%s", x->why);
}

static void client_pipelined(struct lfx *x) {
  int fd = dial(x->port);
  const char out[] = "noise\x0b"
                     "one\x1c\r\x0btwo\x1c\r\x0bthree\x1c\r";
  char in[64] = {0};
  const char want[] = "\x0b"
                      "ACK:one\x1c\r\x0b"
                      "ACK:two\x1c\r\x0b"
                      "ACK:three\x1c\r";
  send(fd, out, sizeof(out) - 1, 0);
  size_t n = read_n(fd, in, sizeof(want) - 1);
  if (n != sizeof(want) - 1 || memcmp(in, want, n) != 0) {
    x->result = 1;
    snprintf(x->why, sizeof(x->why), "got %zu bytes, not the three ACKs", n);
  }
  close(fd);
}

static void listener_replies_in_order_one_in_flight(void **state) {
  (void)state;
  struct lfx x = {.defer = true, .client = client_pipelined};
  run_fixture(&x, 0, 0, 0);
  assert_int_equal(x.max_inflight, 1);
}

static void client_oversize(struct lfx *x) {
  int fd = dial(x->port);
  char big[200];
  memset(big, 'x', sizeof(big));
  big[0] = 0x0b;
  send(fd, big, sizeof(big), 0);
  char in[8];
  ssize_t r = recv(fd, in, sizeof(in), 0); /* closed: 0 (or reset) */
  if (r > 0) {
    x->result = 1;
    snprintf(x->why, sizeof(x->why), "oversize frame got an answer");
  }
  close(fd);
  /* The listener still serves others. */
  fd = dial(x->port);
  send(fd, "\x0bok\x1c\r", 5, 0);
  char ok[16] = {0};
  if (read_n(fd, ok, 9) != 9 || memcmp(ok,
                                       "\x0b"
                                       "ACK:ok\x1c\r",
                                       9) != 0) {
    x->result = 1;
    snprintf(x->why, sizeof(x->why), "no answer after an oversize peer");
  }
  close(fd);
}

static void listener_closes_oversize_and_stays_up(void **state) {
  (void)state;
  struct lfx x = {.client = client_oversize};
  run_fixture(&x, 0, 64, 0);
}

static void client_cap(struct lfx *x) {
  int a = dial(x->port);
  send(a,
       "\x0b"
       "a\x1c\r",
       4, 0);
  char buf[16];
  read_n(a, buf, 8); /* a is accepted and served */
  int b = dial(x->port);
  ssize_t r = recv(b, buf, sizeof(buf), 0);
  if (r != 0) {
    x->result = 1;
    snprintf(x->why, sizeof(x->why), "second connection not refused (%zd)", r);
  }
  close(b);
  close(a);
}

static void listener_refuses_past_the_connection_cap(void **state) {
  (void)state;
  struct lfx x = {.client = client_cap};
  run_fixture(&x, 0, 0, 1);
}

static void client_idle(struct lfx *x) {
  int fd = dial(x->port);
  char buf[4];
  ssize_t r = recv(fd, buf, sizeof(buf), 0); /* 1 s idle, 3 s timeout */
  if (r != 0) {
    x->result = 1;
    snprintf(x->why, sizeof(x->why), "idle connection not closed (%zd)", r);
  }
  close(fd);
}

static void listener_closes_idle_connections(void **state) {
  (void)state;
  struct lfx x = {.client = client_idle};
  run_fixture(&x, 1, 0, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(framer_one_frame_byte_by_byte),
      cmocka_unit_test(framer_several_frames_in_one_read_and_split),
      cmocka_unit_test(framer_resyncs_on_new_start_and_bad_end),
      cmocka_unit_test(framer_oversize_is_refused_then_recovers),
      cmocka_unit_test(framer_empty_frame_and_frame_helper),
      cmocka_unit_test(listener_replies_in_order_one_in_flight),
      cmocka_unit_test(listener_closes_oversize_and_stays_up),
      cmocka_unit_test(listener_refuses_past_the_connection_cap),
      cmocka_unit_test(listener_closes_idle_connections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
