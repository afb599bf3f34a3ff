/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The /ws pub/sub hub. Clients send JSON ops (subscribe, unsubscribe,
 * publish); a publish is serialised once into a reference-counted message
 * that every subscriber's bounded queue points at, so fan-out to N
 * subscribers costs N queue entries, not N copies. A consumer whose queue
 * would pass ws_queue_msgs or ws_queue_bytes is dropped (close 1013, one
 * WARN line with its id and the reason): a slow client can never make the
 * server hold unbounded memory. Frames go out in MV__CHUNK fragments so
 * lws never buffers more than one chunk per connection either.
 */
#include <stdlib.h>
#include <string.h>

#include "mv_json.h"
#include "mv_log.h"
#include "net_int.h"

#define CLOSE_TRY_AGAIN_LATER 1013 /* RFC 6455 registry; not in lws' enum */
#define ENVELOPE_MAX (MV_LIMIT_WS_MSG_MAX + MV_LIMIT_WS_TOPIC_LEN + 64u)

struct mv__sub {
  struct mv__topic *t;
  struct mv_ws_conn *c;
  struct mv__sub *tprev, *tnext; /* topic's subscribers */
  struct mv__sub *cnext;         /* connection's subscriptions */
};

struct mv__topic {
  struct mv__topic *next; /* hash chain */
  uint32_t hash;
  struct mv__sub *subs;
  size_t n_subs;
  size_t len;
  char name[];
};

struct mv_ws_conn {
  struct mv_server *srv;
  struct lws *wsi;
  uint64_t id;
  struct mv__wsq q;
  size_t head_off;  /* bytes of the head message already written */
  struct mv_buf rx; /* inbound message being assembled */
  bool rx_active;
  bool rx_binary;
  struct mv__sub *subs;
  unsigned n_subs;
  bool closing;
  bool close_requested; /* mv_ws_close: close once the queue is empty */
  int close_code;
  const char *close_reason; /* static */
  /* a WebSocket route's connection (ws_route.c); NULL for the hub's own */
  const struct mv__ws_route *route;
  void *user;
  struct mv_ws_conn *prev, *next;
};

struct mv__hub {
  struct mv_server *srv;
  struct mv__topic **buckets;
  size_t n_buckets;
  size_t n_topics;
  struct mv_ws_conn *conns;
  size_t n_conns;
  uint64_t next_id;
};

/* ---- messages and queues (pure) ------------------------------------------ */

struct mv__wsmsg *mv__wsmsg_new(const void *p, size_t len) {
  struct mv__wsmsg *m = malloc(sizeof(*m) + len + 1);
  if (!m)
    return NULL;
  m->refs = 1;
  m->len = len;
  memcpy(m->data, p, len);
  m->data[len] = '\0';
  return m;
}

void mv__wsmsg_unref(struct mv__wsmsg *m) {
  if (m && --m->refs == 0)
    free(m);
}

void mv__wsq_init(struct mv__wsq *q, size_t cap_msgs, size_t cap_bytes) {
  memset(q, 0, sizeof(*q));
  q->cap_msgs = cap_msgs;
  q->cap_bytes = cap_bytes;
}

int mv__wsq_push(struct mv__wsq *q, struct mv__wsmsg *m) {
  struct mv__wsq_item *it;
  if (q->msgs + 1 > q->cap_msgs || m->len > q->cap_bytes - q->bytes)
    return MV_ETOOBIG;
  it = malloc(sizeof(*it));
  if (!it)
    return MV_ENOMEM;
  it->next = NULL;
  it->m = m;
  m->refs++;
  if (q->tail)
    q->tail->next = it;
  else
    q->head = it;
  q->tail = it;
  q->msgs++;
  q->bytes += m->len;
  return MV_OK;
}

void mv__wsq_pop(struct mv__wsq *q) {
  struct mv__wsq_item *it = q->head;
  if (!it)
    return;
  q->head = it->next;
  if (!q->head)
    q->tail = NULL;
  q->msgs--;
  q->bytes -= it->m->len;
  mv__wsmsg_unref(it->m);
  free(it);
}

void mv__wsq_release(struct mv__wsq *q) {
  while (q->head)
    mv__wsq_pop(q);
}

bool mv__topic_valid(const char *t, size_t len) {
  if (!t || len == 0 || len > MV_LIMIT_WS_TOPIC_LEN)
    return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)t[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' ||
              c == ':' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

/* ---- topic table -----------------------------------------------------------
 */

static uint32_t fnv1a(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 16777619u;
  }
  return h;
}

static void grow(struct mv__hub *h) {
  size_t nb = h->n_buckets * 2;
  struct mv__topic **b = calloc(nb, sizeof(*b));
  if (!b)
    return; /* keep the longer chains; still correct */
  for (size_t i = 0; i < h->n_buckets; i++) {
    struct mv__topic *t = h->buckets[i];
    while (t) {
      struct mv__topic *next = t->next;
      t->next = b[t->hash & (nb - 1)];
      b[t->hash & (nb - 1)] = t;
      t = next;
    }
  }
  free(h->buckets);
  h->buckets = b;
  h->n_buckets = nb;
}

static struct mv__topic *topic_get(struct mv__hub *h, const char *name,
                                   size_t len, bool create) {
  uint32_t hash = fnv1a(name, len);
  struct mv__topic *t = h->buckets[hash & (h->n_buckets - 1)];
  for (; t; t = t->next)
    if (t->hash == hash && t->len == len && memcmp(t->name, name, len) == 0)
      return t;
  if (!create)
    return NULL;
  if (h->n_topics >= 2 * h->n_buckets)
    grow(h);
  t = calloc(1, sizeof(*t) + len + 1);
  if (!t)
    return NULL;
  t->hash = hash;
  t->len = len;
  memcpy(t->name, name, len);
  t->next = h->buckets[hash & (h->n_buckets - 1)];
  h->buckets[hash & (h->n_buckets - 1)] = t;
  h->n_topics++;
  return t;
}

static void topic_drop_if_empty(struct mv__hub *h, struct mv__topic *t) {
  struct mv__topic **pp;
  if (t->n_subs > 0)
    return;
  for (pp = &h->buckets[t->hash & (h->n_buckets - 1)]; *pp; pp = &(*pp)->next) {
    if (*pp == t) {
      *pp = t->next;
      h->n_topics--;
      free(t);
      return;
    }
  }
}

static int sub_add(struct mv__hub *h, struct mv_ws_conn *c, const char *name,
                   size_t len) {
  struct mv__topic *t;
  struct mv__sub *s;
  for (s = c->subs; s; s = s->cnext)
    if (s->t->len == len && memcmp(s->t->name, name, len) == 0)
      return MV_OK; /* already subscribed */
  if (c->n_subs >= MV_LIMIT_WS_TOPICS_PER_CONN)
    return MV_ETOOBIG;
  t = topic_get(h, name, len, true);
  if (!t)
    return MV_ENOMEM;
  s = calloc(1, sizeof(*s));
  if (!s) {
    topic_drop_if_empty(h, t);
    return MV_ENOMEM;
  }
  s->t = t;
  s->c = c;
  s->tnext = t->subs;
  if (t->subs)
    t->subs->tprev = s;
  t->subs = s;
  t->n_subs++;
  s->cnext = c->subs;
  c->subs = s;
  c->n_subs++;
  return MV_OK;
}

static void sub_unlink(struct mv__hub *h, struct mv__sub *s) {
  struct mv__topic *t = s->t;
  if (s->tprev)
    s->tprev->tnext = s->tnext;
  else
    t->subs = s->tnext;
  if (s->tnext)
    s->tnext->tprev = s->tprev;
  t->n_subs--;
  topic_drop_if_empty(h, t);
  free(s);
}

static int sub_remove(struct mv__hub *h, struct mv_ws_conn *c, const char *name,
                      size_t len) {
  for (struct mv__sub **pp = &c->subs; *pp; pp = &(*pp)->cnext) {
    struct mv__sub *s = *pp;
    if (s->t->len == len && memcmp(s->t->name, name, len) == 0) {
      *pp = s->cnext;
      c->n_subs--;
      sub_unlink(h, s);
      return MV_OK;
    }
  }
  return MV_ENOTFOUND;
}

/* ---- connections ------------------------------------------------------------
 */

static void drop(struct mv_ws_conn *c, int code, const char *reason) {
  if (c->closing)
    return;
  MV_LOG_WARN("net", "ws conn %llu dropped: %s (%zu msgs, %zu bytes queued)",
              (unsigned long long)c->id, reason, c->q.msgs, c->q.bytes);
  mv__metrics_ws_dropped(c->srv->metrics);
  c->closing = true;
  c->close_code = code;
  c->close_reason = reason;
  /* Free the backlog now: memory must not wait for a client that does not
   * read. The close frame may never get through, hence the timeout. */
  mv__wsq_release(&c->q);
  c->head_off = 0;
  lws_callback_on_writable(c->wsi);
  lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 2);
}

static bool enqueue(struct mv_ws_conn *c, struct mv__wsmsg *m) {
  int rc;
  if (c->closing)
    return false;
  rc = mv__wsq_push(&c->q, m);
  if (rc == MV_ETOOBIG) {
    drop(c, CLOSE_TRY_AGAIN_LATER, "slow consumer, send queue full");
    return false;
  }
  if (rc != MV_OK) {
    drop(c, CLOSE_TRY_AGAIN_LATER, "out of memory");
    return false;
  }
  lws_callback_on_writable(c->wsi);
  return true;
}

static void send_text(struct mv_ws_conn *c, const struct mv_buf *b) {
  struct mv__wsmsg *m = mv__wsmsg_new(mv_buf_cstr(b), b->len);
  if (!m) {
    drop(c, CLOSE_TRY_AGAIN_LATER, "out of memory");
    return;
  }
  (void)enqueue(c, m);
  mv__wsmsg_unref(m);
}

static void reply_error(struct mv_ws_conn *c, int err, const char *msg) {
  struct mv_buf b;
  mv_buf_init(&b, 1024);
  int rc =
      mv_buf_appendf(&b, "{\"op\":\"error\",\"error\":\"%s\",\"message\":\"",
                     mv_err_name(err));
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(&b, msg, strlen(msg));
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "\"}");
  if (rc == MV_OK)
    send_text(c, &b);
  mv_buf_release(&b);
}

static void reply_ok(struct mv_ws_conn *c, const char *req, const char *topic,
                     json_object *id, long delivered) {
  struct mv_buf b;
  mv_buf_init(&b, 4096);
  int rc =
      mv_buf_appendf(&b, "{\"op\":\"ok\",\"req\":\"%s\",\"topic\":\"", req);
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(&b, topic, strlen(topic));
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "\"");
  if (rc == MV_OK && delivered >= 0)
    rc = mv_buf_appendf(&b, ",\"delivered\":%ld", delivered);
  if (rc == MV_OK && id) {
    rc = mv_buf_appends(&b, ",\"id\":");
    if (rc == MV_OK)
      rc = mv_json_write(&b, id);
  }
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "}");
  if (rc == MV_OK)
    send_text(c, &b);
  mv_buf_release(&b);
}

static int build_envelope(struct mv_buf *b, const char *topic, size_t tlen,
                          const char *json, size_t json_len) {
  int rc = mv_buf_appends(b, "{\"topic\":\"");
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(b, topic, tlen);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, "\",\"data\":");
  if (rc == MV_OK)
    rc = mv_buf_append(b, json, json_len);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, "}");
  return rc;
}

static int fanout(struct mv__hub *h, const char *topic, size_t tlen,
                  const struct mv_buf *env) {
  struct mv__topic *t = topic_get(h, topic, tlen, false);
  struct mv__wsmsg *m;
  int delivered = 0;
  if (!t)
    return 0;
  m = mv__wsmsg_new(mv_buf_cstr(env), env->len);
  if (!m)
    return MV_ENOMEM;
  /* enqueue() never unlinks subscriptions (a dropped consumer keeps them
   * until lws reports it closed), so walking the list here is safe. */
  for (struct mv__sub *s = t->subs; s; s = s->tnext)
    if (enqueue(s->c, m))
      delivered++;
  mv__wsmsg_unref(m);
  return delivered;
}

int mv_hub_publish(struct mv_server *srv, const char *topic, const char *json,
                   size_t json_len) {
  struct mv_buf env;
  int rc;
  size_t tlen = topic ? strlen(topic) : 0;
  if (!srv || !mv__topic_valid(topic, tlen) || (!json && json_len))
    return MV_EINVAL;
  mv_buf_init(&env, ENVELOPE_MAX);
  rc = build_envelope(&env, topic, tlen, json ? json : "", json_len);
  if (rc == MV_OK)
    rc = fanout(srv->hub, topic, tlen, &env);
  mv_buf_release(&env);
  return rc;
}

static void handle_op(struct mv_ws_conn *c, json_object *obj) {
  struct mv__hub *h = c->srv->hub;
  struct mv_diag d;
  const char *op = NULL, *topic = NULL;
  json_object *id = NULL, *data = NULL;
  int rc;

  mv_diag_clear(&d);
  if (!json_object_is_type(obj, json_type_object)) {
    reply_error(c, MV_EINVAL, "message must be a JSON object");
    return;
  }
  if (mv_json_get_string(obj, "", "op", true, &op, &d) != MV_OK ||
      mv_json_get_string(obj, "", "topic", true, &topic, &d) != MV_OK) {
    reply_error(c, MV_EINVAL, "\"op\" and \"topic\" strings are required");
    return;
  }
  (void)json_object_object_get_ex(obj, "id", &id);
  size_t tlen = strlen(topic);
  if (!mv__topic_valid(topic, tlen)) {
    reply_error(c, MV_EINVAL,
                "topic must be 1-128 characters of [A-Za-z0-9_./:-]");
    return;
  }
  if (strcmp(op, "subscribe") == 0) {
    rc = sub_add(h, c, topic, tlen);
    if (rc == MV_ETOOBIG)
      reply_error(c, rc, "too many subscriptions on this connection");
    else if (rc != MV_OK)
      reply_error(c, rc, mv_strerror(rc));
    else
      reply_ok(c, "subscribe", topic, id, -1);
  } else if (strcmp(op, "unsubscribe") == 0) {
    (void)sub_remove(h, c, topic, tlen);
    reply_ok(c, "unsubscribe", topic, id, -1);
  } else if (strcmp(op, "publish") == 0) {
    struct mv_buf json, env;
    if (!json_object_object_get_ex(obj, "data", &data)) {
      reply_error(c, MV_EINVAL, "publish needs \"data\"");
      return;
    }
    mv_buf_init(&json, MV_LIMIT_WS_MSG_MAX);
    mv_buf_init(&env, ENVELOPE_MAX);
    rc = data ? mv_json_write(&json, data) : mv_buf_appends(&json, "null");
    if (rc == MV_OK)
      rc = build_envelope(&env, topic, tlen, mv_buf_cstr(&json), json.len);
    if (rc == MV_OK)
      rc = fanout(h, topic, tlen, &env);
    mv_buf_release(&json);
    mv_buf_release(&env);
    if (rc < 0)
      reply_error(c, rc, mv_strerror(rc));
    else
      reply_ok(c, "publish", topic, id, rc);
  } else {
    reply_error(c, MV_EINVAL, "unknown op");
  }
}

static void handle_message(struct mv_ws_conn *c) {
  json_object *obj = NULL;
  struct mv_diag d;
  mv__metrics_ws_in(c->srv->metrics);
  if (c->route) {
    c->route->h->on_message(c->route->ctx, c, c->user, mv_buf_cstr(&c->rx),
                            c->rx.len, c->rx_binary);
    return;
  }
  if (c->rx_binary) {
    reply_error(c, MV_EUNSUPPORTED, "binary messages are not supported");
    return;
  }
  mv_diag_clear(&d);
  int rc = mv_json_parse(mv_buf_cstr(&c->rx), c->rx.len, &obj, &d);
  if (rc != MV_OK) {
    reply_error(c, rc, "message is not valid JSON");
    return;
  }
  if (!obj)
    reply_error(c, MV_EINVAL, "message must be a JSON object");
  else
    handle_op(c, obj);
  json_object_put(obj);
}

int mv__ws_on_established(struct mv_server *srv, struct lws *wsi,
                          struct mv__pss *pss) {
  struct mv__hub *h = srv->hub;
  struct mv__ws_pending *pend = mv__ws_pending_take(srv, wsi);
  struct mv_ws_conn *c;
  if (srv->state != MV__S_RUNNING || !(c = calloc(1, sizeof(*c)))) {
    if (pend) {
      pend->route->h->on_close(pend->route->ctx, NULL, pend->user);
      free(pend);
    }
    return -1;
  }
  c->srv = srv;
  c->wsi = wsi;
  c->id = ++h->next_id;
  if (pend) {
    c->route = pend->route;
    c->user = pend->user;
    free(pend);
  }
  mv__wsq_init(&c->q, srv->ws_queue_msgs, srv->ws_queue_bytes);
  mv_buf_init(&c->rx, MV_LIMIT_WS_MSG_MAX);
  c->next = h->conns;
  if (c->next)
    c->next->prev = c;
  h->conns = c;
  h->n_conns++;
  pss->x = NULL;
  pss->ws = c;
  mv__metrics_ws_conn(srv->metrics, 1);
  if (c->route && c->route->h->on_ready)
    c->route->h->on_ready(c->route->ctx, c, c->user);
  return 0;
}

int mv__ws_on_receive(struct mv__pss *pss, const void *in, size_t len) {
  struct mv_ws_conn *c = pss->ws;
  if (!c || c->closing)
    return 0;
  if (!c->rx_active) {
    mv_buf_reset(&c->rx);
    c->rx_active = true;
    c->rx_binary = lws_frame_is_binary(c->wsi);
  }
  if (len && mv_buf_append(&c->rx, in, len) != MV_OK) {
    static const char reason[] = "message too big";
    MV_LOG_WARN("net", "ws conn %llu closed: inbound message over %u bytes",
                (unsigned long long)c->id, MV_LIMIT_WS_MSG_MAX);
    c->closing = true;
    lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                     (unsigned char *)reason, sizeof(reason) - 1);
    return -1;
  }
  if (lws_is_final_fragment(c->wsi) && !lws_remaining_packet_payload(c->wsi)) {
    c->rx_active = false;
    handle_message(c);
    mv_buf_reset(&c->rx);
  }
  return 0;
}

int mv__ws_on_writeable(struct mv__pss *pss) {
  struct mv_ws_conn *c = pss->ws;
  struct mv__wsmsg *m;
  unsigned char *buf;
  size_t n, left;
  bool start, end;

  if (!c)
    return 0;
  if (c->close_requested && !c->q.head)
    c->closing = true;
  if (c->closing) {
    /* lws 4.1.6 closed the socket without a close frame after
     * lws_close_reason() + return -1 here (seen in its logs: the close was
     * taken as "close_and_handled"), and clients reported 1006. So the
     * close frame is written explicitly (opcode value 4, LWS_WRITE_CLOSE in
     * lws' own enum) before the connection goes. */
    const char *r = c->close_reason ? c->close_reason : "";
    size_t rlen = strlen(r) > 120 ? 120 : strlen(r);
    buf = c->srv->scratch + LWS_PRE;
    buf[0] = (unsigned char)((unsigned)c->close_code >> 8);
    buf[1] = (unsigned char)(c->close_code & 0xff);
    memcpy(buf + 2, r, rlen);
    lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                     (unsigned char *)r, rlen);
    (void)lws_write(c->wsi, buf, rlen + 2, (enum lws_write_protocol)4);
    return -1;
  }
  if (!c->q.head)
    return 0;
  m = c->q.head->m;
  left = m->len - c->head_off;
  n = left < MV__CHUNK ? left : MV__CHUNK;
  start = c->head_off == 0;
  end = n == left;
  /* Shared messages have no LWS_PRE headroom of their own, so each chunk
   * is framed in the server's scratch buffer; lws copies whatever the
   * socket does not take before returning. */
  buf = c->srv->scratch + LWS_PRE;
  memcpy(buf, m->data + c->head_off, n);
  if (lws_write(c->wsi, buf, n,
                (enum lws_write_protocol)lws_write_ws_flags(
                    LWS_WRITE_TEXT, start, end)) < (int)n)
    return -1;
  c->head_off += n;
  if (end) {
    c->head_off = 0;
    mv__wsq_pop(&c->q);
    mv__metrics_ws_out(c->srv->metrics);
  }
  if (c->q.head || c->close_requested)
    lws_callback_on_writable(c->wsi);
  return 0;
}

static void conn_free(struct mv__hub *h, struct mv_ws_conn *c) {
  if (c->route) {
    const struct mv__ws_route *r = c->route;
    c->route = NULL;
    c->closing = true; /* mv_ws_send from on_close is a no-op */
    r->h->on_close(r->ctx, c, c->user);
  }
  while (c->subs) {
    struct mv__sub *s = c->subs;
    c->subs = s->cnext;
    sub_unlink(h, s);
  }
  mv__wsq_release(&c->q);
  mv_buf_release(&c->rx);
  if (c->prev)
    c->prev->next = c->next;
  else
    h->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  h->n_conns--;
  mv__metrics_ws_conn(c->srv->metrics, -1);
  free(c);
}

void mv__ws_on_closed(struct mv__pss *pss) {
  struct mv_ws_conn *c = pss->ws;
  if (!c)
    return;
  pss->ws = NULL;
  conn_free(c->srv->hub, c);
}

void mv__hub_close_all(struct mv__hub *h) {
  for (struct mv_ws_conn *c = h->conns; c; c = c->next) {
    if (c->closing)
      continue;
    c->closing = true;
    c->close_code = LWS_CLOSE_STATUS_GOINGAWAY;
    c->close_reason = "server shutting down";
    mv__wsq_release(&c->q);
    c->head_off = 0;
    lws_callback_on_writable(c->wsi);
  }
}

size_t mv__hub_conn_count(const struct mv__hub *h) {
  return h->n_conns;
}

struct mv__hub *mv__hub_new(struct mv_server *srv) {
  struct mv__hub *h = calloc(1, sizeof(*h));
  if (!h)
    return NULL;
  h->srv = srv;
  h->n_buckets = 64;
  h->buckets = calloc(h->n_buckets, sizeof(*h->buckets));
  if (!h->buckets) {
    free(h);
    return NULL;
  }
  return h;
}

void mv__hub_free(struct mv__hub *h) {
  if (!h)
    return;
  while (h->conns)
    conn_free(h, h->conns);
  for (size_t i = 0; i < h->n_buckets; i++) {
    struct mv__topic *t = h->buckets[i];
    while (t) {
      struct mv__topic *next = t->next;
      free(t);
      t = next;
    }
  }
  free(h->buckets);
  free(h);
}

/* ---- the WebSocket route API (mv_net.h) ------------------------------ */

int mv_ws_send(struct mv_ws_conn *c, const char *text, size_t len) {
  struct mv__wsmsg *m;
  bool ok;
  if (!c || (!text && len))
    return MV_EINVAL;
  if (c->closing || c->close_requested)
    return MV_ECLOSED;
  m = mv__wsmsg_new(text ? text : "", len);
  if (!m) {
    drop(c, CLOSE_TRY_AGAIN_LATER, "out of memory");
    return MV_ENOMEM;
  }
  ok = enqueue(c, m);
  mv__wsmsg_unref(m);
  return ok ? MV_OK : MV_ETOOBIG;
}

void mv_ws_close(struct mv_ws_conn *c, int code, const char *reason) {
  if (!c || c->closing || c->close_requested)
    return;
  /* What is queued (answers, errors) still goes out first; the close frame
   * follows when the queue is empty (mv__ws_on_writeable). */
  c->close_requested = true;
  c->close_code = code;
  c->close_reason = reason;
  lws_callback_on_writable(c->wsi);
  lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
}

void mv_ws_pause(struct mv_ws_conn *c, bool paused) {
  if (c && !c->closing)
    (void)lws_rx_flow_control(c->wsi, paused ? 0 : 1);
}

uint64_t mv_ws_id(const struct mv_ws_conn *c) {
  return c ? c->id : 0;
}

void mv__ws_plain_handler(void *ctx, struct mv_http_exchange *x) {
  (void)ctx;
  if (mv_http_add_header(x, "upgrade", "websocket") != MV_OK)
    MV_LOG_WARN("net", "upgrade header dropped");
  mv__http_respond_status(x, 426, MV_EUNSUPPORTED,
                          "/ws needs a WebSocket upgrade");
}
