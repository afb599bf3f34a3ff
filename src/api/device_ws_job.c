/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The work of one /ws/device connection, one job at a time: a job takes the
 * queued messages (up to DEV_JOB_MSGS_MAX), and on a pool thread checks
 * each one's sequence number, decodes it (src/dev), runs signal quality and
 * streaming QRS on waveform chunks, turns every observation into a FHIR
 * Observation and submits them all as ONE store transaction carrying the
 * stream's cursor (mv_api_ingest_batch). When it is durable the store's
 * callback queues the cumulative ack and hands the job back to the loop,
 * which sends the answers in order and starts the next job. Coalescing the
 * messages that arrived meanwhile into one transaction is what lets a
 * pipelining device reach group-commit throughput while a failed batch can
 * still be retried from its first seq (go-back-N: "busy", then "sequence"
 * for the ones after it) without anything stored twice or lost.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device_int.h"
#include "mv_clin.h"
#include "mv_log.h"
#include "mv_pool.h"
#include "mv_sig_filter.h"

#include "mv_dev_fhir.h"

enum out_kind {
  OUT_TEXT,    /* send as is */
  OUT_ACK,     /* cumulative ack of seq (a duplicate, already durable) */
  OUT_WELCOME, /* send; the stream's durable seq counts as acknowledged */
  OUT_AFTER,   /* send only if the batch was stored */
};

struct dev_out {
  struct dev_out *next;
  enum out_kind kind;
  int64_t seq;
  const char *text;
  size_t len;
};

struct dev_job {
  struct dev_sess *s;
  struct mv_api *api;
  struct mv_arena *a;
  struct dev_msg *msgs;     /* taken from the queue (owned) */
  struct dev_msg *leftover; /* not processed: back to the queue's front */
  struct dev_out *out_head, *out_tail;
  /* the batch */
  struct mv_api_item items[DEV_BATCH_ITEMS_MAX];
  int64_t item_seq[DEV_BATCH_ITEMS_MAX];      /* message of each item */
  size_t item_value[DEV_BATCH_ITEMS_MAX];     /* its index in the message */
  struct mv_dev_obs pub[DEV_BATCH_ITEMS_MAX]; /* for live publishing */
  size_t n_items;
  int64_t first_seq, last_seq;
  bool stored; /* the batch is durable */
};

/* ---- answers ------------------------------------------------------------- */

static void out_add(struct dev_job *j, enum out_kind kind, int64_t seq,
                    const char *text, size_t len) {
  struct dev_out *o = mv_arena_zalloc(j->a, sizeof(*o));
  if (!o)
    return; /* the arena is full: the device times out and resends */
  o->kind = kind;
  o->seq = seq;
  o->text = text;
  o->len = len;
  if (j->out_tail)
    j->out_tail->next = o;
  else
    j->out_head = o;
  j->out_tail = o;
}

static void out_buf(struct dev_job *j, enum out_kind kind, int64_t seq,
                    struct mv_buf *b) {
  const char *t = mv_arena_strndup(j->a, mv_buf_cstr(b), b->len);
  if (t)
    out_add(j, kind, seq, t, b->len);
}

static void send_error(struct dev_job *j, int64_t seq, int err,
                       const char *path, const char *msg) {
  struct mv_buf b;
  int rc;
  mv_buf_init(&b, 2048);
  if (seq >= 1)
    rc = mv_buf_appendf(&b, "{\"type\":\"error\",\"seq\":%" PRId64, seq);
  else
    rc = mv_buf_appends(&b, "{\"type\":\"error\",\"seq\":null");
  if (rc == MV_OK)
    rc = mv_buf_appendf(&b, ",\"code\":\"%s\",\"path\":\"",
                        mv_dev_ws_error_code(err));
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(&b, path ? path : "", strlen(path ? path : ""));
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "\",\"message\":\"");
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(&b, msg ? msg : "", strlen(msg ? msg : ""));
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "\"}");
  if (rc == MV_OK)
    out_buf(j, OUT_TEXT, seq, &b);
  mv_buf_release(&b);
  dev_count(j->s->dev, mv_dev_ws_error_code(err));
}

static void send_seq_error(struct dev_job *j, int64_t seq, int64_t expected) {
  char msg[96];
  snprintf(msg, sizeof(msg), "expected seq %" PRId64, expected);
  /* MV_ECONFLICT has no word of its own: it maps to "sequence" here */
  struct mv_buf b;
  mv_buf_init(&b, 512);
  if (mv_buf_appendf(&b,
                     "{\"type\":\"error\",\"seq\":%" PRId64
                     ",\"code\":\"sequence\",\"path\":\"seq\","
                     "\"message\":\"%s\",\"expected\":%" PRId64 "}",
                     seq, msg, expected) == MV_OK)
    out_buf(j, OUT_TEXT, seq, &b);
  mv_buf_release(&b);
  dev_count(j->s->dev, "sequence");
}

static void format_time(int64_t us, char *buf, size_t cap) {
  time_t secs = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
  int ms = (int)((us - (int64_t)secs * 1000000) / 1000);
  struct tm tm;
  if (!gmtime_r(&secs, &tm)) {
    snprintf(buf, cap, "1970-01-01T00:00:00.000Z");
    return;
  }
  size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, cap - n, ".%03dZ", ms);
}

/* ---- the stream ------------------------------------------------------------ */

static int choose_stream(struct dev_job *j, const char *device) {
  struct dev_sess *s = j->s;
  char stream[DEV_STREAM_LEN + 16];
  int64_t cur = -1;
  int n = snprintf(stream, sizeof(stream), "%s/%s", s->who.sub, device);
  if (n < 0 || (size_t)n > DEV_STREAM_LEN || !mv_store_stream_ok(stream))
    return MV_EINVAL;
  /* One writer per stream: a connection that takes a stream over (a
   * device reconnecting) waits until the previous connection's batch is
   * durable, then revokes it, so the cursor read below is final and no
   * message can be stored by both. The cursor check in the store is the
   * second line of defence. */
  struct api_device *dev = s->dev;
  for (int tries = 0;; tries++) {
    bool busy = false;
    pthread_mutex_lock(&dev->mu);
    for (struct dev_sess *o = dev->all; o && !busy; o = o->next)
      busy = o != s && o->have_stream && o->in_flight &&
             strcmp(o->stream, stream) == 0;
    if (!busy)
      break; /* holding dev->mu */
    pthread_mutex_unlock(&dev->mu);
    /* The previous connection's batch is being committed (a device that
     * reconnected quickly): wait for it, a few ms usually, at most ~5 s. */
    if (tries >= 1000)
      return MV_EBUSY;
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
  }
  for (struct dev_sess *o = dev->all; o; o = o->next)
    if (o != s && o->have_stream && strcmp(o->stream, stream) == 0)
      o->revoked = true;
  memcpy(s->stream, stream, (size_t)n + 1);
  s->have_stream = true;
  s->revoked = false;
  pthread_mutex_unlock(&dev->mu);
  int rc = mv_api_cursor_get(j->api, stream, &cur);
  if (rc != MV_OK) {
    pthread_mutex_lock(&dev->mu);
    s->have_stream = false;
    pthread_mutex_unlock(&dev->mu);
    return rc;
  }
  snprintf(s->device, sizeof(s->device), "%s", device);
  s->next_seq = (cur > 0 ? cur : 0) + 1;
  return MV_OK;
}

/* Mark the session's batch in the store, unless the stream was taken
 * over. */
static bool stream_claim(struct dev_sess *s) {
  bool ok;
  pthread_mutex_lock(&s->dev->mu);
  ok = !s->revoked;
  if (ok)
    s->in_flight = true;
  pthread_mutex_unlock(&s->dev->mu);
  return ok;
}

static void stream_release(struct dev_sess *s) {
  pthread_mutex_lock(&s->dev->mu);
  s->in_flight = false;
  pthread_mutex_unlock(&s->dev->mu);
}

static void welcome(struct dev_job *j) {
  struct dev_sess *s = j->s;
  char now[40];
  struct mv_buf b;
  format_time(mv_clock_now_us(j->api->clock), now, sizeof(now));
  mv_buf_init(&b, 512);
  if (mv_buf_appendf(
          &b,
          "{\"type\":\"welcome\",\"stream\":\"%s\",\"last_seq\":%" PRId64
          ",\"server_time\":\"%s\"}",
          s->stream, s->next_seq - 1, now) == MV_OK)
    out_buf(j, OUT_WELCOME, s->next_seq - 1, &b);
  mv_buf_release(&b);
}

static void hello(struct dev_job *j, const struct mv_dev_ws_msg *m) {
  struct dev_sess *s = j->s;
  int rc;
  if (s->have_stream) {
    if (strcmp(s->device, m->device) != 0) {
      send_error(j, -1, MV_EINVAL, "device",
                 "the stream is already chosen; reconnect to change device");
      return;
    }
    welcome(j);
    return;
  }
  rc = choose_stream(j, m->device);
  if (rc == MV_EINVAL) {
    send_error(j, -1, rc, "device", "device name too long for this account");
    return;
  }
  if (rc == MV_EBUSY) {
    send_error(j, -1, rc, "",
               "a previous connection of this stream is still storing; send "
               "hello again");
    return;
  }
  if (rc != MV_OK) {
    send_error(j, -1, MV_EBUSY, "", "cannot read the stream's position");
    return;
  }
  welcome(j);
}

/* ---- waveforms --------------------------------------------------------------- */

void dev_wave_release(struct dev_wave *w) {
  mv_sig_qrs_free(w->qrs);
  w->qrs = NULL;
}

static enum mv_sig_signal signal_of(unsigned lead) {
  return lead <= 11 ? MV_SIG_ECG : lead == 100 ? MV_SIG_PLETH : MV_SIG_RESP;
}

/* Signal quality on the chunk, then (ECG) streaming QRS across the
 * stream's contiguous chunks: a derived heart-rate observation in *hr_obs
 * (returns true) and an "hr" notice for the device. A gap, an overlap, or
 * another lead or rate resets the detector. */
static bool wave(struct dev_job *j, struct mv_dev_ws_msg *m,
                 struct mv_dev_obs *hr_obs) {
  struct dev_wave *w = &j->s->wave;
  struct mv_dev_ws_frame *f = &m->frame;
  struct mv_dev_obs *o = &m->obs[0];
  struct mv_sig_quality_limits lim;
  struct mv_sig_quality q;
  struct mv_sig_chunk ch = {f->x,        f->n,   f->fs_hz, f->gain,
                            f->baseline, -32768, 32767};

  mv_sig_quality_limits_default(&lim, signal_of(f->lead));
  if (mv_sig_quality_check(&ch, &lim, &q, NULL) == MV_OK)
    o->quality |= q.flags;
  if (f->lead > 11 || f->fs_hz < MV_SIG_QRS_FS_MIN ||
      f->fs_hz > MV_SIG_QRS_FS_MAX)
    return false;
  double period_us = 1e9 / f->fs_mhz;
  bool contiguous = w->qrs && w->lead == f->lead && w->fs_mhz == f->fs_mhz &&
                    fabs((double)(f->t0_us - w->next_t0_us)) <= period_us / 2;
  if (!contiguous) {
    if (w->qrs && w->fs_mhz != f->fs_mhz)
      dev_wave_release(w);
    if (!w->qrs && mv_sig_qrs_new(f->fs_hz, &w->qrs) != MV_OK)
      return false;
    mv_sig_qrs_reset(w->qrs);
    mv_sig_hr_init(&w->hr, f->fs_hz);
    w->lead = f->lead;
    w->fs_mhz = f->fs_mhz;
    w->base = 0;
  }
  w->next_t0_us = f->t0_us + llround((double)f->n * period_us);
  int64_t base = w->base;
  w->base += (int64_t)f->n;
  size_t cap = MV_SIG_QRS_BEATS_MAX(f->n, f->fs_hz);
  int32_t *x = mv_arena_alloc(j->a, f->n * sizeof(*x));
  int64_t *beats = mv_arena_alloc(j->a, cap * sizeof(*beats));
  if (!x || !beats)
    return false;
  for (size_t i = 0; i < f->n; i++)
    x[i] = f->x[i];
  size_t nb =
      mv_sig_qrs_push(w->qrs, x, f->n, f->gain, f->baseline, beats, cap);
  double bpm = 0;
  for (size_t i = 0; i < nb; i++) {
    struct mv_sig_hr_beat hb;
    if (mv_sig_hr_add_beat(&w->hr, beats[i], &hb) != MV_OK)
      continue;
    if (hb.avg_bpm > 0)
      bpm = hb.avg_bpm;
    else if (hb.inst_bpm > 0 && !hb.ectopic)
      bpm = hb.inst_bpm;
  }
  if (nb == 0 || !(bpm > 0))
    return false;
  const struct mv_clin_code *c = mv_clin_by_loinc("8867-4");
  bpm = round(bpm * 10) / 10;
  if (!c || mv_clin_range_check(c, bpm) == MV_CLIN_IMPOSSIBLE)
    return false;
  int64_t t_us = f->t0_us + llround((double)(beats[nb - 1] - base) * period_us);
  *hr_obs = (struct mv_dev_obs){
      .patient = o->patient,
      .device = o->device,
      .loinc = "8867-4",
      .mdc = "MDC_ECG_HEART_RATE",
      .display = "Heart rate (derived from ECG)",
      .ucum = "/min",
      .t_us = t_us,
      .kind = MV_DEV_QUANTITY,
      .value = bpm,
      .quality = o->quality,
      .seq = m->seq,
  };
  if (mv_clin_range_check(c, bpm) == MV_CLIN_IMPLAUSIBLE)
    hr_obs->quality |= MV_DEV_Q_RANGE;
  /* the notice: beats as sample indexes of this chunk (negative: a beat of
   * the previous chunk reported late) */
  struct mv_buf b;
  char t[40];
  int rc;
  format_time(t_us, t, sizeof(t));
  mv_buf_init(&b, 64u * 1024u);
  rc = mv_buf_appendf(&b,
                      "{\"type\":\"hr\",\"seq\":%" PRId64
                      ",\"t\":\"%s\",\"bpm\":%.1f,\"beats\":[",
                      m->seq, t, bpm);
  for (size_t i = 0; i < nb && rc == MV_OK; i++)
    rc = mv_buf_appendf(&b, "%s%" PRId64, i ? "," : "", beats[i] - base);
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "]}");
  if (rc == MV_OK)
    out_buf(j, OUT_AFTER, m->seq, &b);
  mv_buf_release(&b);
  return true;
}

/* ---- one message -------------------------------------------------------------- */

int dev_obs_json(const struct mv_dev_obs *o, struct mv_buf *out,
                 struct mv_diag *diag) {
  int rc = mv_dev_obs_to_fhir(o, out, diag); /* runs mv_dev_obs_check */
  if (rc != MV_OK)
    mv_buf_reset(out);
  return rc;
}

/* Append the message's observations to the batch; on error nothing of it
 * stays there. */
static int add_items(struct dev_job *j, const struct mv_dev_obs *obs, size_t n,
                     int64_t seq, char *path, size_t path_cap,
                     struct mv_diag *diag) {
  size_t start = j->n_items;
  struct mv_buf b;
  int rc = MV_OK;
  mv_buf_init(&b, MV_LIMIT_STORE_RESOURCE_MAX);
  for (size_t i = 0; i < n && rc == MV_OK; i++) {
    mv_buf_reset(&b);
    rc = dev_obs_json(&obs[i], &b, diag);
    char *json =
        rc == MV_OK ? mv_arena_strndup(j->a, mv_buf_cstr(&b), b.len) : NULL;
    if (rc == MV_OK && !json)
      rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    if (rc != MV_OK) {
      snprintf(path, path_cap, "values[%zu]", i);
      break;
    }
    j->items[j->n_items] = (struct mv_api_item){json, b.len};
    j->item_seq[j->n_items] = seq;
    j->item_value[j->n_items] = i;
    j->pub[j->n_items] = obs[i];
    j->n_items++;
  }
  mv_buf_release(&b);
  if (rc != MV_OK)
    j->n_items = start;
  return rc;
}

/* A refused message is consumed (the device goes on with seq+1), unless
 * the server was at fault ("busy"): then the device resends it, and the
 * ones after it get "sequence" until it does. */
static void consume(struct dev_sess *s, int err) {
  if (strcmp(mv_dev_ws_error_code(err), "busy") != 0)
    s->next_seq++;
}

/* Returns false when the batch is full: m goes back to the queue. */
static bool process(struct dev_job *j, struct dev_msg *m) {
  struct dev_sess *s = j->s;
  struct mv_dev_ws_msg msg;
  struct mv_diag d;
  const char *pdef = s->who.role == MV_AUTH_ROLE_DEVICE && s->who.fhir_id[0]
                         ? s->who.fhir_id
                         : NULL;
  const char *device = s->device[0] ? s->device : NULL;
  int rc;

  mv_diag_clear(&d);
  rc = m->binary ? mv_dev_ws_decode_frame(m->data, m->len, pdef, device, j->a,
                                          &msg, &d)
                 : mv_dev_ws_decode_text(m->data, m->len, pdef, device, j->a,
                                         &msg, &d);
  if (msg.type == MV_DEV_WS_HELLO) {
    if (rc == MV_OK)
      hello(j, &msg);
    else
      send_error(j, -1, rc, d.path, d.msg);
    return true;
  }
  if (msg.seq < 1) {
    send_error(j, -1, rc, d.path, d.msg);
    return true;
  }
  if (!s->have_stream) {
    int src = choose_stream(j, "default");
    if (src != MV_OK) {
      send_error(j, msg.seq, MV_EBUSY, "",
                 src == MV_EBUSY ? "a previous connection of this stream is "
                                   "finishing; resend"
                                 : "cannot read the stream's position");
      return true;
    }
  }
  if (msg.seq < s->next_seq) { /* a resend of something already answered */
    out_add(j, OUT_ACK, msg.seq, NULL, 0);
    dev_count(s->dev, "duplicate");
    return true;
  }
  if (msg.seq > s->next_seq) {
    send_seq_error(j, msg.seq, s->next_seq);
    return true;
  }
  if (rc != MV_OK) {
    send_error(j, msg.seq, rc, d.path, d.msg);
    consume(s, rc);
    return true;
  }
  if (msg.n_obs + 1 > DEV_BATCH_ITEMS_MAX) {
    send_error(j, msg.seq, MV_ETOOBIG, "values",
               "more than 998 observations in one message");
    s->next_seq++;
    return true;
  }
  if (j->n_items + msg.n_obs + 1 > DEV_BATCH_ITEMS_MAX)
    return false;
  struct mv_dev_obs hr;
  size_t n = msg.n_obs;
  struct mv_dev_obs *obs = msg.obs;
  if (msg.type == MV_DEV_WS_WAVE && wave(j, &msg, &hr)) {
    obs = mv_arena_alloc(j->a, 2 * sizeof(*obs));
    if (obs) {
      obs[0] = msg.obs[0];
      obs[1] = hr;
      n = 2;
    } else {
      obs = msg.obs;
    }
  }
  char path[64];
  if ((rc = add_items(j, obs, n, msg.seq, path, sizeof(path), &d)) != MV_OK) {
    char why[sizeof(d.msg) + sizeof(d.path) + 8];
    snprintf(why, sizeof(why), "%s%s%s%s", d.msg, d.path[0] ? " (" : "", d.path,
             d.path[0] ? ")" : "");
    send_error(j, msg.seq, rc, m->binary ? "frame" : path, why);
    consume(s, rc);
    return true;
  }
  if (j->first_seq == 0)
    j->first_seq = msg.seq;
  j->last_seq = msg.seq;
  s->next_seq++;
  return true;
}

/* ---- the batch ------------------------------------------------------------------ */

static void finish(struct dev_job *j) {
  /* A full loop queue is overload: wait for it (this thread is a pool or
   * the store's writer thread; the wait is backpressure, bounded to ~5 s)
   * rather than lose the answers. When the loop is gone (shutdown),
   * api_device_free frees the job with its session. */
  for (int i = 0; i < 5000; i++) {
    int rc = mv_server_post(j->api->srv, dev_job_done_task, j);
    if (rc != MV_EBUSY)
      return;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  MV_LOG_WARN("api", "device job answer dropped: the loop queue stayed full");
}

/* Every message of the batch failed for a reason of the server's: the
 * device resends from the first one. */
static void batch_failed(struct dev_job *j, int err) {
  int64_t last = 0;
  for (size_t i = 0; i < j->n_items; i++) {
    if (j->item_seq[i] == last)
      continue;
    last = j->item_seq[i];
    send_error(j, last, err, "", "not stored; resend from this seq");
  }
  j->s->next_seq = j->first_seq;
  j->n_items = 0;
}

static void batch_done(void *ctx, int status, size_t n,
                       const struct mv_api_result *results) {
  struct dev_job *j = ctx;
  (void)n;
  (void)results;
  stream_release(j->s);
  if (status == MV_OK || status == MV_ECONFLICT) {
    /* ECONFLICT: the stream's cursor was already past this batch (another
     * connection of the same stream stored it): durable either way. */
    j->stored = status == MV_OK;
    out_add(j, OUT_ACK, j->last_seq, NULL, 0);
    if (status == MV_OK) { /* live, and only what is durable */
      api_device_publish(j->api, j->pub, j->n_items);
      atomic_fetch_add(&j->s->dev->observations, j->n_items);
    }
    int64_t last = 0;
    for (size_t i = 0; i < j->n_items; i++)
      if (j->item_seq[i] != last) {
        last = j->item_seq[i];
        dev_count(j->s->dev, status == MV_OK ? "stored" : "duplicate");
      }
  } else {
    MV_LOG_WARN("api", "device batch failed: %s", mv_err_name(status));
    batch_failed(j, MV_EBUSY);
  }
  finish(j);
}

static void submit(struct dev_job *j) {
  struct dev_sess *s = j->s;
  struct mv_api_cursor cur = {s->stream, 0};
  struct mv_diag d;
  size_t failed;
  int rc;

  while (j->n_items > 0) {
    if (!stream_claim(s)) {
      /* another connection took the stream over: the device must go on
       * there (it will resend whatever this one did not store) */
      int64_t last = 0;
      for (size_t i = 0; i < j->n_items; i++) {
        if (j->item_seq[i] == last)
          continue;
        last = j->item_seq[i];
        send_error(j, last, MV_EBUSY, "",
                   "another connection took this stream over");
      }
      j->n_items = 0;
      break;
    }
    cur.seq = j->last_seq;
    mv_diag_clear(&d);
    rc = mv_api_ingest_batch(j->api, j->items, j->n_items, &s->who,
                             s->actor[0] ? s->actor : NULL, &cur, batch_done, j,
                             &failed, &d);
    if (rc == MV_OK)
      return; /* batch_done owns j now */
    stream_release(s);
    if (failed >= j->n_items || strcmp(mv_dev_ws_error_code(rc), "busy") == 0) {
      /* not one message's fault: none of them is stored, all resent */
      batch_failed(j, MV_EBUSY);
      break;
    }
    /* One message is at fault: refuse it, keep the others. */
    int64_t bad = j->item_seq[failed];
    char path[64], why[sizeof(d.msg) + sizeof(d.path) + 8];
    snprintf(path, sizeof(path), "values[%zu]", j->item_value[failed]);
    snprintf(why, sizeof(why), "%s%s%s%s", d.msg, d.path[0] ? " (" : "", d.path,
             d.path[0] ? ")" : "");
    send_error(j, bad, rc == MV_EINVALID ? MV_EINVAL : rc, path, why);
    size_t k = 0;
    j->first_seq = 0;
    for (size_t i = 0; i < j->n_items; i++) {
      if (j->item_seq[i] == bad)
        continue;
      j->items[k] = j->items[i];
      j->item_seq[k] = j->item_seq[i];
      j->item_value[k] = j->item_value[i];
      j->pub[k] = j->pub[i];
      if (j->first_seq == 0)
        j->first_seq = j->item_seq[k];
      j->last_seq = j->item_seq[k];
      k++;
    }
    j->n_items = k;
  }
  finish(j);
}

static void job_run(void *arg) {
  struct dev_job *j = arg;
  struct dev_msg *m = j->msgs, **tail = &j->msgs;
  while (m) {
    if (!process(j, m)) {
      j->leftover = m; /* m and everything after it */
      *tail = NULL;
      break;
    }
    tail = &m->next;
    m = m->next;
  }
  if (j->n_items > 0)
    submit(j);
  else
    finish(j);
}

void dev_job_start(struct dev_sess *s) {
  struct mv_api *api = s->dev->api;
  struct dev_job *j = calloc(1, sizeof(*j));
  if (j)
    j->a = mv_arena_new(DEV_JOB_ARENA);
  if (!j || !j->a) {
    free(j);
    if (s->conn)
      mv_ws_close(s->conn, 1013, "out of memory");
    return;
  }
  j->s = s;
  j->api = api;
  size_t n = 0;
  struct dev_msg **tail = &j->msgs;
  while (s->q_head && n < DEV_JOB_MSGS_MAX) {
    struct dev_msg *m = s->q_head;
    s->q_head = m->next;
    m->next = NULL;
    *tail = m;
    tail = &m->next;
    n++;
  }
  if (!s->q_head)
    s->q_tail = NULL;
  s->q_n -= n;
  s->job_n = n;
  s->job_active = true;
  s->job = j;
  s->refs++;
  /* A full pool runs the job here: slower for everyone, but nothing is
   * refused for a reason the device cannot fix. */
  if (mv_pool_submit(api->pool, job_run, j) != MV_OK)
    job_run(j);
}

void dev_job_free(struct dev_job *j) {
  if (!j)
    return;
  for (struct dev_msg *m = j->msgs; m;) {
    struct dev_msg *next = m->next;
    free(m);
    m = next;
  }
  for (struct dev_msg *m = j->leftover; m;) {
    struct dev_msg *next = m->next;
    free(m);
    m = next;
  }
  mv_arena_free(j->a);
  free(j);
}

/* Loop thread: the answers go out in order, the next job starts. */
void dev_job_done_task(void *arg) {
  struct dev_job *j = arg;
  struct dev_sess *s = j->s;
  struct mv_ws_conn *c = s->conn;
  char ack[64];

  /* In order: welcome, errors, duplicate acks and "hr" notices as the
   * messages came, then the batch's ack (appended by batch_done). Notices
   * of a batch that was not stored are not sent. */
  for (struct dev_out *o = c ? j->out_head : NULL; o; o = o->next) {
    if (o->kind == OUT_AFTER && !j->stored)
      continue;
    if (o->kind == OUT_ACK) {
      if (o->seq > s->acked)
        s->acked = o->seq;
      int n = snprintf(ack, sizeof(ack),
                       "{\"type\":\"ack\",\"seq\":%" PRId64 "}", s->acked);
      (void)mv_ws_send(c, ack, (size_t)n);
      continue;
    }
    if (o->kind == OUT_WELCOME && o->seq > s->acked)
      s->acked = o->seq;
    (void)mv_ws_send(c, o->text, o->len);
  }
  if (j->leftover) { /* back to the front of the queue, in order */
    struct dev_msg *last = j->leftover;
    size_t n = 1;
    while (last->next) {
      last = last->next;
      n++;
    }
    last->next = s->q_head;
    if (!s->q_head)
      s->q_tail = last;
    s->q_head = j->leftover;
    s->q_n += n;
    j->leftover = NULL;
  }
  s->job_n = 0;
  s->job_active = false;
  s->job = NULL;
  dev_job_free(j);
  if (c && s->paused && s->q_n < DEV_INFLIGHT_RESUME) {
    s->paused = false;
    mv_ws_pause(c, false);
  }
  if (c && s->q_head)
    dev_job_start(s);
  dev_sess_unref(s);
}
