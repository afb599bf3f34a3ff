/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Triage session routes under /triage (issue 5; docs/API.md "Triage"):
 * start a session with the patient's words, answer follow-up questions,
 * read the result. Requests go loop -> pool -> loop like the FHIR API's and
 * are authenticated with the same bearer tokens. A patient runs sessions for
 * themselves; a clinician for a patient on their care team (or without a
 * patient, not stored); a session is visible to the account that started
 * it, the patient and the patient's care team (mv_auth_decide, READ of
 * DiagnosticReport), and unknown to everyone else (404). Complete sessions
 * of a patient are stored as a DiagnosticReport with provisional
 * Conditions. Changes are announced on the /ws topic "triage/<id>" without
 * any clinical content; /ws/triage (triage_ws.c) runs the same operations
 * as WebSocket messages for the chat page. Neither the text nor the answers
 * are logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_json.h"
#include "mv_log.h"
#include "mv_pool.h"
#include "triage_int.h"

#define FHIR_JSON "application/fhir+json; charset=utf-8"
#define PLAIN_JSON "application/json"
#define PREFIX "/triage"
#define SESSIONS "/sessions"

/* ---- helpers ------------------------------------------------------------ */

static void answer(struct api_req *q, int status, struct json_object *o) {
  api_json(q, status, o);
  if (q->status == status)
    q->ctype = PLAIN_JSON;
  json_object_put(o);
}

static void fail_diag(struct api_req *q, int rc, const char *expr,
                      const struct mv_diag *d) {
  api_fail(q, mv_err_http_status(rc), mv_fhir_issue_code_for(rc), expr, "%s",
           d->msg[0] ? d->msg : mv_strerror(rc));
}

/* The JSON object body of a POST; answers the error itself. */
static struct json_object *body_object(struct api_req *q) {
  const char *ct = mv_http_header(q->x, "content-type");
  struct json_object *o = NULL;
  struct mv_diag d;
  if (!ct || (strncasecmp(ct, "application/json", 16) != 0 &&
              strncasecmp(ct, "application/fhir+json", 21) != 0)) {
    api_fail(q, 415, "not-supported", NULL,
             "the body must be application/json");
    return NULL;
  }
  if (q->r->body_len > MV_LIMIT_TRIAGE_BODY) {
    api_fail(q, 413, "too-costly", NULL, "the body exceeds %u bytes",
             MV_LIMIT_TRIAGE_BODY);
    return NULL;
  }
  mv_diag_clear(&d);
  if (mv_json_parse(q->r->body, q->r->body_len, &o, &d) != MV_OK) {
    api_fail(q, 400, "structure", NULL, "the body is not valid JSON: %s",
             d.msg);
    return NULL;
  }
  if (!o || !json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    api_fail(q, 400, "structure", NULL, "the body must be a JSON object");
    return NULL;
  }
  return o;
}

static bool blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
      return false;
  return true;
}

struct push {
  struct mv_server *srv;
  char topic[48];
  size_t len;
  char json[];
};

static void push_task(void *arg) {
  struct push *p = arg;
  (void)mv_hub_publish(p->srv, p->topic, p->json, p->len);
  free(p);
}

/* Announce a change: {"session":id,"status":...,"version":n}. The topic is
 * as hard to guess as the id; the message holds nothing clinical, so a
 * subscriber learns only that it should GET the session with its token. */
static void announce(struct mv_api *api, const char *id, const char *status,
                     uint64_t version) {
  char msg[160];
  int n = snprintf(msg, sizeof(msg),
                   "{\"session\":\"%s\",\"status\":\"%s\",\"version\":%llu}",
                   id, status, (unsigned long long)version);
  struct push *p;
  if (n < 0 || (size_t)n >= sizeof(msg) ||
      !(p = malloc(sizeof(*p) + (size_t)n + 1)))
    return;
  p->srv = api->srv;
  snprintf(p->topic, sizeof(p->topic), "triage/%s", id);
  p->len = (size_t)n;
  memcpy(p->json, msg, (size_t)n + 1);
  if (mv_server_post(api->srv, push_task, p) != MV_OK)
    free(p);
}

/* ---- access ------------------------------------------------------------- */

/* May the caller see (and, when act, answer) session t? Called without the
 * lock on a copy of the session's identity. */
static bool may_use(struct api_req *q, const char *owner, const char *pid,
                    bool act) {
  if (strcmp(owner, q->who.sub) == 0)
    return true;
  if (!pid[0])
    return false;
  if (q->who.role == MV_AUTH_ROLE_PATIENT)
    return strcmp(q->who.fhir_id, pid) == 0 &&
           api_access(q, MV_AUTH_ACT_READ, "DiagnosticReport", pid) == MV_OK;
  if (act)
    return false; /* only the patient and the one who started it answer */
  return api_access(q, MV_AUTH_ACT_READ, "DiagnosticReport", pid) == MV_OK;
}

/* The patient a new session is for (empty: none); answers errors itself. */
static bool session_patient(struct api_req *q, struct json_object *body,
                            char pid[MV_AUTH_ID_LEN + 1]) {
  const char *ref = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  pid[0] = '\0';
  if (mv_json_get_string(body, "", "patient", false, &ref, &d) == MV_EINVAL) {
    api_fail(q, 400, "invalid", "patient", "patient must be a string");
    return false;
  }
  if (ref) {
    const char *id = strncmp(ref, "Patient/", 8) == 0 ? ref + 8 : NULL;
    if (!id || !*id || strlen(id) > MV_AUTH_ID_LEN || strchr(id, '/')) {
      api_fail(q, 400, "invalid", "patient",
               "patient must be a reference Patient/<id>");
      return false;
    }
    snprintf(pid, MV_AUTH_ID_LEN + 1, "%s", id);
  }
  switch (q->who.role) {
  case MV_AUTH_ROLE_PATIENT:
    if (pid[0] && strcmp(pid, q->who.fhir_id) != 0) {
      api_fail(q, 403, "forbidden", "patient",
               "a patient runs sessions for themselves only");
      return false;
    }
    snprintf(pid, MV_AUTH_ID_LEN + 1, "%s", q->who.fhir_id);
    break;
  case MV_AUTH_ROLE_CLINICIAN:
  case MV_AUTH_ROLE_ADMIN:
    break;
  default:
    api_fail(q, 403, "forbidden", NULL,
             "triage sessions are for patients and clinicians");
    return false;
  }
  /* Reading the patient's reports is what the session will produce. */
  if (pid[0] &&
      api_access(q, MV_AUTH_ACT_READ, "DiagnosticReport", pid) != MV_OK) {
    api_fail(q, 403, "forbidden", "patient",
             "not permitted for this patient (care team required)");
    return false;
  }
  return true;
}

/* ---- storing and answering ---------------------------------------------- */

/* Store a complete patient session once, then answer with the session view;
 * announce when the session changed (changed, or stored now). Takes E->mu
 * itself. */
static void respond_session(struct api_req *q, const char *id, int status,
                            bool changed) {
  struct api_triage *E = q->api->triage;
  struct tri_session *t;
  struct tri_result res;
  struct json_object *view = NULL;
  char rid[65], cids[TRI_TOPK][65], st[16];
  size_t nc = 0;
  uint64_t version;
  bool store = false;
  int rc = MV_OK;

  pthread_mutex_lock(&E->mu);
  t = tri_find(E, id);
  if (t && t->status == TRI_COMPLETE && t->patient_id[0] && !t->stored &&
      !t->storing && tri_result(E, t, &res) == MV_OK) {
    t->storing = true;
    store = true;
  }
  pthread_mutex_unlock(&E->mu);
  if (store) {
    struct mv_diag d;
    mv_diag_clear(&d);
    /* Nobody changes a complete session and the sweep keeps a storing one. */
    rc = tri_store_report(q->api, E, t, &res, rid, cids, &nc, &d);
    tri_result_release(&res);
    if (rc != MV_OK)
      MV_LOG_WARN("triage", "storing a triage report failed: %s",
                  mv_err_name(rc));
  }
  pthread_mutex_lock(&E->mu);
  t = tri_find(E, id);
  if (t) {
    if (store) {
      t->storing = false;
      if (rc == MV_OK) {
        t->stored = true;
        memcpy(t->report_id, rid, sizeof(rid));
        memcpy(t->condition_ids, cids, sizeof(cids));
        t->n_conditions = nc;
        t->version++;
      }
    }
    view = tri_view(E, t);
    version = t->version;
    snprintf(st, sizeof(st), "%s",
             t->status == TRI_ASKING ? "asking" : "complete");
  }
  pthread_mutex_unlock(&E->mu);
  if (!view) {
    api_fail(q, 404, "not-found", NULL, "no such triage session");
    return;
  }
  if (store && rc != MV_OK)
    json_object_object_add(view, "reportError",
                           json_object_new_string(mv_strerror(rc)));
  if (status == 201)
    api_header(q, "Location", api_url(q, PREFIX SESSIONS "/%s", id));
  answer(q, status, view);
  if (changed || (store && rc == MV_OK))
    announce(q->api, id, st, version);
}

void tri_op_start(struct api_req *q, struct json_object *body) {
  struct api_triage *E = q->api->triage;
  const char *text = NULL, *lang = NULL;
  char pid[MV_AUTH_ID_LEN + 1], id[TRI_ID_LEN + 1];
  struct tri_session *t;
  struct mv_diag d;
  int l, rc;
  mv_diag_clear(&d);
  rc = mv_json_get_string(body, "", "text", true, &text, &d);
  if (rc != MV_OK) {
    api_fail(q, 400, rc == MV_ENOTFOUND ? "required" : "invalid", "text",
             "text is required: the patient's description, a string");
    return;
  }
  if (blank(text) || strlen(text) > MV_LIMIT_TRIAGE_TEXT) {
    api_fail(q, 400, "invalid", "text",
             "text must hold 1 to %u bytes and not be blank",
             MV_LIMIT_TRIAGE_TEXT);
    return;
  }
  if (mv_json_get_string(body, "", "lang", false, &lang, &d) == MV_EINVAL ||
      (lang && strcmp(lang, "auto") != 0 && strcmp(lang, "en") != 0 &&
       strcmp(lang, "zh") != 0)) {
    api_fail(q, 400, "invalid", "lang", "lang must be auto, en or zh");
    return;
  }
  if (!session_patient(q, body, pid))
    return;
  if (lang && strcmp(lang, "en") == 0)
    l = MV_CLF_INQ_EN;
  else if (lang && strcmp(lang, "zh") == 0)
    l = MV_CLF_INQ_ZH;
  else
    l = mv_clf_detect_lang(text, strlen(text)) == MV_CLF_LANG_ZH
            ? MV_CLF_INQ_ZH
            : MV_CLF_INQ_EN;
  pthread_mutex_lock(&E->mu);
  rc = tri_start(E, q->who.sub, pid, q->agent_ref, text, strlen(text), l,
                 mv_clock_now_us(q->api->clock), &t);
  if (rc == MV_OK)
    memcpy(id, t->id, sizeof(id));
  pthread_mutex_unlock(&E->mu);
  if (rc == MV_ERATE) {
    api_fail(q, 429, "throttled", NULL,
             "too many open triage sessions for this account (at most %u)",
             TRI_PER_PRINCIPAL);
    return;
  }
  if (rc == MV_EBUSY) {
    api_fail(q, 503, "transient", NULL,
             "too many triage sessions, retry later");
    api_header(q, "Retry-After", "60");
    return;
  }
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "starting the session");
    return;
  }
  respond_session(q, id, 201, true);
}

static void do_start(struct api_req *q) {
  struct json_object *body = body_object(q);
  if (!body)
    return;
  tri_op_start(q, body);
  json_object_put(body);
}

/* Look the session up and check the caller may use it; copies its id. */
static bool lookup(struct api_req *q, const char *id, bool act) {
  struct api_triage *E = q->api->triage;
  char owner[MV_AUTH_ID_LEN + 1], pid[MV_AUTH_ID_LEN + 1];
  bool found = false;
  pthread_mutex_lock(&E->mu);
  tri_sweep(E, mv_clock_now_us(q->api->clock));
  struct tri_session *t = tri_find(E, id);
  if (t) {
    found = true;
    memcpy(owner, t->owner, sizeof(owner));
    memcpy(pid, t->patient_id, sizeof(pid));
  }
  pthread_mutex_unlock(&E->mu);
  if (!found || !may_use(q, owner, pid, act)) {
    /* Others' sessions are indistinguishable from unknown ones. */
    api_fail(q, 404, "not-found", NULL,
             "no such triage session (unknown, expired or not yours)");
    return false;
  }
  return true;
}

static void touch(struct api_req *q, const char *id) {
  struct api_triage *E = q->api->triage;
  pthread_mutex_lock(&E->mu);
  struct tri_session *t = tri_find(E, id);
  if (t)
    t->touched_us = mv_clock_now_us(q->api->clock);
  pthread_mutex_unlock(&E->mu);
}

void tri_op_get(struct api_req *q, const char *id) {
  if (!lookup(q, id, false))
    return;
  respond_session(q, id, 200, false);
}

void tri_op_answer(struct api_req *q, const char *id,
                   struct json_object *body) {
  struct api_triage *E = q->api->triage;
  const char *concept = NULL, *ans = NULL;
  enum mv_clf_inq_answer a;
  struct mv_diag d;
  int rc;
  if (!lookup(q, id, true))
    return;
  mv_diag_clear(&d);
  if (mv_json_get_string(body, "", "concept", true, &concept, &d) != MV_OK) {
    api_fail(q, 400, "required", "concept",
             "concept is required: the id of the question's concept");
    return;
  }
  if (mv_json_get_string(body, "", "answer", true, &ans, &d) != MV_OK ||
      mv_clf_inq_answer_parse(ans, &a) != MV_OK) {
    api_fail(q, 400, ans ? "invalid" : "required", "answer",
             "answer must be yes, no or unsure");
    return;
  }
  pthread_mutex_lock(&E->mu);
  struct tri_session *t = tri_find(E, id);
  rc = t ? tri_answer(E, t, concept, a, &d) : MV_ENOTFOUND;
  if (t)
    t->touched_us = mv_clock_now_us(q->api->clock);
  pthread_mutex_unlock(&E->mu);
  if (rc == MV_ENOTFOUND && t) {
    api_fail(q, 400, "invalid", "concept", "unknown concept for this model");
    return;
  }
  if (rc == MV_ECONFLICT) {
    api_fail(q, 409, "conflict", NULL, "%s", d.msg);
    return;
  }
  if (rc != MV_OK) {
    fail_diag(q, rc, rc == MV_EEXISTS ? "concept" : NULL, &d);
    return;
  }
  respond_session(q, id, 200, true);
}

/* Unknown sessions answer 404 before the body is looked at. */
static void do_answer(struct api_req *q, const char *id) {
  struct json_object *body;
  if (!lookup(q, id, true) || !(body = body_object(q)))
    return;
  tri_op_answer(q, id, body);
  json_object_put(body);
}

void tri_op_finish(struct api_req *q, const char *id) {
  struct api_triage *E = q->api->triage;
  if (!lookup(q, id, true))
    return;
  pthread_mutex_lock(&E->mu);
  struct tri_session *t = tri_find(E, id);
  if (t) {
    tri_finish(E, t);
    t->touched_us = mv_clock_now_us(q->api->clock);
  }
  pthread_mutex_unlock(&E->mu);
  respond_session(q, id, 200, true);
}

static void do_delete(struct api_req *q, const char *id) {
  struct api_triage *E = q->api->triage;
  bool busy = false;
  if (!lookup(q, id, true))
    return;
  pthread_mutex_lock(&E->mu);
  for (size_t i = 0; i < E->n; i++)
    if (strcmp(E->s[i]->id, id) == 0) {
      if (E->s[i]->storing) {
        busy = true;
        break;
      }
      tri_session_free(E->s[i]);
      E->s[i] = E->s[--E->n];
      break;
    }
  pthread_mutex_unlock(&E->mu);
  if (busy) {
    api_fail(q, 409, "conflict", NULL, "the session's report is being stored");
    return;
  }
  q->status = 204;
  mv_buf_reset(&q->out);
}

/* ---- dispatch ----------------------------------------------------------- */

static void triage_job(struct api_req *q) {
  const char *m = q->r->method;
  const char *path = q->r->path + strlen(PREFIX);
  char id[TRI_ID_LEN + 1];
  const char *rest = NULL;

  if (api_authenticate(q) != 0)
    goto out;
  if (strcmp(path, SESSIONS) == 0) {
    if (strcmp(m, "POST") == 0)
      do_start(q);
    else
      api_fail(q, 405, "not-supported", NULL, "use POST to start a session");
    goto out;
  }
  if (strncmp(path, SESSIONS "/", strlen(SESSIONS) + 1) == 0) {
    const char *p = path + strlen(SESSIONS) + 1;
    size_t n = strcspn(p, "/");
    if (n == TRI_ID_LEN) {
      memcpy(id, p, n);
      id[n] = '\0';
      rest = p + n;
    }
  }
  if (!rest) {
    api_fail(q, 404, "not-found", NULL, "no such triage session or resource");
  } else if (!*rest && strcmp(m, "GET") == 0) {
    tri_op_get(q, id);
    touch(q, id);
  } else if (!*rest && strcmp(m, "DELETE") == 0) {
    do_delete(q, id);
  } else if (strcmp(rest, "/answers") == 0 && strcmp(m, "POST") == 0) {
    do_answer(q, id);
  } else if (strcmp(rest, "/finish") == 0 && strcmp(m, "POST") == 0) {
    tri_op_finish(q, id);
  } else {
    api_fail(q, 404, "not-found", NULL, "no such triage resource or method");
  }
out:
  api_finish(q);
}

static void triage_handler(void *ctx, struct mv_http_exchange *x) {
  api_dispatch(ctx, x, "triage", triage_job);
}

int api_triage_routes(struct mv_api *api, struct mv_diag *diag) {
  struct api_triage *E = calloc(1, sizeof(*E));
  int rc;
  if (!E || !(E->s = calloc(MV_LIMIT_TRIAGE_SESSIONS, sizeof(*E->s)))) {
    free(E);
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  }
  pthread_mutex_init(&E->mu, NULL);
  pthread_mutex_init(&E->ws_mu, NULL);
  E->idle_s = MV_LIMIT_TRIAGE_IDLE_S;
  api->triage = E;
  if ((rc = mv_server_route(api->srv, NULL, PREFIX "/*", triage_handler,
                            api)) != MV_OK ||
      (rc = mv_server_error_format(api->srv, PREFIX, api_error_format, api)) !=
          MV_OK)
    return mv_diag_set(diag, rc, "cannot register the triage routes");
  return tri_ws_route(api, E, diag);
}

int mv_api_triage_configure(struct mv_api *api,
                            const struct mv_api_triage_opts *o,
                            struct mv_diag *diag) {
  struct api_triage *E;
  struct mv_clf_model *m = NULL;
  struct mv_clf_inquiry *inq = NULL;
  const void *sec;
  size_t sec_len;
  int rc;
  if (!api || !(E = api->triage) || !o)
    return mv_diag_set(diag, MV_EINVAL, "no triage options");
  if (o->idle_s > 0)
    E->idle_s = o->idle_s;
  if (!o->model_path || !o->model_path[0])
    return MV_OK;
  if ((rc = mv_clf_model_load(o->model_path, &m, diag)) != MV_OK) {
    mv_diag_set_path(diag, "triage-model");
    return rc;
  }
  rc = mv_clf_model_section(m, "inquiry", &sec, &sec_len);
  if (rc == MV_OK) {
    if ((rc = mv_clf_inquiry_load(sec, sec_len, &inq, diag)) != MV_OK) {
      mv_clf_model_free(m);
      mv_diag_set_path(diag, "triage-model");
      return rc;
    }
    if (mv_clf_inquiry_n_labels(inq) != mv_clf_n_labels(m)) {
      mv_clf_inquiry_free(inq);
      mv_clf_model_free(m);
      return mv_diag_set(diag, MV_ECORRUPT,
                         "triage-model: the inquiry table does not match "
                         "the model's labels");
    }
  } else {
    MV_LOG_WARN("triage", "the triage model has no inquiry table: no "
                          "follow-up questions");
  }
  pthread_mutex_lock(&E->mu);
  mv_clf_model_free(E->model);
  mv_clf_inquiry_free(E->inq);
  /* Sessions refer to label and concept indexes of the old model. */
  for (size_t i = 0; i < E->n; i++)
    tri_session_free(E->s[i]);
  E->n = 0;
  E->model = m;
  E->inq = inq;
  pthread_mutex_unlock(&E->mu);
  MV_LOG_INFO("triage", "triage model loaded: %zu labels, %zu concepts",
              mv_clf_n_labels(m), inq ? mv_clf_inquiry_n_concepts(inq) : 0u);
  return MV_OK;
}

void api_triage_free(struct mv_api *api) {
  struct api_triage *E = api->triage;
  if (!E)
    return;
  tri_ws_free(E);
  for (size_t i = 0; i < E->n; i++)
    tri_session_free(E->s[i]);
  free(E->s);
  mv_clf_model_free(E->model);
  mv_clf_inquiry_free(E->inq);
  pthread_mutex_destroy(&E->mu);
  pthread_mutex_destroy(&E->ws_mu);
  free(E);
  api->triage = NULL;
}
