/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /ws/triage, triage sessions over one WebSocket for the chat page (issue 5:
 * "a session API over HTTP and WebSocket"; docs/TRIAGE.md "WebSocket"). The
 * upgrade is authenticated like every HTTP request (bearer header or
 * access_token query; the account must be enabled; patients and clinicians
 * only). Each text message is one JSON request mirroring the HTTP API,
 * {"type":"start"|"answer"|"result"|"finish", ...the HTTP body's fields,
 * "session" for the last three, optional "ref" echoed back}, and gets one
 * reply: {"type":<same>,"status":<HTTP status>,"session":<the session view
 * of GET /triage/sessions/<id>>} or {"type":"error","re":<type>,"status":..,
 * "field":<the bad field or null>,"message":..}. Requests run one at a time
 * per connection on the worker pool through the same functions as the HTTP
 * routes (triage.c), so access rules, limits, storing and the hub
 * announcements are the same; replies come back in request order. Neither
 * the text nor the answers are logged.
 */
#include <stdlib.h>
#include <string.h>

#include "mv_json.h"
#include "mv_log.h"
#include "mv_pool.h"
#include "triage_int.h"

/* Requests waiting per connection before it stops reading (TCP
 * backpressure; nothing is dropped). */
#define TWS_QUEUE_MAX 8u
/* Arena of one request: the session view and the error texts. */
#define TWS_ARENA_MAX (256u * 1024u)

struct tws_msg {
  struct tws_msg *next;
  size_t len;
  bool binary;
  char data[];
};

/* One connection; loop thread only, except the list links (E->ws_mu). */
struct tws_conn {
  struct mv_api *api;
  struct api_triage *E;
  struct mv_ws_conn *c; /* NULL once closed */
  struct mv_auth_principal who;
  unsigned refs; /* the connection + a running job */
  bool busy, paused;
  struct tws_msg *q_head, *q_tail;
  size_t q_n;
  struct tws_job *job; /* the running job (freed with the connection when
                          it could not post back at shutdown) */
  struct tws_conn *prev, *next;
};

struct tws_job {
  struct tws_conn *s; /* not touched on the pool thread */
  struct mv_api *api;
  struct mv_auth_principal who;
  struct tws_msg *msg;
  char *reply; /* malloc'd JSON */
  size_t reply_len;
  bool close_after; /* the token expired or the account was disabled */
};

static void job_free(struct tws_job *j) {
  if (!j)
    return;
  free(j->msg);
  free(j->reply);
  free(j);
}

static void conn_free(struct tws_conn *s) {
  struct api_triage *E = s->E;
  pthread_mutex_lock(&E->ws_mu);
  if (s->prev)
    s->prev->next = s->next;
  else
    E->ws_all = s->next;
  if (s->next)
    s->next->prev = s->prev;
  pthread_mutex_unlock(&E->ws_mu);
  while (s->q_head) {
    struct tws_msg *m = s->q_head;
    s->q_head = m->next;
    free(m);
  }
  job_free(s->job);
  free(s);
}

static void conn_unref(struct tws_conn *s) {
  if (--s->refs == 0)
    conn_free(s);
}

/* ---- the request, on a pool thread --------------------------------------- */

/* The reply for an error: {"type":"error","re":..,"status":..,"field":..,
 * "message":..}. */
static struct json_object *error_reply(const char *re, int status,
                                       const char *field, const char *msg) {
  struct json_object *o = json_object_new_object();
  if (!o)
    return NULL;
  json_object_object_add(o, "type", json_object_new_string("error"));
  json_object_object_add(o, "re", re ? json_object_new_string(re) : NULL);
  json_object_object_add(o, "status", json_object_new_int(status));
  json_object_object_add(o, "field",
                         field ? json_object_new_string(field) : NULL);
  json_object_object_add(o, "message", json_object_new_string(msg));
  return o;
}

/* Turn the HTTP-style answer in q (a session view or an OperationOutcome)
 * into the WebSocket reply. */
static struct json_object *reply_of(struct api_req *q, const char *type) {
  struct json_object *body = NULL, *o;
  struct mv_diag d;
  mv_diag_clear(&d);
  if (q->out.len == 0 ||
      mv_json_parse(mv_buf_cstr(&q->out), q->out.len, &body, &d) != MV_OK)
    return error_reply(type, q->status >= 400 ? q->status : 500, NULL,
                       "the request failed");
  if (q->status < 400) {
    o = json_object_new_object();
    if (o) {
      json_object_object_add(o, "type", json_object_new_string(type));
      json_object_object_add(o, "status", json_object_new_int(q->status));
      json_object_object_add(o, "session", body);
      return o;
    }
    json_object_put(body);
    return NULL;
  }
  /* OperationOutcome: issue[0].expression[0] and .diagnostics */
  const char *field = NULL, *msg = "the request failed";
  struct json_object *issues, *is, *ex, *v;
  if (json_object_object_get_ex(body, "issue", &issues) &&
      json_object_is_type(issues, json_type_array) &&
      (is = json_object_array_get_idx(issues, 0))) {
    if (json_object_object_get_ex(is, "expression", &ex) &&
        json_object_is_type(ex, json_type_array) &&
        (v = json_object_array_get_idx(ex, 0)) &&
        json_object_is_type(v, json_type_string))
      field = json_object_get_string(v);
    if (json_object_object_get_ex(is, "diagnostics", &v) &&
        json_object_is_type(v, json_type_string))
      msg = json_object_get_string(v);
  }
  o = error_reply(type, q->status, field, msg);
  json_object_put(body);
  return o;
}

/* The session id of a request; answers the error itself. */
static const char *session_id(struct api_req *q, struct json_object *req) {
  const char *id = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_json_get_string(req, "", "session", true, &id, &d);
  if (rc != MV_OK) {
    api_fail(q, 400, rc == MV_ENOTFOUND ? "required" : "invalid", "session",
             "session is required: the id of a triage session");
    return NULL;
  }
  if (strlen(id) != TRI_ID_LEN) {
    api_fail(q, 404, "not-found", "session",
             "no such triage session (unknown, expired or not yours)");
    return NULL;
  }
  return id;
}

/* Authenticate again (as every HTTP request is: the token may have expired
 * or the account been disabled since the upgrade), then run the request. */
static struct json_object *run_request(struct tws_job *j, struct api_req *q,
                                       const char **out_type) {
  static const char *const types[] = {"start", "answer", "result", "finish",
                                      NULL};
  struct json_object *req = NULL, *reply = NULL, *ref = NULL;
  struct mv_store_user u;
  struct mv_diag d;
  const char *type = NULL;
  mv_diag_clear(&d);
  *out_type = NULL;
  if (j->who.exp_us <= mv_clock_now_us(j->api->clock) ||
      mv_store_user_get(j->api->store, j->who.sub, &u) != MV_OK || u.disabled) {
    j->close_after = true;
    return error_reply(NULL, 401, NULL,
                       "the token has expired or the account is disabled");
  }
  if (j->msg->binary)
    return error_reply(NULL, 400, NULL, "messages must be JSON text");
  if (j->msg->len > MV_LIMIT_TRIAGE_BODY)
    return error_reply(NULL, 413, NULL, "the message is too large");
  if (mv_json_parse(j->msg->data, j->msg->len, &req, &d) != MV_OK ||
      !json_object_is_type(req, json_type_object)) {
    json_object_put(req);
    return error_reply(NULL, 400, NULL, "the message is not a JSON object");
  }
  if (json_object_object_get_ex(req, "ref", &ref) &&
      !json_object_is_type(ref, json_type_string) &&
      !json_object_is_type(ref, json_type_int))
    ref = NULL;
  if (ref && json_object_is_type(ref, json_type_string) &&
      json_object_get_string_len(ref) > 64)
    ref = NULL;
  size_t k = 0;
  if (mv_json_get_string(req, "", "type", true, &type, &d) == MV_OK)
    while (types[k] && strcmp(types[k], type) != 0)
      k++;
  if (!type || !types[k]) {
    reply = error_reply(NULL, 400, "type",
                        "type must be start, answer, result or finish");
    goto out;
  }
  *out_type = types[k];
  const char *id = NULL;
  switch (k) {
  case 0:
    tri_op_start(q, req);
    break;
  case 1:
    if ((id = session_id(q, req)))
      tri_op_answer(q, id, req);
    break;
  case 2:
    if ((id = session_id(q, req)))
      tri_op_get(q, id);
    break;
  default:
    if ((id = session_id(q, req)))
      tri_op_finish(q, id);
    break;
  }
  reply = reply_of(q, types[k]);
out:
  if (reply && ref)
    json_object_object_add(reply, "ref", json_object_get(ref));
  json_object_put(req);
  return reply;
}

static void job_done_task(void *arg);

static void job_run(void *arg) {
  struct tws_job *j = arg;
  struct mv_arena *a = mv_arena_new(TWS_ARENA_MAX);
  struct api_req *q = a ? mv_arena_zalloc(a, sizeof(*q)) : NULL;
  struct json_object *reply = NULL;
  struct mv_buf out;
  const char *type = NULL;
  if (q) {
    q->api = j->api;
    q->a = a;
    q->authed = true;
    q->who = j->who;
    q->status = 500;
    q->interaction = "triage";
    mv_buf_init(&q->out, MV_LIMIT_HTTP_RESP_MAX);
    if (j->who.fhir_id[0])
      q->agent_ref = mv_arena_printf(a,
                                     j->who.role == MV_AUTH_ROLE_PATIENT
                                         ? "Patient/%s"
                                         : "Practitioner/%s",
                                     j->who.fhir_id);
    reply = run_request(j, q, &type);
    mv_buf_release(&q->out);
  }
  if (!reply)
    reply = error_reply(type, 503, NULL, "out of memory, retry later");
  mv_buf_init(&out, MV_LIMIT_WS_MSG_MAX);
  if (reply && mv_json_write(&out, reply) == MV_OK &&
      (j->reply = malloc(out.len + 1))) {
    memcpy(j->reply, mv_buf_cstr(&out), out.len + 1);
    j->reply_len = out.len;
  }
  mv_buf_release(&out);
  json_object_put(reply);
  mv_arena_free(a);
  if (mv_server_post(j->api->srv, job_done_task, j) != MV_OK) {
    /* The loop is gone (shutdown): tri_ws_free frees the job with its
     * connection. */
  }
}

/* ---- the connection, on the loop thread ----------------------------------- */

static void start_next(struct tws_conn *s);

static void send_reply(struct tws_conn *s, const char *json, size_t len) {
  if (s->c && json)
    (void)mv_ws_send(s->c, json, len);
}

static void job_done_task(void *arg) {
  struct tws_job *j = arg;
  struct tws_conn *s = j->s;
  send_reply(s, j->reply, j->reply_len);
  if (j->close_after && s->c)
    mv_ws_close(s->c, 1008, "authentication expired");
  s->job = NULL;
  s->busy = false;
  job_free(j);
  if (s->paused && s->c && s->q_n < TWS_QUEUE_MAX / 2) {
    s->paused = false;
    mv_ws_pause(s->c, false);
  }
  start_next(s);
  conn_unref(s);
}

static void start_next(struct tws_conn *s) {
  struct tws_job *j;
  if (s->busy || !s->q_head || !s->c)
    return;
  struct tws_msg *m = s->q_head;
  s->q_head = m->next;
  if (!s->q_head)
    s->q_tail = NULL;
  s->q_n--;
  if (!(j = calloc(1, sizeof(*j)))) {
    free(m);
    static const char oom[] = "{\"type\":\"error\",\"re\":null,\"status\":503,"
                              "\"field\":null,\"message\":\"out of memory\"}";
    send_reply(s, oom, sizeof(oom) - 1);
    return;
  }
  j->s = s;
  j->api = s->api;
  j->who = s->who;
  j->msg = m;
  s->job = j;
  s->busy = true;
  s->refs++;
  if (mv_pool_submit(s->api->pool, job_run, j) != MV_OK) {
    static const char busy[] = "{\"type\":\"error\",\"re\":null,\"status\":503,"
                               "\"field\":null,\"message\":\"server busy, "
                               "retry later\"}";
    send_reply(s, busy, sizeof(busy) - 1);
    s->job = NULL;
    s->busy = false;
    job_free(j);
    s->refs--; /* the connection still holds one */
  }
}

static int on_open(void *ctx, struct mv_ws_upgrade *u, void **out_user,
                   const char **out_msg) {
  struct api_triage *E = ctx;
  struct mv_api *api = E->api;
  struct mv_auth_principal who;
  struct tws_conn *s;
  int status = api_ws_authenticate(api, u, &who, out_msg);

  if (status)
    return status;
  if (who.role != MV_AUTH_ROLE_PATIENT && who.role != MV_AUTH_ROLE_CLINICIAN &&
      who.role != MV_AUTH_ROLE_ADMIN) {
    *out_msg = "triage sessions are for patients and clinicians";
    return 403;
  }
  if (!(s = calloc(1, sizeof(*s)))) {
    *out_msg = "out of memory";
    return 503;
  }
  s->api = api;
  s->E = E;
  s->who = who;
  s->refs = 1;
  pthread_mutex_lock(&E->ws_mu);
  s->next = E->ws_all;
  if (s->next)
    s->next->prev = s;
  E->ws_all = s;
  pthread_mutex_unlock(&E->ws_mu);
  *out_user = s;
  return 0;
}

static void on_ready(void *ctx, struct mv_ws_conn *c, void *user) {
  struct tws_conn *s = user;
  (void)ctx;
  s->c = c;
  start_next(s);
}

static void on_message(void *ctx, struct mv_ws_conn *c, void *user,
                       const void *data, size_t len, bool binary) {
  struct tws_conn *s = user;
  (void)ctx;
  /* Oversized messages keep one byte past the cap so the job can say so. */
  size_t keep = len > MV_LIMIT_TRIAGE_BODY ? MV_LIMIT_TRIAGE_BODY + 1 : len;
  struct tws_msg *m = malloc(sizeof(*m) + keep + 1);
  if (!m) {
    mv_ws_close(c, 1013, "out of memory");
    return;
  }
  m->next = NULL;
  m->binary = binary;
  m->len = len > MV_LIMIT_TRIAGE_BODY ? MV_LIMIT_TRIAGE_BODY + 1 : len;
  memcpy(m->data, data, keep);
  m->data[keep] = '\0';
  if (s->q_tail)
    s->q_tail->next = m;
  else
    s->q_head = m;
  s->q_tail = m;
  s->q_n++;
  if (!s->paused && s->q_n >= TWS_QUEUE_MAX) {
    s->paused = true;
    mv_ws_pause(c, true);
  }
  if (!s->c)
    s->c = c;
  start_next(s);
}

static void on_close(void *ctx, struct mv_ws_conn *c, void *user) {
  struct tws_conn *s = user;
  (void)ctx;
  (void)c;
  s->c = NULL;
  conn_unref(s);
}

static const struct mv_ws_handler handler = {on_open, on_ready, on_message,
                                             on_close};

int tri_ws_route(struct mv_api *api, struct api_triage *E,
                 struct mv_diag *diag) {
  int rc;
  E->api = api;
  if ((rc = mv_server_ws_route(api->srv, "/ws/triage", &handler, E)) != MV_OK)
    return mv_diag_set(diag, rc, "cannot register /ws/triage");
  return MV_OK;
}

void tri_ws_free(struct api_triage *E) {
  /* The server is gone (its on_close ran for every connection): what is
   * left are connections whose last job could not post back. */
  while (E->ws_all) {
    struct tws_conn *s = E->ws_all;
    s->refs = 1;
    conn_unref(s);
  }
}
