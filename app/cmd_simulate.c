/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse simulate`: N simulated patients (src/sig scenarios: vital-sign
 * trajectories and an ECGSYN ECG) streamed to a running server over the
 * WebSocket device protocol, HL7 v2 over MLLP or FHIR batch Bundles. It
 * logs in (clinician/admin password or device client credentials), creates
 * or reuses one Patient per simulated patient (identifier
 * urn:medverse:simulator|<seed>-<i>), streams, and prints a JSON summary of
 * what was sent and acknowledged. With a large --speed it is the load
 * generator of bench/ingest.sh. The data are deterministic for a seed; the
 * timestamps start now (speed 1) or far enough in the past that the run
 * ends about now.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mv_clock.h"
#include "mv_err.h"
#include "mv_json.h"
#include "sim.h"

#include <json-c/json.h>

static volatile sig_atomic_t g_stop;

static void on_sigint(int sig) {
  (void)sig;
  g_stop = 1;
}

double sim_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t sim_due_ticks(const struct sim *s) {
  if (s->speed <= 0)
    return INT64_MAX;
  return (int64_t)((sim_now_s() - s->wall0_s) * s->speed) + 1;
}

bool sim_done(const struct sim *s) {
  if (*s->stop)
    return true;
  return s->duration_s > 0 && sim_now_s() - s->wall0_s >= s->duration_s;
}

void sim_lat_add(struct sim *s, double ms) {
  if (s->st.lat_ms && s->st.n_lat < SIM_LAT_CAP)
    s->st.lat_ms[s->st.n_lat++] = ms;
}

void sim_vitals(struct sim *s, unsigned i, struct mv_sig_scen_vitals *out) {
  mv_sig_scen_step(s->p[i].sc, 1.0, out);
}

static const char *qual_word(uint32_t q) {
  if (q & MV_SIG_SIM_Q_LEAD_OFF)
    return "lead-off";
  if (q & MV_SIG_SIM_Q_NOISY)
    return "noisy";
  if (q & MV_SIG_SIM_Q_FLAT)
    return "flat";
  if (q & MV_SIG_SIM_Q_CLIPPED)
    return "clipped";
  return "questionable";
}

int sim_values_json(struct mv_buf *b, const struct mv_sig_scen_vitals *v,
                    int64_t t_us, bool first, unsigned *out_n) {
  const struct mv_sig_vitals *x = &v->v;
#define Q(q)                                                                   \
  ((q) ? ",\"quality\":[\"" : ""), ((q) ? qual_word(q) : ""), ((q) ? "\"]" : "")
  int rc = mv_buf_appendf(
      b,
      "%s{\"code\":\"8867-4\",\"t_us\":%lld,\"value\":%.0f,\"unit\":\"/"
      "min\"%s%s%s},"
      "{\"code\":\"59408-5\",\"t_us\":%lld,\"value\":%.0f,\"unit\":\"%%\"%s%s%"
      "s},"
      "{\"code\":\"85354-9\",\"t_us\":%lld,\"sys\":%.0f,\"dia\":%.0f,"
      "\"unit\":\"mm[Hg]\"},"
      "{\"code\":\"9279-1\",\"t_us\":%lld,\"value\":%.0f,\"unit\":\"/min\"},"
      "{\"code\":\"8310-5\",\"t_us\":%lld,\"value\":%.1f,\"unit\":\"Cel\"}",
      first ? "" : ",", (long long)t_us, x->hr_bpm, Q(v->q_hr), (long long)t_us,
      x->spo2_pct, Q(v->q_spo2), (long long)t_us, x->sbp_mmhg, x->dbp_mmhg,
      (long long)t_us, x->rr_bpm, (long long)t_us, x->temp_c);
#undef Q
  if (out_n)
    *out_n = 5;
  return rc;
}

/* ---- HTTP client (libcurl) ---- */

static CURL *g_curl;

static size_t on_body(char *p, size_t sz, size_t nm, void *ud) {
  struct mv_buf *b = ud;
  if (mv_buf_append(b, p, sz * nm) != MV_OK)
    return 0;
  return sz * nm;
}

int sim_http(const char *method, const char *url, const char *token,
             const char *ctype, const char *body, size_t len, long *out_status,
             struct mv_buf *resp) {
  if (!g_curl && !(g_curl = curl_easy_init()))
    return MV_ENOMEM;
  CURL *c = g_curl;
  struct curl_slist *h = NULL;
  char auth[2200], ct[128];
  curl_easy_reset(c);
  mv_buf_reset(resp);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  if (token && token[0]) {
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
  }
  if (body) {
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    h = curl_slist_append(h, ct);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  }
  h = curl_slist_append(h, "Accept: application/fhir+json, application/json");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  CURLcode cr = curl_easy_perform(c);
  curl_slist_free_all(h);
  if (cr != CURLE_OK)
    return MV_EIO;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, out_status);
  return MV_OK;
}

void sim_http_cleanup(void) {
  if (g_curl)
    curl_easy_cleanup(g_curl);
  g_curl = NULL;
}

/* ---- login and patients ---- */

static int form_escape(struct mv_buf *b, const char *s) {
  char *e = curl_easy_escape(NULL, s, 0);
  if (!e)
    return MV_ENOMEM;
  int rc = mv_buf_appends(b, e);
  curl_free(e);
  return rc;
}

int sim_login(struct sim *s, const char *user, const char *pw, const char *cid,
              const char *csecret) {
  struct mv_buf form, resp;
  mv_buf_init(&form, 8192);
  mv_buf_init(&resp, 65536);
  struct json_object *o = NULL;
  char url[1024];
  long status = 0;
  int rc;
  if (cid) {
    rc = mv_buf_appends(&form, "grant_type=client_credentials&client_id=");
    if (rc == MV_OK && (rc = form_escape(&form, cid)) == MV_OK &&
        (rc = mv_buf_appends(&form, "&client_secret=")) == MV_OK)
      rc = form_escape(&form, csecret);
  } else {
    rc = mv_buf_appends(&form, "grant_type=password&username=");
    if (rc == MV_OK && (rc = form_escape(&form, user)) == MV_OK &&
        (rc = mv_buf_appends(&form, "&password=")) == MV_OK)
      rc = form_escape(&form, pw);
  }
  if (rc != MV_OK)
    goto out;
  snprintf(url, sizeof(url), "%s/auth/token", s->server);
  rc = sim_http("POST", url, "", "application/x-www-form-urlencoded",
                mv_buf_cstr(&form), form.len, &status, &resp);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse simulate: cannot reach %s\n", s->server);
    goto out;
  }
  struct json_object *t = NULL;
  if (status != 200 ||
      mv_json_parse(mv_buf_cstr(&resp), resp.len, &o, NULL) != MV_OK ||
      !json_object_object_get_ex(o, "access_token", &t) ||
      !json_object_is_type(t, json_type_string) ||
      json_object_get_string_len(t) >= (int)sizeof(s->token)) {
    fprintf(stderr, "medverse simulate: login refused (HTTP %ld)\n", status);
    rc = MV_EAUTH;
    goto out;
  }
  snprintf(s->token, sizeof(s->token), "%s", json_object_get_string(t));
out:
  json_object_put(o);
  mv_buf_release(&form);
  mv_buf_release(&resp);
  return rc;
}

/* Find the simulator's Patient i of this seed, or create it. */
static int ensure_patient(struct sim *s, unsigned i) {
  struct mv_buf resp, body;
  mv_buf_init(&resp, 4u << 20);
  mv_buf_init(&body, 8192);
  struct json_object *o = NULL;
  char url[1200];
  long status = 0;
  int rc;
  snprintf(url, sizeof(url),
           "%s/fhir/Patient?identifier=urn:medverse:simulator%%7C%llu-%u"
           "&_count=1",
           s->server, (unsigned long long)s->seed, i);
  if ((rc = sim_http("GET", url, s->token, NULL, NULL, 0, &status, &resp)))
    goto out;
  struct json_object *entry = NULL, *e0, *res, *id;
  if (status == 200 &&
      mv_json_parse(mv_buf_cstr(&resp), resp.len, &o, NULL) == MV_OK &&
      json_object_object_get_ex(o, "entry", &entry) &&
      json_object_is_type(entry, json_type_array) &&
      json_object_array_length(entry) > 0 &&
      (e0 = json_object_array_get_idx(entry, 0)) &&
      json_object_object_get_ex(e0, "resource", &res) &&
      json_object_object_get_ex(res, "id", &id)) {
    snprintf(s->p[i].id, sizeof(s->p[i].id), "%s", json_object_get_string(id));
    goto out;
  }
  json_object_put(o);
  o = NULL;
  rc = mv_buf_appendf(
      &body,
      "{\"resourceType\":\"Patient\",\"active\":true,"
      "\"identifier\":[{\"system\":\"urn:medverse:simulator\",\"value\":"
      "\"%llu-%u\"}],\"name\":[{\"family\":\"Simulated\",\"given\":[\"%s\","
      "\"%u\"]}],\"meta\":{\"tag\":[{\"system\":\"urn:medverse:tag\","
      "\"code\":\"synthetic\"}]}}",
      (unsigned long long)s->seed, i, mv_sig_scenario_name(s->scen), i + 1);
  if (rc != MV_OK)
    goto out;
  snprintf(url, sizeof(url), "%s/fhir/Patient", s->server);
  if ((rc = sim_http("POST", url, s->token, "application/fhir+json",
                     mv_buf_cstr(&body), body.len, &status, &resp)))
    goto out;
  if (status != 201 ||
      mv_json_parse(mv_buf_cstr(&resp), resp.len, &o, NULL) != MV_OK ||
      !json_object_object_get_ex(o, "id", &id)) {
    fprintf(stderr, "medverse simulate: cannot create Patient (HTTP %ld)\n",
            status);
    rc = status == 403 ? MV_EPERM : MV_EIO;
    goto out;
  }
  snprintf(s->p[i].id, sizeof(s->p[i].id), "%s", json_object_get_string(id));
out:
  json_object_put(o);
  mv_buf_release(&resp);
  mv_buf_release(&body);
  return rc;
}

/* ---- summary ---- */

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double q) {
  if (n == 0)
    return 0;
  size_t i = (size_t)ceil(q * (double)n) - 1;
  return v[i < n ? i : n - 1];
}

static void summary(struct sim *s, double secs) {
  struct sim_stats *st = &s->st;
  qsort(st->lat_ms, st->n_lat, sizeof(double), cmp_d);
  printf("{\"via\":\"%s\",\"scenario\":\"%s\",\"patients\":%u,\"seed\":%llu,"
         "\"seconds\":%.3f,\"messages_sent\":%llu,\"messages_acked\":%llu,"
         "\"values_sent\":%llu,\"values_acked\":%llu,\"samples_sent\":%llu,"
         "\"samples_acked\":%llu,\"errors\":%llu,\"reconnects\":%llu,"
         "\"hr_notices\":%llu,\"values_per_s\":%.1f,\"messages_per_s\":%.1f,"
         "\"samples_per_s\":%.1f,\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,"
         "\"max\":%.3f,\"n\":%zu}",
         s->via, mv_sig_scenario_name(s->scen), s->n,
         (unsigned long long)s->seed, secs, (unsigned long long)st->msgs_sent,
         (unsigned long long)st->msgs_acked,
         (unsigned long long)st->values_sent,
         (unsigned long long)st->values_acked,
         (unsigned long long)st->samples_sent,
         (unsigned long long)st->samples_acked, (unsigned long long)st->errors,
         (unsigned long long)st->reconnects, (unsigned long long)st->hr_notices,
         secs > 0 ? (double)st->values_acked / secs : 0,
         secs > 0 ? (double)st->msgs_acked / secs : 0,
         secs > 0 ? (double)st->samples_acked / secs : 0,
         pct(st->lat_ms, st->n_lat, 0.5), pct(st->lat_ms, st->n_lat, 0.99),
         st->n_lat ? st->lat_ms[st->n_lat - 1] : 0, st->n_lat);
  /* ws: the vital signs' shape and how many Observations they made. */
  if (!strcmp(s->via, "ws"))
    printf(",\"vitals_shape\":\"%s\",\"vitals_series\":%u,"
           "\"observations_acked\":%llu,\"observations_per_s\":%.1f",
           s->series ? "series" : "single", s->series,
           (unsigned long long)st->obs_acked,
           secs > 0 ? (double)st->obs_acked / secs : 0);
  printf("}\n");
  fflush(stdout);
}

/* ---- options ---- */

static const char usage[] =
    "usage: medverse simulate --patients N --scenario S --via ws|mllp|http\n"
    "                         --server URL [options]\n"
    "Stream simulated patients to a running server and print a JSON summary.\n"
    "  --patients N          simulated patients (1..10000)\n"
    "  --scenario S          normal|sepsis|afib|hypoxia|bradycardia|artifact\n"
    "  --via T               ws (device protocol), mllp (HL7 ORU^R01), http\n"
    "                        (FHIR batch Bundles)\n"
    "  --server URL          the server, e.g. http://127.0.0.1:8080\n"
    "  --seed S              data seed (default 1)\n"
    "  --speed X             simulated seconds per second (default 1; 0 = as\n"
    "                        fast as acknowledgements allow)\n"
    "  --duration SECONDS    stop after this long (default: at Ctrl-C)\n"
    "  --user NAME           clinician or admin login (default clinician)\n"
    "  --password-file F     its password (or env MEDVERSE_PASSWORD)\n"
    "  --client-id ID --client-secret S   log in as a device instead\n"
    "  --ecg-hz HZ           ECG rate over ws (default 250; 0 or --no-ecg: "
    "none)\n"
    "  --mllp HOST:PORT      the MLLP listener (for --via mllp)\n"
    "  --batch K             seconds of vitals per message (default 1)\n"
    "  --vitals-series N     ws: each vitals message carries, per code, the\n"
    "                        last N s of 1 Hz readings as one series\n"
    "                        (period_ms 1000; 1..3600; default: single "
    "values)\n"
    "  --window W            unacknowledged messages per stream (default 64)\n"
    "  --quiet               no progress on stderr\n";

static int read_password(const char *file, char *out, size_t cap) {
  if (!file) {
    const char *e = getenv("MEDVERSE_PASSWORD");
    if (!e || strlen(e) >= cap)
      return MV_EINVAL;
    snprintf(out, cap, "%s", e);
    return MV_OK;
  }
  FILE *f = fopen(file, "r");
  if (!f)
    return MV_EIO;
  if (!fgets(out, (int)cap, f)) {
    fclose(f);
    return MV_EIO;
  }
  fclose(f);
  out[strcspn(out, "\r\n")] = 0;
  return MV_OK;
}

static bool parse_num(const char *s, double lo, double hi, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (!*s || *end || !(v >= lo && v <= hi))
    return false;
  *out = v;
  return true;
}

int cmd_simulate(int argc, char **argv) {
  static const struct option opts[] = {
      {"patients", 1, 0, 'n'},      {"scenario", 1, 0, 's'},
      {"via", 1, 0, 'v'},           {"server", 1, 0, 'S'},
      {"seed", 1, 0, 'e'},          {"speed", 1, 0, 'x'},
      {"duration", 1, 0, 'd'},      {"user", 1, 0, 'u'},
      {"password-file", 1, 0, 'p'}, {"client-id", 1, 0, 'c'},
      {"client-secret", 1, 0, 'C'}, {"ecg-hz", 1, 0, 'E'},
      {"mllp", 1, 0, 'm'},          {"no-ecg", 0, 0, 'N'},
      {"quiet", 0, 0, 'q'},         {"batch", 1, 0, 'b'},
      {"window", 1, 0, 'w'},        {"vitals-series", 1, 0, 'V'},
      {"help", 0, 0, 'h'},          {0, 0, 0, 0}};
  struct sim s;
  memset(&s, 0, sizeof(s));
  s.n = 1;
  s.seed = 1;
  s.speed = 1;
  s.ecg_hz = 250;
  s.batch = 1;
  s.window = 64;
  s.stop = &g_stop;
  const char *user = "clinician", *pwfile = NULL, *cid = NULL, *csecret = NULL,
             *scen = NULL;
  double v;
  int c, rc = MV_OK, exit_code = 1;
  /* main passes the arguments after "simulate"; getopt wants a program
   * name first. */
  char *av[128];
  if (argc < 0 || argc > 126)
    goto bad;
  av[0] = "medverse simulate";
  for (int i = 0; i < argc; i++)
    av[i + 1] = argv[i];
  av[argc + 1] = NULL;
  argc++;
  argv = av;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'n':
      if (!parse_num(optarg, 1, SIM_MAX_PATIENTS, &v))
        goto bad;
      s.n = (unsigned)v;
      break;
    case 's':
      scen = optarg;
      break;
    case 'v':
      s.via = optarg;
      break;
    case 'S':
      s.server = optarg;
      break;
    case 'e':
      if (!parse_num(optarg, 0, 1e15, &v))
        goto bad;
      s.seed = (uint64_t)v;
      break;
    case 'x':
      if (!parse_num(optarg, 0, 1e6, &s.speed))
        goto bad;
      break;
    case 'd':
      if (!parse_num(optarg, 0, 1e7, &s.duration_s))
        goto bad;
      break;
    case 'u':
      user = optarg;
      break;
    case 'p':
      pwfile = optarg;
      break;
    case 'c':
      cid = optarg;
      break;
    case 'C':
      csecret = optarg;
      break;
    case 'E':
      if (!parse_num(optarg, 0, MV_SIG_ECGSYN_FS_MAX, &s.ecg_hz) ||
          (s.ecg_hz > 0 && s.ecg_hz < MV_SIG_ECGSYN_FS_MIN) ||
          s.ecg_hz != floor(s.ecg_hz))
        goto bad;
      break;
    case 'm':
      s.mllp = optarg;
      break;
    case 'N':
      s.ecg_hz = 0;
      break;
    case 'q':
      s.quiet = true;
      break;
    case 'b':
      if (!parse_num(optarg, 1, 600, &v))
        goto bad;
      s.batch = (unsigned)v;
      break;
    case 'w':
      if (!parse_num(optarg, 1, 4096, &v))
        goto bad;
      s.window = (unsigned)v;
      break;
    case 'V':
      if (!parse_num(optarg, 1, 3600, &v) || v != floor(v))
        goto bad;
      s.series = (unsigned)v;
      break;
    case 'h':
      fputs(usage, stdout);
      return 0;
    default:
      goto bad;
    }
  }
  if (optind < argc || !scen || !s.via || !s.server ||
      mv_sig_scenario_parse(scen, &s.scen) != MV_OK ||
      (strcmp(s.via, "ws") && strcmp(s.via, "mllp") && strcmp(s.via, "http")) ||
      (!strcmp(s.via, "mllp") && !s.mllp) || (!cid != !csecret) ||
      (s.series && (strcmp(s.via, "ws") != 0 || s.batch != 1)))
    goto bad; /* a series message holds its N seconds: no --batch */
  if (s.series)
    s.batch = s.series;
  if (strcmp(s.via, "ws") != 0)
    s.ecg_hz = 0; /* waveforms travel only over the device protocol */
  char pw[1024] = "";
  if (!cid && read_password(pwfile, pw, sizeof(pw)) != MV_OK) {
    fprintf(stderr, "medverse simulate: no password (--password-file or "
                    "MEDVERSE_PASSWORD)\n");
    return EXIT_USAGE;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  s.p = calloc(s.n, sizeof(*s.p));
  s.st.lat_ms = malloc(SIM_LAT_CAP * sizeof(double));
  if (!s.p || !s.st.lat_ms) {
    rc = MV_ENOMEM;
    goto out;
  }
  if ((rc = sim_login(&s, user, pw, cid, csecret)) != MV_OK)
    goto out;
  for (unsigned i = 0; i < s.n; i++) {
    if ((rc = mv_sig_scen_new(s.scen, s.seed * 100003u + i, s.ecg_hz,
                              &s.p[i].sc)) != MV_OK)
      goto out;
    if (cid) {
      /* A device writes for its one assigned patient (empty id: the
       * token's own patient). */
      s.p[i].id[0] = 0;
      continue;
    }
    if ((rc = ensure_patient(&s, i)) != MV_OK)
      goto out;
  }
  int64_t now = mv_clock_now_us(mv_clock_system());
  double span = s.speed == 1 ? 0
                : s.speed > 1 && s.duration_s > 0
                    ? fmin(s.duration_s * (s.speed - 1), 7 * 86400.0)
                    : 86400.0;
  s.t0_us = now - (int64_t)(span * 1e6);
  if (s.speed != 1)
    s.t0_us -= s.t0_us % 1000000; /* whole seconds */
  /* At speed 1 a reading's time is when it is sent: the live delay a
   * subscriber sees is measured against it (bench/ingest.sh). */
  if (!s.quiet)
    fprintf(stderr, "medverse simulate: %u patient(s), scenario %s, via %s\n",
            s.n, mv_sig_scenario_name(s.scen), s.via);
  s.wall0_s = sim_now_s();
  if (!strcmp(s.via, "ws"))
    rc = sim_run_ws(&s);
  else if (!strcmp(s.via, "mllp"))
    rc = sim_run_mllp(&s);
  else
    rc = sim_run_http(&s);
  summary(&s, sim_now_s() - s.wall0_s);
  exit_code = rc == MV_OK && s.st.errors == 0 ? 0 : 1;
out:
  if (rc != MV_OK)
    fprintf(stderr, "medverse simulate: %s\n", mv_strerror(rc));
  for (unsigned i = 0; s.p && i < s.n; i++)
    mv_sig_scen_free(s.p[i].sc);
  free(s.p);
  free(s.st.lat_ms);
  sim_http_cleanup();
  curl_global_cleanup();
  return exit_code;
bad:
  fputs(usage, stderr);
  return EXIT_USAGE;
}
