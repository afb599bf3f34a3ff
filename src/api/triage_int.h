/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface of the triage session service (issue 5; docs/API.md
 * "Triage"): the in-memory session table (triage_session.c), the HTTP routes
 * (triage.c) and the FHIR DiagnosticReport/Condition writer
 * (triage_report.c). Sessions hold the patient's text and answers in memory
 * only, bounded in number and idle time; nothing of them is logged.
 */
#ifndef MV_API_TRIAGE_INT_H
#define MV_API_TRIAGE_INT_H

#include <pthread.h>

#include "api_int.h"
#include "mv_clf.h"
#include "mv_clf_inquiry.h"
#include "mv_limits.h"

#define TRI_ID_LEN 32u   /* hex characters of a session id */
#define TRI_REF_MAX 160u /* "Patient/<id>" and similar references */
#define TRI_PER_PRINCIPAL MV_LIMIT_TRIAGE_PER_ACCOUNT
#define TRI_TOPK MV_LIMIT_CLF_TRIAGE_TOPK

enum tri_status { TRI_ASKING = 0, TRI_COMPLETE = 1 };

struct tri_answer {
  uint32_t concept; /* inquiry table concept */
  uint8_t answer;   /* enum mv_clf_inq_answer */
};

struct tri_session {
  char id[TRI_ID_LEN + 1];
  char owner[MV_AUTH_ID_LEN + 1];      /* account (sub) that started it */
  char patient_id[MV_AUTH_ID_LEN + 1]; /* "" when not linked to a patient */
  char agent_ref[TRI_REF_MAX];         /* who started it, for the audit trail */
  int lang;                            /* enum mv_clf_inq_lang */
  int64_t created_us, touched_us;
  uint64_t version; /* bumped on every change (WebSocket pushes) */
  enum tri_status status;
  char *text; /* the patient's words (malloc'd, NUL-terminated) */
  size_t text_len;
  /* The assessment of the text alone (red flags, first differential). */
  bool red_flag;
  int rf_cat;
  double *post;       /* n_labels: the current posterior */
  uint8_t *known;     /* n_concepts: mentioned in the text or answered */
  uint8_t *from_text; /* n_concepts: mentioned in the text */
  int64_t pending;    /* concept asked now, -1 when none */
  double pending_gain;
  struct tri_answer answers[MV_LIMIT_TRIAGE_QUESTIONS];
  uint32_t n_answers;
  /* Stored result (complete sessions of a patient). */
  bool storing, stored;
  char report_id[65];
  char condition_ids[TRI_TOPK][65];
  size_t n_conditions;
};

struct api_triage {
  pthread_mutex_t mu;
  struct mv_clf_model *model; /* NULL: red flags and urgency only */
  struct mv_clf_inquiry *inq; /* NULL: no follow-up questions */
  unsigned idle_s;
  struct tri_session **s; /* MV_LIMIT_TRIAGE_SESSIONS slots */
  size_t n;
  /* /ws/triage connections (triage_ws.c), for freeing the ones whose last
   * job could not post back to a stopped loop. */
  struct mv_api *api;
  pthread_mutex_t ws_mu;
  struct tws_conn *ws_all;
};

/* triage_session.c: all take E->mu themselves unless noted. */
void tri_session_free(struct tri_session *t);
/* Remove sessions idle longer than idle_s. Caller holds E->mu. */
void tri_sweep(struct api_triage *E, int64_t now_us);
/* Find a live session by id (caller holds E->mu); NULL when absent. */
struct tri_session *tri_find(struct api_triage *E, const char *id);
/* Create a session for text (copied) and run the first assessment and
 * question. MV_EBUSY when the table is full, MV_ERATE past the per-account
 * cap; caller holds E->mu. */
int tri_start(struct api_triage *E, const char *owner, const char *patient_id,
              const char *agent_ref, const char *text, size_t len, int lang,
              int64_t now_us, struct tri_session **out);
/* Apply an answer about concept id; MV_ENOTFOUND (unknown concept),
 * MV_EEXISTS (already known), MV_ECONFLICT (session complete). Caller holds
 * E->mu. */
int tri_answer(struct api_triage *E, struct tri_session *t, const char *concept,
               enum mv_clf_inq_answer a, struct mv_diag *diag);
/* Stop asking: the session becomes complete. Caller holds E->mu. */
void tri_finish(struct api_triage *E, struct tri_session *t);
/* The session as JSON (returned, caller puts). Caller holds E->mu. */
struct json_object *tri_view(const struct api_triage *E,
                             const struct tri_session *t);
/* Ranks of the differential: indexes of the top k labels, count returned. */
size_t tri_topk(const struct api_triage *E, const struct tri_session *t,
                size_t *idx, size_t k);

/* The assessment texts of a session (triage_session.c; strings malloc'd,
 * freed by tri_result_release). */
#define TRI_EVIDENCE 8u
struct tri_span {
  uint32_t start, len; /* bytes of the session's text */
};
struct tri_result {
  const char *urgency;    /* static: emergency, urgent, soon, self-care */
  char *advice;           /* patient-facing, in the session's language */
  char *summary;          /* for clinicians, English */
  const char *disclaimer; /* static, in the session's language */
  /* Text spans that drove the result (red-flag cues, model features). */
  struct tri_span evidence[TRI_EVIDENCE];
  size_t n_evidence;
};
int tri_result(const struct api_triage *E, const struct tri_session *t,
               struct tri_result *out);
void tri_result_release(struct tri_result *r);

/* triage.c: the session operations behind POST /triage/sessions, GET
 * .../<id>, POST .../<id>/answers and POST .../<id>/finish, for an
 * authenticated q (who and agent_ref set) and an already parsed body
 * (borrowed): each answers q itself with the session view or an
 * OperationOutcome whose expression names the bad field, exactly as over
 * HTTP. Pool thread. triage_ws.c runs them for WebSocket messages. */
void tri_op_start(struct api_req *q, struct json_object *body);
void tri_op_get(struct api_req *q, const char *id);
void tri_op_answer(struct api_req *q, const char *id, struct json_object *body);
void tri_op_finish(struct api_req *q, const char *id);

/* triage_ws.c: /ws/triage, the same operations as WebSocket messages
 * (registered by api_triage_routes; connections freed by api_triage_free). */
struct tws_conn;
int tri_ws_route(struct mv_api *api, struct api_triage *E,
                 struct mv_diag *diag);
void tri_ws_free(struct api_triage *E);

/* triage_report.c: write the DiagnosticReport and its provisional
 * Conditions for a complete session linked to a patient through the api's
 * server-side write path (validation, encryption, AuditEvents). Blocks until
 * durable. Call without E->mu while t->storing is set (the sweep keeps the
 * session and nobody changes a complete session). Writes the new ids into
 * report_id and cond_ids (*n_cond of them). */
int tri_store_report(struct mv_api *api, const struct api_triage *E,
                     const struct tri_session *t, const struct tri_result *res,
                     char report_id[65], char cond_ids[][65], size_t *n_cond,
                     struct mv_diag *diag);

#endif
