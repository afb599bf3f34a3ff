/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HL7 v2 over MLLP into the clinical record (docs/HL7.md). Each message is
 * handled on the worker pool: decoded (mv_hl7_decode), turned into FHIR
 * Observations (mv_dev_obs_to_fhir) and written with the other messages of
 * its sender that are ready at the same moment as one batch
 * (mv_api_ingest_batch, trusted: the listener is a device-network front
 * door). The ACK AA is built on the store's writer thread only once the
 * batch is durable, and sent from the loop; then the values are published
 * live. AE/AR answers are built wherever the problem was found.
 *
 * Duplicates: a sender that did not see our ACK (connection lost) resends
 * the same MSH-10. The last MV_LIMIT_MLLP_DEDUP (sending application and
 * facility, control id) pairs acknowledged within MV_LIMIT_MLLP_DEDUP_S are
 * remembered: a repeat is answered AA again without storing twice. A repeat
 * that arrives while the first copy is still being stored gets AE 207 (resend
 * later), so it is never stored twice either.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "mv_dev_fhir.h"
#include "mv_dev_hl7.h"
#include "mv_limits.h"
#include "mv_log.h"
#include "mv_metrics.h"
#include "mv_net_mllp.h"
#include "mv_pool.h"

#define DEDUP_BUCKETS (MV_LIMIT_MLLP_DEDUP * 2u)
#define JOB_ARENA_MIN (256u * 1024u)
#define JOB_ARENA_MAX (64u * 1024u * 1024u)
#define ACTOR_APP_MAX 48u

enum { D_FREE = 0, D_PENDING = 1, D_DONE = 2 };

struct dedup_ent {
  char *key;
  uint64_t h;
  int64_t t_us;
  int state;
  int32_t next; /* bucket chain, -1 end */
};

struct api_mllp {
  struct mv_api *api;
  struct mv_mllp_server *srv;
  atomic_uint_fast64_t ack_seq;
  pthread_mutex_t mu; /* the dedup table (pool and writer threads) */
  struct dedup_ent ent[MV_LIMIT_MLLP_DEDUP];
  int32_t bucket[DEDUP_BUCKETS];
  size_t pos; /* next slot to (re)use, FIFO */
  atomic_uint_fast64_t n_aa, n_ae, n_ar, n_dup;
  /* Messages ready to store, combined into batches (see submit_ready). */
  pthread_mutex_t qmu;
  struct mllp_job *qhead, *qtail;
  bool submitting;
};

struct mllp_job {
  struct api_mllp *ml;
  struct mv_mllp_msg *m;
  unsigned char *data;
  size_t len;
  struct mv_arena *a;
  struct mv_hl7_result r;
  char *key; /* dedup key (arena), NULL when not registered */
  struct mv_buf ack;
  bool publish; /* AA for newly stored values: publish after the reply */
  /* Ready to store: its Observations as JSON (arena) and its actor. */
  struct mv_api_item *items;
  const char *actor;
  struct mllp_job *next;
};

/* ---- dedup table ------------------------------------------------------------ */

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static int32_t dedup_find(struct api_mllp *ml, const char *key, uint64_t h) {
  for (int32_t i = ml->bucket[h % DEDUP_BUCKETS]; i >= 0; i = ml->ent[i].next)
    if (ml->ent[i].h == h && strcmp(ml->ent[i].key, key) == 0)
      return i;
  return -1;
}

static void dedup_unlink(struct api_mllp *ml, int32_t i) {
  int32_t *p = &ml->bucket[ml->ent[i].h % DEDUP_BUCKETS];
  while (*p >= 0 && *p != i)
    p = &ml->ent[*p].next;
  if (*p == i)
    *p = ml->ent[i].next;
  free(ml->ent[i].key);
  ml->ent[i] = (struct dedup_ent){.next = -1};
}

/* D_FREE: new (now registered as pending); D_PENDING / D_DONE: a repeat. */
static int dedup_claim(struct api_mllp *ml, const char *key, int64_t now_us) {
  uint64_t h = fnv1a(key);
  int st = D_FREE;
  pthread_mutex_lock(&ml->mu);
  int32_t i = dedup_find(ml, key, h);
  if (i >= 0 && ml->ent[i].state == D_DONE &&
      now_us - ml->ent[i].t_us > (int64_t)MV_LIMIT_MLLP_DEDUP_S * 1000000) {
    dedup_unlink(ml, i);
    i = -1;
  }
  if (i >= 0) {
    st = ml->ent[i].state;
  } else {
    char *k = strdup(key);
    if (k) { /* out of memory: no dedup for this one, still correct */
      int32_t s = (int32_t)ml->pos;
      ml->pos = (ml->pos + 1) % MV_LIMIT_MLLP_DEDUP;
      if (ml->ent[s].key)
        dedup_unlink(ml, s);
      ml->ent[s] = (struct dedup_ent){k, h, now_us, D_PENDING,
                                      ml->bucket[h % DEDUP_BUCKETS]};
      ml->bucket[h % DEDUP_BUCKETS] = s;
    }
  }
  pthread_mutex_unlock(&ml->mu);
  return st;
}

/* The first copy ended: remembered as acknowledged (ok) or forgotten. */
static void dedup_settle(struct api_mllp *ml, const char *key, bool ok,
                         int64_t now_us) {
  uint64_t h = fnv1a(key);
  pthread_mutex_lock(&ml->mu);
  int32_t i = dedup_find(ml, key, h);
  if (i >= 0 && ml->ent[i].state == D_PENDING) {
    if (ok) {
      ml->ent[i].state = D_DONE;
      ml->ent[i].t_us = now_us;
    } else {
      dedup_unlink(ml, i);
    }
  }
  pthread_mutex_unlock(&ml->mu);
}

/* ---- answers ------------------------------------------------------------------ */

static int64_t now_us(struct api_mllp *ml) {
  return mv_clock_now_us(ml->api->clock);
}

static void job_free(struct mllp_job *j) {
  if (!j)
    return;
  mv_buf_release(&j->ack);
  mv_arena_free(j->a);
  free(j->data);
  free(j);
}

static void build_ack(struct mllp_job *j, enum mv_hl7_ack ack,
                      const struct mv_hl7_error *err) {
  struct api_mllp *ml = j->ml;
  char id[32];
  snprintf(id, sizeof(id), "MV%llu",
           (unsigned long long)atomic_fetch_add(&ml->ack_seq, 1) + 1);
  atomic_fetch_add(ack == MV_HL7_AA   ? &ml->n_aa
                   : ack == MV_HL7_AE ? &ml->n_ae
                                      : &ml->n_ar,
                   1);
  mv_buf_reset(&j->ack);
  if (mv_hl7_ack_write(&j->r.hdr, ack, err, id, now_us(ml), &j->ack) != MV_OK)
    mv_buf_reset(&j->ack); /* the peer times out; logged by the caller */
}

static void reply_task(void *arg) {
  struct mllp_job *j = arg;
  if (j->ack.len)
    mv_mllp_reply(j->m, j->ack.data, j->ack.len);
  else
    mv_mllp_msg_drop(j->m);
  if (j->publish)
    api_device_publish(j->ml->api, j->r.obs, j->r.n_obs);
  job_free(j);
}

/* Hand the answer to the loop (from a pool or the writer thread). */
static void post_reply(struct mllp_job *j) {
  for (int tries = 0;; tries++) {
    int rc = mv_server_post(j->ml->api->srv, reply_task, j);
    if (rc == MV_OK)
      return;
    if (rc != MV_EBUSY || tries >= 2000) {
      /* The loop has finished (shutdown) or stays jammed: no answer; the
       * peer resends and the dedup table answers it. */
      mv_mllp_msg_drop(j->m);
      job_free(j);
      return;
    }
    struct timespec ts = {0, 500000}; /* the loop drains its queue */
    nanosleep(&ts, NULL);
  }
}

static void answer_error(struct mllp_job *j, enum mv_hl7_ack ack,
                         const struct mv_hl7_error *err) {
  if (j->key)
    dedup_settle(j->ml, j->key, false, 0);
  build_ack(j, ack, err);
  post_reply(j);
}

/* ---- the work -------------------------------------------------------------- */

static const char *actor_of(struct mllp_job *j) {
  char app[ACTOR_APP_MAX + 1];
  size_t k = 0;
  for (const char *s = j->r.hdr.sending_app; *s && k < ACTOR_APP_MAX; s++) {
    char c = *s;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.';
    app[k++] = ok ? c : '-';
  }
  app[k] = 0;
  return mv_arena_printf(j->a, "Device/mllp-%s", k ? app : "unknown");
}

/* A refusal by ingestion names the item and a FHIRPath: map it back to
 * the PID (unknown patient) or the OBX it came from. */
static void ingest_refused(struct mllp_job *j, int rc, size_t failed,
                           const struct mv_diag *d) {
  struct mv_hl7_error e;
  if (failed >= j->r.n_obs) {
    MV_LOG_WARN("mllp", "a message was refused by ingestion: %s",
                mv_err_name(rc));
    mv_hl7_error_set(&e, MV_HL7_E_INTERNAL, NULL, 0, 0, 0,
                     rc == MV_EBUSY || rc == MV_ECLOSED
                         ? "server busy; resend later"
                         : "the observations could not be stored");
  } else if (strstr(d->path, "subject")) {
    mv_hl7_error_set(&e, MV_HL7_E_UNKNOWN_KEY, "PID", j->r.obs_pid[failed], 3,
                     1, "PID-3 does not name a known patient");
  } else {
    mv_hl7_error_set(&e, MV_HL7_E_DATATYPE, "OBX", j->r.obs_obx[failed], 5, 1,
                     "the observation was refused (%s)",
                     d->path[0] ? d->path : mv_err_name(rc));
  }
  answer_error(j, MV_HL7_AE, &e);
}

/* ---- combining messages into batches ------------------------------------- *
 *
 * Under load many messages are ready at once; storing each alone costs one
 * transaction and one AuditEvent per message. The thread that finds no
 * submitter running becomes the submitter: it takes the oldest message and
 * every other waiting message of the same sender (one actor per AuditEvent,
 * the sender's order kept), at most GROUP_ITEMS_MAX Observations, and hands
 * them to mv_api_ingest_batch as one batch, until the queue is empty. Others
 * only enqueue and return. Idle, a message is submitted at once: nothing
 * waits for a batch to fill.
 */
#define GROUP_ITEMS_MAX 256u

struct mllp_group {
  struct mllp_job *head; /* the chain via next */
};

static void group_done(void *ctx, int status, size_t n,
                       const struct mv_api_result *results) {
  struct mllp_group *g = ctx;
  (void)n, (void)results;
  if (status != MV_OK)
    MV_LOG_WARN("mllp", "a batch of messages could not be stored: %s",
                mv_err_name(status));
  for (struct mllp_job *j = g->head, *next; j; j = next) {
    next = j->next; /* j is gone once posted */
    if (status != MV_OK) {
      struct mv_hl7_error e;
      mv_hl7_error_set(&e, MV_HL7_E_INTERNAL, NULL, 0, 0, 0,
                       "the observations could not be stored; resend later");
      answer_error(j, MV_HL7_AE, &e);
      continue;
    }
    dedup_settle(j->ml, j->key, true, now_us(j->ml));
    j->publish = true;
    build_ack(j, MV_HL7_AA, NULL);
    post_reply(j);
  }
  free(g);
}

/* Take the queue head and every later job of the same actor (in order), up
 * to GROUP_ITEMS_MAX Observations (qmu held). The queue holds at most one
 * job per connection, so the scan is bounded. */
static struct mllp_job *take_run(struct api_mllp *ml) {
  struct mllp_job *head = ml->qhead, *tail = NULL, **pp = &ml->qhead;
  size_t items = 0;
  if (!head)
    return NULL;
  while (*pp) {
    struct mllp_job *j = *pp;
    if (strcmp(j->actor, head->actor) == 0 &&
        (items == 0 || items + j->r.n_obs <= GROUP_ITEMS_MAX)) {
      *pp = j->next; /* unlink into the run */
      j->next = NULL;
      if (tail)
        tail->next = j;
      tail = j;
      items += j->r.n_obs;
    } else {
      pp = &j->next;
    }
  }
  ml->qtail = NULL;
  for (struct mllp_job *j = ml->qhead; j; j = j->next)
    ml->qtail = j;
  return head;
}

/* Store a chain of jobs as one batch. A job the batch refuses is answered
 * AE and taken out, and the rest tried again. */
static void submit_run(struct api_mllp *ml, struct mllp_job *head) {
  while (head) {
    size_t total = 0;
    for (struct mllp_job *j = head; j; j = j->next)
      total += j->r.n_obs;
    struct mv_api_item *items = malloc(total * sizeof(*items));
    struct mllp_group *g = malloc(sizeof(*g));
    size_t k = 0, failed = SIZE_MAX;
    struct mv_diag d;
    int rc = MV_ENOMEM;
    mv_diag_clear(&d);
    if (items && g) {
      for (struct mllp_job *j = head; j; j = j->next)
        for (size_t i = 0; i < j->r.n_obs; i++)
          items[k++] = j->items[i];
      g->head = head;
      rc = mv_api_ingest_batch(ml->api, items, total, NULL, head->actor, NULL,
                               group_done, g, &failed, &d);
    }
    free(items);
    if (rc == MV_OK) {
      MV_LOG_DEBUG("mllp", "submitted %zu observations in one batch", total);
      return; /* the chain belongs to group_done */
    }
    free(g);
    struct mllp_job **pp = &head;
    while (failed < total && *pp && failed >= (*pp)->r.n_obs) {
      failed -= (*pp)->r.n_obs;
      pp = &(*pp)->next;
    }
    if (failed >= total || !*pp) { /* not one message's fault: all fail */
      for (struct mllp_job *j = head, *next; j; j = next) {
        next = j->next;
        ingest_refused(j, rc, SIZE_MAX, &d);
      }
      return;
    }
    struct mllp_job *bad = *pp;
    *pp = bad->next;
    ingest_refused(bad, rc, failed, &d);
  }
}

static void submit_ready(struct api_mllp *ml, struct mllp_job *j) {
  j->next = NULL;
  pthread_mutex_lock(&ml->qmu);
  if (ml->qtail)
    ml->qtail->next = j;
  else
    ml->qhead = j;
  ml->qtail = j;
  if (ml->submitting) {
    pthread_mutex_unlock(&ml->qmu);
    return;
  }
  ml->submitting = true;
  struct mllp_job *run;
  while ((run = take_run(ml)) != NULL) {
    pthread_mutex_unlock(&ml->qmu);
    submit_run(ml, run);
    pthread_mutex_lock(&ml->qmu);
  }
  ml->submitting = false;
  pthread_mutex_unlock(&ml->qmu);
}

static void job_run(void *arg) {
  struct mllp_job *j = arg;
  struct api_mllp *ml = j->ml;
  struct mv_diag d;
  struct mv_hl7_error e;
  size_t arena = j->len * 8 + JOB_ARENA_MIN;
  mv_diag_clear(&d);
  j->a = mv_arena_new(arena < JOB_ARENA_MAX ? arena : JOB_ARENA_MAX);
  if (!j->a) {
    mv_hl7_error_set(&e, MV_HL7_E_INTERNAL, NULL, 0, 0, 0, "out of memory");
    answer_error(j, MV_HL7_AE, &e);
    return;
  }
  int rc = mv_hl7_decode((const char *)j->data, j->len, j->a, &j->r, &d);
  if (rc != MV_OK) {
    MV_LOG_DEBUG("mllp", "refused a message: %s at %s", mv_err_name(rc),
                 d.path);
    answer_error(j, j->r.ack, &j->r.err);
    return;
  }
  const struct mv_hl7_header *h = &j->r.hdr;
  char *key = mv_arena_printf(j->a, "%s\x1f%s\x1f%s", h->sending_app,
                              h->sending_fac, h->control_id);
  if (!key) {
    mv_hl7_error_set(&e, MV_HL7_E_INTERNAL, NULL, 0, 0, 0, "out of memory");
    answer_error(j, MV_HL7_AE, &e);
    return;
  }
  int st = dedup_claim(ml, key, now_us(ml));
  if (st == D_DONE) {
    atomic_fetch_add(&ml->n_dup, 1);
    build_ack(j, MV_HL7_AA, NULL);
    post_reply(j);
    return;
  }
  if (st == D_PENDING) {
    mv_hl7_error_set(&e, MV_HL7_E_INTERNAL, "MSH", 1, 10, 0,
                     "a message with this control id is still being "
                     "processed; resend later");
    answer_error(j, MV_HL7_AE, &e); /* key not ours: not settled */
    return;
  }
  j->key = key;
  if (j->r.n_obs == 0) { /* nothing to store: accepted as it is */
    dedup_settle(ml, key, true, now_us(ml));
    build_ack(j, MV_HL7_AA, NULL);
    post_reply(j);
    return;
  }
  struct mv_api_item *items = mv_arena_alloc(j->a, j->r.n_obs * sizeof(*items));
  struct mv_buf b;
  mv_buf_init(&b, MV_LIMIT_STORE_RESOURCE_MAX);
  for (size_t i = 0; items && i < j->r.n_obs; i++) {
    mv_buf_reset(&b);
    if ((rc = mv_dev_obs_to_fhir(&j->r.obs[i], &b, &d)) != MV_OK) {
      mv_buf_release(&b);
      mv_hl7_error_set(&e, MV_HL7_E_DATATYPE, "OBX", j->r.obs_obx[i], 5, 1,
                       "the observation cannot be represented (%s)",
                       mv_err_name(rc));
      answer_error(j, MV_HL7_AE, &e);
      return;
    }
    char *copy = mv_arena_strndup(j->a, b.data, b.len);
    if (!copy) {
      items = NULL;
      break;
    }
    items[i] = (struct mv_api_item){copy, b.len};
  }
  mv_buf_release(&b);
  if (!items) {
    mv_hl7_error_set(&e, MV_HL7_E_INTERNAL, NULL, 0, 0, 0, "out of memory");
    answer_error(j, MV_HL7_AE, &e);
    return;
  }
  j->items = items;
  if (!(j->actor = actor_of(j))) {
    mv_hl7_error_set(&e, MV_HL7_E_INTERNAL, NULL, 0, 0, 0, "out of memory");
    answer_error(j, MV_HL7_AE, &e);
    return;
  }
  submit_ready(ml, j);
}

/* Loop thread: a framed message arrived. */
static void on_message(void *ctx, struct mv_mllp_msg *m,
                       const unsigned char *data, size_t len) {
  struct api_mllp *ml = ctx;
  struct mllp_job *j = calloc(1, sizeof(*j));
  if (j) {
    j->data = malloc(len ? len : 1);
    if (j->data && len)
      memcpy(j->data, data, len);
  }
  if (!j || !j->data) {
    free(j);
    mv_mllp_msg_drop(m);
    return;
  }
  j->ml = ml;
  j->m = m;
  j->len = len;
  mv_buf_init(&j->ack, 64u * 1024u);
  if (mv_pool_submit(ml->api->pool, job_run, j) == MV_OK)
    return;
  /* A full pool: answer AE 207 from here (decoding the header is cheap). */
  struct mv_hl7_error e;
  j->a = mv_arena_new(j->len * 8 + JOB_ARENA_MIN);
  if (j->a)
    API_IGNORE(mv_hl7_decode((const char *)j->data, j->len, j->a, &j->r, NULL));
  mv_hl7_error_set(&e, MV_HL7_E_INTERNAL, NULL, 0, 0, 0,
                   "server busy; resend later");
  build_ack(j, MV_HL7_AE, &e);
  reply_task(j);
}

static void on_shutdown(void *ctx) {
  struct api_mllp *ml = ctx;
  mv_mllp_server_close(ml->srv);
}

static int mllp_metrics(void *ctx, struct mv_buf *b) {
  struct api_mllp *ml = ctx;
  struct mv_mllp_stats st;
  mv_mllp_server_stats(ml->srv, &st);
  int rc = mv_metrics_write_header(b, "mv_mllp_acks_total", "counter",
                                   "HL7 acknowledgements sent by MSA-1 code");
  if (rc == MV_OK)
    rc = mv_buf_appendf(b,
                        "mv_mllp_acks_total{code=\"AA\"} %llu\n"
                        "mv_mllp_acks_total{code=\"AE\"} %llu\n"
                        "mv_mllp_acks_total{code=\"AR\"} %llu\n",
                        (unsigned long long)atomic_load(&ml->n_aa),
                        (unsigned long long)atomic_load(&ml->n_ae),
                        (unsigned long long)atomic_load(&ml->n_ar));
  if (rc == MV_OK)
    rc = mv_metrics_write_scalar(
        b, "mv_mllp_duplicates_total", "counter",
        "repeated control ids acknowledged without storing",
        (uint64_t)atomic_load(&ml->n_dup));
  if (rc == MV_OK)
    rc = mv_metrics_write_scalar(b, "mv_mllp_connections", "gauge",
                                 "open MLLP connections", st.open);
  if (rc == MV_OK)
    rc = mv_metrics_write_scalar(b, "mv_mllp_oversize_total", "counter",
                                 "connections closed for an oversize message",
                                 st.oversize);
  return rc;
}

int mv_api_mllp_listen(struct mv_api *api, const char *host, int port,
                       unsigned idle_s, struct mv_diag *diag) {
  struct api_mllp *ml = NULL;
  int rc;
  if (!api || !host || api->mllp)
    return mv_diag_set(diag, MV_EINVAL, "mllp: bad arguments or already on");
  if (!(ml = calloc(1, sizeof(*ml))))
    return MV_ENOMEM;
  ml->api = api;
  pthread_mutex_init(&ml->mu, NULL);
  pthread_mutex_init(&ml->qmu, NULL);
  for (size_t i = 0; i < DEDUP_BUCKETS; i++)
    ml->bucket[i] = -1;
  for (size_t i = 0; i < MV_LIMIT_MLLP_DEDUP; i++)
    ml->ent[i].next = -1;
  struct mv_mllp_opts o = {.loop = mv_server_loop(api->srv),
                           .host = host,
                           .port = port,
                           .idle_s = idle_s,
                           .on_message = on_message,
                           .ctx = ml};
  if ((rc = mv_mllp_server_new(&o, &ml->srv, diag)) != MV_OK) {
    pthread_mutex_destroy(&ml->mu);
    pthread_mutex_destroy(&ml->qmu);
    free(ml);
    return rc;
  }
  api->mllp = ml; /* from here api_mllp_free owns it */
  if ((rc = mv_server_on_shutdown(api->srv, on_shutdown, ml)) != MV_OK) {
    mv_mllp_server_close(ml->srv);
    return mv_diag_set(diag, rc, "mllp: cannot register the shutdown hook");
  }
  if (mv_server_add_metrics(api->srv, mllp_metrics, ml) != MV_OK)
    MV_LOG_WARN("mllp", "no /metrics for the MLLP listener");
  MV_LOG_INFO("mllp", "listening on port %d", mv_mllp_server_port(ml->srv));
  return MV_OK;
}

int mv_api_mllp_port(const struct mv_api *api) {
  return api && api->mllp ? mv_mllp_server_port(api->mllp->srv) : 0;
}

void api_mllp_free(struct mv_api *api) {
  if (!api || !api->mllp)
    return;
  struct api_mllp *ml = api->mllp;
  mv_mllp_server_free(ml->srv);
  for (size_t i = 0; i < MV_LIMIT_MLLP_DEDUP; i++)
    free(ml->ent[i].key);
  pthread_mutex_destroy(&ml->mu);
  pthread_mutex_destroy(&ml->qmu);
  free(ml);
  api->mllp = NULL;
}
