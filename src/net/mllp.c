/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MLLP framing and the TCP listener that carries HL7 v2 messages
 * (mv_net_mllp.h). The framer is a byte-at-a-time state machine with no I/O;
 * the listener owns libuv handles on the server's loop. A connection holds
 * at most one message in flight (HL7 v2.5 IG appendix C: the sender waits
 * for each acknowledgement), a bounded queue behind it, and the unread rest
 * of a read while the queue is full (reading is paused then, so a peer that
 * pipelines without limit is slowed by TCP, not by our memory).
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mv_limits.h"
#include "mv_log.h"
#include "mv_net_mllp.h"

/* ---- framer --------------------------------------------------------------- */

enum { F_HUNT = 0, F_BODY = 1, F_END = 2 };
#define FRAMER_KEEP (64u * 1024u) /* buffer kept between frames */

void mv_mllp_framer_init(struct mv_mllp_framer *f, size_t max) {
  memset(f, 0, sizeof(*f));
  f->max = max ? max : MV_LIMIT_MLLP_MSG;
  f->state = F_HUNT;
}

void mv_mllp_framer_release(struct mv_mllp_framer *f) {
  free(f->buf);
  f->buf = NULL;
  f->len = f->cap = 0;
  f->state = F_HUNT;
}

static int grow(struct mv_mllp_framer *f, size_t need) {
  if (need <= f->cap)
    return MV_OK;
  size_t cap = f->cap ? f->cap : 4096;
  while (cap < need)
    cap *= 2;
  if (cap > f->max)
    cap = f->max;
  unsigned char *p = realloc(f->buf, cap);
  if (!p)
    return MV_ENOMEM;
  f->buf = p;
  f->cap = cap;
  return MV_OK;
}

/* Copy a run of payload bytes (no control byte among them) at once. */
static int take_run(struct mv_mllp_framer *f, const unsigned char *p,
                    size_t n) {
  if (n > f->max - f->len) {
    f->len = 0;
    f->state = F_HUNT;
    return MV_ETOOBIG;
  }
  if (n == 0)
    return MV_OK; /* buf may still be NULL: no pointer arithmetic on it */
  int rc = grow(f, f->len + n);
  if (rc)
    return rc;
  memcpy(f->buf + f->len, p, n);
  f->len += n;
  return MV_OK;
}

int mv_mllp_framer_feed(struct mv_mllp_framer *f, const void *data, size_t n,
                        size_t *out_consumed, const unsigned char **out_msg,
                        size_t *out_len) {
  const unsigned char *p = data;
  size_t i = 0;
  *out_msg = NULL;
  *out_len = 0;
  while (i < n) {
    if (f->state == F_HUNT) {
      const unsigned char *sb = memchr(p + i, MV_MLLP_SB, n - i);
      size_t skip = sb ? (size_t)(sb - (p + i)) : n - i;
      f->skipped_bytes += skip;
      i += skip;
      if (sb) {
        i++;
        f->len = 0;
        if (f->cap > FRAMER_KEEP) { /* do not hold a big buffer idle */
          free(f->buf);
          f->buf = NULL;
          f->cap = 0;
        }
        f->state = F_BODY;
      }
    } else if (f->state == F_BODY) {
      size_t j = i;
      while (j < n && p[j] != MV_MLLP_EB && p[j] != MV_MLLP_SB)
        j++;
      int rc = take_run(f, p + i, j - i);
      if (rc) {
        *out_consumed = j;
        return rc;
      }
      i = j;
      if (i < n) {
        if (p[i] == MV_MLLP_SB) { /* a new frame cuts this one short */
          f->dropped_frames++;
          f->len = 0;
        } else {
          f->state = F_END;
        }
        i++;
      }
    } else { /* F_END: 0x1C seen */
      unsigned char c = p[i];
      if (c == MV_MLLP_CR) {
        f->state = F_HUNT;
        *out_consumed = i + 1;
        *out_msg = f->buf ? f->buf : (const unsigned char *)"";
        *out_len = f->len;
        return MV_OK;
      }
      f->dropped_frames++;
      f->len = 0;
      if (c == MV_MLLP_SB) {
        f->state = F_BODY;
        i++;
      } else {
        f->state = F_HUNT; /* the byte is garbage: HUNT counts it */
      }
    }
  }
  *out_consumed = n;
  return MV_OK;
}

unsigned char *mv_mllp_frame(const void *payload, size_t n, size_t *out_len) {
  if (n > SIZE_MAX - 3)
    return NULL;
  unsigned char *b = malloc(n + 3);
  if (!b)
    return NULL;
  b[0] = MV_MLLP_SB;
  if (n)
    memcpy(b + 1, payload, n);
  b[n + 1] = MV_MLLP_EB;
  b[n + 2] = MV_MLLP_CR;
  *out_len = n + 3;
  return b;
}

/* ---- listener --------------------------------------------------------------- */

#define READ_BUF 65536u

struct conn;

struct mv_mllp_msg {
  struct conn *c; /* NULL once the connection is gone (guarded by s->mu) */
  struct mv_mllp_server *s;
};

struct qent {
  unsigned char *data;
  size_t len;
};

struct conn {
  uv_tcp_t tcp;
  uv_timer_t idle;
  struct mv_mllp_server *s;
  struct conn *prev, *next;
  struct mv_mllp_framer fr;
  struct mv_mllp_msg *inflight;
  struct qent *q;
  size_t q_head, q_n, q_bytes;
  unsigned char *pending; /* unread rest of a read while the queue is full */
  size_t pending_len, pending_off;
  int handles_open;
  bool reading, closing, pumping, gone; /* gone: both handles closed */
};

struct mv_mllp_server {
  uv_loop_t *loop;
  uv_tcp_t listener;
  bool listening, closed;
  int port;
  unsigned idle_ms;
  size_t msg_max;
  unsigned conn_max, queue_max;
  mv_mllp_msg_fn on_message;
  void *ctx;
  struct conn *conns;
  size_t n_open;
  struct mv_mllp_stats st;
  pthread_mutex_t mu; /* msg <-> conn links, for drops off the loop */
  char rbuf[READ_BUF];
  bool rbuf_busy;
};

static void conn_close(struct conn *c);
static void pump(struct conn *c);

static void conn_free(struct conn *c) {
  free(c->q);
  free(c);
}

static void on_conn_closed(uv_handle_t *h) {
  struct conn *c = h->data;
  struct mv_mllp_server *s = c->s;
  pthread_mutex_lock(&s->mu);
  bool free_now = false;
  if (--c->handles_open == 0) {
    c->gone = true;
    if (c->inflight)
      c->inflight->c = NULL; /* the message lives on without us */
    free_now = true;
  }
  pthread_mutex_unlock(&s->mu);
  if (free_now)
    conn_free(c);
}

static void conn_close(struct conn *c) {
  if (c->closing)
    return;
  struct mv_mllp_server *s = c->s;
  c->closing = true;
  if (c->reading)
    uv_read_stop((uv_stream_t *)&c->tcp);
  c->reading = false;
  uv_timer_stop(&c->idle);
  for (size_t i = 0; i < c->q_n; i++)
    free(c->q[(c->q_head + i) % s->queue_max].data);
  c->q_n = c->q_bytes = 0;
  free(c->pending);
  c->pending = NULL;
  c->pending_len = c->pending_off = 0;
  mv_mllp_framer_release(&c->fr);
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->prev = c->next = NULL;
  s->n_open--;
  c->handles_open = 2;
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
  uv_close((uv_handle_t *)&c->idle, on_conn_closed);
}

static void on_idle(uv_timer_t *t) {
  struct conn *c = t->data;
  if (c->inflight) { /* our answer is late, not the peer: wait */
    uv_timer_start(&c->idle, on_idle, c->s->idle_ms, 0);
    return;
  }
  c->s->st.idle_closed++;
  MV_LOG_DEBUG("mllp", "closing an idle connection");
  conn_close(c);
}

static void touch(struct conn *c) {
  if (!c->closing)
    uv_timer_start(&c->idle, on_idle, c->s->idle_ms, 0);
}

static bool queue_room(const struct conn *c) {
  return c->q_n < c->s->queue_max && c->q_bytes < c->s->msg_max;
}

static int enqueue(struct conn *c, const unsigned char *msg, size_t len) {
  unsigned char *d = malloc(len ? len : 1);
  if (!d)
    return MV_ENOMEM;
  if (len)
    memcpy(d, msg, len);
  size_t at = (c->q_head + c->q_n) % c->s->queue_max;
  c->q[at] = (struct qent){d, len};
  c->q_n++;
  c->q_bytes += len;
  return MV_OK;
}

/* Frame bytes from p into the queue while there is room. Returns the bytes
 * consumed, or -1 when the connection was closed. */
static long feed_bytes(struct conn *c, const unsigned char *p, size_t n) {
  struct mv_mllp_server *s = c->s;
  size_t used = 0;
  while (used < n && queue_room(c)) {
    size_t k = 0;
    const unsigned char *msg;
    size_t len;
    uint64_t dropped = c->fr.dropped_frames;
    int rc = mv_mllp_framer_feed(&c->fr, p + used, n - used, &k, &msg, &len);
    s->st.dropped_frames += c->fr.dropped_frames - dropped;
    if (rc == MV_ETOOBIG) {
      s->st.oversize++;
      MV_LOG_WARN("mllp",
                  "a message over %zu bytes arrived; closing the connection",
                  s->msg_max);
      conn_close(c);
      return -1;
    }
    if (rc == MV_OK && msg)
      rc = enqueue(c, msg, len);
    if (rc) {
      MV_LOG_ERROR("mllp", "closing a connection: %s", mv_strerror(rc));
      conn_close(c);
      return -1;
    }
    used += k;
  }
  return (long)used;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)hint;
  struct conn *c = h->data;
  struct mv_mllp_server *s = c->s;
  if (s->rbuf_busy) { /* cannot happen on one loop; be safe */
    buf->base = NULL;
    buf->len = 0;
    return;
  }
  s->rbuf_busy = true;
  buf->base = s->rbuf;
  buf->len = sizeof(s->rbuf);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct conn *c = st->data;
  struct mv_mllp_server *s = c->s;
  if (buf->base == s->rbuf)
    s->rbuf_busy = false;
  if (nread < 0) {
    if (nread != UV_EOF)
      MV_LOG_DEBUG("mllp", "read: %s", uv_strerror((int)nread));
    conn_close(c);
    return;
  }
  if (nread == 0 || c->closing)
    return;
  touch(c);
  size_t before = c->fr.skipped_bytes;
  long used = feed_bytes(c, (const unsigned char *)buf->base, (size_t)nread);
  if (used < 0)
    return;
  s->st.garbage_bytes += c->fr.skipped_bytes - before;
  if ((size_t)used < (size_t)nread) { /* queue full: keep the rest, pause */
    size_t rest = (size_t)nread - (size_t)used;
    c->pending = malloc(rest);
    if (!c->pending) {
      conn_close(c);
      return;
    }
    memcpy(c->pending, buf->base + used, rest);
    c->pending_len = rest;
    c->pending_off = 0;
    uv_read_stop(st);
    c->reading = false;
  }
  pump(c);
}

/* Deliver queued messages one at a time; refill from pending; resume
 * reading when everything read has been framed and there is room. */
static void pump(struct conn *c) {
  struct mv_mllp_server *s = c->s;
  if (c->pumping)
    return;
  c->pumping = true;
  while (!c->closing) {
    if (!c->inflight && c->q_n > 0) {
      struct qent e = c->q[c->q_head];
      c->q_head = (c->q_head + 1) % s->queue_max;
      c->q_n--;
      c->q_bytes -= e.len;
      struct mv_mllp_msg *m = calloc(1, sizeof(*m));
      if (!m) {
        free(e.data);
        conn_close(c);
        break;
      }
      m->c = c;
      m->s = s;
      c->inflight = m;
      s->st.messages++;
      s->on_message(s->ctx, m, e.data, e.len);
      free(e.data);
      continue;
    }
    if (c->pending && queue_room(c)) {
      size_t before = c->fr.skipped_bytes;
      long used = feed_bytes(c, c->pending + c->pending_off,
                             c->pending_len - c->pending_off);
      if (used < 0)
        break;
      s->st.garbage_bytes += c->fr.skipped_bytes - before;
      c->pending_off += (size_t)used;
      if (c->pending_off == c->pending_len) {
        free(c->pending);
        c->pending = NULL;
        c->pending_len = c->pending_off = 0;
      }
      if (used > 0)
        continue;
    }
    break;
  }
  if (!c->closing && !c->pending && !c->reading && queue_room(c)) {
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
      c->reading = true;
    else
      conn_close(c);
  }
  c->pumping = false;
}

struct wreq {
  uv_write_t req;
  unsigned char *buf;
};

static void on_written(uv_write_t *req, int status) {
  struct wreq *w = (struct wreq *)req;
  if (status < 0)
    MV_LOG_DEBUG("mllp", "write: %s", uv_strerror(status));
  free(w->buf);
  free(w);
}

static void send_reply(struct conn *c, const void *payload, size_t n) {
  size_t len = 0;
  struct wreq *w = calloc(1, sizeof(*w));
  unsigned char *b = w ? mv_mllp_frame(payload, n, &len) : NULL;
  if (!b) {
    free(w);
    conn_close(c);
    return;
  }
  w->buf = b;
  uv_buf_t ub = uv_buf_init((char *)b, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &ub, 1, on_written) != 0) {
    free(b);
    free(w);
    conn_close(c);
  }
}

/* Unlink m from its connection; returns the connection if it is still open
 * (only ever on the loop thread then). */
static struct conn *msg_end(struct mv_mllp_msg *m) {
  struct mv_mllp_server *s = m->s;
  pthread_mutex_lock(&s->mu);
  struct conn *c = m->c;
  if (c)
    c->inflight = NULL;
  pthread_mutex_unlock(&s->mu);
  free(m);
  return c;
}

void mv_mllp_reply(struct mv_mllp_msg *m, const void *payload, size_t n) {
  if (!m)
    return;
  struct mv_mllp_server *s = m->s;
  struct conn *c = msg_end(m);
  if (!c || c->closing)
    return;
  s->st.replies++;
  send_reply(c, payload, n);
  touch(c);
  pump(c);
}

void mv_mllp_msg_drop(struct mv_mllp_msg *m) {
  if (!m)
    return;
  struct conn *c = msg_end(m);
  if (c && !c->closing)
    conn_close(c);
}

static void on_refused_closed(uv_handle_t *h) {
  free(h);
}

static void on_connection(uv_stream_t *srv, int status) {
  struct mv_mllp_server *s = srv->data;
  if (status < 0) {
    MV_LOG_WARN("mllp", "accept: %s", uv_strerror(status));
    return;
  }
  if (s->n_open >= s->conn_max) {
    uv_tcp_t *t = malloc(sizeof(*t));
    if (!t || uv_tcp_init(s->loop, t) != 0) {
      free(t);
      return;
    }
    (void)uv_accept(srv, (uv_stream_t *)t);
    uv_close((uv_handle_t *)t, on_refused_closed);
    s->st.refused++;
    MV_LOG_WARN("mllp", "refused a connection: %u already open", s->conn_max);
    return;
  }
  struct conn *c = calloc(1, sizeof(*c));
  struct qent *q = calloc(s->queue_max, sizeof(*q));
  if (!c || !q || uv_tcp_init(s->loop, &c->tcp) != 0) {
    free(c);
    free(q);
    return;
  }
  c->q = q;
  c->s = s;
  c->tcp.data = c;
  if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0) {
    c->handles_open = 1;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    return;
  }
  uv_timer_init(s->loop, &c->idle);
  c->idle.data = c;
  (void)uv_tcp_nodelay(&c->tcp, 1);
  mv_mllp_framer_init(&c->fr, s->msg_max);
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  s->n_open++;
  s->st.accepted++;
  touch(c);
  pump(c); /* starts reading */
}

static int bind_addr(const char *host, int port, struct sockaddr_storage *ss) {
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
    return MV_OK;
  if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
    return MV_OK;
  return MV_EINVAL;
}

static void on_failed_closed(uv_handle_t *h) {
  struct mv_mllp_server *s = h->data;
  pthread_mutex_destroy(&s->mu);
  free(s);
}

int mv_mllp_server_new(const struct mv_mllp_opts *o,
                       struct mv_mllp_server **out, struct mv_diag *diag) {
  struct mv_mllp_server *s = NULL;
  struct sockaddr_storage ss;
  int rc;
  if (!o || !o->loop || !o->host || !o->on_message || !out || o->port < 0 ||
      o->port > 65535)
    return mv_diag_set(diag, MV_EINVAL, "mllp: bad options");
  if (bind_addr(o->host, o->port, &ss) != MV_OK)
    return mv_diag_set(diag, MV_EINVAL,
                       "mllp: listen host must be an IPv4 or IPv6 address");
  s = calloc(1, sizeof(*s));
  if (!s)
    return MV_ENOMEM;
  pthread_mutex_init(&s->mu, NULL);
  s->loop = o->loop;
  s->idle_ms = (o->idle_s ? o->idle_s : MV_LIMIT_MLLP_IDLE_S) * 1000u;
  s->msg_max = o->msg_max ? o->msg_max : MV_LIMIT_MLLP_MSG;
  s->conn_max = o->conn_max ? o->conn_max : MV_LIMIT_MLLP_CONNS;
  s->queue_max = o->queue_max ? o->queue_max : MV_LIMIT_MLLP_QUEUE;
  s->on_message = o->on_message;
  s->ctx = o->ctx;
  if ((rc = uv_tcp_init(s->loop, &s->listener)) != 0) {
    pthread_mutex_destroy(&s->mu);
    free(s);
    return mv_diag_set(diag, MV_EIO, "mllp: %s", uv_strerror(rc));
  }
  s->listener.data = s;
  s->listening = true;
  if ((rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0)) != 0 ||
      (rc = uv_listen((uv_stream_t *)&s->listener, 128, on_connection)) != 0) {
    mv_diag_set(diag, MV_EIO, "mllp: cannot listen on port %d: %s", o->port,
                uv_strerror(rc));
    /* The handle belongs to the loop until its close callback ran, which
     * frees the struct (the server's teardown runs the loop). */
    uv_close((uv_handle_t *)&s->listener, on_failed_closed);
    return MV_EIO;
  }
  struct sockaddr_storage bound;
  int blen = sizeof(bound);
  s->port = o->port;
  if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &blen) == 0)
    s->port = bound.ss_family == AF_INET6
                  ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                  : ntohs(((struct sockaddr_in *)&bound)->sin_port);
  *out = s;
  return MV_OK;
}

int mv_mllp_server_port(const struct mv_mllp_server *s) {
  return s ? s->port : 0;
}

static void on_listener_closed(uv_handle_t *h) {
  struct mv_mllp_server *s = h->data;
  s->listening = false;
}

void mv_mllp_server_close(struct mv_mllp_server *s) {
  if (!s || s->closed)
    return;
  s->closed = true;
  if (s->listening && !uv_is_closing((uv_handle_t *)&s->listener))
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
  while (s->conns)
    conn_close(s->conns);
}

void mv_mllp_server_free(struct mv_mllp_server *s) {
  if (!s)
    return;
  if (s->listening || s->conns)
    MV_LOG_WARN("mllp", "freed with handles still open");
  pthread_mutex_destroy(&s->mu);
  free(s);
}

void mv_mllp_server_stats(const struct mv_mllp_server *s,
                          struct mv_mllp_stats *out) {
  *out = s->st;
  out->open = s->n_open;
}
