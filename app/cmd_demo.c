/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse demo`: the server plus demo accounts and a small population of
 * simulated patients streaming vital signs (what `make run` starts).
 *
 * Each tick, every simulated patient's vitals (mv_sig_vitals_sim) become
 * FHIR Observations (vital-signs profile: LOINC codes, UCUM units) written
 * through the store's group commit; only when all of a patient's writes of
 * the tick are durable is the update published on the hub topics
 * "vitals" and "patient/<id>/vitals" — the same acknowledge-after-durable
 * rule real devices get. All names are synthetic.
 *
 * Alongside, a thread runs the patient simulator's WebSocket client
 * (app/sim_ws.c) against the server's own /ws/device, logged in as the demo
 * clinician: every demo patient streams one second of lead-II ECG (ECGSYN,
 * following the patient's scenario) per second through the real device
 * protocol, so the dashboard's patients also get waveforms and derived
 * heart rates from the same code path real monitors use.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_demo_epi.h"
#include "mv_clock.h"
#include "mv_log.h"
#include "mv_net.h"
#include "mv_pool.h"
#include "mv_rand.h"
#include "mv_sig.h"
#include "mv_api.h"
#include "mv_store.h"
#include "sim.h"

#define DEMO_MAX_PATIENTS 1000
#define OBS_PER_TICK 5

static const char demo_summary[] =
    "Run the server with demo accounts and simulated patients streaming heart\n"
    "rate, SpO2, blood pressure, respiratory rate and temperature. Same flags\n"
    "as 'medverse serve', plus the demo-* keys.";

/* Demo accounts: fixed, documented, for a local demo only. */
static const struct {
  const char *user, *role, *password, *fhir_id;
} demo_users[] = {
    {"clinician", "clinician", "demo-clinician", "demo-clinician"},
    {"patient", "patient", "demo-patient", "demo-p1"},
    {"admin", "admin", "demo-admin", ""},
    {"epi", "public-health", "demo-epi", ""},
};

static const char *const given_names[] = {"Alex",   "Mei", "Sam",   "Lin",
                                          "Jordan", "Wei", "Robin", "Yan"};
static const char *const family_names[] = {"Rivera", "Chen", "Okafor", "Wang",
                                           "Novak",  "Li",   "Haddad", "Zhou"};

struct demo_patient {
  char id[32];
  char name[64];
  enum mv_sig_vitals_profile profile;
  struct mv_sig_vitals_sim sim;
};

struct demo {
  struct mv_server *srv;
  struct mv_store *store;
  struct mv_api *api;
  uv_timer_t timer;
  bool timer_started;
  unsigned n;
  struct demo_patient *patients;
  double interval_s;
  uint64_t skipped; /* ticks dropped because the store queue was full */
  /* ECG over the device protocol (simulator thread) */
  struct sim sim;
  char url[96];
  pthread_t ecg_thread;
  bool ecg_started;
  volatile sig_atomic_t ecg_stop;
};

/* One patient's tick: published once all its writes are durable. */
struct tick {
  struct demo *demo;
  atomic_int pending;
  atomic_int failed;
  char topic[64];
  char msg[512];
};

static const char *profile_name(enum mv_sig_vitals_profile p) {
  switch (p) {
  case MV_SIG_PROFILE_DETERIORATING:
    return "deteriorating";
  case MV_SIG_PROFILE_HYPOXIC:
    return "hypoxic";
  default:
    return "stable";
  }
}

/* One account to create: Argon2id hashing is deliberately slow (~0.1 s and
 * 64 MiB each), so the accounts are hashed in parallel on the worker pool. */
struct user_job {
  struct mv_store_user u;
  const char *password;
  int rc;
};

static void hash_job(void *arg) {
  struct user_job *j = arg;
  j->rc = crypto_pwhash_str(j->u.pw_hash, j->password, strlen(j->password),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0
              ? MV_OK
              : MV_ENOMEM;
}

static int ensure_users(struct mv_store *store, struct mv_pool *pool) {
  struct user_job jobs[MV_ARRAY_LEN(demo_users)];
  bool queued[MV_ARRAY_LEN(demo_users)] = {false};
  int rc = MV_OK;
  for (size_t i = 0; i < MV_ARRAY_LEN(demo_users); i++) {
    struct user_job *j = &jobs[i];
    memset(j, 0, sizeof(*j));
    rc = mv_store_user_get(store, demo_users[i].user, &j->u);
    if (rc == MV_OK)
      continue;
    if (rc != MV_ENOTFOUND)
      goto out;
    memset(&j->u, 0, sizeof(j->u));
    snprintf(j->u.username, sizeof(j->u.username), "%s", demo_users[i].user);
    snprintf(j->u.role, sizeof(j->u.role), "%s", demo_users[i].role);
    snprintf(j->u.fhir_id, sizeof(j->u.fhir_id), "%s", demo_users[i].fhir_id);
    j->password = demo_users[i].password;
    if ((rc = mv_pool_submit(pool, hash_job, j)) != MV_OK)
      goto out;
    queued[i] = true;
  }
  rc = MV_OK;
out:
  mv_pool_drain(pool); /* jobs point into this frame: wait even on error */
  for (size_t i = 0; rc == MV_OK && i < MV_ARRAY_LEN(demo_users); i++) {
    if (!queued[i])
      continue;
    if ((rc = jobs[i].rc) == MV_OK)
      rc = mv_store_user_put(store, &jobs[i].u);
  }
  return rc;
}

static int ingest(struct mv_api *api, const char *body, int n) {
  struct mv_diag d;
  char msg[256];
  mv_diag_clear(&d);
  if (n <= 0)
    return MV_ETOOBIG;
  int rc = mv_api_ingest_sync(api, body, (size_t)n, NULL, NULL, &d);
  if (rc != MV_OK)
    fprintf(stderr, "medverse demo: %s\n",
            mv_diag_format(&d, msg, sizeof(msg)));
  return rc;
}

/* The demo clinician's Practitioner resource. */
static int put_clinician(struct mv_api *api) {
  static const char body[] =
      "{\"resourceType\":\"Practitioner\",\"id\":\"demo-clinician\","
      "\"active\":true,\"identifier\":[{\"system\":\"urn:medverse:username\","
      "\"value\":\"clinician\"}],\"name\":[{\"family\":\"Demo\","
      "\"given\":[\"Clinician\"]}]}";
  return ingest(api, body, (int)sizeof(body) - 1);
}

/* A synthetic Patient and the CareTeam that puts the demo clinician on it. */
static int put_patient(struct mv_api *api, const struct demo_patient *p,
                       unsigned i) {
  char body[768];
  int n = snprintf(
      body, sizeof(body),
      "{\"resourceType\":\"Patient\",\"id\":\"%s\",\"active\":true,"
      "\"name\":[{\"use\":\"official\",\"family\":\"%s\",\"given\":[\"%s\"]}],"
      "\"gender\":\"%s\",\"birthDate\":\"%d-0%d-1%d\","
      "\"meta\":{\"tag\":[{\"system\":\"urn:medverse:tag\",\"code\":"
      "\"synthetic\"}]}}",
      p->id, family_names[i % MV_ARRAY_LEN(family_names)],
      given_names[i % MV_ARRAY_LEN(given_names)], i % 2 ? "female" : "male",
      1940 + (int)(i * 7 % 60), 1 + (int)(i % 9), (int)(i % 10));
  int rc = ingest(api, body, n < (int)sizeof(body) ? n : -1);
  if (rc != MV_OK)
    return rc;
  n = snprintf(body, sizeof(body),
               "{\"resourceType\":\"CareTeam\",\"id\":\"demo-ct-%s\","
               "\"status\":\"active\",\"subject\":{\"reference\":"
               "\"Patient/%s\"},\"participant\":[{\"member\":{\"reference\":"
               "\"Practitioner/demo-clinician\"}}]}",
               p->id, p->id);
  return ingest(api, body, n < (int)sizeof(body) ? n : -1);
}

static void publish_tick(void *arg) {
  struct tick *t = arg;
  if (atomic_load(&t->failed) == 0) {
    size_t len = strlen(t->msg);
    (void)mv_hub_publish(t->demo->srv, t->topic, t->msg, len);
    (void)mv_hub_publish(t->demo->srv, "vitals", t->msg, len);
  }
  free(t);
}

/* Store writer thread: the last durable write of a tick hands it to the loop. */
static void obs_done(void *ctx, int status, const struct mv_api_result *res) {
  (void)res;
  struct tick *t = ctx;
  if (status != MV_OK) {
    atomic_fetch_add(&t->failed, 1);
    MV_LOG_WARN("demo", "observation write failed: %s", mv_err_name(status));
  }
  if (atomic_fetch_sub(&t->pending, 1) == 1) {
    if (mv_server_post(t->demo->srv, publish_tick, t) != MV_OK)
      free(t); /* server already stopped: nothing to publish to */
  }
}

/* The FHIR vital-signs Observation for one reading. SpO2 carries both
 * LOINC codes the R4 oxygen-saturation profile names (59408-5 for pulse
 * oximetry, 2708-6 for the profile's required code). */
static int obs_json(char *out, size_t cap, const char *pid, const char *when,
                    const char *loinc, const char *display,
                    const char *value_json) {
  bool spo2 = strcmp(loinc, "59408-5") == 0;
  int n = snprintf(
      out, cap,
      "{\"resourceType\":\"Observation\",\"status\":\"final\","
      "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
      "CodeSystem/observation-category\",\"code\":\"vital-signs\","
      "\"display\":\"Vital Signs\"}]}],"
      "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"%s\","
      "\"display\":\"%s\"}%s],\"text\":\"%s\"},"
      "\"subject\":{\"reference\":\"Patient/%s\"},"
      "\"effectiveDateTime\":\"%s\",%s}",
      loinc, display,
      spo2 ? ",{\"system\":\"http://loinc.org\",\"code\":\"2708-6\","
             "\"display\":\"Oxygen saturation in Arterial blood\"}"
           : "",
      display, pid, when, value_json);
  return n > 0 && (size_t)n < cap ? n : -1;
}

static int quantity(char *out, size_t cap, double v, int decimals,
                    const char *ucum) {
  int n = snprintf(out, cap,
                   "\"valueQuantity\":{\"value\":%.*f,\"unit\":\"%s\","
                   "\"system\":\"http://unitsofmeasure.org\",\"code\":\"%s\"}",
                   decimals, v, ucum, ucum);
  return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int bp_components(char *out, size_t cap, double sbp, double dbp) {
  static const char fmt[] =
      "\"component\":["
      "{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
      "\"8480-6\",\"display\":\"Systolic blood pressure\"}]},"
      "\"valueQuantity\":{\"value\":%.0f,\"unit\":\"mm[Hg]\",\"system\":"
      "\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}},"
      "{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":"
      "\"8462-4\",\"display\":\"Diastolic blood pressure\"}]},"
      "\"valueQuantity\":{\"value\":%.0f,\"unit\":\"mm[Hg]\",\"system\":"
      "\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}}]";
  int n = snprintf(out, cap, fmt, sbp, dbp);
  return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Queue one patient's five Observations; returns how many were queued. */
static int submit_patient(struct demo *dm, struct demo_patient *p,
                          const struct mv_sig_vitals *v, const char *when,
                          int64_t now_us, struct tick *t) {
  struct {
    const char *loinc, *display;
    char value[1024];
  } obs[OBS_PER_TICK] = {{"8867-4", "Heart rate", ""},
                         {"59408-5",
                          "Oxygen saturation in Arterial blood by "
                          "Pulse oximetry",
                          ""},
                         {"85354-9", "Blood pressure panel", ""},
                         {"9279-1", "Respiratory rate", ""},
                         {"8310-5", "Body temperature", ""}};
  if (quantity(obs[0].value, sizeof(obs[0].value), v->hr_bpm, 0, "/min") ||
      quantity(obs[1].value, sizeof(obs[1].value), v->spo2_pct, 0, "%") ||
      bp_components(obs[2].value, sizeof(obs[2].value), v->sbp_mmhg,
                    v->dbp_mmhg) ||
      quantity(obs[3].value, sizeof(obs[3].value), v->rr_bpm, 0, "/min") ||
      quantity(obs[4].value, sizeof(obs[4].value), v->temp_c, 1, "Cel"))
    return 0;
  int queued = 0;
  (void)now_us;
  for (int i = 0; i < OBS_PER_TICK; i++) {
    char body[2048];
    int n = obs_json(body, sizeof(body), p->id, when, obs[i].loinc,
                     obs[i].display, obs[i].value);
    if (n < 0)
      break;
    /* Validated, indexed, encrypted and audited like an API create. The
     * reads this does (does the Patient exist) take microseconds, so the
     * demo's timer can call it on the loop thread. */
    if (mv_api_ingest(dm->api, body, (size_t)n, NULL, obs_done, t, NULL) !=
        MV_OK)
      break;
    queued++;
  }
  return queued;
}

static void on_tick(uv_timer_t *timer) {
  struct demo *dm = timer->data;
  int64_t now_us = mv_clock_now_us(mv_clock_system());
  char when[40];
  mv_time_format_rfc3339(now_us, when, sizeof(when));
  for (unsigned i = 0; i < dm->n; i++) {
    struct demo_patient *p = &dm->patients[i];
    struct mv_sig_vitals v;
    mv_sig_vitals_sim_step(&p->sim, dm->interval_s, &v);
    struct tick *t = calloc(1, sizeof(*t));
    if (!t)
      return;
    t->demo = dm;
    /* Hold one extra count so no callback can finish the tick while we are
     * still submitting its writes. */
    atomic_init(&t->pending, OBS_PER_TICK + 1);
    atomic_init(&t->failed, 0);
    snprintf(t->topic, sizeof(t->topic), "patient/%s/vitals", p->id);
    snprintf(t->msg, sizeof(t->msg),
             "{\"patient\":\"%s\",\"name\":\"%s\",\"profile\":\"%s\","
             "\"time\":\"%s\",\"hr\":%.0f,\"spo2\":%.0f,\"sbp\":%.0f,"
             "\"dbp\":%.0f,\"rr\":%.0f,\"temp\":%.1f}",
             p->id, p->name, profile_name(p->profile), when, v.hr_bpm,
             v.spo2_pct, v.sbp_mmhg, v.dbp_mmhg, v.rr_bpm, v.temp_c);
    int queued = submit_patient(dm, p, &v, when, now_us, t);
    if (queued < OBS_PER_TICK) {
      dm->skipped++;
      atomic_fetch_add(&t->failed, 1);
      /* Writes that were never queued will never call back. */
      atomic_fetch_sub(&t->pending, OBS_PER_TICK - queued);
    }
    obs_done(t, MV_OK, NULL); /* release the extra count */
  }
}

static void timer_closed(uv_handle_t *h) {
  (void)h;
}

static void on_shutdown(void *ctx) {
  struct demo *dm = ctx;
  dm->ecg_stop = 2; /* the simulator thread ends at its next tick */
  if (dm->timer_started) {
    uv_timer_stop(&dm->timer);
    uv_close((uv_handle_t *)&dm->timer, timer_closed);
    dm->timer_started = false;
  }
}

static void patients_handler(void *ctx, struct mv_http_exchange *x) {
  struct demo *dm = ctx;
  struct mv_buf b;
  mv_buf_init(&b, 1u << 20);
  int rc = mv_buf_appends(&b, "[");
  for (unsigned i = 0; rc == MV_OK && i < dm->n; i++)
    rc = mv_buf_appendf(&b,
                        "%s{\"id\":\"%s\",\"name\":\"%s\",\"profile\":\"%s\"}",
                        i ? "," : "", dm->patients[i].id, dm->patients[i].name,
                        profile_name(dm->patients[i].profile));
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "]");
  if (rc == MV_OK)
    mv_http_respond(x, 200, "application/json", mv_buf_cstr(&b), b.len);
  else
    mv_http_respond_error(x, rc, NULL);
  mv_buf_release(&b);
}

static enum mv_sig_scenario scenario_of(enum mv_sig_vitals_profile p) {
  return p == MV_SIG_PROFILE_DETERIORATING ? MV_SIG_SCEN_SEPSIS
         : p == MV_SIG_PROFILE_HYPOXIC     ? MV_SIG_SCEN_HYPOXIA
                                           : MV_SIG_SCEN_NORMAL;
}

static void *ecg_main(void *arg) {
  struct demo *dm = arg;
  struct sim *s = &dm->sim;
  if (sim_login(s, "clinician", "demo-clinician", NULL, NULL) == MV_OK) {
    s->wall0_s = sim_now_s();
    if (sim_run_ws(s) != MV_OK)
      MV_LOG_WARN("demo", "ECG simulator stopped");
  } else {
    MV_LOG_WARN("demo", "ECG simulator could not log in");
  }
  sim_http_cleanup();
  return NULL;
}

/* Start the simulator's WebSocket client for the demo patients' ECG. Plain
 * HTTP on an IPv4 address only (the client does not trust a demo's
 * self-signed certificate). Failure only loses the waveforms. */
static void start_ecg(struct demo *dm, const struct mv_config *cfg) {
  if (cfg->tls_cert[0] || strchr(cfg->listen_host, ':') || dm->n == 0)
    return;
  const char *host =
      strcmp(cfg->listen_host, "0.0.0.0") == 0 ? "127.0.0.1" : cfg->listen_host;
  snprintf(dm->url, sizeof(dm->url), "http://%s:%d", host,
           mv_server_port(dm->srv));
  struct sim *s = &dm->sim;
  s->n = dm->n;
  s->scen = MV_SIG_SCEN_NORMAL;
  s->via = "ws";
  s->server = dm->url;
  s->seed = 1000;
  s->speed = 1;
  s->ecg_hz = 250;
  s->batch = 1;
  s->window = 16;
  s->quiet = true;
  s->no_vitals = true;
  s->stop = &dm->ecg_stop;
  s->p = calloc(dm->n, sizeof(*s->p));
  if (!s->p)
    return;
  for (unsigned i = 0; i < dm->n; i++) {
    snprintf(s->p[i].id, sizeof(s->p[i].id), "%s", dm->patients[i].id);
    if (mv_sig_scen_new(scenario_of(dm->patients[i].profile), 1000 + i, 250,
                        &s->p[i].sc) != MV_OK)
      return;
  }
  s->t0_us = mv_clock_now_us(mv_clock_system());
  /* Signals stay with the server's loop thread. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  dm->ecg_started = pthread_create(&dm->ecg_thread, NULL, ecg_main, dm) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void stop_ecg(struct demo *dm) {
  dm->ecg_stop = 2;
  if (dm->ecg_started)
    pthread_join(dm->ecg_thread, NULL);
  dm->ecg_started = false;
  for (unsigned i = 0; dm->sim.p && i < dm->sim.n; i++)
    mv_sig_scen_free(dm->sim.p[i].sc);
  free(dm->sim.p);
  dm->sim.p = NULL;
}

static int demo_ready(void *ctx, const struct cli_env *env) {
  struct demo *dm = ctx;
  struct mv_server *srv = env->srv;
  struct mv_store *store = env->store;
  const struct mv_config *cfg = env->cfg;
  int rc;
  dm->srv = srv;
  dm->store = store;
  dm->api = env->api;
  dm->n = cfg->demo_patients;
  dm->interval_s = cfg->demo_interval_ms / 1000.0;
  if ((rc = ensure_users(store, env->pool)) != MV_OK) {
    fprintf(stderr, "medverse demo: cannot create demo accounts: %s\n",
            mv_strerror(rc));
    return rc;
  }
  if ((rc = put_clinician(env->api)) != MV_OK)
    return rc;
  if ((rc = demo_epi_seed(env)) != MV_OK)
    return rc;
  dm->patients = calloc(dm->n ? dm->n : 1, sizeof(*dm->patients));
  if (!dm->patients)
    return MV_ENOMEM;
  for (unsigned i = 0; i < dm->n; i++) {
    struct demo_patient *p = &dm->patients[i];
    snprintf(p->id, sizeof(p->id), "demo-p%u", i + 1);
    snprintf(p->name, sizeof(p->name), "%s %s",
             given_names[i % MV_ARRAY_LEN(given_names)],
             family_names[i % MV_ARRAY_LEN(family_names)]);
    /* Every fourth patient deteriorates, every fifth is hypoxic. */
    p->profile = i % 4 == 1   ? MV_SIG_PROFILE_DETERIORATING
                 : i % 5 == 3 ? MV_SIG_PROFILE_HYPOXIC
                              : MV_SIG_PROFILE_STABLE;
    mv_sig_vitals_sim_init(&p->sim, 1000 + i, p->profile);
    if ((rc = put_patient(env->api, p, i)) != MV_OK) {
      fprintf(stderr, "medverse demo: cannot store demo patients: %s\n",
              mv_strerror(rc));
      return rc;
    }
  }
  if ((rc = mv_server_route(srv, "GET", "/api/demo/patients", patients_handler,
                            dm)) != MV_OK ||
      (rc = mv_server_on_shutdown(srv, on_shutdown, dm)) != MV_OK)
    return rc;
  uv_timer_init(mv_server_loop(srv), &dm->timer);
  dm->timer.data = dm;
  dm->timer_started = true;
  uv_timer_start(&dm->timer, on_tick, 0, cfg->demo_interval_ms);
  start_ecg(dm, cfg);

  printf("medverse demo: %u simulated patients streaming vital signs.\n"
         "NOT a certified medical device: demo data only, all names are "
         "synthetic.\n"
         "Demo accounts (local demo only):\n",
         dm->n);
  for (size_t i = 0; i < MV_ARRAY_LEN(demo_users); i++)
    printf("  %-10s user %-10s password %s\n", demo_users[i].role,
           demo_users[i].user, demo_users[i].password);
  printf("Data directory: %s\n", cfg->data_dir);
  printf("Open %s://%s:%d/ in a browser. Press Ctrl-C to stop.\n",
         cli_scheme(cfg),
         strchr(cfg->listen_host, ':') ? "[::1]" : cfg->listen_host,
         mv_server_port(srv));
  return MV_OK;
}

int cmd_demo(int argc, char **argv) {
  struct mv_config cfg;
  bool help;
  int rc =
      cli_load_config("demo", argc, argv, &cfg, NULL, 0, demo_summary, &help);
  if (rc || help)
    return rc;
  cli_apply_logging(&cfg);
  if (sodium_init() < 0) {
    fprintf(stderr, "medverse demo: libsodium failed to initialise\n");
    return 1;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "medverse demo: libcurl failed to initialise\n");
    return 1;
  }
  struct demo dm;
  memset(&dm, 0, sizeof(dm));
  rc = cli_run_server(&cfg, demo_ready, &dm);
  stop_ecg(&dm);
  curl_global_cleanup();
  free(dm.patients);
  return rc;
}
