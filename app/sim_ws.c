/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse simulate --via ws`: the client side of the WebSocket device
 * protocol (docs/API.md, "Device ingestion"), one connection and stream
 * ("sim-<seed>-<i>") per simulated patient, all on one libwebsockets client
 * context serviced by the calling thread.
 *
 * Each stream keeps its unacknowledged messages in a ring of --window
 * entries: a message gets its sequence number when generated, is written
 * when the socket is writable, and leaves the ring when a cumulative ack
 * covers it (latency = ack time - write time). After a reconnect the
 * server's welcome says the last durable seq; everything after it is
 * written again, so nothing is lost and the server drops duplicates.
 * Every simulated second of a patient is one vitals message (or --batch
 * seconds in one) and, with ECG, one binary chunk of one second of lead II.
 * With --vitals-series N a vitals message instead carries, per code, the
 * last N seconds as one regular series (period_ms 1000, N data points):
 * a monitor or gateway that uploads every N s, sent once those N seconds
 * have passed. Its values are the data points.
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_err.h"
#include "mv_json.h"
#include "sim.h"

#include <json-c/json.h>

#define TICK_US 2000 /* scheduler period */
#define RX_MAX 65536 /* largest server message we accept */
#define DRAIN_S 5.0  /* wait for acks after the end */
#define RETRY_S 0.5  /* reconnect delay */

enum { C_DOWN = 0, C_CONNECTING, C_HELLO, C_READY };

struct wmsg {
  int64_t seq;
  unsigned char *buf; /* LWS_PRE bytes of headroom, then the message */
  size_t len;
  bool binary, sent, rejected;
  unsigned values, samples, obs; /* obs: vital-sign Observations */
  double sent_at;
};

struct wconn {
  struct wsim *w;
  unsigned idx;
  struct lws *wsi;
  int state;
  bool hello_due;
  struct wmsg *q;
  unsigned cap, head, count, next_send;
  int64_t next_seq; /* 0 until the first welcome */
  double retry_at;
  char rx[RX_MAX + 1];
  size_t rx_len;
  bool rx_overflow;
};

struct wsim {
  struct sim *s;
  struct lws_context *ctx;
  lws_sorted_usec_list_t sul;
  struct wconn *c;
  char host[256], path[64];
  int port;
  bool tls;
  bool ending, finished;
  double end_at;
  int16_t *ecg;
  unsigned char *frame; /* one binary chunk */
  size_t frame_cap;
  int64_t *beats;
  size_t beats_cap;
  double *ser; /* --vitals-series: SER_CODES x series readings */
  struct mv_buf js;
};

/* The series of --vitals-series, in message order. Blood pressure travels
 * as two series (systolic, diastolic): SampledData has one number per
 * point. */
enum { SER_HR, SER_SPO2, SER_SYS, SER_DIA, SER_RR, SER_TEMP, SER_CODES };
static const struct {
  const char *code, *unit;
  int decimals; /* as the single values print them */
} ser_def[SER_CODES] = {{"8867-4", "/min", 0},   {"59408-5", "%", 0},
                        {"8480-6", "mm[Hg]", 0}, {"8462-4", "mm[Hg]", 0},
                        {"9279-1", "/min", 0},   {"8310-5", "Cel", 1}};

static struct wmsg *at(struct wconn *c, unsigned k) {
  return &c->q[(c->head + k) % c->cap];
}

static void pop_head(struct wconn *c) {
  struct wmsg *m = at(c, 0);
  free(m->buf);
  memset(m, 0, sizeof(*m));
  c->head = (c->head + 1) % c->cap;
  c->count--;
  if (c->next_send > 0)
    c->next_send--;
}

static int push(struct wconn *c, const void *data, size_t len, bool binary,
                unsigned values, unsigned samples, unsigned obs) {
  if (c->count >= c->cap)
    return MV_EBUSY;
  struct wmsg *m = at(c, c->count);
  m->buf = malloc(LWS_PRE + len);
  if (!m->buf)
    return MV_ENOMEM;
  memcpy(m->buf + LWS_PRE, data, len);
  m->seq = c->next_seq; /* the caller then advances next_seq */
  m->len = len;
  m->binary = binary;
  m->values = values;
  m->samples = samples;
  m->obs = obs;
  m->sent = false;
  m->rejected = false;
  c->count++;
  return MV_OK;
}

static void put_le(unsigned char *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

/* The device quality words of the flags q (all of them; a series carries
 * the union of its seconds' flags). */
static int quality_json(struct mv_buf *b, uint32_t q) {
  static const struct {
    uint32_t bit;
    const char *word;
  } w[] = {{MV_SIG_SIM_Q_FLAT, "flat"},
           {MV_SIG_SIM_Q_CLIPPED, "clipped"},
           {MV_SIG_SIM_Q_RANGE, "range"},
           {MV_SIG_SIM_Q_NOISY, "noisy"},
           {MV_SIG_SIM_Q_LEAD_OFF, "lead-off"},
           {MV_SIG_SIM_Q_DEVICE, "questionable"}};
  if (!q)
    return MV_OK;
  int rc = mv_buf_appends(b, ",\"quality\":[");
  bool first = true;
  for (size_t i = 0; rc == MV_OK && i < sizeof(w) / sizeof(w[0]); i++)
    if (q & w[i].bit) {
      rc = mv_buf_appendf(b, "%s\"%s\"", first ? "" : ",", w[i].word);
      first = false;
    }
  return rc == MV_OK ? mv_buf_appends(b, "]") : rc;
}

/* The "values" of a --vitals-series message: k seconds of readings of
 * patient c from its tick p->ticks (at t_first), one series per code.
 * *out_n: the data points (SER_CODES * k). */
static int series_json(struct wsim *w, struct wconn *c, unsigned k,
                       int64_t t_first, unsigned *out_n) {
  struct sim *s = w->s;
  struct mv_buf *b = &w->js;
  uint32_t q[SER_CODES] = {0};
  for (unsigned j = 0; j < k; j++) {
    struct mv_sig_scen_vitals v;
    sim_vitals(s, c->idx, &v);
    double *r = w->ser;
    r[SER_HR * k + j] = v.v.hr_bpm;
    r[SER_SPO2 * k + j] = v.v.spo2_pct;
    r[SER_SYS * k + j] = v.v.sbp_mmhg;
    r[SER_DIA * k + j] = v.v.dbp_mmhg;
    r[SER_RR * k + j] = v.v.rr_bpm;
    r[SER_TEMP * k + j] = v.v.temp_c;
    q[SER_HR] |= v.q_hr;
    q[SER_SPO2] |= v.q_spo2;
  }
  int rc = MV_OK;
  for (unsigned i = 0; rc == MV_OK && i < SER_CODES; i++) {
    rc = mv_buf_appendf(b,
                        "%s{\"code\":\"%s\",\"t_us\":%lld,\"period_ms\":1000,"
                        "\"unit\":\"%s\"",
                        i ? "," : "", ser_def[i].code, (long long)t_first,
                        ser_def[i].unit);
    if (rc == MV_OK)
      rc = quality_json(b, q[i]);
    if (rc == MV_OK)
      rc = mv_buf_appends(b, ",\"data\":[");
    for (unsigned j = 0; rc == MV_OK && j < k; j++) {
      if (j)
        rc = mv_buf_appends(b, ",");
      if (rc == MV_OK)
        rc = mv_buf_appendf(b, "%.*f", ser_def[i].decimals, w->ser[i * k + j]);
    }
    if (rc == MV_OK)
      rc = mv_buf_appends(b, "]}");
  }
  *out_n = SER_CODES * k;
  return rc;
}

/* One vitals message (batch seconds) and its ECG chunks. */
static int generate(struct wsim *w, struct wconn *c) {
  struct sim *s = w->s;
  struct sim_patient *p = &s->p[c->idx];
  struct mv_buf *b = &w->js;
  unsigned nv = 0, nobs = 0, k = s->batch;
  mv_buf_reset(b);
  int64_t t_first = s->t0_us + p->ticks * 1000000;
  int rc = mv_buf_appendf(b, "{\"type\":\"vitals\",\"seq\":%lld,",
                          (long long)c->next_seq);
  if (rc == MV_OK && p->id[0])
    rc = mv_buf_appendf(b, "\"patient\":\"%s\",", p->id);
  if (rc == MV_OK)
    rc = mv_buf_appendf(b, "\"t_us\":%lld,\"values\":[", (long long)t_first);
  int64_t first_tick = p->ticks;
  if (rc == MV_OK && s->series) {
    rc = series_json(w, c, k, t_first, &nv);
    nobs = SER_CODES;
  }
  for (unsigned j = 0; rc == MV_OK && !s->series && j < k; j++) {
    struct mv_sig_scen_vitals v;
    unsigned n = 0;
    sim_vitals(s, c->idx, &v);
    rc = sim_values_json(b, &v, s->t0_us + (first_tick + j) * 1000000, j == 0,
                         &n);
    nv += n;
    nobs += n; /* one Observation per value (the BP pair is one) */
  }
  if (rc == MV_OK)
    rc = mv_buf_appends(b, "]}");
  if (rc != MV_OK)
    return rc;
  if (!s->no_vitals) {
    if ((rc = push(c, b->data, b->len, false, nv, 0, nobs)) != MV_OK)
      return rc;
    c->next_seq++;
  }
  for (unsigned j = 0; s->ecg_hz > 0 && j < k; j++) {
    size_t n = (size_t)s->ecg_hz, plen = strlen(p->id);
    uint32_t fl = 0;
    size_t nb = 0;
    rc = mv_sig_scen_ecg(p->sc, w->ecg, n, w->beats, w->beats_cap, &nb, &fl);
    if (rc != MV_OK)
      return rc;
    unsigned char *f = w->frame;
    size_t len = 37 + plen + 2 * n;
    if (len > w->frame_cap || plen > 255)
      return MV_ETOOBIG;
    memcpy(f, "MVW1", 4);
    put_le(f + 4, (uint64_t)c->next_seq, 8);
    put_le(f + 12, (uint64_t)(s->t0_us + (first_tick + j) * 1000000), 8);
    put_le(f + 20, (uint32_t)(s->ecg_hz * 1000), 4);
    put_le(f + 24, 0, 2); /* lead II */
    put_le(f + 26, n, 2);
    float gain = (float)MV_SIG_SCEN_ECG_GAIN;
    uint32_t gb;
    memcpy(&gb, &gain, 4);
    put_le(f + 28, gb, 4);
    put_le(f + 32, 0, 2); /* baseline */
    uint16_t flags = (fl & MV_SIG_SIM_Q_LEAD_OFF ? 1u : 0u) |
                     (fl & ~MV_SIG_SIM_Q_LEAD_OFF ? 2u : 0u);
    put_le(f + 34, flags, 2);
    f[36] = (unsigned char)plen;
    memcpy(f + 37, p->id, plen);
    for (size_t i = 0; i < n; i++)
      put_le(f + 37 + plen + 2 * i, (uint16_t)w->ecg[i], 2);
    if ((rc = push(c, f, len, true, 0, (unsigned)n, 0)) != MV_OK)
      return rc;
    c->next_seq++;
  }
  p->ticks += k;
  return MV_OK;
}

static void on_ack(struct wconn *c, int64_t seq) {
  struct sim *s = c->w->s;
  double now = sim_now_s();
  while (c->count > 0 && at(c, 0)->seq <= seq) {
    struct wmsg *m = at(c, 0);
    if (!m->rejected) {
      s->st.msgs_acked++;
      s->st.values_acked += m->values;
      s->st.samples_acked += m->samples;
      s->st.obs_acked += m->obs;
      if (m->sent)
        sim_lat_add(s, (now - m->sent_at) * 1000.0);
    }
    pop_head(c);
  }
}

/* PROTOCOL (docs/API.md): "busy" and "sequence" mean nothing from that
 * point was stored, so resend from there (seq, or the server's "expected");
 * "busy" without a seq answers a hello whose stream is still being handed
 * over, so say hello again. Other codes consume the message. */
static void on_error_msg(struct wconn *c, int64_t seq, int64_t expected,
                         const char *code) {
  struct sim *s = c->w->s;
  bool retry = code && (!strcmp(code, "busy") || !strcmp(code, "sequence"));
  if (retry) {
    if (seq < 0) {
      c->hello_due = true;
      lws_callback_on_writable(c->wsi);
      return;
    }
    int64_t from = !strcmp(code, "sequence") && expected > 0 ? expected : seq;
    for (unsigned k = 0; k < c->count; k++)
      if (at(c, k)->seq >= from) {
        if (k < c->next_send)
          c->next_send = k;
        break;
      }
    lws_callback_on_writable(c->wsi);
    return;
  }
  s->st.errors++;
  if (!s->quiet)
    fprintf(stderr, "medverse simulate: stream %u message %lld refused: %s\n",
            c->idx, (long long)seq, code ? code : "?");
  for (unsigned k = 0; k < c->count; k++)
    if (at(c, k)->seq == seq)
      at(c, k)->rejected = true;
  while (c->count > 0 && at(c, 0)->rejected && at(c, 0)->sent)
    pop_head(c);
}

static void on_welcome(struct wconn *c, int64_t last) {
  if (c->next_seq == 0)
    c->next_seq = last + 1;
  /* Durable already: acknowledge without latency (sent before a drop). */
  while (c->count > 0 && at(c, 0)->seq <= last) {
    struct wmsg *m = at(c, 0);
    m->sent = false;
    on_ack(c, m->seq);
  }
  c->next_send = 0; /* write the rest again */
  c->state = C_READY;
}

static void on_text(struct wconn *c) {
  struct json_object *o = NULL, *t, *v;
  if (mv_json_parse(c->rx, c->rx_len, &o, NULL) != MV_OK || !o ||
      !json_object_object_get_ex(o, "type", &t)) {
    c->w->s->st.errors++;
    json_object_put(o);
    return;
  }
  const char *type = json_object_get_string(t);
  if (!strcmp(type, "welcome")) {
    int64_t last = 0;
    if (json_object_object_get_ex(o, "last_seq", &v))
      last = json_object_get_int64(v);
    on_welcome(c, last);
  } else if (!strcmp(type, "ack") && json_object_object_get_ex(o, "seq", &v)) {
    on_ack(c, json_object_get_int64(v));
  } else if (!strcmp(type, "error")) {
    struct json_object *code = NULL;
    int64_t seq = -1, expected = -1;
    if (json_object_object_get_ex(o, "seq", &v) &&
        json_object_is_type(v, json_type_int))
      seq = json_object_get_int64(v);
    if (json_object_object_get_ex(o, "expected", &v) &&
        json_object_is_type(v, json_type_int))
      expected = json_object_get_int64(v);
    json_object_object_get_ex(o, "code", &code);
    on_error_msg(c, seq, expected, code ? json_object_get_string(code) : NULL);
  } else if (!strcmp(type, "hr")) {
    c->w->s->st.hr_notices++;
  }
  json_object_put(o);
}

static int write_next(struct wconn *c) {
  struct sim *s = c->w->s;
  if (c->hello_due) {
    unsigned char buf[LWS_PRE + 128];
    int n = snprintf((char *)buf + LWS_PRE, 128,
                     "{\"type\":\"hello\",\"device\":\"sim-%llu-%u\"}",
                     (unsigned long long)s->seed, c->idx);
    c->hello_due = false;
    c->state = C_HELLO;
    return lws_write(c->wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) < n ? -1
                                                                           : 0;
  }
  if (c->state != C_READY || c->next_send >= c->count)
    return 0;
  struct wmsg *m = at(c, c->next_send);
  if (m->rejected) {
    c->next_send++;
    return 0;
  }
  int n = lws_write(c->wsi, m->buf + LWS_PRE, m->len,
                    m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
  if (n < (int)m->len)
    return -1;
  if (!m->sent) {
    s->st.msgs_sent++;
    s->st.values_sent += m->values;
    s->st.samples_sent += m->samples;
  }
  m->sent = true;
  m->sent_at = sim_now_s();
  c->next_send++;
  if (c->next_send < c->count)
    lws_callback_on_writable(c->wsi);
  return 0;
}

static void conn_down(struct wconn *c) {
  struct sim *s = c->w->s;
  if (c->state != C_DOWN && !c->w->ending)
    s->st.reconnects++;
  c->wsi = NULL;
  c->state = C_DOWN;
  c->retry_at = sim_now_s() + RETRY_S;
  c->rx_len = 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len) {
  (void)user;
  struct wconn *c = lws_get_opaque_user_data(wsi);
  switch (reason) {
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
    if (!c)
      break;
    unsigned char **p = (unsigned char **)in, *end = *p + len;
    char auth[2200];
    int n = snprintf(auth, sizeof(auth), "Bearer %s", c->w->s->token);
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                     (unsigned char *)auth, n, p, end))
      return -1;
    break;
  }
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    if (!c)
      break;
    c->hello_due = true;
    lws_callback_on_writable(wsi);
    break;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    if (!c)
      break;
    if (lws_frame_is_binary(wsi))
      break;
    if (c->rx_len + len > RX_MAX)
      c->rx_overflow = true;
    else {
      memcpy(c->rx + c->rx_len, in, len);
      c->rx_len += len;
    }
    if (lws_is_final_fragment(wsi)) {
      if (!c->rx_overflow) {
        c->rx[c->rx_len] = 0;
        on_text(c);
      }
      c->rx_len = 0;
      c->rx_overflow = false;
    }
    break;
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    if (c && write_next(c) < 0)
      return -1;
    break;
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    if (c) {
      if (!c->w->s->quiet)
        fprintf(stderr, "medverse simulate: stream %u: connection failed: %s\n",
                c->idx, in ? (const char *)in : "?");
      conn_down(c);
    }
    break;
  case LWS_CALLBACK_CLIENT_CLOSED:
    if (c)
      conn_down(c);
    break;
  default:
    break;
  }
  return 0;
}

static const struct lws_protocols protocols[] = {
    {"medverse-sim", callback, 0, RX_MAX, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static void connect_one(struct wsim *w, struct wconn *c) {
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof(ci));
  ci.context = w->ctx;
  ci.address = w->host;
  ci.port = w->port;
  ci.path = w->path;
  ci.host = w->host;
  ci.origin = w->host;
  ci.ssl_connection = w->tls ? LCCSCF_USE_SSL : 0;
  ci.protocol = NULL;
  ci.local_protocol_name = "medverse-sim";
  ci.pwsi = &c->wsi;
  ci.opaque_user_data = c;
  c->state = C_CONNECTING;
  if (!lws_client_connect_via_info(&ci))
    conn_down(c);
}

static void tick(lws_sorted_usec_list_t *sul) {
  struct wsim *w = lws_container_of(sul, struct wsim, sul);
  struct sim *s = w->s;
  double now = sim_now_s();
  if (!w->ending && sim_done(s)) {
    w->ending = true;
    w->end_at = now + DRAIN_S;
  }
  int64_t due = sim_due_ticks(s);
  bool pending = false;
  for (unsigned i = 0; i < s->n; i++) {
    struct wconn *c = &w->c[i];
    if (c->state == C_DOWN && !w->ending && now >= c->retry_at)
      connect_one(w, c);
    if (c->state != C_READY)
      continue;
    unsigned need = 1 + (s->ecg_hz > 0 ? s->batch : 0);
    /* A series is uploaded once its N seconds have passed. */
    int64_t ahead = s->series ? (int64_t)s->series - 1 : 0;
    while (!w->ending && s->p[i].ticks + ahead < due &&
           c->count + need <= c->cap) {
      if (generate(w, c) != MV_OK) {
        s->st.errors++;
        break;
      }
    }
    if (c->next_send < c->count && c->wsi)
      lws_callback_on_writable(c->wsi);
    if (c->count > 0)
      pending = true;
  }
  if ((w->ending && (!pending || now >= w->end_at)) || *s->stop > 1) {
    w->finished = true;
    lws_cancel_service(w->ctx);
    return;
  }
  lws_sul_schedule(w->ctx, 0, &w->sul, tick, TICK_US);
}

static int parse_server(struct wsim *w, const char *url) {
  const char *p = url;
  w->tls = false;
  if (!strncmp(p, "https://", 8)) {
    w->tls = true;
    p += 8;
  } else if (!strncmp(p, "http://", 7)) {
    p += 7;
  } else {
    return MV_EINVAL;
  }
  size_t hl = strcspn(p, ":/");
  if (hl == 0 || hl >= sizeof(w->host))
    return MV_EINVAL;
  memcpy(w->host, p, hl);
  w->host[hl] = 0;
  w->port = w->tls ? 443 : 80;
  if (p[hl] == ':') {
    char *end;
    long port = strtol(p + hl + 1, &end, 10);
    if (port < 1 || port > 65535)
      return MV_EINVAL;
    w->port = (int)port;
  }
  snprintf(w->path, sizeof(w->path), "/ws/device");
  return MV_OK;
}

int sim_run_ws(struct sim *s) {
  struct wsim w;
  memset(&w, 0, sizeof(w));
  w.s = s;
  int rc = parse_server(&w, s->server);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse simulate: --server must be http(s)://HOST[:PORT]"
                    "\n");
    return rc;
  }
  lws_set_log_level(LLL_ERR, NULL);
  mv_buf_init(&w.js, 4u << 20);
  w.c = calloc(s->n, sizeof(*w.c));
  w.ecg = calloc(s->ecg_hz > 0 ? (size_t)s->ecg_hz : 1, sizeof(int16_t));
  w.frame_cap = 37 + 255 + 2 * (size_t)s->ecg_hz;
  w.frame = malloc(w.frame_cap);
  w.beats_cap = 64 + (size_t)s->ecg_hz;
  w.beats = calloc(w.beats_cap, sizeof(int64_t));
  w.ser =
      calloc(SER_CODES * (size_t)(s->series ? s->series : 1), sizeof(double));
  if (!w.c || !w.ecg || !w.beats || !w.frame || !w.ser) {
    rc = MV_ENOMEM;
    goto out;
  }
  /* One simulated step (a vitals message and its ECG chunks) must fit. */
  unsigned cap = s->window, need = 1 + (s->ecg_hz > 0 ? s->batch : 0);
  if (cap < need)
    cap = need;
  for (unsigned i = 0; i < s->n; i++) {
    w.c[i].w = &w;
    w.c[i].idx = i;
    w.c[i].cap = cap;
    w.c[i].q = calloc(cap, sizeof(struct wmsg));
    if (!w.c[i].q) {
      rc = MV_ENOMEM;
      goto out;
    }
  }
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.fd_limit_per_thread = 1024 + 3 * s->n;
  w.ctx = lws_create_context(&info);
  if (!w.ctx) {
    rc = MV_EIO;
    goto out;
  }
  lws_sul_schedule(w.ctx, 0, &w.sul, tick, 1);
  while (!w.finished)
    if (lws_service(w.ctx, 0) < 0)
      break;
out:
  if (w.ctx)
    lws_context_destroy(w.ctx);
  for (unsigned i = 0; w.c && i < s->n; i++) {
    while (w.c[i].count > 0)
      pop_head(&w.c[i]);
    free(w.c[i].q);
  }
  free(w.c);
  free(w.ecg);
  free(w.frame);
  free(w.beats);
  free(w.ser);
  mv_buf_release(&w.js);
  return rc;
}
