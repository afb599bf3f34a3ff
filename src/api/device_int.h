/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface of the device front doors of the api module: the
 * WebSocket device protocol (device_ws.c: connections, queues, acks;
 * device_ws_job.c: the per-connection work on the pool) and the NDJSON
 * backfill endpoint (device_ws_ndjson.c).
 *
 * Threads. A `struct dev_sess` is one /ws/device connection. Its loop part
 * (conn, refs, queue, acked) is touched only on the loop thread. Its stream
 * part (stream, next_seq, waveform state) belongs to the one job that runs
 * for the session at a time (job_active): on a pool thread, then in the
 * store's batch callback, then back on the loop in the job's done task,
 * which clears job_active. A session is freed on the loop once the
 * connection is closed and no job holds it; whatever a stopped server never
 * handed back is freed by api_device_free.
 */
#ifndef MV_API_DEVICE_INT_H
#define MV_API_DEVICE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "api_int.h"
#include "mv_dev.h"
#include "mv_dev_ws.h"
#include "mv_sig_qrs.h"

#define DEV_INFLIGHT_MAX 64u    /* messages queued or in a job per connection */
#define DEV_INFLIGHT_RESUME 32u /* reading resumes below this */
#define DEV_JOB_MSGS_MAX 64u    /* messages one job takes */
#define DEV_BATCH_ITEMS_MAX 999u /* Observations per transaction (+1 audit) */
#define DEV_JOB_ARENA (64u * 1024u * 1024u)
#define DEV_STREAM_LEN 64u

/* One received message, as the device sent it. */
struct dev_msg {
  struct dev_msg *next;
  bool binary;
  size_t len;
  char data[];
};

/* Waveform state of the session's stream (one lead at a time). */
struct dev_wave {
  struct mv_sig_qrs *qrs; /* NULL until an ECG chunk arrives */
  struct mv_sig_hr hr;
  unsigned lead;
  uint32_t fs_mhz;
  int64_t next_t0_us; /* where the next contiguous chunk starts */
  int64_t base;       /* detector sample index of this chunk's sample 0 */
};

struct dev_job;

struct dev_sess {
  struct api_device *dev;
  /* loop thread */
  struct mv_ws_conn *conn; /* NULL once closed */
  unsigned refs;           /* the connection + an active job */
  struct dev_msg *q_head, *q_tail;
  size_t q_n;
  size_t job_n; /* messages the active job took */
  bool job_active;
  bool paused;
  bool counted;  /* in the connections gauge */
  int64_t acked; /* highest seq acknowledged on this connection */
  /* set at open, read-only afterwards */
  struct mv_auth_principal who;
  char actor[MV_AUTH_ID_LEN + 16]; /* "Device/<sub>" or "" */
  /* the active job's (see the file comment); stream and have_stream are
   * written under dev->mu, which other sessions' jobs read them under */
  char stream[DEV_STREAM_LEN + 1];
  bool have_stream;
  /* under dev->mu: a batch of this session is in the store; another
   * connection took the stream over (this one may not write to it) */
  bool in_flight;
  bool revoked;
  char device[MV_DEV_WS_DEVICE_LEN + 1];
  int64_t next_seq; /* the seq expected next */
  struct dev_wave wave;
  struct dev_job *job; /* the active job (for api_device_free) */
  /* api_device's list of every session, under dev->mu */
  struct dev_sess *prev, *next;
};

/* Results counted for /metrics (mv_device_ws_messages_total{result}). */
enum dev_result {
  DEV_R_STORED,
  DEV_R_DUPLICATE,
  DEV_R_INVALID,
  DEV_R_FORBIDDEN,
  DEV_R_SEQUENCE,
  DEV_R_BUSY,
  DEV_R_TOO_LARGE,
  DEV_R_N
};

struct api_device {
  struct mv_api *api;
  pthread_mutex_t mu;
  struct dev_sess *all;
  /* metrics: any thread */
  atomic_uint_fast64_t results[DEV_R_N];
  atomic_uint_fast64_t observations; /* stored through /ws/device */
  atomic_uint_fast64_t ndjson_observations;
  atomic_int connections;
};

/* Count one message's result under its protocol error word ("invalid",
 * "busy", ...; "stored", "duplicate"). */
void dev_count(struct api_device *dev, const char *word);

/* device_ws_job.c */
/* Take up to DEV_JOB_MSGS_MAX queued messages and run them on the pool.
 * Loop thread; s->job_active must be false and the queue non-empty. */
void dev_job_start(struct dev_sess *s);
void dev_job_free(struct dev_job *j);
void dev_wave_release(struct dev_wave *w);

/* device_ws.c: the done task of a job (loop thread) and the session's
 * reference counting. */
void dev_job_done_task(void *arg);
void dev_sess_unref(struct dev_sess *s);

/* One mv_dev_obs as a FHIR Observation (JSON appended to out). */
int dev_obs_json(const struct mv_dev_obs *o, struct mv_buf *out,
                 struct mv_diag *diag);

/* device_ws_ndjson.c: POST /fhir/Observation/$ingest */
int api_ndjson_route(struct mv_api *api, struct mv_diag *diag);

#endif
