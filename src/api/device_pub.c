/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live publishing of durable device data on the /ws pub/sub hub, for the
 * dashboard (web/app.js) and other subscribers. Called by the device front
 * doors once a batch is durable, usually on the store's writer thread: the
 * messages are built here (the caller's observations are only borrowed for
 * the call) and handed to the loop thread in ONE posted task, which
 * publishes them with mv_hub_publish. Never blocks: when the loop's queue is
 * full the messages are dropped, counted and logged (every 1000th).
 *
 * Messages (docs/API.md, "Live device data"):
 *  - per patient per call, to "patient/<id>/vitals" and "vitals", the shape
 *    the demo publishes: {"patient","time","hr","spo2","sbp","dbp","rr",
 *    "temp"} with only the keys of values present, plus "source":"device"
 *    and "quality":[flag names] when any value was flagged;
 *  - per waveform series, to "patient/<id>/ecg" (ECG leads) or
 *    "patient/<id>/waveform" (others): {"patient","t0","fs","lead","unit",
 *    "mv":[...]}, t0 in ms since the epoch, decimated by block averaging to
 *    at most PUB_SAMPLES_MAX samples ("fs" is then the decimated rate).
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "mv_dev.h"
#include "mv_log.h"

#define PUB_SAMPLES_MAX 512u
/* Bytes of all messages of one call; the rest is dropped (and counted). */
#define PUB_BYTES_MAX (256u * 1024u)
#define PUB_TOPIC_MAX (MV_LIMIT_ID_LEN + 24u)
#define PUB_PATIENTS_MAX 64u /* distinct patients per call */

static atomic_uint_fast64_t pub_dropped;

/* Messages of one call: [topic NUL json NUL]... in buf. */
struct pub_task {
  struct mv_server *srv;
  size_t n_msgs;
  size_t len;
  char buf[];
};

static void pub_run(void *arg) {
  struct pub_task *t = arg;
  const char *p = t->buf, *end = t->buf + t->len;
  for (size_t i = 0; i < t->n_msgs && p < end; i++) {
    const char *topic = p;
    const char *json = topic + strlen(topic) + 1;
    size_t jlen = strlen(json);
    (void)mv_hub_publish(t->srv, topic, json, jlen);
    p = json + jlen + 1;
  }
  free(t);
}

static bool id_ok(const char *s) {
  size_t n = s ? strnlen(s, MV_LIMIT_ID_LEN + 1) : 0;
  return n > 0 && n <= MV_LIMIT_ID_LEN &&
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789-.") == n;
}

/* Append s as a JSON string (escaped), at most 64 bytes of it. */
static int put_jstr(struct mv_buf *b, const char *s) {
  int rc = mv_buf_appends(b, "\"");
  for (size_t i = 0; rc == MV_OK && s[i] && i < 64; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      rc = mv_buf_appendf(b, "\\%c", c);
    else if (c < 0x20)
      rc = mv_buf_appendf(b, "\\u%04x", c);
    else
      rc = mv_buf_append(b, &s[i], 1);
  }
  return rc == MV_OK ? mv_buf_appends(b, "\"") : rc;
}

/* The dashboard key of a LOINC code (value, or systolic of a BP panel). */
static const char *vital_key(const char *loinc) {
  static const char *const map[][2] = {
      {"8867-4", "hr"},   {"59408-5", "spo2"}, {"2708-6", "spo2"},
      {"8480-6", "sbp"},  {"8462-4", "dbp"},   {"9279-1", "rr"},
      {"8310-5", "temp"}, {"85354-9", "bp"},
  };
  for (size_t i = 0; loinc && i < MV_ARRAY_LEN(map); i++)
    if (strcmp(map[i][0], loinc) == 0)
      return map[i][1];
  return NULL;
}

enum { V_HR, V_SPO2, V_SBP, V_DBP, V_RR, V_TEMP, V_N };
static const char *const vnames[V_N] = {"hr",  "spo2", "sbp",
                                        "dbp", "rr",   "temp"};

static int vital_index(const char *key) {
  for (int i = 0; i < V_N; i++)
    if (strcmp(vnames[i], key) == 0)
      return i;
  return -1;
}

static int put_quality(struct mv_buf *b, uint32_t q) {
  static const char *const names[] = {"flat",  "clipped",  "range",
                                      "noisy", "lead-off", "device"};
  int rc = mv_buf_appends(b, ",\"quality\":[");
  bool first = true;
  for (size_t i = 0; rc == MV_OK && i < MV_ARRAY_LEN(names); i++)
    if (q & (1u << i)) {
      rc = mv_buf_appendf(b, "%s\"%s\"", first ? "" : ",", names[i]);
      first = false;
    }
  return rc == MV_OK ? mv_buf_appends(b, "]") : rc;
}

/* The vitals message of patient pid from obs (the latest value per key). */
static int vitals_msg(struct mv_buf *b, const char *pid,
                      const struct mv_dev_obs *obs, size_t n, bool *out_any) {
  double v[V_N];
  int64_t vt[V_N], t_max = INT64_MIN;
  uint32_t q = 0;
  bool have[V_N] = {false};
  char when[40];
  *out_any = false;
  for (size_t i = 0; i < n; i++) {
    const struct mv_dev_obs *o = &obs[i];
    if (o->kind == MV_DEV_SERIES || !o->patient || strcmp(o->patient, pid))
      continue;
    const char *key = vital_key(o->loinc);
    if (!key)
      continue;
    int k[2] = {-1, -1};
    double x[2] = {o->value, o->value2};
    if (strcmp(key, "bp") == 0 && o->kind == MV_DEV_PANEL_BP) {
      k[0] = V_SBP;
      k[1] = V_DBP;
    } else if (strcmp(key, "bp") != 0) {
      k[0] = vital_index(key);
    }
    for (int j = 0; j < 2; j++) {
      if (k[j] < 0 || !isfinite(x[j]))
        continue;
      if (have[k[j]] && vt[k[j]] > o->t_us)
        continue; /* keep the latest */
      have[k[j]] = true;
      v[k[j]] = x[j];
      vt[k[j]] = o->t_us;
      *out_any = true;
    }
    q |= o->quality;
    if (o->t_us > t_max)
      t_max = o->t_us;
  }
  if (!*out_any)
    return MV_OK;
  mv_time_format_rfc3339(t_max, when, sizeof(when));
  int rc = mv_buf_appendf(b, "{\"patient\":\"%s\",\"time\":\"%s\"", pid, when);
  for (int k = 0; rc == MV_OK && k < V_N; k++)
    if (have[k])
      rc = mv_buf_appendf(b, k == V_TEMP ? ",\"%s\":%.1f" : ",\"%s\":%.0f",
                          vnames[k], v[k]);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, ",\"source\":\"device\"");
  if (rc == MV_OK && q)
    rc = put_quality(b, q);
  return rc == MV_OK ? mv_buf_appends(b, "}") : rc;
}

static bool is_ecg(const struct mv_dev_obs *o) {
  if (o->mdc && (strncmp(o->mdc, "MDC_ECG", 7) == 0 ||
                 strncmp(o->mdc, "131", 3) == 0)) /* MDC_ECG_* numeric */
    return true;
  return o->loinc &&
         (strcmp(o->loinc, "131328") == 0 || strncmp(o->loinc, "LP", 2) == 0 ||
          strcmp(o->loinc, "11524-6") == 0);
}

/* A waveform chunk, samples in mV when the unit is a voltage. */
static int series_msg(struct mv_buf *b, const struct mv_dev_obs *o) {
  double scale = 1.0;
  const char *unit = o->ucum ? o->ucum : "";
  if (strcmp(unit, "uV") == 0)
    scale = 1e-3;
  else if (strcmp(unit, "V") == 0)
    scale = 1e3;
  bool volts = scale != 1.0 || strcmp(unit, "mV") == 0;
  size_t step = (o->n + PUB_SAMPLES_MAX - 1) / PUB_SAMPLES_MAX;
  if (step == 0)
    step = 1;
  double fs = o->period_ms > 0 ? 1000.0 / o->period_ms / (double)step : 0;
  const char *lead = o->display ? o->display
                     : o->mdc   ? o->mdc
                     : o->loinc ? o->loinc
                                : "";
  int rc = mv_buf_appendf(b,
                          "{\"patient\":\"%s\",\"t0\":%.3f,\"fs\":%.6g,"
                          "\"lead\":",
                          o->patient, (double)o->t_us / 1000.0, fs);
  if (rc == MV_OK)
    rc = put_jstr(b, lead);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, ",\"unit\":");
  if (rc == MV_OK)
    rc = put_jstr(b, volts ? "mV" : unit);
  if (rc == MV_OK && o->quality)
    rc = put_quality(b, o->quality);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, ",\"mv\":[");
  for (size_t i = 0; rc == MV_OK && i < o->n; i += step) {
    size_t m = o->n - i < step ? o->n - i : step;
    double s = 0;
    for (size_t k = 0; k < m; k++)
      s += o->data[i + k];
    double x = (o->origin + o->factor * (s / (double)m)) * scale;
    if (!isfinite(x))
      x = 0;
    rc = mv_buf_appendf(b, "%s%.4g", i ? "," : "", x);
  }
  return rc == MV_OK ? mv_buf_appends(b, "]}") : rc;
}

/* Append topic NUL json NUL to out. */
static int add_msg(struct mv_buf *out, size_t *n_msgs, const char *topic,
                   const struct mv_buf *json) {
  int rc = mv_buf_append(out, topic, strlen(topic) + 1);
  if (rc == MV_OK)
    rc = mv_buf_append(out, json->data, json->len);
  if (rc == MV_OK)
    rc = mv_buf_append(out, "", 1);
  if (rc == MV_OK)
    (*n_msgs)++;
  return rc;
}

void api_device_publish(struct mv_api *api, const struct mv_dev_obs *obs,
                        size_t n) {
  struct mv_buf out, m;
  const char *pids[PUB_PATIENTS_MAX];
  size_t n_pids = 0, n_msgs = 0, dropped = 0;
  char topic[PUB_TOPIC_MAX];
  int rc = MV_OK;
  if (!api || !api->srv || !obs || n == 0)
    return;
  mv_buf_init(&out, PUB_BYTES_MAX);
  mv_buf_init(&m, PUB_BYTES_MAX);
  for (size_t i = 0; i < n; i++) {
    const struct mv_dev_obs *o = &obs[i];
    if (!id_ok(o->patient)) {
      dropped++;
      continue;
    }
    if (o->kind == MV_DEV_SERIES) {
      if (!o->data || o->n == 0)
        continue;
      mv_buf_reset(&m);
      snprintf(topic, sizeof(topic), "patient/%s/%s", o->patient,
               is_ecg(o) ? "ecg" : "waveform");
      if ((rc = series_msg(&m, o)) == MV_OK)
        rc = add_msg(&out, &n_msgs, topic, &m);
      if (rc != MV_OK)
        dropped++;
      continue;
    }
    bool seen = false;
    for (size_t k = 0; k < n_pids && !seen; k++)
      seen = strcmp(pids[k], o->patient) == 0;
    if (seen)
      continue;
    if (n_pids == PUB_PATIENTS_MAX) {
      dropped++;
      continue;
    }
    pids[n_pids++] = o->patient;
    bool any = false;
    mv_buf_reset(&m);
    if ((rc = vitals_msg(&m, o->patient, obs, n, &any)) != MV_OK || !any) {
      dropped += rc != MV_OK;
      continue;
    }
    snprintf(topic, sizeof(topic), "patient/%s/vitals", o->patient);
    if ((rc = add_msg(&out, &n_msgs, topic, &m)) == MV_OK)
      rc = add_msg(&out, &n_msgs, "vitals", &m);
    if (rc != MV_OK)
      dropped++;
  }
  mv_buf_release(&m);
  if (n_msgs > 0) {
    struct pub_task *t = malloc(sizeof(*t) + out.len);
    if (t) {
      t->srv = api->srv;
      t->n_msgs = n_msgs;
      t->len = out.len;
      memcpy(t->buf, out.data, out.len);
      if (mv_server_post(api->srv, pub_run, t) != MV_OK) {
        free(t); /* loop queue full or server stopped: never wait */
        dropped += n_msgs;
      }
    } else {
      dropped += n_msgs;
    }
  }
  mv_buf_release(&out);
  if (dropped) {
    uint64_t before = (uint64_t)atomic_fetch_add(&pub_dropped, dropped);
    if (before / 1000 != (before + dropped) / 1000 || before == 0)
      MV_LOG_WARN("api", "live device messages dropped so far: %llu",
                  (unsigned long long)(before + dropped));
  }
}
